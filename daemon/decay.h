/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decay.h - idle pcp decay (Linux ages pcp->high for the same reason):
 * every decay_interval seconds, a pcp with pages that sat in its lists
 * through the whole interval - all of them on an idle worker, the bottom of
 * the stack on a worker that is busy but hardly uses its lists - gives its
 * cached pages back, drained in rcu mode: the worker is never woken.
 *
 * Thread rules: admin thread only.  Its timer runs on the admin thread's
 * event base; every call here is made from that thread (start-up, the
 * timer, reload, shut-down), which is not an RCU reader and may wait for a
 * grace period.
 */
#ifndef PP_DECAY_H
#define PP_DECAY_H

#include "daemon.h"

struct event_base;

/* Arm the decay timer on `base` (the admin thread's) with
 * cfg.decay_interval (0: the timer stays off until a reload sets one).
 * Needs d's pools and workers.  0 or -ENOMEM. */
int decay_start(struct daemon *d, struct event_base *base);
/* Free the timer and the per-pcp snapshots; decay_start may run again. */
void decay_stop(void);

/* Restart the decay timer with cfg.decay_interval (0: stop it). */
void decay_rearm(struct daemon *d);

/* One decay tick, as the timer runs it: drain the pages that sat through
 * the whole interval since the last tick, and take the new snapshot. */
void decay_tick(struct daemon *d);

#endif
