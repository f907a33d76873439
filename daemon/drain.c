/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * drain.c - the remote drain (see drain.h, and doc/DESIGN.md "Remote drain").
 *
 * The rcu mode is the point of the project: the admin thread swaps each
 * worker's pcplists with an empty spare and, after one QSBR grace period, owns
 * the old lists outright and flushes them.  Workers only ever see a pointer
 * change on their next operation.  The grace period is waited once for all
 * pcps, so draining N workers costs one synchronize_rcu().
 */
#include <errno.h>
#include <string.h>

#include "drain.h"

/* One drain at a time, like Linux's pcpu_drain_mutex.  Never held by a
 * worker, so waiting for a grace period under it cannot deadlock. */
static pthread_mutex_t drain_mutex = PTHREAD_MUTEX_INITIALIZER;

static bool drain_wanted(struct pcp *pcp, unsigned flags)
{
	return (flags & DRAIN_FORCE) || pcp_count_remote(pcp) != 0;
}

static void drain_account(struct pcp *pcp, uint64_t pages)
{
	pcp->drains++;
	pcp->drained_pages += pages;
}

static uint64_t drain_rcu(struct pcp *const *pcps, unsigned n, unsigned flags)
{
	uint64_t total = 0;
	unsigned swapped = 0;

	for (unsigned i = 0; i < n; i++) {
		struct pcp *pcp = pcps[i];

		pcp->drain_pending = drain_wanted(pcp, flags);
		if (!pcp->drain_pending)
			continue;
		WRITE_ONCE(pcp->drain, pp_rcu_xchg_pointer(&pcp->lp, pcp->drain));
		swapped++;
	}
	if (swapped == 0)
		return 0;
	/* After this no worker still holds an old list. */
	pp_synchronize_rcu();
	for (unsigned i = 0; i < n; i++) {
		struct pcp *pcp = pcps[i];
		uint64_t pages;

		if (!pcp->drain_pending)
			continue;
		pages = pcp_flush(pcp, pcp->drain);
		drain_account(pcp, pages);
		total += pages;
	}
	return total;
}

static int drain_workqueue(struct pcp *const *pcps, unsigned n, unsigned flags,
			   uint64_t *total)
{
	int ret = 0;

	/* Queue every request first so the workers drain in parallel. */
	for (unsigned i = 0; i < n; i++) {
		struct pcp *pcp = pcps[i];
		uint64_t ticket;

		pcp->drain_pending = 0;
		if (!drain_wanted(pcp, flags))
			continue;
		if (pcp_wq_request(pcp, &ticket) < 0) {
			ret = -ENOTSUP;
			continue;
		}
		pcp->drain_pending = 1;
		pcp->wq_ticket = ticket;
	}
	for (unsigned i = 0; i < n; i++) {
		struct pcp *pcp = pcps[i];
		uint64_t pages;

		if (!pcp->drain_pending)
			continue;
		pages = pcp_wq_wait(pcp, pcp->wq_ticket);
		drain_account(pcp, pages);
		*total += pages;
	}
	return ret;
}

static int drain_spinlock(struct pcp *const *pcps, unsigned n, unsigned flags,
			  uint64_t *total)
{
	for (unsigned i = 0; i < n; i++)
		if (!READ_ONCE(pcps[i]->locked))
			return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		struct pcp *pcp = pcps[i];
		struct pcplists *old;
		uint64_t pages;

		if (!drain_wanted(pcp, flags))
			continue;
		pthread_spin_lock(&pcp->lock);
		old = pcp->lp;
		/* pcp_count_remote() reads lp without the lock. */
		WRITE_ONCE(pcp->lp, pcp->drain);
		pthread_spin_unlock(&pcp->lock);
		WRITE_ONCE(pcp->drain, old);
		pages = pcp_flush(pcp, old);
		drain_account(pcp, pages);
		*total += pages;
	}
	return 0;
}

int drain_pcps(struct pcp *const *pcps, unsigned n, enum drain_mode mode,
	       unsigned flags, uint64_t *drained)
{
	uint64_t total = 0;
	int ret = 0;

	if ((unsigned)mode >= DRAIN_NR_MODES)
		return -EINVAL;
	pthread_mutex_lock(&drain_mutex);
	switch (mode) {
	case DRAIN_RCU:
		total = drain_rcu(pcps, n, flags);
		break;
	case DRAIN_WORKQUEUE:
		ret = drain_workqueue(pcps, n, flags, &total);
		break;
	case DRAIN_SPINLOCK:
		ret = drain_spinlock(pcps, n, flags, &total);
		break;
	default:
		ret = -EINVAL;
	}
	pthread_mutex_unlock(&drain_mutex);
	if (drained)
		*drained = total;
	return ret;
}

void drain_set_locking(struct pcp *const *pcps, unsigned n, int locked)
{
	pthread_mutex_lock(&drain_mutex);
	for (unsigned i = 0; i < n; i++)
		WRITE_ONCE(pcps[i]->locked, locked);
	/* An operation that read the old value finishes before we return. */
	pp_synchronize_rcu();
	pthread_mutex_unlock(&drain_mutex);
}
