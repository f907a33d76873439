/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * names.c - the names of drain modes and log levels (see names.h).  Kept
 * apart from drain.c and log.c, which need liburcu and pthread, so that a
 * program that only parses the configuration (pagepoolctl config-check)
 * links no more than libc for them.
 */
#include <errno.h>
#include <string.h>

#include "names.h"

static const char *const drain_mode_names[DRAIN_NR_MODES] = {
	[DRAIN_RCU] = "rcu",
	[DRAIN_WORKQUEUE] = "workqueue",
	[DRAIN_SPINLOCK] = "spinlock",
};

const char *drain_mode_name(enum drain_mode mode)
{
	return (unsigned)mode < DRAIN_NR_MODES ? drain_mode_names[mode] : "unknown";
}

int drain_mode_parse(const char *s, enum drain_mode *mode)
{
	for (unsigned m = 0; m < DRAIN_NR_MODES; m++) {
		if (strcmp(s, drain_mode_names[m]) == 0) {
			*mode = (enum drain_mode)m;
			return 0;
		}
	}
	return -EINVAL;
}

int log_level_parse(const char *s, enum log_level *level)
{
	static const struct { const char *name; enum log_level lvl; } names[] = {
		{ "err", LOG_LVL_ERR }, { "error", LOG_LVL_ERR }, { "warning", LOG_LVL_WARN },
		{ "warn", LOG_LVL_WARN }, { "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*level = names[i].lvl;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERR: return "err";
	case LOG_LVL_WARN: return "warning";
	case LOG_LVL_INFO: return "info";
	case LOG_LVL_DEBUG: return "debug";
	}
	return "unknown";
}
