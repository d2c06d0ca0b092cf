/* api/keys.c - loading and looking up SigV4 access keys. */
#include "api/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "api/authz.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define KEYS_FILE_MAX (1024 * 1024)

struct api_key {
	char *id;
	char *secret;
	char *principal;
	enum api_role role;
};

struct api_keys {
	size_t n;
	struct api_key *keys;
};

struct api_keys *api_keys_free(struct api_keys *k)
{
	if (!k)
		return NULL;
	for (size_t i = 0; i < k->n; i++) {
		free(k->keys[i].id);
		if (k->keys[i].secret) {
			OPENSSL_cleanse(k->keys[i].secret, strlen(k->keys[i].secret));
			free(k->keys[i].secret);
		}
		free(k->keys[i].principal);
	}
	free(k->keys);
	free(k);
	return NULL;
}

size_t api_keys_count(const struct api_keys *k)
{
	return k ? k->n : 0;
}

const char *api_keys_lookup(void *data, const char *access_key_id, const char **ret_principal)
{
	const struct api_keys *k = data;

	for (size_t i = 0; k && i < k->n; i++)
		if (strcmp(k->keys[i].id, access_key_id) == 0) {
			*ret_principal = k->keys[i].principal;
			return k->keys[i].secret;
		}
	return NULL;
}

int api_keys_role(const struct api_keys *k, const char *principal, enum api_role *ret)
{
	for (size_t i = 0; k && i < k->n; i++)
		if (strcmp(k->keys[i].principal, principal) == 0) {
			*ret = k->keys[i].role;
			return 0;
		}
	return -ENOENT;
}

static const char *string_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int parse_key(const cJSON *o, size_t idx, struct api_keys *k, struct err *e)
{
	static const char *const known[] = { "accessKeyId", "secretAccessKey", "principal", "role" };
	struct api_key *key = &k->keys[k->n];
	const char *id, *secret, *principal, *role;
	enum api_role rl = API_ROLE_USER;
	const cJSON *m;

	if (!cJSON_IsObject(o))
		return err_setx(e, -EINVAL, "accessKeys[%zu]: expected an object", idx);
	id = string_member(o, "accessKeyId");
	secret = string_member(o, "secretAccessKey");
	principal = string_member(o, "principal");
	role = string_member(o, "role");
	cJSON_ArrayForEach(m, o) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(known); i++)
			if (strcmp(m->string, known[i]) == 0)
				break;
		if (i == ARRAY_SIZE(known))
			return err_setx(e, -EINVAL, "accessKeys[%zu]: unknown field '%s'", idx, m->string);
	}
	if (!id || !*id || strlen(id) > 128 ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != strlen(id))
		return err_setx(e, -EINVAL, "accessKeys[%zu]: accessKeyId must be 1-128 letters or digits", idx);
	if (!secret || !*secret || strlen(secret) > 256)
		return err_setx(e, -EINVAL, "accessKeys[%zu]: secretAccessKey must be a string of 1-256 characters", idx);
	if (!principal || !*principal || strlen(principal) > 256)
		return err_setx(e, -EINVAL, "accessKeys[%zu]: principal must be a string of 1-256 characters", idx);
	if (cJSON_GetObjectItemCaseSensitive(o, "role") && (!role || api_role_parse(role, &rl) < 0))
		return err_setx(e, -EINVAL, "accessKeys[%zu]: role must be \"user\" or \"agent\"", idx);
	for (size_t i = 0; i < k->n; i++) {
		if (strcmp(k->keys[i].id, id) == 0)
			return err_setx(e, -EINVAL, "accessKeys[%zu]: accessKeyId '%s' appears twice", idx, id);
		/* The role goes with the principal: one principal, one role. */
		if (strcmp(k->keys[i].principal, principal) == 0 && k->keys[i].role != rl)
			return err_setx(e, -EINVAL, "accessKeys[%zu]: principal '%s' has another role "
					"in accessKeys[%zu]", idx, principal, i);
	}
	key->role = rl;
	key->id = strdup(id);
	key->secret = strdup(secret);
	key->principal = strdup(principal);
	k->n++;
	if (!key->id || !key->secret || !key->principal)
		return err_set(e, -ENOMEM, "accessKeys[%zu]", idx);
	return 0;
}

int api_keys_parse(const char *json, size_t len, struct api_keys **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *root = json_parse_strict(json, len);
	const cJSON *arr, *it;
	struct api_keys *k;
	size_t n, i = 0;
	int r;

	if (!root || !cJSON_IsObject(root))
		return err_setx(e, -EINVAL, "not a JSON object");
	arr = cJSON_GetObjectItemCaseSensitive(root, "accessKeys");
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
		return err_setx(e, -EINVAL, "expected a non-empty \"accessKeys\" array");
	if (cJSON_GetArraySize(root) != 1)
		return err_setx(e, -EINVAL, "unknown top-level field (only \"accessKeys\")");
	n = (size_t)cJSON_GetArraySize(arr);
	k = calloc(1, sizeof(*k));
	if (!k || !(k->keys = calloc(n, sizeof(*k->keys)))) {
		free(k);
		return err_set(e, -ENOMEM, "access keys");
	}
	cJSON_ArrayForEach(it, arr) {
		r = parse_key(it, i++, k, e);
		if (r < 0) {
			api_keys_free(k);
			return r;
		}
	}
	*ret = k;
	return 0;
}

static int read_fd(int fd, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = malloc(KEYS_FILE_MAX + 1);
	size_t len = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, KEYS_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > KEYS_FILE_MAX)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int api_keys_load(const char *path, struct api_keys **ret, struct err *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	if (fd < 0)
		return err_set(e, -errno, "access-key file '%s'", path);
	if (fstat(fd, &st) < 0)
		return err_set(e, -errno, "access-key file '%s'", path);
	if (!S_ISREG(st.st_mode))
		return err_setx(e, -EINVAL, "access-key file '%s' is not a regular file", path);
	if (st.st_uid != geteuid())
		return err_setx(e, -EPERM, "access-key file '%s' is owned by uid %u, not by the daemon's uid %u; run 'chown %u %s'",
				path, st.st_uid, geteuid(), geteuid(), path);
	if (st.st_mode & 0077)
		return err_setx(e, -EPERM, "access-key file '%s' has mode %04o: group and others must have no access; run 'chmod 600 %s'",
				path, st.st_mode & 07777, path);
	r = read_fd(fd, &buf, &len);
	if (r < 0)
		return err_set(e, r, "read access-key file '%s'", path);
	r = api_keys_parse(buf, len, ret, e);
	OPENSSL_cleanse(buf, len);
	if (r < 0)
		return err_wrap(e, "access-key file '%s'", path);
	return 0;
}
