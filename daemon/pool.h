/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pool.h - one pool: its arena, descriptor array, zone, one pcp per worker,
 * and the ownership rules every allocation and free goes through.
 *
 * Ownership: the daemon alone records who holds each page.  Every allocated
 * block's head carries its owner's id and sits on that owner's list (linked
 * through the descriptor), so a free is validated against the descriptor and
 * release-all is O(blocks held).  An owner belongs to one worker (one
 * connection); only that worker's thread uses it.
 *
 * Shrinking (pool_offline/pool_online/pool_trim) lives in isolate.c and the
 * invariant check in verify.c; both are declared here because they act on the
 * whole pool.
 */
#ifndef PP_POOL_H
#define PP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buddy.h"
#include "drain.h"
#include "metrics.h"
#include "pcp.h"
#include "share.h"

#define POOL_NAME_MAX	64

struct pool_holder;

struct pool_config {
	const char *name;
	uint64_t size;			/* bytes; a multiple of the max-order block */
	bool prefault;
	unsigned nworkers;		/* one pcp each; at least 1 */
	enum drain_mode drain_mode;	/* default mode; spinlock turns on pcp locking */
	int high;			/* -1: default */
	int batch;			/* -1: default */
};

struct pool {
	char name[POOL_NAME_MAX];
	struct arena arena;
	struct page *pages;
	size_t pages_bytes;
	uint32_t npages;
	struct zone zone;
	unsigned npcp;
	struct pcp **pcps;		/* pcps[worker index] */
	enum drain_mode drain_mode;
	int high, batch;		/* configured tunables (restored after isolation) */
	pthread_mutex_t admin_lock;	/* serialises offline/online/trim/set-pcp */
	struct share share;		/* offers and shared blocks (share.h) */
	struct metrics_pool mx;		/* drains, range operations; admin thread */
};

/*
 * A client of a pool.  id, head and pages belong to the owner's thread;
 * the share fields to whoever holds pool->share.lock (others may
 * READ_ONCE them).
 */
struct owner {
	uint32_t id;			/* nonzero, unique among live owners */
	uint32_t head;			/* first allocated block, PFN_NIL if none */
	uint64_t pages;			/* pages held; others may READ_ONCE it */
	uint64_t client_id;		/* the connection's id, for Taken.giver */
	uint32_t ref_head;		/* its references (share_ref.hnext) */
	uint32_t offer_head;		/* its open offers (share_offer.gnext) */
	uint32_t noffers;
	uint64_t ref_pages;		/* pages held by reference */
	uint64_t offered_pages;		/* pages under its open offers */
	uint64_t *uid_pages;		/* its uid's page count, or NULL */
	uint32_t *uid_offers;		/* its uid's open offers, or NULL */
};

/* alloc flags (match the wire protocol's) */
#define POOL_NOWAIT	0x1	/* pcplist only: EAGAIN when empty */
#define POOL_ZERO	0x2	/* zero the pages before handing them out */
#define POOL_PARTIAL	0x4	/* a short batch is a success */

/* Start-up: 0 or -errno (-EINVAL for a bad config, with nothing allocated). */
int pool_create(const struct pool_config *cfg, struct pool **out);
/* Every worker must be gone; pages still held are simply forgotten. */
void pool_destroy(struct pool *pool);

static inline struct pcp *pool_pcp(struct pool *pool, unsigned worker)
{
	return pool->pcps[worker];
}

void owner_init(struct owner *o, uint32_t id);

/*
 * Allocate up to `count` blocks of `order` for `o` through `pcp` (NULL: the
 * buddy directly, e.g. from the admin thread).  Without POOL_PARTIAL the batch
 * is all or nothing.  Returns 0 with *got blocks in pfns[], or -EINVAL (bad
 * order/count), -ENOMEM (exhausted), -EAGAIN (NOWAIT and the pcp is empty).
 * With POOL_PARTIAL, 0 is returned as soon as one block was allocated.
 */
int pool_alloc(struct pool *pool, struct pcp *pcp, struct owner *o, unsigned order,
	       unsigned count, unsigned flags, uint32_t *pfns, unsigned *got);

/*
 * Free `n` blocks.  Every pfn is validated first - in range, the head of an
 * allocated block, owned by `o`, of order `order` (or any order when order is
 * negative), not listed twice - and one bad pfn fails the call with nothing
 * freed: -EINVAL (out of range, a tail page of an allocated block, offline,
 * wrong order, listed twice), -EALREADY (not allocated: a double free, or a
 * page never handed out), -EPERM (another owner's block).
 * *bad (may be NULL) gets the index of the offending pfn.
 */
