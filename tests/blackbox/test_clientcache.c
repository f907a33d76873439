/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_clientcache.c - libpagepool's side of the client cache (issue 15,
 * client/ccache.c), through the library only: a cache hit costs no round
 * trip (pp_stat's calls), refills and spills move a batch each, a block in
 * the cache cannot be freed, offered or released again (-EALREADY, nothing
 * sent), PP_ZERO zeroes a hit, a drain by the daemon is seen by the next
 * operation, PAGEPOOL_CACHE=0 and a pool without caching leave the library
 * without a cache, a request refused for the quota (pp_alloc, pp_loan,
 * pp_take, pp_take_release) gives the cache back and is asked once more,
 * and pp_close gives every cached page back.  A stand-in daemon (a child
 * that speaks just enough of the protocol) answers CacheMap with refusals
 * and broken regions: the library connects without a cache.
 *
 * The pool caches 64 pages (client_cache_high) and moves 16 at a time
 * (client_cache_batch): order k keeps 64 >> k blocks, moves 16 >> k.
 * Idle decay is off, so only the test drains.
 */
#include <sys/mman.h>

#include "bb.h"
#include "libpp.h"

#define HIGH	64
#define BATCH	16
#define NPAIRS	1000

/* The configs' pieces, joined by the compiler: a daemon with idle decay
 * off, its one 16M pool, and that pool's cache. */
#define CONF_DAEMON			\
	"[daemon]\n"			\
	"socket = @SOCKET@\n"		\
	"workers = 1\n"			\
	"decay_interval = 0\n"
#define CONF_POOL			\
	"\n"				\
	"[pool default]\n"		\
	"size = 16M\n"
#define CONF_CACHE			\
	"client_cache_high = 64\n"	\
	"client_cache_batch = 16\n"

static const char conf_cache[] =
	CONF_DAEMON "admin_socket = @DIR@/admin.sock\n" CONF_POOL CONF_CACHE;

static const char conf_nocache[] = CONF_DAEMON CONF_POOL "client_cache_high = 0\n";

/* The same, with a quota of 32 pages a connection. */
static const char conf_quota[] = CONF_DAEMON CONF_POOL "quota_pages = 32\n" CONF_CACHE;

/* Teardown that also clears what the tests put in the environment. */
static int env_teardown(void **state)
{
	unsetenv("PAGEPOOL_CACHE");
	return bb_teardown(state);
}

#define cc_test(fn) cmocka_unit_test_setup_teardown(fn, bb_setup, env_teardown)

/* One page allocated and freed: afterwards the order-0 list is warm. */
static void warm_up(struct pp_client *c)
{
	uint32_t pfn;
	unsigned got;

	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &pfn, &got), 0);
	assert_int_equal(got, 1);
	bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);
}

/* ---- 1. a hit costs no round trip ------------------------------------------ */

static void test_hits_no_round_trip(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	struct pp_stat a, b;
	uint32_t pfn;
	unsigned got;

	bb_start(f, conf_cache);
	c = bb_client_cached(f, NULL);
	warm_up(c);
	a = bb_stat(c);
	assert_true(a.cached > 0);
	assert_int_equal(a.held, a.cached);	/* the cache's pages are c's own */
	for (unsigned i = 0; i < NPAIRS; i++) {
		bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &pfn, &got), 0);
		assert_int_equal(got, 1);
		bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);
	}
	b = bb_stat(c);
	print_message("%u alloc+free pairs: %llu round trips, %llu hits\n", NPAIRS,
		      (unsigned long long)(b.calls - a.calls - 1),
		      (unsigned long long)(b.cache_hits - a.cache_hits));
	assert_int_equal(b.calls, a.calls + 1);		/* the pp_stat itself */
	assert_int_equal(b.cache_hits, a.cache_hits + NPAIRS);
	assert_int_equal(b.cache_misses, a.cache_misses);
	assert_int_equal(b.cache_spills, a.cache_spills);
	assert_int_equal(b.cached, a.cached);
	assert_int_equal(b.allocated, a.allocated);
	assert_int_equal(b.held, b.cached);
}

/* ---- 2. refills and spills, counted -------------------------------------------- */

