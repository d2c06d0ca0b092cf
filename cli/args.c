/* cli/args.c - argv -> request JSON (see args.h). */
#include "cli/args.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/fileio.h"
#include "lib/json.h"

#define PARAM_FILE_MAX (4u << 20)

const char *param_type_name(const struct verb_param *p)
{
	switch (p->type) {
	case PT_STRING:
		return "string";
	case PT_INT:
		return "integer";
	case PT_BOOL:
		return "boolean";
	case PT_STRLIST:
		return "list of strings";
	case PT_KVLIST:
		return "list of structures";
	case PT_JSON:
		return p->list ? "list of structures" : "structure";
	}
	return "?";
}

int args_load_value(const char *flag, const char *value, char **ret, struct err *e)
{
	char *buf;
	int r;

	if (strncmp(value, "file://", 7) != 0) {
		buf = strdup(value);
		if (!buf)
			return err_set(e, -ENOMEM, "copy --%s", flag);
		*ret = buf;
		return 0;
	}
	r = read_file_alloc(value + 7, PARAM_FILE_MAX, &buf, NULL);
	if (r < 0)
		return err_set(e, r, "Error parsing parameter '--%s': Unable to load paramfile %s",
			       flag, value);
	*ret = buf;
	return 0;
}

/* Parses TEXT as JSON; the error names the parameter and the offset. */
static int parse_json_text(const char *flag, const char *text, cJSON **ret, struct err *e)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithOpts(text, &end, true);

	if (!j)
		return err_setx(e, -EINVAL,
				"Error parsing parameter '--%s': Invalid JSON at offset %zu: %.40s",
				flag, end ? (size_t)(end - text) : 0, end ? end : "");
	*ret = j;
	return 0;
}

static int parse_int(const char *flag, const char *s, cJSON **ret, struct err *e)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (!*s || *end || errno || n < INT_MIN || n > INT_MAX)
		return err_setx(e, -EINVAL,
				"Error parsing parameter '--%s': expected an integer, got '%s'",
				flag, s);
	*ret = cJSON_CreateNumber((double)n);
	return *ret ? 0 : -ENOMEM;
}

