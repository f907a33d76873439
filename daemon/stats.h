/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.h - per-worker (per pcp) counters as one X-macro field list, so the
 * struct, the reset, the sum and the printer can never drift apart.
 *
 * Each counter has exactly one writer, the worker that owns the pcp; other
 * threads read it with READ_ONCE and tolerate a stale value (like vmstat).
 */
#ifndef PP_STATS_H
#define PP_STATS_H

#include <stdint.h>

#include "compiler.h"

#define PCP_STATS(X)							\
	X(alloc_pages,	"pages allocated")				\
	X(free_pages,	"pages freed")					\
	X(pcp_hits,	"allocations served from the pcplists")		\
	X(refills,	"pcplist refills from the buddy allocator")	\
	X(bulk_frees,	"batches returned to the buddy allocator")	\
	X(buddy_direct,	"allocations or frees that bypassed the pcp")	\
	X(nowait_fail,	"NOWAIT allocations that found the pcplist empty") \
	X(self_drains,	"workqueue drains run by the worker itself")

struct pcp_stats {
#define X(name, desc) uint64_t name;
	PCP_STATS(X)
#undef X
};

#define STAT_INC(s, field)	COUNTER_ADD((s)->field, 1)
#define STAT_ADD(s, field, n)	COUNTER_ADD((s)->field, (n))

/* Add a remote snapshot of `src` into `dst` (dst is private to the caller). */
static inline void pcp_stats_sum(struct pcp_stats *dst, const struct pcp_stats *src)
{
#define X(name, desc) dst->name += READ_ONCE(((struct pcp_stats *)src)->name);
	PCP_STATS(X)
#undef X
}

#endif
