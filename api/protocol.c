/* api/protocol.c - AWS JSON 1.1 envelope helpers. */
#include "api/protocol.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <cjson/cJSON.h>

#include "lib/cleanup.h"

int api_parse_target(const char *value, enum api_service *ret_service, char action[API_MAX_ACTION + 1])
{
	size_t plen = strlen(API_ECS_TARGET_PREFIX), n;
	const char *a;

	if (!value)
		return -EINVAL;
	if (strncmp(value, API_ECS_TARGET_PREFIX, plen) != 0)
		return strchr(value, '.') ? -ENOENT : -EINVAL;
	a = value + plen;
	n = strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
	if (n == 0 || n > API_MAX_ACTION || a[n] != '\0')
		return -EINVAL;
	memcpy(action, a, n + 1);
	*ret_service = API_SVC_ECS;
	return 0;
}

bool api_content_type_ok(const char *value)
{
	size_t n = strlen(API_CONTENT_TYPE);

	if (!value)
		return false;
	value += strspn(value, " \t");
	if (strncasecmp(value, API_CONTENT_TYPE, n) != 0)
		return false;
	value += n;
	value += strspn(value, " \t");
	return *value == '\0' || *value == ';';
}

unsigned api_error_status(const char *type)
{
	static const struct { const char *type; unsigned status; } table[] = {
		{ "ServerException", 500 },
		{ "AccessDeniedException", 403 },
		{ "MissingAuthenticationTokenException", 403 },
		{ "UnrecognizedClientException", 403 },
		{ "InvalidSignatureException", 403 },
		{ "RequestEntityTooLargeException", 413 },
	};

	for (size_t i = 0; type && i < ARRAY_SIZE(table); i++)
		if (strcmp(type, table[i].type) == 0)
			return table[i].status;
	return 400;
}

char *api_error_body(const char *type, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o && cJSON_AddStringToObject(o, "__type", type) && cJSON_AddStringToObject(o, "message", msg))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

int api_request_id(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -EIO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
	return 0;
}
