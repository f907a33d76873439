/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_share.c - the share table (daemon/share.c) in process: hand-off,
 * cancel, a giver's death, shared references with and without keep, frees
 * that mix owned blocks and references (all or nothing), the uid charge
 * following the pages, the holders offline sees, and a take racing with its
 * giver's death on two threads (run under TSan by `make check`'s TSan pass).
 * verify() after every step.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "testutil.h"

#define HIGH 32
#define BATCH 8

struct fixture {
	struct pool *pool;
	struct pcp *pcp;
	struct owner a, b, c;
	uint64_t uid_a, uid_b, uid_c;	/* each owner's uid page counter */
	uint32_t offers_a, offers_b, offers_c;
	struct share_limits lim;
};

static struct owner *const *owners_of(struct fixture *f)
{
	static struct owner *o[3];

	o[0] = &f->a;
	o[1] = &f->b;
	o[2] = &f->c;
	return o;
}

#define VERIFY(f) assert_verify((f)->pool, owners_of(f), 3)

static void owner_setup(struct owner *o, uint32_t id, uint64_t *uid_pages, uint32_t *uid_offers)
{
	owner_init(o, id);
	o->client_id = 100 + id;
	o->uid_pages = uid_pages;
	o->uid_offers = uid_offers;
}

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.pool = tu_pool(16, 1, DRAIN_RCU, HIGH, BATCH);
	f.pcp = NULL;	/* the buddy directly: no RCU reader needed here */
	owner_setup(&f.a, 1, &f.uid_a, &f.offers_a);
	owner_setup(&f.b, 2, &f.uid_b, &f.offers_b);
	owner_setup(&f.c, 3, &f.uid_c, &f.offers_c);
	f.lim = (struct share_limits){ .max_offers = 4, .max_offers_uid = 0, .max_shares = 8 };
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	VERIFY(f);
	f->uid_a -= pool_release_all(f->pool, NULL, &f->a);
	f->uid_b -= pool_release_all(f->pool, NULL, &f->b);
	f->uid_c -= pool_release_all(f->pool, NULL, &f->c);
	assert_int_equal(tu_free_pages(f->pool), f->pool->npages);
	assert_int_equal(f->uid_a + f->uid_b + f->uid_c, 0);
	VERIFY(f);
	pool_destroy(f->pool);
	return 0;
}

/* Allocate n order-`order` blocks for o and charge its uid as conn_req does. */
static void alloc_for(struct fixture *f, struct owner *o, unsigned order, unsigned n,
		      uint32_t *pfns)
{
	unsigned got;

	assert_int_equal(pool_alloc(f->pool, NULL, o, order, n, 0, pfns, &got), 0);
	assert_int_equal(got, n);
	*o->uid_pages += (uint64_t)n << order;
}

static void token(uint64_t tok[2], uint64_t v)
{
	tok[0] = v * 0x9e3779b97f4a7c15ull;
	tok[1] = ~v;
}

static int take(struct fixture *f, struct owner *o, const uint64_t tok[2], uint32_t *pfns,
		unsigned *n, bool *shared)
{
	unsigned order;
	uint64_t giver;

	return share_take(f->pool, o, tok, pfns, 64, n, &order, shared, &giver, &f->lim);
}

