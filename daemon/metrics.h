/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.h - the counters behind `pagepoolctl metrics` and their
 * rendering in the Prometheus text exposition format (0.0.4, what
 * node_exporter's textfile collector reads).
 *
 * Every counter has one writer, so none needs a lock or an atomic
 * read-modify-write: struct metrics_worker is written by its worker only
 * (allocs, frees, protocol errors, closes, request latency); struct
 * metrics_pool (drains, range operations) and struct metrics_daemon
 * (accepts, refusals, all-pool client cache drains) by the admin thread
 * only.  Writers bump with COUNTER_ADD (a relaxed store of the owner's own
 * value + n, as stats.h does); the admin thread renders with READ_ONCE and
 * tolerates a value one request stale.
 *
 * The label values are X-macro lists, so the enum, the name printed and
 * the number of series can never drift apart.
 */
#ifndef PP_METRICS_H
#define PP_METRICS_H

#include <stdint.h>
#include <time.h>

#include "buddy.h"		/* PP_NR_ORDERS */
#include "compiler.h"
#include "config.h"		/* CONFIG_MAX_POOLS */
#include "names.h"		/* DRAIN_NR_MODES */

struct daemon;

/* result label of pagepool_allocations_total */
#define METRICS_ALLOC_RESULTS(X) X(ok) X(ENOMEM) X(EDQUOT) X(EAGAIN) X(EPERM) X(EINVAL)
/* result label of pagepool_frees_total */
#define METRICS_FREE_RESULTS(X) X(ok) X(EPERM) X(EALREADY) X(EINVAL) X(EBUSY)
/* kind label of pagepool_protocol_errors_total */
#define METRICS_PROTO_KINDS(X) X(frame_too_large) X(undecodable) X(unknown_fields) \
	X(before_hello) X(no_body) X(runs_without_feature) X(other)
/* cause label of pagepool_connections_total */
#define METRICS_CONN_CAUSES(X) X(accepted) X(refused_max_connections) X(refused_per_uid) \
	X(dropped_read_timeout) X(dropped_hello_timeout) X(dropped_slow_reader) \
	X(dropped_protocol_error) X(closed)
/* trigger label of pagepool_drains_total */
#define METRICS_TRIGGERS(X) X(admin) X(decay) X(reclaim) X(offline)
/* op label of pagepool_range_operations_total */
#define METRICS_RANGE_OPS(X) X(offline) X(online) X(trim)

#define X(n) MX_ALLOC_##n,
enum metrics_alloc_result { METRICS_ALLOC_RESULTS(X) MX_ALLOC_NR };
#undef X
#define X(n) MX_FREE_##n,
enum metrics_free_result { METRICS_FREE_RESULTS(X) MX_FREE_NR };
#undef X
#define X(n) MX_PROTO_##n,
enum metrics_proto_kind { METRICS_PROTO_KINDS(X) MX_PROTO_NR };
#undef X
#define X(n) MX_CONN_##n,
enum metrics_conn_cause { METRICS_CONN_CAUSES(X) MX_CONN_NR };
#undef X
#define X(n) MX_TRIGGER_##n,
enum metrics_trigger { METRICS_TRIGGERS(X) MX_TRIGGER_NR };
#undef X
#define X(n) MX_RANGE_##n,
enum metrics_range_op { METRICS_RANGE_OPS(X) MX_RANGE_NR };
#undef X

/* mode label of the drain metrics: enum drain_mode, then client caches */
#define MX_MODE_CLIENTS	DRAIN_NR_MODES
#define MX_MODE_NR	(DRAIN_NR_MODES + 1)

/* Histogram buckets: le = 2^k microseconds for k = 0..20, then +Inf. */
#define METRICS_HIST_MAX_LOG2	20
#define METRICS_HIST_BUCKETS	(METRICS_HIST_MAX_LOG2 + 2)

/* A log2 histogram; bucket[] holds per-bucket (not cumulative) counts. */
struct metrics_hist {
	uint64_t bucket[METRICS_HIST_BUCKETS];
	uint64_t sum_ns;
	uint64_t count;
};

/* Per worker: written by that worker only. */
struct metrics_worker {
	uint64_t allocs[CONFIG_MAX_POOLS][PP_NR_ORDERS][MX_ALLOC_NR];
	uint64_t frees[CONFIG_MAX_POOLS][PP_NR_ORDERS][MX_FREE_NR];
	uint64_t proto[MX_PROTO_NR];
	uint64_t conns[MX_CONN_NR];		/* the dropped_* and closed causes */
	struct metrics_hist req;		/* request handling time */
};

/* Per pool: written by the admin thread only (drains run there). */
struct metrics_pool {
	uint64_t drains[MX_MODE_NR][MX_TRIGGER_NR];
	uint64_t drained_pages[MX_MODE_NR];
	uint64_t range_ops[MX_RANGE_NR];
	struct metrics_hist drain_time[MX_MODE_NR];
};

/* Daemon-wide: written by the admin thread only. */
struct metrics_daemon {
	uint64_t conns[MX_CONN_NR];		/* accepted, refused_* */
	struct metrics_pool all_pools;		/* client cache drains of every pool */
};

/* Nanoseconds on the monotonic clock (~20 ns through the vDSO). */
static inline uint64_t metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The owner thread: count one observation of `ns` nanoseconds in h. */
static inline void metrics_hist_add(struct metrics_hist *h, uint64_t ns)
{
	uint64_t us = (ns + 999) / 1000;	/* le is inclusive: round up */
	unsigned k = us <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(us - 1);

	if (k > METRICS_HIST_MAX_LOG2)
		k = METRICS_HIST_MAX_LOG2 + 1;
	COUNTER_ADD(h->bucket[k], 1);
	COUNTER_ADD(h->sum_ns, ns);
	COUNTER_ADD(h->count, 1);
}

/* Admin thread: one drain of `mode` (enum drain_mode or MX_MODE_CLIENTS). */
static inline void metrics_drain(struct metrics_pool *m, unsigned mode, enum metrics_trigger t,
				 uint64_t pages, uint64_t ns)
{
	if (mode >= MX_MODE_NR)
		return;
	COUNTER_ADD(m->drains[mode][t], 1);
	COUNTER_ADD(m->drained_pages[mode], pages);
	metrics_hist_add(&m->drain_time[mode], ns);
}

/* Admin thread: the whole exposition in a malloc'ed, NUL-terminated
 * string for the caller to free.  0 or -ENOMEM. */
int metrics_render(struct daemon *d, char **text);

#endif
