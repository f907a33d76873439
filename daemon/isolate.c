/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isolate.c - shrinking and growing a pool at run time: offline/online of a
 * pfn range (memory hot-unplug in miniature) and trim.
 *
 * Ranges are whole max-order blocks, so a buddy block never straddles an
 * isolation boundary (Linux isolates pageblocks for the same reason).  While
 * any range is isolated the pool's pcps are disabled (high = 0, as
 * zone_pcp_disable does): every free then goes through the zone lock, where
 * buddy_free_locked() parks pages of isolated blocks as PG_ISOLATED instead
 * of freeing them.  Two forced drains make that airtight: the first empties
 * the pcps, the second catches a free that read the old high while the first
 * was in flight (after its grace period every worker sees high == 0).
 * Isolation always drains in rcu mode: it is correct whatever mode the pool
 * uses by default and needs nothing from the workers.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "pool.h"

static int range_check(const struct pool *pool, uint32_t start, uint32_t count)
{
	if (count == 0 || start % MAX_ORDER_PAGES || count % MAX_ORDER_PAGES)
		return -EINVAL;
	if ((uint64_t)start + count > pool->npages)
		return -EINVAL;
	return 0;
}

/* All blocks of the range carry `flag`?  1 = all, 0 = none has any flag,
 * -1 = mixed or other flags. */
static int range_flags(const struct zone *z, uint32_t start, uint32_t count, uint8_t flag)
{
	uint32_t b0 = start / MAX_ORDER_PAGES, nb = count / MAX_ORDER_PAGES;
	unsigned all = 0, none = 0;

	for (uint32_t b = b0; b < b0 + nb; b++) {
		if (z->blockflags[b] == flag)
			all++;
		else if (z->blockflags[b] == 0)
			none++;
	}
	return all == nb ? 1 : none == nb ? 0 : -1;
}

/* Mark the range isolated and pull its free blocks off the free lists. */
static void range_isolate_locked(struct zone *z, uint32_t start, uint32_t count)
{
	buddy_carve_locked(z, start + count);
	for (uint32_t pfn = start; pfn < start + count;) {
		struct page *p = &z->pages[pfn];
		uint32_t size = 1u << p->order;

		if (pfn % MAX_ORDER_PAGES == 0) {
			z->blockflags[pfn / MAX_ORDER_PAGES] = BLK_ISOLATED;
			z->nr_isolated_blocks++;
		}
		if (page_state(p) == PG_BUDDY) {
			buddy_unlink_locked(z, pfn);
			page_set_state(p, PG_ISOLATED);
			WRITE_ONCE(z->nr_free, z->nr_free - size);
			WRITE_ONCE(z->nr_isolated, z->nr_isolated + size);
		}
		pfn += size;
	}
}

void pool_holder_add(struct pool_holder *h, unsigned max, unsigned *nh, uint32_t owner,
		     uint64_t pages, uint64_t shared)
{
	for (unsigned i = 0; i < *nh; i++) {
		if (h[i].owner == owner) {
			h[i].pages += pages;
			h[i].shared += shared;
			return;
		}
	}
	if (*nh < max) {
		h[*nh].owner = owner;
		h[*nh].pages = pages;
		h[*nh].shared = shared;
		(*nh)++;
	}
}

/* Scan an isolated range.  Returns the pages not yet free; fills holders and
 * *in_pcp (pages still cached in a pcplist, which needs another drain). */
static uint64_t range_busy_locked(struct pool *pool, uint32_t start, uint32_t count,
				  struct pool_holder *h, unsigned max, unsigned *nh,
				  uint64_t *in_pcp)
{
	struct zone *z = &pool->zone;
	uint64_t busy = 0;

	*nh = 0;
	*in_pcp = 0;
	for (uint32_t pfn = start; pfn < start + count;) {
		struct page *p = &z->pages[pfn];
		uint32_t size = 1u << p->order;

		switch (page_state(p)) {
		case PG_ISOLATED:
			break;
		case PG_ALLOC:
			busy += size;
			if (page_owner(p) & (OWNER_OFFER | OWNER_SHARED))
				share_holders(pool, page_owner(p), size, h, max, nh);
			else
				pool_holder_add(h, max, nh, page_owner(p), size, 0);
			break;
		default:
			busy += size;
			*in_pcp += size;
		}
		pfn += size;
	}
	return busy;
}

