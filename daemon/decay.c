/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decay.c - idle pcp decay (see decay.h).  Each tick compares every pcp's
 * counters with a snapshot taken at the previous tick, without locks, and
 * drains only the pcps that kept pages cold for a whole interval, all of a
 * pool's in one rcu drain (one grace period).
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>

#include "clientcache.h"
#include "decay.h"
#include "log.h"

/* Per (pool, worker), as of the last decay tick. */
struct decay_seen {
	uint64_t alloc_pages;		/* pcp->stats.alloc_pages */
	uint64_t drains;		/* pcp->drains */
	int count;			/* pages cached */
};

static struct event *decay_ev;
static struct decay_seen *decay_seen;

/*
 * Pages that certainly sat in the pcplists through the whole last interval.
 * The lists are LIFO stacks: with at most A pages allocated from a pcp that
 * held C pages at the last tick, the bottom C - A pages were never touched
 * (frees push on top).  Stale, lock-free reads; a drain in between (counted
 * by pcp->drains) voids the snapshot.
 */
static int decay_cold_pages(struct pcp *pcp, struct decay_seen *seen)
{
	uint64_t alloc = READ_ONCE(pcp->stats.alloc_pages), drains = READ_ONCE(pcp->drains);
	int count = pcp_count_remote(pcp), cold = 0;

	if (drains == seen->drains && alloc - seen->alloc_pages < (uint64_t)seen->count)
		cold = seen->count - (int)(alloc - seen->alloc_pages);
	if (cold > count)
		cold = count;
	seen->alloc_pages = alloc;
	seen->drains = drains;
	seen->count = count;
	return cold;
}

void decay_tick(struct daemon *d)
{
	struct pcp *aged[CONFIG_MAX_CPUS];

	for (unsigned i = 0; i < d->cfg.npools; i++) {
		unsigned n = 0;
		uint64_t cold = 0;

		for (unsigned k = 0; k < d->nworkers; k++) {
			struct pcp *pcp = pool_pcp(d->pools[i], k);
			int c = decay_cold_pages(pcp, &decay_seen[(size_t)i * d->nworkers + k]);

			if (c > 0) {
				aged[n++] = pcp;
				cold += (uint64_t)c;
			}
		}
		if (n) {
			uint64_t pages = 0, t0 = metrics_now_ns();

			if (drain_pcps(aged, n, DRAIN_RCU, 0, &pages) == 0)
				metrics_drain(&d->pools[i]->mx, DRAIN_RCU, MX_TRIGGER_decay, pages,
					      metrics_now_ns() - t0);
			/* The drain bumped pcp->drains: the next tick starts afresh. */
			for (unsigned k = 0; k < d->nworkers; k++)
				decay_cold_pages(pool_pcp(d->pools[i], k),
						 &decay_seen[(size_t)i * d->nworkers + k]);
			log_debug("pool %s: decay drained %lu pages (%lu aged a whole interval) "
				  "from %u workers", d->pools[i]->name, (unsigned long)pages,
				  (unsigned long)cold, n);
		}
	}
	/* Client caches whose client did no cache operation for a whole
	 * interval (its seq did not move) flow back too; only the workers
	 * serving one are woken. */
	{
		struct ccache_result res = { 0 };

		ccache_decay(d, &res);
		if (res.pages)
			log_debug("decay drained %lu pages from %u idle client caches",
				  (unsigned long)res.pages, res.clients);
	}
}

static void decay_cb(evutil_socket_t fd, short what, void *arg)
{
	decay_tick(arg);
}

void decay_rearm(struct daemon *d)
{
	struct timeval tv = { .tv_sec = d->cfg.decay_interval };

	event_del(decay_ev);
	if (d->cfg.decay_interval && event_add(decay_ev, &tv) < 0)
		log_warnx("cannot arm the decay timer");
}

int decay_start(struct daemon *d, struct event_base *base)
{
	decay_seen = calloc((size_t)d->cfg.npools * d->nworkers, sizeof(*decay_seen));
	decay_ev = event_new(base, -1, EV_PERSIST, decay_cb, d);
	if (!decay_seen || !decay_ev)
		return -ENOMEM;
	decay_rearm(d);
	return 0;
}

void decay_stop(void)
{
	if (decay_ev)
		event_free(decay_ev);
	decay_ev = NULL;
	free(decay_seen);
	decay_seen = NULL;
}
