#include "lib/json.h"

#include <stdbool.h>
#include <string.h>

/* A NUL in TEXT, raw or as the escape \u0000: cJSON would keep it inside
 * a C string, which then silently ends there ("db\u0000evil" is "db"). */
static bool has_nul(const char *text, size_t len)
{
	if (memchr(text, '\0', len))
		return true;
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] != '\\')
			continue;
		if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0)
			return true;
		i++;   /* the escaped character: "\\u0000" is text, not a NUL */
	}
	return false;
}

cJSON *json_parse_strict(const char *text, size_t len)
{
	const char *end = NULL, *stop = text + len;
	cJSON *j;

	if (len == 0 || has_nul(text, len))
		return NULL;
	j = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!j)
		return NULL;
	while (end < stop && *end && strchr(" \t\r\n", *end))
		end++;
	if (end != stop) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}
