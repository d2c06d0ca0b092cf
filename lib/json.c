#include "lib/json.h"

#include <stdbool.h>
#include <string.h>

cJSON *json_parse_strict(const char *text, size_t len)
{
	const char *end = NULL, *stop = text + len;
	cJSON *j;

	if (len == 0)
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
