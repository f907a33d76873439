/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pool.c - ownership: batch allocation (all-or-nothing, PARTIAL, ZERO,
 * NOWAIT), free validation where one bad pfn frees nothing, release-all, and
 * verify() itself catching broken invariants.
 */
#include <errno.h>
#include <string.h>

#include "testutil.h"

#define HIGH 32
#define BATCH 8

struct fixture {
	struct pool *pool;
	struct pcp *pcp;
	struct owner a, b;
};

static int setup(void **state)
{
	static struct fixture f;

	f.pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	f.pcp = pool_pcp(f.pool, 0);
	owner_init(&f.a, 1);
	owner_init(&f.b, 2);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct owner *owners[] = { &f->a, &f->b };

	assert_verify(f->pool, owners, 2);
	pool_release_all(f->pool, f->pcp, &f->a);
	pool_release_all(f->pool, f->pcp, &f->b);
	assert_int_equal(tu_free_pages(f->pool), f->pool->npages);
	assert_verify(f->pool, owners, 2);
	pool_destroy(f->pool);
	return 0;
}

static void test_alloc_records_owner(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[10];
	unsigned got;

	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 1, 10, 0, pfns, &got), 0);
	assert_int_equal(got, 10);
	assert_int_equal(f->a.pages, 20);
	for (unsigned i = 0; i < got; i++) {
		struct page *p = &f->pool->pages[pfns[i]];
		assert_int_equal(p->state, PG_ALLOC);
		assert_int_equal(p->owner, f->a.id);
		assert_int_equal(p->order, 1);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(pfns[i], pfns[j]);
	}
}

static void test_bad_requests(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[4];
	unsigned got = 99;

	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 0, 0, 0, pfns, &got), -EINVAL);
	assert_int_equal(got, 0);
	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, PP_MAX_ORDER + 1, 1, 0, pfns, &got),
			 -EINVAL);
	assert_int_equal(pool_free(f->pool, f->pcp, &f->a, pfns, 0, -1, NULL), -EINVAL);
	assert_int_equal(f->a.pages, 0);
}

static void test_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	unsigned n = f->pool->npages / MAX_ORDER_PAGES, got;
	uint32_t pfns[64];
	uint64_t free0 = tu_free_pages(f->pool);

	/* One more max-order block than the pool has. */
	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, PP_MAX_ORDER, n + 1, 0, pfns, &got),
			 -ENOMEM);
	assert_int_equal(got, 0);
	assert_int_equal(f->a.pages, 0);
	assert_int_equal(tu_free_pages(f->pool), free0);
	/* PARTIAL: take what there is. */
	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, PP_MAX_ORDER, n + 1, POOL_PARTIAL,
				    pfns, &got), 0);
	assert_int_equal(got, n);
	assert_int_equal(f->a.pages, f->pool->npages);
	/* Exhausted: even PARTIAL fails when nothing at all is left. */
	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->b, 0, 1, POOL_PARTIAL, pfns, &got),
			 -ENOMEM);
}

static void test_nowait(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[4];
	unsigned got;

	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 0, 1, POOL_NOWAIT, pfns, &got),
			 -EAGAIN);
	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 0, 1, 0, pfns, &got), 0);
	/* The refill left BATCH - 1 pages on the list: NOWAIT works now. */
	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 0, 3, POOL_NOWAIT, pfns + 1, &got), 0);
	assert_int_equal(got, 3);
	/* The admin path has no pcp: NOWAIT there is always EAGAIN. */
	assert_int_equal(pool_alloc(f->pool, NULL, &f->a, 0, 1, POOL_NOWAIT, pfns, &got), -EAGAIN);
}

static void test_zero(void **state)
{
	struct fixture *f = *state;
	uint32_t pfn, again;
	unsigned got;
	unsigned char *p;

	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 0, 1, 0, &pfn, &got), 0);
	p = arena_ptr(&f->pool->arena, pfn);
	memset(p, 0x5a, f->pool->arena.page_size);
	assert_int_equal(pool_free(f->pool, f->pcp, &f->a, &pfn, 1, 0, NULL), 0);
	/* LIFO pcp: the same page comes back, zeroed on request. */
	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 0, 1, POOL_ZERO, &again, &got), 0);
	assert_int_equal(again, pfn);
	for (unsigned i = 0; i < f->pool->arena.page_size; i++)
		assert_int_equal(p[i], 0);
}