static void test_handoff(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[4], got[64];
	uint64_t tok[2];
	unsigned n = 0, bad = 99, order;
	bool shared = true;
	uint64_t giver = 0;

	alloc_for(f, &f->a, 1, 4, pfns);
	token(tok, 1);
	assert_int_equal(share_offer(f->pool, &f->a, pfns, 4, 1, 0, false, false, tok, &f->lim, &bad),
			 0);
	VERIFY(f);
	assert_int_equal(f->a.pages, 0);
	assert_int_equal(f->a.offered_pages, 8);
	assert_int_equal(share_charged(&f->a), 8);
	/* Under offer: no free, no second offer, by the giver. */
	assert_int_equal(pool_free(f->pool, NULL, &f->a, pfns, 1, -1, &bad), -EBUSY);
	assert_int_equal(share_offer(f->pool, &f->a, pfns + 1, 1, 1, 0, false, false, tok, &f->lim, &bad),
			 -EBUSY);
	assert_int_equal(bad, 0);
	/* Nor by anyone else. */
	assert_int_equal(pool_free(f->pool, NULL, &f->b, pfns, 1, -1, &bad), -EPERM);
	/* The giver cannot take its own. */
	assert_int_equal(take(f, &f->a, tok, got, &n, &shared), -EINVAL);
	assert_int_equal(share_take(f->pool, &f->b, tok, got, 3, &n, &order, &shared, &giver,
				    &f->lim), -ENOBUFS);
	assert_int_equal(share_take(f->pool, &f->b, tok, got, 4, &n, &order, &shared, &giver,
				    &f->lim), 0);
	assert_int_equal(n, 4);
	assert_int_equal(order, 1);
	assert_false(shared);
	assert_int_equal(giver, 101);
	assert_memory_equal(got, pfns, sizeof(pfns));
	assert_int_equal(f->b.pages, 8);
	assert_int_equal(f->a.offered_pages, 0);
	assert_int_equal(f->a.noffers, 0);
	assert_int_equal(f->uid_a, 0);
	assert_int_equal(f->uid_b, 8);
	VERIFY(f);
	/* A replay: used up. */
	assert_int_equal(take(f, &f->c, tok, got, &n, &shared), -EALREADY);
	/* B owns them now: it frees them, and can offer them again. */
	assert_int_equal(pool_free(f->pool, NULL, &f->b, pfns, 2, -1, &bad), 0);
	f->uid_b -= 4;
	token(tok, 2);
	assert_int_equal(share_offer(f->pool, &f->b, pfns + 2, 2, 1, 0, false, false, tok, &f->lim, &bad),
			 0);
	VERIFY(f);
}

static void test_offer_checks(void **state)
{
	struct fixture *f = *state;
	uint32_t a[4], b[1], list[3];
	uint64_t tok[2];
	unsigned bad = 99;

	alloc_for(f, &f->a, 0, 4, a);
	alloc_for(f, &f->b, 0, 1, b);
	token(tok, 3);
	list[0] = a[0];
	list[1] = b[0];
	list[2] = a[1];
	assert_int_equal(share_offer(f->pool, &f->a, list, 3, 0, 0, false, false, tok, &f->lim, &bad),
			 -EPERM);
	assert_int_equal(bad, 1);
	list[1] = a[0];
	assert_int_equal(share_offer(f->pool, &f->a, list, 3, 0, 0, false, false, tok, &f->lim, &bad),
			 -EINVAL);
	assert_int_equal(bad, 1);
	assert_int_equal(share_offer(f->pool, &f->a, a, 4, 1, 0, false, false, tok, &f->lim, &bad),
			 -EINVAL);	/* wrong order */
	list[1] = f->pool->npages;
	assert_int_equal(share_offer(f->pool, &f->a, list, 2, 0, 0, false, false, tok, &f->lim, &bad),
			 -EINVAL);
	assert_int_equal(bad, 1);
	/* keep without shares, shares above the limit */
	assert_int_equal(share_offer(f->pool, &f->a, a, 1, 0, 0, true, false, tok, &f->lim, &bad),
			 -EINVAL);
	assert_int_equal(share_offer(f->pool, &f->a, a, 1, 0, 9, false, false, tok, &f->lim, &bad),
			 -EINVAL);
	assert_int_equal(f->a.pages, 4);
	assert_int_equal(f->a.noffers, 0);
	/* The offer limit: 4 open offers. */
	for (unsigned i = 0; i < 4; i++) {
		token(tok, 10 + i);
		assert_int_equal(share_offer(f->pool, &f->a, &a[i], 1, 0, 0, false, false, tok, &f->lim,
					     &bad), 0);
	}
	alloc_for(f, &f->a, 0, 1, a);
	token(tok, 20);
	assert_int_equal(share_offer(f->pool, &f->a, a, 1, 0, 0, false, false, tok, &f->lim, &bad),
			 -EDQUOT);
	assert_int_equal(f->offers_a, 4);
	VERIFY(f);
}

