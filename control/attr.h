/* control/attr.h - container instance attributes: ECS's rules (pure).
 *
 * Name: 1-128 of letters, digits, - _ / \ .   Value (optional): 1-128 of
 * letters, digits, - _ . @ / \ : and space, not starting or ending with a
 * space (ECS-REFERENCE 4.5).  Custom attributes (all but ecs.* and
 * com.amazonaws.ecs.*) are at most 10 per instance. */
#pragma once

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "lib/err.h"

#define ATTR_MAX_LEN 128
#define ATTR_CUSTOM_MAX 10
#define ATTR_PER_CALL_MAX 10

bool attr_name_ok(const char *s);
bool attr_value_ok(const char *s);
/* Not one of the agent's built-in or capability attributes. */
bool attr_is_custom(const char *name);
/* Checks A = {name, value?, ...} (VALUE_ALLOWED false: a value is refused,
 * as DeleteAttributes wants).  InvalidParameterException naming the problem. */
int attr_check(const cJSON *a, bool value_allowed, struct err *e);
/* Custom attributes in LIST ([{name, value?}]). */
int attr_count_custom(const cJSON *list);
/* Sets NAME=VALUE (VALUE NULL: name only) in LIST, replacing one of the
 * same name.  0 or -ENOMEM. */
int attr_set(cJSON *list, const char *name, const char *value);
/* Removes NAME from LIST; true if it was there. */
bool attr_remove(cJSON *list, const char *name);
