/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reclaim.c - drain-and-retry for allocations that fail while pcplists
 * hold pages (see reclaim.h).
 *
 * Tickets: per pool, `started` counts drains begun and `done` the last one
 * finished.  A worker reads started (s) BEFORE it raises `wanted`; the admin
 * thread clears `wanted` BEFORE it bumps started.  So either the admin saw
 * the request, and the drain it then begins is numbered at least s + 1 and
 * swaps the lists after the worker's failed attempt, or it did not, and
 * `wanted` stays raised for the next drain, again numbered > s.  A request
 * waits for done >= s + 1, which is therefore always coming and always a
 * drain that began after the allocation failed.
 */
#include <errno.h>
#include <event2/event.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clientcache.h"
#include "log.h"
#include "reclaim.h"
#include "worker.h"

struct reclaim_pool {
	uint64_t started;		/* admin writes, workers read */
	uint64_t done;			/* admin writes (release), workers read */
	int wanted;			/* workers raise, admin clears */
};

static struct daemon *reclaim_d;
static struct reclaim_pool reclaim_pools[CONFIG_MAX_POOLS];
static int reclaim_efd = -1;
static struct event *reclaim_ev;

bool reclaim_worth(struct pool *pool, struct pcp *self, uint64_t pages)
{
	return reclaim_worth_cached(pool, self, pages, 0);
}

bool reclaim_worth_cached(struct pool *pool, struct pcp *self, uint64_t pages, uint64_t clients)
{
	uint64_t cached = clients, own = self ? (uint64_t)pcp_count_remote(self) : 0;

	for (unsigned i = 0; i < pool->npcp; i++)
		if (pool->pcps[i] != self)
			cached += (uint64_t)pcp_count_remote(pool->pcps[i]);
	/* The caller's own list counts too: a failed batch gives its blocks
	 * back to it, and the retry after the drain takes them first. */
	return cached && cached + own + READ_ONCE(pool->zone.nr_free) >= pages;
}

bool reclaim_enabled(void)
{
	return __atomic_load_n(&reclaim_efd, __ATOMIC_ACQUIRE) >= 0;
}

int reclaim_request(unsigned idx, uint64_t *ticket)
{
	struct reclaim_pool *rp = &reclaim_pools[idx];
	uint64_t one = 1;

	if (__atomic_load_n(&reclaim_efd, __ATOMIC_ACQUIRE) < 0)
		return -ENOTSUP;
	*ticket = LOAD_ACQUIRE(rp->started) + 1;
	__atomic_store_n(&rp->wanted, 1, __ATOMIC_SEQ_CST);
	/* EAGAIN: the counter is saturated, so a wake-up is pending anyway. */
	if (write(reclaim_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("reclaim: eventfd write");
	return 0;
}

bool reclaim_done(unsigned idx, uint64_t ticket)
{
	return LOAD_ACQUIRE(reclaim_pools[idx].done) >= ticket;
}

/* Admin thread: run every requested drain, then wake the workers waiting. */
static void reclaim_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = reclaim_d;
	uint64_t n;
	bool any = false;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("reclaim: eventfd read");
	for (unsigned i = 0; i < d->cfg.npools; i++) {
		struct reclaim_pool *rp = &reclaim_pools[i];
		uint64_t pages = 0, ticket;
		int ret;

		if (!__atomic_exchange_n(&rp->wanted, 0, __ATOMIC_SEQ_CST))
			continue;
		ticket = rp->started + 1;
		__atomic_store_n(&rp->started, ticket, __ATOMIC_SEQ_CST);
		ret = pool_drain_for(d->pools[i], -1, 0, MX_TRIGGER_reclaim, &pages);
		/* Then the client caches, whose pages land in the workers' pcps:
		 * drained again, so the retry finds them in the buddy. */
		if (ret == 0 && ccache_clients((int)i)) {
			struct ccache_result res = { 0 };
			uint64_t more = 0;

			ccache_drain_for(d, (int)i, 0, 0,
					 d->cfg.cache_grace_ms < CCACHE_RECLAIM_MS ?
					 d->cfg.cache_grace_ms : CCACHE_RECLAIM_MS, MX_TRIGGER_reclaim,
					 &res);
			if (res.pages)
				ret = pool_drain_for(d->pools[i], -1, 0, MX_TRIGGER_reclaim, &more);
			pages += more;
			log_debug("pool %s: %lu pages back from %u client caches", d->pools[i]->name,
				  (unsigned long)res.pages, res.clients);
		}
		STORE_RELEASE(rp->done, ticket);
		if (ret < 0)
			log_warnx("pool %s: drain for a failed allocation: %s", d->pools[i]->name,
				  strerror(-ret));
		else
			log_debug("pool %s: an allocation failed; drained %lu cached pages",
				  d->pools[i]->name, (unsigned long)pages);
		any = true;
	}
	if (any)
		workers_wake_parked(d);
}

int reclaim_start(struct daemon *d, struct event_base *base)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	reclaim_ev = event_new(base, fd, EV_READ | EV_PERSIST, reclaim_cb, NULL);
	if (!reclaim_ev || event_add(reclaim_ev, NULL) < 0) {
		if (reclaim_ev)
			event_free(reclaim_ev);
		reclaim_ev = NULL;
		close(fd);
		return -ENOMEM;
	}
	reclaim_d = d;
	__atomic_store_n(&reclaim_efd, fd, __ATOMIC_RELEASE);
	return 0;
}

void reclaim_stop(void)
{
	int fd = __atomic_exchange_n(&reclaim_efd, -1, __ATOMIC_ACQ_REL);

	if (reclaim_ev)
		event_free(reclaim_ev);
	reclaim_ev = NULL;
	if (fd >= 0)
		close(fd);
}