static void test_cancel_and_death(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[3], got[64];
	uint64_t tok[2], tok2[2], ret, rel;
	uint32_t takers;
	unsigned n, bad;
	bool shared;

	alloc_for(f, &f->a, 0, 3, pfns);
	token(tok, 30);
	assert_int_equal(share_offer(f->pool, &f->a, pfns, 2, 0, 0, false, false, tok, &f->lim, &bad),
			 0);
	assert_int_equal(share_cancel(f->pool, NULL, &f->b, tok, &ret, &rel, &takers), -ENOENT);
	assert_int_equal(share_cancel(f->pool, NULL, &f->a, tok, &ret, &rel, &takers), 0);
	assert_int_equal(ret, 2);
	assert_int_equal(f->a.pages, 3);
	assert_int_equal(share_cancel(f->pool, NULL, &f->a, tok, &ret, &rel, &takers), -ENOENT);
	assert_int_equal(take(f, &f->b, tok, got, &n, &shared), -ECANCELED);
	VERIFY(f);
	/* The giver dies with an offer open: its blocks go to the pool. */
	token(tok2, 31);
	assert_int_equal(share_offer(f->pool, &f->a, pfns, 3, 0, 0, false, false, tok2, &f->lim, &bad),
			 0);
	f->uid_a -= pool_release_all(f->pool, NULL, &f->a);
	assert_int_equal(f->uid_a, 0);
	assert_int_equal(tu_free_pages(f->pool), f->pool->npages);
	assert_int_equal(take(f, &f->b, tok2, got, &n, &shared), -EOWNERDEAD);
	token(tok2, 32);
	assert_int_equal(take(f, &f->b, tok2, got, &n, &shared), -ENOENT);
	owner_setup(&f->a, 1, &f->uid_a, &f->offers_a);
	VERIFY(f);
}