/* Every block of the (fully free) range becomes one PG_OFFLINE max block. */
static void range_offline_locked(struct zone *z, uint32_t start, uint32_t count)
{
	for (uint32_t pfn = start; pfn < start + count; pfn += MAX_ORDER_PAGES) {
		page_set_state(&z->pages[pfn], PG_OFFLINE);
		z->blockflags[pfn / MAX_ORDER_PAGES] = BLK_OFFLINE;
		z->nr_isolated_blocks--;
	}
	WRITE_ONCE(z->nr_isolated, z->nr_isolated - count);
	WRITE_ONCE(z->nr_offline, z->nr_offline + count);
}

static int pool_offline_locked(struct pool *pool, uint32_t start, uint32_t count,
			       struct pool_holder *h, unsigned max, unsigned *nh, uint64_t *busyp)
{
	struct zone *z = &pool->zone;
	uint64_t busy = 0, in_pcp = 0;
	int state, ret;

	buddy_lock(z);
	state = range_flags(z, start, count, BLK_OFFLINE) == 1 ? 2
		: range_flags(z, start, count, BLK_ISOLATED);
	if (state == 0)
		range_isolate_locked(z, start, count);
	buddy_unlock(z);
	if (state < 0)
		return -EINVAL;		/* overlaps another range */
	if (state == 2)
		return 0;		/* already offline */
	if (state == 0) {
		pool_apply_pcp(pool);
		pool_drain_for(pool, DRAIN_RCU, DRAIN_FORCE, MX_TRIGGER_offline, NULL);
	}
	/* One extra drain per call catches a free that raced with high = 0. */
	for (int pass = 0; pass < 2; pass++) {
		pool_drain_for(pool, DRAIN_RCU, DRAIN_FORCE, MX_TRIGGER_offline, NULL);
		buddy_lock(z);
		busy = range_busy_locked(pool, start, count, h, max, nh, &in_pcp);
		buddy_unlock(z);
		if (in_pcp == 0)
			break;
	}
	if (busyp)
		*busyp = busy;
	if (busy)
		return -EBUSY;
	/* Nothing in the range can be handed out now: punch, then mark. */
	ret = arena_punch(&pool->arena, (uint64_t)start << pool->arena.page_shift,
			  (uint64_t)count << pool->arena.page_shift);
	if (ret < 0)
		return ret;
	buddy_lock(z);
	range_offline_locked(z, start, count);
	buddy_unlock(z);
	pool_apply_pcp(pool);
	return 0;
}

int pool_offline(struct pool *pool, uint32_t start, uint32_t count,
		 struct pool_holder *h, unsigned max, unsigned *nh, uint64_t *busy)
{
	int ret;

	*nh = 0;
	if (busy)
		*busy = 0;
	ret = range_check(pool, start, count);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&pool->admin_lock);
	ret = pool_offline_locked(pool, start, count, h, max, nh, busy);
	pthread_mutex_unlock(&pool->admin_lock);
	return ret;
}

/* Give one isolated or offline max block back to the free lists. */
static void block_online_locked(struct zone *z, uint32_t base)
{
	uint8_t *flags = &z->blockflags[base / MAX_ORDER_PAGES];

	if (*flags == BLK_OFFLINE) {
		buddy_add_locked(z, base, PP_MAX_ORDER, true);
		WRITE_ONCE(z->nr_offline, z->nr_offline - MAX_ORDER_PAGES);
		WRITE_ONCE(z->nr_free, z->nr_free + MAX_ORDER_PAGES);
		*flags = 0;
		return;
	}
	/* Isolated free blocks were merged as far as they could be. */
	for (uint32_t pfn = base; pfn < base + MAX_ORDER_PAGES;) {
		struct page *p = &z->pages[pfn];
		uint32_t size = 1u << p->order;

		if (page_state(p) == PG_ISOLATED) {
			buddy_add_locked(z, pfn, p->order, false);
			WRITE_ONCE(z->nr_isolated, z->nr_isolated - size);
			WRITE_ONCE(z->nr_free, z->nr_free + size);
		}
		pfn += size;
	}
	*flags = 0;
	z->nr_isolated_blocks--;
}