static void test_refill_spill_counts(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	static uint32_t pfns[NPAIRS];
	struct pp_stat a, b, e;
	unsigned got;

	bb_start(f, conf_cache);
	c = bb_client_cached(f, NULL);
	a = bb_stat(c);
	assert_int_equal(a.cached, 0);
	for (unsigned i = 0; i < NPAIRS; i++) {
		bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &pfns[i], &got), 0);
		for (unsigned j = 0; j < i; j++)	/* never the same page twice */
			assert_int_not_equal(pfns[i], pfns[j]);
	}
	b = bb_stat(c);
	/* One refill of 16 per 16 allocations: ceil(1000 / 16) = 63, whose
	 * 1008 pages leave 8 in the cache. */
	print_message("%u single-page allocs: %llu refills, %llu round trips\n", NPAIRS,
		      (unsigned long long)b.cache_misses,
		      (unsigned long long)(b.calls - a.calls - 1));
	assert_int_equal(b.cache_misses, (NPAIRS + BATCH - 1) / BATCH);
	assert_int_equal(b.calls - a.calls - 1, b.cache_misses);
	assert_int_equal(b.cached, 63 * BATCH - NPAIRS);
	assert_int_equal(b.held, NPAIRS + b.cached);
	assert_int_equal(b.cache_hits, NPAIRS - b.cache_misses);

	for (unsigned i = 0; i < NPAIRS; i++)
		bb_assert_rc(c, pp_free(c, &pfns[i], 1, NULL), 0);
	e = bb_stat(c);
	/* The list goes 8 -> 65 (57 frees), spills 16 -> 49, and again every
	 * 16 frees: 1 + (1000 - 57) / 16 = 59 spills, 64 pages left. */
	print_message("%u single-page frees: %llu spills\n", NPAIRS,
		      (unsigned long long)e.cache_spills);
	assert_int_equal(e.cache_spills, 59);
	assert_int_equal(e.calls - b.calls - 1, e.cache_spills);
	assert_int_equal(e.cached, HIGH);
	assert_int_equal(e.held, HIGH);
	assert_int_equal(e.allocated, HIGH);
}

/* ---- 3. a block in the cache is freed already ---------------------------------- */

static void test_double_free_cached(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	uint32_t pfn, two[2];
	unsigned got, bad = 99;
	struct pp_stat a, b;

	bb_start(f, conf_cache);
	c = bb_client_cached(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &pfn, &got), 0);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &two[0], &got), 0);
	bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);
	a = bb_stat(c);
	bb_assert_rc(c, pp_free(c, &pfn, 1, &bad), -EALREADY);
	assert_int_equal(bad, 0);
	assert_non_null(strstr(pp_last_error(c), "freed already"));
	/* Behind a good block: refused whole, the good one stays c's. */
	two[1] = pfn;
	bad = 99;
	bb_assert_rc(c, pp_free(c, two, 2, &bad), -EALREADY);
	assert_int_equal(bad, 1);
	b = bb_stat(c);
	assert_int_equal(b.calls, a.calls + 1);		/* nothing sent but the pp_stat */
	assert_int_equal(b.cached, a.cached);
	assert_int_equal(b.allocated, a.allocated);
	assert_int_equal(b.held, a.held);
	/* The good block is still c's, and the cache takes it. */
	bb_assert_rc(c, pp_free(c, &two[0], 1, NULL), 0);
	b = bb_stat(c);
	assert_int_equal(b.cached, a.cached + 1);
	assert_int_equal(b.held, b.cached);
}

/* The daemon's answer when the cache does not know a pfn: a duplicate in
 * one call is refused whole, and the blocks stay c's (the cache takes them
 * afterwards); a pfn c never had is the daemon's to refuse. */
