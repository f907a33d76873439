/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_isolate.c - shrinking and growing a pool: offline/online of a pfn
 * range (EBUSY with the holders named, memory returned to the OS, the range
 * never handed out while isolated) and trim (each free block punched once).
 */
#include <errno.h>
#include <string.h>

#include "testutil.h"

#define HIGH 64
#define BATCH 16
#define BLK MAX_ORDER_PAGES

static uint64_t resident_pages(struct pool *pool)
{
	uint64_t bytes;

	assert_int_equal(arena_resident(&pool->arena, &bytes), 0);
	return bytes / pool->arena.page_size;
}

/* Allocate every page still available, order 0, and check none is in range. */
static unsigned alloc_all_outside(struct pool *pool, struct pcp *pcp, struct owner *o,
				  uint32_t start, uint32_t count)
{
	uint32_t pfn;
	unsigned got, n = 0;

	while (pool_alloc(pool, pcp, o, 0, 1, 0, &pfn, &got) == 0) {
		assert_false(pfn >= start && pfn < start + count);
		n++;
	}
	return n;
}

static void test_bad_ranges(void **state)
{
	struct pool *pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	struct pool_holder h[4];
	unsigned nh;

	assert_int_equal(pool_offline(pool, 1, BLK, h, 4, &nh, NULL), -EINVAL);	/* misaligned */
	assert_int_equal(pool_offline(pool, 0, BLK + 1, h, 4, &nh, NULL), -EINVAL);
	assert_int_equal(pool_offline(pool, 0, 0, h, 4, &nh, NULL), -EINVAL);
	assert_int_equal(pool_offline(pool, pool->npages, BLK, h, 4, &nh, NULL), -EINVAL);
	assert_int_equal(pool_offline(pool, UINT32_MAX - BLK + 1, BLK, h, 4, &nh, NULL), -EINVAL);
	assert_int_equal(pool_online(pool, 0, BLK), -EINVAL);		/* not offline */
	/* Overlapping a different range is refused, and changes nothing. */
	assert_int_equal(pool_offline(pool, BLK, 2 * BLK, h, 4, &nh, NULL), 0);
	assert_int_equal(pool_offline(pool, 0, 2 * BLK, h, 4, &nh, NULL), -EINVAL);
	assert_int_equal(pool->zone.blockflags[0], 0);
	/* The same range again is idempotent. */
	assert_int_equal(pool_offline(pool, BLK, 2 * BLK, h, 4, &nh, NULL), 0);
	assert_int_equal(pool_online(pool, 0, 2 * BLK), -EINVAL);	/* block 0 not offline */
	assert_int_equal(pool_online(pool, BLK, 2 * BLK), 0);
	assert_verify(pool, NULL, 0);
	pool_destroy(pool);
}

static void test_offline_free_range_returns_memory(void **state)
{
	struct pool_config cfg = { .name = "pf", .size = 16 * TU_MIB, .prefault = true,
				   .nworkers = 1, .high = HIGH, .batch = BATCH };
	struct pool *pool;
	struct pcp *pcp;
	struct pool_holder h[4];
	struct owner o;
	struct pool_counts c;
	uint64_t res0;
	unsigned nh, n;

	assert_int_equal(pool_create(&cfg, &pool), 0);
	pcp = pool_pcp(pool, 0);
	owner_init(&o, 7);
	res0 = resident_pages(pool);
	assert_int_equal(res0, pool->npages);
	assert_int_equal(pool_offline(pool, 2 * BLK, 2 * BLK, h, 4, &nh, NULL), 0);
	assert_int_equal(resident_pages(pool), res0 - 2 * BLK);
	pool_counts(pool, &c);
	assert_int_equal(c.offline, 2 * BLK);
	assert_int_equal(c.free, pool->npages - 2 * BLK);
	/* pcps are enabled again once nothing is isolated. */
	assert_int_equal(pcp->high, HIGH);
	/* Offline pages are never handed out. */
	n = alloc_all_outside(pool, pcp, &o, 2 * BLK, 2 * BLK);
	assert_int_equal(n, pool->npages - 2 * BLK);
	struct owner *owners[] = { &o };
	assert_verify(pool, owners, 1);
	pool_release_all(pool, pcp, &o);
	/* Online: the range can be allocated again. */
	assert_int_equal(pool_online(pool, 2 * BLK, 2 * BLK), 0);
	pool_counts(pool, &c);
	assert_int_equal(c.offline, 0);
	n = 0;
	uint32_t pfn;
	unsigned got, in_range = 0;
	while (pool_alloc(pool, pcp, &o, 0, 1, 0, &pfn, &got) == 0) {
		in_range += pfn >= 2 * BLK && pfn < 4 * BLK;
		n++;
	}
	assert_int_equal(n, pool->npages);
	assert_int_equal(in_range, 2 * BLK);
	assert_verify(pool, owners, 1);
	pool_release_all(pool, pcp, &o);
	assert_verify(pool, NULL, 0);
	pool_destroy(pool);
}

