/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_runs.c - black-box tests of FEATURE_RUNS, the opt-in extension of
 * pagepool.v1 in which Pages answers and Free requests may carry runs,
 * pairs (first pfn, n) standing for n blocks laid end to end.
 *
 *  - the hello asks, the welcome grants only the bits the daemon knows,
 *    and without the grant Alloc answers stay plain lists;
 *  - with it, an Alloc answer is in runs exactly when they are shorter
 *    (maximal runs, at most half the list), and the runs expand to the
 *    blocks handed out (order 0 and order 2, stride 4);
 *  - a Free with runs frees exactly its expanded blocks, pfns first; every
 *    malformed or hostile one gets its status and bad_index (counted in
 *    the expanded order) and frees nothing, on a connection that goes on;
 *  - libpagepool round trips hold the same pages with runs and without
 *    (PAGEPOOL_RUNS=0); through a relay that records the bytes, its frees
 *    go out as runs in the caller's order exactly when that is less than
 *    half the list, so a bad pfn is blamed by the caller's index; against
 *    a daemon from before the feature (the relay refusing its fields) it
 *    asks again without features and sends plain lists;
 *  - the connection and uid quotas count the pages of runs as of lists.
 *
 * Raw requests go through bb_conn; after every refused request the
 * connection's held pages and the pool's allocated count are what they
 * were.
 */
#include "bb.h"

#define ST(x)		PAGEPOOL__V1__STATUS__##x
#define F_RUNS		PAGEPOOL__V1__FEATURE__FEATURE_RUNS
#define MAX_COUNT	1024u		/* the daemon's default max_count */
#define MAX_PAGES	8192u		/* most pages of a pool here (16M / 4 KiB: 4096) */
#define BODY(x)		PAGEPOOL__V1__RESPONSE__BODY_##x

static const char conf_runs[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n"
	"\n"
	"[pool quota]\n"
	"size = 8M\n"
	"quota_pages = 512\n"
	"quota_uid_pages = 768\n"
	"\n"
	"[pool flat]\n"
	"size = 4M\n"
	"pcp_high = 0\n";

/* ---- raw connections -------------------------------------------------------- */

/* A raw connection that said hello: its next id, the pool's size in
 * pages, and whether runs were granted. */
struct raw {
	struct bb_conn *c;
	uint64_t id;
	uint32_t npages;
	bool runs;
};

/* Open a raw connection, say hello to `pool` asking for `features`, and
 * assert that the welcome grants `granted`. */
static void raw_join(struct bb *f, struct raw *r, const char *pool, uint32_t features,
		     uint32_t granted)
{
	struct bb_req q;
	bb_response *w;

	memset(r, 0, sizeof(*r));
	r->c = bb_raw(f);
	r->id = 1;
	bb_req_hello(&q, r->id++, 1, pool);
	q.hello.features = features;
	w = bb_rpc(r->c, &q.r);
	bb_assert_status(w, ST(OK));
	assert_int_equal(w->body_case, BODY(WELCOME));
	if (w->welcome->features != granted)
		print_error("hello asking features %#x: welcome granted %#x, expected %#x\n",
			    features, w->welcome->features, granted);
	assert_int_equal(w->welcome->features, granted);
	assert_int_equal(w->welcome->max_count, MAX_COUNT);
	r->npages = (uint32_t)(w->welcome->arena_size / w->welcome->page_size);
	assert_true(r->npages > 0 && r->npages <= MAX_PAGES);
	r->runs = granted & F_RUNS;
	bb_resp_free(w);
}

/* How many run numbers (two a run) the blocks p[0..n) make, each run as
 * long as it goes with `step` pages from one block to the next. */
static size_t runs_len(const uint32_t *p, size_t n, uint32_t step)
{
	size_t k = 0;

	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && p[j] == p[j - 1] + step)
			j++;
		k += 2;
		i = j;
	}
	return k;
}

/*
 * A Pages answer to an Alloc of count order-`order` blocks on r: its blocks,
 * runs expanded, into pfns[] (room for count) and *n; *nruns its run
 * numbers.  Asserts the form: runs only when granted, one form or the
 * other, each run of n >= 1; runs exactly when they are shorter (at most
 * half the list), and then maximal; every block aligned, in the arena, and
 * no page in two blocks.
 */
static void pages_take(const struct raw *r, const Pagepool__V1__Pages *p, uint32_t order,
		       uint32_t count, uint32_t *pfns, size_t *n, size_t *nruns)
{
	static uint8_t seen[MAX_PAGES];
	uint32_t step = 1u << order;
	size_t k = 0;

	assert_int_equal(p->order, order);
	if (!r->runs)
		assert_int_equal(p->n_runs, 0);
	assert_true(p->n_pfns == 0 || p->n_runs == 0);
	assert_int_equal(p->n_runs % 2, 0);
	assert_true(p->n_pfns <= count);
	for (size_t i = 0; i < p->n_pfns; i++)
		pfns[k++] = p->pfns[i];
	for (size_t i = 0; i < p->n_runs; i += 2) {
		assert_true(p->runs[i + 1] >= 1);
		assert_true(p->runs[i + 1] <= count - k);
		for (uint32_t j = 0; j < p->runs[i + 1]; j++)
			pfns[k++] = p->runs[i] + j * step;
	}
	assert_true(k >= 1);
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < k; i++) {
		if (pfns[i] % step || pfns[i] >= r->npages || r->npages - pfns[i] < step)
			print_error("block %zu: pfn %u of order %u, pool of %u pages\n", i, pfns[i],
				    order, r->npages);
		assert_int_equal(pfns[i] % step, 0);
		assert_true(pfns[i] < r->npages && r->npages - pfns[i] >= step);
		for (uint32_t j = 0; j < step; j++) {
			assert_int_equal(seen[pfns[i] + j], 0);
			seen[pfns[i] + j] = 1;
		}
	}
	if (p->n_runs) {
		assert_int_equal(p->n_runs, runs_len(pfns, k, step));
		assert_true(p->n_runs <= k / 2);
	} else if (r->runs) {
		assert_true(runs_len(pfns, k, step) > k / 2);
	}
	*n = k;
	if (nruns)
		*nruns = p->n_runs;
}

/*
 * Alloc on r: asserts the answer's status; when OK, its blocks (see
 * pages_take: all `count` of them) into pfns[] and *n (either may be
 * NULL), the run numbers it came in into *nruns (may be NULL).
 */
static void raw_alloc(struct raw *r, uint32_t order, uint32_t count, int status,
		      uint32_t *pfns, size_t *n, size_t *nruns)
{
	static uint32_t scratch[MAX_COUNT];
	struct bb_req q;
	bb_response *a = bb_rpc(r->c, bb_req_alloc(&q, r->id++, order, count, 0));
	size_t got;

	bb_assert_status(a, status);
	if (status == ST(OK)) {
		assert_int_equal(a->body_case, BODY(PAGES));
		assert_true(count <= MAX_COUNT);
		pages_take(r, a->pages, order, count, pfns ? pfns : scratch, &got, nruns);
		assert_int_equal(got, count);
		if (n)
			*n = got;
	} else {
		assert_int_equal(a->body_case, 0);
	}
	bb_resp_free(a);
}

/* A Free on r of pfns[np], then runs[nr] of order run_order: the answer
 * (bb_resp_free). */
static bb_response *raw_free(struct raw *r, const uint32_t *pfns, size_t np,
			     const uint32_t *runs, size_t nr, uint32_t run_order)
{
	struct bb_req q;

	bb_req_free(&q, r->id++, pfns, np);
	q.free.runs = (uint32_t *)runs;
	q.free.n_runs = nr;
	q.free.run_order = run_order;
	return bb_rpc(r->c, &q.r);
}

/* What r holds, and the pool's allocated count (a stat: the connection
 * still serves). */
