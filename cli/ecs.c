/* cli/ecs.c - the generic runner of `berth <ecs-verb>`: argv -> request ->
 * (pages of) responses -> printed result, with the aws CLI's exit codes and
 * error wording. */
#include "cli/ecs.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/verbs.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define ECS_PAGE_MAX 100

static void print_help(FILE *out, const struct verb *v)
{
	fprintf(out, "usage: berth %s [flags]\n\n%s (ECS action %s)\n\nflags:\n", v->name,
		v->summary, v->action);
	for (size_t i = 0; i < v->n_params; i++) {
		const struct verb_param *p = &v->params[i];
		char flag[64];

		snprintf(flag, sizeof(flag), p->type == PT_BOOL ? "--[no-]%s" : "--%s", p->flag);
		fprintf(out, "  %-40s %s -> \"%s\"%s\n", flag, param_type_name(p), p->member,
			p->required ? " (required)" : "");
	}
	fprintf(out, "\nValues: lists take several arguments or JSON; structures take JSON"
		     " or file://PATH;\n%s"
		     "\nglobal flags:\n"
		     "  --cli-input-json JSON|file://PATH       the whole request (flags override it)\n"
		     "  --generate-cli-skeleton                 print a request template\n"
		     "  --endpoint unix:///PATH|http://H:PORT   default %s\n"
		     "  --region REGION                         for signing http:// requests\n"
		     "  --output json|table|text                default json\n"
		     "  --debug                                 trace the HTTP exchange\n",
		v->n_params && verb_param_by_flag(v, "tags")
			? "tags also take shorthand: --tags key=a,value=b key=c,value=d\n" : "",
		endpoint_default());
	if (v->page_key)
		fprintf(out, "  --max-items N, --page-size N, --starting-token T, --no-paginate\n"
			     "                                          pagination (all pages by default)\n");
}

/* Prints an API error the way the aws CLI does; returns the exit code. */
static int report_api_error(const struct verb *v, const struct client_resp *resp)
{
	char type[128], msg[1024];

	client_error_parse(resp->status, resp->body, type, sizeof(type), msg, sizeof(msg));
	fprintf(stderr, "\nAn error occurred (%s) when calling the %s operation: %s\n", type,
		v->action, msg);
	return CLI_EXIT_SERVICE;
}

/* One request; on success *ret is the response object.  Returns 0 or an
 * exit code. */
static int call_once(const struct verb *v, const struct cli_opts *o, const struct endpoint *ep,
		     const cJSON *req, cJSON **ret)
{
	_cleanup_free_ char *body = cJSON_PrintUnformatted(req);
	struct client_req creq = { .ep = ep, .action = v->action, .body = body,
				   .region = o->region, .debug = o->debug };
	struct client_resp resp = { 0 };
	struct err e = ERR_INIT;
	cJSON *j;
	int r;

	if (!body) {
		fprintf(stderr, "berth: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	r = client_call(&creq, &resp, &e);
	if (r < 0) {
		fprintf(stderr, "\n%s\n", e.msg);
		return CLI_EXIT_FAILURE;
	}
	if (resp.status != 200) {
		r = report_api_error(v, &resp);
		client_resp_release(&resp);
		return r;
	}
	j = json_parse_strict(resp.body, resp.len); /* trailing data is an error, as for aws */
	client_resp_release(&resp);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		fprintf(stderr, "berth: %s: the response is not a JSON object\n", v->action);
		return CLI_EXIT_FAILURE;
	}
	*ret = j;
	return 0;
}

static int set_number(cJSON *obj, const char *name, double n)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
	return cJSON_AddNumberToObject(obj, name, n) ? 0 : -ENOMEM;
}

static int set_string(cJSON *obj, const char *name, const char *s)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
	return cJSON_AddStringToObject(obj, name, s) ? 0 : -ENOMEM;
}

/* Moves the page's items onto the end of the collected list. */
static void append_page(cJSON *all, cJSON *page, const char *key)
{
	cJSON *dst = cJSON_GetObjectItemCaseSensitive(all, key);
	cJSON *src = cJSON_GetObjectItemCaseSensitive(page, key);

	if (!cJSON_IsArray(dst) || !cJSON_IsArray(src))
		return;
	while (src->child)
		cJSON_AddItemToArray(dst, cJSON_DetachItemViaPointer(src, src->child));
}

