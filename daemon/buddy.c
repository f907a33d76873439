/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * buddy.c - the zone: free lists per order, split on alloc, merge on free
 * (buddy = pfn ^ (1 << order)), one lock, lazily carved from virgin
 * max-order blocks.  See buddy.h for the contract.
 *
 * Free lists keep max-order blocks whose memory was punched out (PGF_PUNCHED,
 * see pool_trim) at the tail and the rest at the head, so allocation prefers
 * memory that is already populated and trim stops at the first punched block.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buddy.h"

static void free_list_add(struct zone *z, uint32_t pfn, unsigned order, bool tail)
{
	struct free_area *fa = &z->free_area[order];
	struct page *p = &z->pages[pfn];

	page_set_state(p, PG_BUDDY);
	p->order = (uint8_t)order;
	p->flags = 0;
	page_set_owner(p, 0);
	if (fa->head == PFN_NIL) {
		p->next = p->prev = PFN_NIL;
		fa->head = fa->tail = pfn;
	} else if (tail) {
		p->next = PFN_NIL;
		p->prev = fa->tail;
		z->pages[fa->tail].next = pfn;
		fa->tail = pfn;
	} else {
		p->prev = PFN_NIL;
		p->next = fa->head;
		z->pages[fa->head].prev = pfn;
		fa->head = pfn;
	}
	fa->nr_free++;
}

void buddy_unlink_locked(struct zone *z, uint32_t pfn)
{
	struct page *p = &z->pages[pfn];
	struct free_area *fa = &z->free_area[p->order];

	if (p->prev != PFN_NIL)
		z->pages[p->prev].next = p->next;
	else
		fa->head = p->next;
	if (p->next != PFN_NIL)
		z->pages[p->next].prev = p->prev;
	else
		fa->tail = p->prev;
	p->next = p->prev = PFN_NIL;
	fa->nr_free--;
}

int buddy_init(struct zone *z, struct page *pages, uint32_t npages)
{
	pthread_mutexattr_t attr;

	memset(z, 0, sizeof(*z));
	if (npages == 0 || npages % MAX_ORDER_PAGES != 0 || npages == PFN_NIL)
		return -EINVAL;
	z->blockflags = calloc(npages / MAX_ORDER_PAGES, 1);
	if (!z->blockflags)
		return -ENOMEM;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&z->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	z->pages = pages;
	z->npages = npages;
	for (unsigned o = 0; o < PP_NR_ORDERS; o++)
		z->free_area[o].head = z->free_area[o].tail = PFN_NIL;
	z->nr_free = npages;
	return 0;
}

void buddy_destroy(struct zone *z)
{
	pthread_mutex_destroy(&z->lock);
	free(z->blockflags);
	z->blockflags = NULL;
}

/* Move one virgin max-order block onto the free list. */
static void buddy_carve_one(struct zone *z)
{
	uint32_t pfn = z->init_pfn;

	z->init_pfn += MAX_ORDER_PAGES;
	/* Untouched memory is as good as punched: trim need not visit it. */
	free_list_add(z, pfn, PP_MAX_ORDER, !z->virgin_populated);
	if (!z->virgin_populated)
		z->pages[pfn].flags = PGF_PUNCHED;
}

void buddy_add_locked(struct zone *z, uint32_t pfn, unsigned order, bool punched)
{
	free_list_add(z, pfn, order, punched);
	if (punched)
		z->pages[pfn].flags = PGF_PUNCHED;
}

void buddy_carve_locked(struct zone *z, uint32_t end)
{
	while (z->init_pfn < end && z->init_pfn < z->npages)
		buddy_carve_one(z);
}

int buddy_alloc_locked(struct zone *z, unsigned order, uint8_t state, uint32_t *pfn)
{
	unsigned o;
	uint32_t p;

	if (order > PP_MAX_ORDER)
		return -EINVAL;
	for (o = order; o <= PP_MAX_ORDER; o++)
		if (z->free_area[o].head != PFN_NIL)
			break;
	if (o > PP_MAX_ORDER) {
		if (z->init_pfn >= z->npages)
			return -ENOMEM;
		buddy_carve_one(z);
		o = PP_MAX_ORDER;
	}
	p = z->free_area[o].head;
	buddy_unlink_locked(z, p);
	/* expand(): hand the upper halves back, keep the lower one. */
	while (o > order) {
		o--;
		free_list_add(z, p + (1u << o), o, false);
	}
	page_set_state(&z->pages[p], state);
	z->pages[p].order = (uint8_t)order;
	z->pages[p].flags = 0;
	page_set_owner(&z->pages[p], 0);
	WRITE_ONCE(z->nr_free, z->nr_free - (1u << order));
	*pfn = p;
	return 0;
}

int buddy_alloc(struct zone *z, unsigned order, uint8_t state, uint32_t *pfn)
{
	int ret;

	buddy_lock(z);
	ret = buddy_alloc_locked(z, order, state, pfn);
	buddy_unlock(z);
	return ret;
}

/* Give the block at pfn the head state of an order-`order` block. */
static inline void buddy_set_head(struct zone *z, uint32_t pfn, unsigned order, uint8_t state)
{
	struct page *p = &z->pages[pfn];

	page_set_state(p, state);
	p->order = (uint8_t)order;
	p->flags = 0;
	page_set_owner(p, 0);
}

/*
 * Take up to `want` blocks of `order` out of the free block at pfn of order
 * o (already unlinked), lowest first into pfns[]: whole halves are handed
 * out as they are, without being put on a free list and taken off again,
 * and only what is not wanted goes back (expand()).  Returns the number
 * taken: `want`, or all 2^(o - order) blocks if fewer.
 */
