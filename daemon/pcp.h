/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcp.h - per-worker page lists for one pool (Linux's per_cpu_pages).
 *
 * Each worker owns one pcp per pool.  The lists live in a struct pcplists
 * published through pcp->lp under RCU (QSBR): the worker reads lp once per
 * operation with rcu_dereference and is the only thread that touches *lp.
 * The admin thread drains remotely by swapping lp with the empty spare
 * (pcp->drain), waiting for a grace period and flushing the old lists - no
 * signal, no wake-up, no pause of the worker (see drain.h).
 *
 * Lists are bounded LIFO arrays of pfns (DPDK's per-lcore cache shape): a pop
 * is one load from a hot cache line, not a dependent load through a link.
 * Orders 0..PCP_MAX_ORDER are cached; larger orders go to the buddy directly.
 *
 * count is in pages.  On free, when count >= high, blocks are returned to the
 * buddy until count <= high - batch.  On alloc from an empty list, batch pages
 * (batch >> order blocks, at least one) are taken in one locked section.
 * high == 0 disables the pcp: allocations and frees go straight to the buddy
 * (zone_pcp_disable, used while a range is isolated).
 *
 * Thread rules: pcp_alloc/pcp_free/pcp_service run on the owning worker,
 * which must be a registered, online QSBR reader.  pcp_set_high_batch and the
 * pcp_*_remote readers may run anywhere.
 */
#ifndef PP_PCP_H
#define PP_PCP_H

#include <pthread.h>
#include <stdint.h>

#include "buddy.h"
#include "rcu.h"
#include "stats.h"

#define PCP_MAX_ORDER	3
#define PCP_NR_ORDERS	(PCP_MAX_ORDER + 1)
#define PCP_HIGH_MAX	4096
#define PCP_BATCH_MAX	63
/* A list can hold high + a refill + one push before it is trimmed. */
#define PCP_LIST_CAP	(PCP_HIGH_MAX + PCP_BATCH_MAX + 1)

/* pcp_alloc flags */
#define PCP_NOWAIT	0x1	/* pcplist only; never take the buddy lock */

struct pcplist {
	uint32_t n;
	uint32_t pfns[PCP_LIST_CAP];
};

struct pcplists {
	int count;		/* pages in all lists; read remotely */
	struct pcplist lists[PCP_NR_ORDERS];
};

struct pcp {
	/* Read by the worker on every operation. */
	struct pcplists *lp __cacheline_aligned;
	struct zone *zone;
	struct page *pages;
	int high;
	int batch;
	int locked;			/* spinlock drain mode: lock every access */
	pthread_spinlock_t lock;
	struct pcp_stats stats;

	/* Admin side. */
	struct pcplists *drain __cacheline_aligned;	/* empty spare */
	int drain_pending;
	uint64_t wq_ticket;
	uint64_t drains;		/* times drained remotely or on request */
	uint64_t drained_pages;

	/* Workqueue drain hand-shake. */
	uint64_t wq_req __cacheline_aligned;
	uint64_t wq_done;
	uint64_t wq_drained;		/* pages of the last self-drain */
	void (*kick)(void *arg);	/* wakes the owning worker */
	void *kick_arg;
	pthread_mutex_t wq_lock;
	pthread_cond_t wq_cond;
};

/* Linux-like defaults for a pool of npages. */
int pcp_default_batch(uint64_t npages);
int pcp_default_high(int batch);

/* Allocates the pcp and its two lists.  0 or -ENOMEM. */
int pcp_create(struct zone *z, int high, int batch, struct pcp **out);
/* Returns every cached page to the zone and frees the pcp.  Workers must be gone. */
void pcp_destroy(struct pcp *pcp);

/* Validates (0 <= high <= PCP_HIGH_MAX, 1 <= batch <= PCP_BATCH_MAX) and
 * publishes new tunables; the worker picks them up on its next operation.
 * 0 or -EINVAL.  Any thread. */
int pcp_set_high_batch(struct pcp *pcp, int high, int batch);

/* Worker: the function called by drain.c to wake this pcp's owner for a
 * workqueue drain (typically an eventfd write). */
void pcp_set_kick(struct pcp *pcp, void (*kick)(void *), void *arg);

/*
 * Worker: take one block of `order`; its head is left PG_PCP for the caller
 * to claim.  Returns 0, -EAGAIN (PCP_NOWAIT and the list is empty, or the
 * order is not cached), -ENOMEM (pool exhausted), -EINVAL (bad order).
 */
int pcp_alloc(struct pcp *pcp, unsigned order, unsigned flags, uint32_t *pfn);

/* Worker: give back one validated block (its head may be in any state; it
 * becomes PG_PCP or returns to the buddy). */
void pcp_free(struct pcp *pcp, uint32_t pfn, unsigned order);

/*
 * Worker, before taking `blocks` blocks of `order` with pcp_alloc(): when
 * that is more than the list holds plus one refill, top the list up from the
 * buddy in one locked section sized to the request (at most PCP_LIST_CAP),
 * instead of one batch-sized refill per `batch` blocks.  A hint: nothing
 * happens for uncached orders or a disabled pcp (high 0), and the blocks
 * stay cached if the request takes fewer.
 */
void pcp_prefill(struct pcp *pcp, unsigned order, unsigned blocks);

/*
 * Worker: take up to n cached blocks of `order` off the list at once, in
 * the order pcp_alloc() would pop them, with the same counters (pcp_hits,
 * alloc_pages).  Returns how many (0 for uncached orders or a disabled
 * pcp); the caller takes the rest one by one with pcp_alloc().
 */
unsigned pcp_alloc_bulk(struct pcp *pcp, unsigned order, unsigned n, uint32_t *pfns);

/*
 * Worker: give back n validated blocks (orders read from their heads) at
 * once: those that fit below high join the lists, the rest return to the
 * buddy in one locked section, instead of a batch-sized trim per `batch`
 * blocks.  A disabled pcp (high 0) frees each block through the buddy lock
 * as pcp_free() does.
 */
void pcp_free_bulk(struct pcp *pcp, const uint32_t *pfns, unsigned n);

/*
 * Worker: flush its own lists into the buddy directly (no grace period: the
 * owner needs none).  Used before failing an allocation with -ENOMEM, and by
 * pcp_service() for workqueue drains.  Returns the pages flushed.
 */
unsigned pcp_drain_local(struct pcp *pcp);

/* Worker: run a pending workqueue drain request, if any.  Returns the number
 * of pages flushed. */
unsigned pcp_service(struct pcp *pcp);

/* Admin: ask the owning worker to drain itself (workqueue mode) and return
 * the request's ticket; pcp_wq_wait() blocks until it is done and returns the
 * pages it flushed.  -ENOTSUP when no kick is registered. */
int pcp_wq_request(struct pcp *pcp, uint64_t *ticket);
unsigned pcp_wq_wait(struct pcp *pcp, uint64_t ticket);

/* Flush `lp` into the zone (one locked section per batch); returns pages.
 * The caller owns `lp` exclusively (after a grace period, or as its worker). */
unsigned pcp_flush(struct pcp *pcp, struct pcplists *lp);

/* Remote, lock-free, possibly stale reads. */
static inline int pcp_count_remote(struct pcp *pcp)
{
	struct pcplists *lp = READ_ONCE(pcp->lp);
	return READ_ONCE(lp->count);
}

#endif
