/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reclaim.h - an allocation must not fail while the pool has free pages.
 *
 * Pages parked in pcplists keep buddy blocks split, so a pool whose pages
 * are all free can still fail a large allocation.  Linux drains the
 * pcplists and retries before it fails one (drain_all_pages() in the
 * direct-reclaim path); pagepoold does the same with its own mechanism:
 *
 *  1. the allocating worker flushes its own lists directly and retries
 *     (pcp_drain_local: the owner needs no grace period);
 *  2. if that still fails and other workers cache pages that could make up
 *     the difference, the request is parked on its connection (which stops
 *     reading, so answers stay in order) and the admin thread is asked for
 *     a drain of the pool in its configured mode (rcu by default: swap,
 *     grace period, flush; no worker is signalled or paused);
 *  3. when that drain is done the worker retries the request once more,
 *     and only then answers ENOMEM.
 *
 * A worker never waits for a grace period: it parks the request and keeps
 * serving its other connections.  Requests that park while a drain is
 * already queued share it.
 *
 * Thread rules: reclaim_start/reclaim_stop on the admin thread (main);
 * reclaim_request/reclaim_done on workers.  Without reclaim_start (the
 * in-process fuzz harness) reclaim_request returns -ENOTSUP and the
 * allocation simply fails.
 */
#ifndef PP_RECLAIM_H
#define PP_RECLAIM_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"

struct event_base;

/* Admin thread: serve drain requests on `base`.  0 or -errno. */
int reclaim_start(struct daemon *d, struct event_base *base);
void reclaim_stop(void);

/*
 * Worker: could a drain of the other pcps of `pool` help an allocation of
 * `pages` that just failed?  True when they cache pages and, together with
 * the buddy's free pages and the caller's own list (`self`, where a failed
 * batch left its blocks), at least `pages` (stale-tolerant reads).  False
 * means the pool is truly short: answer ENOMEM at once.
 */
bool reclaim_worth(struct pool *pool, struct pcp *self, uint64_t pages);
/* The same with `cached` pages more in client caches (clientcache.h). */
bool reclaim_worth_cached(struct pool *pool, struct pcp *self, uint64_t pages, uint64_t cached);

/* Worker: does an admin thread serve drain requests (reclaim_start)? */
bool reclaim_enabled(void);

/*
 * Worker: ask the admin thread to drain pool `idx`.  *ticket gets the drain
 * to wait for: reclaim_done() turns true once a drain that started after
 * this call has finished, and the worker is woken (workers_wake_parked)
 * then.  0, or -ENOTSUP when no admin thread serves drains.
 */
int reclaim_request(unsigned idx, uint64_t *ticket);
bool reclaim_done(unsigned idx, uint64_t ticket);

#endif
