/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_daemon.c - the daemon under test (see bb_daemon.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bb_daemon.h"
#include "bb_file.h"
#include "bb_msg.h"
#include "bb_time.h"

const char *bb_daemon_path(void)
{
	const char *exe = getenv("PAGEPOOLD");

	if (!exe || !*exe) {
		print_message("PAGEPOOLD is not set (the pagepoold binary to test): skipping\n");
		skip();
	}
	if (access(exe, X_OK) != 0)
		fail_msg("PAGEPOOLD=%s is not an executable: %s", exe, strerror(errno));
	return exe;
}

void bb_write_config(struct bb *f, const char *tmpl)
{
	struct bb_buf b = { 0 };
	const char *p = tmpl;

	bb_mkdir(f);
	while (*p) {
		if (strncmp(p, "@SOCKET@", 8) == 0) {
			bb_buf_add(&b, f->sock, strlen(f->sock));
			p += 8;
		} else if (strncmp(p, "@DIR@", 5) == 0) {
			bb_buf_add(&b, f->dir, strlen(f->dir));
			p += 5;
		} else {
			bb_buf_add(&b, p++, 1);
		}
	}
	bb_buf_add(&b, "", 1);
	bb_write_file(f->conf, (const char *)b.p);
	bb_buf_free(&b);
}

int bb_read_ready(int fd, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	char buf[64];
	size_t len = 0;

	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pf, 1, bb_left_ms(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -ETIMEDOUT;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
		if (strcmp(buf, "READY\n") == 0)
			return 1;
		if (strncmp(buf, "READY\n", len) != 0)
			return -EPROTO;
	}
}

/*
 * The one launcher: write the config, run the daemon on it (output to
 * f->log) and, unless o->no_ready_fd, wait up to timeout_ms on its ready
 * pipe.  bb_read_ready's outcome (1 when no_ready_fd); *ready_rd is the
 * pipe's read end, still open after a READY (-1 otherwise).
 */
static int daemon_launch(struct bb *f, const char *tmpl, const struct bb_opts *o,
			 int timeout_ms, int *ready_rd)
{
	bool ready_fd = !(o && o->no_ready_fd);
	const char *argv[32];
	char fdarg[16];
	int p[2] = { -1, -1 }, n = 0, r = 1;
	struct bb_prog prog = { .argv = argv, .env = o ? o->env : NULL, .out = f->log,
				.err = f->log };

	for (const char *const *a = o && o->prefix ? o->prefix : NULL; a && *a && n < 24; a++)
		argv[n++] = *a;
	argv[n++] = bb_daemon_path();
	assert_int_equal(f->pid, 0);
	bb_write_config(f, tmpl);
	argv[n++] = "-c";
	argv[n++] = f->conf;
	argv[n++] = "-f";
	if (ready_fd) {
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
		argv[n++] = "--ready-fd";
		argv[n++] = fdarg;
		prog.keep_fd = p[1];
	}
	if (o && o->debug)
		argv[n++] = "-d";
	argv[n] = NULL;
	f->stop_timeout_ms = o && o->stop_timeout_ms ? o->stop_timeout_ms : BB_STOP_TIMEOUT_MS;
	f->pid = bb_prog_spawn(&prog);
	if (ready_fd) {
		close(p[1]);
		r = bb_read_ready(p[0], timeout_ms);
		if (r != 1) {
			close(p[0]);
			p[0] = -1;
		}
	}
	*ready_rd = p[0];
	return r;
}

/* After READY the daemon must close --ready-fd; fails the test if not. */
static void expect_ready_closed(struct bb *f, int rd)
{
	char c;
	struct pollfd pf = { .fd = rd, .events = POLLIN };
	int pr = poll(&pf, 1, 5000);
	ssize_t n = pr > 0 ? read(rd, &c, 1) : -1;

	close(rd);
	if (n != 0) {
		bb_print_tail("pagepoold log", f->log, 4000);
		fail_msg("pagepoold wrote READY but did not close --ready-fd afterwards (%s)",
			 pr == 0 ? "still open after 5 s" : "more bytes followed");
	}
}

void bb_start_opts(struct bb *f, const char *tmpl, const struct bb_opts *o)
{
	int timeout = o && o->ready_timeout_ms ? o->ready_timeout_ms : BB_READY_TIMEOUT_MS;
	int64_t t0 = bb_now_ms();
	int rd, r = daemon_launch(f, tmpl, o, timeout, &rd), code;

	if (r == 1) {
		if (rd >= 0)
			expect_ready_closed(f, rd);
		return;
	}
	code = bb_reap(f->pid, r == 0 ? 5000 : 0);
	f->pid = 0;
	bb_print_tail("pagepoold log", f->log, 4000);
	if (r == -ETIMEDOUT)
		fail_msg("pagepoold did not write READY within %d ms (killed)", timeout);
	if (r == -EPROTO)
		fail_msg("pagepoold wrote something other than \"READY\\n\" on --ready-fd");
	fail_msg("pagepoold exited before READY, after %lld ms: %s %d",
		 (long long)(bb_now_ms() - t0), code >= 128 ? "signal" : "status",
		 code >= 128 ? code - 128 : code);
}

void bb_start(struct bb *f, const char *tmpl)
{
	bb_start_opts(f, tmpl, NULL);
}

int bb_start_expect_exit(struct bb *f, const char *tmpl)
{
	int rd, r = daemon_launch(f, tmpl, NULL, BB_READY_TIMEOUT_MS, &rd), code;

	if (rd >= 0)
		close(rd);
	if (r != 0) {
		int stopped = bb_reap(f->pid, 0);

		f->pid = 0;
		bb_print_tail("pagepoold log", f->log, 4000);
		fail_msg("pagepoold %s on a config it should refuse (code %d)",
			 r == 1 ? "started (READY)" : "neither started nor exited", stopped);
	}
	code = bb_reap(f->pid, BB_STOP_TIMEOUT_MS);
	f->pid = 0;
	if (code == -ETIMEDOUT)
		fail_msg("pagepoold closed --ready-fd but did not exit within %d ms (killed)",
			 BB_STOP_TIMEOUT_MS);
	return code;
}

int bb_stop_sig(struct bb *f, int sig)
{
	int code;

	if (f->pid <= 0)
		return f->exit_code;
	kill(f->pid, sig);
	code = bb_reap(f->pid, f->stop_timeout_ms);
	f->pid = 0;
	f->exit_code = code;
	return code;
}

void bb_stop_ok(struct bb *f, int sig)
{
	int64_t t0 = bb_now_ms();
	int code = bb_stop_sig(f, sig);

	if (code != 0) {
		bb_print_tail("pagepoold log", f->log, 6000);
		if (code == -ETIMEDOUT)
			fail_msg("pagepoold did not exit within %d ms of signal %d (killed)",
				 f->stop_timeout_ms, sig);
		fail_msg("pagepoold exited with %s %d after signal %d (expected status 0)",
			 code >= 128 ? "signal" : "status", code >= 128 ? code - 128 : code, sig);
	}
	print_message("pagepoold exited 0, %lld ms after signal %d\n",
		      (long long)(bb_now_ms() - t0), sig);
}