/* Each bad free is refused with its code, names the culprit, frees nothing. */
static void test_free_validation(void **state)
{
	struct fixture *f = *state;
	uint32_t mine[4], theirs, req[3];
	unsigned got, bad;
	uint64_t held;

	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 0, 2, 0, mine, &got), 0);
	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 2, 1, 0, &mine[2], &got), 0);
	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->b, 0, 1, 0, &theirs, &got), 0);
	held = f->a.pages;

#define REFUSED(p2, order, code) do {						\
		req[0] = mine[0]; req[1] = mine[1]; req[2] = (p2);		\
		bad = 99;							\
		assert_int_equal(pool_free(f->pool, f->pcp, &f->a, req, 3, (order), &bad), code); \
		assert_int_equal(bad, 2);					\
		assert_int_equal(f->a.pages, held);				\
		assert_int_equal(f->pool->pages[mine[0]].state, PG_ALLOC);	\
	} while (0)

	REFUSED(f->pool->npages, -1, -EINVAL);		/* out of range */
	REFUSED(UINT32_MAX, -1, -EINVAL);
	REFUSED(theirs, -1, -EPERM);			/* another owner's page */
	REFUSED(mine[2] + 1, -1, -EINVAL);		/* tail page of an order-2 block */
	REFUSED(mine[0], -1, -EINVAL);			/* listed twice */
	REFUSED(mine[2], 0, -EINVAL);			/* wrong order */
	/* Double free: free once, then again. */
	assert_int_equal(pool_free(f->pool, f->pcp, &f->a, &mine[2], 1, 2, NULL), 0);
	held = f->a.pages;
	REFUSED(mine[2], -1, -EALREADY);
	/* A never-allocated page is not allocated either. */
	REFUSED(f->pool->npages - MAX_ORDER_PAGES, -1, -EALREADY);
	REFUSED(f->pool->npages - 3, -1, -EALREADY);
#undef REFUSED
	/* And the good ones still free fine afterwards. */
	assert_int_equal(pool_free(f->pool, f->pcp, &f->a, mine, 2, 0, NULL), 0);
	assert_int_equal(f->a.pages, 0);
	assert_int_equal(f->b.pages, 1);
}

static void test_release_all(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[16];
	unsigned got;

	for (unsigned o = 0; o <= PP_MAX_ORDER; o += 2)
		assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, o, 1, 0, pfns, &got), 0);
	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->b, 0, 5, 0, pfns, &got), 0);
	assert_int_equal(pool_release_all(f->pool, f->pcp, &f->a), 1 + 4 + 16 + 64 + 256 + 1024);
	assert_int_equal(f->a.pages, 0);
	assert_int_equal(f->a.head, PFN_NIL);
	assert_int_equal(f->b.pages, 5);
	/* From the admin thread (no pcp) too. */
	assert_int_equal(pool_release_all(f->pool, NULL, &f->b), 5);
	assert_int_equal(tu_free_pages(f->pool), f->pool->npages);
}

static void test_counts(void **state)
{
	struct fixture *f = *state;
	struct pool_counts c;
	uint32_t pfns[8];
	unsigned got;

	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 0, 3, 0, pfns, &got), 0);
	pool_counts(f->pool, &c);
	assert_int_equal(c.total, f->pool->npages);
	assert_int_equal(c.allocated, 3);
	assert_int_equal(c.pcp, BATCH - 3);
	assert_int_equal(c.free + c.pcp + c.allocated, c.total);
}

/* A batch far above high: one refill sized to the request and one trip to
 * the buddy for what does not fit back under high, not one per `batch`; the
 * counters stay exact and every page is accounted for. */