static bool key_allowed(const struct verb_param *p, const char *key)
{
	for (const char *const *k = p->keys; k && *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

static void join_keys(const struct verb_param *p, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const char *const *k = p->keys; k && *k && n < size; k++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", *k);
}

/* One shorthand structure "k=v,k=v" (backslash escapes ',' '=' '\'). */
static int parse_shorthand(const struct verb_param *p, const char *s, cJSON **ret, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *obj = cJSON_CreateObject();
	_cleanup_free_ char *key = malloc(strlen(s) + 1);
	_cleanup_free_ char *val = malloc(strlen(s) + 1);
	char keys[128];

	if (!obj || !key || !val)
		return -ENOMEM;
	while (*s) {
		size_t k = 0, v = 0;

		while (*s && *s != '=' && *s != ',')
			key[k++] = *s++;
		key[k] = '\0';
		if (*s != '=')
			return err_setx(e, -EINVAL,
					"Error parsing parameter '--%s': Expected: '=', received: '%s' after '%s'",
					p->flag, *s ? "," : "EOF", key);
		s++;
		while (*s && *s != ',') {
			if (*s == '\\' && s[1])
				s++;
			val[v++] = *s++;
		}
		val[v] = '\0';
		if (*s == ',')
			s++;
		if (!key_allowed(p, key)) {
			join_keys(p, keys, sizeof(keys));
			return err_setx(e, -EINVAL,
					"Error parsing parameter '--%s': unknown key '%s', must be one of: %s",
					p->flag, key, keys);
		}
		if (cJSON_GetObjectItemCaseSensitive(obj, key))
			return err_setx(e, -EINVAL,
					"Error parsing parameter '--%s': key '%s' given twice", p->flag, key);
		if (!cJSON_AddStringToObject(obj, key, val))
			return -ENOMEM;
	}
	if (!obj->child)
		return err_setx(e, -EINVAL, "Error parsing parameter '--%s': empty structure", p->flag);
	*ret = TAKE_PTR(obj);
	return 0;
}

static bool is_json_text(const char *s)
{
	s += strspn(s, " \t\n");
	return *s == '[' || *s == '{' || *s == '"';
}

/* Checks ITEM against the type of P.  WHO is the parameter's name in errors. */
static int check_type(const struct verb_param *p, const cJSON *item, const char *who, struct err *e)
{
	const cJSON *el;
	bool ok;

	switch (p->type) {
	case PT_STRING:
		ok = cJSON_IsString(item);
		break;
	case PT_INT:
		ok = cJSON_IsNumber(item) && item->valuedouble >= INT_MIN &&
		     item->valuedouble <= INT_MAX &&
		     item->valuedouble == (double)(long long)item->valuedouble;
		break;
	case PT_BOOL:
		ok = cJSON_IsBool(item);
		break;
	case PT_STRLIST:
		ok = cJSON_IsArray(item);
		cJSON_ArrayForEach(el, item)
			ok = ok && cJSON_IsString(el);
		break;
	case PT_KVLIST:
		ok = cJSON_IsArray(item);
		cJSON_ArrayForEach(el, item)
			ok = ok && cJSON_IsObject(el);
		break;
	case PT_JSON:
		ok = p->list ? cJSON_IsArray(item) : cJSON_IsObject(item);
		if (p->list)
			cJSON_ArrayForEach(el, item)
				ok = ok && cJSON_IsObject(el);
		break;
	default:
		ok = false;
	}
	if (!ok)
		return err_setx(e, -EINVAL, "Invalid type for parameter %s, valid type: %s", who,
				param_type_name(p));
	return 0;
}

/* A JSON value given on the command line: parse it, and let a list
 * parameter take a bare object (or several arguments) as its elements. */
static int add_json_value(const struct verb_param *p, const char *text, cJSON *list, cJSON **ret,
			  struct err *e)
{
	cJSON *j;
	int r;

	r = parse_json_text(p->flag, text, &j, e);
	if (r < 0)
		return r;
	if (list && !cJSON_IsArray(j)) {
		cJSON_AddItemToArray(list, j);
		return 0;
	}
	if (list) {
		/* an array argument: its elements join the list */
		while (j->child) {
			cJSON *el = cJSON_DetachItemViaPointer(j, j->child);

			cJSON_AddItemToArray(list, el);
		}
		cJSON_Delete(j);
		return 0;
	}
	*ret = j;
	return 0;
}

/* Converts the N values of P into one JSON member value. */
static int convert_values(const struct verb_param *p, char **vals, int n, cJSON **ret,
			  struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *out = NULL;
	int r;

	if (p->type == PT_STRING || p->type == PT_INT || (p->type == PT_JSON && !p->list)) {
		_cleanup_free_ char *text = NULL;

		r = args_load_value(p->flag, vals[0], &text, e);
		if (r < 0)
			return r;
		if (p->type == PT_STRING) {
			out = cJSON_CreateString(text);
			r = out ? 0 : -ENOMEM;
		} else if (p->type == PT_INT) {
			r = parse_int(p->flag, text, &out, e);
		} else {
			r = parse_json_text(p->flag, text, &out, e);
		}
		if (r < 0)
			return r;
		goto check;
	}
	out = cJSON_CreateArray();
	if (!out)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *text = NULL;
		cJSON *el = NULL;

		r = args_load_value(p->flag, vals[i], &text, e);
		if (r < 0)
			return r;
		if (is_json_text(text) && (p->type != PT_STRLIST || text[0] == '[')) {
			r = add_json_value(p, text, out, &el, e);
		} else if (p->type == PT_STRLIST) {
			el = cJSON_CreateString(text);
			r = el ? 0 : -ENOMEM;
		} else if (p->type == PT_KVLIST) {
			r = parse_shorthand(p, text, &el, e);
		} else {
			r = err_setx(e, -EINVAL,
				     "Error parsing parameter '--%s': expected JSON or file://PATH, got '%.40s'",
				     p->flag, text);
		}
		if (r < 0)
			return r;
		if (el)
			cJSON_AddItemToArray(out, el);
	}
check:
	{
		char who[80];

		snprintf(who, sizeof(who), "--%s", p->flag);
		r = check_type(p, out, who, e);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

static bool takes_many(const struct verb_param *p)
{
	return p->type == PT_STRLIST || p->type == PT_KVLIST || (p->type == PT_JSON && p->list);
}

static bool is_flag(const char *s)
{
	return strncmp(s, "--", 2) == 0;
}

static int parse_long(const char *flag, const char *s, long min, long *ret, struct err *e)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (!*s || *end || errno || n < min)
		return err_setx(e, -EINVAL, "argument --%s: expected an integer >= %ld, got '%s'",
				flag, min, s);
	*ret = n;
	return 0;
}

static int parse_output(const char *s, enum output_format *ret, struct err *e)
{
	static const struct { const char *name; enum output_format fmt; } formats[] = {
		{ "json", OUT_JSON }, { "table", OUT_TABLE }, { "text", OUT_TEXT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (strcmp(s, formats[i].name) == 0) {
			*ret = formats[i].fmt;
			return 0;
		}
	return err_setx(e, -EINVAL,
			"argument --output: Invalid choice '%s', valid choices are: json, table, text", s);
}

enum global_kind {
	G_ENDPOINT, G_REGION, G_OUTPUT, G_INPUT, G_HELP, G_SKELETON, G_DEBUG,
	G_NO_PAGINATE, G_MAX_ITEMS, G_PAGE_SIZE, G_STARTING_TOKEN,
};

static const struct global_opt {
	const char *flag;
	enum global_kind kind;
	bool has_value;
	bool paginated_only;
} global_opts[] = {
	{ "endpoint", G_ENDPOINT, true, false },
	{ "endpoint-url", G_ENDPOINT, true, false },
	{ "region", G_REGION, true, false },
	{ "output", G_OUTPUT, true, false },
	{ "cli-input-json", G_INPUT, true, false },
	{ "help", G_HELP, false, false },
	{ "generate-cli-skeleton", G_SKELETON, false, false },
	{ "debug", G_DEBUG, false, false },
	{ "no-paginate", G_NO_PAGINATE, false, true },
	{ "max-items", G_MAX_ITEMS, true, true },
	{ "page-size", G_PAGE_SIZE, true, true },
	{ "starting-token", G_STARTING_TOKEN, true, true },
};

static const struct global_opt *find_global(const struct verb *v, const char *flag)
{
	for (size_t i = 0; i < ARRAY_SIZE(global_opts); i++)
		if (strcmp(global_opts[i].flag, flag) == 0 &&
		    (!global_opts[i].paginated_only || v->page_key))
			return &global_opts[i];
	return NULL;
}

static int apply_global(const struct global_opt *g, const char *val, struct cli_opts *o,
			const char **input, struct err *e)
{
	switch (g->kind) {
	case G_ENDPOINT:
		o->endpoint = val;
		return 0;
	case G_REGION:
		o->region = val;
		return 0;
	case G_OUTPUT:
		return parse_output(val, &o->output, e);
	case G_INPUT:
		*input = val;
		return 0;
	case G_HELP:
		o->help = true;
		return 0;
	case G_SKELETON:
		o->skeleton = true;
		return 0;
	case G_DEBUG:
		o->debug = true;
		return 0;
	case G_NO_PAGINATE:
		o->no_paginate = true;
		return 0;
	case G_MAX_ITEMS:
		return parse_long(g->flag, val, 1, &o->max_items, e);
	case G_PAGE_SIZE:
		return parse_long(g->flag, val, 1, &o->page_size, e);
	case G_STARTING_TOKEN:
		o->starting_token = val;
		return 0;
	}
	return -EINVAL;
}

/* Sets MEMBER of OBJ from the command line, refusing a flag given twice. */
static int set_member(cJSON *obj, const struct verb_param *p, cJSON *val, struct err *e)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, p->member)) {
		cJSON_Delete(val);
		return err_setx(e, -EINVAL, "argument --%s: given more than once", p->flag);
	}
	if (!cJSON_AddItemToObject(obj, p->member, val)) {
		cJSON_Delete(val);
		return -ENOMEM;
	}
	return 0;
}

static int parse_param(const struct verb_param *p, bool negated, char **vals, int n,
		       cJSON *cmdline, struct err *e)
{
	cJSON *val = NULL;
	int r;

	if (p->type == PT_BOOL) {
		val = cJSON_CreateBool(!negated);
		if (!val)
			return -ENOMEM;
		return set_member(cmdline, p, val, e);
	}
	r = convert_values(p, vals, n, &val, e);
	if (r < 0)
		return r;
	return set_member(cmdline, p, val, e);
}

/* Resolves "--name" (or "--no-name" for booleans) to a table parameter. */
static const struct verb_param *lookup_param(const struct verb *v, const char *name, bool *negated)
{
	const struct verb_param *p = verb_param_by_flag(v, name);

	*negated = false;
	if (!p && strncmp(name, "no-", 3) == 0) {
		p = verb_param_by_flag(v, name + 3);
		if (p && p->type != PT_BOOL)
			p = NULL;
		*negated = p != NULL;
	}
	return p;
}

/* Parses argv into OPTS, CMDLINE (members from flags) and *input. */
static int parse_argv(const struct verb *v, int argc, char **argv, struct cli_opts *o,
		      cJSON *cmdline, const char **input, struct err *e)
{
	for (int i = 1; i < argc; i++) {
		_cleanup_free_ char *name = NULL;
		const struct verb_param *p;
		const struct global_opt *g;
		char *inline_val, *one[1];
		bool negated = false, with_value;
		int r, n;

		if (strcmp(argv[i], "-h") == 0) {
			o->help = true;
			continue;
		}
		if (!is_flag(argv[i]) || !argv[i][2])
			return err_setx(e, -EINVAL, "Unknown options: %s", argv[i]);
		name = strdup(argv[i] + 2);
		if (!name)
			return -ENOMEM;
		inline_val = strchr(name, '=');
		if (inline_val)
			*inline_val++ = '\0';
		g = find_global(v, name);
		p = g ? NULL : lookup_param(v, name, &negated);
		if (!g && !p)
			return err_setx(e, -EINVAL, "Unknown options: --%s", name);
		with_value = g ? g->has_value : p->type != PT_BOOL;
		if (!with_value && inline_val)
			return err_setx(e, -EINVAL, "argument --%s: takes no value", name);
		if (with_value && inline_val) {
			one[0] = inline_val;
			r = g ? apply_global(g, inline_val, o, input, e)
			      : parse_param(p, negated, one, 1, cmdline, e);
			if (r < 0)
				return r;
			continue;
		}
		n = 0;
		if (with_value) {
			int max = (p && takes_many(p)) ? argc : 1;

			while (i + 1 + n < argc && n < max && !is_flag(argv[i + 1 + n]))
				n++;
			if (n == 0)
				return err_setx(e, -EINVAL, "argument --%s: expected %s argument", name,
						(p && takes_many(p)) ? "at least one" : "one");
		}
		r = g ? apply_global(g, with_value ? argv[i + 1] : NULL, o, input, e)
		      : parse_param(p, negated, argv + i + 1, n, cmdline, e);
		if (r < 0)
			return r;
		i += n;
	}
	return 0;
}

static int check_input_members(const struct verb *v, const cJSON *in, struct err *e)
{
	const cJSON *m;
	int r;

	cJSON_ArrayForEach(m, in) {
		const struct verb_param *p = verb_param_by_member(v, m->string);

		if (!p) {
			char names[1024];
			size_t n = 0;

			names[0] = '\0';
			for (size_t i = 0; i < v->n_params && n < sizeof(names); i++)
				n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
						      i ? ", " : "", v->params[i].member);
			return err_setx(e, -EINVAL,
					"Parameter validation failed: Unknown parameter in input: \"%s\", must be one of: %s",
					m->string, names);
		}
		r = check_type(p, m, m->string, e);
		if (r < 0)
			return err_wrap(e, "Parameter validation failed");
	}
	return 0;
}