static void test_unknown_pfns_ask_daemon(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	uint32_t p[3];
	unsigned got, bad = 99;
	struct pp_stat a, b;

	bb_start(f, conf_cache);
	c = bb_client_cached(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, 2, 0, p, &got), 0);
	p[2] = p[0];
	a = bb_stat(c);
	bb_assert_rc(c, pp_free(c, p, 3, &bad), -EINVAL);
	assert_int_equal(bad, 2);
	b = bb_stat(c);
	assert_int_equal(b.calls, a.calls + 2);	/* the free went to the daemon */
	assert_int_equal(b.held, a.held);
	bb_assert_rc(c, pp_free(c, p, 2, &bad), 0);
	b = bb_stat(c);
	assert_int_equal(b.calls, a.calls + 3);	/* into the cache */
	assert_int_equal(b.held, b.cached);
	/* Another client's block, never c's: its free is the daemon's. */
	{
		struct pp_client *o = bb_client_cached(f, NULL);
		uint32_t q;

		bb_assert_rc(o, pp_alloc(o, 3, 1, 0, &q, &got), 0);
		bad = 99;
		bb_assert_rc(c, pp_free(c, &q, 1, &bad), -EPERM);
		assert_int_equal(bad, 0);
	}
}

/* Blocks freed by a round trip (more than fit in the cache) are no longer
 * known as c's: freeing one again asks the daemon, which refuses it. */
static void test_plain_free_forgets(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	uint32_t p[HIGH + 1];
	unsigned got, bad = 99;
	struct pp_stat a, b;

	bb_start(f, conf_cache);
	c = bb_client_cached(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, HIGH + 1, 0, p, &got), 0);	/* above high: no hit */
	bb_assert_rc(c, pp_free(c, p, HIGH + 1, NULL), 0);		/* does not fit */
	a = bb_stat(c);
	assert_int_equal(a.held, 0);
	assert_int_equal(a.cached, 0);
	bb_assert_rc(c, pp_free(c, &p[1], 1, &bad), -EALREADY);
	assert_int_equal(bad, 0);
	b = bb_stat(c);
	assert_int_equal(b.calls, a.calls + 2);		/* the daemon answered */
	assert_int_equal(b.cached, 0);
}

/* ---- 4. PP_ZERO on a hit -------------------------------------------------------- */

static void test_zero_on_hit(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	size_t ps;
	uint32_t p[4], q[4];
	unsigned got;
	struct pp_stat a, b;

	bb_start(f, conf_cache);
	c = bb_client_cached(f, NULL);
	ps = pp_info(c)->page_size;
	/* Order 1: two pages per block; the list keeps 32 blocks. */
	bb_assert_rc(c, pp_alloc(c, 1, 1, 0, p, &got), 0);	/* a refill */
	bb_assert_rc(c, pp_alloc(c, 1, 3, 0, p + 1, &got), 0);	/* a hit of 3 */
	for (unsigned i = 0; i < 4; i++)
		memset(pp_page(c, p[i]), 0xa5, 2 * ps);
	bb_assert_rc(c, pp_free(c, p, 4, NULL), 0);
	a = bb_stat(c);
	bb_assert_rc(c, pp_alloc(c, 1, 4, PP_ZERO, q, &got), 0);
	assert_int_equal(got, 4);
	b = bb_stat(c);
	assert_int_equal(b.calls, a.calls + 1);			/* a hit */
	assert_int_equal(b.cache_hits, a.cache_hits + 1);
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *m = pp_page(c, q[i]);

		assert_int_equal(q[i] % 2, 0);
		for (size_t k = 0; k < 2 * ps; k++)
			if (m[k]) {
				print_error("PP_ZERO hit: pfn %u byte %zu = %#x\n", q[i], k, m[k]);
				fail();
			}
	}
	/* The same blocks came back (the cache is c's own). */
	for (unsigned i = 0; i < 4; i++) {
		bool found = false;

		for (unsigned j = 0; j < 4; j++)
			found |= q[i] == p[j];
		assert_true(found);
	}
	/* One block: the last one freed comes back first, zeroed. */
	memset(pp_page(c, q[0]), 0x5a, 2 * ps);
	bb_assert_rc(c, pp_free(c, q, 1, NULL), 0);
	a = bb_stat(c);
	bb_assert_rc(c, pp_alloc(c, 1, 1, PP_ZERO, p, &got), 0);
	b = bb_stat(c);
	assert_int_equal(b.calls, a.calls + 1);
	assert_int_equal(p[0], q[0]);
	for (size_t k = 0; k < 2 * ps; k++)
		assert_int_equal(((const uint8_t *)pp_page(c, p[0]))[k], 0);
}