/* Isolate across a partly allocated range: EBUSY naming the holders until
 * they free; pages cached in the pcp are drained out of the range. */
static void test_offline_busy_until_freed(void **state)
{
	struct pool *pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	struct pcp *pcp = pool_pcp(pool, 0);
	struct owner a, b, c;
	struct pool_holder h[4];
	uint32_t pa[8], pb, pfn;
	unsigned got, nh, na = 0;

	owner_init(&a, 11);
	owner_init(&b, 12);
	owner_init(&c, 13);
	/* Fill the first block: a holds some pages, b one order-3, the pcp caches more. */
	while (na < 8) {
		assert_int_equal(pool_alloc(pool, pcp, &a, 0, 1, 0, &pfn, &got), 0);
		if (pfn < BLK)
			pa[na++] = pfn;
	}
	assert_int_equal(pool_alloc(pool, pcp, &b, 3, 1, 0, &pb, &got), 0);
	assert_true(pb < BLK);
	assert_true(pcp_count_remote(pcp) > 0);

	assert_int_equal(pool_offline(pool, 0, BLK, h, 4, &nh, NULL), -EBUSY);
	assert_int_equal(nh, 2);
	for (unsigned i = 0; i < nh; i++) {
		if (h[i].owner == a.id)
			assert_int_equal(h[i].pages, 8);
		else
			assert_true(h[i].owner == b.id && h[i].pages == 8);
	}
	/* pcps are disabled while isolated, and drained. */
	assert_int_equal(pcp->high, 0);
	assert_int_equal(pcp_count_remote(pcp), 0);
	/* Nothing in the isolated range is handed out meanwhile. */
	alloc_all_outside(pool, pcp, &c, 0, BLK);
	pool_release_all(pool, pcp, &c);
	{
		struct owner *owners[] = { &a, &b, &c };
		assert_verify(pool, owners, 3);
	}
	/* a frees (beyond what remains, those pages must not come back out). */
	pool_release_all(pool, pcp, &a);
	assert_int_equal(pool_offline(pool, 0, BLK, h, 4, &nh, NULL), -EBUSY);
	assert_int_equal(nh, 1);
	assert_int_equal(h[0].owner, b.id);
	/* A double free of an isolated page is still a double free. */
	assert_int_equal(pool_free(pool, pcp, &a, pa, 1, 0, NULL), -EALREADY);
	assert_int_equal(pool_free(pool, pcp, &b, &pb, 1, 3, NULL), 0);
	assert_int_equal(pool_offline(pool, 0, BLK, h, 4, &nh, NULL), 0);
	assert_int_equal(pcp->high, HIGH);
	assert_verify(pool, NULL, 0);
	assert_int_equal(pool_online(pool, 0, BLK), 0);
	assert_int_equal(tu_free_pages(pool), pool->npages);
	assert_verify(pool, NULL, 0);
	pool_destroy(pool);
}