struct counts {
	uint64_t held, allocated;
};

static struct counts raw_counts(struct raw *r)
{
	struct bb_req q;
	bb_response *s = bb_rpc(r->c, bb_req_stat(&q, r->id++));
	struct counts c;

	bb_assert_status(s, ST(OK));
	assert_int_equal(s->body_case, BODY(POOL_STAT));
	c.held = s->pool_stat->held;
	c.allocated = s->pool_stat->allocated;
	bb_resp_free(s);
	return c;
}

/* A Free that succeeds and frees `pages`. */
static void free_ok(struct raw *r, const uint32_t *pfns, size_t np, const uint32_t *runs,
		    size_t nr, uint32_t run_order, uint64_t pages)
{
	struct counts before = raw_counts(r), after;
	bb_response *a = raw_free(r, pfns, np, runs, nr, run_order);

	bb_assert_status(a, ST(OK));
	assert_int_equal(a->body_case, BODY(FREED));
	assert_int_equal(a->freed->pages, pages);
	bb_resp_free(a);
	after = raw_counts(r);
	assert_int_equal(after.held, before.held - pages);
	assert_int_equal(after.allocated, before.allocated - pages);
}

/*
 * A Free refused with `status` and `bad` (its bad_index; 0 for a refusal
 * not about one pfn): no body, nothing freed, here or anywhere in the pool
 * (`others`, may be NULL, holds what it held), and r still serves.
 */
static void free_fails(struct raw *r, struct raw *others, const uint32_t *pfns, size_t np,
		       const uint32_t *runs, size_t nr, uint32_t run_order, int status,
		       uint32_t bad)
{
	struct counts before = raw_counts(r), after, obefore = { 0, 0 }, oafter;
	bb_response *a;

	if (others)
		obefore = raw_counts(others);
	a = raw_free(r, pfns, np, runs, nr, run_order);
	bb_assert_status(a, status);
	assert_int_equal(a->body_case, 0);
	if (a->bad_index != bad)
		print_error("free refused \"%s\": bad_index %u, expected %u\n", a->error,
			    a->bad_index, bad);
	assert_int_equal(a->bad_index, bad);
	bb_resp_free(a);
	after = raw_counts(r);
	assert_int_equal(after.held, before.held);
	assert_int_equal(after.allocated, before.allocated);
	if (others) {
		oafter = raw_counts(others);
		assert_int_equal(oafter.held, obefore.held);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Among the held order-0 pages p[0..n), a window of k consecutive ones
 * whose next page is not held and lies in the arena: its first pfn.
 */
static uint32_t window(const uint32_t *p, size_t n, size_t k, uint32_t npages)
{
	uint32_t *s = malloc(n * sizeof(*s));
	uint32_t first = UINT32_MAX;

	assert_non_null(s);
	if (n)
		memcpy(s, p, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u32);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && s[j] == s[j - 1] + 1; j++)
			;
		if (j - i >= k && s[j - 1] + 1 < npages) {
			first = s[j - 1] + 1 - (uint32_t)k;
			break;
		}
	}
	free(s);
	if (first == UINT32_MAX)
		fail_msg("no %zu consecutive held pages followed by a free one", k);
	return first;
}

static bool in_list(const uint32_t *p, size_t n, uint32_t pfn)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == pfn)
			return true;
	return false;
}

/* The blocks p[0..n) (sorted) as maximal runs of stride `step` into
 * runs[] (room for 2n): how many numbers. */
static size_t make_runs(const uint32_t *p, size_t n, uint32_t step, uint32_t *runs)
{
	size_t k = 0;

	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && p[j] == p[j - 1] + step; j++)
			;
		runs[k++] = p[i];
		runs[k++] = (uint32_t)(j - i);
	}
	return k;
}

/* ---- hello ------------------------------------------------------------------ */

static void test_hello_features(void **state)
{
	struct bb *f = *state;
	struct raw a, b, c;
	uint32_t pfns[64];
	size_t n, nruns;

	bb_start(f, conf_runs);
	raw_join(f, &a, NULL, F_RUNS, F_RUNS);
	/* Bits the daemon does not know are ignored, not refused; it knows
	 * FEATURE_CACHE too (granted: the pool has client caches). */
	raw_join(f, &b, NULL, 0xffffffffu, F_RUNS | PAGEPOOL__V1__FEATURE__FEATURE_CACHE);
	raw_join(f, &c, NULL, 0, 0);
	assert_true(a.runs && b.runs && !c.runs);

	/* 64 pages from a fresh pool are consecutive (a run is far shorter),
	 * yet without the feature they come as the plain list. */
	raw_alloc(&c, 0, 64, ST(OK), pfns, &n, &nruns);
	assert_int_equal(nruns, 0);
	assert_int_equal(runs_len(pfns, n, 1), 2);
	raw_alloc(&c, 2, 8, ST(OK), pfns, &n, &nruns);
	assert_int_equal(nruns, 0);
	assert_int_equal(raw_counts(&c).held, 64 + 32);

	/* A refused hello grants nothing and the connection can try again. */
	{
		struct bb_req q;
		bb_response *w;
		struct raw d;

		memset(&d, 0, sizeof(d));
		d.c = bb_raw(f);
		bb_req_hello(&q, 1, 1, "nosuchpool");
		q.hello.features = F_RUNS;
		w = bb_rpc(d.c, &q.r);
		bb_assert_status(w, ST(ENOENT));
		assert_int_equal(w->body_case, 0);
		bb_resp_free(w);
		bb_req_hello(&q, 2, 1, NULL);
		w = bb_rpc(d.c, &q.r);
		bb_assert_status(w, ST(OK));
		assert_int_equal(w->welcome->features, 0);
		bb_resp_free(w);
		/* A second hello is refused and changes nothing either. */
		bb_req_hello(&q, 3, 1, NULL);
		q.hello.features = F_RUNS;
		w = bb_rpc(d.c, &q.r);
		bb_assert_status(w, ST(EPROTO));
		bb_resp_free(w);
		d.id = 4;
		d.npages = c.npages;
		raw_alloc(&d, 0, 64, ST(OK), pfns, &n, &nruns);
		assert_int_equal(nruns, 0);
	}
}

/* ---- Alloc answers ---------------------------------------------------------- */

static void test_alloc_answers_runs(void **state)
{
	struct bb *f = *state;
	static uint32_t pfns[MAX_COUNT], more[MAX_COUNT];
	struct raw a;
	size_t n, nruns;

	bb_start(f, conf_runs);
	raw_join(f, &a, NULL, F_RUNS, F_RUNS);

	/* A whole fresh batch: a few runs instead of 1,024 pfns. */
	raw_alloc(&a, 0, MAX_COUNT, ST(OK), pfns, &n, &nruns);
	print_message("alloc of 1024 order-0 pages: %zu run numbers\n", nruns);
	assert_true(nruns >= 2 && nruns <= 16);
	assert_int_equal(raw_counts(&a).held, MAX_COUNT);

	/* Order 2: runs of stride 4, which expand to the real block heads: a
	 * plain Free of them frees 400 pages. */
	raw_alloc(&a, 2, 100, ST(OK), more, &n, &nruns);
	print_message("alloc of 100 order-2 blocks: %zu run numbers\n", nruns);
	assert_true(nruns >= 2 && nruns <= 16);
	free_ok(&a, more, 100, NULL, 0, 0, 400);
	free_ok(&a, pfns, MAX_COUNT, NULL, 0, 0, MAX_COUNT);
	assert_int_equal(raw_counts(&a).allocated, 0);
}

/*
 * Free want[0..n) on a and take as many pages back: in the pool "flat",
 * which caches nothing (pcp_high = 0) and all of which a holds, the very
 * same ones come back, from the buddy allocator.  Returns the answer's
 * run numbers.
 */
