/* control/paging.c - maxResults and opaque, authenticated nextToken values. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/internal.h"
#include "lib/cleanup.h"

#define MAC_LEN 16
#define TOKEN_MAX 2048

int page_limit(const cJSON *req, int def, int *ret, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "maxResults");

	*ret = def;
	if (!v)
		return 0;
	if (v->valuedouble < 1 || v->valuedouble > PAGE_MAX)
		return err_api(e, "InvalidParameterException",
			       "maxResults must be between 1 and %d.", PAGE_MAX);
	*ret = (int)v->valuedouble;
	return 0;
}

/* base64url without padding. */
static void b64url_encode(const unsigned char *in, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);

	for (int i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	while (len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
}

static int b64url_decode(const char *in, size_t n, unsigned char *out, size_t *ret_len)
{
	_cleanup_free_ char *tmp = malloc(n + 5);
	size_t pad = (4 - n % 4) % 4;
	int len;

	if (!tmp || pad == 3)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char ch = in[i];

		if (ch == '+' || ch == '/' || ch == '=')
			return -EINVAL;
		tmp[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
	}
	memset(tmp + n, '=', pad);
	len = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)(n + pad));
	if (len < 0)
		return -EINVAL;
	/* Only the canonical spelling is accepted: the last character may carry
	 * unused low bits, and a token differing there must not pass as the same. */
	b64url_encode(out, (size_t)len - pad, tmp);
	if (strlen(tmp) != n || memcmp(tmp, in, n) != 0)
		return -EINVAL;
	*ret_len = (size_t)len - pad;
	return 0;
}

static int mac(const struct control *c, const char *data, size_t n, unsigned char out[MAC_LEN])
{
	unsigned char full[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), c->page_key, PAGE_KEY_LEN, (const unsigned char *)data, n,
		  full, &len) || len < MAC_LEN)
		return -EIO;
	memcpy(out, full, MAC_LEN);
	return 0;
}

static char *payload(const char *action, const char *filter, const cJSON *key)
{
	_cleanup_(cJSON_Deletep) cJSON *p = cJSON_CreateObject();

	if (!p || json_add_str(p, "a", action) < 0 || json_add_str(p, "f", filter) < 0 ||
	    json_add(p, "k", cJSON_Duplicate(key, true)) < 0)
		return NULL;
	return cJSON_PrintUnformatted(p);
}

int page_token_encode(const struct control *c, const char *action, const char *filter,
		      const cJSON *key, char **ret)
{
	_cleanup_free_ char *p = payload(action, filter, key);
	unsigned char m[MAC_LEN];
	size_t n;
	char *tok;

	if (!p)
		return -ENOMEM;
	n = strlen(p);
	if (mac(c, p, n, m) < 0)
		return -EIO;
	tok = malloc(4 * (n + MAC_LEN) / 3 + 16);
	if (!tok)
		return -ENOMEM;
	b64url_encode((const unsigned char *)p, n, tok);
	strcat(tok, ".");
	b64url_encode(m, MAC_LEN, tok + strlen(tok));
	*ret = tok;
	return 0;
}

static int invalid_token(struct err *e)
{
	return err_api(e, "InvalidParameterException", "Invalid nextToken value.");
}

int page_token_decode(const struct control *c, const char *action, const char *filter,
		      const cJSON *req, cJSON **ret_key, struct err *e)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(req, "nextToken");
	_cleanup_(cJSON_Deletep) cJSON *p = NULL;
	_cleanup_free_ unsigned char *buf = NULL;
	unsigned char m[MAC_LEN], want[MAC_LEN];
	const char *dot;
	size_t n, mlen;
	const cJSON *a, *f, *k;

	*ret_key = NULL;
	if (!t)
		return 0;
	dot = strchr(t->valuestring, '.');
	n = strlen(t->valuestring);
	if (n == 0 || n > TOKEN_MAX || !dot)
		return invalid_token(e);
	buf = malloc(n + 1);
	if (!buf)
		return err_set(e, -ENOMEM, "decode nextToken");
	if (b64url_decode(dot + 1, strlen(dot + 1), buf, &mlen) < 0 || mlen != MAC_LEN)
		return invalid_token(e);
	memcpy(m, buf, MAC_LEN);
	if (b64url_decode(t->valuestring, (size_t)(dot - t->valuestring), buf, &n) < 0)
		return invalid_token(e);
	buf[n] = '\0';
	if (memchr(buf, '\0', n) || mac(c, (const char *)buf, n, want) < 0 ||
	    CRYPTO_memcmp(m, want, MAC_LEN) != 0)
		return invalid_token(e);
	/* Authentic: made by us.  Still check it belongs to this request. */
	p = cJSON_Parse((const char *)buf);
	a = cJSON_GetObjectItemCaseSensitive(p, "a");
	f = cJSON_GetObjectItemCaseSensitive(p, "f");
	k = cJSON_GetObjectItemCaseSensitive(p, "k");
	if (!cJSON_IsString(a) || !cJSON_IsString(f) || !k || strcmp(a->valuestring, action) != 0)
		return invalid_token(e);
	if (strcmp(f->valuestring, filter) != 0)
		return err_api(e, "InvalidParameterException", "The nextToken was issued for "
			       "different request parameters; keep them constant across pages.");
	*ret_key = cJSON_DetachItemViaPointer(p, (cJSON *)k);
	return 0;
}
