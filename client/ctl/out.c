/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * out.c - pagepoolctl's output layer (see out.h): text straight to stdout,
 * tables once their widths are known, JSON as a json-c tree printed whole.
 *
 * json-c copies string bytes through as they are, so every string is made
 * valid UTF-8 here first (invalid sequences become U+FFFD): the document is
 * valid JSON whatever the daemon sent.  The containers being filled are kept
 * on a small stack whose bottom is the document's root object, made when the
 * first value arrives; a command that prints nothing in JSON (help) thus
 * leaves no document behind.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"

#define JSON_FLAGS	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | \
			 JSON_C_TO_STRING_NOSLASHESCAPE)

/* ---- strings -------------------------------------------------------------- */

const char *out_printable(const char *s, char *buf, size_t n)
{
	size_t i = 0;

	for (s = s ? s : ""; *s && i + 1 < n; s++, i++)
		buf[i] = (*s >= 0x20 && *s <= 0x7e) ? *s : '?';
	buf[i] = '\0';
	if (*s && n > 4)
		memcpy(buf + n - 4, "...", 4);
	return buf;
}

/* Length of the valid UTF-8 sequence at s, 0 when it is not one (overlong
 * forms, surrogates and code points above U+10FFFF are not). */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		lo = c == 0xe0 ? 0xa0 : lo;
		hi = c == 0xed ? 0x9f : hi;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		lo = c == 0xf0 ? 0x90 : lo;
		hi = c == 0xf4 ? 0x8f : hi;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		       (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/* A JSON string of s with each byte that starts no valid UTF-8 sequence
 * replaced by U+FFFD; NULL when out of memory. */
static struct json_object *json_utf8(const char *str)
{
	static const char fffd[] = "\xef\xbf\xbd";
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	struct json_object *v;
	char *buf, *p;

	buf = malloc(3 * strlen((const char *)s) + 1);
	if (!buf)
		return NULL;
	for (p = buf; *s; ) {
		size_t n = utf8_seq_len(s);

		if (n == 0) {
			memcpy(p, fffd, 3);
			p += 3;
			s++;
		} else {
			memcpy(p, s, n);
			p += n;
			s += n;
		}
	}
	*p = '\0';
	v = json_object_new_string(buf);
	free(buf);
	return v;
}

/* ---- the JSON document ---------------------------------------------------- */

/* The container values go into: the innermost open one, the root object
 * made on first use.  NULL when it could not be made. */
static struct json_object *json_cur(struct out *o)
{
	if (o->depth == 0) {
		o->root = json_object_new_object();
		o->nomem |= !o->root;
		o->stack[o->depth++] = o->root;
	}
	return o->stack[o->depth - 1];
}

/*
 * Add v (taking it) under key, or to the array being filled.  v NULL is a
 * JSON null when `made`, an allocation that failed otherwise.  Whether v
 * is in the document now.
 */
static bool json_add(struct out *o, const char *key, struct json_object *v, bool made)
{
	struct json_object *cur;
	int r;

	if (!made) {
		o->nomem = true;
		return false;
	}
	cur = json_cur(o);
	if (!cur) {
		json_object_put(v);
		return false;
	}
	if (json_object_is_type(cur, json_type_array))
		r = json_object_array_add(cur, v);
	else
		r = json_object_object_add(cur, key, v);
	if (r) {
		json_object_put(v);
		o->nomem = true;
		return false;
	}
	return true;
}

static void json_push(struct out *o, const char *key, struct json_object *v)
{
	if (!o->json)
		return;
	if (o->depth == OUT_DEPTH)
		abort();	/* a bug in a command, not bad input */
	if (!json_add(o, key, v, v != NULL))
		v = NULL;
	/* Pushed even when lost, so that out_end() stays balanced. */
	o->stack[o->depth++] = v;
}

void out_obj_begin(struct out *o, const char *key)
{
	json_push(o, key, o->json ? json_object_new_object() : NULL);
}

void out_arr_begin(struct out *o, const char *key)
{
	json_push(o, key, o->json ? json_object_new_array() : NULL);
}

void out_end(struct out *o)
{
	if (!o->json)
		return;
	if (o->depth <= 1)
		abort();	/* the root is never ended */
	o->depth--;
}

void out_json_str(struct out *o, const char *key, const char *s)
{
	struct json_object *j;

	if (!o->json)
		return;
	if (!s) {
		out_json_null(o, key);
		return;
	}
	j = json_utf8(s);
	json_add(o, key, j, j != NULL);
}

void out_json_u64(struct out *o, const char *key, uint64_t v)
{
	struct json_object *j;

	if (o->json) {
		j = json_object_new_uint64(v);
		json_add(o, key, j, j != NULL);
	}
}

void out_json_i64(struct out *o, const char *key, int64_t v)
{
	struct json_object *j;

	if (o->json) {
		j = json_object_new_int64(v);
		json_add(o, key, j, j != NULL);
	}
}

void out_json_bool(struct out *o, const char *key, bool v)
{
	struct json_object *j;

	if (o->json) {
		j = json_object_new_boolean(v);
		json_add(o, key, j, j != NULL);
	}
}

void out_json_null(struct out *o, const char *key)
{
	if (o->json)
		json_add(o, key, NULL, true);
}

void out_error(struct out *o, const char *command, const char *source, int exit_status,
	       const char *status, int err, const char *message)
{
	json_object_put(o->root);
	o->root = NULL;
	o->depth = 0;
	o->nomem = false;
	if (!o->json)
		return;
	out_obj_begin(o, "error");
	out_json_str(o, "command", command);
	out_json_str(o, "source", source);
	out_json_i64(o, "exit_status", exit_status);
	if (status)
		out_json_str(o, "status", status);
	if (err)
		out_json_i64(o, "errno", err);
	out_json_str(o, "message", message);
}

/* ---- both renderings ------------------------------------------------------ */

void out_str(struct out *o, const char *key, const char *fmt, const char *s)
{
	char buf[OUT_TEXT_MAX];

	if (o->json)
		out_json_str(o, key, s);
	else
		printf(fmt, out_printable(s, buf, sizeof(buf)));
}

void out_u64(struct out *o, const char *key, const char *fmt, uint64_t v)
{
	if (o->json)
		out_json_u64(o, key, v);
	else
		printf(fmt, (unsigned long long)v);
}

void out_text(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* ---- tables --------------------------------------------------------------- */

/* Keep a text cell: a copy with every byte outside printable ASCII made '?'. */
static void __attribute__((format(printf, 2, 3)))
cell_text(struct out *o, const char *fmt, ...)
{
	struct out_table *t = &o->table;
	va_list ap;
	char *s;
	int r;

	if (o->nomem)
		return;
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		char **cells = realloc(t->cells, cap * sizeof(*cells));

		if (!cells) {
			o->nomem = true;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		o->nomem = true;
		return;
	}
	for (char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	t->cells[t->ncells++] = s;
}

static void table_free(struct out_table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	*t = (struct out_table){ 0 };
}

/* The columns shown in text, and which of them are left aligned. */
static unsigned text_cols(const struct out_table *t, unsigned *left)
{
	unsigned n = 0;

	*left = 0;
	for (unsigned i = 0; i < t->ncols; i++) {
		if (!t->cols[i].header)
			continue;
		if (t->cols[i].flags & OUT_LEFT)
			*left |= 1u << n;
		n++;
	}
	return n;
}

/* Every row after the indent, columns two blanks apart. */
static void table_print(const struct out_table *t)
{
	size_t w[OUT_TABLE_COLS] = { 0 };
	unsigned left, ncols = text_cols(t, &left);

	if (ncols == 0)
		return;
	for (size_t i = 0; i < t->ncells; i++) {
		size_t len = strlen(t->cells[i]);

		if (len > w[i % ncols])
			w[i % ncols] = len;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		unsigned col = (unsigned)(i % ncols);
		bool last = col == ncols - 1 || i == t->ncells - 1;

		if (col == 0)
			fputs(t->indent, stdout);
		if ((left & (1u << col)) && !last)
			printf("%-*s", (int)w[col], t->cells[i]);
		else if (left & (1u << col))
			fputs(t->cells[i], stdout);
		else
			printf("%*s", (int)w[col], t->cells[i]);
		fputs(last ? "\n" : "  ", stdout);
	}
}

void out_table_begin(struct out *o, const char *key, const struct out_col *cols,
		     unsigned ncols, const char *indent)
{
	struct out_table *t = &o->table;

	if (ncols > OUT_TABLE_COLS || t->cols)
		abort();	/* a bug in a command */
	*t = (struct out_table){ .cols = cols, .ncols = ncols, .indent = indent };
	if (o->json) {
		out_arr_begin(o, key);
		return;
	}
	for (unsigned i = 0; i < ncols; i++)
		if (cols[i].header)
			cell_text(o, "%s", cols[i].header);
}

void out_row(struct out *o)
{
	struct out_table *t = &o->table;

	if (t->rows && t->col < t->ncols)
		abort();	/* the previous row is short of cells: a bug */
	if (o->json && t->rows)
		out_end(o);
	if (o->json)
		out_obj_begin(o, NULL);
	t->rows++;
	t->col = 0;
}

/* The column the next cell goes in (past the last: a bug in a command). */
static const struct out_col *cell_col(struct out *o)
{
	struct out_table *t = &o->table;

	if (t->col >= t->ncols)
		abort();
	return &t->cols[t->col++];
}

void out_cell_str(struct out *o, const char *s)
{
	const struct out_col *c = cell_col(o);

	if (o->json && c->key)
		out_json_str(o, c->key, s);
	else if (!o->json && c->header)
		cell_text(o, "%s", s ? s : "-");
}

void out_cell_u64(struct out *o, uint64_t v)
{
	const struct out_col *c = cell_col(o);

	if (o->json && c->key)
		out_json_u64(o, c->key, v);
	else if (!o->json && c->header && (c->flags & OUT_MIB))
		cell_text(o, "%.1f", (double)v / (1024.0 * 1024.0));
	else if (!o->json && c->header)
		cell_text(o, "%llu", (unsigned long long)v);
}

void out_cell_i64(struct out *o, int64_t v)
{
	const struct out_col *c = cell_col(o);

	if (o->json && c->key)
		out_json_i64(o, c->key, v);
	else if (!o->json && c->header && (c->flags & OUT_DASH_NEG) && v < 0)
		cell_text(o, "-");
	else if (!o->json && c->header)
		cell_text(o, "%lld", (long long)v);
}

void out_cell_null(struct out *o)
{
	const struct out_col *c = cell_col(o);

	if (o->json && c->key)
		out_json_null(o, c->key);
	else if (!o->json && c->header)
		cell_text(o, "-");
}

void out_table_end(struct out *o)
{
	struct out_table *t = &o->table;

	if (t->rows && t->col < t->ncols)
		abort();
	if (o->json) {
		if (t->rows)
			out_end(o);	/* the last row */
		out_end(o);		/* the array */
	} else if (!o->nomem) {
		table_print(t);
	}
	table_free(t);
}

/* ---- the end -------------------------------------------------------------- */

int out_flush(struct out *o)
{
	const char *text;
	int err = o->nomem ? -ENOMEM : 0;

	if (!err && o->root) {
		text = json_object_to_json_string_ext(o->root, JSON_FLAGS);
		if (text)
			printf("%s\n", text);
		else
			err = -ENOMEM;
	}
	json_object_put(o->root);
	o->root = NULL;
	o->depth = 0;
	o->nomem = false;
	table_free(&o->table);
	return err;
}