static void test_bulk_refill_and_free(void **state)
{
	struct fixture *f = *state;
	static uint32_t pfns[500];
	struct pcp_stats s0 = f->pcp->stats, s1, s2;
	struct pool_counts c;
	struct owner *owners[] = { &f->a, &f->b };
	unsigned got;

	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 0, 500, 0, pfns, &got), 0);
	assert_int_equal(got, 500);
	s1 = f->pcp->stats;
	assert_int_equal(s1.refills - s0.refills, 1);
	assert_int_equal(s1.alloc_pages - s0.alloc_pages, 500);
	assert_verify(f->pool, owners, 2);
	/* Free 497 of the 500, then 3 order-2 blocks taken meanwhile. */
	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 2, 3, 0, pfns + 497, &got), 0);
	assert_int_equal(pool_free(f->pool, f->pcp, &f->a, pfns, 497, 0, NULL), 0);
	s2 = f->pcp->stats;
	assert_int_equal(s2.free_pages - s1.free_pages, 497);
	assert_int_equal(s2.bulk_frees - s1.bulk_frees, 1);
	/* The pcp is at high - 1 now: the order-2 blocks all go to the buddy. */
	assert_int_equal(pool_free(f->pool, f->pcp, &f->a, pfns + 497, 3, -1, NULL), 0);
	assert_int_equal(f->pcp->stats.free_pages - s2.free_pages, 3 * 4);
	assert_int_equal(f->pcp->stats.bulk_frees - s2.bulk_frees, 1);
	pool_counts(f->pool, &c);
	assert_int_equal(c.allocated, 3);	/* the 3 order-0 pages left out */
	assert_true(c.pcp < HIGH);
	assert_int_equal(c.free + c.pcp + c.allocated, c.total);
	assert_verify(f->pool, owners, 2);
}

/* verify() must be able to fail: break each invariant by hand. */
static void test_verify_catches_corruption(void **state)
{
	struct fixture *f = *state;
	struct owner *owners[] = { &f->a, &f->b };
	uint32_t pfns[2];
	unsigned got;
	char err[256];
	struct page saved;

	assert_int_equal(pool_alloc(f->pool, f->pcp, &f->a, 0, 2, 0, pfns, &got), 0);
	assert_verify(f->pool, owners, 2);

	/* An allocated page nobody lists. */
	assert_int_equal(pool_verify(f->pool, owners, 1, err, sizeof(err)), 0);
	struct owner *only_b[] = { &f->b };
	assert_int_equal(pool_verify(f->pool, only_b, 1, err, sizeof(err)), -EUCLEAN);
	assert_non_null(strstr(err, "allocated"));

	/* A page on a pcplist twice. */
	struct pcplist *l = &f->pcp->lp->lists[0];
	l->pfns[l->n] = l->pfns[0];
	l->n++;
	f->pcp->lp->count++;
	assert_int_equal(pool_verify(f->pool, owners, 2, err, sizeof(err)), -EUCLEAN);
	assert_non_null(strstr(err, "pcplist"));
	l->n--;
	f->pcp->lp->count--;
	assert_verify(f->pool, owners, 2);

	/* A head inside another block (overlap). */
	saved = f->pool->pages[pfns[0] ^ 1];
	f->pool->pages[pfns[0] ^ 1].state = PG_ALLOC;
	f->pool->pages[pfns[0] ^ 1].order = 1;
	assert_int_equal(pool_verify(f->pool, owners, 2, err, sizeof(err)), -EUCLEAN);
	f->pool->pages[pfns[0] ^ 1] = saved;

	/* A free-list count that lies. */
	f->pool->zone.free_area[3].nr_free++;
	assert_int_equal(pool_verify(f->pool, owners, 2, err, sizeof(err)), -EUCLEAN);
	assert_non_null(strstr(err, "free_area[3]"));
	f->pool->zone.free_area[3].nr_free--;
	assert_verify(f->pool, owners, 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_alloc_records_owner),
		T(test_bad_requests),
		T(test_all_or_nothing),
		T(test_nowait),
		T(test_zero),
		T(test_free_validation),
		T(test_release_all),
		T(test_counts),
		T(test_bulk_refill_and_free),
		T(test_verify_catches_corruption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
