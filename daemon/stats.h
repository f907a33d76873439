/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.h - per-worker (per pcp) counters as one X-macro field list, so the
 * struct, the sum, the wire message and the printer can never drift apart.
 *
 * X(name, title, desc): `name` is the C field here, the field of the wire
 * message PcpStats (proto/pagepool.proto) and the key of pagepoolctl's JSON;
 * `title` is pagepoolctl's column header; `desc` says what is counted.  The
 * daemon fills PcpStats from these lists (admin_req.c: a field missing from
 * the message, or not a uint64, fails to compile), and the unit test
 * test_pcpstats fails if the message has a counter these lists lack.
 *
 * PCP_STATS: each counter has exactly one writer, the worker that owns the
 * pcp; other threads read it with READ_ONCE and tolerate a stale value
 * (like vmstat).
 */
#ifndef PP_STATS_H
#define PP_STATS_H

#include <stdint.h>

#include "compiler.h"

#define PCP_STATS(X)								\
	X(alloc_pages,	"ALLOC",	"pages allocated")			\
	X(free_pages,	"FREE",		"pages freed")				\
	X(pcp_hits,	"PCP_HITS",	"allocations served from the pcplists")	\
	X(refills,	"REFILLS",	"pcplist refills from the buddy allocator") \
	X(bulk_frees,	"BULK_FREES",	"batches returned to the buddy allocator") \
	X(buddy_direct,	"BUDDY_DIRECT",	"allocations or frees that bypassed the pcp") \
	X(nowait_fail,	"NOWAIT_FAIL",	"NOWAIT allocations that found the pcplist empty") \
	X(self_drains,	"SELF_DRAINS",	"workqueue drains run by the worker itself")

/*
 * The drains of a pcp, counted by whoever drains it (under the drain mutex,
 * drain.c) in struct pcp's fields of the same names, not in pcp_stats.
 */
#define PCP_DRAIN_STATS(X)						\
	X(drains,	"DRAINS",	"times drained, remotely or on request") \
	X(drained_pages, "DRAINED_PAGES", "pages those drains returned")

/* Every counter of the wire message PcpStats, in its order. */
#define PCP_COUNTERS(X) PCP_STATS(X) PCP_DRAIN_STATS(X)

struct pcp_stats {
#define X(name, title, desc) uint64_t name;
	PCP_STATS(X)
#undef X
};

#define STAT_INC(s, field)	COUNTER_ADD((s)->field, 1)
#define STAT_ADD(s, field, n)	COUNTER_ADD((s)->field, (n))

/* Add a remote snapshot of `src` into `dst` (dst is private to the caller). */
static inline void pcp_stats_sum(struct pcp_stats *dst, const struct pcp_stats *src)
{
#define X(name, title, desc) dst->name += READ_ONCE(((struct pcp_stats *)src)->name);
	PCP_STATS(X)
#undef X
}

#endif