/* ---- 5. a cached block cannot be offered or released ------------------------------ */

static void test_offer_cached_refused(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	struct pp_token tok;
	uint32_t p[2], out[4];
	unsigned got, bad = 99, n;
	struct pp_stat a, b;

	bb_start(f, conf_cache);
	c = bb_client_cached(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &p[0], &got), 0);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &p[1], &got), 0);
	bb_assert_rc(c, pp_free(c, &p[1], 1, NULL), 0);
	a = bb_stat(c);
	bb_assert_rc(c, pp_offer(c, 0, p, 2, 0, 0, &tok, &bad), -EALREADY);
	assert_int_equal(bad, 1);
	memset(&tok, 0, sizeof(tok));
	bad = 99;
	bb_assert_rc(c, pp_take_release(c, &tok, &p[1], 1, &bad, out, 4, &n, NULL, NULL),
		     -EALREADY);
	assert_int_equal(bad, 0);
	b = bb_stat(c);
	assert_int_equal(b.calls, a.calls + 1);
	assert_int_equal(b.held, a.held);
	assert_int_equal(b.offers, 0);
	/* The owned one can be offered; once offered the cache does not take
	 * it back: its free is the daemon's (EBUSY). */
	bb_assert_rc(c, pp_offer(c, 0, p, 1, 0, 0, &tok, &bad), 0);
	bad = 99;
	bb_assert_rc(c, pp_free(c, p, 1, &bad), -EBUSY);
	assert_int_equal(bad, 0);
}

/* A hand-off taken is the taker's: its free goes to the taker's cache. */
static void test_taken_blocks_cached(void **state)
{
	struct bb *f = *state;
	struct pp_client *giver, *c;
	struct pp_token tok;
	uint32_t p[4], out[64];
	unsigned n, order, flags;
	struct pp_stat a, b;

	bb_start(f, conf_cache);
	giver = bb_client_cached(f, NULL);
	c = bb_client_cached(f, NULL);
	bb_assert_rc(giver, pp_loan(giver, 0, 4, 0, 0, p, &tok), 0);
	bb_assert_rc(c, pp_take(c, &tok, out, 64, &n, &order, &flags), 0);
	assert_int_equal(n, 4);
	assert_int_equal(flags, 0);
	a = bb_stat(c);
	bb_assert_rc(c, pp_free(c, out, n, NULL), 0);
	b = bb_stat(c);
	assert_int_equal(b.calls, a.calls + 1);
	assert_int_equal(b.cached, a.cached + 4);
	assert_int_equal(b.held, b.cached);
}

/* ---- 6. a drain by the daemon ---------------------------------------------------- */

/*
 * drain --clients (on a fresh admin connection) while c holds n pages and
 * caches BATCH - 1: asserts an OK AdminDrained of those BATCH - 1 pages,
 * and that c's next pp_stat counts the n-th drain since `a`, its cache
 * empty, its n pages still its own.
 */
static void drain_seen(struct bb *f, struct pp_client *c, const struct pp_stat *a, unsigned n)
{
	struct bb_conn *adm = bb_admin_open(f);
	struct bb_admin_drained d = bb_admin_drain_clients(adm, NULL, 0);
	struct pp_stat b;

	bb_conn_close(adm);
	if (d.status != 0)
		print_error("drain --clients: %s\n", d.error);
	assert_int_equal(d.status, 0);
	assert_true(d.body);
	assert_int_equal(d.pages, BATCH - 1);
	b = bb_stat(c);
	assert_int_equal(b.cache_drains, a->cache_drains + n);
	assert_int_equal(b.cached, 0);
	assert_int_equal(b.held, n);
	assert_int_equal(b.allocated, n);
}