static int load_input(const struct verb *v, const char *input, cJSON **ret, struct err *e)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(cJSON_Deletep) cJSON *j = NULL;
	int r;

	r = args_load_value("cli-input-json", input, &text, e);
	if (r < 0)
		return r;
	r = parse_json_text("cli-input-json", text, &j, e);
	if (r < 0)
		return r;
	if (!cJSON_IsObject(j))
		return err_setx(e, -EINVAL,
				"Error parsing parameter '--cli-input-json': expected a JSON object");
	r = check_input_members(v, j, e);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(j);
	return 0;
}

static int check_required(const struct verb *v, const cJSON *req, struct err *e)
{
	char missing[512];
	size_t n = 0;

	missing[0] = '\0';
	for (size_t i = 0; i < v->n_params; i++)
		if (v->params[i].required &&
		    !cJSON_GetObjectItemCaseSensitive(req, v->params[i].member) && n < sizeof(missing))
			n += (size_t)snprintf(missing + n, sizeof(missing) - n, "%s--%s",
					      n ? ", " : "", v->params[i].flag);
	if (n)
		return err_setx(e, -EINVAL, "the following arguments are required: %s", missing);
	return 0;
}

/* Moves every member of FROM into TO, replacing same-named ones. */
static void merge_members(cJSON *to, cJSON *from)
{
	while (from->child) {
		cJSON *m = cJSON_DetachItemViaPointer(from, from->child);

		cJSON_DeleteItemFromObjectCaseSensitive(to, m->string);
		cJSON_AddItemToObject(to, m->string, m);
	}
}