static size_t take_back(struct raw *a, const uint32_t *want, size_t n)
{
	uint32_t got[256];
	size_t k, nruns;

	assert_true(n <= 256);
	free_ok(a, want, n, NULL, 0, 0, n);
	raw_alloc(a, 0, (uint32_t)n, ST(OK), got, &k, &nruns);
	print_message("%zu pages taken back: %zu pfns, %zu run numbers\n", n, nruns ? 0 : n,
		      nruns);
	qsort(got, n, sizeof(got[0]), cmp_u32);
	assert_memory_equal(got, want, n * sizeof(got[0]));
	return nruns;
}

/*
 * An answer is in runs exactly when they are at most half as long as the
 * list (pages_take checks that of every answer).  Scattered pages come
 * back as the list, whatever their order: runs of 1 page (twice as long as
 * the list), of 2 (as long), runs of 4 and a lone page (just over half).
 * Aligned runs of 4, which the buddy allocator hands out a whole block at
 * a time, come as runs: exactly half as long.
 */
static void test_alloc_scattered_plain(void **state)
{
	struct bb *f = *state;
	uint32_t pfns[1024], sel[256];
	struct raw a;
	size_t n, nruns, k;

	bb_start(f, conf_runs);
	raw_join(f, &a, "flat", F_RUNS, F_RUNS);
	assert_int_equal(a.npages, 1024);
	raw_alloc(&a, 0, 1024, ST(OK), pfns, &n, &nruns);
	assert_int_equal(nruns, 2);
	qsort(pfns, 1024, sizeof(pfns[0]), cmp_u32);
	assert_int_equal(pfns[1023], 1023);

	for (k = 0; k < 128; k++)
		sel[k] = pfns[2 * k + 1];
	assert_int_equal(take_back(&a, sel, 128), 0);
	for (k = 0; k < 128; k++)
		sel[k] = pfns[256 + 4 * (k / 2) + k % 2];
	assert_int_equal(take_back(&a, sel, 128), 0);
	for (k = 0; k < 128; k++)
		sel[k] = pfns[512 + 8 * (k / 4) + k % 4];
	assert_int_equal(take_back(&a, sel, 128), 64);
	for (k = 0; k < 128; k++)
		sel[k] = pfns[768 + 6 * (k / 4) + k % 4];
	sel[128] = pfns[1023];
	assert_int_equal(take_back(&a, sel, 129), 0);
	assert_int_equal(raw_counts(&a).held, 1024);
}

/* ---- Free with runs ---------------------------------------------------------- */

static void test_free_runs(void **state)
{
	struct bb *f = *state;
	static uint32_t pfns[MAX_COUNT], runs[2 * MAX_COUNT];
	uint32_t p;
	struct raw a;
	size_t n, k;

	bb_start(f, conf_runs);
	raw_join(f, &a, NULL, F_RUNS, F_RUNS);

	/* One run of 100 pages: exactly those go (a second free of them is a
	 * double free, blamed on the first). */
	raw_alloc(&a, 0, 128, ST(OK), pfns, &n, NULL);
	p = window(pfns, 128, 100, a.npages);
	free_ok(&a, NULL, 0, (uint32_t[]){ p, 100 }, 2, 0, 100);
	free_fails(&a, NULL, NULL, 0, (uint32_t[]){ p, 100 }, 2, 0, ST(EALREADY), 0);
	free_fails(&a, NULL, NULL, 0, (uint32_t[]){ p + 99, 1 }, 2, 0, ST(EALREADY), 0);
	assert_int_equal(raw_counts(&a).held, 28);

	/* run_order 1 over order-0 pages: every other page, the rest stays. */
	raw_alloc(&a, 0, 64, ST(OK), pfns, &n, NULL);
	p = window(pfns, 64, 40, a.npages);
	free_ok(&a, NULL, 0, (uint32_t[]){ p, 20 }, 2, 1, 20);
	free_ok(&a, NULL, 0, (uint32_t[]){ p + 1, 20 }, 2, 1, 20);

	/* Mixed: pfns, then several runs, in no particular order. */
	raw_alloc(&a, 0, 64, ST(OK), pfns, &n, NULL);
	p = window(pfns, 64, 30, a.npages);
	free_ok(&a, (uint32_t[]){ p + 29, p }, 2, (uint32_t[]){ p + 1, 10, p + 20, 9, p + 11, 9 },
		6, 0, 30);

	/* run_order with no runs: the pfns alone. */
	free_ok(&a, pfns, 1, NULL, 0, 3, 1);

	/* Order-2 blocks freed as runs of order 2 (a run of them may not be
	 * split by order-0 runs: 2 blocks = 8 pages). */
	raw_alloc(&a, 2, 64, ST(OK), pfns, &n, NULL);
	qsort(pfns, 64, sizeof(pfns[0]), cmp_u32);
	k = make_runs(pfns, 64, 4, runs);
	print_message("64 order-2 blocks: %zu run numbers\n", k);
	free_ok(&a, NULL, 0, runs, k, 2, 256);
	/* Order-3 blocks: two as pfns, the rest as runs of order 3. */
	raw_alloc(&a, 3, 16, ST(OK), pfns, &n, NULL);
	qsort(pfns, 16, sizeof(pfns[0]), cmp_u32);
	k = make_runs(pfns + 2, 14, 8, runs);
	free_ok(&a, pfns, 2, runs, k, 3, 128);

	/* Exactly max_count blocks in runs. */
	assert_int_equal(raw_counts(&a).held, 28 + 24 + 33);
	raw_alloc(&a, 0, MAX_COUNT, ST(OK), pfns, &n, NULL);
	qsort(pfns, MAX_COUNT, sizeof(pfns[0]), cmp_u32);
	k = make_runs(pfns, MAX_COUNT, 1, runs);
	free_ok(&a, NULL, 0, runs, k, 0, MAX_COUNT);
}

static void test_free_runs_without_feature(void **state)
{
	struct bb *f = *state;
	uint32_t pfns[64], p;
	struct raw c;
	size_t n;

	bb_start(f, conf_runs);
	raw_join(f, &c, NULL, 0, 0);
	raw_alloc(&c, 0, 64, ST(OK), pfns, &n, NULL);
	p = window(pfns, 64, 4, c.npages);
	/* Runs, runs after pfns, a run_order alone: not this connection's
	 * protocol.  Refused as such; nothing freed; the connection goes on. */
	free_fails(&c, NULL, NULL, 0, (uint32_t[]){ p, 4 }, 2, 0, ST(EPROTO), 0);
	free_fails(&c, NULL, &p, 1, (uint32_t[]){ p + 1, 3 }, 2, 0, ST(EPROTO), 0);
	free_fails(&c, NULL, &p, 1, NULL, 0, 1, ST(EPROTO), 0);
	free_fails(&c, NULL, NULL, 0, (uint32_t[]){ p, 0 }, 2, 0, ST(EPROTO), 0);
	/* The same pages as a list. */
	free_ok(&c, pfns, 64, NULL, 0, 0, 64);
}