static void test_drain_seen(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	uint32_t p[8];
	unsigned got;
	struct pp_stat a, b;

	bb_start(f, conf_cache);
	c = bb_client_cached(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &p[0], &got), 0);	/* 15 left cached */
	a = bb_stat(c);
	assert_int_equal(a.cached, BATCH - 1);
	drain_seen(f, c, &a, 1);
	/* The next allocation refills the set the daemon switched to (the
	 * library reads `active` afresh); p[0] is still c's. */
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &p[1], &got), 0);
	b = bb_stat(c);
	assert_int_equal(b.cache_misses, a.cache_misses + 1);
	assert_int_equal(b.cached, BATCH - 1);
	assert_int_not_equal(p[1], p[0]);
	/* ... so that the next drain finds them there. */
	drain_seen(f, c, &a, 2);
	bb_assert_rc(c, pp_free(c, p, 2, NULL), 0);
	b = bb_stat(c);
	assert_int_equal(b.held, b.cached);
	assert_int_equal(b.cached, 2);
}

/* ---- 7. no cache: the environment, or the pool ------------------------------------ */

/* 10 pairs; each must cost two round trips, and nothing stays held. */
static void expect_uncached(struct pp_client *c)
{
	struct pp_stat a, b;
	uint32_t pfn;
	unsigned got;

	a = bb_stat(c);
	for (unsigned i = 0; i < 10; i++) {
		bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &pfn, &got), 0);
		bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);
	}
	b = bb_stat(c);
	assert_int_equal(b.calls, a.calls + 21);
	assert_int_equal(b.cached, 0);
	assert_int_equal(b.cache_hits + b.cache_misses + b.cache_spills, 0);
	assert_int_equal(b.held, 0);
	assert_int_equal(b.allocated, 0);
}

static void test_env_off(void **state)
{
	struct bb *f = *state;

	bb_start(f, conf_cache);
	assert_int_equal(setenv("PAGEPOOL_CACHE", "0", 1), 0);
	expect_uncached(bb_client_cached(f, NULL));
	/* Anything else leaves it on. */
	assert_int_equal(setenv("PAGEPOOL_CACHE", "1", 1), 0);
	{
		struct pp_client *c = bb_client_cached(f, NULL);
		struct pp_stat st;

		warm_up(c);
		st = bb_stat(c);
		assert_int_equal(st.cached, BATCH);
	}
}

static void test_pool_off(void **state)
{
	struct bb *f = *state;

	bb_start(f, conf_nocache);
	expect_uncached(bb_client_cached(f, NULL));
}

/* The quota as the caller sees it: the cache's blocks count against it, but
 * an allocation refused for them is asked again without them. */
static void test_quota_gives_cache_back(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	uint32_t p[32];
	unsigned got, n;
	struct pp_stat st;

	bb_start(f, conf_quota);
	c = bb_client_cached(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, p, &got), 0);
	st = bb_stat(c);
	assert_int_equal(st.cached, BATCH - 1);
	/* 1 + 15 cached + 20 > 32: the cache goes back, then the 20 fit. */
	bb_assert_rc(c, pp_alloc(c, 0, 20, 0, p + 1, &got), 0);
	st = bb_stat(c);
	assert_int_equal(st.cached, 0);
	assert_int_equal(st.held, 21);
	/* One page at a time up to the quota exactly. */
	for (n = 21; n < 32; n++)
		bb_assert_rc(c, pp_alloc(c, 0, 1, 0, p + n, &got), 0);
	st = bb_stat(c);
	assert_int_equal(st.held - st.cached, 32);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, p, &got), -EDQUOT);
}

/* The same for a loan and a take: the quota counts the cache's 15 pages, so
 * 1 + 15 + 20 > 32 is refused; the library gives the cache back and asks
 * once more, and the 20 fit. */
