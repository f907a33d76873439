/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_reclaim.c - an allocation must not fail while the pool has free
 * pages.  Pages parked in a worker's pcplists keep buddy blocks split; the
 * daemon must flush the allocating worker's own lists, drain the others'
 * through the rcu drain and retry before it answers ENOMEM, and its decay
 * must age pages out of a worker that is busy but hardly uses its lists.
 *
 * The pinning recipe: one client allocates the whole pool as order-0 pages,
 * frees the first page of every max-order block (they go to its worker's
 * pcp, at the bottom of the LIFO lists), then frees the rest (what fits
 * under pcp_high joins the lists, the rest goes back to the buddy).  No
 * max-order block can merge again while those pages stay cached.
 */
#include "bb.h"

#define POOL_PAGES	16384u		/* 64 MiB of 4 KiB pages: 16 max-order blocks */
#define BLOCK_PAGES	1024u
#define PIN_BATCH	8u

/* No decay: only the allocation path may free the pinned pages. */
static const char conf_nodecay[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = 0,1\n"
	"decay_interval = 0\n"
	"\n"
	"[pool default]\n"
	"size = 64M\n"
	"pcp_high = 64\n"
	"pcp_batch = 8\n";

static const char conf_decay[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = 0,1\n"
	"decay_interval = 1\n"
	"\n"
	"[pool default]\n"
	"size = 64M\n"
	"pcp_high = 64\n"
	"pcp_batch = 8\n";

static void skip_unless_4k_two_cpus(void)
{
	if (sysconf(_SC_PAGESIZE) != 4096 || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		print_message("needs 4 KiB pages and 2 CPUs\n");
		skip();
	}
}

/* Pin one page of every max-order block in c's worker's pcp (see the top). */
static void pin_every_block(struct pp_client *c)
{
	static uint32_t pfns[POOL_PAGES];
	uint32_t firsts[POOL_PAGES / BLOCK_PAGES], rest[BLOCK_PAGES];
	unsigned got, nf = 0, nr = 0;
	struct pp_stat st;

	for (unsigned i = 0; i < POOL_PAGES; i += got) {
		bb_assert_rc(c, pp_alloc(c, 0, BLOCK_PAGES, 0, pfns + i, &got), 0);
		assert_int_equal(got, BLOCK_PAGES);
	}
	st = bb_stat(c);
	assert_int_equal(st.free + st.pcp, 0);
	for (unsigned i = 0; i < POOL_PAGES; i++)
		if (pfns[i] % BLOCK_PAGES == 0)
			firsts[nf++] = pfns[i];
	assert_int_equal(nf, POOL_PAGES / BLOCK_PAGES);
	bb_assert_rc(c, pp_free(c, firsts, nf, NULL), 0);
	for (unsigned i = 0; i < POOL_PAGES; i++) {
		if (pfns[i] % BLOCK_PAGES == 0)
			continue;
		rest[nr++] = pfns[i];
		if (nr == BLOCK_PAGES) {
			bb_assert_rc(c, pp_free(c, rest, nr, NULL), 0);
			nr = 0;
		}
	}
	if (nr)
		bb_assert_rc(c, pp_free(c, rest, nr, NULL), 0);
	st = bb_stat(c);
	bb_assert_total(&st);
	assert_int_equal(st.allocated, 0);
	assert_true(st.pcp >= POOL_PAGES / BLOCK_PAGES);
}

/* One alloc+free of a page: the pinning worker stays slightly busy. */
static void churn_one(struct pp_client *c)
{
	uint32_t pfn;
	unsigned got;

	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &pfn, &got), 0);
	bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);
}

/* A client on worker `worker` (same = true) or on another one. */
static struct pp_client *client_on(struct bb *f, uint32_t worker, bool same)
{
	for (int i = 0; i < 4; i++) {
		struct pp_client *c = bb_client(f, NULL);

		if ((pp_info(c)->worker == worker) == same)
			return c;
	}
	fail_msg("no client landed %s worker %u in 4 connections", same ? "on" : "off", worker);
	return NULL;
}

