/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pagepoolctl.c - the operators' command-line client of pagepoold's admin
 * socket.
 *
 * Every command is one AdminRequest: connect, send one frame, read one frame,
 * close (offline keeps its connection while it polls).  The response must
 * echo the request's id and carry the body the command expects; an incoming
 * frame above 16 MiB, a truncated or undecodable one is a protocol error.
 * Frames are built by proto/wire.c, the only framing code; this file does the
 * I/O, the argument parsing and the printing.
 *
 * Output is text for people or, with --json, exactly one JSON document on
 * stdout, also when the command fails ({"error": {...}}).  The exit status
 * tells scripts what kind of failure it was (EXIT STATUS in the usage text),
 * and errors go to stderr as "pagepoolctl: COMMAND: reason".  Nothing the
 * daemon sends is trusted: strings are made printable before they reach a
 * terminal and escaped (with invalid UTF-8 replaced) before they reach JSON;
 * worker numbers are looked up, never used as indices.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "wire.h"

#define CTL_VERSION		PAGEPOOL_VERSION
#define DEFAULT_SOCKET		"/run/pagepool/pagepool-admin.sock"
#define SOCKET_ENV		"PAGEPOOL_ADMIN_SOCKET"
#define MAX_RESPONSE		(16u << 20)	/* largest response frame accepted */
#define IO_TIMEOUT_S		30		/* per send/receive */
#define POLL_MS			150		/* offline: pause between attempts */
#define OFFLINE_TIMEOUT_S	10
#define OFFLINE_TIMEOUT_MAX	86400
#define POOL_NAME_MAX		63		/* bytes, as the daemon's pools */
#define NUM_MAX			INT32_MAX	/* --high, --batch (int32 in PcpStats) */
#define TEXT_MAX		256		/* daemon strings shown to people */
#define ORDERS_MAX		64		/* buddyinfo columns we agree to print */
#define JSON_DEPTH		8
#define TABLE_COLS		16
#define HOLDERS_SHOWN		10		/* offline progress: holders listed */
#define RELOAD_LINES_SHOWN	32		/* refused reload: message lines, */
#define RELOAD_LINE_MAX		1024		/* bytes of each shown */

typedef Pagepool__V1__AdminRequest admin_request;
typedef Pagepool__V1__AdminResponse admin_response;

/* ------------------------------------------------------------------------
 * JSON writer: indented, keys and strings escaped, invalid UTF-8 replaced by
 * U+FFFD, so the output is valid JSON whatever the daemon sent.
 */

struct json {
	FILE *f;
	unsigned depth;
	char close[JSON_DEPTH];
	bool empty[JSON_DEPTH];		/* nothing written yet at this level */
	bool after_key;			/* a key was written, its value is next */
};

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

static void json_string_raw(struct json *j, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	fputc('"', j->f);
	while (*s) {
		size_t n = utf8_seq_len(s);

		if (n == 0) {
			fputs("\\ufffd", j->f);
			s++;
		} else if (n == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] | 1) == 0xa9) {
			/* U+2028/2029: valid JSON, but not inside JavaScript strings */
			fprintf(j->f, "\\u%04x", 0x2000 | (s[2] - 0x80));
			s += n;
		} else if (n > 1) {
			fwrite(s, 1, n, j->f);
			s += n;
		} else {
			switch (*s) {
			case '"': fputs("\\\"", j->f); break;
			case '\\': fputs("\\\\", j->f); break;
			case '\n': fputs("\\n", j->f); break;
			case '\t': fputs("\\t", j->f); break;
			case '\r': fputs("\\r", j->f); break;
			default:
				if (*s < 0x20 || *s == 0x7f)
					fprintf(j->f, "\\u%04x", *s);
				else
					fputc(*s, j->f);
			}
			s++;
		}
	}
	fputc('"', j->f);
}

