/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report.c - how pagepoolctl says that something failed: one line on stderr
 * ("pagepoolctl: COMMAND: reason"), the {"error": {...}} document with
 * --json, and the exit status that tells scripts what kind of failure it
 * was (EXIT STATUS in the usage text).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"
#include "wire.h"

static const char *cmd_name(const struct ctl *c)
{
	return c->cmd ? c->cmd->name : NULL;
}

void report_prefix(const struct ctl *c)
{
	if (cmd_name(c))
		fprintf(stderr, "pagepoolctl: %s: ", cmd_name(c));
	else
		fputs("pagepoolctl: ", stderr);
}

int report_usage(struct ctl *c, const char *fmt, ...)
{
	char text[OUT_TEXT_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	report_prefix(c);
	fprintf(stderr, "%s\n", text);
	if (cmd_name(c))
		fprintf(stderr, "Try 'pagepoolctl help %s'.\n", cmd_name(c));
	else
		fputs("Try 'pagepoolctl --help'.\n", stderr);
	out_error(&c->out, cmd_name(c), "usage", EX_USAGE, NULL, 0, text);
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

int report_exit_status(int status)
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

int report_errno(struct ctl *c, int err, const char *why)
{
	const char *text = why && why[0] ? why : strerror(-err);
	int rc = exit_for_errno(err);

	report_prefix(c);
	fprintf(stderr, "%s\n", text);
	out_error(&c->out, cmd_name(c), "pagepoolctl", rc, NULL, -err, text);
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

/* The daemon's words for a refusal, or what the status means. */
static const char *status_text(const admin_response *resp, char *buf, size_t n)
{
	if (resp->error && resp->error[0])
		return out_printable(resp->error, buf, n);
	return out_printable(status_meaning((int)resp->status), buf, n);
}

int report_status(struct ctl *c, const admin_response *resp)
{
	char buf[OUT_TEXT_MAX];
	int status = (int)resp->status, rc = report_exit_status(status);

	report_prefix(c);
	fprintf(stderr, "%s\n", status_text(resp, buf, sizeof(buf)));
	/* The raw words: the JSON layer makes them valid UTF-8. */
	out_error(&c->out, cmd_name(c), "daemon", rc, wire_status_name(status), status,
		  resp->error && resp->error[0] ? resp->error : status_meaning(status));
	return rc;
}
