/* cli/output.c - response printing (see output.h).
 *
 * Tables: a response is cut into sections, each a boxed table titled with
 * its path ("DescribeClusters.clusters[0].tags"): an object's scalar members
 * become key | value rows, a list of flat objects becomes columns, a list of
 * scalars one column.  Nested lists and objects get their own sections. */
#include "cli/output.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

static void indent(FILE *out, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("    ", out);
}

static void print_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

/* A scalar as JSON text (numbers in cJSON's shortest round-trip form). */
static void print_scalar(FILE *out, const cJSON *j)
{
	_cleanup_free_ char *s = NULL;

	if (cJSON_IsString(j)) {
		print_string(out, j->valuestring);
		return;
	}
	s = cJSON_PrintUnformatted(j);
	fputs(s ? s : "null", out);
}

static void print_value(FILE *out, const cJSON *j, int depth)
{
	bool obj = cJSON_IsObject(j);
	const cJSON *c;

	if (!obj && !cJSON_IsArray(j)) {
		print_scalar(out, j);
		return;
	}
	if (!j->child) {
		fputs(obj ? "{}" : "[]", out);
		return;
	}
	fputs(obj ? "{\n" : "[\n", out);
	cJSON_ArrayForEach(c, j) {
		indent(out, depth + 1);
		if (obj) {
			print_string(out, c->string);
			fputs(": ", out);
		}
		print_value(out, c, depth + 1);
		fputs(c->next ? ",\n" : "\n", out);
	}
	indent(out, depth);
	fputs(obj ? "}" : "]", out);
}

void output_json(FILE *out, const cJSON *j)
{
	print_value(out, j, 0);
	fputc('\n', out);
}

static bool is_scalar(const cJSON *j)
{
	return !cJSON_IsObject(j) && !cJSON_IsArray(j);
}

/* A scalar as a table cell: strings bare, the rest as JSON. */
static char *cell_text(const cJSON *j)
{
	if (!j)
		return strdup("");
	if (cJSON_IsString(j))
		return strdup(j->valuestring);
	return cJSON_PrintUnformatted(j);
}

/* One boxed table: TITLE, optional header row, rows of NCOLS cells. */
struct table {
	const char *title;
	size_t ncols, nrows;
	char **cells;            /* nrows * ncols, row-major; row 0 is the header if any */
	bool header;
};

static void rule(FILE *out, const size_t *w, size_t ncols)
{
	fputc('+', out);
	for (size_t c = 0; c < ncols; c++) {
		for (size_t i = 0; i < w[c] + 2; i++)
			fputc('-', out);
		fputc('+', out);
	}
	fputc('\n', out);
}

static void table_print(FILE *out, const struct table *t)
{
	_cleanup_free_ size_t *w = calloc(t->ncols, sizeof(*w));
	size_t total, tlen = strlen(t->title);

	if (!w || t->ncols == 0)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t l = strlen(t->cells[r * t->ncols + c]);

			if (l > w[c])
				w[c] = l;
		}
	total = 3 * t->ncols - 1;
	for (size_t c = 0; c < t->ncols; c++)
		total += w[c];
	if (tlen + 2 > total) {
		w[t->ncols - 1] += tlen + 2 - total;
		total = tlen + 2;
	}
	fputc('+', out);
	for (size_t i = 0; i < total; i++)
		fputc('-', out);
	fprintf(out, "+\n|%*s%s%*s|\n", (int)((total - tlen) / 2), "", t->title,
		(int)(total - tlen - (total - tlen) / 2), "");
	rule(out, w, t->ncols);
	for (size_t r = 0; r < t->nrows; r++) {
		fputc('|', out);
		for (size_t c = 0; c < t->ncols; c++)
			fprintf(out, " %-*s |", (int)w[c], t->cells[r * t->ncols + c]);
		fputc('\n', out);
		if (r == 0 && t->header)
			rule(out, w, t->ncols);
	}
	rule(out, w, t->ncols);
}

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

static int table_add_row(struct table *t, char **row)
{
	char **cells = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*cells));

	if (!cells)
		return -1;
	t->cells = cells;
	memcpy(cells + t->nrows * t->ncols, row, t->ncols * sizeof(*row));
	t->nrows++;
	return 0;
}

/* Appends a row of NCOLS new cells; frees them if it cannot. */
static void add_row_or_free(struct table *t, char **row)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (!row[c])
			goto fail;
	if (table_add_row(t, row) == 0)
		return;
fail:
	for (size_t c = 0; c < t->ncols; c++)
		free(row[c]);
}

static bool all_flat_objects(const cJSON *list)
{
	const cJSON *el, *m;

	cJSON_ArrayForEach(el, list) {
		if (!cJSON_IsObject(el))
			return false;
		cJSON_ArrayForEach(m, el)
			if (!is_scalar(m))
				return false;
	}
	return true;
}

