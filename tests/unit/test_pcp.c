/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pcp.c - per-worker lists: Linux-like defaults, refill in batches,
 * trim at high, the NOWAIT path that never touches the zone, high = 0.
 * Single-threaded: the test thread plays the worker.
 */
#include <errno.h>

#include "testutil.h"

#define HIGH 32
#define BATCH 8

static void test_defaults(void **state)
{
	assert_int_equal(pcp_default_batch(262144), 63);	/* 1 GiB of 4 KiB pages */
	assert_int_equal(pcp_default_batch(1u << 24), 63);	/* capped */
	assert_int_equal(pcp_default_batch(65536), 15);		/* 256 MiB */
	assert_int_equal(pcp_default_batch(4096), 1);		/* tiny pools: at least 1 */
	assert_int_equal(pcp_default_high(63), 378);
	assert_true(pcp_default_high(PCP_BATCH_MAX) <= PCP_HIGH_MAX);
}

static void test_tunables_validated(void **state)
{
	struct pool *pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	struct pcp *pcp = pool_pcp(pool, 0);

	assert_int_equal(pcp_set_high_batch(pcp, -1, BATCH), -EINVAL);
	assert_int_equal(pcp_set_high_batch(pcp, PCP_HIGH_MAX + 1, BATCH), -EINVAL);
	assert_int_equal(pcp_set_high_batch(pcp, HIGH, 0), -EINVAL);
	assert_int_equal(pcp_set_high_batch(pcp, HIGH, PCP_BATCH_MAX + 1), -EINVAL);
	/* A refused change leaves the old values. */
	assert_int_equal(pcp->high, HIGH);
	assert_int_equal(pcp->batch, BATCH);
	assert_int_equal(pool_set_pcp(pool, 100, 200), -EINVAL);
	assert_int_equal(pool_set_pcp(pool, 100, 10), 0);
	assert_int_equal(pcp->high, 100);
	assert_int_equal(pcp->batch, 10);
	pool_destroy(pool);
}

static void test_refill_in_batches(void **state)
{
	struct pool *pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	struct pcp *pcp = pool_pcp(pool, 0);
	uint64_t free0 = buddy_nr_free(&pool->zone);
	uint32_t pfn;

	assert_int_equal(pcp_alloc(pcp, 0, 0, &pfn), 0);
	assert_int_equal(pcp->stats.refills, 1);
	assert_int_equal(pcp_count_remote(pcp), BATCH - 1);
	assert_int_equal(buddy_nr_free(&pool->zone), free0 - BATCH);
	/* The next BATCH - 1 come from the list without touching the zone. */
	for (int i = 0; i < BATCH - 1; i++)
		assert_int_equal(pcp_alloc(pcp, 0, 0, &pfn), 0);
	assert_int_equal(pcp->stats.refills, 1);
	assert_int_equal(pcp->stats.pcp_hits, BATCH - 1);
	assert_int_equal(buddy_nr_free(&pool->zone), free0 - BATCH);
	/* Order 2 refills batch >> 2 blocks. */
	assert_int_equal(pcp_alloc(pcp, 2, 0, &pfn), 0);
	assert_int_equal(pcp_count_remote(pcp), (BATCH / 4 - 1) * 4);
	pool_destroy(pool);
}

static void test_free_trims_at_high(void **state)
{
	struct pool *pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	struct pcp *pcp = pool_pcp(pool, 0);
	uint32_t pfns[HIGH];

	for (int i = 0; i < HIGH; i++)
		assert_int_equal(buddy_alloc(&pool->zone, 0, PG_ALLOC, &pfns[i]), 0);
	for (int i = 0; i < HIGH - 1; i++)
		pcp_free(pcp, pfns[i], 0);
	assert_int_equal(pcp_count_remote(pcp), HIGH - 1);
	assert_int_equal(pcp->stats.bulk_frees, 0);
	pcp_free(pcp, pfns[HIGH - 1], 0);
	/* count reached high: back down to high - batch in one bulk free. */
	assert_int_equal(pcp_count_remote(pcp), HIGH - BATCH);
	assert_int_equal(pcp->stats.bulk_frees, 1);
	assert_int_equal(buddy_nr_free(&pool->zone), pool->npages - (HIGH - BATCH));
	assert_verify(pool, NULL, 0);
	pool_destroy(pool);
}

