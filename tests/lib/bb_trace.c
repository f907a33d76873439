/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_trace.c - strace on a process of a black-box test (see bb_trace.h).
 */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bb_file.h"
#include "bb_time.h"
#include "bb_trace.h"

#define ATTACH_MS	5000
#define DETACH_MS	5000

void bb_trace_start(struct bb *f, struct bb_trace *t, pid_t target, const char *expr,
		    const char *name)
{
	char pidarg[16];
	const char *argv[] = { "strace", "-f", "-e", expr, "-p", pidarg, NULL };
	int64_t deadline = bb_now_ms() + ATTACH_MS;

	memset(t, 0, sizeof(*t));
	snprintf(t->out, sizeof(t->out), "%s/strace-%s.out", f->dir, name);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)target);
	t->pid = bb_kid_spawn(f, &(struct bb_prog){ .argv = argv, .out = t->out, .err = t->out });
	for (;;) {
		char *text = bb_slurp(t->out);
		bool attached = strstr(text, " attached") != NULL;
		int code;

		free(text);
		if (attached) {
			t->on = true;
			return;
		}
		if (bb_kid_exited(f, t->pid, &code)) {
			bb_print_tail("strace", t->out, 2000);
			print_message("strace exited (%d) without attaching to %s\n", code, name);
			return;
		}
		if (!bb_left_ms(deadline))
			fail_msg("strace did not attach to %s within 5 s", name);
		poll(NULL, 0, 10);
	}
}

/* Does `line` hold any of list[] (NULL-ended; NULL: none)? */
static bool line_holds(const char *line, const char *const *list)
{
	for (const char *const *s = list; s && *s; s++)
		if (strstr(line, *s))
			return true;
	return false;
}

unsigned bb_trace_stop(struct bb *f, struct bb_trace *t, const char *const *needles,
		       const char *const *notes, int *code)
{
	unsigned bad = 0;
	char *text, *p;
	int ret;

	kill(t->pid, SIGINT);
	ret = bb_kid_wait(f, t->pid, DETACH_MS);
	if (code)
		*code = ret;
	text = bb_slurp(t->out);
	for (p = text; *p;) {
		size_t n = strcspn(p, "\n");
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)(n < 511 ? n : 511), p);
		if (line_holds(line, needles)) {
			print_error("strace: %s\n", line);
			bad++;
		} else if (line_holds(line, notes)) {
			print_message("strace (noted, not counted): %s\n", line);
		}
		p += n;
		if (*p)
			p++;
	}
	free(text);
	return bad;
}