static void test_free_runs_malformed(void **state)
{
	struct bb *f = *state;
	static uint32_t pfns[MAX_COUNT];
	uint32_t p;
	struct raw a;
	size_t n;

	bb_start(f, conf_runs);
	raw_join(f, &a, NULL, F_RUNS, F_RUNS);
	raw_alloc(&a, 0, 64, ST(OK), pfns, &n, NULL);
	p = window(pfns, 64, 8, a.npages);

	/* Shapes: an odd list, an empty run, run_order past max_order. */
	free_fails(&a, NULL, NULL, 0, (uint32_t[]){ p, 4, p + 4 }, 3, 0, ST(EINVAL), 0);
	free_fails(&a, NULL, NULL, 0, (uint32_t[]){ p }, 1, 0, ST(EINVAL), 0);
	free_fails(&a, NULL, &p, 1, (uint32_t[]){ p + 1, 2, p + 3, 0 }, 4, 0, ST(EINVAL), 0);
	free_fails(&a, NULL, NULL, 0, (uint32_t[]){ p, 0 }, 2, 0, ST(EINVAL), 0);
	free_fails(&a, NULL, NULL, 0, (uint32_t[]){ p, 1 }, 2, 11, ST(EINVAL), 0);
	free_fails(&a, NULL, &p, 1, NULL, 0, 11, ST(EINVAL), 0);
	free_fails(&a, NULL, NULL, 0, (uint32_t[]){ p, 1 }, 2, 0xffffffffu, ST(EINVAL), 0);
	/* No blocks at all. */
	free_fails(&a, NULL, NULL, 0, NULL, 0, 0, ST(EINVAL), 0);
	free_fails(&a, NULL, NULL, 0, NULL, 0, 2, ST(EINVAL), 0);

	/* Past uint32: refused for its shape (bad_index 0), not blamed on a
	 * block (the pfn before it would be index 1, out of the arena). */
	free_fails(&a, NULL, &p, 1, (uint32_t[]){ 0xffffffffu, 2 }, 2, 0, ST(EINVAL), 0);
	free_fails(&a, NULL, &p, 1, (uint32_t[]){ 0xfffffc00u, 2 }, 2, 10, ST(EINVAL), 0);
	free_fails(&a, NULL, &p, 1, (uint32_t[]){ 0xffffff00u, 2 }, 2, 10, ST(EINVAL), 0);
	free_fails(&a, NULL, &p, 1, (uint32_t[]){ p, 1, 0xfffffff0u, 0x11 }, 4, 0, ST(EINVAL), 0);
	/* Up to uint32 exactly is a shape that holds: the block past the
	 * arena is blamed, at its index after the pfns. */
	free_fails(&a, NULL, &p, 1, (uint32_t[]){ 0xfffffffeu, 2 }, 2, 0, ST(EINVAL), 1);
	free_fails(&a, NULL, &p, 1, (uint32_t[]){ p + 1, 1, 0xfffff800u, 2 }, 4, 10,
		   ST(EINVAL), 2);

	/* More blocks than max_count, in runs or pfns and runs. */
	free_fails(&a, NULL, NULL, 0, (uint32_t[]){ p, MAX_COUNT + 1 }, 2, 0, ST(E2BIG), 0);
	free_fails(&a, NULL, NULL, 0, (uint32_t[]){ 0, 0xffffffffu }, 2, 0, ST(E2BIG), 0);
	free_fails(&a, NULL, &p, 1, (uint32_t[]){ p + 1, 7, 0, MAX_COUNT - 7 }, 4, 0, ST(E2BIG), 0);
	free_fails(&a, NULL, NULL, 0, (uint32_t[]){ p, 0x80000000u, p, 0x80000000u }, 4, 0,
		   ST(E2BIG), 0);
	{
		uint32_t many[MAX_COUNT];

		for (unsigned i = 0; i < MAX_COUNT; i++)
			many[i] = pfns[i % 64];
		free_fails(&a, NULL, many, MAX_COUNT, (uint32_t[]){ p, 1 }, 2, 0, ST(E2BIG), 0);
	}

	/* Everything is still there to free. */
	free_ok(&a, pfns, 64, NULL, 0, 0, 64);
}

static void test_free_runs_not_held(void **state)
{
	struct bb *f = *state;
	uint32_t pfns[256], bpfns[64], blocks[8], p, q;
	struct raw a, b;
	size_t n;
	int past;

	bb_start(f, conf_runs);
	raw_join(f, &a, NULL, F_RUNS, F_RUNS);
	raw_join(f, &b, NULL, F_RUNS, F_RUNS);
	raw_alloc(&a, 0, 256, ST(OK), pfns, &n, NULL);
	raw_alloc(&b, 0, 64, ST(OK), bpfns, &n, NULL);
	p = window(pfns, 256, 16, a.npages);	/* p + 16 is not a's */

	/* A run one page too long: the page past it is blamed, at its index
	 * in the expanded order (pfns first), and nothing is freed. */
	past = in_list(bpfns, 64, p + 16) ? ST(EPERM) : ST(EALREADY);
	free_fails(&a, &b, NULL, 0, (uint32_t[]){ p, 17 }, 2, 0, past, 16);
	free_fails(&a, &b, (uint32_t[]){ p + 3, p + 4 }, 2, (uint32_t[]){ p + 5, 3, p + 8, 9 }, 4,
		   0, past, 2 + 3 + 8);
	/* Another client's pages in a run. */
	q = window(bpfns, 64, 4, b.npages);
	free_fails(&a, &b, &p, 1, (uint32_t[]){ p + 1, 2, q, 4 }, 4, 0, ST(EPERM), 3);
	free_fails(&b, &a, &q, 1, (uint32_t[]){ p, 2 }, 2, 0, ST(EPERM), 1);
	/* A page listed twice: in the pfns and in a run, or in two runs. */
	free_fails(&a, &b, (uint32_t[]){ p + 5 }, 1, (uint32_t[]){ p + 3, 4 }, 2, 0, ST(EINVAL),
		   1 + 2);
	free_fails(&a, &b, NULL, 0, (uint32_t[]){ p, 4, p + 2, 4 }, 4, 0, ST(EINVAL), 4);
	free_fails(&a, &b, NULL, 0, (uint32_t[]){ p, 3, p, 1 }, 4, 1, ST(EINVAL), 3);
	/* Out of the arena. */
	free_fails(&a, &b, &p, 1, (uint32_t[]){ a.npages, 2 }, 2, 0, ST(EINVAL), 1);
	free_fails(&a, &b, &p, 1, (uint32_t[]){ p + 1, 2, 0x7fffffffu, 1 }, 4, 0, ST(EINVAL), 3);
	/* Tails of a block: a run of order 0 through order-2 blocks. */
	raw_alloc(&a, 2, 8, ST(OK), blocks, &n, NULL);
	qsort(blocks, 8, sizeof(blocks[0]), cmp_u32);
	free_fails(&a, &b, NULL, 0, (uint32_t[]){ blocks[0], 2 }, 2, 0, ST(EINVAL), 1);
	free_fails(&a, &b, NULL, 0, (uint32_t[]){ blocks[0], 2 }, 2, 1, ST(EINVAL), 1);
	/* Nothing moved: all of it frees. */
	free_ok(&a, pfns, 256, NULL, 0, 0, 256);
	free_ok(&a, blocks, 8, NULL, 0, 0, 32);
	free_ok(&b, NULL, 0, (uint32_t[]){ q, 4 }, 2, 0, 4);
	assert_int_equal(raw_counts(&b).held, 60);
}

/* ---- quotas ----------------------------------------------------------------- */