/* The drain for a failed allocation runs in the pool's drain mode. */
static const char conf_workqueue[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = 0,1\n"
	"decay_interval = 0\n"
	"drain_mode = workqueue\n"
	"\n"
	"[pool default]\n"
	"size = 64M\n"
	"pcp_high = 64\n"
	"pcp_batch = 8\n";

static const char conf_spinlock[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = 0,1\n"
	"decay_interval = 0\n"
	"drain_mode = spinlock\n"
	"\n"
	"[pool default]\n"
	"size = 64M\n"
	"pcp_high = 64\n"
	"pcp_batch = 8\n";

/* Every max-order block pinned on another worker: the drain frees them. */
static void drain_other_workers(struct bb *f, const char *conf)
{
	struct pp_client *a, *b;
	uint32_t big[POOL_PAGES / BLOCK_PAGES];
	unsigned got = 0;
	struct pp_stat st;

	skip_unless_4k_two_cpus();
	bb_start(f, conf);
	a = bb_client(f, NULL);
	pin_every_block(a);
	churn_one(a);
	b = client_on(f, pp_info(a)->worker, false);
	/* Every block, in one all-or-nothing call. */
	bb_assert_rc(b, pp_alloc(b, 10, POOL_PAGES / BLOCK_PAGES, 0, big, &got), 0);
	assert_int_equal(got, POOL_PAGES / BLOCK_PAGES);
	st = bb_stat(b);
	assert_int_equal(st.allocated, POOL_PAGES);
	bb_assert_rc(b, pp_free(b, big, got, NULL), 0);
	churn_one(a);		/* the pinning worker still serves */
	st = bb_stat(b);
	bb_assert_total(&st);
	assert_int_equal(st.allocated, 0);
}

static void test_drain_other_workers(void **state)
{
	drain_other_workers(*state, conf_nodecay);
}

static void test_drain_other_workers_workqueue(void **state)
{
	drain_other_workers(*state, conf_workqueue);
}

static void test_drain_other_workers_spinlock(void **state)
{
	drain_other_workers(*state, conf_spinlock);
}

/* Pinned on the allocating client's own worker: it flushes its own lists. */
static void test_flush_own_worker(void **state)
{
	struct bb *f = *state;
	struct pp_client *a, *c;
	uint32_t pfn;
	unsigned got = 0;

	skip_unless_4k_two_cpus();
	bb_start(f, conf_nodecay);
	a = bb_client(f, NULL);
	pin_every_block(a);
	churn_one(a);
	c = client_on(f, pp_info(a)->worker, true);
	bb_assert_rc(c, pp_alloc(c, 10, 1, 0, &pfn, &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(pfn % BLOCK_PAGES, 0);
	bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);
}

/* A pool that is truly short still says ENOMEM at once, nothing parked. */
static void test_truly_short(void **state)
{
	struct bb *f = *state;
	struct pp_client *a, *b;
	static uint32_t pfns[POOL_PAGES];
	uint32_t pfn;
	unsigned got;

	skip_unless_4k_two_cpus();
	bb_start(f, conf_nodecay);
	a = bb_client(f, NULL);
	for (unsigned i = 0; i < POOL_PAGES; i += got)
		bb_assert_rc(a, pp_alloc(a, 0, BLOCK_PAGES, 0, pfns + i, &got), 0);
	/* A few pages go back to a's pcp: far fewer than a block. */
	bb_assert_rc(a, pp_free(a, pfns, 4, NULL), 0);
	b = client_on(f, pp_info(a)->worker, false);
	bb_assert_rc(b, pp_alloc(b, 10, 1, 0, &pfn, &got), -ENOMEM);
	bb_assert_rc(b, pp_alloc(b, 0, 5, 0, pfns, &got), -ENOMEM);
	/* Four pages exist (in a's pcp): a drain makes them reachable. */
	bb_assert_rc(b, pp_alloc(b, 0, 4, 0, pfns, &got), 0);
	assert_int_equal(got, 4);
}

/*
 * The last pages of the pool, some of them cached in another worker's pcp:
 * the failed batch leaves what it took in the allocating worker's own
 * list, and those count towards what a drain can make whole (they were
 * once left out, and the request answered ENOMEM with every page free).
 */
static void test_last_pages_cached_elsewhere(void **state)
{
	struct bb *f = *state;
	struct pp_client *a, *b;
	static uint32_t pfns[POOL_PAGES];
	unsigned got;
	struct pp_stat st;

	skip_unless_4k_two_cpus();
	bb_start(f, conf_nodecay);
	a = bb_client(f, NULL);
	bb_assert_rc(a, pp_alloc(a, 0, 5, 0, pfns, &got), 0);
	bb_assert_rc(a, pp_free(a, pfns, 5, NULL), 0);	/* into a's pcp */
	b = client_on(f, pp_info(a)->worker, false);
	for (unsigned i = 0; i < POOL_PAGES; i += got)
		bb_assert_rc(b, pp_alloc(b, 0, BLOCK_PAGES, 0, pfns + i, &got), 0);
	st = bb_stat(b);
	assert_int_equal(st.held, POOL_PAGES);
	assert_int_equal(st.free + st.pcp, 0);
}

/* While a request waits for the drain, the requests after it wait too and
 * every answer comes back in request order. */
static void test_parked_in_order(void **state)
{
	struct bb *f = *state;
	struct pp_client *a;
	struct bb_conn *raw = NULL;
	struct bb_buf out = { 0 };
	struct bb_req q;
	bb_response *r;

	skip_unless_4k_two_cpus();
	bb_start(f, conf_nodecay);
	a = bb_client(f, NULL);
	pin_every_block(a);
	for (int i = 0; i < 4 && !raw; i++) {
		struct bb_conn *c = bb_raw(f);

		r = bb_raw_hello(c, 1, NULL);
		if (r->welcome->worker != pp_info(a)->worker)
			raw = c;
		bb_resp_free(r);
	}
	assert_non_null(raw);
	bb_buf_add_msg(&out, &bb_req_alloc(&q, 2, 10, 1, 0)->base, NULL, 0);
	bb_buf_add_msg(&out, &bb_req_stat(&q, 3)->base, NULL, 0);
	bb_buf_add_msg(&out, &bb_req_alloc(&q, 4, 9, 2, 0)->base, NULL, 0);
	assert_int_equal(bb_conn_send_buf(raw, &out), 0);
	bb_buf_free(&out);
	for (uint64_t id = 2; id <= 4; id++) {
		assert_int_equal(bb_conn_recv(raw, BB_IO_TIMEOUT_MS, &r), 0);
		assert_int_equal(r->id, id);
		bb_assert_status(r, PAGEPOOL__V1__STATUS__OK);
		if (id == 3)
			assert_int_equal(r->pool_stat->held, BLOCK_PAGES);
		bb_resp_free(r);
	}
}

/*
 * Decay reaches a worker that is busy but hardly uses its lists: the pages
 * pinned at the bottom of its lists sat there a whole interval, so they go
 * back although the worker is never idle.  The churn is paced (a pair every
 * 50 ms, the load this test models); completion is what is waited for.
 */
static void test_decay_busy_worker(void **state)
{
	struct bb *f = *state;
	struct pp_client *a;
	struct pp_stat st;
	int64_t deadline;

	skip_unless_4k_two_cpus();
	bb_start(f, conf_decay);
	a = bb_client(f, NULL);
	pin_every_block(a);
	deadline = bb_now_ms() + 15000;
	do {
		churn_one(a);
		st = bb_stat(a);
		if (st.pcp <= PIN_BATCH)
			break;
		poll(NULL, 0, 50);
	} while (bb_left_ms(deadline) > 0);
	if (st.pcp > PIN_BATCH)
		print_error("pcp still caches %llu pages after 15 s of light use\n",
			    (unsigned long long)st.pcp);
	assert_true(st.pcp <= PIN_BATCH);
	bb_assert_total(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_drain_other_workers),
		bb_test(test_drain_other_workers_workqueue),
		bb_test(test_drain_other_workers_spinlock),
		bb_test(test_flush_own_worker),
		bb_test(test_truly_short),
		bb_test(test_last_pages_cached_elsewhere),
		bb_test(test_parked_in_order),
		bb_test(test_decay_busy_worker),
	};

	return cmocka_run_group_tests_name("blackbox reclaim", tests, NULL, NULL);
}
