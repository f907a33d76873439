/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzzutil.h - checks shared by the fuzz targets, beyond pool_verify().
 * Header-only, like tests/unit/testutil.h.
 */
#ifndef PP_FUZZUTIL_H
#define PP_FUZZUTIL_H

#include <stdbool.h>
#include <stdio.h>

#include "pool.h"

/*
 * The buddy system merges eagerly: no free block (on a free list, or parked
 * in an isolated block) may have a free buddy of its own order in the same
 * state - they should have become one block.  The pool must be quiet.
 * Returns false with a message in err.
 */
static inline bool fuzz_buddies_merged(struct pool *pool, char *err, size_t errlen)
{
	struct zone *z = &pool->zone;
	bool ok = true;

	buddy_lock(z);
	for (uint32_t pfn = 0; pfn < z->init_pfn && ok;) {
		const struct page *p = &z->pages[pfn];
		uint8_t st = page_state(p);
		uint32_t size = 1u << (p->order <= PP_MAX_ORDER ? p->order : 0);

		if ((st == PG_BUDDY || st == PG_ISOLATED) && p->order < PP_MAX_ORDER) {
			uint32_t b = pfn ^ size;
			const struct page *bp = &z->pages[b];

			if (page_state(bp) == st && bp->order == p->order) {
				snprintf(err, errlen, "free order-%u blocks %u and %u (state %u) are "
					 "buddies but were not merged", p->order, pfn, b, st);
				ok = false;
			}
		}
		pfn += st == PG_NONE ? 1 : size;
	}
	buddy_unlock(z);
	return ok;
}

#endif
