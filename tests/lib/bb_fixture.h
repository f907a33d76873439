/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_fixture.h - the fixture of a black-box test (struct bb): one private
 * temporary directory, at most one daemon in it (bb_daemon.h), and every
 * client, raw connection and child process the test makes, so that the
 * teardown releases them even when an assertion fails half-way.  The
 * teardown also stops the daemon with SIGTERM and fails the test unless it
 * exits with status 0, and removes the directory.
 *
 * Register each test with bb_test(fn): fn gets the fixture as *state.
 * Environment: BB_VERBOSE=1 prints each daemon's log at teardown, BB_KEEP=1
 * keeps the temporary directories.
 */
#ifndef PP_BB_FIXTURE_H
#define PP_BB_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

#include "bb_child.h"
#include "bb_conn.h"

#define BB_MAX_CLIENTS		64
#define BB_MAX_CONNS		16
#define BB_MAX_KIDS		16

struct pp_client;

struct bb {
	char dir[64];			/* mkdtemp, removed at teardown */
	char conf[128];
	char sock[128];
	char log[128];			/* the daemon's stdout + stderr */
	pid_t pid;			/* running daemon, 0 if none */
	int stop_timeout_ms;
	int exit_code;			/* of the last daemon stopped */
	struct pp_client *clients[BB_MAX_CLIENTS];
	struct bb_conn conns[BB_MAX_CONNS];
	pid_t kids[BB_MAX_KIDS];
};

/* cmocka setup and teardown of a struct bb in *state. */
int bb_setup(void **state);
int bb_teardown(void **state);

#define bb_test(fn) cmocka_unit_test_setup_teardown(fn, bb_setup, bb_teardown)

/* Create the fixture's directory (once) and name its files. */
void bb_mkdir(struct bb *f);

/* A raw connection to the daemon's socket, or to the socket at `path`, in a
 * fixture slot (closed at teardown); asserts it connected. */
struct bb_conn *bb_raw(struct bb *f);
struct bb_conn *bb_raw_at(struct bb *f, const char *path);

/* fork() a child that dies with the test; the fixture kills it at teardown
 * if it is still around.  Children must leave with _exit(), never through a
 * cmocka assertion. */
pid_t bb_fork(struct bb *f);

/* bb_prog_spawn() a program as a child of the fixture (killed at teardown
 * if it is still around). */
pid_t bb_kid_spawn(struct bb *f, const struct bb_prog *p);

/* Wait for a child of the fixture: its exit code (bb_exit_code); fails the
 * test if it is still running after timeout_ms (it is then killed). */
int bb_kid_wait(struct bb *f, pid_t pid, int timeout_ms);

/* Has the child of the fixture `pid` ended?  If so it is reaped, its exit
 * code is in *code and the fixture forgets it. */
bool bb_kid_exited(struct bb *f, pid_t pid, int *code);

#endif
