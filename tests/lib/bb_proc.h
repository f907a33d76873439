/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_proc.h - what a test asks of processes and of the machine: a process's
 * descriptors and memory from /proc, the CPUs it may use, and where the
 * tools built beside pagepoold are.
 */
#ifndef PP_BB_PROC_H
#define PP_BB_PROC_H

#include <sys/types.h>

/* Open descriptors of process pid (asserts /proc/PID/fd is readable). */
unsigned bb_fd_count(pid_t pid);

/* A kB field of /proc/PID/status ("RssAnon", "VmRSS"); -1 if absent. */
long bb_status_kib(pid_t pid, const char *field);

/* Skip the test unless CPUs 0 and 1 are both available (workers = 0,1). */
void bb_need_cpus_0_1(void);

/* pagepoolctl next to $PAGEPOOLD (a static buffer), whether it exists or not. */
const char *bb_ctl_path(void);
/* The same, or skip the test when it is not there. */
const char *bb_ctl_path_or_skip(void);

#endif