static void test_shared(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[2], got[64], mixed[3];
	uint64_t tok[2];
	struct pool_holder h[4];
	unsigned n, bad, nh = 0;
	bool shared = false;

	alloc_for(f, &f->a, 2, 2, pfns);
	token(tok, 40);
	assert_int_equal(share_offer(f->pool, &f->a, pfns, 2, 2, 2, true, false, tok, &f->lim, &bad), 0);
	/* keep: A's reference and the pin both count. */
	assert_int_equal(f->a.ref_pages, 8);
	assert_int_equal(f->a.offered_pages, 8);
	assert_int_equal(f->uid_a, 16);
	VERIFY(f);
	assert_int_equal(take(f, &f->b, tok, got, &n, &shared), 0);
	assert_true(shared);
	assert_int_equal(take(f, &f->b, tok, got, &n, &shared), -EALREADY);
	/* Offline's scan names every holder: A (reference + pin), B. */
	buddy_lock(&f->pool->zone);
	share_holders(f->pool, page_owner(&f->pool->pages[pfns[0]]), 4, h, 4, &nh);
	buddy_unlock(&f->pool->zone);
	assert_int_equal(nh, 2);
	assert_int_equal(take(f, &f->c, tok, got, &n, &shared), 0);
	/* Used up: the pin went with the last take. */
	assert_int_equal(f->a.offered_pages, 0);
	assert_int_equal(f->uid_a, 8);
	assert_int_equal(f->a.noffers, 0);
	assert_int_equal(take(f, &f->b, tok, got, &n, &shared), -EALREADY);
	VERIFY(f);
	/* Shared blocks cannot be offered again. */
	assert_int_equal(share_offer(f->pool, &f->b, pfns, 1, 2, 0, false, false, tok, &f->lim, &bad),
			 -EPERM);
	/* A free mixing an owned block and a reference, with a bad pfn last:
	 * nothing happens. */
	alloc_for(f, &f->b, 0, 1, &mixed[0]);
	mixed[1] = pfns[0];
	mixed[2] = pfns[0];
	assert_int_equal(pool_free(f->pool, NULL, &f->b, mixed, 3, -1, &bad), -EINVAL);
	assert_int_equal(bad, 2);
	assert_int_equal(f->b.pages, 1);
	assert_int_equal(f->b.ref_pages, 8);
	VERIFY(f);
	assert_int_equal(pool_free(f->pool, NULL, &f->b, mixed, 2, -1, &bad), 0);
	f->uid_b -= 5;
	assert_int_equal(f->b.pages, 0);
	assert_int_equal(f->b.ref_pages, 4);
	/* A and C still hold pfns[0]: allocated.  A drops it; C is last. */
	assert_int_equal(pool_free(f->pool, NULL, &f->a, pfns, 1, -1, &bad), 0);
	f->uid_a -= 4;
	assert_int_equal(page_state(&f->pool->pages[pfns[0]]), PG_ALLOC);
	assert_int_equal(pool_free(f->pool, NULL, &f->c, pfns, 1, 2, &bad), 0);
	f->uid_c -= 4;
	assert_int_not_equal(page_state(&f->pool->pages[pfns[0]]), PG_ALLOC);
	assert_int_equal(pool_free(f->pool, NULL, &f->c, pfns, 1, -1, &bad), -EALREADY);
	VERIFY(f);
	/* pfns[1]: held by A, B, C; they die one by one. */
	f->uid_b -= pool_release_all(f->pool, NULL, &f->b);
	f->uid_a -= pool_release_all(f->pool, NULL, &f->a);
	assert_int_equal(page_state(&f->pool->pages[pfns[1]]), PG_ALLOC);
	VERIFY(f);
	owner_setup(&f->a, 1, &f->uid_a, &f->offers_a);
	owner_setup(&f->b, 2, &f->uid_b, &f->offers_b);
	f->uid_c -= pool_release_all(f->pool, NULL, &f->c);
	owner_setup(&f->c, 3, &f->uid_c, &f->offers_c);
	assert_int_equal(tu_free_pages(f->pool), f->pool->npages);
}

static void test_shared_cancel(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[2], got[64];
	uint64_t tok[2], ret, rel;
	uint32_t takers;
	unsigned n, bad;
	bool shared;

	/* Nobody took: the blocks are A's own again (keep or not). */
	alloc_for(f, &f->a, 0, 2, pfns);
	token(tok, 50);
	assert_int_equal(share_offer(f->pool, &f->a, pfns, 2, 0, 3, true, false, tok, &f->lim, &bad), 0);
	assert_int_equal(share_cancel(f->pool, NULL, &f->a, tok, &ret, &rel, &takers), 0);
	assert_int_equal(ret, 2);
	assert_int_equal(f->a.pages, 2);
	assert_int_equal(f->a.ref_pages, 0);
	assert_int_equal(f->uid_a, 2);
	VERIFY(f);
	/* B took, A did not keep: cancel drops the pin; B's reference stays. */
	token(tok, 51);
	assert_int_equal(share_offer(f->pool, &f->a, pfns, 2, 0, 3, false, false, tok, &f->lim, &bad), 0);
	assert_int_equal(take(f, &f->b, tok, got, &n, &shared), 0);
	assert_int_equal(share_cancel(f->pool, NULL, &f->a, tok, &ret, &rel, &takers), 0);
	assert_int_equal(rel, 2);
	assert_int_equal(takers, 1);
	assert_int_equal(f->a.pages, 0);
	assert_int_equal(f->uid_a, 0);
	assert_int_equal(take(f, &f->c, tok, got, &n, &shared), -ECANCELED);
	VERIFY(f);
	assert_int_equal(pool_free(f->pool, NULL, &f->b, pfns, 2, 0, &bad), 0);
	f->uid_b -= 2;
	assert_int_equal(tu_free_pages(f->pool), f->pool->npages);
}

