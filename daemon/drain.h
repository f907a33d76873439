/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * drain.h - return the pages cached in workers' pcplists to the buddy.
 *
 * DRAIN_RCU (default; doc/DESIGN.md "Remote drain"): under the drain mutex, swap
 * each non-empty pcp's lists with its empty spare (rcu_xchg_pointer), wait one
 * QSBR grace period (synchronize_rcu), flush the old lists.  Workers are never
 * signalled, woken or paused; idle (offline) workers never delay it.
 *
 * DRAIN_WORKQUEUE (the 2017 kernel design, for comparison): ask each worker
 * with pages to drain itself (pcp->kick, e.g. an eventfd) and wait for all.
 *
 * DRAIN_SPINLOCK (Linux 6.0, for comparison): take each pcp's spinlock, swap
 * the lists, drop it, flush.  Only valid on pcps whose workers lock every
 * access (pcp->locked, see drain_set_locking()).
 *
 * Thread rules: the caller must not be an online QSBR reader and must not
 * hold any lock a worker may take.  One drain runs at a time; others wait.
 */
#ifndef PP_DRAIN_H
#define PP_DRAIN_H

#include <stdint.h>

#include "names.h"		/* enum drain_mode, drain_mode_name/parse */
#include "pcp.h"

#define DRAIN_FORCE	0x1	/* drain every pcp, even ones that look empty */

/*
 * Drain `n` pcps.  Returns 0 and the number of pages flushed in *drained
 * (may be NULL), -EINVAL for an unknown mode or a spinlock drain of an
 * unlocked pcp, -ENOTSUP for a workqueue drain of a pcp without a kick.
 */
int drain_pcps(struct pcp *const *pcps, unsigned n, enum drain_mode mode,
	       unsigned flags, uint64_t *drained);

/* Turn per-access pcp locking on or off for these pcps, safely: the new value
 * is published and a grace period waited before returning.  Admin thread. */
void drain_set_locking(struct pcp *const *pcps, unsigned n, int locked);

#endif