static void test_quota_loan_take(void **state)
{
	struct bb *f = *state;
	struct pp_client *c, *t;
	struct pp_token tok;
	uint32_t p[32], out[64];
	unsigned got, n, order, flags;
	struct pp_stat st;

	bb_start(f, conf_quota);
	c = bb_client_cached(f, NULL);
	t = bb_client_cached(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, p, &got), 0);
	bb_assert_rc(t, pp_alloc(t, 0, 1, 0, p + 1, &got), 0);
	assert_int_equal(bb_stat(c).cached, BATCH - 1);
	assert_int_equal(bb_stat(t).cached, BATCH - 1);

	bb_assert_rc(c, pp_loan(c, 0, 20, 0, 0, p + 2, &tok), 0);
	st = bb_stat(c);
	print_message("lender after the loan: held %llu, cached %llu\n",
		      (unsigned long long)st.held, (unsigned long long)st.cached);
	assert_int_equal(st.cached, 0);

	bb_assert_rc(t, pp_take(t, &tok, out, 64, &n, &order, &flags), 0);
	assert_int_equal(n, 20);
	assert_int_equal(order, 0);
	assert_int_equal(flags, 0);
	assert_memory_equal(out, p + 2, 20 * sizeof(uint32_t));
	st = bb_stat(t);
	print_message("taker after the take: held %llu, cached %llu\n",
		      (unsigned long long)st.held, (unsigned long long)st.cached);
	assert_int_equal(st.cached, 0);
	assert_int_equal(st.held, 21);
	st = bb_stat(c);
	assert_int_equal(st.held, 1);

	/* A take with a release: the release goes through the refused take,
	 * and the take asked again (without it) fits. */
	t = bb_client_cached(f, NULL);
	bb_assert_rc(t, pp_alloc(t, 0, 1, 0, p, &got), 0);
	bb_assert_rc(t, pp_alloc(t, 0, 1, 0, p + 1, &got), 0);
	st = bb_stat(t);
	assert_int_equal(st.cached, BATCH - 2);
	bb_assert_rc(c, pp_loan(c, 0, 20, 0, 0, p + 2, &tok), 0);
	bb_assert_rc(t, pp_take_release(t, &tok, p, 1, NULL, out, 64, &n, &order, &flags), 0);
	assert_int_equal(n, 20);
	st = bb_stat(t);
	assert_int_equal(st.cached, 0);
	assert_int_equal(st.held, 21);
	bb_assert_rc(t, pp_free(t, p, 1, NULL), -EALREADY);	/* released */
	bb_assert_rc(t, pp_free(t, p + 1, 1, NULL), 0);
}

/* ---- 8. pp_close gives everything back ----------------------------------------- */

static void test_close_returns_all(void **state)
{
	struct bb *f = *state;
	struct pp_client *c, *watch;
	uint32_t p[4];
	unsigned got;
	struct pp_stat st;

	bb_start(f, conf_cache);
	watch = bb_client_cached(f, NULL);
	c = bb_client_cached(f, NULL);
	for (unsigned k = 0; k < 4; k++) {
		bb_assert_rc(c, pp_alloc(c, k, 1, 0, &p[k], &got), 0);
		bb_assert_rc(c, pp_free(c, &p[k], 1, NULL), 0);
	}
	st = bb_stat(c);
	assert_int_equal(st.cached, 4 * BATCH);		/* a batch of every order */
	assert_int_equal(st.held, st.cached);
	assert_int_equal(st.allocated, st.cached);
	bb_client_close(f, c);
	st = bb_expect_allocated(watch, 0, 2000);
	bb_assert_total(&st);
}

/* ---- 9. a daemon whose region the library cannot use -------------------------- */

enum standin_mode {
	SI_GOOD,		/* a region as proto/ccache.h says */
	SI_REFUSE,		/* CacheMap answered EPERM */
	SI_NO_FD,		/* CacheMapped without the memfd */
	SI_BAD_MAGIC,
	SI_BAD_VERSION,		/* CacheMapped.version */
	SI_SHORT,		/* a memfd shorter than PP_CC_SIZE */
	SI_UNSEALED,		/* a memfd that could shrink under the mapping */
	SI_CLOSE,		/* the connection closed instead of an answer */
	SI_NMODES
};

/* A sealed memfd of `size` bytes (seals: F_SEAL_SHRINK | F_SEAL_GROW unless
 * !sealed) starting with a region header; -1 on failure. */
