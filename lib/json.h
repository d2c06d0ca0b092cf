/* lib/json.h - cJSON helpers shared by every folder.
 *
 * Ownership (cJSON's own rule, written down): cJSON_AddItemTo*() moves the
 * item only when it returns true; cJSON_GetObjectItem*() returns a borrowed
 * pointer valid until its parent changes.
 */
#pragma once

#include <stddef.h>

#include <cjson/cJSON.h>

/* O[K] when it is a string, else NULL (borrowed). */
static inline const char *json_get_str(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* For _cleanup_(cJSON_Deletep). */
static inline void cJSON_Deletep(cJSON **j) { cJSON_Delete(*j); }

/* Parses TEXT[0..LEN) as exactly one JSON value followed by nothing but
 * whitespace.  cJSON_ParseWithLength() alone accepts trailing garbage
 * ("{} junk"), which outside input must not get through; nor may a NUL
 * (raw or \u0000), which would cut a C string short unseen.  NULL on any
 * error; the caller owns the result. */
cJSON *json_parse_strict(const char *text, size_t len);
