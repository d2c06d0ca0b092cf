/* api/keys.h - the access-key file for SigV4 on TCP.
 *
 *   {"accessKeys": [{"accessKeyId": "AKID...", "secretAccessKey": "...",
 *                    "principal": "admin", "role": "user"}]}
 *
 * "role" is "user" (default) or "agent" (an agent's instance profile, see
 * api/authz.h); all keys of one principal must have the same role.
 *
 * Refused at load when it is not a regular file owned by the daemon's user,
 * when group or others may read or write it (mode & 0077), or when it is
 * malformed (unknown fields included: a typo must not pass).  Secrets are
 * wiped when the set is freed. */
#pragma once

#include <stddef.h>

#include "api/authz.h"

#include "lib/err.h"

struct api_keys;

int api_keys_load(const char *path, struct api_keys **ret, struct err *e);
/* Parses the JSON text (the file's content); for tests and api_keys_load. */
int api_keys_parse(const char *json, size_t len, struct api_keys **ret, struct err *e);
/* Accepts NULL; returns NULL. */
struct api_keys *api_keys_free(struct api_keys *k);
size_t api_keys_count(const struct api_keys *k);
/* A sigv4_lookup_fn: DATA is the struct api_keys. */
const char *api_keys_lookup(void *data, const char *access_key_id, const char **ret_principal);
/* The role of PRINCIPAL (as api_keys_lookup returned it); -ENOENT: unknown. */
int api_keys_role(const struct api_keys *k, const char *principal, enum api_role *ret);