static void test_quota_with_runs(void **state)
{
	struct bb *f = *state;
	static uint32_t pfns[512], more[512];
	struct raw a, b;
	size_t n, nruns;
	uint32_t p;

	bb_start(f, conf_runs);
	raw_join(f, &a, "quota", F_RUNS, F_RUNS);
	raw_join(f, &b, "quota", F_RUNS, F_RUNS);

	/* The connection's quota (512 pages), to the page, with runs. */
	raw_alloc(&a, 0, 512, ST(OK), pfns, &n, &nruns);
	assert_true(nruns > 0);
	raw_alloc(&a, 0, 1, ST(EDQUOT), NULL, NULL, NULL);
	raw_alloc(&a, 3, 1, ST(EDQUOT), NULL, NULL, NULL);
	assert_int_equal(raw_counts(&a).held, 512);
	/* A run freed gives its pages back to the quota, no more. */
	p = window(pfns, 512, 100, a.npages);
	free_ok(&a, NULL, 0, (uint32_t[]){ p, 100 }, 2, 0, 100);
	raw_alloc(&a, 0, 101, ST(EDQUOT), NULL, NULL, NULL);
	raw_alloc(&a, 0, 100, ST(OK), more, &n, NULL);
	raw_alloc(&a, 0, 1, ST(EDQUOT), NULL, NULL, NULL);

	/* The uid's quota (768 pages): b gets the other 256, then none. */
	raw_alloc(&b, 0, 257, ST(EDQUOT), NULL, NULL, NULL);
	raw_alloc(&b, 0, 256, ST(OK), more + 100, &n, &nruns);
	raw_alloc(&b, 0, 1, ST(EDQUOT), NULL, NULL, NULL);
	/* A refused run free gives nothing back... */
	free_fails(&a, &b, NULL, 0, (uint32_t[]){ p, 0 }, 2, 0, ST(EINVAL), 0);
	raw_alloc(&b, 0, 1, ST(EDQUOT), NULL, NULL, NULL);
	/* ...a run free of a's gives b room for exactly that much. */
	p = window(more, 100, 50, a.npages);
	free_ok(&a, NULL, 0, (uint32_t[]){ p, 50 }, 2, 0, 50);
	raw_alloc(&b, 0, 51, ST(EDQUOT), NULL, NULL, NULL);
	raw_alloc(&b, 0, 50, ST(OK), NULL, &n, NULL);
	raw_alloc(&b, 0, 1, ST(EDQUOT), NULL, NULL, NULL);
	assert_int_equal(raw_counts(&a).held, 462);
	assert_int_equal(raw_counts(&b).held, 306);
}

/* ---- libpagepool, through a relay ------------------------------------------- */

/*
 * A relay between one libpagepool client and the daemon, in a child of
 * the fixture: it listens at DIR/relay.sock, connects to the daemon for
 * the client that comes, and passes the client's frames and the daemon's
 * bytes on unchanged (the arena's descriptor with the bytes it came with),
 * appending each to DIR/relay.up or DIR/relay.down before it goes on.  So
 * once an answer has reached the client, the request and the answer are
 * in the files.  With `old` it plays a daemon from before FEATURE_RUNS: a
 * request carrying its fields (Hello.features, Free.runs, Free.run_order)
 * gets the EPROTO such a daemon answers for unknown fields, from the
 * relay, and does not go on.  It exits 0 once the client has hung up and
 * the daemon has closed, non-zero on any error or after 30 s.
 */
struct relay {
	char path[160], up[160], down[160];
	bool old;
	pid_t pid;
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One read from the daemon, passed on with its descriptors: 1, 0 at EOF,
 * -1 on error. */
static int relay_down(int dfd, int cfd, int log)
{
	static uint8_t buf[1 << 16];
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(dfd, &m, MSG_CMSG_CLOEXEC);
	ssize_t s;

	if (n <= 0)
		return n == 0 || errno == ECONNRESET ? 0 : -1;
	if (write_all(log, buf, (size_t)n) < 0)
		return -1;
	iov.iov_len = (size_t)n;
	if (m.msg_controllen == 0)
		m.msg_control = NULL;
	do
		s = sendmsg(cfd, &m, MSG_NOSIGNAL);
	while (s < 0 && errno == EINTR);
	if (s <= 0 || write_all(cfd, buf + s, (size_t)(n - s)) < 0)
		return -1;
	for (struct cmsghdr *c = m.msg_controllen ? CMSG_FIRSTHDR(&m) : NULL; c;
	     c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(fd));
				close(fd);
			}
	return 1;
}

/* Does an old daemon refuse q for fields it does not know? */
static bool relay_old_refuses(const bb_request *q)
{
	if (q->body_case == PAGEPOOL__V1__REQUEST__BODY_HELLO)
		return q->hello->features != 0;
	if (q->body_case == PAGEPOOL__V1__REQUEST__BODY_FREE)
		return q->free->n_runs || q->free->run_order;
	return false;
}

/* The whole frames of buf[0..len) from the client: on to dfd, or answered
 * (rl->old).  Returns how many bytes are left (moved to the front), or -1. */
static ssize_t relay_up(const struct relay *rl, uint8_t *buf, size_t len, int cfd, int dfd)
{
	size_t off = 0;

	while (len - off >= 4) {
		uint32_t flen = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
				(uint32_t)buf[off + 2] << 8 | buf[off + 3];
		bb_request *q;
		bool refuse;

		if (flen > (1u << 16))
			return -1;
		if (len - off - 4 < flen)
			break;
		q = pagepool__v1__request__unpack(NULL, flen, buf + off + 4);
		refuse = rl->old && q && relay_old_refuses(q);
		if (refuse) {
			Pagepool__V1__Response a = PAGEPOOL__V1__RESPONSE__INIT;
			uint8_t out[256];
			size_t n;

			a.id = q->id;
			a.status = PAGEPOOL__V1__STATUS__EPROTO;
			a.error = (char *)"request carries fields this daemon does not know";
			n = protobuf_c_message_get_packed_size(&a.base);
			out[0] = out[1] = 0;
			out[2] = (uint8_t)(n >> 8);
			out[3] = (uint8_t)n;
			protobuf_c_message_pack(&a.base, out + 4);
			if (write_all(cfd, out, 4 + n) < 0)
				return -1;
		} else if (write_all(dfd, buf + off, 4 + flen) < 0) {
			return -1;
		}
		if (q)
			pagepool__v1__request__free_unpacked(q, NULL);
		off += 4 + flen;
	}
	memmove(buf, buf + off, len - off);
	return (ssize_t)(len - off);
}