static unsigned buddy_take_locked(struct zone *z, uint32_t pfn, unsigned o, unsigned order,
				  unsigned want, uint8_t state, uint32_t *pfns)
{
	unsigned got = 0, blocks;

	for (;;) {
		if (got == want) {
			free_list_add(z, pfn, o, false);
			return got;
		}
		blocks = 1u << (o - order);
		if (want - got >= blocks) {
			for (unsigned j = 0; j < blocks; j++, pfn += 1u << order) {
				buddy_set_head(z, pfn, order, state);
				pfns[got++] = pfn;
			}
			return got;
		}
		/* Split: the lower half is wanted whole, or it is split further
		 * and the upper half goes back. */
		o--;
		if (want - got >= blocks / 2) {
			for (unsigned j = 0; j < blocks / 2; j++, pfn += 1u << order) {
				buddy_set_head(z, pfn, order, state);
				pfns[got++] = pfn;
			}
		} else {
			free_list_add(z, pfn + (1u << o), o, false);
		}
	}
}

unsigned buddy_alloc_bulk(struct zone *z, unsigned order, unsigned n, uint8_t state,
			  uint32_t *pfns)
{
	unsigned i = 0, o;
	uint32_t p;

	if (order > PP_MAX_ORDER)
		return 0;
	buddy_lock(z);
	while (i < n) {
		for (o = order; o <= PP_MAX_ORDER; o++)
			if (z->free_area[o].head != PFN_NIL)
				break;
		if (o > PP_MAX_ORDER) {
			if (z->init_pfn >= z->npages)
				break;
			buddy_carve_one(z);
			o = PP_MAX_ORDER;
		}
		p = z->free_area[o].head;
		buddy_unlink_locked(z, p);
		i += buddy_take_locked(z, p, o, order, n - i, state, pfns + i);
	}
	WRITE_ONCE(z->nr_free, z->nr_free - ((uint64_t)i << order));
	buddy_unlock(z);
	return i;
}

void buddy_free_locked(struct zone *z, uint32_t pfn, unsigned order)
{
	bool isolated = z->blockflags[pfn / MAX_ORDER_PAGES] & BLK_ISOLATED;
	uint8_t want = isolated ? PG_ISOLATED : PG_BUDDY;
	uint64_t *counter = isolated ? &z->nr_isolated : &z->nr_free;
	uint64_t pages = 1u << order;

	page_set_state(&z->pages[pfn], PG_NONE);
	page_set_owner(&z->pages[pfn], 0);
	/* Merges never leave the max-order block, so isolation is uniform. */
	while (order < PP_MAX_ORDER) {
		uint32_t b = pfn ^ (1u << order);
		struct page *bp = &z->pages[b];

		if (page_state(bp) != want || bp->order != order)
			break;
		if (!isolated)
			buddy_unlink_locked(z, b);
		page_set_state(bp, PG_NONE);
		bp->flags = 0;
		pfn &= ~(1u << order);
		order++;
	}
	WRITE_ONCE(*counter, *counter + pages);
	if (isolated) {
		page_set_state(&z->pages[pfn], PG_ISOLATED);
		z->pages[pfn].order = (uint8_t)order;
		z->pages[pfn].flags = 0;
	} else {
		free_list_add(z, pfn, order, false);
	}
}

/* Free nblocks order-`order` blocks laid end to end from pfn as the
 * largest aligned blocks they make up: a run of 2^k pages costs one merge
 * walk, not 2^k.  Chunks never cross a max-order block, so isolation is
 * uniform in each. */
void buddy_free_run_locked(struct zone *z, uint32_t pfn, uint32_t nblocks,
				  unsigned order)
{
	uint32_t end = pfn + (nblocks << order);

	while (pfn < end) {
		unsigned k = order;

		while (k < PP_MAX_ORDER && !(pfn & ((2u << k) - 1)) && pfn + (2u << k) <= end)
			k++;
		/* The heads inside the chunk become its tail pages. */
		for (uint32_t q = pfn + (1u << order); q < pfn + (1u << k); q += 1u << order) {
			page_set_state(&z->pages[q], PG_NONE);
			page_set_owner(&z->pages[q], 0);
			z->pages[q].flags = 0;
		}
		buddy_free_locked(z, pfn, k);
		pfn += 1u << k;
	}
}

void buddy_batch_start_locked(struct zone *z, struct buddy_batch *b, uint32_t pfn,
			      unsigned order)
{
	buddy_batch_flush_locked(z, b);
	b->first = b->last = pfn;
	b->order = (uint8_t)order;
	b->n = 1;
}

void buddy_batch_flush_locked(struct zone *z, struct buddy_batch *b)
{
	if (b->n)
		buddy_free_run_locked(z, b->first < b->last ? b->first : b->last, b->n, b->order);
	b->n = 0;
}

void buddy_free(struct zone *z, uint32_t pfn, unsigned order)
{
	buddy_lock(z);
	buddy_free_locked(z, pfn, order);
	buddy_unlock(z);
}

void buddy_free_bulk(struct zone *z, const uint32_t *pfns, unsigned n, unsigned order)
{
	struct buddy_batch b = { 0 };

	buddy_lock(z);
	for (unsigned i = 0; i < n; i++)
		buddy_batch_add_locked(z, &b, pfns[i], order);
	buddy_batch_flush_locked(z, &b);
	buddy_unlock(z);
}

void buddy_info(struct zone *z, uint64_t counts[PP_NR_ORDERS])
{
	buddy_lock(z);
	for (unsigned o = 0; o < PP_NR_ORDERS; o++)
		counts[o] = z->free_area[o].nr_free;
	counts[PP_MAX_ORDER] += (z->npages - z->init_pfn) / MAX_ORDER_PAGES;
	buddy_unlock(z);
}
