/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_trace.h - strace on a process of a black-box test (the daemon, or a
 * client child): attached before the test acts, detached after, its output
 * searched for the calls or signals the test says must not happen.
 *
 * strace is optional: a test checks bb_on_path("strace") itself and
 * skips (or leaves out the check) when it is missing or cannot attach
 * (t->on false).  Asserts through cmocka: call only from the test.
 */
#ifndef PP_BB_TRACE_H
#define PP_BB_TRACE_H

#include <stdbool.h>
#include <sys/types.h>

#include "bb_fixture.h"

/* One strace run. */
struct bb_trace {
	pid_t pid;			/* strace, a child of the fixture */
	char out[200];			/* its output, DIR/strace-NAME.out */
	bool on;			/* it attached */
};

/*
 * strace -f -e `expr` -p `target` into DIR/strace-NAME.out (`name` also
 * names the target in messages), and wait until it has attached: t->on.
 * When strace exits first (missing, or not allowed to trace) t->on is
 * false, with its output's tail and a message; past 5 s the test fails.
 */
void bb_trace_start(struct bb *f, struct bb_trace *t, pid_t target, const char *expr,
		    const char *name);

/*
 * Detach strace (SIGINT) and wait for it, at most 5 s; *code (may be NULL)
 * its exit code.  Returns how many lines of its output hold any of
 * needles[] (NULL-ended), each printed as an error; lines holding none of
 * them but one of notes[] (NULL-ended, may be NULL) are printed as
 * messages, not counted.
 */
unsigned bb_trace_stop(struct bb *f, struct bb_trace *t, const char *const *needles,
		       const char *const *notes, int *code);

#endif
