/* images/image.h - manifests, indexes and whole images in the store.
 *
 * An image in the store is its manifest blob (OCI image manifest or Docker
 * schema 2, single platform), the config and layer blobs it names, each
 * layer unpacked, and zero or more names (tags/) pointing at the manifest
 * digest.  img_commit writes the names last, so an image only becomes
 * visible once every part of it is complete.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "images/store.h"

struct err;
struct img_config;

struct img_desc {
	char digest[IMG_DIGEST_MAX];
	int64_t size;
};

struct img_manifest {
	struct img_desc config;
	struct img_desc *layers;    /* bottom layer first */
	size_t nlayers;
};

/* Parses an image manifest (OCI or Docker v2 schema 2). -EBADMSG; an index
 * or manifest list is -EMEDIUMTYPE (use img_index_pick).  Pure. */
int img_manifest_parse(const char *json, size_t len, struct img_manifest *ret);
void img_manifest_release(struct img_manifest *m);
/* true when JSON is an image index / manifest list. */
int img_is_index(const char *json, size_t len);
/* Picks the manifest for OS/ARCH (VARIANT may be NULL) from an index.
 * -ENOENT when no entry matches; -EBADMSG.  Pure. */
int img_index_pick(const char *json, size_t len, const char *os, const char *arch,
		   const char *variant, struct img_desc *ret);
/* This machine's architecture in OCI terms ("amd64", "arm64", ...) and
 * variant ("v7" or NULL). */
const char *img_host_arch(const char **ret_variant);

/* Stores MANIFEST (whose config and layer blobs must already be stored),
 * unpacks its layers, then points each of NAMES (canonical references,
 * may be empty) at it.  RET_DIGEST (may be NULL) gets the manifest digest. */
int img_commit(struct img_store *s, const char *manifest, size_t len, char *const *names,
	       char *ret_digest, struct err *e);
/* Finds the manifest digest of REF: a name, "registry/repo@sha256:...", or
 * a bare manifest digest "sha256:..." (a unique hex prefix of 12+ digits
 * works too). -ENOENT when not in the store. */
int img_resolve(struct img_store *s, const char *ref, char ret[IMG_DIGEST_MAX], struct err *e);
/* Reads the stored manifest DIGEST. */
int img_manifest_load(struct img_store *s, const char *digest, struct img_manifest *ret,
		      struct err *e);
/* Reads the image config of the manifest DIGEST. */
int img_config_load(struct img_store *s, const char *digest, struct img_config *ret, struct err *e);
/* Removes the name REF; refuses (-EBUSY) while a container uses the image
 * and this is its last name.  REF may also be a digest: then every name
 * of that image goes. */
int img_remove(struct img_store *s, const char *ref, struct err *e);
/* Deletes blobs and layers no name and no container references, and
 * leftovers of crashed pulls.  Counts what went. */
int img_prune(struct img_store *s, unsigned *ret_blobs, unsigned *ret_layers, struct err *e);
