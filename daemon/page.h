/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * page.h - the page descriptor: 16 bytes per page, one array per pool.
 *
 * Only the first page of a block (its "head") carries a state; every other
 * page of the block is PG_NONE.  The array is anonymous memory that the kernel
 * zero-fills on first touch, so an all-zero descriptor must be valid: PG_NONE
 * is 0, and pages of never-carved max-order blocks (pfn >= zone->init_pfn) are
 * never written at start-up, which keeps a 64 GiB pool's start O(1).
 *
 * The two 32-bit links are reused by whichever list the head is on: a buddy
 * free list (PG_BUDDY) or its owner's list of allocated blocks (PG_ALLOC).
 * pcplists are arrays of pfns and need no links.
 */
#ifndef PP_PAGE_H
#define PP_PAGE_H

#include <stdint.h>

#define PFN_NIL		UINT32_MAX

enum page_state {
	PG_NONE = 0,	/* not a block head (tail page, or never carved) */
	PG_BUDDY,	/* head of a free block on zone->free_area[order] */
	PG_PCP,		/* head of a free block cached in some pcplist */
	PG_ALLOC,	/* head of an allocated block; owner is set */
	PG_ISOLATED,	/* free, inside an isolated range (or being trimmed) */
	PG_OFFLINE,	/* offline: memory returned to the OS */
	PG_NR_STATES
};

/* page.flags */
#define PGF_PUNCHED	0x1	/* free max-order block whose memory was punched out */
#define PGF_SEEN	0x2	/* scratch bit used by verify() only */

struct page {
	uint32_t next;
	uint32_t prev;
	uint32_t owner;		/* 0 = none */
	uint8_t state;
	uint8_t order;
	uint16_t flags;
};

_Static_assert(sizeof(struct page) == 16, "page descriptor must stay 16 bytes");

/*
 * state and owner are read by the zone-lock holder (merge checks, isolation
 * scans) while the owning worker may change them outside the lock (a block
 * moving between its pcplist and its owner).  Those accesses are relaxed
 * atomics: plain byte/word moves on x86, and visible as such to TSan.  All
 * other fields change only under the zone lock or on a block's sole holder.
 */
static inline uint8_t page_state(const struct page *p)
{
	return __atomic_load_n(&p->state, __ATOMIC_RELAXED);
}

static inline void page_set_state(struct page *p, uint8_t state)
{
	__atomic_store_n(&p->state, state, __ATOMIC_RELAXED);
}

static inline uint32_t page_owner(const struct page *p)
{
	return __atomic_load_n(&p->owner, __ATOMIC_RELAXED);
}

static inline void page_set_owner(struct page *p, uint32_t owner)
{
	__atomic_store_n(&p->owner, owner, __ATOMIC_RELAXED);
}

#endif