int pool_online(struct pool *pool, uint32_t start, uint32_t count)
{
	struct zone *z = &pool->zone;
	uint32_t b0 = start / MAX_ORDER_PAGES;
	int ret;

	ret = range_check(pool, start, count);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&pool->admin_lock);
	buddy_lock(z);
	for (uint32_t b = b0; b < b0 + count / MAX_ORDER_PAGES; b++)
		if (z->blockflags[b] != BLK_OFFLINE && z->blockflags[b] != BLK_ISOLATED)
			ret = -EINVAL;
	if (ret == 0)
		for (uint32_t pfn = start; pfn < start + count; pfn += MAX_ORDER_PAGES)
			block_online_locked(z, pfn);
	buddy_unlock(z);
	if (ret == 0)
		pool_apply_pcp(pool);
	pthread_mutex_unlock(&pool->admin_lock);
	return ret;
}

/* Punch the virgin tail once if prefault populated it.  Zone lock held:
 * nothing may carve (and write to) a virgin block while its memory goes. */
static int trim_virgin_locked(struct pool *pool, uint64_t *pages)
{
	struct zone *z = &pool->zone;
	unsigned shift = pool->arena.page_shift;
	int ret;

	if (!z->virgin_populated || z->init_pfn >= z->npages)
		return 0;
	ret = arena_punch(&pool->arena, (uint64_t)z->init_pfn << shift,
			  (uint64_t)(z->npages - z->init_pfn) << shift);
	if (ret < 0)
		return ret;
	z->virgin_populated = false;
	*pages += z->npages - z->init_pfn;
	return 0;
}

/* Punch one unpunched free max block outside the lock.  1 if one was done,
 * 0 if none is left, -errno. */
static int trim_one(struct pool *pool)
{
	struct zone *z = &pool->zone;
	unsigned shift = pool->arena.page_shift;
	uint32_t pfn = z->free_area[PP_MAX_ORDER].head;
	int ret;

	if (pfn == PFN_NIL || (z->pages[pfn].flags & PGF_PUNCHED))
		return 0;
	/* Off the list while its memory goes, counted as isolated. */
	buddy_unlink_locked(z, pfn);
	page_set_state(&z->pages[pfn], PG_ISOLATED);
	WRITE_ONCE(z->nr_free, z->nr_free - MAX_ORDER_PAGES);
	WRITE_ONCE(z->nr_isolated, z->nr_isolated + MAX_ORDER_PAGES);
	buddy_unlock(z);
	ret = arena_punch(&pool->arena, (uint64_t)pfn << shift,
			  (uint64_t)MAX_ORDER_PAGES << shift);
	buddy_lock(z);
	WRITE_ONCE(z->nr_isolated, z->nr_isolated - MAX_ORDER_PAGES);
	WRITE_ONCE(z->nr_free, z->nr_free + MAX_ORDER_PAGES);
	buddy_add_locked(z, pfn, PP_MAX_ORDER, ret == 0);
	return ret < 0 ? ret : 1;
}

int pool_trim(struct pool *pool, uint64_t *pages)
{
	struct zone *z = &pool->zone;
	uint64_t done = 0, budget;
	int ret;

	pthread_mutex_lock(&pool->admin_lock);
	buddy_lock(z);
	/* Bounded: blocks freed meanwhile wait for the next trim. */
	budget = z->free_area[PP_MAX_ORDER].nr_free;
	ret = trim_virgin_locked(pool, &done);
	while (ret == 0 && budget-- > 0 && (ret = trim_one(pool)) == 1) {
		done += MAX_ORDER_PAGES;
		ret = 0;
	}
	buddy_unlock(z);
	pthread_mutex_unlock(&pool->admin_lock);
	if (ret < 0)
		log_warnx("pool %s: trim: %s", pool->name, strerror(-ret));
	if (pages)
		*pages = done;
	return ret;
}
