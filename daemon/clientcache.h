/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clientcache.h - the daemon's side of client caches: pcplists that live
 * in a client's process, in a region it shares with the daemon
 * (proto/ccache.h), drained remotely without signalling, waking or asking
 * the client anything.  See doc/DESIGN.md, "Pcplists in the client".
 *
 * A drain of one client cache is done by the worker thread that serves the
 * connection, because that thread alone changes the connection's ownership
 * records; the region is the only thing the two processes share.  The
 * worker switches the client's active set to the empty spare, and once a
 * grace period has passed (the client's seq was even, or has moved) it
 * copies the old set into its own memory, checks every pfn against the
 * connection's records and frees the good ones as a Free would.  A client
 * still inside the same cache operation when client_cache_grace_ms is up is
 * reported as stuck; its old set waits for the next drain, and its pages
 * stay its own (offline names it among the holders).
 *
 * Requests: ccache_drain() (admin thread: drain --clients, offline, the
 * reclaim of a failed allocation, idle decay) asks every worker, by its
 * eventfd, to drain the caches matching the request, and waits until each
 * has answered or the bound is past.  A worker never blocks for a client:
 * it re-polls the clients it waits for from a timer.
 */
#ifndef PP_CLIENTCACHE_H
#define PP_CLIENTCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "ccache.h"
#include "metrics.h"

struct conn;
struct daemon;
struct worker;

struct ccache {
	struct pp_cc_region *r;		/* PP_CC_SIZE bytes, shared with the client */
	int fd;				/* the memfd until it is sent, then -1 */
	uint32_t active;		/* the daemon's own copy: never read back */
	bool waiting;			/* switched; the old set is not flushed yet
					 * (atomic: the decay reads it) */
	uint64_t seq_seen;		/* the client's seq just after the switch */
	uint64_t since_ns;		/* when the switch was made */
	uint64_t gen;			/* the request it takes part in; 0: none */
	uint64_t admin_seq;		/* admin thread: seq at the last decay tick */
	int decay_mark;			/* atomic: the decay asks for this cache */
	/* Written by the worker, read by the admin thread (READ_ONCE). */
	uint64_t drains;		/* flushes done */
	uint64_t errors;		/* bad entries found (never freed) */
	uint64_t stuck;			/* drains it held up past the bound */
	uint64_t flushed;		/* pages freed by flushes */
};

/* What a drain request did, summed over the clients it touched. */
#define CCACHE_STUCK_MAX	16
struct ccache_result {
	uint64_t pages;			/* freed from client caches */
	uint64_t bad;			/* bad entries found */
	uint32_t clients;		/* caches flushed */
	uint32_t nstuck;		/* clients stuck (ids of the first ones below) */
	uint64_t stuck[CCACHE_STUCK_MAX];
	uint32_t late;			/* workers that did not answer in time */
};

/* ccache_drain flags */
#define CCACHE_IDLE	0x1	/* only the caches ccache_decay() marked */

/*
 * Worker, answering CacheMap: create c's region (a sealed memfd), map it.
 * 0 with *fd (to send with the answer; c->cc keeps it until
 * ccache_fd_sent), -EALREADY, -ENOMEM, or another -errno.
 */
int ccache_map(struct conn *c, int *fd);

/* Worker: the fd went out with its answer (conn_out): close it. */
void ccache_fd_sent(struct conn *c, int fd);

/* Worker, at close: unmap and forget c's region (its pages are released
 * with the rest of c's). */
void ccache_destroy(struct conn *c);

/* Pages in c's cache now, as its region says (clamped; may be stale or
 * garbage: for display only).  Any thread that keeps c alive. */
uint64_t ccache_pages(const struct ccache *cc);

/*
 * Admin thread: drain the caches of every client of pool `pool_idx` (-1:
 * every pool), or only client `client_id` when it is not 0, and wait for
 * the workers (at most bound_ms and a second).  A client still inside the
 * operation it was in at the switch after bound_ms keeps its cache; it is
 * reported as stuck when bound_ms is client_cache_grace_ms (an operator's
 * drain, offline), and only left waiting for the next drain when shorter
 * (reclaim waits CCACHE_RECLAIM_MS, the decay not at all), so that no
 * client can hold the admin thread for long by sitting in an operation.
 * *res (may be NULL) says what was done.  0, or -EAGAIN when a drain is
 * already running (reentry from another admin path).
 */
#define CCACHE_RECLAIM_MS	1
int ccache_drain(struct daemon *d, int pool_idx, uint64_t client_id, unsigned flags,
		 unsigned bound_ms, struct ccache_result *res);
/* ccache_drain, counted and timed as a drain of mode "clients" under
 * `trigger`: in pool_idx's metrics, or the daemon's for every pool. */
int ccache_drain_for(struct daemon *d, int pool_idx, uint64_t client_id, unsigned flags,
		     unsigned bound_ms, enum metrics_trigger trigger, struct ccache_result *res);

/* Pages in the caches of pool_idx's clients, as their regions say (for
 * reclaim: would a drain be worth it?).  Any thread but under no lock of
 * the daemon's (takes d->quota_lock). */
uint64_t ccache_cached(struct daemon *d, int pool_idx);

/*
 * Admin thread, every decay_interval: drain the caches whose client did no
 * cache operation since the last call (its seq did not move) and still
 * caches pages, and the drains left waiting on a client that has moved on
 * since.  Idle caches are found from the regions, under d->quota_lock, so
 * only the workers serving one are woken; none when there is none.
 */
int ccache_decay(struct daemon *d, struct ccache_result *res);

/* Worker, on every eventfd wake-up: start a drain the admin asked for. */
void ccache_worker_wake(struct worker *w);

/* Worker start and stop: its re-poll timer and buffers.  0 or -ENOMEM. */
int ccache_worker_init(struct worker *w);
void ccache_worker_fini(struct worker *w);

/*
 * Worker, or a single-threaded harness (fuzz, unit tests): the two halves
 * of one drain of c's cache, by hand.  ccache_begin switches (unless a
 * switch still waits for its grace period); ccache_finish flushes when the
 * grace period is over and returns 1 (what it did added to *res), or 0
 * while the client is still inside the operation it was in.
 */
void ccache_begin(struct conn *c);
int ccache_finish(struct conn *c, struct ccache_result *res);

/* Clients of a pool with a cache mapped (reclaim: worth draining them?). */
uint32_t ccache_clients(int pool_idx);

#endif
