/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_proc.c - see bb_proc.h.
 */
#include <dirent.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bb_daemon.h"
#include "bb_file.h"
#include "bb_proc.h"

unsigned bb_fd_count(pid_t pid)
{
	char path[64];
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

long bb_status_kib(pid_t pid, const char *field)
{
	char path[64], key[32], *text, *p;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	snprintf(key, sizeof(key), "\n%s:", field);
	text = bb_slurp(path);
	p = strstr(text, key);
	if (p)
		kib = strtol(p + strlen(key), NULL, 10);
	free(text);
	return kib;
}

void bb_need_cpus_0_1(void)
{
	cpu_set_t cpus;

	assert_int_equal(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	if (!CPU_ISSET(0, &cpus) || !CPU_ISSET(1, &cpus)) {
		print_message("CPUs 0 and 1 are not both available: skipping\n");
		skip();
	}
}

const char *bb_ctl_path(void)
{
	static char path[PATH_MAX];
	const char *d = bb_daemon_path();
	const char *slash = strrchr(d, '/');

	snprintf(path, sizeof(path), "%.*s/pagepoolctl", slash ? (int)(slash - d) : 1,
		 slash ? d : ".");
	return path;
}

const char *bb_ctl_path_or_skip(void)
{
	const char *path = bb_ctl_path();

	if (access(path, X_OK) != 0) {
		print_message("pagepoolctl not found at %s (next to PAGEPOOLD): skipping\n", path);
		skip();
	}
	return path;
}