/* A taker that dropped its reference cannot take the same offer again;
 * a giver that freed its kept reference gets the blocks back on cancel. */
static void test_take_once_and_cancel_after_free(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[1], got[64];
	uint64_t tok[2], ret, rel;
	uint32_t takers;
	unsigned n, bad;
	bool shared;

	alloc_for(f, &f->a, 0, 1, pfns);
	token(tok, 60);
	assert_int_equal(share_offer(f->pool, &f->a, pfns, 1, 0, 3, true, false, tok, &f->lim, &bad), 0);
	assert_int_equal(pool_free(f->pool, NULL, &f->a, pfns, 1, -1, &bad), 0);
	f->uid_a -= 1;
	assert_int_equal(f->a.ref_pages, 0);
	assert_int_equal(page_state(&f->pool->pages[pfns[0]]), PG_ALLOC);	/* pinned */
	VERIFY(f);
	assert_int_equal(share_cancel(f->pool, NULL, &f->a, tok, &ret, &rel, &takers), 0);
	assert_int_equal(ret, 1);
	assert_int_equal(f->a.pages, 1);
	assert_int_equal(f->uid_a, 1);
	VERIFY(f);
	token(tok, 61);
	assert_int_equal(share_offer(f->pool, &f->a, pfns, 1, 0, 3, false, false, tok, &f->lim, &bad), 0);
	assert_int_equal(take(f, &f->b, tok, got, &n, &shared), 0);
	assert_int_equal(pool_free(f->pool, NULL, &f->b, pfns, 1, -1, &bad), 0);
	f->uid_b -= 1;
	assert_int_equal(take(f, &f->b, tok, got, &n, &shared), -EALREADY);
	assert_int_equal(take(f, &f->c, tok, got, &n, &shared), 0);
	VERIFY(f);
}

/* A take racing with its giver's death, on two threads: each round ends
 * with the taker owning the blocks or EOWNERDEAD, and nothing lost. */
struct race {
	struct fixture *f;
	uint64_t tok[2];
	int result;
	unsigned n;
	pthread_barrier_t bar;
};

static void *race_taker(void *arg)
{
	struct race *r = arg;
	uint32_t got[64];
	bool shared;

	pthread_barrier_wait(&r->bar);
	r->result = take(r->f, &r->f->b, r->tok, got, &r->n, &shared);
	return NULL;
}

static void test_take_races_death(void **state)
{
	struct fixture *f = *state;
	unsigned won = 0, lost = 0;

	for (unsigned round = 0; round < 300; round++) {
		struct race r = { .f = f };
		uint32_t pfns[8];
		pthread_t t;
		unsigned bad;

		alloc_for(f, &f->a, 0, 8, pfns);
		token(r.tok, 1000 + round);
		assert_int_equal(share_offer(f->pool, &f->a, pfns, 8, 0, round % 3, false, false, r.tok,
					     &f->lim, &bad), 0);
		pthread_barrier_init(&r.bar, NULL, 2);
		assert_int_equal(pthread_create(&t, NULL, race_taker, &r), 0);
		pthread_barrier_wait(&r.bar);
		f->uid_a -= pool_release_all(f->pool, NULL, &f->a);
		pthread_join(t, NULL);
		pthread_barrier_destroy(&r.bar);
		owner_setup(&f->a, 1, &f->uid_a, &f->offers_a);
		if (r.result == 0) {
			won++;
			assert_int_equal(r.n, 8);
			assert_int_equal(pool_free(f->pool, NULL, &f->b, pfns, 8, 0, &bad), 0);
			f->uid_b -= 8;
		} else {
			lost++;
			assert_int_equal(r.result, -EOWNERDEAD);
		}
		assert_int_equal(f->uid_a, 0);
		assert_int_equal(f->uid_b, 0);
		assert_int_equal(tu_free_pages(f->pool), f->pool->npages);
		VERIFY(f);
	}
	print_message("take first %u, death first %u\n", won, lost);
	assert_int_equal(won + lost, 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_death, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_once_and_cancel_after_free, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_take_races_death, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
