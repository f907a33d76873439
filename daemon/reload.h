/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reload.h - re-read the configuration and apply what may change while the
 * daemon runs: log_level, decay_interval, write_timeout (new connections),
 * read_timeout, drain_mode, and per pool pcp_high/pcp_batch and quotas.  Anything else
 * (sockets, workers, pools, sizes, groups, frame and connection limits) needs
 * a restart: a file that changes it is refused as a whole, as is an invalid
 * file, and the running configuration stays untouched.
 */
#ifndef PP_RELOAD_H
#define PP_RELOAD_H

#include <stddef.h>

#include "daemon.h"

#define RELOAD_MAX_CHANGES 32

struct reload_result {
	char error[2048];		/* why it was refused */
	unsigned nchanges;
	char changes[RELOAD_MAX_CHANGES][96];
};

/* Admin thread.  0 (applied; r lists the changes) or -EINVAL / -errno. */
int reload_config(struct daemon *d, struct reload_result *r);

#endif