int args_parse(const struct verb *v, int argc, char **argv, struct cli_opts *opts,
	       cJSON **ret_req, struct err *e)
{
	_cleanup_(cJSON_Deletep) cJSON *cmdline = cJSON_CreateObject();
	_cleanup_(cJSON_Deletep) cJSON *req = NULL;
	const char *input = NULL;
	int r;

	*opts = (struct cli_opts){ .output = OUT_JSON };
	if (!cmdline)
		return -ENOMEM;
	r = parse_argv(v, argc, argv, opts, cmdline, &input, e);
	if (r < 0)
		return r;
	if (input) {
		r = load_input(v, input, &req, e);
		if (r < 0)
			return r;
	} else {
		req = cJSON_CreateObject();
		if (!req)
			return -ENOMEM;
	}
	merge_members(req, cmdline);
	if (cJSON_GetObjectItemCaseSensitive(req, "maxResults") ||
	    cJSON_GetObjectItemCaseSensitive(req, "nextToken"))
		opts->no_paginate = true;
	if (!opts->help && !opts->skeleton) {
		r = check_required(v, req, e);
		if (r < 0)
			return r;
	}
	*ret_req = TAKE_PTR(req);
	return 0;
}

static cJSON *empty_value(const struct verb_param *p)
{
	switch (p->type) {
	case PT_STRING:
		return cJSON_CreateString("");
	case PT_INT:
		return cJSON_CreateNumber(0);
	case PT_BOOL:
		return cJSON_CreateFalse();
	case PT_STRLIST:
		return cJSON_CreateStringArray((const char *[]){ "" }, 1);
	case PT_KVLIST: {
		cJSON *list = cJSON_CreateArray(), *el = cJSON_CreateObject();

		for (const char *const *k = p->keys; el && k && *k; k++)
			cJSON_AddStringToObject(el, *k, "");
		if (!list || !el || !cJSON_AddItemToArray(list, el)) {
			cJSON_Delete(list);
			cJSON_Delete(el);
			return NULL;
		}
		return list;
	}
	case PT_JSON:
		return p->list ? cJSON_CreateArray() : cJSON_CreateObject();
	}
	return NULL;
}

cJSON *args_skeleton(const struct verb *v)
{
	cJSON *obj = cJSON_CreateObject();

	for (size_t i = 0; obj && i < v->n_params; i++) {
		cJSON *val = empty_value(&v->params[i]);

		if (!val || !cJSON_AddItemToObject(obj, v->params[i].member, val)) {
			cJSON_Delete(val);
			cJSON_Delete(obj);
			return NULL;
		}
	}
	return obj;
}
