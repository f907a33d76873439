/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * out.h - pagepoolctl's one output layer: each command describes its result
 * once, and these calls render it either as text for people (printed as it
 * comes, tables once they are complete) or, with --json, as one JSON
 * document built with json-c and printed by out_flush().  In the manner of
 * iproute2's print_*(PRINT_ANY, ...): a call names the JSON key and the text
 * format of the same value; out_json_*() add to the document only and
 * out_text() prints text only.
 *
 * A text format consumes exactly one argument: an unsigned long long for
 * out_u64, a string for out_str.  Strings from the
 * daemon are made printable ASCII (cut at OUT_TEXT_MAX bytes) in text and
 * have invalid UTF-8 replaced by U+FFFD in JSON, whose writer escapes the
 * rest.  An allocation failure is remembered and reported by out_flush():
 * nothing half-built is printed as JSON.
 */
#ifndef PP_CTL_OUT_H
#define PP_CTL_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OUT_DEPTH	8
#define OUT_TEXT_MAX	256	/* bytes of a daemon string shown in text */
#define OUT_TABLE_COLS	32

struct json_object;

/* A table column: its JSON key and its text header (NULL: not in that
 * rendering), and how its cells look in text. */
struct out_col {
	const char *key;
	const char *header;
	unsigned flags;
};
#define OUT_LEFT	0x1	/* text left aligned (numbers are right aligned) */
#define OUT_MIB		0x2	/* u64 bytes shown as MiB with one decimal */
#define OUT_DASH_NEG	0x4	/* i64 below 0 shown as "-" (a CPU not pinned) */

struct out_table {
	const struct out_col *cols;
	unsigned ncols, col;	/* col: the next cell's */
	size_t rows;
	const char *indent;
	char **cells;		/* text: row-major, the header row first */
	size_t ncells, cap;
};

struct out {
	bool json;		/* render as JSON (--json) */
	bool nomem;		/* an allocation failed: report, do not print */
	struct json_object *root;	/* the document, NULL until something is added */
	struct json_object *stack[OUT_DEPTH];	/* open containers, root first */
	unsigned depth;
	struct out_table table;	/* the table being filled (cols NULL: none) */
};

/* Values for both renderings; key NULL inside an array. */
void out_str(struct out *o, const char *key, const char *fmt, const char *s);
void out_u64(struct out *o, const char *key, const char *fmt, uint64_t v);

/* JSON only (s NULL: null). */
void out_json_str(struct out *o, const char *key, const char *s);
void out_json_u64(struct out *o, const char *key, uint64_t v);
void out_json_i64(struct out *o, const char *key, int64_t v);
void out_json_bool(struct out *o, const char *key, bool v);
void out_json_null(struct out *o, const char *key);

/* Text only. */
void out_text(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON containers: an object or array under `key` (NULL in an array), and
 * the end of the innermost one.  Nothing in text. */
void out_obj_begin(struct out *o, const char *key);
void out_arr_begin(struct out *o, const char *key);
void out_end(struct out *o);

/*
 * A table: JSON, an array under `key` of one object per row; text, aligned
 * columns two blanks apart after `indent`, headers first, printed by
 * out_table_end().  Between out_row() calls, one out_cell_*() per column, in
 * order.  cols must outlive the table; at most OUT_TABLE_COLS of them.
 */
void out_table_begin(struct out *o, const char *key, const struct out_col *cols,
		     unsigned ncols, const char *indent);
void out_row(struct out *o);
void out_cell_str(struct out *o, const char *s);	/* NULL: JSON null, text "-" */
void out_cell_u64(struct out *o, uint64_t v);
void out_cell_i64(struct out *o, int64_t v);
void out_cell_null(struct out *o);			/* JSON null, text "-" */
void out_table_end(struct out *o);

/*
 * Start the document over as {"error": {...}} and leave it open, so that
 * the caller may add keys after `message`: command (NULL: null), source,
 * exit_status, status (left out when NULL), errno (left out when 0),
 * message.  JSON only.
 */
void out_error(struct out *o, const char *command, const char *source, int exit_status,
	       const char *status, int err, const char *message);

/*
 * Print the JSON document, if one was started, on stdout; then start over.
 * 0, or -ENOMEM (nothing printed) when building it or any table failed.
 */
int out_flush(struct out *o);

/* s made printable ASCII in buf (n bytes), cut with "..." when too long. */
const char *out_printable(const char *s, char *buf, size_t n);

#endif