static void test_nowait_never_touches_zone(void **state)
{
	struct pool *pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	struct pcp *pcp = pool_pcp(pool, 0);
	uint64_t free0 = buddy_nr_free(&pool->zone);
	uint32_t pfn, first;

	assert_int_equal(pcp_alloc(pcp, 0, PCP_NOWAIT, &pfn), -EAGAIN);
	assert_int_equal(pcp->stats.nowait_fail, 1);
	assert_int_equal(buddy_nr_free(&pool->zone), free0);
	assert_int_equal(pool->zone.init_pfn, 0);	/* not even carved */
	/* Orders the pcp does not cache are never NOWAIT-able. */
	assert_int_equal(pcp_alloc(pcp, PCP_MAX_ORDER + 1, PCP_NOWAIT, &pfn), -EAGAIN);
	/* Once the list has pages, NOWAIT is served from it (LIFO). */
	assert_int_equal(pcp_alloc(pcp, 0, 0, &first), 0);
	pcp_free(pcp, first, 0);
	free0 = buddy_nr_free(&pool->zone);
	assert_int_equal(pcp_alloc(pcp, 0, PCP_NOWAIT, &pfn), 0);
	assert_int_equal(pfn, first);
	assert_int_equal(buddy_nr_free(&pool->zone), free0);
	pool_destroy(pool);
}

static void test_high_orders_bypass(void **state)
{
	struct pool *pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	struct pcp *pcp = pool_pcp(pool, 0);
	uint32_t pfn;

	assert_int_equal(pcp_alloc(pcp, PCP_MAX_ORDER + 1, 0, &pfn), 0);
	assert_int_equal(pcp_count_remote(pcp), 0);
	assert_int_equal(pcp->stats.buddy_direct, 1);
	pcp_free(pcp, pfn, PCP_MAX_ORDER + 1);
	assert_int_equal(pcp_count_remote(pcp), 0);
	assert_int_equal(buddy_nr_free(&pool->zone), pool->npages);
	assert_int_equal(pcp_alloc(pcp, PP_MAX_ORDER + 1, 0, &pfn), -EINVAL);
	pool_destroy(pool);
}

static void test_high_zero_disables(void **state)
{
	struct pool *pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	struct pcp *pcp = pool_pcp(pool, 0);
	uint32_t pfn;

	assert_int_equal(pcp_set_high_batch(pcp, 0, BATCH), 0);
	assert_int_equal(pcp_alloc(pcp, 0, 0, &pfn), 0);
	assert_int_equal(pcp_count_remote(pcp), 0);	/* no batch refill */
	assert_int_equal(buddy_nr_free(&pool->zone), pool->npages - 1);
	pcp_free(pcp, pfn, 0);
	/* Straight back to the zone. */
	assert_int_equal(pcp_count_remote(pcp), 0);
	assert_int_equal(buddy_nr_free(&pool->zone), pool->npages);
	assert_int_equal(pcp_alloc(pcp, 0, PCP_NOWAIT, &pfn), -EAGAIN);
	pool_destroy(pool);
}

static void test_exhausted(void **state)
{
	struct pool *pool = tu_pool(4, 1, DRAIN_RCU, HIGH, BATCH);
	struct pcp *pcp = pool_pcp(pool, 0);
	uint32_t pfn;
	unsigned n = 0;

	while (pcp_alloc(pcp, 0, 0, &pfn) == 0)
		n++;
	assert_int_equal(n, pool->npages);
	assert_int_equal(pcp_alloc(pcp, 0, 0, &pfn), -ENOMEM);
	pool_destroy(pool);
}

static void test_flush_returns_everything(void **state)
{
	struct pool *pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	struct pcp *pcp = pool_pcp(pool, 0);
	uint32_t pfn;

	/* Room for a full batch of every order without reaching high. */
	assert_int_equal(pcp_set_high_batch(pcp, 64, BATCH), 0);
	for (unsigned o = 0; o <= PCP_MAX_ORDER; o++) {
		assert_int_equal(pcp_alloc(pcp, o, 0, &pfn), 0);
		pcp_free(pcp, pfn, o);
	}
	assert_true(pcp_count_remote(pcp) > 0);
	assert_int_equal(pcp_flush(pcp, pcp->lp), (unsigned)(BATCH * 4));
	assert_int_equal(pcp_count_remote(pcp), 0);
	assert_int_equal(buddy_nr_free(&pool->zone), pool->npages);
	assert_verify(pool, NULL, 0);
	pool_destroy(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_tunables_validated),
		cmocka_unit_test(test_refill_in_batches),
		cmocka_unit_test(test_free_trims_at_high),
		cmocka_unit_test(test_nowait_never_touches_zone),
		cmocka_unit_test(test_high_orders_bypass),
		cmocka_unit_test(test_high_zero_disables),
		cmocka_unit_test(test_exhausted),
		cmocka_unit_test(test_flush_returns_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
