/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_daemon.h - the daemon under test in a fixture (struct bb): the real
 * pagepoold, the binary named by $PAGEPOOLD (the test is skipped when it is
 * unset), started on a private socket in the fixture's mkdtemp directory
 * with a config the test writes, and stopped again.
 *
 * There is one launcher, with options (struct bb_opts): start-up waits for
 * the daemon's "READY\n" on a --ready-fd pipe, and the daemon must then
 * close it; a config it must refuse is run until it exits without READY
 * (bb_start_expect_exit); a test that waits its own way (sd_notify) passes
 * no_ready_fd.  Stops wait on a pidfd with a deadline.  Failures print the
 * daemon's log.
 */
#ifndef PP_BB_DAEMON_H
#define PP_BB_DAEMON_H

#include <stdbool.h>

#include "bb_fixture.h"

#define BB_READY_TIMEOUT_MS	10000
#define BB_STOP_TIMEOUT_MS	10000

struct bb_opts {
	const char *const *prefix;	/* run the daemon under this (valgrind ...) */
	int ready_timeout_ms;		/* 0: BB_READY_TIMEOUT_MS */
	int stop_timeout_ms;		/* 0: BB_STOP_TIMEOUT_MS */
	bool debug;			/* -d */
	bool no_ready_fd;		/* no --ready-fd: bb_start_opts returns once it
					 * runs (the test waits its own way) */
	const char *const *env;		/* NAME=VALUE pairs for the daemon, NULL-ended */
};

/* The daemon binary ($PAGEPOOLD), or skip the test. */
const char *bb_daemon_path(void);

/* Write the config: `tmpl` with every "@SOCKET@" replaced by the socket path
 * and every "@DIR@" by the directory (made if need be). */
void bb_write_config(struct bb *f, const char *tmpl);

/* Read a --ready-fd pipe: 1 "READY\n" read, 0 EOF first, -ETIMEDOUT,
 * -EPROTO something else. */
int bb_read_ready(int fd, int timeout_ms);

/*
 * Start the daemon on the config `tmpl` (see bb_write_config) with options
 * `o` (may be NULL) and wait for it to say READY on --ready-fd; fails the
 * test (with the daemon's log) when it exits or stays silent instead, and
 * when it does not then close the ready fd.
 */
void bb_start_opts(struct bb *f, const char *tmpl, const struct bb_opts *o);
void bb_start(struct bb *f, const char *tmpl);

/*
 * Run the daemon on a config it must refuse: it must exit within 10 s
 * without writing READY.  Returns its exit code; its output is in f->log.
 */
int bb_start_expect_exit(struct bb *f, const char *tmpl);

/*
 * Stop the daemon with `sig` and wait for it (bounded; past the deadline it
 * is killed with SIGKILL and -ETIMEDOUT returned).  Returns its exit code
 * (128 + signal if a signal ended it).  No assertions: teardown uses it.
 */
int bb_stop_sig(struct bb *f, int sig);

/* Stop the daemon with `sig` and assert it exits 0 within the stop timeout. */
void bb_stop_ok(struct bb *f, int sig);

#endif
