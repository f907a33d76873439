/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_fixture.c - the fixture of a black-box test (see bb_fixture.h).
 */
#include <errno.h>
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

#include "pagepool.h"
#include "bb_daemon.h"
#include "bb_file.h"
#include "bb_fixture.h"

int bb_setup(void **state)
{
	struct bb *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	for (unsigned i = 0; i < BB_MAX_CONNS; i++)
		bb_conn_init(&f->conns[i]);
	f->exit_code = -1;
	*state = f;
	return 0;
}

/* Stop the daemon if it runs: 0 if it exits 0 (or none ran), else -1. */
static int teardown_daemon(struct bb *f)
{
	int code;

	if (f->pid <= 0)
		return 0;
	code = bb_stop_sig(f, SIGTERM);
	if (code == 0)
		return 0;
	print_error("teardown: pagepoold %s %d after SIGTERM (expected status 0)\n",
		    code == -ETIMEDOUT ? "hung, killed;" :
		    code >= 128 ? "died of signal" : "exited with status",
		    code >= 128 ? code - 128 : code);
	bb_print_tail("pagepoold log", f->log, 6000);
	return -1;
}

/*
 * Close clients and raw connections, kill leftover children, stop the
 * daemon (SIGTERM) and fail unless it exits 0, remove the directory.
 */
int bb_teardown(void **state)
{
	struct bb *f = *state;
	int ret;

	for (unsigned i = 0; i < BB_MAX_CLIENTS; i++)
		if (f->clients[i])
			pp_close(f->clients[i]);
	for (unsigned i = 0; i < BB_MAX_CONNS; i++)
		if (f->conns[i].fd >= 0)
			bb_conn_close(&f->conns[i]);
	for (unsigned i = 0; i < BB_MAX_KIDS; i++) {
		if (f->kids[i]) {
			kill(f->kids[i], SIGKILL);
			bb_reap(f->kids[i], 5000);
		}
	}
	ret = teardown_daemon(f);
	if (f->dir[0]) {
		if (getenv("BB_VERBOSE") && ret == 0)
			bb_print_tail("pagepoold log", f->log, 20000);
		if (getenv("BB_KEEP"))
			print_message("kept %s\n", f->dir);
		else
			bb_rm_rf(f->dir);
	}
	free(f);
	*state = NULL;
	return ret;
}

void bb_mkdir(struct bb *f)
{
	if (f->dir[0])
		return;
	strcpy(f->dir, "/tmp/ppbb-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/pagepoold.conf", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/pagepool.sock", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/pagepoold.log", f->dir);
}

struct bb_conn *bb_raw_at(struct bb *f, const char *path)
{
	struct bb_conn *c = NULL;
	int r;

	for (unsigned i = 0; i < BB_MAX_CONNS && !c; i++)
		if (f->conns[i].fd < 0)
			c = &f->conns[i];
	assert_non_null(c);
	r = bb_conn_open(c, path);
	if (r < 0)
		print_error("connect %s: %s\n", path, strerror(-r));
	assert_int_equal(r, 0);
	return c;
}

struct bb_conn *bb_raw(struct bb *f)
{
	return bb_raw_at(f, f->sock);
}

/* A free slot in f->kids for a child about to be made. */
static unsigned kid_slot(struct bb *f)
{
	unsigned i;

	for (i = 0; i < BB_MAX_KIDS && f->kids[i]; i++)
		;
	assert_true(i < BB_MAX_KIDS);
	return i;
}

static void kid_forget(struct bb *f, pid_t pid)
{
	for (unsigned i = 0; i < BB_MAX_KIDS; i++)
		if (f->kids[i] == pid)
			f->kids[i] = 0;
}

pid_t bb_fork(struct bb *f)
{
	pid_t parent = getpid(), pid;
	unsigned i = kid_slot(f);

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bb_child_init(parent);
		return 0;
	}
	f->kids[i] = pid;
	return pid;
}

pid_t bb_kid_spawn(struct bb *f, const struct bb_prog *p)
{
	unsigned i = kid_slot(f);

	f->kids[i] = bb_prog_spawn(p);
	return f->kids[i];
}

int bb_kid_wait(struct bb *f, pid_t pid, int timeout_ms)
{
	int code = bb_reap(pid, timeout_ms);

	kid_forget(f, pid);
	if (code == -ETIMEDOUT)
		fail_msg("child %d still running after %d ms (killed)", (int)pid, timeout_ms);
	return code;
}

bool bb_kid_exited(struct bb *f, pid_t pid, int *code)
{
	int status;

	if (bb_wait_pid(pid, 0, &status) != 0)
		return false;
	kid_forget(f, pid);
	*code = bb_exit_code(status);
	return true;
}
