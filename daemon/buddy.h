/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * buddy.h - the buddy allocator of one pool (the "zone").
 *
 * Orders 0..PP_MAX_ORDER as in Linux; an order-n block is 2^n pages aligned to
 * its size.  Free lists per order are index-linked through the page
 * descriptors; one mutex (zone->lock) guards them.  Batched operations take
 * the lock once per batch (rmqueue_bulk / free_pcppages_bulk).
 *
 * Lazy start: pfns >= init_pfn are "virgin" max-order blocks that are carved
 * into the free lists only when the lists run dry, so start-up never walks
 * the descriptor array.  Pools are a whole number of max-order blocks.
 *
 * Isolation works on whole max-order blocks (blockflags): a free block inside
 * an isolated block becomes PG_ISOLATED instead of joining a free list, so it
 * can never be handed out again until the range is brought back online.
 *
 * Functions named buddy_*_locked() expect zone->lock held; the others take it.
 * Any thread may call them.
 */
#ifndef PP_BUDDY_H
#define PP_BUDDY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "page.h"

#define PP_MAX_ORDER	10
#define PP_NR_ORDERS	(PP_MAX_ORDER + 1)
#define MAX_ORDER_PAGES	(1u << PP_MAX_ORDER)

/* zone->blockflags[] */
#define BLK_ISOLATED	0x1
#define BLK_OFFLINE	0x2

struct free_area {
	uint32_t head;		/* PFN_NIL when empty */
	uint32_t tail;
	uint64_t nr_free;	/* blocks */
};

struct zone {
	pthread_mutex_t lock;
	struct page *pages;
	uint32_t npages;
	uint32_t init_pfn;		/* first virgin pfn */
	struct free_area free_area[PP_NR_ORDERS];
	uint8_t *blockflags;		/* one byte per max-order block */
	uint32_t nr_isolated_blocks;	/* blocks with BLK_ISOLATED */
	bool virgin_populated;		/* virgin blocks hold memory (prefault) */
	/* Page counts; written under lock, read anywhere with READ_ONCE. */
	uint64_t nr_free;		/* on free lists + virgin */
	uint64_t nr_isolated;
	uint64_t nr_offline;
};

/* Sets up an empty zone over `pages` (zeroed, npages a multiple of
 * MAX_ORDER_PAGES).  0 or -errno. */
int buddy_init(struct zone *z, struct page *pages, uint32_t npages);
void buddy_destroy(struct zone *z);

static inline void buddy_lock(struct zone *z) { pthread_mutex_lock(&z->lock); }
static inline void buddy_unlock(struct zone *z) { pthread_mutex_unlock(&z->lock); }

/* Allocate one block of `order` and give its head `state` (PG_PCP or
 * PG_ALLOC).  0, -ENOMEM when nothing fits, -EINVAL for a bad order. */
int buddy_alloc_locked(struct zone *z, unsigned order, uint8_t state, uint32_t *pfn);
int buddy_alloc(struct zone *z, unsigned order, uint8_t state, uint32_t *pfn);

/* rmqueue_bulk: up to `n` blocks of `order` in one locked section.  Returns
 * how many were taken (0 when the zone is exhausted).  A free block that is
 * wanted whole is handed out whole: its blocks come in ascending order,
 * with no split through the free lists. */
unsigned buddy_alloc_bulk(struct zone *z, unsigned order, unsigned n, uint8_t state,
			  uint32_t *pfns);

/* Return a block to the zone, merging with free buddies.  The caller has
 * validated that pfn heads a block of `order` that it owns. */
void buddy_free_locked(struct zone *z, uint32_t pfn, unsigned order);
void buddy_free(struct zone *z, uint32_t pfn, unsigned order);
/* free_pcppages_bulk for one order: one locked section (runs merged as
 * with struct buddy_batch). */
void buddy_free_bulk(struct zone *z, const uint32_t *pfns, unsigned n, unsigned order);

/*
 * Blocks on their way back to the zone, gathered into a run while they are
 * consecutive blocks of one order (ascending or descending): the run is
 * freed as the largest aligned blocks it makes up, so returning a contiguous
 * refill costs a merge walk per aligned chunk instead of one per block.
 * Same result as buddy_free_locked() on each block.  Under the zone lock;
 * flush before unlocking.
 */
struct buddy_batch {
	uint32_t first, last;	/* the run's first and latest block */
	uint32_t n;		/* blocks in it; 0: empty */
	uint8_t order;
};

void buddy_batch_flush_locked(struct zone *z, struct buddy_batch *b);
/* Flush, then start a new run with pfn (buddy_batch_add_locked's slow path). */
void buddy_batch_start_locked(struct zone *z, struct buddy_batch *b, uint32_t pfn,
			      unsigned order);
/* Free nblocks order-`order` blocks laid end to end from pfn, all claimed
 * (the caller's), as the largest aligned blocks they make up. */
void buddy_free_run_locked(struct zone *z, uint32_t pfn, uint32_t nblocks, unsigned order);

static inline void buddy_batch_add_locked(struct zone *z, struct buddy_batch *b, uint32_t pfn,
					  unsigned order)
{
	uint32_t step = 1u << order;

	if (likely(b->n && order == b->order)) {
		if (pfn == b->last + step && (b->n == 1 || b->last > b->first)) {
			b->last = pfn;
			b->n++;
			return;
		}
		if (pfn + step == b->last && (b->n == 1 || b->last < b->first)) {
			b->last = pfn;
			b->n++;
			return;
		}
	}
	buddy_batch_start_locked(z, b, pfn, order);
}

/* Unlink a PG_BUDDY head from its free list (state unchanged). */
void buddy_unlink_locked(struct zone *z, uint32_t pfn);
/* Put a free block on its list as PG_BUDDY (no merging): punched blocks go
 * to the tail with PGF_PUNCHED.  The caller adjusts the page counters. */
void buddy_add_locked(struct zone *z, uint32_t pfn, unsigned order, bool punched);
/* Carve virgin blocks so that every pfn below `end` is initialised. */
void buddy_carve_locked(struct zone *z, uint32_t end);

/* buddyinfo: free blocks per order (virgin blocks count as max order). */
void buddy_info(struct zone *z, uint64_t counts[PP_NR_ORDERS]);

static inline uint64_t buddy_nr_free(const struct zone *z)
{
	return READ_ONCE(z->nr_free);
}

#endif
