/* runtime/shim_spec_get.c - typed, bounded reading of spec.json members
 * into the task's owned allocations (shim_spec_int.h), and the names and
 * paths every part of spec.json checks. */
#include "runtime/shim_spec_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ARGV_MAX 4096
#define STR_MAX 65536

/* ---- owned allocations ---- */

void *shim_own(struct shim_task *t, void *p)
{
	if (!p)
		return NULL;
	if (t->n_owned == t->cap_owned) {
		size_t cap = t->cap_owned ? t->cap_owned * 2 : 32;
		void **n = realloc(t->owned, cap * sizeof(*n));

		if (!n) {
			free(p);
			return NULL;
		}
		t->owned = n;
		t->cap_owned = cap;
	}
	t->owned[t->n_owned++] = p;
	return p;
}

char *shim_own_str(struct shim_task *t, const char *s)
{
	return shim_own(t, strdup(s));
}

void shim_task_release(struct shim_task *t)
{
	shim_vol_free(t);
	for (size_t i = 0; i < t->n_owned; i++)
		free(t->owned[i]);
	free(t->owned);
	memset(t, 0, sizeof(*t));
}

/* ---- typed getters: absent and null are "not given" ---- */

const cJSON *shim_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNull(v) ? NULL : v;
}

bool shim_str_ok(const char *s)
{
	return s && strlen(s) < STR_MAX;
}

/* *RET = a copy of the string KEY, or NULL when absent. */
int shim_get_str(struct shim_task *t, const cJSON *o, const char *what, const char *key,
		 char **ret, struct err *e)
{
	const cJSON *v = shim_field(o, key);

	*ret = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsString(v) || !shim_str_ok(v->valuestring))
		return err_setx(e, -EINVAL, "%s: '%s' must be a string", what, key);
	*ret = shim_own_str(t, v->valuestring);
	return *ret ? 0 : err_set(e, -ENOMEM, "%s", what);
}

int shim_get_u64(const cJSON *o, const char *what, const char *key, uint64_t min, uint64_t max,
		 uint64_t dflt, uint64_t *ret, struct err *e)
{
	const cJSON *v = shim_field(o, key);
	double d;

	*ret = dflt;
	if (!v)
		return 0;
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	/* Compared as integers: MAX as a double may round up (INT64_MAX
	 * becomes 2^63), and (uint64_t)d is defined only below 2^64. */
	if (!(d >= 0 && d < 0x1p64) || d != floor(d) || (uint64_t)d < min || (uint64_t)d > max)
		return err_setx(e, -EINVAL, "%s: '%s' must be a whole number from %" PRIu64 " to %" PRIu64,
				what, key, min, max);
	*ret = (uint64_t)d;
	return 0;
}

int shim_get_bool(const cJSON *o, const char *what, const char *key, bool dflt, bool *ret,
		  struct err *e)
{
	const cJSON *v = shim_field(o, key);

	*ret = dflt;
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return err_setx(e, -EINVAL, "%s: '%s' must be true or false", what, key);
	*ret = cJSON_IsTrue(v);
	return 0;
}

/* A NULL-terminated copy of the string array KEY (NULL when absent). */
int shim_get_strv(struct shim_task *t, const cJSON *o, const char *what, const char *key,
		  char ***ret, size_t *ret_n, struct err *e)
{
	const cJSON *v = shim_field(o, key), *it;
	size_t n = 0;
	char **a;

	*ret = NULL;
	*ret_n = 0;
	if (!v)
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > ARGV_MAX)
		return err_setx(e, -EINVAL, "%s: '%s' must be an array of at most %d strings", what,
				key, ARGV_MAX);
	a = shim_own(t, calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*a)));
	if (!a)
		return err_set(e, -ENOMEM, "%s", what);
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it) || !shim_str_ok(it->valuestring))
			return err_setx(e, -EINVAL, "%s: '%s' must hold only strings", what, key);
		a[n] = shim_own_str(t, it->valuestring);
		if (!a[n++])
			return err_set(e, -ENOMEM, "%s", what);
	}
	*ret = a;
	*ret_n = n;
	return 0;
}

/* One of NAMES (the index), for the string KEY; DFLT when absent. */
int shim_get_enum(const cJSON *o, const char *what, const char *key, const char *const *names,
		  size_t n, int dflt, int *ret, struct err *e)
{
	const cJSON *v = shim_field(o, key);

	*ret = dflt;
	if (!v)
		return 0;
	if (cJSON_IsString(v))
		for (size_t i = 0; i < n; i++)
			if (names[i] && strcmp(v->valuestring, names[i]) == 0) {
				*ret = (int)i;
				return 0;
			}
	return err_setx(e, -EINVAL, "%s: unknown '%s' value", what, key);
}

/* ---- lists ---- */

/* A string list of at most MAX entries, each passing OK. */
int shim_get_checked_strv(struct shim_task *t, const cJSON *o, const char *what, const char *key,
			  size_t max, bool (*ok)(const char *), char ***ret, size_t *ret_n,
			  struct err *e)
{
	int r = shim_get_strv(t, o, what, key, ret, ret_n, e);

	if (r < 0)
		return r;
	if (*ret_n > max)
		return err_setx(e, -EINVAL, "%s: at most %zu '%s'", what, max, key);
	for (size_t i = 0; i < *ret_n; i++)
		if (!ok((*ret)[i]))
			return err_setx(e, -EINVAL, "%s: '%s' entry '%.64s' is not valid", what, key,
					(*ret)[i]);
	return 0;
}

/* A list of objects of at most MAX: *RET = a zeroed array of N of SIZE. */
int shim_get_obj_list(struct shim_task *t, const cJSON *o, const char *what, const char *key,
		      size_t max, size_t size, void **ret, size_t *ret_n, struct err *e)
{
	const cJSON *v = shim_field(o, key), *it;

	*ret = NULL;
	*ret_n = 0;
	if (!v)
		return 0;
	if (!cJSON_IsArray(v) || (size_t)cJSON_GetArraySize(v) > max)
		return err_setx(e, -EINVAL, "%s: '%s' must be an array of at most %zu", what, key, max);
	cJSON_ArrayForEach(it, v)
		if (!cJSON_IsObject(it))
			return err_setx(e, -EINVAL, "%s: '%s' must hold objects", what, key);
	*ret_n = (size_t)cJSON_GetArraySize(v);
	*ret = shim_own(t, calloc(*ret_n + 1, size));
	return *ret ? 0 : err_set(e, -ENOMEM, "%s", what);
}

/* ---- names and paths ---- */

bool shim_name_ok(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || (dots && c == '.')))
			return false;
	}
	return true;
}

bool shim_abs_path_ok(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *c = p; (c = strstr(c, "/..")); c += 3)
		if (c[3] == '/' || c[3] == '\0')
			return false;
	return true;
}