static int standin_memfd(size_t size, bool sealed, uint32_t magic)
{
	int fd = memfd_create("standin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	uint32_t head[3] = { magic, PP_CC_VERSION, (uint32_t)PP_CC_SIZE };

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
	    pwrite(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    (sealed && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0))
		return -1;
	return fd;
}

/* The answer to CacheMap (request id 2) in `mode`. */
static int standin_cachemap(int s, enum standin_mode mode)
{
	Pagepool__V1__CacheMapped cm = PAGEPOOL__V1__CACHE_MAPPED__INIT;
	wire_response r = PAGEPOOL__V1__RESPONSE__INIT;
	int fd = -1, err;

	r.id = 2;
	if (mode == SI_REFUSE) {
		r.status = PAGEPOOL__V1__STATUS__EPERM;
		r.error = "no cache for you";
		return bb_standin_send(s, &r, -1);
	}
	cm.size = PP_CC_SIZE;
	cm.version = mode == SI_BAD_VERSION ? PP_CC_VERSION + 1 : PP_CC_VERSION;
	cm.high = HIGH;
	cm.batch = BATCH;
	r.body_case = PAGEPOOL__V1__RESPONSE__BODY_CACHE_MAPPED;
	r.cache_mapped = &cm;
	if (mode != SI_NO_FD) {
		fd = standin_memfd(mode == SI_SHORT ? 4096 : PP_CC_SIZE, mode != SI_UNSEALED,
				   mode == SI_BAD_MAGIC ? ~PP_CC_MAGIC : PP_CC_MAGIC);
		if (fd < 0)
			return -1;
	}
	err = bb_standin_send(s, &r, fd);
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * The stand-in's answers (bb_standin_start): to the hello (its first read)
 * a Welcome granting FEATURE_CACHE, and to the CacheMap (the second) what
 * `mode` says; then nothing, until the client's EOF.
 */
static int standin_answer(int s, unsigned nread, int mode)
{
	if (nread == 0 && bb_standin_welcome(s, PAGEPOOL__V1__FEATURE__FEATURE_CACHE, HIGH,
					     BATCH) != 0)
		return 6;
	if (nread == 1 && mode == SI_CLOSE)
		return BB_STANDIN_END;
	if (nread == 1 && standin_cachemap(s, (enum standin_mode)mode) != 0)
		return 7;
	return 0;
}

static void test_unusable_region(void **state)
{
	static const char *const names[SI_NMODES] = {
		"good", "refused", "no fd", "bad magic", "bad version", "short", "unsealed",
		"closed",
	};
	struct bb *f = *state;

	for (int mode = 0; mode < SI_NMODES; mode++) {
		struct pp_client *c = NULL;
		pid_t kid = bb_standin_start(f, standin_answer, mode);
		int err = pp_connect(f->sock, NULL, &c);

		print_message("region %s: pp_connect %d, cache %s\n", names[mode], err,
			      c && c->cc.r ? "on" : "off");
		if (mode == SI_CLOSE) {	/* a broken transport is pp_connect's failure */
			assert_int_equal(err, -ECONNRESET);
			assert_null(c);
			assert_int_equal(bb_kid_wait(f, kid, 5000), 0);
			continue;
		}
		assert_int_equal(err, 0);
		assert_string_equal(pp_last_error(c), "");
		if (mode == SI_GOOD) {
			assert_non_null(c->cc.r);
			assert_non_null(c->cc.tag);
			assert_int_equal(c->cc.high[0], HIGH);
			assert_int_equal(c->cc.batch[3], BATCH >> 3);
		} else {
			assert_null(c->cc.r);
			assert_null(c->cc.tag);
		}
		pp_close(c);
		assert_int_equal(bb_kid_wait(f, kid, 5000), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cc_test(test_hits_no_round_trip),
		cc_test(test_refill_spill_counts),
		cc_test(test_double_free_cached),
		cc_test(test_unknown_pfns_ask_daemon),
		cc_test(test_plain_free_forgets),
		cc_test(test_zero_on_hit),
		cc_test(test_offer_cached_refused),
		cc_test(test_taken_blocks_cached),
		cc_test(test_drain_seen),
		cc_test(test_env_off),
		cc_test(test_pool_off),
		cc_test(test_quota_gives_cache_back),
		cc_test(test_quota_loan_take),
		cc_test(test_close_returns_all),
		cc_test(test_unusable_region),
	};

	return cmocka_run_group_tests_name("libpagepool client cache", tests, NULL, NULL);
}