/* Column names of a list of flat objects, in order of first appearance. */
static size_t collect_columns(const cJSON *list, const char **cols, size_t max)
{
	const cJSON *el, *m;
	size_t n = 0;

	cJSON_ArrayForEach(el, list)
		cJSON_ArrayForEach(m, el) {
			size_t i;

			for (i = 0; i < n && strcmp(cols[i], m->string) != 0; i++)
				;
			if (i == n && n < max)
				cols[n++] = m->string;
		}
	return n;
}

static void print_columns(FILE *out, const cJSON *list, const char *title)
{
	const char *cols[64];
	struct table t = { .title = title, .header = true };
	const cJSON *el;
	char *row[64];

	t.ncols = collect_columns(list, cols, ARRAY_SIZE(cols));
	if (t.ncols == 0)
		return;
	for (size_t c = 0; c < t.ncols; c++)
		row[c] = strdup(cols[c]);
	add_row_or_free(&t, row);
	cJSON_ArrayForEach(el, list) {
		for (size_t c = 0; c < t.ncols; c++)
			row[c] = cell_text(cJSON_GetObjectItemCaseSensitive(el, cols[c]));
		add_row_or_free(&t, row);
	}
	table_print(out, &t);
	table_release(&t);
}

static void print_section(FILE *out, const cJSON *j, const char *title);

static void print_object(FILE *out, const cJSON *j, const char *title)
{
	struct table t = { .title = title, .ncols = 2 };
	const cJSON *m;
	char *row[2];

	cJSON_ArrayForEach(m, j)
		if (is_scalar(m)) {
			row[0] = strdup(m->string);
			row[1] = cell_text(m);
			add_row_or_free(&t, row);
		}
	if (t.nrows)
		table_print(out, &t);
	table_release(&t);
	cJSON_ArrayForEach(m, j)
		if (!is_scalar(m)) {
			_cleanup_free_ char *sub = NULL;

			if (asprintf(&sub, "%s.%s", title, m->string) >= 0)
				print_section(out, m, sub);
		}
}

static void print_list(FILE *out, const cJSON *j, const char *title)
{
	struct table t = { .title = title, .ncols = 1 };
	const cJSON *el;
	char *row[1];
	int i = 0;

	if (!j->child)
		return;
	if (all_flat_objects(j)) {
		print_columns(out, j, title);
		return;
	}
	if (is_scalar(j->child)) {
		cJSON_ArrayForEach(el, j) {
			row[0] = cell_text(el);
			add_row_or_free(&t, row);
		}
		table_print(out, &t);
		table_release(&t);
		return;
	}
	cJSON_ArrayForEach(el, j) {
		_cleanup_free_ char *sub = NULL;

		if (asprintf(&sub, "%s[%d]", title, i++) >= 0)
			print_section(out, el, sub);
	}
}

static void print_section(FILE *out, const cJSON *j, const char *title)
{
	if (cJSON_IsObject(j))
		print_object(out, j, title);
	else if (cJSON_IsArray(j))
		print_list(out, j, title);
	else {
		_cleanup_free_ char *s = cell_text(j);

		fprintf(out, "%s: %s\n", title, s ? s : "");
	}
}

static void upper_name(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i < size - 1; i++)
		buf[i] = (char)toupper((unsigned char)s[i]);
	buf[i] = '\0';
}

/* Text: one line per scalar list element or per object (its scalar members
 * tab-separated), prefixed with the upper-cased member name. */
static void print_text(FILE *out, const cJSON *j, const char *name)
{
	const cJSON *m;
	bool any = false;

	if (cJSON_IsArray(j)) {
		cJSON_ArrayForEach(m, j) {
			if (is_scalar(m)) {
				_cleanup_free_ char *s = cell_text(m);

				fprintf(out, "%s\t%s\n", name, s ? s : "");
			} else {
				print_text(out, m, name);
			}
		}
		return;
	}
	if (is_scalar(j)) {
		_cleanup_free_ char *s = cell_text(j);

		fprintf(out, "%s\t%s\n", name, s ? s : "");
		return;
	}
	cJSON_ArrayForEach(m, j)
		if (is_scalar(m) && !*name) {
			/* top level: "NEXTTOKEN\tvalue" */
			char upper[128];

			upper_name(m->string, upper, sizeof(upper));
			print_text(out, m, upper);
		} else if (is_scalar(m)) {
			_cleanup_free_ char *s = cell_text(m);

			if (!any && *name)
				fputs(name, out);
			fprintf(out, "%s%s", any || *name ? "\t" : "", s ? s : "");
			any = true;
		}
	if (any)
		fputc('\n', out);
	cJSON_ArrayForEach(m, j)
		if (!is_scalar(m)) {
			char upper[128];

			upper_name(m->string, upper, sizeof(upper));
			print_text(out, m, upper);
		}
}

void output_print(FILE *out, const cJSON *j, enum output_format fmt, const char *title)
{
	switch (fmt) {
	case OUT_JSON:
		output_json(out, j);
		break;
	case OUT_TABLE:
		print_section(out, j, title);
		break;
	case OUT_TEXT:
		print_text(out, j, "");
		break;
	}
}