static void json_indent(struct json *j)
{
	for (unsigned i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Before any key or value: the comma and newline its position needs. */
static void json_sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	fputs(j->empty[j->depth - 1] ? "\n" : ",\n", j->f);
	j->empty[j->depth - 1] = false;
	json_indent(j);
}

static void json_open(struct json *j, char open, char close)
{
	json_sep(j);
	if (j->depth == JSON_DEPTH)
		abort();	/* a bug in this file, not bad input */
	fputc(open, j->f);
	j->close[j->depth] = close;
	j->empty[j->depth] = true;
	j->depth++;
}

static void json_obj(struct json *j) { json_open(j, '{', '}'); }
static void json_arr(struct json *j) { json_open(j, '[', ']'); }

static void json_end(struct json *j)
{
	bool empty;

	if (j->depth == 0)
		abort();
	j->depth--;
	empty = j->empty[j->depth];
	if (!empty) {
		fputc('\n', j->f);
		json_indent(j);
	}
	fputc(j->close[j->depth], j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
}

static void json_key(struct json *j, const char *key)
{
	json_sep(j);
	json_string_raw(j, key);
	fputs(": ", j->f);
	j->after_key = true;
}

static void json_str(struct json *j, const char *s) { json_sep(j); json_string_raw(j, s); }
static void json_u64(struct json *j, uint64_t v) { json_sep(j); fprintf(j->f, "%llu", (unsigned long long)v); }
static void json_i64(struct json *j, int64_t v) { json_sep(j); fprintf(j->f, "%lld", (long long)v); }
static void json_null(struct json *j) { json_sep(j); fputs("null", j->f); }
static void json_bool(struct json *j, bool v) { json_sep(j); fputs(v ? "true" : "false", j->f); }

static void json_kv_str(struct json *j, const char *k, const char *v) { json_key(j, k); json_str(j, v); }
static void json_kv_u64(struct json *j, const char *k, uint64_t v) { json_key(j, k); json_u64(j, v); }
static void json_kv_i64(struct json *j, const char *k, int64_t v) { json_key(j, k); json_i64(j, v); }
static void json_kv_bool(struct json *j, const char *k, bool v) { json_key(j, k); json_bool(j, v); }

/* A pool operand: the name, or null for "every pool" (empty on the wire). */
static void json_kv_pool(struct json *j, const char *pool)
{
	json_key(j, "pool");
	if (pool && pool[0])
		json_str(j, pool);
	else
		json_null(j);
}

/* ------------------------------------------------------------------------
 * Text output: daemon strings made printable, and aligned tables.
 */

/* Copy s into buf (n bytes) with every byte outside printable ASCII turned
 * into '?', cut with "..." when too long.  Returns buf. */
static const char *printable(const char *s, char *buf, size_t n)
{
	size_t i = 0;

	for (s = s ? s : ""; *s && i + 1 < n; s++, i++)
		buf[i] = (*s >= 0x20 && *s <= 0x7e) ? *s : '?';
	buf[i] = '\0';
	if (*s && n > 4)
		memcpy(buf + n - 4, "...", 4);
	return buf;
}

/* Cells row-major, the header being the first row.  Columns named in the
 * `left` mask (text) are left aligned, the others (numbers) right aligned.
 * A failed allocation is remembered and reported by table_print. */
struct table {
	unsigned ncols;
	unsigned left;
	size_t ncells, cap;
	char **cells;
	bool nomem;
};

static void table_init(struct table *t, unsigned ncols, unsigned left)
{
	*t = (struct table){ .ncols = ncols > TABLE_COLS ? TABLE_COLS : ncols, .left = left };
}

static void __attribute__((format(printf, 2, 3)))
table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	if (t->nomem)
		return;
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		char **cells = realloc(t->cells, cap * sizeof(*cells));

		if (!cells) {
			t->nomem = true;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		t->nomem = true;
		return;
	}
	for (char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	t->cells[t->ncells++] = s;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->ncells = t->cap = 0;
}

/* Print every row after `indent`, columns two spaces apart.  0, or -ENOMEM
 * (nothing printed) when building the table ran out of memory. */
static int table_print(const struct table *t, const char *indent)
{
	size_t w[TABLE_COLS] = { 0 };

	if (t->nomem)
		return -ENOMEM;
	for (size_t i = 0; i < t->ncells; i++) {
		size_t len = strlen(t->cells[i]);

		if (len > w[i % t->ncols])
			w[i % t->ncols] = len;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		unsigned col = (unsigned)(i % t->ncols);
		bool last = col == t->ncols - 1 || i == t->ncells - 1;

		if (col == 0)
			fputs(indent, stdout);
		if ((t->left & (1u << col)) && !last)
			printf("%-*s", (int)w[col], t->cells[i]);
		else if (t->left & (1u << col))
			fputs(t->cells[i], stdout);
		else
			printf("%*s", (int)w[col], t->cells[i]);
		fputs(last ? "\n" : "  ", stdout);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Commands, options and the context they run in.
 */

struct ctx;

/* Options of the commands; the O_* bits say which command takes which. */
enum {
	OPT_POOL = 'p', OPT_MODE = 'm', OPT_FORCE = 'f', OPT_TIMEOUT = 't', OPT_HELP = 'h',
	OPT_HIGH = 0x100, OPT_BATCH, OPT_JSON,
};
#define O_POOL		0x01
#define O_MODE		0x02
#define O_FORCE		0x04
#define O_TIMEOUT	0x08
#define O_HIGH		0x10
#define O_BATCH		0x20

/* Option values are checked once all options are read, so that a --json
 * anywhere on the line also covers the usage errors. */
struct args {
	const char *pool;		/* --pool; NULL: every pool */
	const char *mode;		/* --mode; NULL: the daemon's */
	bool force;
	const char *high_arg, *batch_arg, *timeout_arg;
	int stray_opt;			/* an option this command does not take */
	uint32_t high, batch;
	uint32_t timeout_s;
	char **pos;			/* operands */
	int npos;
};

struct command {
	const char *name;
	const char *synopsis;	/* what follows the name */
	const char *help;	/* what it does and prints; printed indented */
	unsigned opts;		/* O_* bits besides --json and --help */
	int nargs;		/* operands required */
	int (*run)(struct ctx *c, const struct args *a);
};

struct ctx {
	const char *socket;
	bool json;
	const struct command *cmd;	/* NULL until known */
	struct json j;
};

static const char *cmd_name(const struct ctx *c)
{
	return c->cmd ? c->cmd->name : NULL;
}

/* "pagepoolctl: CMD: " or "pagepoolctl: " before a message. */
static void msg_prefix(const struct ctx *c)
{
	if (cmd_name(c))
		fprintf(stderr, "pagepoolctl: %s: ", cmd_name(c));
	else
		fputs("pagepoolctl: ", stderr);
}

/* Open the {"error": {...}} document; the caller may add keys, then calls
 * json_error_close.  `status` and `err` are left out when NULL / 0. */
static void json_error_open(struct ctx *c, const char *source, int exit_status,
			    const char *status, int err, const char *message)
{
	struct json *j = &c->j;

	json_obj(j);
	json_key(j, "error");
	json_obj(j);
	json_key(j, "command");
	if (cmd_name(c))
		json_str(j, cmd_name(c));
	else
		json_null(j);
	json_kv_str(j, "source", source);
	json_kv_i64(j, "exit_status", exit_status);
	if (status)
		json_kv_str(j, "status", status);
	if (err)
		json_kv_i64(j, "errno", err);
	json_kv_str(j, "message", message);
}

static void json_error_close(struct ctx *c)
{
	json_end(&c->j);
	json_end(&c->j);
}

/* Report a usage error; returns EX_USAGE. */
static int __attribute__((format(printf, 2, 3)))
usage_error(struct ctx *c, const char *fmt, ...)
{
	char text[TEXT_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	msg_prefix(c);
	fprintf(stderr, "%s\n", text);
	if (cmd_name(c))
		fprintf(stderr, "Try 'pagepoolctl help %s'.\n", cmd_name(c));
	else
		fputs("Try 'pagepoolctl --help'.\n", stderr);
	if (c->json) {
		json_error_open(c, "usage", EX_USAGE, NULL, 0, text);
		json_error_close(c);
	}
	return EX_USAGE;
}

/* Exit status for a failure on this side of the socket (err < 0). */
static int exit_for_errno(int err)
{
	switch (-err) {
	case EACCES:
	case EPERM:
		return EX_NOPERM;
	case ENAMETOOLONG:
		return EX_USAGE;
	case EPROTO:
	case EBADMSG:
	case E2BIG:
		return EX_PROTOCOL;
	case ECONNREFUSED:
	case ENOENT:
	case ENOTDIR:
	case ENOTSOCK:
	case ELOOP:
	case ECONNRESET:
	case EPIPE:
	case ENOTCONN:
	case ETIMEDOUT:
	case EAGAIN:
	case ESHUTDOWN:
		return EX_UNAVAILABLE;
	default:
		return EX_OSERR;
	}
}

/* Exit status for a status the daemon answered (not OK). */
static int exit_for_status(int status)
{
	switch (status) {
	case EPERM:
		return EX_NOPERM;
	case EBUSY:
		return EX_TEMPFAIL;
	case ESHUTDOWN:
		return EX_UNAVAILABLE;
	case EPROTO:
	case EPROTONOSUPPORT:
		return EX_PROTOCOL;
	default:
		return EX_DATAERR;
	}
}

/* Report a local or transport failure (err < 0, why: the details or "");
 * returns the exit status. */
static int report_errno(struct ctx *c, int err, const char *why)
{
	const char *text = why && why[0] ? why : strerror(-err);
	int rc = exit_for_errno(err);

	msg_prefix(c);
	fprintf(stderr, "%s\n", text);
	if (c->json) {
		json_error_open(c, "pagepoolctl", rc, NULL, -err, text);
		json_error_close(c);
	}
	return rc;
}

/* What a status means on the admin socket, where the C library's text for
 * the errno would mislead (ESHUTDOWN is not about a transport endpoint). */
#define STATUS_MEANINGS(X)					\
	X(EPERM, "not allowed (root or the admin group only)")	\
	X(ENOENT, "no such pool")				\
	X(EBUSY, "busy")					\
	X(EPROTO, "protocol error")				\
	X(EPROTONOSUPPORT, "protocol version not supported")	\
	X(ESHUTDOWN, "the daemon is shutting down")

static const char *status_meaning(int status)
{
	switch (status) {
#define X(num, text) case num: return text;
	STATUS_MEANINGS(X)
#undef X
	default:
		return strerror(status);
	}
}

/* The daemon's words for a failed response, or what its status means. */
static const char *status_text(const admin_response *resp, char *buf, size_t n)
{
	if (resp->error && resp->error[0])
		return printable(resp->error, buf, n);
	return printable(status_meaning((int)resp->status), buf, n);
}

/* Report a status the daemon answered; `more`, when given, adds keys to the
 * JSON error.  Returns the exit status. */
static int report_status_more(struct ctx *c, const admin_response *resp,
			      void (*more)(struct ctx *, const admin_response *))
{
	char buf[TEXT_MAX];
	const char *text = status_text(resp, buf, sizeof(buf));
	int status = (int)resp->status, rc = exit_for_status(status);

	msg_prefix(c);
	fprintf(stderr, "%s\n", text);
	if (c->json) {
		/* The raw text: the JSON writer escapes what needs escaping. */
		json_error_open(c, "daemon", rc, wire_status_name(status), status,
				resp->error && resp->error[0] ? resp->error : status_meaning(status));
		if (more)
			more(c, resp);
		json_error_close(c);
	}
	return rc;
}

static int report_status(struct ctx *c, const admin_response *resp)
{
	return report_status_more(c, resp, NULL);
}

/* ------------------------------------------------------------------------
 * The admin connection: framed, checked request/response I/O.
 */

struct admin {
	int fd;
	uint64_t next_id;
	char why[TEXT_MAX];	/* details of the last -errno returned */
};

static int __attribute__((format(printf, 3, 4)))
admin_fail(struct admin *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	return err;
}

static void admin_close(struct admin *a)
{
	/* Nothing is pending on a socket whose answer was read: a failing
	 * close() has nothing left to lose. */
	if (a->fd >= 0)
		(void)close(a->fd);
	a->fd = -1;
}

static void admin_response_free(admin_response *resp)
{
	if (resp)
		pagepool__v1__admin_response__free_unpacked(resp, NULL);
}

/* Connect to path with send and receive timeouts.  0 or -errno, with the
 * details in a->why; a missing socket file reads as -ECONNREFUSED. */
static int admin_open(struct admin *a, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	size_t len = strlen(path);
	int r;

	a->fd = -1;
	a->next_id = 1;
	a->why[0] = '\0';
	if (len >= sizeof(sa.sun_path))
		return admin_fail(a, -ENAMETOOLONG, "socket path longer than %zu bytes",
				  sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, len + 1);
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		return admin_fail(a, -errno, "socket: %s", strerror(errno));
	if (setsockopt(a->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(a->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return admin_fail(a, -errno, "setsockopt: %s", strerror(errno));
	/* An interrupted AF_UNIX connect leaves the socket unconnected: retry. */
	do
		r = connect(a->fd, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	switch (errno) {
	case ENOENT:
		return admin_fail(a, -ECONNREFUSED, "%s: no such socket (is pagepoold running "
				  "with admin_socket set?)", path);
	case ECONNREFUSED:
		return admin_fail(a, -ECONNREFUSED, "%s: connection refused (no daemon "
				  "listening)", path);
	case EACCES:
	case EPERM:
		return admin_fail(a, -EACCES, "%s: permission denied (root or the daemon's "
				  "admin_group is needed)", path);
	case EAGAIN:
		return admin_fail(a, -EAGAIN, "%s: the daemon is not accepting connections",
				  path);
	default:
		return admin_fail(a, -errno, "%s: %s", path, strerror(errno));
	}
}

/* Send len bytes whole.  0 or -errno (-ETIMEDOUT after IO_TIMEOUT_S). */
static int send_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Receive len bytes whole.  0; -ECONNRESET for EOF before the first byte of
 * a frame, -EPROTO for EOF inside one; -ETIMEDOUT; other -errno. */
static int recv_all(struct admin *a, uint8_t *buf, size_t len, bool frame_start)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = recv(a->fd, buf + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return admin_fail(a, -ETIMEDOUT, "no answer from the daemon within %d s",
					  IO_TIMEOUT_S);
		if (n < 0)
			return admin_fail(a, -errno, "receive: %s", strerror(errno));
		if (n == 0 && frame_start && done == 0)
			return admin_fail(a, -ECONNRESET, "the daemon closed the connection "
					  "without answering");
		if (n == 0)
			return admin_fail(a, -EPROTO, "truncated frame from the daemon");
		done += (size_t)n;
	}
	return 0;
}

/* Receive and decode one AdminResponse frame.  The length is checked before
 * anything is allocated.  A frame of length 0 is a valid empty AdminResponse
 * (id 0, status OK, no body); admin_call() judges its id. */
static int admin_recv(struct admin *a, admin_response **out)
{
	uint8_t hdr[WIRE_HDR], *body = NULL;
	uint32_t len;
	int err;

	err = recv_all(a, hdr, sizeof(hdr), true);
	if (err)
		return err;
	len = wire_frame_len(hdr);
	if (wire_check_len(len, MAX_RESPONSE))
		return admin_fail(a, -EPROTO, "response frame of %u bytes (limit %u)", len,
				  MAX_RESPONSE);
	if (len) {
		body = malloc(len);
		if (!body)
			return admin_fail(a, -ENOMEM, "no memory for a %u-byte response", len);
	}
	err = recv_all(a, body, len, false);
	if (!err) {
		*out = (admin_response *)wire_unpack(&pagepool__v1__admin_response__descriptor,
						     body, len);
		if (!*out)
			err = admin_fail(a, -EPROTO, "undecodable response (%u bytes)", len);
	}
	free(body);
	return err;
}

/*
 * One round trip on an open connection: req->id is assigned here.  0 with
 * *out set when the daemon answered (any status: the caller looks at it), or
 * -errno with a->why when the exchange failed or the response cannot be
 * believed (wrong id, impossible status).  An answer with id 0 and an error
 * status is the daemon refusing the connection itself (e.g. EPERM for a peer
 * that is not an admin); it is accepted as the answer.
 */
static int admin_call(struct admin *a, admin_request *req, admin_response **out)
{
	admin_response *resp = NULL;
	uint8_t *buf;
	size_t len;
	int err, status;

	req->id = a->next_id++;
	err = wire_encode(&req->base, WIRE_MAX_FRAME_DEFAULT, &buf, &len);
	if (err)
		return admin_fail(a, err, "cannot encode the request: %s", strerror(-err));
	err = send_all(a->fd, buf, len);
	free(buf);
	if (err) {
		/* A daemon that refuses a peer may answer and close before
		 * reading the request: its answer says more than EPIPE. */
		if ((err != -EPIPE && err != -ECONNRESET) || admin_recv(a, &resp) != 0)
			return admin_fail(a, err, "send: %s", strerror(-err));
		err = 0;
	} else {
		err = admin_recv(a, &resp);
		if (err)
			return err;
	}
	status = (int)resp->status;
	if (status < 0 || status > 4095)
		err = admin_fail(a, -EPROTO, "response status %d", status);
	else if (resp->id != req->id && !(resp->id == 0 && status != 0))
		err = admin_fail(a, -EPROTO, "response id %llu to request %llu",
				 (unsigned long long)resp->id, (unsigned long long)req->id);
	if (err) {
		admin_response_free(resp);
		return err;
	}
	*out = resp;
	return 0;
}

/*
 * One command, one connection: send req, receive the response, check its
 * status and that it carries `body` (0: any or none).  EX_OK with *out set
 * (free with admin_response_free), or the exit status with the failure
 * already reported, a status other than OK by `refused` (report_status
 * when NULL).
 */
static int request_or(struct ctx *c, admin_request *req, int body, admin_response **out,
		      int (*refused)(struct ctx *, const admin_response *))
{
	struct admin a;
	admin_response *resp = NULL;
	int err, rc;

	err = admin_open(&a, c->socket);
	if (!err)
		err = admin_call(&a, req, &resp);
	if (err) {
		rc = report_errno(c, err, a.why);
		admin_close(&a);
		return rc;
	}
	admin_close(&a);
	if (resp->status != PAGEPOOL__V1__STATUS__OK) {
		rc = refused ? refused(c, resp) : report_status(c, resp);
		admin_response_free(resp);
		return rc;
	}
	if (body && (int)resp->body_case != body) {
		snprintf(a.why, sizeof(a.why), "response without the expected body "
			 "(field %d, expected %d)", (int)resp->body_case, body);
		admin_response_free(resp);
		return report_errno(c, -EPROTO, a.why);
	}
	*out = resp;
	return EX_OK;
}

static int request(struct ctx *c, admin_request *req, int body, admin_response **out)
{
	return request_or(c, req, body, out, NULL);
}

/*
 * A request whose body is an empty message (status, stats, buddyinfo,
 * clients).  The oneof members share one union slot and every empty message
 * has the same layout, so one generic body serves them all; the descriptor
 * gives it its real type on the wire.
 */
static int request_empty(struct ctx *c, int req_case, const ProtobufCMessageDescriptor *desc,
			 int resp_case, admin_response **out)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	ProtobufCMessage body;

	protobuf_c_message_init(desc, &body);
	req.body_case = (Pagepool__V1__AdminRequest__BodyCase)req_case;
	req.status = (Pagepool__V1__AdminStatusReq *)&body;
	return request(c, &req, resp_case, out);
}

/*
 * An empty-body request whose answer is only printed: as JSON, or as text
 * (which may fail with -errno, reported).  The printers read their body from
 * the response.
 */
static int request_show(struct ctx *c, int req_case, const ProtobufCMessageDescriptor *desc,
			int resp_case, void (*json)(struct json *, const admin_response *),
			int (*text)(const admin_response *))
{
	admin_response *resp;
	int rc, err = 0;

	rc = request_empty(c, req_case, desc, resp_case, &resp);
	if (rc)
		return rc;
	if (c->json)
		json(&c->j, resp);
	else
		err = text(resp);
	admin_response_free(resp);
	return err ? report_errno(c, err, NULL) : EX_OK;
}

/* ------------------------------------------------------------------------
 * Argument checks.
 */

/* Strict decimal: digits only (no sign, blank or base prefix), min..max.
 * EX_OK, or EX_USAGE reported. */
static int parse_number(struct ctx *c, const char *what, const char *s, uint32_t min,
			uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return usage_error(c, "%s: '%s' is not a decimal number", what, s);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		return usage_error(c, "%s: '%s' is not a decimal number", what, s);
	if (errno == ERANGE || v < min || v > max)
		return usage_error(c, "%s: %s is out of range (%u..%u)", what, s, min, max);
	*out = (uint32_t)v;
	return EX_OK;
}

/* A pool name from the command line: the empty name means "every pool" on
 * the wire, so it is refused rather than silently widened. */
static int check_pool(struct ctx *c, const char *what, const char *pool)
{
	if (!pool[0])
		return usage_error(c, "%s: empty pool name", what);
	if (strlen(pool) > POOL_NAME_MAX)
		return usage_error(c, "%s: pool name longer than %d bytes", what, POOL_NAME_MAX);
	return EX_OK;
}

struct range {
	const char *pool;
	uint32_t start, count;
};

/* POOL START COUNT, with START+COUNT-1 a valid page number. */
static int parse_range(struct ctx *c, const struct args *a, struct range *r)
{
	int rc;

	r->pool = a->pos[0];
	rc = check_pool(c, "POOL", r->pool);
	if (!rc)
		rc = parse_number(c, "START", a->pos[1], 0, UINT32_MAX, &r->start);
	if (!rc)
		rc = parse_number(c, "COUNT", a->pos[2], 1, UINT32_MAX, &r->count);
	if (!rc && (uint64_t)r->start + r->count - 1 > UINT32_MAX)
		rc = usage_error(c, "START+COUNT-1 = %llu is beyond the last page number %u",
				 (unsigned long long)r->start + r->count - 1, UINT32_MAX);
	return rc;
}

/* ------------------------------------------------------------------------
 * status
 */

static void format_uptime(uint64_t s, char *buf, size_t n)
{
	uint64_t d = s / 86400;

	if (d)
		snprintf(buf, n, "%llud %02u:%02u:%02u", (unsigned long long)d,
			 (unsigned)(s % 86400 / 3600), (unsigned)(s % 3600 / 60), (unsigned)(s % 60));
	else
		snprintf(buf, n, "%02u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s % 3600 / 60),
			 (unsigned)(s % 60));
}

static void status_json(struct json *j, const admin_response *resp)
{
	const Pagepool__V1__AdminStatus *st = resp->status_info;

	json_obj(j);
	json_kv_str(j, "version", st->version);
	json_kv_u64(j, "uptime_s", st->uptime_s);
	json_kv_u64(j, "workers", st->workers);
	json_kv_u64(j, "clients", st->clients);
	json_kv_str(j, "drain_mode", st->drain_mode);
	json_key(j, "pools");
	json_arr(j);
	for (size_t i = 0; i < st->n_pools; i++) {
		const Pagepool__V1__PoolCounts *p = st->pools[i];

		json_obj(j);
		json_kv_str(j, "name", p->name);
		json_kv_u64(j, "total", p->total);
		json_kv_u64(j, "free", p->free);
		json_kv_u64(j, "pcp", p->pcp);
		json_kv_u64(j, "allocated", p->allocated);
		json_kv_u64(j, "isolated", p->isolated);
		json_kv_u64(j, "offline", p->offline);
		json_kv_u64(j, "resident_bytes", p->resident_bytes);
		json_end(j);
	}
	json_end(j);
	json_end(j);
}

static int status_text_out(const admin_response *resp)
{
	const Pagepool__V1__AdminStatus *st = resp->status_info;
	static const char *const hdr[] = { "POOL", "TOTAL", "FREE", "PCP", "ALLOCATED",
					   "ISOLATED", "OFFLINE", "RESIDENT_MIB" };
	char up[64], b1[TEXT_MAX], b2[TEXT_MAX];
	struct table t;
	int err;

	table_init(&t, 8, 0x1);
	for (unsigned i = 0; i < 8; i++)
		table_cell(&t, "%s", hdr[i]);
	for (size_t i = 0; i < st->n_pools; i++) {
		const Pagepool__V1__PoolCounts *p = st->pools[i];

		table_cell(&t, "%s", p->name);
		table_cell(&t, "%llu", (unsigned long long)p->total);
		table_cell(&t, "%llu", (unsigned long long)p->free);
		table_cell(&t, "%llu", (unsigned long long)p->pcp);
		table_cell(&t, "%llu", (unsigned long long)p->allocated);
		table_cell(&t, "%llu", (unsigned long long)p->isolated);
		table_cell(&t, "%llu", (unsigned long long)p->offline);
		table_cell(&t, "%.1f", (double)p->resident_bytes / (1024.0 * 1024.0));
	}
	if (t.nomem) {
		table_free(&t);
		return -ENOMEM;
	}
	format_uptime(st->uptime_s, up, sizeof(up));
	printf("version     pagepoold %s\n", printable(st->version, b1, sizeof(b1)));
	printf("uptime      %s (%llu s)\n", up, (unsigned long long)st->uptime_s);
	printf("workers     %u\n", st->workers);
	printf("clients     %u\n", st->clients);
	printf("drain mode  %s\n\n", printable(st->drain_mode, b2, sizeof(b2)));
	err = table_print(&t, "");
	table_free(&t);
	return err;
}

static int cmd_status(struct ctx *c, const struct args *a)
{
	return request_show(c, PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS,
			    &pagepool__v1__admin_status_req__descriptor,
			    PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATUS_INFO, status_json,
			    status_text_out);
}

/* ------------------------------------------------------------------------
 * stats and pcp
 */

/* The PcpStats counters: one list for the sums, the JSON keys and the
 * table headers. */
#define PCP_COUNTERS(X)				\
	X(alloc_pages, "ALLOC")			\
	X(free_pages, "FREE")			\
	X(pcp_hits, "PCP_HITS")			\
	X(refills, "REFILLS")			\
	X(bulk_frees, "BULK_FREES")		\
	X(buddy_direct, "BUDDY_DIRECT")		\
	X(nowait_fail, "NOWAIT_FAIL")		\
	X(self_drains, "SELF_DRAINS")		\
	X(drains, "DRAINS")			\
	X(drained_pages, "DRAINED_PAGES")

#define X(field, hdr) + 1
enum { PCP_NCOUNTERS = 0 PCP_COUNTERS(X) };
#undef X

struct pcp_sum {
#define X(field, hdr) uint64_t field;
	PCP_COUNTERS(X)
#undef X
};

struct pool_agg {
	const char *name;
	unsigned npcps;
	struct pcp_sum sum;
};

struct worker_agg {
	uint32_t worker;
	int32_t cpu;
	const Pagepool__V1__WorkerStats *ws;	/* NULL: only seen in pcps */
	struct pcp_sum sum;
};

/* Counters wrap at 2^64 in the daemon; a sum saturates rather than lie small. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static void pcp_sum_add(struct pcp_sum *s, const Pagepool__V1__PcpStats *p)
{
#define X(field, hdr) s->field = sat_add(s->field, p->field);
	PCP_COUNTERS(X)
#undef X
}

static void pcp_sum_json(struct json *j, const struct pcp_sum *s)
{
#define X(field, hdr) json_kv_u64(j, #field, s->field);
	PCP_COUNTERS(X)
#undef X
}

static void pcp_sum_cells(struct table *t, const struct pcp_sum *s)
{
#define X(field, hdr) table_cell(t, "%llu", (unsigned long long)s->field);
	PCP_COUNTERS(X)
#undef X
}

static void pcp_sum_headers(struct table *t)
{
#define X(field, hdr) table_cell(t, "%s", hdr);
	PCP_COUNTERS(X)
#undef X
}

static struct worker_agg *worker_find(struct worker_agg *w, size_t *n, uint32_t worker,
				      int32_t cpu)
{
	for (size_t i = 0; i < *n; i++)
		if (w[i].worker == worker)
			return &w[i];
	w[*n] = (struct worker_agg){ .worker = worker, .cpu = cpu };
	return &w[(*n)++];
}

static int worker_cmp(const void *x, const void *y)
{
	const struct worker_agg *a = x, *b = y;

	return a->worker < b->worker ? -1 : a->worker > b->worker;
}

struct stats_agg {
	struct pool_agg *pools;
	size_t npools;
	struct worker_agg *workers;
	size_t nworkers;
};

static void stats_agg_free(struct stats_agg *g)
{
	free(g->pools);
	free(g->workers);
}

/* Sum the pcps per pool (in order of first appearance) and per worker (in
 * worker order, with its WorkerStats).  0 or -ENOMEM. */
static int stats_aggregate(const Pagepool__V1__AdminStats *st, struct stats_agg *g)
{
	*g = (struct stats_agg){ 0 };
	g->pools = calloc(st->n_pcps + 1, sizeof(*g->pools));
	g->workers = calloc(st->n_pcps + st->n_workers + 1, sizeof(*g->workers));
	if (!g->pools || !g->workers) {
		stats_agg_free(g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < st->n_workers; i++) {
		const Pagepool__V1__WorkerStats *ws = st->workers[i];

		worker_find(g->workers, &g->nworkers, ws->worker, ws->cpu)->ws = ws;
	}
	for (size_t i = 0; i < st->n_pcps; i++) {
		const Pagepool__V1__PcpStats *p = st->pcps[i];
		size_t k;

		for (k = 0; k < g->npools; k++)
			if (strcmp(g->pools[k].name, p->pool) == 0)
				break;
		if (k == g->npools)
			g->pools[g->npools++].name = p->pool;
		g->pools[k].npcps++;
		pcp_sum_add(&g->pools[k].sum, p);
		pcp_sum_add(&worker_find(g->workers, &g->nworkers, p->worker, p->cpu)->sum, p);
	}
	qsort(g->workers, g->nworkers, sizeof(*g->workers), worker_cmp);
	return 0;
}

static void pcp_entry_json(struct json *j, const Pagepool__V1__PcpStats *p, bool counters)
{
	json_obj(j);
	if (counters)
		json_kv_str(j, "pool", p->pool);
	json_kv_u64(j, "worker", p->worker);
	json_kv_i64(j, "cpu", p->cpu);
	json_kv_i64(j, "count", p->count);
	json_kv_i64(j, "high", p->high);
	json_kv_i64(j, "batch", p->batch);
	if (counters) {
#define X(field, hdr) json_kv_u64(j, #field, p->field);
		PCP_COUNTERS(X)
#undef X
	}
	json_end(j);
}

static void stats_json(struct json *j, const Pagepool__V1__AdminStats *st,
		       const struct stats_agg *g)
{
	json_obj(j);
	json_key(j, "pools");
	json_arr(j);
	for (size_t i = 0; i < g->npools; i++) {
		json_obj(j);
		json_kv_str(j, "name", g->pools[i].name);
		json_kv_u64(j, "pcps", g->pools[i].npcps);
		pcp_sum_json(j, &g->pools[i].sum);
		json_end(j);
	}
	json_end(j);
	json_key(j, "workers");
	json_arr(j);
	for (size_t i = 0; i < g->nworkers; i++) {
		const struct worker_agg *w = &g->workers[i];

		json_obj(j);
		json_kv_u64(j, "worker", w->worker);
		json_kv_i64(j, "cpu", w->cpu);
		json_key(j, "connections");
		w->ws ? json_u64(j, w->ws->connections) : json_null(j);
		json_key(j, "wakeups");
		w->ws ? json_u64(j, w->ws->wakeups) : json_null(j);
		json_key(j, "loops");
		w->ws ? json_u64(j, w->ws->loops) : json_null(j);
		pcp_sum_json(j, &w->sum);
		json_end(j);
	}
	json_end(j);
	json_key(j, "pcps");
	json_arr(j);
	for (size_t i = 0; i < st->n_pcps; i++)
		pcp_entry_json(j, st->pcps[i], true);
	json_end(j);
	json_end(j);
}

static void cell_cpu(struct table *t, int32_t cpu)
{
	if (cpu < 0)
		table_cell(t, "-");
	else
		table_cell(t, "%d", cpu);
}

static int stats_text_out(const struct stats_agg *g)
{
	struct table tp, tw;
	int err;

	table_init(&tp, 1 + PCP_NCOUNTERS, 0x1);
	table_cell(&tp, "POOL");
	pcp_sum_headers(&tp);
	for (size_t i = 0; i < g->npools; i++) {
		table_cell(&tp, "%s", g->pools[i].name);
		pcp_sum_cells(&tp, &g->pools[i].sum);
	}
	table_init(&tw, 5 + PCP_NCOUNTERS, 0);
	table_cell(&tw, "WORKER");
	table_cell(&tw, "CPU");
	table_cell(&tw, "CONNECTIONS");
	table_cell(&tw, "WAKEUPS");
	table_cell(&tw, "LOOPS");
	pcp_sum_headers(&tw);
	for (size_t i = 0; i < g->nworkers; i++) {
		const struct worker_agg *w = &g->workers[i];

		table_cell(&tw, "%u", w->worker);
		cell_cpu(&tw, w->cpu);
		if (w->ws) {
			table_cell(&tw, "%u", w->ws->connections);
			table_cell(&tw, "%llu", (unsigned long long)w->ws->wakeups);
			table_cell(&tw, "%llu", (unsigned long long)w->ws->loops);
		} else {
			table_cell(&tw, "-");
			table_cell(&tw, "-");
			table_cell(&tw, "-");
		}
		pcp_sum_cells(&tw, &w->sum);
	}
	err = tp.nomem || tw.nomem ? -ENOMEM : 0;
	if (!err) {
		table_print(&tp, "");
		putchar('\n');
		table_print(&tw, "");
	}
	table_free(&tp);
	table_free(&tw);
	return err;
}

/* Request the stats; EX_OK with *out, or the exit status reported. */
static int stats_fetch(struct ctx *c, admin_response **out)
{

	return request_empty(c, PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATS,
			   &pagepool__v1__admin_stats_req__descriptor,
			   PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATS, out);
}

static int cmd_stats(struct ctx *c, const struct args *a)
{
	struct stats_agg g;
	admin_response *resp;
	int rc, err;

	rc = stats_fetch(c, &resp);
	if (rc)
		return rc;
	err = stats_aggregate(resp->stats, &g);
	if (!err) {
		if (c->json)
			stats_json(&c->j, resp->stats, &g);
		else
			err = stats_text_out(&g);
		stats_agg_free(&g);
	}
	admin_response_free(resp);
	return err ? report_errno(c, err, NULL) : EX_OK;
}

/* Is pcps[i] the first entry of its pool? */
static bool pcp_pool_first(const Pagepool__V1__AdminStats *st, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (strcmp(st->pcps[k]->pool, st->pcps[i]->pool) == 0)
			return false;
	return true;
}

static void pcp_json(struct json *j, const Pagepool__V1__AdminStats *st)
{
	json_obj(j);
	json_key(j, "pools");
	json_arr(j);
	for (size_t i = 0; i < st->n_pcps; i++) {
		if (!pcp_pool_first(st, i))
			continue;
		json_obj(j);
		json_kv_str(j, "name", st->pcps[i]->pool);
		json_key(j, "pagesets");
		json_arr(j);
		for (size_t k = i; k < st->n_pcps; k++)
			if (strcmp(st->pcps[k]->pool, st->pcps[i]->pool) == 0)
				pcp_entry_json(j, st->pcps[k], false);
		json_end(j);
		json_end(j);
	}
	json_end(j);
	json_end(j);
}

/* One pool's pagesets, /proc/zoneinfo style: "cpu: N  count: X  high: Y ...". */
static int pcp_text_pool(const Pagepool__V1__AdminStats *st, size_t first)
{
	const char *pool = st->pcps[first]->pool;
	char buf[TEXT_MAX];
	struct table t;
	int err;

	table_init(&t, 5, 0);
	table_cell(&t, "WORKER");
	table_cell(&t, "CPU");
	table_cell(&t, "COUNT");
	table_cell(&t, "HIGH");
	table_cell(&t, "BATCH");
	for (size_t k = first; k < st->n_pcps; k++) {
		const Pagepool__V1__PcpStats *p = st->pcps[k];

		if (strcmp(p->pool, pool) != 0)
			continue;
		table_cell(&t, "%u", p->worker);
		cell_cpu(&t, p->cpu);
		table_cell(&t, "%d", p->count);
		table_cell(&t, "%d", p->high);
		table_cell(&t, "%d", p->batch);
	}
	if (t.nomem) {
		table_free(&t);
		return -ENOMEM;
	}
	printf("Pool %s\n  pagesets\n", printable(pool, buf, sizeof(buf)));
	err = table_print(&t, "    ");
	table_free(&t);
	return err;
}

static int cmd_pcp(struct ctx *c, const struct args *a)
{
	admin_response *resp;
	int rc, err = 0;

	rc = stats_fetch(c, &resp);
	if (rc)
		return rc;
	if (c->json) {
		pcp_json(&c->j, resp->stats);
	} else {
		for (size_t i = 0; i < resp->stats->n_pcps && !err; i++)
			if (pcp_pool_first(resp->stats, i))
				err = pcp_text_pool(resp->stats, i);
	}
	admin_response_free(resp);
	return err ? report_errno(c, err, NULL) : EX_OK;
}

/* ------------------------------------------------------------------------
 * buddyinfo and clients
 */

static void buddyinfo_json(struct json *j, const Pagepool__V1__AdminBuddyinfo *bi)
{
	json_obj(j);
	json_key(j, "pools");
	json_arr(j);
	for (size_t i = 0; i < bi->n_pools; i++) {
		const Pagepool__V1__PoolBuddy *p = bi->pools[i];

		json_obj(j);
		json_kv_str(j, "name", p->name);
		json_key(j, "free_blocks");
		json_arr(j);
		for (size_t o = 0; o < p->n_free_blocks; o++)
			json_u64(j, p->free_blocks[o]);
		json_end(j);
		json_end(j);
	}
	json_end(j);
	json_end(j);
}

/* "Pool NAME  n0 n1 ... n10", names padded and counts right-aligned in
 * columns at least 6 wide, as /proc/buddyinfo prints them. */
static void buddyinfo_text(const Pagepool__V1__AdminBuddyinfo *bi)
{
	int w[ORDERS_MAX], namew = 0;
	char buf[TEXT_MAX];

	for (size_t o = 0; o < ORDERS_MAX; o++)
		w[o] = 6;
	for (size_t i = 0; i < bi->n_pools; i++) {
		const Pagepool__V1__PoolBuddy *p = bi->pools[i];
		int len = (int)strlen(printable(p->name, buf, sizeof(buf)));

		namew = len > namew ? len : namew;
		for (size_t o = 0; o < p->n_free_blocks; o++) {
			len = snprintf(buf, sizeof(buf), "%llu",
				       (unsigned long long)p->free_blocks[o]);
			w[o] = len > w[o] ? len : w[o];
		}
	}
	for (size_t i = 0; i < bi->n_pools; i++) {
		const Pagepool__V1__PoolBuddy *p = bi->pools[i];

		printf("Pool %-*s", namew, printable(p->name, buf, sizeof(buf)));
		for (size_t o = 0; o < p->n_free_blocks; o++)
			printf(" %*llu", w[o], (unsigned long long)p->free_blocks[o]);
		putchar('\n');
	}
}

static int cmd_buddyinfo(struct ctx *c, const struct args *a)
{
	const Pagepool__V1__AdminBuddyinfo *bi;
	admin_response *resp;
	char why[TEXT_MAX], name[64];
	int rc;

	rc = request_empty(c, PAGEPOOL__V1__ADMIN_REQUEST__BODY_BUDDYINFO,
			   &pagepool__v1__admin_buddyinfo_req__descriptor,
			   PAGEPOOL__V1__ADMIN_RESPONSE__BODY_BUDDYINFO, &resp);
	if (rc)
		return rc;
	bi = resp->buddyinfo;
	for (size_t i = 0; i < bi->n_pools; i++) {
		if (bi->pools[i]->n_free_blocks > ORDERS_MAX) {
			snprintf(why, sizeof(why), "buddyinfo: %zu orders in pool '%s'",
				 bi->pools[i]->n_free_blocks,
				 printable(bi->pools[i]->name, name, sizeof(name)));
			admin_response_free(resp);
			return report_errno(c, -EPROTO, why);
		}
	}
	if (c->json)
		buddyinfo_json(&c->j, bi);
	else
		buddyinfo_text(bi);
	admin_response_free(resp);
	return EX_OK;
}

static void clients_json(struct json *j, const admin_response *resp)
{
	const Pagepool__V1__AdminClients *cl = resp->clients;

	json_obj(j);
	json_key(j, "clients");
	json_arr(j);
	for (size_t i = 0; i < cl->n_clients; i++) {
		const Pagepool__V1__ClientInfo *ci = cl->clients[i];

		json_obj(j);
		json_kv_u64(j, "id", ci->id);
		json_kv_i64(j, "pid", ci->pid);
		json_kv_u64(j, "uid", ci->uid);
		json_kv_u64(j, "worker", ci->worker);
		json_kv_pool(j, ci->pool);
		json_kv_u64(j, "pages", ci->pages);
		json_end(j);
	}
	json_end(j);
	json_end(j);
}

static int clients_text(const admin_response *resp)
{
	const Pagepool__V1__AdminClients *cl = resp->clients;
	static const char *const hdr[] = { "ID", "PID", "UID", "WORKER", "POOL", "PAGES" };
	struct table t;
	int err;

	table_init(&t, 6, 1u << 4);
	for (unsigned i = 0; i < 6; i++)
		table_cell(&t, "%s", hdr[i]);
	for (size_t i = 0; i < cl->n_clients; i++) {
		const Pagepool__V1__ClientInfo *ci = cl->clients[i];

		table_cell(&t, "%llu", (unsigned long long)ci->id);
		table_cell(&t, "%d", ci->pid);
		table_cell(&t, "%u", ci->uid);
		table_cell(&t, "%u", ci->worker);
		table_cell(&t, "%s", ci->pool && ci->pool[0] ? ci->pool : "-");
		table_cell(&t, "%llu", (unsigned long long)ci->pages);
	}
	err = table_print(&t, "");
	table_free(&t);
	return err;
}

static int cmd_clients(struct ctx *c, const struct args *a)
{
	return request_show(c, PAGEPOOL__V1__ADMIN_REQUEST__BODY_CLIENTS,
			    &pagepool__v1__admin_clients_req__descriptor,
			    PAGEPOOL__V1__ADMIN_RESPONSE__BODY_CLIENTS, clients_json, clients_text);
}

/* ------------------------------------------------------------------------
 * drain, trim, set-pcp, online
 */

static int cmd_drain(struct ctx *c, const struct args *a)
{
	Pagepool__V1__AdminDrainReq body = PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	const Pagepool__V1__AdminDrained *d;
	admin_response *resp;
	char buf[TEXT_MAX];
	int rc;

	if (a->mode && strcmp(a->mode, "rcu") != 0 && strcmp(a->mode, "workqueue") != 0 &&
	    strcmp(a->mode, "spinlock") != 0)
		return usage_error(c, "--mode: '%s' is not rcu, workqueue or spinlock", a->mode);
	body.pool = (char *)(a->pool ? a->pool : "");
	body.mode = (char *)(a->mode ? a->mode : "");
	body.force = a->force;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_DRAIN;
	req.drain = &body;
	rc = request(c, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_DRAINED, &resp);
	if (rc)
		return rc;
	d = resp->drained;
	if (c->json) {
		json_obj(&c->j);
		json_kv_pool(&c->j, a->pool);
		json_kv_u64(&c->j, "pages", d->pages);
		json_kv_u64(&c->j, "usec", d->usec);
		json_kv_str(&c->j, "mode", d->mode);
		json_end(&c->j);
	} else {
		printf("drained %llu pages in %llu us (mode %s)\n", (unsigned long long)d->pages,
		       (unsigned long long)d->usec, printable(d->mode, buf, sizeof(buf)));
	}
	admin_response_free(resp);
	return EX_OK;
}

static int cmd_trim(struct ctx *c, const struct args *a)
{
	Pagepool__V1__AdminTrimReq body = PAGEPOOL__V1__ADMIN_TRIM_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp;
	char buf[TEXT_MAX];
	int rc;

	body.pool = (char *)(a->pool ? a->pool : "");
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_TRIM;
	req.trim = &body;
	rc = request(c, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_TRIMMED, &resp);
	if (rc)
		return rc;
	if (c->json) {
		json_obj(&c->j);
		json_kv_pool(&c->j, a->pool);
		json_kv_u64(&c->j, "pages", resp->trimmed->pages);
		json_end(&c->j);
	} else {
		printf("trim: %llu pages returned to the OS (%s)\n",
		       (unsigned long long)resp->trimmed->pages,
		       a->pool ? printable(a->pool, buf, sizeof(buf)) : "every pool");
	}
	admin_response_free(resp);
	return EX_OK;
}

static int cmd_set_pcp(struct ctx *c, const struct args *a)
{
	Pagepool__V1__AdminSetPcpReq body = PAGEPOOL__V1__ADMIN_SET_PCP_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp;
	char buf[TEXT_MAX];
	int rc;

	if (!a->high_arg || !a->batch_arg)
		return usage_error(c, "--high and --batch are both required");
	body.pool = (char *)(a->pool ? a->pool : "");
	body.high = a->high;
	body.batch = a->batch;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_SET_PCP;
	req.set_pcp = &body;
	rc = request(c, &req, 0, &resp);
	if (rc)
		return rc;
	if (c->json) {
		json_obj(&c->j);
		json_kv_pool(&c->j, a->pool);
		json_kv_u64(&c->j, "high", a->high);
		json_kv_u64(&c->j, "batch", a->batch);
		json_end(&c->j);
	} else {
		printf("set-pcp: %s%s: high %u batch %u\n", a->pool ? "pool " : "every pool",
		       a->pool ? printable(a->pool, buf, sizeof(buf)) : "", a->high, a->batch);
	}
	admin_response_free(resp);
	return EX_OK;
}

/* JSON or text for a range that is now offline / online. */
static void range_done(struct ctx *c, const struct range *r, const char *state,
		       unsigned attempts)
{
	char buf[TEXT_MAX];

	if (c->json) {
		json_obj(&c->j);
		json_kv_str(&c->j, "pool", r->pool);
		json_kv_u64(&c->j, "start", r->start);
		json_kv_u64(&c->j, "count", r->count);
		json_kv_str(&c->j, "state", state);
		if (attempts)
			json_kv_u64(&c->j, "attempts", attempts);
		json_end(&c->j);
	} else {
		printf("%s: pool %s pages %u..%u %s\n", cmd_name(c),
		       printable(r->pool, buf, sizeof(buf)), r->start,
		       (uint32_t)(r->start + r->count - 1), state);
	}
}

static int cmd_online(struct ctx *c, const struct args *a)
{
	Pagepool__V1__AdminOnlineReq body = PAGEPOOL__V1__ADMIN_ONLINE_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp;
	struct range r;
	int rc;

	rc = parse_range(c, a, &r);
	if (rc)
		return rc;
	body.pool = (char *)r.pool;
	body.start = r.start;
	body.count = r.count;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_ONLINE;
	req.online = &body;
	rc = request(c, &req, 0, &resp);
	if (rc)
		return rc;
	range_done(c, &r, "online", 0);
	admin_response_free(resp);
	return EX_OK;
}

/* ------------------------------------------------------------------------
 * verify and reload
 */

static void verify_json(struct json *j, const Pagepool__V1__AdminVerified *v)
{
	json_obj(j);
	json_key(j, "pools");
	json_arr(j);
	for (size_t i = 0; i < v->n_pools; i++) {
		const Pagepool__V1__PoolVerify *p = v->pools[i];

		json_obj(j);
		json_kv_str(j, "name", p->name);
		json_kv_bool(j, "ok", p->ok);
		json_key(j, "message");
		if (p->message && p->message[0])
			json_str(j, p->message);
		else
			json_null(j);
		json_end(j);
	}
	json_end(j);
	json_end(j);
}

/* The result is printed (text or JSON) whether or not a pool is broken; a
 * broken pool makes the exit status EX_DATAERR, with a summary on stderr. */
static int cmd_verify(struct ctx *c, const struct args *a)
{
	Pagepool__V1__AdminVerifyReq body = PAGEPOOL__V1__ADMIN_VERIFY_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	const Pagepool__V1__AdminVerified *v;
	admin_response *resp;
	char name[TEXT_MAX], msg[TEXT_MAX];
	size_t broken = 0;
	int rc;

	body.pool = (char *)(a->pool ? a->pool : "");
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_VERIFY;
	req.verify = &body;
	rc = request(c, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_VERIFIED, &resp);
	if (rc)
		return rc;
	v = resp->verified;
	for (size_t i = 0; i < v->n_pools; i++)
		broken += !v->pools[i]->ok;
	if (c->json) {
		verify_json(&c->j, v);
	} else {
		for (size_t i = 0; i < v->n_pools; i++) {
			const Pagepool__V1__PoolVerify *p = v->pools[i];

			printable(p->name, name, sizeof(name));
			if (p->ok)
				printf("pool %s: ok\n", name);
			else
				printf("pool %s: BROKEN: %s\n", name,
				       p->message && p->message[0] ?
				       printable(p->message, msg, sizeof(msg)) : "(no details)");
		}
	}
	if (broken) {
		msg_prefix(c);
		fprintf(stderr, "%zu of %zu pools broken\n", broken, v->n_pools);
	}
	admin_response_free(resp);
	return broken ? EX_DATAERR : EX_OK;
}

/* A refused reload: the daemon's reasons name the file and the settings,
 * and may take several lines; each line is shown on its own, made printable
 * and cut at RELOAD_LINE_MAX rather than TEXT_MAX.  The JSON error carries
 * the message as sent. */
static int reload_refused(struct ctx *c, const admin_response *resp)
{
	const char *e = resp->error;
	char line[RELOAD_LINE_MAX + 1], buf[RELOAD_LINE_MAX];
	int status = (int)resp->status, rc = exit_for_status(status);
	unsigned shown = 0;

	if (!e || !e[strspn(e, "\n")])
		return report_status(c, resp);
	while (*e && shown < RELOAD_LINES_SHOWN) {
		size_t n = strcspn(e, "\n"), keep = n < RELOAD_LINE_MAX ? n : RELOAD_LINE_MAX;

		/* One byte more than printable keeps, so that it marks the cut. */
		memcpy(line, e, keep);
		line[keep] = '\0';
		e += n + (e[n] == '\n');
		if (n == 0)
			continue;
		msg_prefix(c);
		fprintf(stderr, "%s\n", printable(line, buf, sizeof(buf)));
		shown++;
	}
	if (e[strspn(e, "\n")]) {
		msg_prefix(c);
		fputs("...\n", stderr);
	}
	if (c->json) {
		json_error_open(c, "daemon", rc, wire_status_name(status), status, resp->error);
		json_error_close(c);
	}
	return rc;
}

static int cmd_reload(struct ctx *c, const struct args *a)
{
	Pagepool__V1__AdminReloadReq body = PAGEPOOL__V1__ADMIN_RELOAD_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	const Pagepool__V1__AdminReloaded *r;
	admin_response *resp;
	char buf[TEXT_MAX];
	int rc;

	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_RELOAD;
	req.reload = &body;
	rc = request_or(c, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_RELOADED, &resp,
			reload_refused);
	if (rc)
		return rc;
	r = resp->reloaded;
	if (c->json) {
		json_obj(&c->j);
		json_key(&c->j, "changes");
		json_arr(&c->j);
		for (size_t i = 0; i < r->n_changes; i++)
			json_str(&c->j, r->changes[i]);
		json_end(&c->j);
		json_end(&c->j);
	} else if (r->n_changes == 0) {
		puts("reloaded: no changes");
	} else {
		for (size_t i = 0; i < r->n_changes; i++)
			printf("%s\n", printable(r->changes[i], buf, sizeof(buf)));
	}
	admin_response_free(resp);
	return EX_OK;
}

/*
 * config-check FILE: the daemon's own parser and validation, locally; no
 * daemon is asked.  Every problem is one "FILE:LINE: ..." line.
 */
static int cmd_config_check(struct ctx *c, const struct args *a)
{
	static struct config cfg;
	static char err[16384];
	const char *path = a->pos[0];
	int r = config_load(path, &cfg, err, sizeof(err));
	char *line, *save = NULL;

	if (r < 0 && !err[0])
		snprintf(err, sizeof(err), "%s: %s\n", path, strerror(-r));
	if (c->json) {
		json_obj(&c->j);
		json_kv_str(&c->j, "file", path);
		json_kv_bool(&c->j, "ok", r == 0);
		json_key(&c->j, "errors");
		json_arr(&c->j);
		for (line = strtok_r(err, "\n", &save); r < 0 && line;
		     line = strtok_r(NULL, "\n", &save))
			json_str(&c->j, line);
		json_end(&c->j);
		json_end(&c->j);
	} else if (r == 0) {
		printf("%s: ok\n", path);
	} else {
		fputs(err, stderr);
	}
	return r == 0 ? EX_OK : EX_DATAERR;
}

/* ------------------------------------------------------------------------
 * offline: retry while the daemon answers EBUSY, up to a deadline.
 */

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* SIGINT/SIGTERM while polling: say that the range stays isolated before
 * dying of the signal.  No SA_RESTART, so a pause ends at once. */
static int offline_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static int now_ms(uint64_t *ms)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return -errno;
	*ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	return 0;
}

/* Pause ms milliseconds; false when a stop signal arrived. */
static bool pause_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (!stop_signal && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return !stop_signal;
}

static void holders_print(const Pagepool__V1__AdminOffline *off, size_t max)
{
	uint64_t listed = 0;
	size_t n = off ? off->n_holders : 0;

	for (size_t i = 0; i < n; i++) {
		const Pagepool__V1__Holder *h = off->holders[i];

		listed = sat_add(listed, h->pages);
		if (i >= max)
			continue;
		if (h->client_id)
			fprintf(stderr, "  client %llu (pid %d, uid %u): %llu pages\n",
				(unsigned long long)h->client_id, h->pid, h->uid,
				(unsigned long long)h->pages);
		else
			fprintf(stderr, "  a client that is gone: %llu pages\n",
				(unsigned long long)h->pages);
	}
	if (n > max)
		fprintf(stderr, "  ... and %zu more holders\n", n - max);
	if (off && listed < off->busy_pages)
		fprintf(stderr, "  (%llu busy pages not attributed to a listed holder)\n",
			(unsigned long long)(off->busy_pages - listed));
}

static void offline_holders_json(struct ctx *c, const admin_response *resp)
{
	const Pagepool__V1__AdminOffline *off =
		resp->body_case == PAGEPOOL__V1__ADMIN_RESPONSE__BODY_OFFLINE ? resp->offline : NULL;
	struct json *j = &c->j;

	json_key(j, "busy_pages");
	off ? json_u64(j, off->busy_pages) : json_null(j);
	json_key(j, "holders");
	json_arr(j);
	for (size_t i = 0; off && i < off->n_holders; i++) {
		const Pagepool__V1__Holder *h = off->holders[i];

		json_obj(j);
		json_kv_u64(j, "client_id", h->client_id);
		json_kv_i64(j, "pid", h->pid);
		json_kv_u64(j, "uid", h->uid);
		json_kv_u64(j, "pages", h->pages);
		json_end(j);
	}
	json_end(j);
}

/* Give up on a busy range: who still holds it, and how to go on or back. */
static int offline_give_up(struct ctx *c, const struct range *r, const admin_response *resp,
			   const char *why)
{
	const Pagepool__V1__AdminOffline *off =
		resp->body_case == PAGEPOOL__V1__ADMIN_RESPONSE__BODY_OFFLINE ? resp->offline : NULL;
	char buf[TEXT_MAX];
	int rc;

	rc = report_status_more(c, resp, offline_holders_json);
	printable(r->pool, buf, sizeof(buf));
	msg_prefix(c);
	fprintf(stderr, "%s: %llu pages of pool %s %u..%u still held%s\n", why,
		off ? (unsigned long long)off->busy_pages : 0ULL, buf, r->start,
		(uint32_t)(r->start + r->count - 1), off && off->n_holders ? " by:" : "");
	holders_print(off, SIZE_MAX);
	msg_prefix(c);
	fprintf(stderr, "the range stays isolated: run 'pagepoolctl offline %s %u %u' again "
		"to go on, or 'pagepoolctl online %s %u %u' to give it up\n",
		buf, r->start, r->count, buf, r->start, r->count);
	return rc;
}

/* Progress while busy: printed when the number of busy pages changes. */
static void offline_progress(const struct ctx *c, const struct range *r,
			     const admin_response *resp, uint64_t *last_busy,
			     uint64_t waited_ms, uint32_t timeout_s)
{
	const Pagepool__V1__AdminOffline *off =
		resp->body_case == PAGEPOOL__V1__ADMIN_RESPONSE__BODY_OFFLINE ? resp->offline : NULL;
	uint64_t busy = off ? off->busy_pages : UINT64_MAX;
	char buf[TEXT_MAX];

	if (busy == *last_busy)
		return;
	*last_busy = busy;
	msg_prefix(c);
	fprintf(stderr, "pool %s %u..%u: %llu pages busy after %llu.%01llu s, waiting up to %u s%s\n",
		printable(r->pool, buf, sizeof(buf)), r->start, (uint32_t)(r->start + r->count - 1),
		off ? (unsigned long long)busy : 0ULL, (unsigned long long)(waited_ms / 1000),
		(unsigned long long)(waited_ms % 1000 / 100), timeout_s,
		off && off->n_holders ? "; held by:" : "");
	holders_print(off, HOLDERS_SHOWN);
}

/* Die of the stop signal after saying what state the range is left in
 * (should the signal not kill, 128 + its number is the exit status). */
static int offline_interrupted(struct ctx *c, const struct range *r)
{
	int sig = stop_signal;
	char buf[TEXT_MAX];

	printable(r->pool, buf, sizeof(buf));
	msg_prefix(c);
	fprintf(stderr, "interrupted: pool %s pages %u..%u stay isolated; run 'pagepoolctl "
		"online %s %u %u' to give them up\n", buf, r->start,
		(uint32_t)(r->start + r->count - 1), buf, r->start, r->count);
	if (c->json) {
		json_error_open(c, "pagepoolctl", 128 + sig, NULL, EINTR, "interrupted");
		json_error_close(c);
	}
	fflush(stdout);
	signal(sig, SIG_DFL);
	raise(sig);
	return 128 + sig;
}

static int cmd_offline(struct ctx *c, const struct args *a)
{
	Pagepool__V1__AdminOfflineReq body = PAGEPOOL__V1__ADMIN_OFFLINE_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp = NULL;
	uint64_t t0 = 0, now = 0, last_busy = UINT64_MAX - 1;
	struct admin adm = { .fd = -1 };
	struct range r;
	unsigned attempt;
	int rc, err;

	rc = parse_range(c, a, &r);
	if (rc)
		return rc;
	body.pool = (char *)r.pool;
	body.start = r.start;
	body.count = r.count;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_OFFLINE;
	req.offline = &body;
	err = now_ms(&t0);
	if (!err)
		err = offline_catch_signals();
	if (!err)
		err = admin_open(&adm, c->socket);
	for (attempt = 1; !err; attempt++) {
		err = admin_call(&adm, &req, &resp);
		if (!err)
			err = now_ms(&now);
		if (err)
			break;
		if (resp->status == PAGEPOOL__V1__STATUS__OK) {
			range_done(c, &r, "offline", attempt);
			break;
		}
		if (resp->status != PAGEPOOL__V1__STATUS__EBUSY) {
			rc = report_status(c, resp);
			break;
		}
		if (a->timeout_s == 0 || now - t0 >= (uint64_t)a->timeout_s * 1000) {
			rc = offline_give_up(c, &r, resp, a->timeout_s ? "timed out" : "busy");
			break;
		}
		offline_progress(c, &r, resp, &last_busy, now - t0, a->timeout_s);
		admin_response_free(resp);
		resp = NULL;
		if (!pause_ms(POLL_MS)) {
			rc = offline_interrupted(c, &r);
			break;
		}
	}
	if (err)
		rc = report_errno(c, err, adm.why);
	admin_response_free(resp);
	admin_close(&adm);
	return rc;
}

/* ------------------------------------------------------------------------
 * Usage text, option parsing, main.
 */

static const struct command commands[] = {
	{ "status", "",
	  "Show the daemon: version, uptime, worker threads, connected clients and\n"
	  "default drain mode; then one line per pool with its pages: TOTAL, FREE\n"
	  "(in the buddy allocator), PCP (cached in the workers' pcplists),\n"
	  "ALLOCATED (held by clients), ISOLATED (being taken offline), OFFLINE\n"
	  "(memory returned to the OS) and RESIDENT_MIB (arena memory backed by RAM).\n"
	  "JSON: {version, uptime_s, workers, clients, drain_mode, pools: [{name,\n"
	  "total, free, pcp, allocated, isolated, offline, resident_bytes}]}.",
	  0, 0, cmd_status },
	{ "stats", "",
	  "Show the allocator counters, summed per pool and per worker: pages\n"
	  "allocated (ALLOC) and freed (FREE), allocations served from the pcplist\n"
	  "(PCP_HITS), refills from the buddy allocator, bulk frees back to it,\n"
	  "allocations that went to the buddy directly (BUDDY_DIRECT), NOWAIT\n"
	  "failures, self drains, drains (remote or on request) and pages drained.\n"
	  "Per worker also its CPU, connections, eventfd wake-ups and event-loop\n"
	  "callbacks (LOOPS).  JSON: {pools: [...], workers: [...], pcps: [every raw\n"
	  "per-pool, per-worker entry]}.",
	  0, 0, cmd_stats },
	{ "buddyinfo", "",
	  "Show the free blocks of every pool by order, in the shape of\n"
	  "/proc/buddyinfo: one line per pool, 'Pool NAME' then the number of free\n"
	  "blocks of order 0, 1, ... 10 (an order-n block is 2^n pages).\n"
	  "JSON: {pools: [{name, free_blocks: [11 numbers]}]}.",
	  0, 0, cmd_buddyinfo },
	{ "pcp", "",
	  "Show every pool's pagesets, in the spirit of /proc/zoneinfo: per worker\n"
	  "its CPU ('-' when not pinned), the pages cached now (COUNT), the high\n"
	  "watermark (HIGH) and the batch size (BATCH).\n"
	  "JSON: {pools: [{name, pagesets: [{worker, cpu, count, high, batch}]}]}.",
	  0, 0, cmd_pcp },
	{ "clients", "",
	  "List the connected clients: ID (as pp_info() reports it), PID and UID of\n"
	  "the peer, the WORKER serving it, the POOL it joined ('-' before its\n"
	  "hello) and the PAGES it holds.\n"
	  "JSON: {clients: [{id, pid, uid, worker, pool, pages}]} (pool null before\n"
	  "hello).",
	  0, 0, cmd_clients },
	{ "drain", "[--pool POOL] [--mode rcu|workqueue|spinlock] [--force]",
	  "Return the pages cached in the workers' pcplists of POOL (default: every\n"
	  "pool) to the buddy allocator and print 'drained N pages in X us (mode M)'.\n"
	  "--mode picks how (default: the daemon's drain_mode); --force also drains\n"
	  "pcplists that look empty.  JSON: {pool, pages, usec, mode}.",
	  O_POOL | O_MODE | O_FORCE, 0, cmd_drain },
	{ "offline", "POOL START COUNT [--timeout SECONDS]",
	  "Take pages START..START+COUNT-1 of POOL offline: their memory is returned\n"
	  "to the OS and they are never handed out until brought online.  START and\n"
	  "COUNT are page numbers (decimal), whole max-order blocks: multiples of\n"
	  "1024.  While clients hold pages in the range the daemon answers busy: the\n"
	  "range stays isolated (none of its pages is handed out again and the pool's\n"
	  "pcplists are off) and pagepoolctl asks again every 150 ms, showing on\n"
	  "stderr the busy pages and their holders (client id, pid, uid, pages),\n"
	  "until the range is offline or SECONDS have passed (default 10, at most\n"
	  "86400; 0: ask once).  Then it lists the holders still holding pages in the\n"
	  "range and exits 75; the range stays isolated: run offline again to go on,\n"
	  "or online to give up.  On success prints 'offline: pool POOL pages A..B\n"
	  "offline'.  JSON: {pool, start, count, state, attempts}; on timeout the\n"
	  "error document carries busy_pages and holders.",
	  O_TIMEOUT, 3, cmd_offline },
	{ "online", "POOL START COUNT",
	  "Bring pages START..START+COUNT-1 of POOL back, whether offline or still\n"
	  "isolated: its pages become allocatable again (and the pool's pcplists come\n"
	  "back on when no range is isolated).  Prints 'online: pool POOL pages A..B\n"
	  "online'.  JSON: {pool, start, count, state}.",
	  0, 3, cmd_online },
	{ "trim", "[--pool POOL]",
	  "Return the memory of the free max-order blocks of POOL (default: every\n"
	  "pool) to the OS and print how many pages that released.  The pages stay\n"
	  "in the pool; their memory comes back, zeroed, when they are used again.\n"
	  "JSON: {pool, pages}.",
	  O_POOL, 0, cmd_trim },
	{ "set-pcp", "[--pool POOL] --high N --batch N",
	  "Set the pcplist high watermark (pages a worker may cache; 0 turns the\n"
	  "pcplists off) and batch size (pages moved per refill or bulk free) of\n"
	  "every worker in POOL (default: every pool).  The daemon checks the\n"
	  "values (high 0..4096, batch 1..63, batch <= high unless high is 0) and\n"
	  "refuses others (exit 65).  JSON: {pool, high, batch}.",
	  O_POOL | O_HIGH | O_BATCH, 0, cmd_set_pcp },
	{ "verify", "[--pool POOL]",
	  "Check the invariants of POOL (default: every pool): every page is\n"
	  "accounted exactly once (free, in a pcplist, allocated, isolated or\n"
	  "offline), blocks are aligned and never overlap nor sit on two lists,\n"
	  "every allocated block has one live owner.  The daemon parks its workers\n"
	  "for the duration of the check: no client is served until it is over\n"
	  "(it takes time in proportion to the pool sizes), so mind a busy daemon.\n"
	  "Prints 'pool NAME: ok' or 'pool NAME: BROKEN: what is broken' per pool\n"
	  "and exits 0 when every pool is ok, 65 when one is broken.\n"
	  "JSON: {pools: [{name, ok, message}]} (message null when ok), printed\n"
	  "also when a pool is broken.",
	  O_POOL, 0, cmd_verify },
	{ "reload", "",
	  "Ask the daemon to re-read its configuration file and apply what can\n"
	  "change at run time (log_level, decay_interval, write_timeout,\n"
	  "read_timeout, drain_mode, pcp_high/pcp_batch, quotas); prints one line\n"
	  "per setting that changed, or 'reloaded: no changes'.  A file that is\n"
	  "invalid, or that changes something needing a restart (sockets, workers,\n"
	  "pools and their sizes), is refused with the daemon's reasons on stderr\n"
	  "(exit 65) and the running configuration stays as it was.\n"
	  "JSON: {changes: [lines]}.",
	  0, 0, cmd_reload },
	{ "config-check", "FILE",
	  "Check a pagepoold configuration file with the daemon's own parser,\n"
	  "without asking any daemon (the admin socket is not used).  Prints\n"
	  "'FILE: ok' and exits 0 when it is valid; otherwise prints every problem\n"
	  "as 'FILE:LINE: what is wrong (what is allowed)' on stderr and exits 65\n"
	  "(also when the file cannot be read).  Groups and CPUs are checked\n"
	  "against this machine, so check on the host that runs the daemon.\n"
	  "JSON: {file, ok, errors: [lines]}.",
	  0, 1, cmd_config_check },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Print text with every line after `indent`. */
static void print_indented(FILE *f, const char *indent, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		fprintf(f, "%s%.*s\n", indent, (int)n, text);
		text += n + (text[n] == '\n');
	}
}

static void usage_command(FILE *f, const struct command *cmd)
{
	fprintf(f, "usage: pagepoolctl [-s ADMIN_SOCKET] [--json] %s%s%s\n\n", cmd->name,
		cmd->synopsis[0] ? " " : "", cmd->synopsis);
	print_indented(f, "", cmd->help);
	fputs("\nExit status: 0 done, 64 usage, 65 refused (bad value, no such pool), "
	      "69 daemon\nunreachable, 75 busy, 76 protocol error, 77 not allowed "
	      "(see pagepoolctl --help).\n", f);
}

static void usage_full(FILE *f)
{
	fputs("usage: pagepoolctl [-s ADMIN_SOCKET] [--json] COMMAND [ARGS]\n"
	      "       pagepoolctl help [COMMAND]\n"
	      "       pagepoolctl COMMAND --help\n"
	      "       pagepoolctl -h | --help | -V\n"
	      "\n"
	      "Operate pagepoold, the page-pool daemon, through its admin socket: show its\n"
	      "state, counters, free blocks, pcplists and clients; drain the pcplists; take\n"
	      "page ranges offline and bring them back; return free memory to the OS; tune\n"
	      "the pcplists; check the pools' invariants; reload the configuration; check\n"
	      "a configuration file.  Each command but config-check is one request to\n"
	      "the daemon, which admits root, its own user and its admin_group only.\n"
	      "\n"
	      "COMMANDS\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		fprintf(f, "  %s%s%s\n", commands[i].name, commands[i].synopsis[0] ? " " : "",
			commands[i].synopsis);
		print_indented(f, "      ", commands[i].help);
		fputc('\n', f);
	}
	fputs("  help [COMMAND]\n"
	      "      This text, or the usage of one command.\n"
	      "\n"
	      "OPTIONS\n"
	      "  -s, --socket ADMIN_SOCKET\n"
	      "      The daemon's admin socket (admin_socket in its [daemon] section).\n"
	      "      Default: $" SOCKET_ENV " if set and not empty, else\n"
	      "      " DEFAULT_SOCKET ".\n"
	      "  --json\n"
	      "      Print exactly one JSON document on stdout, numbers as numbers,\n"
	      "      also when the command fails: {\"error\": {command, source (usage,\n"
	      "      pagepoolctl or daemon), exit_status, status, errno, message}}.\n"
	      "      Messages still go to stderr.  May also follow the command.\n"
	      "      (--help, help and -V print text.)\n"
	      "  -h, --help\n"
	      "      Print this text (after a command: that command's usage) and exit 0.\n"
	      "  -V, --version\n"
	      "      Print the version and exit 0.\n"
	      "\n"
	      "  Pool names are the [pool NAME] sections of the daemon's configuration.\n"
	      "  Numbers are decimal, without sign or blanks.  Errors are printed to\n"
	      "  stderr as 'pagepoolctl: COMMAND: reason', the reason being the daemon's\n"
	      "  own words when it refused.  Requests time out after 30 s without an answer.\n"
	      "\n"
	      "ENVIRONMENT\n"
	      "  " SOCKET_ENV "\n"
	      "      Admin socket path, unless -s is given.\n"
	      "\n"
	      "EXIT STATUS\n"
	      "   0  Success.\n"
	      "  64  Usage error: unknown command or option, missing or extra operand,\n"
	      "      bad number, empty or over-long pool name, bad --mode (EX_USAGE).\n"
	      "  65  The daemon refused the request for another reason: no such pool\n"
	      "      (ENOENT), invalid value or range, reload of an invalid configuration\n"
	      "      or of a change that needs a restart (EINVAL), ...; or verify found a\n"
	      "      broken pool (EX_DATAERR).\n"
	      "  69  Daemon unreachable: no socket, connection refused, connection closed\n"
	      "      without an answer, no answer within 30 s, or the daemon is shutting\n"
	      "      down (ESHUTDOWN) (EX_UNAVAILABLE).\n"
	      "  71  Local system error: out of memory, out of file descriptors\n"
	      "      (EX_OSERR).\n"
	      "  74  The output could not be written (EX_IOERR).\n"
	      "  75  Busy, try again later: the daemon answered EBUSY, e.g. offline timed\n"
	      "      out with pages still held (EX_TEMPFAIL).\n"
	      "  76  Protocol error: malformed, oversized (over 16 MiB), truncated or\n"
	      "      mismatched response, or the daemon reported EPROTO (EX_PROTOCOL).\n"
	      "  77  Not allowed: the daemon answered EPERM (not root or admin_group), or\n"
	      "      the socket's permissions refused the connection (EX_NOPERM).\n"
	      "  An offline interrupted by SIGINT or SIGTERM dies of that signal.\n"
	      "\n"
	      "EXAMPLES\n"
	      "  pagepoolctl status\n"
	      "  pagepoolctl -s run/pagepool-admin.sock --json stats | python3 -m json.tool\n"
	      "  pagepoolctl drain --pool big --mode workqueue\n"
	      "  pagepoolctl offline big 0 4096 --timeout 30 || pagepoolctl online big 0 4096\n"
	      "  pagepoolctl trim\n"
	      "  pagepoolctl set-pcp --pool default --high 512 --batch 31\n"
	      "  pagepoolctl verify --pool default\n"
	      "  pagepoolctl --json verify | jq -r '.pools[] | select(.ok | not) | .name'\n"
	      "  pagepoolctl reload\n"
	      "  pagepoolctl clients --json | jq '.clients[] | select(.pages > 0)'\n", f);
}

static const struct option cmd_longopts[] = {
	{ "pool", required_argument, NULL, OPT_POOL },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "high", required_argument, NULL, OPT_HIGH },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static unsigned opt_bit(int opt)
{
	switch (opt) {
	case OPT_POOL: return O_POOL;
	case OPT_MODE: return O_MODE;
	case OPT_FORCE: return O_FORCE;
	case OPT_TIMEOUT: return O_TIMEOUT;
	case OPT_HIGH: return O_HIGH;
	case OPT_BATCH: return O_BATCH;
	default: return 0;
	}
}

/*
 * Report what getopt_long just refused (it returned ':' or '?').  getopt
 * leaves optopt 0 for an unknown long option, the option's value for a
 * missing or unwanted argument, and the character for a short option, which
 * may sit inside a cluster (then optind has not moved past it).
 */
static int bad_option(struct ctx *c, int opt, char **argv, const struct option *lo)
{
	const char *prev = optind > 0 ? argv[optind - 1] : "";
	size_t n = strcspn(prev, "=");

	if (opt == ':' && strncmp(prev, "--", 2) == 0)
		return usage_error(c, "option '%.*s' needs an argument", (int)n, prev);
	if (opt == ':')
		return usage_error(c, "option '-%c' needs an argument", optopt);
	if (optopt == 0)
		return usage_error(c, "unknown option '%.*s'", (int)n, prev);
	for (; strncmp(prev, "--", 2) == 0 && prev[n] == '=' && lo->name; lo++)
		if (lo->val == optopt && lo->has_arg == no_argument &&
		    strlen(lo->name) == n - 2 && strncmp(lo->name, prev + 2, n - 2) == 0)
			return usage_error(c, "option '--%s' takes no argument", lo->name);
	if (isdigit(optopt))
		return usage_error(c, "unknown option '-%c' (numbers take no sign)", optopt);
	return usage_error(c, "unknown option '-%c'", optopt);
}

/* "--pool" for OPT_POOL, for messages. */
static const char *opt_name(int opt)
{
	for (const struct option *lo = cmd_longopts; lo->name; lo++)
		if (lo->val == opt)
			return lo->name;
	return "?";
}

/* One option of the command: EX_OK, -1 for --help (done), or EX_USAGE. */
static int cmd_option(struct ctx *c, int opt, char **argv, struct args *a)
{
	if (opt_bit(opt) && !(c->cmd->opts & opt_bit(opt))) {
		a->stray_opt = a->stray_opt ? a->stray_opt : opt;
		return EX_OK;
	}
	switch (opt) {
	case OPT_HELP:
		usage_command(stdout, c->cmd);
		return -1;
	case OPT_JSON:
		c->json = true;
		return EX_OK;
	case OPT_POOL:
		a->pool = optarg;
		return EX_OK;
	case OPT_MODE:
		a->mode = optarg;
		return EX_OK;
	case OPT_FORCE:
		a->force = true;
		return EX_OK;
	case OPT_TIMEOUT:
		a->timeout_arg = optarg;
		return EX_OK;
	case OPT_HIGH:
		a->high_arg = optarg;
		return EX_OK;
	case OPT_BATCH:
		a->batch_arg = optarg;
		return EX_OK;
	default:
		return bad_option(c, opt, argv, cmd_longopts);
	}
}

/* Check the option values given; EX_OK or EX_USAGE reported. */
static int args_check(struct ctx *c, struct args *a)
{
	int rc = EX_OK;

	if (a->stray_opt)
		return usage_error(c, "option '--%s' does not apply to %s",
				   opt_name(a->stray_opt), c->cmd->name);
	if (a->pool)
		rc = check_pool(c, "--pool", a->pool);
	if (!rc && a->timeout_arg)
		rc = parse_number(c, "--timeout", a->timeout_arg, 0, OFFLINE_TIMEOUT_MAX,
				  &a->timeout_s);
	if (!rc && a->high_arg)
		rc = parse_number(c, "--high", a->high_arg, 0, NUM_MAX, &a->high);
	if (!rc && a->batch_arg)
		rc = parse_number(c, "--batch", a->batch_arg, 0, NUM_MAX, &a->batch);
	return rc;
}

/* Parse the command's options and operands (argv[0] is the command name)
 * and run it.  Returns the exit status. */
static int command_run(struct ctx *c, int argc, char **argv)
{
	struct args a = { .timeout_s = OFFLINE_TIMEOUT_S };
	int opt, rc;

	optind = 0;	/* glibc: start over, argv is a new vector */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:m:ft:h", cmd_longopts, NULL)) != -1) {
		rc = cmd_option(c, opt, argv, &a);
		if (rc)
			return rc < 0 ? EX_OK : rc;
	}
	a.pos = argv + optind;
	a.npos = argc - optind;
	rc = args_check(c, &a);
	if (rc)
		return rc;
	if (a.npos < c->cmd->nargs)
		return usage_error(c, "missing operand (usage: %s %s)", c->cmd->name,
				   c->cmd->synopsis);
	if (a.npos > c->cmd->nargs)
		return usage_error(c, "unexpected operand '%s'", a.pos[c->cmd->nargs]);
	return c->cmd->run(c, &a);
}

/* pagepoolctl help [COMMAND] */
static int help_run(struct ctx *c, int argc, char **argv)
{
	const struct command *cmd;

	if (argc == 1) {
		usage_full(stdout);
		return EX_OK;
	}
	if (argc > 2)
		return usage_error(c, "help: one command at most");
	cmd = command_find(argv[1]);
	if (!cmd)
		return usage_error(c, "help: unknown command '%s'", argv[1]);
	usage_command(stdout, cmd);
	return EX_OK;
}

/* Flush stdout; a failed write turns success into EX_IOERR. */
static int output_close(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "pagepoolctl: writing the output: %s\n", strerror(errno));
		return rc == EX_OK ? EX_IOERR : rc;
	}
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { .j = { .f = stdout } };
	const char *env = getenv(SOCKET_ENV);
	int opt;

	c.socket = env && env[0] ? env : DEFAULT_SOCKET;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:s:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			c.socket = optarg;
			break;
		case OPT_JSON:
			c.json = true;
			break;
		case 'h':
			usage_full(stdout);
			return output_close(EX_OK);
		case 'V':
			printf("pagepoolctl %s (admin protocol %d)\n", CTL_VERSION, WIRE_VERSION);
			return output_close(EX_OK);
		default:
			return output_close(bad_option(&c, opt, argv, longopts));
		}
	}
	if (!c.socket[0])
		return output_close(usage_error(&c, "-s: empty socket path"));
	if (optind >= argc)
		return output_close(usage_error(&c, "no command given"));
	if (strcmp(argv[optind], "help") == 0)
		return output_close(help_run(&c, argc - optind, argv + optind));
	c.cmd = command_find(argv[optind]);
	if (!c.cmd)
		return output_close(usage_error(&c, "unknown command '%s'", argv[optind]));
	return output_close(command_run(&c, argc - optind, argv + optind));
}