int pool_free(struct pool *pool, struct pcp *pcp, struct owner *o, const uint32_t *pfns,
	      unsigned n, int order, unsigned *bad);

/*
 * Check one block of a free (or an offer) by o; pool_free()'s codes, with
 * -EPERM for any block that is not o's own (shared ones included).
 */
int pool_check_block(struct pool *pool, struct owner *o, uint32_t pfn, int order);

/* For share.c: link a block to o as its own (state PG_ALLOC), unlink it,
 * and give validated, unlinked blocks back through pcp (NULL: the buddy). */
void pool_link_owned(struct pool *pool, struct owner *o, uint32_t pfn);
void pool_unlink_owned(struct pool *pool, struct owner *o, uint32_t pfn);
void pool_put_blocks(struct pool *pool, struct pcp *pcp, const uint32_t *pfns, unsigned n);

/* Add `pages` (of which `shared` by reference or offer) to owner's entry in
 * h (up to max entries, *nh used). */
void pool_holder_add(struct pool_holder *h, unsigned max, unsigned *nh, uint32_t owner,
		     uint64_t pages, uint64_t shared);

/* Free everything `o` holds, its references and open offers included;
 * returns the pages it was charged for. */
uint64_t pool_release_all(struct pool *pool, struct pcp *pcp, struct owner *o);

/* Drain this pool's pcps (drain.h); mode < 0 uses the pool's default. */
int pool_drain(struct pool *pool, int mode, unsigned flags, uint64_t *drained);
/* pool_drain, counted and timed in pool->mx under `trigger`; admin thread. */
int pool_drain_for(struct pool *pool, int mode, unsigned flags, enum metrics_trigger trigger,
		   uint64_t *drained);

/* Change the default drain mode, turning pcp locking on/off as needed. */
int pool_set_drain_mode(struct pool *pool, enum drain_mode mode);

/* pcp_high = auto for a pool of npages served by nworkers with this batch:
 * six batches, capped so that the pcps together keep at most 1/8 of it. */
int pool_default_high(uint64_t npages, unsigned nworkers, int batch);

/* Set high/batch on every pcp of the pool (validated; -EINVAL). */
int pool_set_pcp(struct pool *pool, int high, int batch);

/* Push pool->high/batch to every pcp (high 0 while a range is isolated).
 * Caller holds admin_lock. */
void pool_apply_pcp(struct pool *pool);

/* Page accounting snapshot (stale-tolerant; exact on a quiet pool). */
struct pool_counts {
	uint64_t total, free, pcp, allocated, isolated, offline;
};
void pool_counts(struct pool *pool, struct pool_counts *c);

/* ---- isolate.c ---- */

struct pool_holder {
	uint32_t owner;
	uint64_t pages;
	uint64_t shared;		/* of which by reference or under its offer */
};

/*
 * Take [start, start+count) offline (both multiples of MAX_ORDER_PAGES).  The
 * first call isolates the range: the pool's pcps are disabled and drained and
 * no free page in the range is handed out again.  When every page of the
 * range is free it is taken offline, its memory punched out of the arena, and
 * 0 is returned.  Otherwise -EBUSY, with up to `max` holders (owner, pages)
 * in `h` (*nh says how many were stored) and the pages not yet free in
 * *busy (may be NULL; counts every holder, listed or not); the range stays isolated, so call
 * again once they have freed (or pool_online() to give up).  -EINVAL for a
 * bad or overlapping range.  Admin thread.
 */
int pool_offline(struct pool *pool, uint32_t start, uint32_t count,
		 struct pool_holder *h, unsigned max, unsigned *nh, uint64_t *busy);

/* Bring an offline or isolated range back: its free pages become allocatable
 * again and the pcps are re-enabled when no range is isolated.  0 or -EINVAL. */
int pool_online(struct pool *pool, uint32_t start, uint32_t count);

/* Punch out every free max-order block not punched already (and the virgin
 * tail if it was prefaulted).  *pages (may be NULL) gets the pages returned
 * to the OS by this call.  0 or -errno from fallocate. */
int pool_trim(struct pool *pool, uint64_t *pages);

/* ---- verify.c ---- */

/*
 * Check the pool's invariants in O(pages): every page is accounted exactly
 * once (buddy + pcplists + allocated + isolated + offline + virgin == size),
 * no block is on two lists, blocks are aligned and never overlap, every
 * allocated block has a live holder: exactly one owner, or the share
 * table's references and offers, counted right (share_verify; when `owners` is given: the
 * complete set of live owners).  The pool must be quiet (no worker running
 * allocations).  Returns 0 or -EUCLEAN with a message in err.
 */
int pool_verify(struct pool *pool, struct owner *const *owners, unsigned nowners,
		char *err, size_t errlen);

#endif
