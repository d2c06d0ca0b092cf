/* images/layer.h - unpacking a layer tarball into its own directory.
 *
 * The tar stream (plain, gzip, zstd or xz: whatever libarchive reads) is
 * written below ROOTFD with *at() calls only: every parent directory is
 * opened one component at a time with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), so no entry can reach outside ROOTFD - not by "..",
 * not by an absolute name, not through a symlink the layer itself planted.
 * Such entries are errors, not silently clamped.  OCI whiteouts become
 * overlayfs ones: ".wh.NAME" -> char device 0/0 "NAME", ".wh..wh..opq" ->
 * trusted.overlay.opaque=y on the directory.  Owners, modes, xattrs (but
 * never trusted.overlay.*, which would let a layer forge overlay metadata),
 * device nodes, fifos, symlinks and hard links within the layer are kept.
 *
 * Decompression bombs: the file data a layer declares is capped by
 * BERTH_IMAGE_MAX_UNPACKED (bytes, K/M/G/T suffixes; default 16G) and
 * never goes past the free space of the target filesystem less a margin
 * (1/20 of it, at most 256 MiB); its entries by BERTH_IMAGE_MAX_ENTRIES
 * (default 1000000).  Each is checked before the entry is written, so a
 * refused layer (-EFBIG) never holds more than the cap.
 */
#pragma once

#include <stddef.h>

struct err;
struct img_store;

/* Unpacks the tar stream read from BLOBFD into the directory ROOTFD. */
int img_layer_unpack(int blobfd, int rootfd, struct err *e);
/* Makes sure layers/<hex of DIGEST> holds the unpacked blob DIGEST: unpacks
 * it into layers/.tmp-<hex> under the layer's lock, syncs and renames.  A
 * concurrent caller waits and then finds the work done. */
int img_layer_ensure(struct img_store *s, const char *digest, struct err *e);
/* Fills BUF with "<store>/layers/<hex>". */
int img_layer_path(struct img_store *s, const char *digest, char *buf, size_t size);
