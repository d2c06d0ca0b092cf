/* control/schema.c - checks a request against its model shape (pure). */
#include "control/schema.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PATH_MAX_LEN 256

struct walk {
	const char *exc;
	struct err *e;
	char path[PATH_MAX_LEN];
};

static const char *type_name(enum jtype t)
{
	static const char *const names[] = {
		[JT_NONE] = "none", [JT_STRING] = "string", [JT_INT] = "integer",
		[JT_LONG] = "integer", [JT_NUMBER] = "number", [JT_BOOL] = "boolean",
		[JT_OBJECT] = "object", [JT_LIST] = "list", [JT_MAP] = "map",
		[JT_STRNUM] = "string",
	};
	return names[t];
}

static const char *json_kind(const cJSON *v)
{
	if (cJSON_IsString(v)) return "string";
	if (cJSON_IsNumber(v)) return "number";
	if (cJSON_IsBool(v)) return "boolean";
	if (cJSON_IsNull(v)) return "null";
	if (cJSON_IsArray(v)) return "list";
	if (cJSON_IsObject(v)) return "object";
	return "invalid";
}

bool json_number_is_int(double d, double min, double max)
{
	return isfinite(d) && d == floor(d) && d >= min && d <= max;
}

/* Appends ".name" or "[i]" to the path; returns the old length to restore. */
static size_t path_push(struct walk *w, const char *fmt, const char *name, int idx)
{
	size_t len = strlen(w->path);

	if (name)
		snprintf(w->path + len, sizeof(w->path) - len, fmt, len ? "." : "", name);
	else
		snprintf(w->path + len, sizeof(w->path) - len, "[%d]", idx);
	return len;
}

static int bad_type(struct walk *w, const cJSON *v, enum jtype want)
{
	return err_api(w->e, w->exc, "Invalid type for parameter %s, value type: %s, valid types: %s",
		       w->path, json_kind(v), type_name(want));
}

static int check_shape(struct walk *w, const cJSON *obj, const struct jshape *shape);

static int check_enum(struct walk *w, const cJSON *v, const char *const *enums)
{
	for (size_t i = 0; enums[i]; i++)
		if (strcmp(v->valuestring, enums[i]) == 0)
			return 0;
	return err_api(w->e, w->exc, "Invalid value for parameter %s: '%.64s'", w->path,
		       v->valuestring);
}

static int check_scalar(struct walk *w, const cJSON *v, enum jtype t, const char *const *enums)
{
	switch (t) {
	case JT_STRING:
		if (!cJSON_IsString(v))
			return bad_type(w, v, t);
		return enums ? check_enum(w, v, enums) : 0;
	case JT_STRNUM:
		if (cJSON_IsString(v))
			return 0;
		if (cJSON_IsNumber(v) && json_number_is_int(v->valuedouble, 0, 2147483647.0))
			return 0;
		return bad_type(w, v, t);
	case JT_INT:
		if (!cJSON_IsNumber(v) ||
		    !json_number_is_int(v->valuedouble, -2147483648.0, 2147483647.0))
			return bad_type(w, v, t);
		return 0;
	case JT_LONG:
		if (!cJSON_IsNumber(v) ||
		    !json_number_is_int(v->valuedouble, -9007199254740992.0, 9007199254740992.0))
			return bad_type(w, v, t);
		return 0;
	case JT_NUMBER:
		return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? 0 : bad_type(w, v, t);
	case JT_BOOL:
		return cJSON_IsBool(v) ? 0 : bad_type(w, v, t);
	default:
		return err_api(w->e, "ServerException", "schema: unexpected type at %s", w->path);
	}
}

static int check_value(struct walk *w, const cJSON *v, const struct jfield *f)
{
	const cJSON *it;
	int i = 0, r;

	switch (f->type) {
	case JT_OBJECT:
		if (!cJSON_IsObject(v))
			return bad_type(w, v, f->type);
		return check_shape(w, v, f->shape);
	case JT_LIST:
		if (!cJSON_IsArray(v))
			return bad_type(w, v, f->type);
		cJSON_ArrayForEach(it, v) {
			size_t old = path_push(w, NULL, NULL, i++);

			if (f->shape)
				r = cJSON_IsObject(it) ? check_shape(w, it, f->shape)
						       : bad_type(w, it, JT_OBJECT);
			else
				r = check_scalar(w, it, f->elem, f->enums);
			if (r < 0)
				return r;
			w->path[old] = '\0';
		}
		return 0;
	case JT_MAP:
		if (!cJSON_IsObject(v))
			return bad_type(w, v, f->type);
		cJSON_ArrayForEach(it, v) {
			size_t old = path_push(w, "%s%s", it->string, 0);

			r = check_scalar(w, it, f->elem, NULL);
			if (r < 0)
				return r;
			w->path[old] = '\0';
		}
		return 0;
	default:
		return check_scalar(w, v, f->type, f->enums);
	}
}

static const struct jfield *find_field(const struct jshape *shape, const char *name)
{
	for (size_t i = 0; i < shape->n_fields; i++)
		if (strcmp(shape->fields[i].name, name) == 0)
			return &shape->fields[i];
	return NULL;
}

static int check_shape(struct walk *w, const cJSON *obj, const struct jshape *shape)
{
	unsigned long long seen = 0;
	const cJSON *it;
	int r;

	cJSON_ArrayForEach(it, obj) {
		const struct jfield *f = find_field(shape, it->string);
		size_t old, bit;

		if (!f)
			return err_api(w->e, w->exc, "Unknown parameter in %s: \"%.64s\"",
				       w->path[0] ? w->path : "input", it->string);
		/* A repeated member would be read one way here, another way later. */
		bit = (size_t)(f - shape->fields);
		if (bit < 64 && (seen & (1ULL << bit)))
			return err_api(w->e, w->exc, "Duplicate parameter in %s: \"%s\"",
				       w->path[0] ? w->path : "input", f->name);
		if (bit < 64)
			seen |= 1ULL << bit;
		old = path_push(w, "%s%s", f->name, 0);
		r = check_value(w, it, f);
		if (r < 0)
			return r;
		w->path[old] = '\0';
	}
	for (size_t i = 0; i < shape->n_fields; i++)
		if (shape->fields[i].required &&
		    !cJSON_GetObjectItemCaseSensitive(obj, shape->fields[i].name))
			return err_api(w->e, w->exc, "Missing required parameter in %s: \"%s\"",
				       w->path[0] ? w->path : "input", shape->fields[i].name);
	return 0;
}

int schema_check(const cJSON *obj, const struct jshape *shape, const char *exc, struct err *e)
{
	struct walk w = { .exc = exc, .e = e };

	if (!cJSON_IsObject(obj))
		return err_api(e, exc, "The request body must be a JSON object");
	return check_shape(&w, obj, shape);
}
