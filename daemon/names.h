/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * names.h - the words of the daemon's enumerations that its configuration
 * file, the admin protocol and the log lines share: drain modes and log
 * levels.  Plain libc only (no liburcu, libevent or pthread), so
 * `pagepoolctl config-check`, which links the daemon's config.o, links this
 * and nothing else of the daemon.  drain.h and log.h include it; their
 * users need not name it.  Pure functions: any thread.
 */
#ifndef PP_NAMES_H
#define PP_NAMES_H

/* How a remote drain reaches a worker's pcplists (drain.h says what each does). */
enum drain_mode {
	DRAIN_RCU = 0,
	DRAIN_WORKQUEUE,
	DRAIN_SPINLOCK,
	DRAIN_NR_MODES
};

/* syslog's numbers, so a level is its journal priority as well (log.h). */
enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

/* "rcu", "workqueue", "spinlock"; "unknown" for anything else. */
const char *drain_mode_name(enum drain_mode mode);
/* Parse "rcu", "workqueue", "spinlock".  0 or -EINVAL. */
int drain_mode_parse(const char *s, enum drain_mode *mode);

/* "err", "warning", "info", "debug"; "unknown" for anything else. */
const char *log_level_name(enum log_level level);
/* "err"/"error", "warning"/"warn", "info", "debug" -> level.  0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *level);

#endif