/* Giving up on an isolation (online while busy) keeps the holders' pages. */
static void test_online_aborts_isolation(void **state)
{
	struct pool *pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	struct pcp *pcp = pool_pcp(pool, 0);
	struct owner a;
	struct pool_holder h[4];
	uint32_t pfn;
	unsigned got, nh;

	owner_init(&a, 5);
	assert_int_equal(pool_alloc(pool, pcp, &a, 4, 1, 0, &pfn, &got), 0);
	assert_int_equal(pool_offline(pool, pfn & ~(BLK - 1), BLK, h, 4, &nh, NULL), -EBUSY);
	assert_int_equal(pool_online(pool, pfn & ~(BLK - 1), BLK), 0);
	assert_int_equal(pool->zone.nr_isolated, 0);
	assert_int_equal(pcp->high, HIGH);
	struct owner *owners[] = { &a };
	assert_verify(pool, owners, 1);
	assert_int_equal(pool_free(pool, pcp, &a, &pfn, 1, 4, NULL), 0);
	pool_drain(pool, DRAIN_RCU, DRAIN_FORCE, NULL);
	assert_int_equal(tu_free_pages(pool), pool->npages);
	assert_verify(pool, NULL, 0);
	pool_destroy(pool);
}

static void test_trim_punches_each_block_once(void **state)
{
	struct pool_config cfg = { .name = "tr", .size = 16 * TU_MIB, .prefault = true,
				   .nworkers = 1, .high = HIGH, .batch = BATCH };
	struct pool *pool;
	struct pcp *pcp;
	struct owner o;
	uint32_t pfn;
	uint64_t pages;
	unsigned got;

	assert_int_equal(pool_create(&cfg, &pool), 0);
	pcp = pool_pcp(pool, 0);
	owner_init(&o, 3);
	/* Touch one block: carve it, write to it, free it. */
	assert_int_equal(pool_alloc(pool, pcp, &o, PP_MAX_ORDER, 1, 0, &pfn, &got), 0);
	memset(arena_ptr(&pool->arena, pfn), 1, BLK * pool->arena.page_size);
	pool_release_all(pool, pcp, &o);
	assert_int_equal(resident_pages(pool), pool->npages);
	/* First trim: the prefaulted virgin tail and the freed block. */
	assert_int_equal(pool_trim(pool, &pages), 0);
	assert_int_equal(pages, pool->npages);
	assert_int_equal(resident_pages(pool), 0);
	/* Second trim: nothing left to punch. */
	assert_int_equal(pool_trim(pool, &pages), 0);
	assert_int_equal(pages, 0);
	/* Use a block again: only that one is punched next time. */
	assert_int_equal(pool_alloc(pool, pcp, &o, PP_MAX_ORDER, 1, 0, &pfn, &got), 0);
	memset(arena_ptr(&pool->arena, pfn), 1, BLK * pool->arena.page_size);
	assert_int_equal(resident_pages(pool), BLK);
	pool_release_all(pool, pcp, &o);
	assert_int_equal(pool_trim(pool, &pages), 0);
	assert_int_equal(pages, BLK);
	assert_int_equal(resident_pages(pool), 0);
	assert_verify(pool, NULL, 0);
	/* Data written after a trim survives (the hole is gone once written). */
	assert_int_equal(pool_alloc(pool, pcp, &o, 0, 1, 0, &pfn, &got), 0);
	memset(arena_ptr(&pool->arena, pfn), 0x77, 16);
	assert_int_equal(pool_trim(pool, &pages), 0);
	assert_int_equal(((unsigned char *)arena_ptr(&pool->arena, pfn))[15], 0x77);
	pool_release_all(pool, pcp, &o);
	pool_destroy(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_offline_free_range_returns_memory),
		cmocka_unit_test(test_offline_busy_until_freed),
		cmocka_unit_test(test_online_aborts_isolation),
		cmocka_unit_test(test_trim_punches_each_block_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