int ecs_next_token(const cJSON *page, const char *sent, char **ret)
{
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(page, "nextToken");

	*ret = NULL;
	if (!cJSON_IsString(next) || !next->valuestring[0])
		return 0;
	if (sent && strcmp(sent, next->valuestring) == 0)
		return -ELOOP;
	*ret = strdup(next->valuestring);
	return *ret ? 0 : -ENOMEM;
}

/* Follows nextToken like the aws CLI: all pages, or up to --max-items (then
 * "NextToken" resumes with --starting-token).  Pages are sized so a page
 * never overshoots --max-items. */
static int call_paginated(const struct verb *v, const struct cli_opts *o,
			  const struct endpoint *ep, cJSON *req, cJSON **ret)
{
	_cleanup_(cJSON_Deletep) cJSON *all = NULL;
	_cleanup_free_ char *token = o->starting_token ? strdup(o->starting_token) : NULL;
	long have = 0;

	for (;;) {
		_cleanup_(cJSON_Deletep) cJSON *page = NULL;
		long size = o->page_size ? o->page_size : 0;
		const cJSON *items;
		char *next;
		int r = 0;

		if (o->max_items) {
			long left = o->max_items - have;

			if (!size || size > left)
				size = left > ECS_PAGE_MAX && !o->page_size ? ECS_PAGE_MAX : left;
		}
		if (size)
			r = set_number(req, "maxResults", (double)size);
		if (r >= 0 && token)
			r = set_string(req, "nextToken", token);
		if (r < 0)
			return CLI_EXIT_FAILURE;
		r = call_once(v, o, ep, req, &page);
		if (r)
			return r;
		r = ecs_next_token(page, token, &next);
		if (r == -ELOOP) {
			fprintf(stderr, "\nError during pagination: The same next token was received twice: "
				"{'nextToken': '%s'}\n", token);
			return CLI_EXIT_FAILURE;
		}
		if (r < 0) {
			fprintf(stderr, "berth: out of memory\n");
			return CLI_EXIT_FAILURE;
		}
		free(token);
		token = next;
		cJSON_DeleteItemFromObjectCaseSensitive(page, "nextToken");
		items = cJSON_GetObjectItemCaseSensitive(page, v->page_key);
		have += cJSON_GetArraySize(items);
		if (!all)
			all = TAKE_PTR(page);
		else
			append_page(all, page, v->page_key);
		if (!token)
			break;
		if (o->max_items && have >= o->max_items) {
			if (set_string(all, "NextToken", token) < 0)
				return CLI_EXIT_FAILURE;
			break;
		}
	}
	*ret = TAKE_PTR(all);
	return 0;
}

static int usage_error(const struct verb *v, const char *msg)
{
	fprintf(stderr, "usage: berth %s [flags]  (see 'berth %s --help')\nberth: error: %s\n",
		v->name, v->name, msg);
	return CLI_EXIT_USAGE;
}

int ecs_verb_main(int argc, char **argv)
{
	const struct verb *v = verb_find(argv[0]);
	_cleanup_(cJSON_Deletep) cJSON *req = NULL;
	_cleanup_(cJSON_Deletep) cJSON *resp = NULL;
	struct err e = ERR_INIT;
	struct cli_opts o;
	struct endpoint ep;
	const char *where;
	int r;

	if (!v) {
		fprintf(stderr, "berth: no ECS verb '%s'\n", argv[0]);
		return CLI_EXIT_USAGE;
	}
	r = args_parse(v, argc, argv, &o, &req, &e);
	if (r < 0)
		return usage_error(v, e.msg[0] ? e.msg : strerror(-r));
	if (o.help) {
		print_help(stdout, v);
		return 0;
	}
	if (o.skeleton) {
		cJSON_Delete(req);
		req = args_skeleton(v);
		if (req)
			output_json(stdout, req);
		return req ? 0 : CLI_EXIT_FAILURE;
	}
	where = o.endpoint ? o.endpoint : endpoint_default();
	if (endpoint_parse(where, &ep) < 0) {
		char msg[600];

		snprintf(msg, sizeof(msg),
			 "invalid endpoint '%s' (want unix:///PATH or http://HOST:PORT)", where);
		return usage_error(v, msg);
	}
	if (v->page_key && !o.no_paginate)
		r = call_paginated(v, &o, &ep, req, &resp);
	else
		r = call_once(v, &o, &ep, req, &resp);
	if (r)
		return r;
	output_print(stdout, resp, o.output, v->action);
	return 0;
}