__attribute__((noreturn))
static void relay_run(const char *daemon_sock, int lfd, const struct relay *rl)
{
	int64_t deadline = bb_now_ms() + 30000;
	struct pollfd pf = { .fd = lfd, .events = POLLIN };
	static uint8_t buf[1 << 17];
	bool client_open = true;
	size_t have = 0;
	int cfd, dfd, up, down;

	signal(SIGPIPE, SIG_IGN);
	if (poll(&pf, 1, bb_left_ms(deadline)) <= 0)
		_exit(2);
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	dfd = bb_socket_connect(daemon_sock);
	up = open(rl->up, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	down = open(rl->down, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (cfd < 0 || dfd < 0 || up < 0 || down < 0)
		_exit(3);
	for (;;) {
		struct pollfd p[2] = { { .fd = client_open ? cfd : -1, .events = POLLIN },
				       { .fd = dfd, .events = POLLIN } };
		int r;

		if (poll(p, 2, bb_left_ms(deadline)) <= 0)
			_exit(4);
		if (p[0].revents) {
			ssize_t n = read(cfd, buf + have, sizeof(buf) - have);

			if (n <= 0) {
				shutdown(dfd, SHUT_WR);
				client_open = false;
			} else if (write_all(up, buf + have, (size_t)n) < 0 ||
				   (n = relay_up(rl, buf, have + (size_t)n, cfd, dfd)) < 0) {
				_exit(5);
			} else {
				have = (size_t)n;
			}
		}
		if (p[1].revents) {
			r = relay_down(dfd, cfd, down);
			if (r < 0)
				_exit(6);
			if (r == 0)
				_exit(client_open ? 7 : 0);
		}
	}
}

static void relay_start(struct bb *f, struct relay *rl, bool old)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	snprintf(rl->path, sizeof(rl->path), "%s/relay.sock", f->dir);
	snprintf(rl->up, sizeof(rl->up), "%s/relay.up", f->dir);
	snprintf(rl->down, sizeof(rl->down), "%s/relay.down", f->dir);
	rl->old = old;
	unlink(rl->path);
	assert_true(strlen(rl->path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, rl->path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	rl->pid = bb_fork(f);
	if (rl->pid == 0)
		relay_run(f->sock, lfd, rl);
	close(lfd);
}

/* A libpagepool client through a new relay (playing an old daemon if
 * `old`), connected with $PAGEPOOL_RUNS set to `env` (NULL: unset) and the
 * variable unset again; the fixture closes it at teardown. */
static struct pp_client *relay_client_opt(struct bb *f, struct relay *rl, const char *env,
					  bool old)
{
	struct pp_client *c = NULL;
	unsigned i;
	int r;

	relay_start(f, rl, old);
	if (env)
		setenv("PAGEPOOL_RUNS", env, 1);
	else
		unsetenv("PAGEPOOL_RUNS");
	r = pp_connect(rl->path, NULL, &c);
	unsetenv("PAGEPOOL_RUNS");
	bb_assert_rc(NULL, r, 0);
	for (i = 0; i < BB_MAX_CLIENTS && f->clients[i]; i++)
		;
	assert_true(i < BB_MAX_CLIENTS);
	f->clients[i] = c;
	return c;
}

static struct pp_client *relay_client(struct bb *f, struct relay *rl, const char *env)
{
	return relay_client_opt(f, rl, env, false);
}

/* Close the relay's client and see the relay end cleanly. */
static void relay_stop(struct bb *f, struct relay *rl, struct pp_client *c)
{
	bb_client_close(f, c);
	assert_int_equal(bb_kid_wait(f, rl->pid, 10000), 0);
}

/*
 * The messages of a relay log whose body is `body` (a Request's body case
 * in the up log, a Response's in the down log), unpacked: the first `max`
 * into m[] (free them with relay_msgs_free), or with max 0 the last one
 * into *last (when not NULL: the caller frees it; asserts there is one).
 * Returns how many there are.
 */
static size_t relay_msgs(const char *path, bool up, int body, ProtobufCMessage **m,
			 size_t max, ProtobufCMessage **last)
{
	const ProtobufCMessageDescriptor *desc = up ? &pagepool__v1__request__descriptor
						    : &pagepool__v1__response__descriptor;
	ProtobufCMessage *prev = NULL;
	size_t count = 0;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	for (;;) {
		ssize_t n;

		if (cap - len < 65536) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = read(fd, buf + len, cap - len);
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	while (len - off >= 4) {
		uint32_t flen = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
				(uint32_t)buf[off + 2] << 8 | buf[off + 3];
		ProtobufCMessage *msg;
		int bc;

		assert_true(len - off - 4 >= flen);
		msg = protobuf_c_message_unpack(desc, NULL, flen, buf + off + 4);
		assert_non_null(msg);
		bc = up ? (int)((bb_request *)msg)->body_case : (int)((bb_response *)msg)->body_case;
		if (bc == body && count < max) {
			m[count] = msg;
		} else if (bc == body && last) {
			if (prev)
				protobuf_c_message_free_unpacked(prev, NULL);
			prev = msg;
		} else {
			protobuf_c_message_free_unpacked(msg, NULL);
		}
		count += bc == body;
		off += 4 + flen;
	}
	assert_int_equal(off, len);
	free(buf);
	if (last) {
		assert_true(count > 0);
		*last = count <= max ? m[count - 1] : prev;
	}
	return count;
}

static void relay_msgs_free(ProtobufCMessage **m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(m[i], NULL);
}

/* The last message of a relay log whose body is `body` (see relay_msgs). */
static ProtobufCMessage *relay_last(const char *path, bool up, int body)
{
	ProtobufCMessage *last;

	relay_msgs(path, up, body, NULL, 0, &last);
	return last;
}

/* The hellos the client sent: how many, the features of the first two. */
static size_t relay_hellos(const struct relay *rl, uint32_t features[2])
{
	ProtobufCMessage *m[2];
	size_t n = relay_msgs(rl->up, true, PAGEPOOL__V1__REQUEST__BODY_HELLO, m, 2, NULL);

	for (size_t i = 0; i < 2; i++)
		features[i] = i < n ? ((bb_request *)m[i])->hello->features : 0;
	relay_msgs_free(m, n < 2 ? n : 2);
	return n;
}

/* The last Free the client sent: n_pfns, n_runs, run_order, and the runs
 * into runs[] (room for max) when not NULL. */
static void last_free(const struct relay *rl, size_t *np, size_t *nr, uint32_t *run_order,
		      uint32_t *runs, size_t max)
{
	bb_request *q = (bb_request *)relay_last(rl->up, true,
						  PAGEPOOL__V1__REQUEST__BODY_FREE);

	*np = q->free->n_pfns;
	*nr = q->free->n_runs;
	*run_order = q->free->run_order;
	if (runs && q->free->n_runs) {	/* runs is NULL when there are none */
		assert_true(q->free->n_runs <= max);
		memcpy(runs, q->free->runs, q->free->n_runs * sizeof(*runs));
	}
	protobuf_c_message_free_unpacked(&q->base, NULL);
}

/* The last Pages answer the client got: how many pfns and run numbers. */
static void last_pages(const struct relay *rl, size_t *np, size_t *nr)
{
	bb_response *r = (bb_response *)relay_last(rl->down, false, BODY(PAGES));

	*np = r->pages->n_pfns;
	*nr = r->pages->n_runs;
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Blocks of order in the arena, aligned, distinct. */
static void check_blocks(const struct pp_client *c, const uint32_t *pfns, size_t n,
			 unsigned order)
{
	const struct pp_info *in = pp_info(c);
	uint64_t npages = in->arena_size / in->page_size;
	uint32_t *s = malloc(n * sizeof(*s));

	assert_non_null(s);
	if (n)
		memcpy(s, pfns, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u32);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s[i] % (1u << order), 0);
		assert_true(s[i] + (1ull << order) <= npages);
		assert_true(i == 0 || s[i] >= s[i - 1] + (1u << order));
	}
	free(s);
}

/*
 * pp_alloc and pp_free of order-0 pages and order-2 blocks by a client
 * connected with $PAGEPOOL_RUNS = `env` (NULL: unset), which must ask for
 * runs or not as `runs` says: what it holds after each step, into
 * held[4], and what went over the wire asserted.
 */
static void lib_round_trip(struct bb *f, const char *env, bool runs, uint64_t held[4])
{
	static uint32_t pfns[MAX_COUNT];
	uint32_t blocks[100], run_order;
	struct relay rl;
	struct pp_client *c = relay_client(f, &rl, env);
	uint32_t features[2];
	size_t np, nr;
	unsigned got;

	/* One hello, asking for runs or not. */
	assert_int_equal(relay_hellos(&rl, features), 1);
	assert_int_equal(features[0], runs ? F_RUNS : 0);
	bb_assert_rc(c, pp_alloc(c, 0, MAX_COUNT, 0, pfns, &got), 0);
	assert_int_equal(got, MAX_COUNT);
	check_blocks(c, pfns, got, 0);
	last_pages(&rl, &np, &nr);
	assert_int_equal(np, runs ? 0 : MAX_COUNT);
	assert_true(runs ? nr >= 2 : nr == 0);
	held[0] = bb_stat(c).held;

	bb_assert_rc(c, pp_alloc(c, 2, 100, 0, blocks, &got), 0);
	assert_int_equal(got, 100);
	check_blocks(c, blocks, got, 2);
	last_pages(&rl, &np, &nr);
	assert_int_equal(np, runs ? 0 : 100);
	held[1] = bb_stat(c).held;

	/* Frees in the answers' order: consecutive blocks, so runs. */
	bb_assert_rc(c, pp_free(c, blocks, 100, NULL), 0);
	last_free(&rl, &np, &nr, &run_order, NULL, 0);
	assert_int_equal(np, runs ? 0 : 100);
	assert_true(runs ? nr >= 2 && nr <= 50 && run_order == 2 : nr == 0 && run_order == 0);
	held[2] = bb_stat(c).held;
	bb_assert_rc(c, pp_free(c, pfns, MAX_COUNT, NULL), 0);
	last_free(&rl, &np, &nr, &run_order, NULL, 0);
	assert_int_equal(np, runs ? 0 : MAX_COUNT);
	assert_true(runs ? nr >= 2 && nr <= 256 && run_order == 0 : nr == 0);
	held[3] = bb_stat(c).held;
	relay_stop(f, &rl, c);
}

static void test_lib_round_trips(void **state)
{
	struct bb *f = *state;
	uint64_t with[4], without[4];
	struct pp_client *c;

	bb_start(f, conf_runs);
	lib_round_trip(f, NULL, true, with);
	lib_round_trip(f, "0", false, without);
	assert_int_equal(with[0], MAX_COUNT);
	assert_int_equal(with[1], MAX_COUNT + 400);
	assert_int_equal(with[2], MAX_COUNT);
	assert_int_equal(with[3], 0);
	assert_memory_equal(with, without, sizeof(with));
	/* Anything but "0" asks for runs. */
	lib_round_trip(f, "1", true, with);
	assert_memory_equal(with, without, sizeof(with));
	c = bb_client(f, NULL);
	assert_int_equal(bb_stat(c).allocated, 0);
}

/*
 * c takes 512 pages into pfns[] and gives back the last of a window of 128
 * consecutive ones from p; then frees list[] = 64 pages from p with the 3rd
 * replaced by that page, which must fail with EALREADY (*bad set).  Returns
 * p.
 */
static uint32_t free_with_hole(struct pp_client *c, uint32_t *pfns, uint32_t *list,
			       unsigned *bad)
{
	unsigned got;
	uint32_t p;

	bb_assert_rc(c, pp_alloc(c, 0, 512, 0, pfns, &got), 0);
	p = window(pfns, 512, 128, (uint32_t)(pp_info(c)->arena_size / pp_info(c)->page_size));
	p += 127;
	bb_assert_rc(c, pp_free(c, &p, 1, NULL), 0);	/* p + 127: not allocated now */
	p -= 127;
	for (unsigned i = 0; i < 64; i++)
		list[i] = p + i;
	list[2] = p + 127;
	bb_assert_rc(c, pp_free(c, list, 64, bad), -EALREADY);
	return p;
}

/*
 * pp_free of a list sent as runs, one pfn of which is bad: the daemon
 * blames its index in the expanded runs, which is the caller's, and
 * pp_free says so.  Nothing is freed.
 */
static void test_lib_bad_index(void **state)
{
	struct bb *f = *state;
	static uint32_t pfns[MAX_COUNT];
	uint32_t list[64], runs[16], theirs, run_order, p;
	struct pp_client *c, *other;
	struct relay rl;
	size_t np, nr;
	unsigned got, bad;

	bb_start(f, conf_runs);
	c = relay_client(f, &rl, NULL);
	other = bb_client(f, NULL);
	bb_assert_rc(other, pp_alloc(other, 0, 1, 0, &theirs, &got), 0);
	/* 64 consecutive pages, the 3rd one not allocated: three runs. */
	p = free_with_hole(c, pfns, list, &bad);
	last_free(&rl, &np, &nr, &run_order, runs, 16);
	assert_int_equal(np, 0);
	assert_int_equal(nr, 6);
	assert_int_equal(run_order, 0);
	assert_memory_equal(runs, ((uint32_t[]){ p, 2, p + 127, 1, p + 3, 61 }),
			    6 * sizeof(uint32_t));
	if (!strstr(pp_last_error(c), "(index 2)"))
		print_error("the daemon said \"%s\"\n", pp_last_error(c));
	assert_non_null(strstr(pp_last_error(c), "(index 2)"));
	assert_int_equal(bad, 2);
	assert_int_equal(bb_stat(c).held, 511);

	/* Every other page (run_order 1), the 41st another client's. */
	for (unsigned i = 0; i < 64; i++)
		list[i] = p + 2 * i;
	list[40] = theirs;
	bb_assert_rc(c, pp_free(c, list, 64, &bad), -EPERM);
	last_free(&rl, &np, &nr, &run_order, runs, 16);
	assert_int_equal(np, 0);
	assert_int_equal(nr, 6);
	assert_int_equal(run_order, 1);
	assert_int_equal(bad, 40);
	assert_non_null(strstr(pp_last_error(c), "(index 40)"));

	/* The last one listed twice. */
	for (unsigned i = 0; i < 64; i++)
		list[i] = p + i;
	list[63] = p + 10;
	bb_assert_rc(c, pp_free(c, list, 64, &bad), -EINVAL);
	last_free(&rl, &np, &nr, &run_order, runs, 16);
	assert_int_equal(np, 0);
	assert_int_equal(nr, 4);
	assert_int_equal(bad, 63);
	assert_int_equal(bb_stat(c).held, 511);
	assert_int_equal(bb_stat(other).held, 1);

	/* All good: freed as runs. */
	list[63] = p + 63;
	bb_assert_rc(c, pp_free(c, list, 64, &bad), 0);
	last_free(&rl, &np, &nr, &run_order, runs, 16);
	assert_int_equal(nr, 2);
	assert_int_equal(bb_stat(c).held, 511 - 64);
	relay_stop(f, &rl, c);
	assert_int_equal(bb_stat(other).allocated, 1);
}

/*
 * pp_free of list[0..n) on c, the pfn at `bad` not held: -EALREADY and
 * *bad_index `bad`, nothing freed.  On the wire (the relay's up log): as
 * the plain list when want_nr is 0, else want_nr run numbers of order
 * want_order, with no pfns, that expand to the list in its order.
 */
static void expect_encoding(struct pp_client *c, const struct relay *rl, const uint32_t *list,
			    unsigned n, unsigned bad, size_t want_nr, uint32_t want_order)
{
	static uint32_t runs[2 * MAX_COUNT];
	uint64_t held = bb_stat(c).held;
	uint32_t run_order;
	size_t np, nr, k = 0;
	unsigned got_bad;

	bb_assert_rc(c, pp_free(c, list, n, &got_bad), -EALREADY);
	assert_int_equal(got_bad, bad);
	assert_int_equal(bb_stat(c).held, held);
	last_free(rl, &np, &nr, &run_order, runs, 2 * MAX_COUNT);
	if (nr != want_nr || np != (want_nr ? 0 : n))
		print_error("free of %u pfns went out as %zu pfns and %zu run numbers of order "
			    "%u; expected %zu run numbers of order %u\n", n, np, nr, run_order,
			    want_nr, want_order);
	assert_int_equal(nr, want_nr);
	assert_int_equal(np, want_nr ? 0 : n);
	assert_int_equal(run_order, want_nr ? want_order : 0);
	for (size_t i = 0; i < nr; i += 2)
		for (uint32_t j = 0; j < runs[i + 1]; j++, k++) {
			assert_true(k < n);
			assert_int_equal(list[k], runs[i] + (j << run_order));
		}
	assert_int_equal(k, want_nr ? n : 0);
}

/*
 * How libpagepool encodes a free: as runs, in the caller's order, exactly
 * when that is less than half the list (at most n / 2 numbers, at most 256
 * of them, n >= 4), with the stride of its first two pfns when that is a
 * power of two up to max_order pages.  Each free here fails on its pfn not
 * held (u) and frees nothing, so the pages stay for the next.
 */
static void test_lib_free_encoding(void **state)
{
	struct bb *f = *state;
	static uint32_t pfns[MAX_COUNT], l[MAX_COUNT];
	struct pp_client *c;
	struct relay rl;
	uint32_t p, u;
	unsigned got, i, n;

	bb_start(f, conf_runs);
	c = relay_client(f, &rl, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, MAX_COUNT, 0, pfns, &got), 0);
	p = window(pfns, MAX_COUNT, 900, (uint32_t)(pp_info(c)->arena_size / pp_info(c)->page_size));
	u = p + 900;			/* not held */

	/* Fewer than 4: the list. */
	expect_encoding(c, &rl, (uint32_t[]){ p, p + 1, u }, 3, 2, 0, 0);
	/* 4 in one run: 2 numbers, half of 4. */
	expect_encoding(c, &rl, (uint32_t[]){ u - 3, u - 2, u - 1, u }, 4, 3, 2, 0);
	/* 8 in two runs (half), or in three (more than half). */
	expect_encoding(c, &rl, (uint32_t[]){ p, p + 1, p + 2, p + 3, u - 3, u - 2, u - 1, u }, 8,
			7, 4, 0);
	expect_encoding(c, &rl, (uint32_t[]){ p, p + 1, p + 2, p + 4, u - 3, u - 2, u - 1, u }, 8,
			7, 0, 0);
	/* Stride 2 (run_order 1), 8 (run_order 3); 3 and descending: runs of 1. */
	for (i = 0; i < 8; i++)
		l[i] = u - 2 * (7 - i);
	expect_encoding(c, &rl, l, 8, 7, 2, 1);
	for (i = 0; i < 8; i++)
		l[i] = u - 8 * (7 - i);
	expect_encoding(c, &rl, l, 8, 7, 2, 3);
	for (i = 0; i < 8; i++)
		l[i] = u - 3 * (7 - i);
	expect_encoding(c, &rl, l, 8, 7, 0, 0);
	for (i = 0; i < 8; i++)
		l[i] = u - i;
	expect_encoding(c, &rl, l, 8, 0, 0, 0);
	/* A stride of 2 whose runs break: each piece is a run of order 1. */
	for (i = 0; i < 16; i++)
		l[i] = p + 2 * i + (i >= 8);
	l[16] = u;
	expect_encoding(c, &rl, l, 17, 16, 6, 1);

	/* 600 pfns: 128 runs (256 numbers, the most a free carries), or 129,
	 * fewer than half of 600 but more than 256: the list. */
	for (n = 0, i = 0; n < 127 * 4; n++, i++) {
		if (n % 4 == 0 && n)
			i++;		/* a gap after every 4 */
		l[n] = p + i;
	}
	for (i = 0; n < 600; n++, i++)
		l[n] = u - (600 - 1 - n);
	expect_encoding(c, &rl, l, 600, 599, 256, 0);
	for (n = 508; n < 554; n++)
		l[n]--;			/* the last run split: 129 runs */
	expect_encoding(c, &rl, l, 600, 599, 0, 0);

	/* Nothing was freed. */
	assert_int_equal(bb_stat(c).held, MAX_COUNT);
	bb_assert_rc(c, pp_free(c, pfns, MAX_COUNT, NULL), 0);
	relay_stop(f, &rl, c);
}

/* The same through a client that does not ask for runs: the same blame. */
static void test_lib_bad_index_plain(void **state)
{
	struct bb *f = *state;
	static uint32_t pfns[512];
	uint32_t list[64], run_order;
	struct pp_client *c;
	struct relay rl;
	size_t np, nr;
	unsigned bad;

	bb_start(f, conf_runs);
	c = relay_client(f, &rl, "0");
	free_with_hole(c, pfns, list, &bad);
	last_free(&rl, &np, &nr, &run_order, NULL, 0);
	assert_int_equal(np, 64);
	assert_int_equal(nr, 0);
	assert_int_equal(bad, 2);
	assert_non_null(strstr(pp_last_error(c), "(index 2)"));
	assert_int_equal(bb_stat(c).held, 511);
	relay_stop(f, &rl, c);
}

/*
 * A daemon from before FEATURE_RUNS refuses a hello with features (unknown
 * fields: EPROTO) and keeps the connection: libpagepool asks again without
 * them, and then uses plain lists both ways.  Asking for nothing
 * (PAGEPOOL_RUNS=0) takes one hello.
 */
static void test_lib_old_daemon(void **state)
{
	struct bb *f = *state;
	static uint32_t pfns[MAX_COUNT];
	uint32_t features[2], run_order;
	struct pp_client *c;
	struct relay rl;
	size_t np, nr;
	unsigned got;

	bb_start(f, conf_runs);
	c = relay_client_opt(f, &rl, NULL, true);
	assert_int_equal(relay_hellos(&rl, features), 2);
	assert_int_equal(features[0], F_RUNS);
	assert_int_equal(features[1], 0);
	bb_assert_rc(c, pp_alloc(c, 0, 512, 0, pfns, &got), 0);
	last_pages(&rl, &np, &nr);
	assert_int_equal(np, 512);
	assert_int_equal(nr, 0);
	/* In the answer's order: as runs it would be a few numbers. */
	bb_assert_rc(c, pp_free(c, pfns, 512, NULL), 0);
	last_free(&rl, &np, &nr, &run_order, NULL, 0);
	assert_int_equal(np, 512);
	assert_int_equal(nr, 0);
	assert_int_equal(bb_stat(c).held, 0);
	relay_stop(f, &rl, c);

	c = relay_client_opt(f, &rl, "0", true);
	assert_int_equal(relay_hellos(&rl, features), 1);
	assert_int_equal(features[0], 0);
	bb_assert_rc(c, pp_alloc(c, 0, 64, 0, pfns, &got), 0);
	bb_assert_rc(c, pp_free(c, pfns, 64, NULL), 0);
	relay_stop(f, &rl, c);
}

/* The quota through libpagepool with runs. */
static void test_lib_quota(void **state)
{
	struct bb *f = *state;
	static uint32_t pfns[513];
	struct pp_client *c;
	unsigned got;

	bb_start(f, conf_runs);
	c = bb_client(f, "quota");
	assert_int_equal(pp_info(c)->quota_pages, 512);
	bb_assert_rc(c, pp_alloc(c, 0, 513, 0, pfns, &got), -EDQUOT);
	bb_assert_rc(c, pp_alloc(c, 0, 512, 0, pfns, &got), 0);
	assert_int_equal(got, 512);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, pfns + 512, &got), -EDQUOT);
	bb_assert_rc(c, pp_free(c, pfns, 512, NULL), 0);
	assert_int_equal(bb_stat(c).held, 0);
	bb_assert_rc(c, pp_alloc(c, 3, 64, 0, pfns, &got), 0);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, pfns + 64, &got), -EDQUOT);
	bb_assert_rc(c, pp_free(c, pfns, 64, NULL), 0);
	assert_int_equal(bb_stat(c).held, 0);
}

int main(void)
{
	/* The test_lib_* cases count the library's hellos, frames and round
	 * trips of runs; its client cache (test_clientcache) would add its own
	 * CacheMap, refills and spills, so it is off here. */
	setenv("PAGEPOOL_CACHE", "0", 1);
	const struct CMUnitTest tests[] = {
		bb_test(test_hello_features),
		bb_test(test_alloc_answers_runs),
		bb_test(test_alloc_scattered_plain),
		bb_test(test_free_runs),
		bb_test(test_free_runs_without_feature),
		bb_test(test_free_runs_malformed),
		bb_test(test_free_runs_not_held),
		bb_test(test_quota_with_runs),
		bb_test(test_lib_round_trips),
		bb_test(test_lib_bad_index),
		bb_test(test_lib_bad_index_plain),
		bb_test(test_lib_free_encoding),
		bb_test(test_lib_old_daemon),
		bb_test(test_lib_quota),
	};

	return cmocka_run_group_tests_name("blackbox FEATURE_RUNS", tests, NULL, NULL);
}
