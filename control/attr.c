/* control/attr.c - container instance attribute rules (attr.h). */
#include "control/attr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define BAD "InvalidParameterException"

static bool chars_ok(const char *s, const char *extra)
{
	size_t n = strlen(s);

	if (n < 1 || n > ATTR_MAX_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(extra, *p)))
			return false;
	return true;
}

bool attr_name_ok(const char *s)
{
	return s && chars_ok(s, "-_/\\.");
}

bool attr_value_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return s && chars_ok(s, "-_.@/\\: ") && s[0] != ' ' && s[n - 1] != ' ';
}

bool attr_is_custom(const char *name)
{
	return strncmp(name, "ecs.", 4) != 0 && strncmp(name, "com.amazonaws.ecs.", 18) != 0;
}

int attr_check(const cJSON *a, bool value_allowed, struct err *e)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "name"));
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "value");

	if (!attr_name_ok(name))
		return err_api(e, BAD, "Attribute name '%.200s' is invalid: it must be 1-128 "
			       "characters of letters, numbers, hyphens, underscores, forward "
			       "slashes, back slashes or periods.", name ? name : "");
	if (v && !value_allowed)
		return err_api(e, BAD, "Attribute '%s': a value cannot be given when deleting "
			       "attributes.", name);
	if (v && !attr_value_ok(cJSON_GetStringValue(v)))
		return err_api(e, BAD, "Attribute '%s' has an invalid value: it must be 1-128 "
			       "characters of letters, numbers, hyphens, underscores, periods, "
			       "at signs, forward slashes, back slashes, colons or spaces, without "
			       "leading or trailing spaces.", name);
	return 0;
}

int attr_count_custom(const cJSON *list)
{
	const cJSON *a;
	int n = 0;

	cJSON_ArrayForEach(a, list) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "name"));

		n += name && attr_is_custom(name);
	}
	return n;
}

static cJSON *find(const cJSON *list, const char *name)
{
	cJSON *a;

	cJSON_ArrayForEach(a, list) {
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "name"));

		if (n && strcmp(n, name) == 0)
			return a;
	}
	return NULL;
}

int attr_set(cJSON *list, const char *name, const char *value)
{
	cJSON *a = cJSON_CreateObject();

	if (!a || !cJSON_AddStringToObject(a, "name", name) ||
	    (value && !cJSON_AddStringToObject(a, "value", value))) {
		cJSON_Delete(a);
		return -ENOMEM;
	}
	attr_remove(list, name);
	if (!cJSON_AddItemToArray(list, a)) {
		cJSON_Delete(a);
		return -ENOMEM;
	}
	return 0;
}

bool attr_remove(cJSON *list, const char *name)
{
	cJSON *a = find(list, name);

	if (!a)
		return false;
	cJSON_Delete(cJSON_DetachItemViaPointer(list, a));
	return true;
}
