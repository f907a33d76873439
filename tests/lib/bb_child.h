/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_child.h - child processes of the black-box tests: the one way a test
 * runs a program (the daemon, pagepoolctl, pp-example, make, strace,
 * systemd-analyze ...), and bounded waits for children.
 *
 * A program is described by a struct bb_prog and started by
 * bb_prog_spawn() (the caller waits) or run to its end by bb_prog_run()
 * (bounded: past the deadline it is killed).  Every child dies with the
 * test process, starts from default signal handling and without the
 * systemd hand-over variables the test runner may have been given, reads
 * /dev/null, and writes where the description says.  Nothing here sleeps
 * to synchronise: exits are waited for on a pidfd.
 */
#ifndef PP_BB_CHILD_H
#define PP_BB_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

/* A program to run. */
struct bb_prog {
	const char *const *argv;	/* argv[0] looked up on PATH unless it has a '/' */
	const char *const *env;		/* NULL-ended, may be NULL: "NAME=VALUE" sets,
					 * "NAME" unsets */
	const char *out;		/* stdout into this file (created, truncated);
					 * NULL: the test's own */
	const char *err;		/* stderr likewise; the same path as out: one file,
					 * both in the order written */
	const char *cwd;		/* run in this directory; NULL: the test's */
	bool drop;			/* become uid and gid `uid`, no other groups */
	uid_t uid;
	bool group;			/* in a process group of its own, killed whole
					 * past bb_prog_run's deadline */
	int keep_fd;			/* a descriptor (> 2) left open across exec;
					 * 0: none */
};

/*
 * Start the program; its pid (the caller reaps it: bb_reap, bb_wait_pid).
 * Asserts on a failure of the test's own (a file, fork).  A failure in the
 * child shows as its exit code: 125 redirection or directory, 124 the uid
 * change, 127 exec (with a line on its stderr), 126 the test process died.
 */
pid_t bb_prog_spawn(const struct bb_prog *p);

/*
 * Run the program to its end, waiting at most timeout_ms: its exit code
 * (bb_exit_code), or -ETIMEDOUT when it had to be killed (its whole
 * process group if p->group) and reaped.  Never fails the test itself.
 */
int bb_prog_run(const struct bb_prog *p, int timeout_ms);

/*
 * Wait up to timeout_ms for the child `pid` to end; 0 with the raw wait
 * status in *status, -ETIMEDOUT (the child is left running) or -errno.  A
 * pidfd makes the wait a poll(); on a kernel without pidfd_open it re-checks
 * every 5 ms until the deadline.
 */
int bb_wait_pid(pid_t pid, int timeout_ms, int *status);

/* A wait status as one number: the exit code, or 128 + the signal. */
int bb_exit_code(int status);

/* Wait for pid with a deadline; past it, SIGKILL and reap.  Returns the exit
 * code (bb_exit_code) or -ETIMEDOUT when it had to be killed. */
int bb_reap(pid_t pid, int timeout_ms);

/* In a freshly forked child: die with the test process (`parent`), start
 * from default signal handling (the test runner's handlers are not ours),
 * and forget any systemd hand-over meant for the test runner (CI may run
 * under a service). */
void bb_child_init(pid_t parent);

#endif
