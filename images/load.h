/* images/load.h - `berth image load`: docker-archive and oci-archive
 * tarballs, and OCI image layout directories.
 *
 * Archives are first unpacked into the store's tmp/ with the same safe
 * extractor as layers (so a hostile archive cannot write outside), then
 * read as a layout.  Every blob is copied into the store with its digest
 * (and size, where the source states one) verified.  Images are named from
 * the archive (docker RepoTags, OCI "org.opencontainers.image.ref.name"
 * when it is a full reference) or by NAME when given.
 */
#pragma once

#include "images/store.h"

struct err;

/* Called once per image loaded: its manifest digest and the names given. */
typedef void img_load_cb(const char *digest, char *const *names, void *data);

int img_load(struct img_store *s, const char *path, const char *name, img_load_cb *cb, void *data,
	     struct err *e);
