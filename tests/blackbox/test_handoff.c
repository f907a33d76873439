/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_handoff.c - black-box tests of the daemon's side of hand-offs and
 * shared pages (issue 14): Offer, Take, Cancel and the loan form of Offer,
 * spoken raw on the wire (proto/pagepool.proto), so that they depend on
 * nothing of libpagepool but the old alloc/free/stat.
 *
 *  - a hand-off moves ownership and quota from giver to taker, in the
 *    giver's order, naming the giver; the giver can neither free nor offer
 *    again what is under offer; a loan offers fresh blocks at once;
 *  - cancel gives the blocks back, a dead giver gives them to the pool,
 *    also when the taker's Take races with the giver's close;
 *  - tokens of the wrong size, garbage, replayed, of another pool, or the
 *    giver's own are refused with their codes; blocks not held are refused
 *    with their bad_index and nothing offered;
 *  - shared offers: references per taker, kept by the giver on request,
 *    outliving the giver; a shared block is never offered again;
 *  - max_offers, max_offers_per_uid and quota_pages; offline names every
 *    holder of a shared or offered block; clients that know nothing of the
 *    feature are served as before; malformed Offers are refused.
 *
 * Every test ends with the admin verify of the pools and the page counts
 * back where they started.
 */
#include <sys/random.h>

#include "bb.h"

#define ST(x)		PAGEPOOL__V1__STATUS__##x
#define BODY(x)		PAGEPOOL__V1__RESPONSE__BODY_##x
#define REQ(x)		PAGEPOOL__V1__REQUEST__BODY_##x
#define ADM(x)		PAGEPOOL__V1__ADMIN_REQUEST__BODY_##x
#define ADR(x)		PAGEPOOL__V1__ADMIN_RESPONSE__BODY_##x
#define F_RUNS		PAGEPOOL__V1__FEATURE__FEATURE_RUNS
#define TOK		16		/* bytes in a token */
#define MAX_BLOCKS	1024u		/* the daemon's default max_count */
#define MAX_OFFERS	4u
#define MAX_OFFERS_UID	6u
#define MAX_SHARES	3u
#define QUOTA		16u		/* pool "quota": pages a connection */
#define UID_QUOTA	32u		/* and a uid */
#define TOMBSTONES	4096u		/* closed offers a pool remembers */
#define POOL_PAGES	1024u		/* pools "other" and "quota": 4M of 4 KiB */
#define RACE_ROUNDS	200u
#define SETTLE_MS	5000
#define NPOOLS		3		/* default, other, quota: what verify lists */

static const char conf_share[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"workers = auto\n"
	"max_offers = 4\n"
	"max_offers_per_uid = 6\n"
	"max_offer_shares = 3\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n"
	"\n"
	"[pool other]\n"
	"size = 4M\n"
	"\n"
	"[pool quota]\n"
	"size = 4M\n"
	"quota_pages = 16\n"
	"quota_uid_pages = 32\n";

/* ---- raw clients ----------------------------------------------------------- */

/* A raw connection that said hello. */
struct cl {
	struct bb_conn *c;
	uint64_t id;		/* the next request id */
	uint64_t client_id;	/* Welcome.client_id */
	uint32_t npages;	/* pages in its pool */
};

/* One request with the bodies of this feature. */
struct sreq {
	struct bb_req q;
	Pagepool__V1__Offer offer;
	Pagepool__V1__Take take;
	Pagepool__V1__Cancel cancel;
};

/* Connect k to `pool` (NULL: default) asking for `features`. */
static void join(struct bb *f, struct cl *k, const char *pool, uint32_t features)
{
	struct bb_req q;
	bb_response *w;

	memset(k, 0, sizeof(*k));
	k->c = bb_raw(f);
	k->id = 1;
	bb_req_hello(&q, k->id++, 1, pool);
	q.hello.features = features;
	w = bb_rpc(k->c, &q.r);
	bb_assert_status(w, ST(OK));
	assert_int_equal(w->body_case, BODY(WELCOME));
	assert_int_equal(w->welcome->features, features & F_RUNS);
	assert_true(w->welcome->client_id != 0);
	k->client_id = w->welcome->client_id;
	k->npages = (uint32_t)(w->welcome->arena_size / w->welcome->page_size);
	bb_resp_free(w);
}

/* Close k's socket (the daemon sees the client go). */
static void leave(struct cl *k)
{
	bb_conn_close(k->c);
	k->c = NULL;
}

/* The blocks of a Pages-like answer, runs expanded, into out[cap]: how many. */
static size_t expand(const uint32_t *pfns, size_t np, const uint32_t *runs, size_t nr,
		     uint32_t order, uint32_t *out, size_t cap)
{
	size_t k = 0;

	assert_int_equal(nr % 2, 0);
	for (size_t i = 0; i < np; i++) {
		assert_true(k < cap);
		out[k++] = pfns[i];
	}
	for (size_t i = 0; i < nr; i += 2) {
		assert_true(runs[i + 1] >= 1);
		for (uint32_t j = 0; j < runs[i + 1]; j++) {
			assert_true(k < cap);
			out[k++] = runs[i] + (j << order);
		}
	}
	return k;
}

/* What a Stat on k says. */
struct st {
	uint64_t allocated, held, refs, my_offered;	/* pool; this connection */
	uint64_t offers, offered, shared;		/* pool */
	uint64_t total, free, pcp;
};

static struct st stat_of(struct cl *k)
{
	struct bb_req q;
	bb_response *r = bb_rpc(k->c, bb_req_stat(&q, k->id++));
	const Pagepool__V1__PoolStat *p;
	struct st s;

	bb_assert_status(r, ST(OK));
	assert_int_equal(r->body_case, BODY(POOL_STAT));
	p = r->pool_stat;
	s.allocated = p->allocated;
	s.held = p->held;
	s.refs = p->refs;
	s.my_offered = p->my_offered;
	s.offers = p->offers;
	s.offered = p->offered;
	s.shared = p->shared;
	s.total = p->total;
	s.free = p->free;
	s.pcp = p->pcp;
	assert_int_equal(p->total, p->free + p->pcp + p->allocated + p->isolated + p->offline);
	bb_resp_free(r);
	return s;
}

#define CHECK_FIELD(s, want, field, what) do {						\
	if ((s).field != (uint64_t)(want))						\
		print_error("line %d: %s %s = %llu, expected %llu\n", line, what, #field,	\
			    (unsigned long long)(s).field, (unsigned long long)(want));	\
	assert_int_equal((s).field, (uint64_t)(want));					\
} while (0)

/* Assert what k's Stat says of it and of the pool's allocated count. */
#define expect_me(k, allocated, held, refs, my_offered) \
	expect_me_at(k, allocated, held, refs, my_offered, __LINE__)
static void expect_me_at(struct cl *k, uint64_t allocated, uint64_t held, uint64_t refs,
			 uint64_t my_offered, int line)
{
	struct st s = stat_of(k);

	CHECK_FIELD(s, allocated, allocated, "pool");
	CHECK_FIELD(s, held, held, "client");
	CHECK_FIELD(s, refs, refs, "client");
	CHECK_FIELD(s, my_offered, my_offered, "client");
}

/* Assert the pool's share counts as k's Stat says them. */
#define expect_pool(k, offers, offered, shared) \
	expect_pool_at(k, offers, offered, shared, __LINE__)
static void expect_pool_at(struct cl *k, uint64_t offers, uint64_t offered, uint64_t shared,
			   int line)
{
	struct st s = stat_of(k);

	CHECK_FIELD(s, offers, offers, "pool");
	CHECK_FIELD(s, offered, offered, "pool");
	CHECK_FIELD(s, shared, shared, "pool");
}

/*
 * Poll k's Stat until the pool's allocated count is `allocated` and its
 * open offers `offers` (a client that went away is released by its worker
 * in its own time), within SETTLE_MS; 1 ms between tries.
 */
static struct st settle(struct cl *k, uint64_t allocated, uint64_t offers)
{
	int64_t deadline = bb_now_ms() + SETTLE_MS;
	struct st s;

	for (;;) {
		s = stat_of(k);
		if ((s.allocated == allocated && s.offers == offers) || !bb_left_ms(deadline))
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	if (s.allocated != allocated || s.offers != offers)
		print_error("pool did not settle: allocated %llu (want %llu), offers %llu "
			    "(want %llu)\n", (unsigned long long)s.allocated,
			    (unsigned long long)allocated, (unsigned long long)s.offers,
			    (unsigned long long)offers);
	assert_int_equal(s.allocated, allocated);
	assert_int_equal(s.offers, offers);
	return s;
}

/* ---- alloc and free ---------------------------------------------------------- */

/* Alloc count blocks of `order` on k: their pfns into pfns[count]. */
static void alloc_ok(struct cl *k, uint32_t order, uint32_t count, uint32_t *pfns)
{
	struct bb_req q;
	bb_response *r = bb_rpc(k->c, bb_req_alloc(&q, k->id++, order, count, 0));

	bb_assert_status(r, ST(OK));
	assert_int_equal(r->body_case, BODY(PAGES));
	assert_int_equal(r->pages->order, order);
	assert_int_equal(expand(r->pages->pfns, r->pages->n_pfns, r->pages->runs,
				r->pages->n_runs, order, pfns, count), count);
	bb_resp_free(r);
}

static void alloc_fails(struct cl *k, uint32_t order, uint32_t count, int status)
{
	struct bb_req q;
	bb_response *r = bb_rpc(k->c, bb_req_alloc(&q, k->id++, order, count, 0));

	bb_assert_status(r, status);
	assert_int_equal(r->body_case, 0);
	bb_resp_free(r);
}

static bb_response *free_rpc(struct cl *k, const uint32_t *pfns, size_t n)
{
	struct bb_req q;

	return bb_rpc(k->c, bb_req_free(&q, k->id++, pfns, n));
}

/* A Free on k that succeeds and says it returned `pages`. */
static void free_ok(struct cl *k, const uint32_t *pfns, size_t n, uint64_t pages)
{
	bb_response *r = free_rpc(k, pfns, n);

	bb_assert_status(r, ST(OK));
	assert_int_equal(r->body_case, BODY(FREED));
	assert_int_equal(r->freed->pages, pages);
	bb_resp_free(r);
}

/*
 * A Free on k refused with `status` (ANY_STATUS: any but OK) at index
 * `bad`: nothing changed.  Returns the status.
 */
#define ANY_STATUS	(-1)
static int free_refused(struct cl *k, const uint32_t *pfns, size_t n, int status, uint32_t bad)
{
	struct st b = stat_of(k), a;
	bb_response *r = free_rpc(k, pfns, n);
	int got = (int)r->status, body = (int)r->body_case;
	uint32_t got_bad = r->bad_index;

	if (status != ANY_STATUS && got != status)
		print_error("free of pfn %u...: %s \"%s\", expected %s\n", pfns[0],
			    bb_status_name(got), r->error, bb_status_name(status));
	bb_resp_free(r);	/* before asserting: the contract test may fail here */
	if (status != ANY_STATUS)
		assert_int_equal(got, status);
	assert_int_not_equal(got, ST(OK));
	assert_int_equal(body, 0);
	assert_int_equal(got_bad, bad);
	a = stat_of(k);
	assert_int_equal(a.allocated, b.allocated);
	assert_int_equal(a.held, b.held);
	assert_int_equal(a.refs, b.refs);
	assert_int_equal(a.my_offered, b.my_offered);
	return got;
}

static void free_fails(struct cl *k, const uint32_t *pfns, size_t n, int status, uint32_t bad)
{
	free_refused(k, pfns, n, status, bad);
}

/*
 * The giver frees a block under its open shared offer: the contract says
 * EBUSY ("under offer"); test_shared_giver_free_busy holds the daemon to
 * it, the other tests only need it refused with nothing freed.
 */
static void giver_free_refused(struct cl *k, const uint32_t *pfns, size_t n)
{
	int got = free_refused(k, pfns, n, ANY_STATUS, 0);

	if (got != ST(EBUSY))
		print_message("giver's free under its shared offer: %s (contract: EBUSY)\n",
			      bb_status_name(got));
	assert_true(got == ST(EBUSY) || got == ST(EPERM));
}

/* ---- offer, take, cancel -------------------------------------------------------- */

static bb_request *req_offer(struct sreq *s, uint64_t id, const uint32_t *pfns, size_t n,
			     uint32_t order, uint32_t shares, bool keep, uint32_t count)
{
	bb_req_none(&s->q, id);
	pagepool__v1__offer__init(&s->offer);
	s->offer.pfns = (uint32_t *)pfns;
	s->offer.n_pfns = n;
	s->offer.order = order;
	s->offer.shares = shares;
	s->offer.keep = keep;
	s->offer.count = count;
	s->q.r.body_case = REQ(OFFER);
	s->q.r.offer = &s->offer;
	return &s->q.r;
}

static bb_request *req_take(struct sreq *s, uint64_t id, const void *tok, size_t len)
{
	bb_req_none(&s->q, id);
	pagepool__v1__take__init(&s->take);
	s->take.token.data = (uint8_t *)tok;
	s->take.token.len = len;
	s->q.r.body_case = REQ(TAKE);
	s->q.r.take = &s->take;
	return &s->q.r;
}

static bb_request *req_cancel(struct sreq *s, uint64_t id, const void *tok, size_t len)
{
	bb_req_none(&s->q, id);
	pagepool__v1__cancel__init(&s->cancel);
	s->cancel.token.data = (uint8_t *)tok;
	s->cancel.token.len = len;
	s->q.r.body_case = REQ(CANCEL);
	s->q.r.cancel = &s->cancel;
	return &s->q.r;
}

static bb_response *offer_rpc(struct cl *k, const uint32_t *pfns, size_t n, uint32_t order,
			      uint32_t shares, bool keep, uint32_t count)
{
	struct sreq s;

	return bb_rpc(k->c, req_offer(&s, k->id++, pfns, n, order, shares, keep, count));
}

/* The token of an Offered answer into tok[TOK]; asserts its pages. */
static void offered_token(const bb_response *r, uint64_t pages, uint8_t *tok)
{
	bb_assert_status(r, ST(OK));
	assert_int_equal(r->body_case, BODY(OFFERED));
	assert_int_equal(r->offered->token.len, TOK);
	assert_int_equal(r->offered->pages, pages);
	memcpy(tok, r->offered->token.data, TOK);
}

/* Offer pfns[n] of `order` on k: OK, not a loan; its token into tok[TOK]. */
static void offer_ok(struct cl *k, const uint32_t *pfns, size_t n, uint32_t order,
		     uint32_t shares, bool keep, uint8_t *tok)
{
	bb_response *r = offer_rpc(k, pfns, n, order, shares, keep, 0);

	offered_token(r, (uint64_t)n << order, tok);
	assert_int_equal(r->offered->n_pfns, 0);
	assert_int_equal(r->offered->n_runs, 0);
	bb_resp_free(r);
}

/*
 * An Offer on k refused with `status` and `bad` (its bad_index; BAD_ANY:
 * not checked): nothing offered, nothing allocated or freed, k holds what
 * it held.  got (may be NULL): any refusal is accepted and its status
 * stored there instead.
 */
#define BAD_ANY		UINT32_MAX
static void offer_fails_r(struct cl *k, const uint32_t *pfns, size_t n, uint32_t order,
			  uint32_t shares, bool keep, uint32_t count, int status, uint32_t bad,
			  int *got)
{
	struct st b = stat_of(k), a;
	bb_response *r = offer_rpc(k, pfns, n, order, shares, keep, count);

	if (got)
		*got = (int)r->status;
	else
		bb_assert_status(r, status);
	assert_int_not_equal((int)r->status, ST(OK));
	assert_int_equal(r->body_case, 0);
	if (bad != BAD_ANY && r->bad_index != bad)
		print_error("offer refused \"%s\": bad_index %u, expected %u\n", r->error,
			    r->bad_index, bad);
	if (bad != BAD_ANY)
		assert_int_equal(r->bad_index, bad);
	bb_resp_free(r);
	a = stat_of(k);
	assert_int_equal(a.allocated, b.allocated);
	assert_int_equal(a.held, b.held);
	assert_int_equal(a.refs, b.refs);
	assert_int_equal(a.my_offered, b.my_offered);
	assert_int_equal(a.offers, b.offers);
	assert_int_equal(a.offered, b.offered);
	assert_int_equal(a.shared, b.shared);
}

static void offer_fails(struct cl *k, const uint32_t *pfns, size_t n, uint32_t order,
			uint32_t shares, bool keep, uint32_t count, int status, uint32_t bad)
{
	offer_fails_r(k, pfns, n, order, shares, keep, count, status, bad, NULL);
}

/* Send the prepared Offer s on k: refused with `status` and `bad`, nothing
 * changed, the connection still serving. */
static void offer_req_fails(struct cl *k, struct sreq *s, int status, uint32_t bad)
{
	struct st b = stat_of(k), a;
	bb_response *r;

	s->q.r.id = k->id++;
	r = bb_rpc(k->c, &s->q.r);
	bb_assert_status(r, status);
	assert_int_equal(r->body_case, 0);
	if (r->bad_index != bad)
		print_error("offer refused \"%s\": bad_index %u, expected %u\n", r->error,
			    r->bad_index, bad);
	assert_int_equal(r->bad_index, bad);
	bb_resp_free(r);
	a = stat_of(k);
	assert_int_equal(a.allocated, b.allocated);
	assert_int_equal(a.held, b.held);
	assert_int_equal(a.my_offered, b.my_offered);
	assert_int_equal(a.offers, b.offers);
}

static bb_response *take_rpc(struct cl *k, const void *tok, size_t len)
{
	struct sreq s;

	return bb_rpc(k->c, req_take(&s, k->id++, tok, len));
}

/* Assert a Taken answer: want[n] of `order` in that order, shared, giver. */
static void taken_is(const bb_response *r, const uint32_t *want, size_t n, uint32_t order,
		     bool shared, uint64_t giver)
{
	static uint32_t got[MAX_BLOCKS];
	size_t k;

	bb_assert_status(r, ST(OK));
	assert_int_equal(r->body_case, BODY(TAKEN));
	assert_int_equal(r->taken->order, order);
	assert_int_equal(!!r->taken->shared, shared);
	assert_int_equal(r->taken->giver, giver);
	k = expand(r->taken->pfns, r->taken->n_pfns, r->taken->runs, r->taken->n_runs, order,
		   got, MAX_BLOCKS);
	assert_int_equal(k, n);
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("Taken block %zu: pfn %u, the giver offered %u there", i, got[i],
				 want[i]);
}

static void take_ok(struct cl *k, const uint8_t *tok, const uint32_t *want, size_t n,
		    uint32_t order, bool shared, uint64_t giver)
{
	bb_response *r = take_rpc(k, tok, TOK);

	taken_is(r, want, n, order, shared, giver);
	bb_resp_free(r);
}

/* A Take on k refused with `status`: k holds what it held. */
static void take_fails(struct cl *k, const void *tok, size_t len, int status)
{
	struct st b = stat_of(k), a;
	bb_response *r = take_rpc(k, tok, len);

	bb_assert_status(r, status);
	assert_int_equal(r->body_case, 0);
	bb_resp_free(r);
	a = stat_of(k);
	assert_int_equal(a.held, b.held);
	assert_int_equal(a.refs, b.refs);
	assert_int_equal(a.allocated, b.allocated);
}

static bb_response *cancel_rpc(struct cl *k, const void *tok, size_t len)
{
	struct sreq s;

	return bb_rpc(k->c, req_cancel(&s, k->id++, tok, len));
}

static void cancel_ok(struct cl *k, const uint8_t *tok, uint64_t returned, uint64_t released,
		      uint32_t takers)
{
	bb_response *r = cancel_rpc(k, tok, TOK);

	bb_assert_status(r, ST(OK));
	assert_int_equal(r->body_case, BODY(CANCELLED));
	assert_int_equal(r->cancelled->returned, returned);
	assert_int_equal(r->cancelled->released, released);
	assert_int_equal(r->cancelled->takers, takers);
	bb_resp_free(r);
}

static void cancel_fails(struct cl *k, const void *tok, size_t len, int status)
{
	struct st b = stat_of(k), a;
	bb_response *r = cancel_rpc(k, tok, len);

	bb_assert_status(r, status);
	assert_int_equal(r->body_case, 0);
	bb_resp_free(r);
	a = stat_of(k);
	assert_int_equal(a.held, b.held);
	assert_int_equal(a.my_offered, b.my_offered);
	assert_int_equal(a.offers, b.offers);
}

/* ---- admin (tests/lib/bb_admin.h) ----------------------------------------------- */

static void verify_ok(struct bb *f)
{
	struct bb_conn *a = bb_admin_open(f);

	bb_admin_verify(a, NPOOLS);
	bb_conn_close(a);
}

/* Drain every pcplist of `pool` (admin drain, forced). */
static void drain_pool(struct bb *f, const char *pool)
{
	struct bb_conn *a = bb_admin_open(f);

	assert_int_equal(bb_admin_drain_pcps(a, pool, NULL, true), ST(OK));
	bb_conn_close(a);
}

/* What admin `clients` says of client `id` (asserts it is listed). */
static struct bb_admin_client client_info(struct bb *f, uint64_t id)
{
	struct bb_conn *a = bb_admin_open(f);
	struct bb_admin_client in = bb_admin_client_info(a, id);

	bb_conn_close(a);
	return in;
}

/* ---- hand-off ------------------------------------------------------------------ */

/*
 * A hand-off in the pool "quota" (16 pages a connection): A offers six
 * order-1 blocks in an order of its own; while the offer is open they are
 * neither A's to free nor to offer again, and still count against A's
 * quota.  B's Take gets them in A's order, names A, and moves them and
 * their quota to B.
 */
static void test_handoff(void **state)
{
	struct bb *f = *state;
	uint32_t blk[6], order[6], tmp[16];
	uint8_t tok[TOK];
	struct cl a, b, c;
	struct bb_admin_client in;
	int got;

	bb_start(f, conf_share);
	join(f, &a, "quota", 0);
	join(f, &b, "quota", 0);
	join(f, &c, "quota", 0);
	expect_me(&a, 0, 0, 0, 0);
	alloc_ok(&a, 1, 6, blk);
	expect_me(&a, 12, 12, 0, 0);
	for (unsigned i = 0; i < 6; i++)
		order[i] = blk[(i * 5 + 3) % 6];	/* 3 2 1 0 5 4: not the alloc order */

	offer_ok(&a, order, 6, 1, 0, false, tok);
	expect_me(&a, 12, 0, 0, 12);		/* no longer A's own, still charged */
	expect_pool(&a, 1, 12, 0);
	in = client_info(f, a.client_id);
	assert_int_equal(in.pages, 0);
	assert_int_equal(in.offers, 1);
	assert_int_equal(in.offered_pages, 12);

	/* Under offer: A cannot free it, nor offer it again. */
	free_fails(&a, &order[2], 1, ST(EBUSY), 0);
	free_fails(&a, order, 6, ST(EBUSY), 0);
	offer_fails_r(&a, &order[4], 1, 1, 0, false, 0, 0, 0, &got);
	print_message("re-offer of a block under offer: %s (contract: EINVAL)\n",
		      bb_status_name(got));
	assert_true(got == ST(EINVAL) || got == ST(EBUSY));
	offer_fails_r(&a, order, 6, 1, 2, false, 0, 0, 0, &got);
	assert_true(got == ST(EINVAL) || got == ST(EBUSY));
	/* The pages under offer count against A: 12 + 5 > 16. */
	alloc_fails(&a, 0, 5, ST(EDQUOT));
	alloc_ok(&a, 0, 4, tmp);
	free_ok(&a, tmp, 4, 4);
	/* Nor can anyone else free them. */
	free_fails(&b, order, 1, ST(EPERM), 0);

	take_ok(&b, tok, order, 6, 1, false, a.client_id);
	expect_me(&b, 12, 12, 0, 0);
	expect_me(&a, 12, 0, 0, 0);
	expect_pool(&b, 0, 0, 0);
	in = client_info(f, b.client_id);
	assert_int_equal(in.pages, 12);
	assert_int_equal(in.offers, 0);
	in = client_info(f, a.client_id);
	assert_int_equal(in.pages, 0);
	assert_int_equal(in.offers, 0);
	assert_int_equal(in.offered_pages, 0);

	/* The token is used up; the giver has no claim left. */
	take_fails(&c, tok, TOK, ST(EALREADY));
	take_fails(&b, tok, TOK, ST(EALREADY));
	free_fails(&a, order, 1, ST(EPERM), 0);
	cancel_fails(&a, tok, TOK, ST(ENOENT));

	/* The quota moved: B is charged 12, A nothing. */
	alloc_fails(&b, 0, 5, ST(EDQUOT));
	alloc_ok(&a, 0, QUOTA, tmp);
	free_ok(&a, tmp, QUOTA, QUOTA);

	/* B owns them: it frees them in any order. */
	free_ok(&b, blk, 6, 12);
	expect_me(&b, 0, 0, 0, 0);
	expect_pool(&b, 0, 0, 0);
	verify_ok(f);
}

/* ---- loan ---------------------------------------------------------------------- */

/*
 * In pool "quota" (16 pages a connection, 32 a uid): q and q2, one uid,
 * fill max_offers_per_uid with one-page loans; q2's next loans are
 * allocated, refused by that limit and given back, quota and all: the uid
 * can then have exactly its 32 pages, not one more.  Everything goes back
 * when they leave.
 */
static void uid_loans_refused(struct bb *f, struct cl *q)
{
	uint32_t p2[11], p3[QUOTA];
	struct cl q2, q3, q4;
	uint8_t tok[TOK];
	bb_response *r;

	join(f, &q2, "quota", 0);
	join(f, &q3, "quota", 0);
	for (unsigned i = 0; i < MAX_OFFERS_UID; i++) {
		r = offer_rpc(i < MAX_OFFERS ? q : &q2, NULL, 0, 0, 0, false, 1);
		offered_token(r, 1, tok);
		bb_resp_free(r);
	}
	for (unsigned i = 0; i < 3; i++)
		offer_fails(&q2, NULL, 0, 0, 0, false, 7, ST(EDQUOT), BAD_ANY);
	expect_me(&q2, MAX_OFFERS_UID, 0, 0, 2);
	alloc_ok(&q2, 0, 10, p2);
	alloc_ok(&q3, 0, QUOTA, p3);
	expect_me(&q3, UID_QUOTA, QUOTA, 0, 0);
	alloc_fails(&q2, 0, 1, ST(EDQUOT));		/* the uid's 32, q2 at 12 of 16 */
	free_ok(&q3, p3, 1, 1);
	alloc_ok(&q2, 0, 1, p2 + 10);
	verify_ok(f);
	join(f, &q4, "quota", 0);
	leave(q);
	leave(&q2);
	leave(&q3);
	settle(&q4, 0, 0);
	expect_pool(&q4, 0, 0, 0);
	alloc_ok(&q4, 0, QUOTA, p3);
	free_ok(&q4, p3, QUOTA, QUOTA);
}

/*
 * A loan allocates fresh blocks and offers them at once: Offered lists
 * them (as runs to a client that asked for them), a Take gets them in that
 * order.  It is charged as an Alloc is, and one refused by an offer limit
 * gives its fresh blocks straight back.
 */
static void test_loan(void **state)
{
	struct bb *f = *state;
	static uint32_t lent[MAX_BLOCKS], tmp[MAX_BLOCKS];
	uint8_t tok[TOK], toks[MAX_OFFERS_UID][TOK];
	struct cl a, b, a2, q;
	bb_response *r;
	size_t n;

	bb_start(f, conf_share);
	join(f, &a, NULL, F_RUNS);
	join(f, &b, NULL, F_RUNS);

	/* Five order-2 blocks: fresh, aligned, distinct, in the arena. */
	r = offer_rpc(&a, NULL, 0, 2, 0, false, 5);
	offered_token(r, 20, tok);
	n = expand(r->offered->pfns, r->offered->n_pfns, r->offered->runs, r->offered->n_runs, 2,
		   lent, MAX_BLOCKS);
	assert_int_equal(n, 5);
	bb_resp_free(r);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(lent[i] % 4, 0);
		assert_true(lent[i] < a.npages);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(lent[i], lent[j]);
	}
	expect_me(&a, 20, 0, 0, 20);
	expect_pool(&a, 1, 20, 0);
	/* Lent blocks are under offer like any other. */
	free_fails(&a, lent, 1, ST(EBUSY), 0);
	take_ok(&b, tok, lent, 5, 2, false, a.client_id);
	expect_me(&b, 20, 20, 0, 0);
	expect_me(&a, 20, 0, 0, 0);
	free_ok(&b, lent, 5, 20);

	/* A large loan of a fresh pool, to clients with FEATURE_RUNS: runs
	 * both ways (far shorter than 512 pfns), the same blocks. */
	r = offer_rpc(&a, NULL, 0, 0, 0, false, 512);
	offered_token(r, 512, tok);
	print_message("loan of 512 pages: %zu pfns, %zu run numbers\n", r->offered->n_pfns,
		      r->offered->n_runs);
	assert_int_equal(r->offered->n_pfns, 0);
	assert_true(r->offered->n_runs >= 2 && r->offered->n_runs <= 16);
	n = expand(r->offered->pfns, r->offered->n_pfns, r->offered->runs, r->offered->n_runs, 0,
		   lent, MAX_BLOCKS);
	assert_int_equal(n, 512);
	bb_resp_free(r);
	r = take_rpc(&b, tok, TOK);
	taken_is(r, lent, 512, 0, false, a.client_id);
	assert_int_equal(r->taken->n_pfns, 0);
	assert_true(r->taken->n_runs >= 2 && r->taken->n_runs <= 16);
	bb_resp_free(r);
	free_ok(&b, lent, 512, 512);
	expect_me(&b, 0, 0, 0, 0);

	/* Charged as an Alloc: over the quota, above max_count. */
	join(f, &q, "quota", 0);
	offer_fails(&q, NULL, 0, 0, 0, false, QUOTA + 1, ST(EDQUOT), 0);
	offer_fails(&q, NULL, 0, 2, 0, false, 5, ST(EDQUOT), 0);
	offer_fails(&a, NULL, 0, 0, 0, false, MAX_BLOCKS + 1, ST(E2BIG), 0);
	r = offer_rpc(&q, NULL, 0, 0, 0, false, QUOTA);
	offered_token(r, QUOTA, tok);
	assert_int_equal(expand(r->offered->pfns, r->offered->n_pfns, r->offered->runs,
				r->offered->n_runs, 0, tmp, MAX_BLOCKS), QUOTA);
	bb_resp_free(r);
	expect_me(&q, QUOTA, 0, 0, QUOTA);
	alloc_fails(&q, 0, 1, ST(EDQUOT));
	cancel_ok(&q, tok, QUOTA, 0, 0);
	expect_me(&q, QUOTA, QUOTA, 0, 0);
	alloc_fails(&q, 0, 1, ST(EDQUOT));
	free_ok(&q, tmp, QUOTA, QUOTA);
	uid_loans_refused(f, &q);

	/* The offer limits.  A fills max_offers with loans: the next is
	 * refused before anything is allocated. */
	for (unsigned i = 0; i < MAX_OFFERS; i++) {
		r = offer_rpc(&a, NULL, 0, 0, 0, false, 2);
		offered_token(r, 2, toks[i]);
		bb_resp_free(r);
	}
	expect_me(&a, 2 * MAX_OFFERS, 0, 0, 2 * MAX_OFFERS);
	offer_fails(&a, NULL, 0, 0, 0, false, 2, ST(EDQUOT), 0);
	/* A2, the same uid, fills max_offers_per_uid: its next loan is
	 * allocated, refused by the uid's limit, and given back. */
	join(f, &a2, NULL, 0);
	for (unsigned i = MAX_OFFERS; i < MAX_OFFERS_UID; i++) {
		r = offer_rpc(&a2, NULL, 0, 0, 0, false, 2);
		offered_token(r, 2, toks[i]);
		bb_resp_free(r);
	}
	expect_me(&a2, 2 * MAX_OFFERS_UID, 0, 0, 2 * (MAX_OFFERS_UID - MAX_OFFERS));
	for (unsigned i = 0; i < 3; i++)
		offer_fails(&a2, NULL, 0, 0, 0, false, 7, ST(EDQUOT), BAD_ANY);
	expect_pool(&a2, MAX_OFFERS_UID, 2 * MAX_OFFERS_UID, 0);
	verify_ok(f);
	/* A's cancelled loan is its own again; room for A2's loan. */
	cancel_ok(&a, toks[0], 2, 0, 0);
	expect_me(&a, 2 * MAX_OFFERS_UID, 2, 0, 2 * (MAX_OFFERS - 1));
	r = offer_rpc(&a2, NULL, 0, 0, 0, false, 7);
	offered_token(r, 7, toks[0]);
	n = expand(r->offered->pfns, r->offered->n_pfns, r->offered->runs, r->offered->n_runs, 0,
		   tmp, MAX_BLOCKS);
	assert_int_equal(n, 7);
	bb_resp_free(r);
	/* Everything goes back: loans taken, cancelled, or left to the giver's
	 * death. */
	take_ok(&b, toks[0], tmp, 7, 0, false, a2.client_id);
	free_ok(&b, tmp, 7, 7);
	leave(&a);
	leave(&a2);
	settle(&b, 0, 0);
	expect_pool(&b, 0, 0, 0);
	verify_ok(f);
	for (unsigned i = 1; i < MAX_OFFERS_UID; i++)
		take_fails(&b, toks[i], TOK, ST(EOWNERDEAD));
	expect_me(&b, 0, 0, 0, 0);
	verify_ok(f);
}

/* ---- cancel -------------------------------------------------------------------- */

/*
 * Cancel by the giver: the blocks are its own again (Cancelled.returned),
 * a later Take is ECANCELED; a cancel by anyone else, of garbage, or a
 * second time is ENOENT and changes nothing.
 */
static void test_cancel(void **state)
{
	struct bb *f = *state;
	uint32_t blk[4], one[1];
	uint8_t tok[TOK], tok2[TOK], junk[TOK];
	struct cl a, b;

	bb_start(f, conf_share);
	join(f, &a, NULL, 0);
	join(f, &b, NULL, 0);
	alloc_ok(&a, 3, 4, blk);
	alloc_ok(&b, 0, 1, one);
	offer_ok(&a, blk, 4, 3, 0, false, tok);
	expect_me(&a, 33, 0, 0, 32);

	/* Only the giver cancels; a token of no open offer is ENOENT. */
	cancel_fails(&b, tok, TOK, ST(ENOENT));
	memset(junk, 0x5a, sizeof(junk));
	cancel_fails(&a, junk, TOK, ST(ENOENT));
	expect_pool(&a, 1, 32, 0);

	cancel_ok(&a, tok, 32, 0, 0);
	expect_me(&a, 33, 32, 0, 0);
	expect_pool(&a, 0, 0, 0);
	take_fails(&b, tok, TOK, ST(ECANCELED));
	take_fails(&b, tok, TOK, ST(ECANCELED));
	cancel_fails(&a, tok, TOK, ST(ENOENT));
	cancel_fails(&b, tok, TOK, ST(ENOENT));
	expect_me(&b, 33, 1, 0, 0);

	/* A's own again: it may offer them anew (a new token) or free them. */
	offer_ok(&a, blk, 2, 3, 0, false, tok2);
	assert_memory_not_equal(tok, tok2, TOK);
	cancel_ok(&a, tok2, 16, 0, 0);
	cancel_fails(&a, tok2, TOK, ST(ENOENT));
	free_ok(&a, blk, 4, 32);
	free_ok(&b, one, 1, 1);
	expect_me(&a, 0, 0, 0, 0);
	verify_ok(f);
}

/* ---- giver death --------------------------------------------------------------- */

/*
 * A giver with a hand-off, a shared offer nobody took and a loan open
 * closes its socket: every offer closes, every page goes back to the pool,
 * and each token is EOWNERDEAD for a taker.
 */
static void test_giver_dies(void **state)
{
	struct bb *f = *state;
	uint32_t blk[8], sh[2];
	uint8_t tok[TOK], tok2[TOK], tok3[TOK];
	struct cl a, b;
	bb_response *r;

	bb_start(f, conf_share);
	join(f, &a, NULL, 0);
	join(f, &b, NULL, 0);
	alloc_ok(&a, 0, 8, blk);
	alloc_ok(&a, 2, 2, sh);
	offer_ok(&a, blk, 8, 0, 0, false, tok);		/* a hand-off */
	offer_ok(&a, sh, 2, 2, 2, false, tok2);		/* shared, nobody took */
	r = offer_rpc(&a, NULL, 0, 1, 0, false, 3);	/* a loan */
	offered_token(r, 6, tok3);
	bb_resp_free(r);
	expect_me(&b, 22, 0, 0, 0);
	expect_pool(&b, 3, 22, 8);

	leave(&a);
	settle(&b, 0, 0);
	expect_pool(&b, 0, 0, 0);
	take_fails(&b, tok, TOK, ST(EOWNERDEAD));
	take_fails(&b, tok2, TOK, ST(EOWNERDEAD));
	take_fails(&b, tok3, TOK, ST(EOWNERDEAD));
	expect_me(&b, 0, 0, 0, 0);
	/* The pages are the pool's: once the pcplists are drained (a
	 * worker's cache is not what this is about), B can have every one. */
	{
		static uint32_t all[4][MAX_BLOCKS];
		struct st s;

		drain_pool(f, "default");
		s = stat_of(&b);
		assert_int_equal(s.total, 4 * MAX_BLOCKS);
		assert_int_equal(s.free, s.total);
		for (unsigned i = 0; i < 4; i++)
			alloc_ok(&b, 0, MAX_BLOCKS, all[i]);
		expect_me(&b, 4 * MAX_BLOCKS, 4 * MAX_BLOCKS, 0, 0);
		verify_ok(f);
		for (unsigned i = 0; i < 4; i++)
			free_ok(&b, all[i], MAX_BLOCKS, MAX_BLOCKS);
	}
	expect_me(&b, 0, 0, 0, 0);
	verify_ok(f);
}

/*
 * B's Take and A's close as close together as one thread can put them:
 * the Take frame written and A's socket closed back to back (on two
 * connections, likely two workers), in both orders, RACE_ROUNDS times.
 * Every round ends with B owning the blocks (which it frees) or with
 * EOWNERDEAD; never anything else, never a page lost.
 */
static void test_take_races_death(void **state)
{
	struct bb *f = *state;
	unsigned taken[2] = { 0, 0 }, dead[2] = { 0, 0 };
	struct bb_conn *adm;
	struct cl a, b;

	bb_start(f, conf_share);
	join(f, &b, NULL, 0);
	adm = bb_admin_open(f);
	for (unsigned round = 0; round < RACE_ROUNDS; round++) {
		unsigned close_first = round % 2;
		uint32_t blk[8];
		uint8_t tok[TOK];
		struct sreq s;
		bb_response *r;
		uint64_t id;
		int ret;

		join(f, &a, NULL, 0);
		alloc_ok(&a, (round / 2) % 3, 8, blk);
		offer_ok(&a, blk, 8, (round / 2) % 3, 0, false, tok);
		id = b.id++;
		req_take(&s, id, tok, TOK);
		if (close_first)
			leave(&a);
		ret = bb_conn_send_req(b.c, &s.q.r, NULL, 0);
		if (!close_first)
			leave(&a);
		assert_int_equal(ret, 0);
		ret = bb_conn_recv(b.c, BB_IO_TIMEOUT_MS, &r);
		assert_int_equal(ret, 0);
		assert_int_equal(r->id, id);
		if (r->status == ST(OK)) {
			taken_is(r, blk, 8, (round / 2) % 3, false, a.client_id);
			taken[close_first]++;
			free_ok(&b, blk, 8, 8u << ((round / 2) % 3));
		} else {
			if (r->status != ST(EOWNERDEAD))
				fail_msg("round %u: take answered %s \"%s\"", round,
					 bb_status_name(r->status), r->error);
			dead[close_first]++;
		}
		bb_resp_free(r);
		settle(&b, 0, 0);
		expect_me(&b, 0, 0, 0, 0);
		bb_admin_verify(adm, NPOOLS);
	}
	print_message("take racing the giver's close: take first %u taken / %u EOWNERDEAD, "
		      "close first %u taken / %u EOWNERDEAD\n", taken[0], dead[0], taken[1],
		      dead[1]);
	assert_int_equal(taken[0] + dead[0] + taken[1] + dead[1], RACE_ROUNDS);
	bb_conn_close(adm);
	verify_ok(f);
}

/*
 * Closed offers are remembered in a ring of TOMBSTONES a pool: a token
 * says why its offer closed until that many more have closed, then it is
 * unknown (ENOENT).
 */
static void test_tombstones(void **state)
{
	struct bb *f = *state;
	uint8_t first[TOK], tok[TOK];
	uint32_t pfn[1];
	struct cl a, b;

	bb_start(f, conf_share);
	join(f, &a, NULL, 0);
	join(f, &b, NULL, 0);
	alloc_ok(&a, 0, 1, pfn);
	offer_ok(&a, pfn, 1, 0, 0, false, first);
	cancel_ok(&a, first, 1, 0, 0);
	take_fails(&b, first, TOK, ST(ECANCELED));
	for (unsigned i = 1; i < TOMBSTONES; i++) {
		struct sreq s;
		bb_response *r;

		r = bb_rpc(a.c, req_offer(&s, a.id++, pfn, 1, 0, 0, false, 0));
		offered_token(r, 1, tok);
		bb_resp_free(r);
		r = bb_rpc(a.c, req_cancel(&s, a.id++, tok, TOK));
		bb_assert_status(r, ST(OK));
		bb_resp_free(r);
	}
	take_fails(&b, first, TOK, ST(ECANCELED));	/* the oldest of 4096 */
	take_fails(&b, tok, TOK, ST(ECANCELED));
	offer_ok(&a, pfn, 1, 0, 0, false, tok);
	cancel_ok(&a, tok, 1, 0, 0);
	take_fails(&b, first, TOK, ST(ENOENT));		/* forgotten */
	take_fails(&b, tok, TOK, ST(ECANCELED));
	free_ok(&a, pfn, 1, 1);
	expect_me(&a, 0, 0, 0, 0);
	expect_pool(&a, 0, 0, 0);
	verify_ok(f);
}

/* ---- bad tokens ----------------------------------------------------------------- */

/*
 * Take: a token not of 16 bytes is EINVAL; 16 bytes of no offer (zeros,
 * ones, one bit off, random) or of another pool's offer ENOENT; the
 * giver's own EINVAL; a replay after the hand-off EALREADY.  None moves a
 * page.
 */
static void test_bad_tokens(void **state)
{
	struct bb *f = *state;
	static uint8_t big[1000];
	uint32_t blk[2], oblk[1];
	uint8_t tok[TOK], otok[TOK], junk[TOK];
	struct cl a, b, o;

	bb_start(f, conf_share);
	join(f, &a, NULL, 0);
	join(f, &b, NULL, 0);
	join(f, &o, "other", 0);
	alloc_ok(&a, 0, 2, blk);
	offer_ok(&a, blk, 2, 0, 0, false, tok);
	alloc_ok(&o, 0, 1, oblk);
	offer_ok(&o, oblk, 1, 0, 0, false, otok);
	memcpy(big, tok, TOK);

	/* Not 16 bytes: EINVAL, whatever the bytes. */
	take_fails(&b, tok, 0, ST(EINVAL));
	take_fails(&b, tok, 15, ST(EINVAL));
	take_fails(&b, big, 17, ST(EINVAL));
	take_fails(&b, big, sizeof(big), ST(EINVAL));
	cancel_fails(&a, tok, 15, ST(EINVAL));
	/* 16 bytes of no offer: ENOENT. */
	memset(junk, 0, sizeof(junk));
	take_fails(&b, junk, TOK, ST(ENOENT));
	memset(junk, 0xff, sizeof(junk));
	take_fails(&b, junk, TOK, ST(ENOENT));
	for (unsigned i = 0; i < TOK; i++)
		junk[i] = (uint8_t)(tok[i] ^ (i == 7 ? 0x01 : 0));	/* one bit off */
	take_fails(&b, junk, TOK, ST(ENOENT));
	assert_int_equal(getrandom(junk, TOK, 0), TOK);
	take_fails(&b, junk, TOK, ST(ENOENT));
	/* Another pool's open offer: ENOENT both ways. */
	take_fails(&b, otok, TOK, ST(ENOENT));
	take_fails(&o, tok, TOK, ST(ENOENT));
	/* The giver's own: EINVAL. */
	take_fails(&a, tok, TOK, ST(EINVAL));
	expect_me(&a, 2, 0, 0, 2);
	expect_pool(&a, 1, 2, 0);

	/* Taken, then replayed: EALREADY here, still ENOENT in the other pool. */
	take_ok(&b, tok, blk, 2, 0, false, a.client_id);
	take_fails(&b, tok, TOK, ST(EALREADY));
	take_fails(&a, tok, TOK, ST(EALREADY));
	take_fails(&o, tok, TOK, ST(ENOENT));
	cancel_fails(&a, tok, TOK, ST(ENOENT));
	free_ok(&b, blk, 2, 2);
	cancel_ok(&o, otok, 1, 0, 0);
	free_ok(&o, oblk, 1, 1);
	expect_me(&b, 0, 0, 0, 0);
	expect_me(&o, 0, 0, 0, 0);
	verify_ok(f);
}

/* ---- offers of blocks not held ---------------------------------------------------- */

/*
 * Every refused Offer offers nothing (offer_fails checks the counts) and
 * names the first bad block by its index; then the good blocks can still
 * be offered and freed.  With runs, the index counts in the expanded list.
 */
static void test_offer_not_held(void **state)
{
	struct bb *f = *state;
	uint32_t mine[4], big[2], theirs[1], free_pfn, l[8], runs[4];
	uint8_t tok[TOK];
	struct cl a, b;
	struct sreq s;
	bb_response *r;

	bb_start(f, conf_share);
	join(f, &a, NULL, F_RUNS);
	join(f, &b, NULL, 0);
	alloc_ok(&a, 0, 4, mine);
	alloc_ok(&a, 2, 2, big);
	alloc_ok(&b, 0, 1, theirs);
	free_pfn = a.npages - 1;	/* the pool's last page: nobody has it */
	for (unsigned i = 0; i < 4; i++)
		assert_int_not_equal(mine[i], free_pfn);
	assert_int_not_equal(theirs[0], free_pfn);
	assert_true(big[0] + 3 != free_pfn && big[1] + 3 != free_pfn);
	expect_me(&a, 13, 12, 0, 0);

	offer_fails(&a, theirs, 1, 0, 0, false, 0, ST(EPERM), 0);
	offer_fails(&a, &free_pfn, 1, 0, 0, false, 0, ST(EALREADY), 0);
	l[0] = big[0] + 1;	/* a tail page */
	offer_fails(&a, l, 1, 2, 0, false, 0, ST(EINVAL), 0);
	offer_fails(&a, l, 1, 0, 0, false, 0, ST(EINVAL), 0);
	l[0] = a.npages;	/* out of range */
	offer_fails(&a, l, 1, 0, 0, false, 0, ST(EINVAL), 0);
	l[0] = UINT32_MAX;
	offer_fails(&a, l, 1, 0, 0, false, 0, ST(EINVAL), 0);
	offer_fails(&a, big, 2, 0, 0, false, 0, ST(EINVAL), 0);	/* wrong order */
	offer_fails(&a, mine, 1, 2, 0, false, 0, ST(EINVAL), 0);
	offer_fails(&a, (uint32_t[]){ mine[0], mine[1], mine[0] }, 3, 0, 0, false, 0,
		    ST(EINVAL), 2);				/* listed twice */
	/* Mixed: the bad one's index, nothing offered. */
	offer_fails(&a, (uint32_t[]){ mine[0], mine[1], theirs[0], mine[2] }, 4, 0, 0, false, 0,
		    ST(EPERM), 2);
	offer_fails(&a, (uint32_t[]){ mine[3], mine[2], mine[1], free_pfn }, 4, 0, 0, false, 0,
		    ST(EALREADY), 3);
	offer_fails(&a, (uint32_t[]){ mine[0], mine[1], big[0] }, 3, 0, 0, false, 0,
		    ST(EINVAL), 2);
	offer_fails(&a, (uint32_t[]){ big[1], big[0] + 2 }, 2, 2, 0, false, 0, ST(EINVAL), 1);
	expect_me(&a, 13, 12, 0, 0);
	expect_pool(&a, 0, 0, 0);

	/* With runs: A's 4 pages, then B's (index 4 of the expanded list); a
	 * good block by a run offers. */
	runs[0] = big[0];
	runs[1] = 1;
	runs[2] = theirs[0];
	runs[3] = 1;
	req_offer(&s, 0, mine, 4, 0, 0, false, 0);
	s.offer.runs = runs + 2;
	s.offer.n_runs = 2;
	offer_req_fails(&a, &s, ST(EPERM), 4);
	req_offer(&s, a.id++, NULL, 0, 2, 0, false, 0);
	s.offer.runs = runs;
	s.offer.n_runs = 2;
	r = bb_rpc(a.c, &s.q.r);
	offered_token(r, 4, tok);
	bb_resp_free(r);
	expect_me(&a, 13, 8, 0, 4);
	cancel_ok(&a, tok, 4, 0, 0);
	expect_me(&a, 13, 12, 0, 0);

	/* Nothing was stuck: the good blocks offer, and free. */
	offer_ok(&a, mine, 4, 0, 0, false, tok);
	cancel_ok(&a, tok, 4, 0, 0);
	free_ok(&a, mine, 4, 4);
	free_ok(&a, big, 2, 8);
	free_ok(&b, theirs, 1, 1);
	expect_me(&a, 0, 0, 0, 0);
	verify_ok(f);
}

/* ---- shared ---------------------------------------------------------------------- */

/* shares = 2: two takers hold references; the block lives until both free. */
static void test_shared_two_takers(void **state)
{
	struct bb *f = *state;
	uint32_t blk[2];
	uint8_t tok[TOK], tok2[TOK];
	struct cl a, b, c, d;

	bb_start(f, conf_share);
	join(f, &a, NULL, 0);
	join(f, &b, NULL, 0);
	join(f, &c, NULL, 0);
	join(f, &d, NULL, 0);
	alloc_ok(&a, 1, 2, blk);
	offer_ok(&a, blk, 2, 1, 2, false, tok);
	expect_me(&a, 4, 0, 0, 4);
	expect_pool(&a, 1, 4, 4);
	giver_free_refused(&a, blk, 2);

	take_ok(&b, tok, blk, 2, 1, true, a.client_id);
	expect_me(&b, 4, 0, 4, 0);
	take_fails(&b, tok, TOK, ST(EALREADY));		/* once per client */
	expect_pool(&b, 1, 4, 4);
	take_ok(&c, tok, blk, 2, 1, true, a.client_id);
	expect_me(&c, 4, 0, 4, 0);
	take_fails(&d, tok, TOK, ST(EALREADY));		/* used up */
	take_fails(&b, tok, TOK, ST(EALREADY));
	expect_me(&a, 4, 0, 0, 0);			/* A has no part left */
	expect_pool(&a, 0, 0, 4);
	cancel_fails(&a, tok, TOK, ST(ENOENT));
	free_fails(&a, blk, 1, ST(EPERM), 0);
	free_fails(&d, blk, 1, ST(EPERM), 0);

	/* A shared block is never offered again, by anyone. */
	offer_fails(&b, blk, 1, 1, 0, false, 0, ST(EPERM), 0);
	offer_fails(&b, blk, 2, 1, 2, false, 0, ST(EPERM), 0);
	offer_fails(&a, blk, 1, 1, 0, false, 0, ST(EPERM), 0);
	verify_ok(f);

	/* B drops its reference (of the second block first, then the first). */
	free_ok(&b, &blk[1], 1, 2);
	expect_me(&b, 4, 0, 2, 0);
	free_fails(&b, &blk[1], 1, ST(EPERM), 0);
	free_fails(&b, (uint32_t[]){ blk[0], blk[0] }, 2, ST(EINVAL), 1);
	free_ok(&b, &blk[0], 1, 2);
	expect_me(&b, 4, 0, 0, 0);			/* C still holds them */
	expect_pool(&b, 0, 0, 4);
	verify_ok(f);
	free_ok(&c, blk, 2, 4);
	expect_me(&c, 0, 0, 0, 0);
	expect_pool(&c, 0, 0, 0);
	verify_ok(f);

	/* A cancel after one take: the taker keeps its reference. */
	alloc_ok(&a, 1, 2, blk);
	offer_ok(&a, blk, 2, 1, 3, false, tok2);
	take_ok(&d, tok2, blk, 2, 1, true, a.client_id);
	cancel_ok(&a, tok2, 0, 4, 1);
	take_fails(&b, tok2, TOK, ST(ECANCELED));
	expect_me(&d, 4, 0, 4, 0);
	expect_me(&a, 4, 0, 0, 0);
	expect_pool(&a, 0, 0, 4);
	free_ok(&d, blk, 2, 4);
	expect_me(&d, 0, 0, 0, 0);
	expect_pool(&d, 0, 0, 0);
	verify_ok(f);
}

/* keep: the giver keeps a reference, which it frees like any holder. */
static void test_shared_keep(void **state)
{
	struct bb *f = *state;
	uint32_t blk[1], two[2];
	uint8_t tok[TOK], tok2[TOK];
	struct cl a, b;

	bb_start(f, conf_share);
	join(f, &a, NULL, 0);
	join(f, &b, NULL, 0);
	alloc_ok(&a, 2, 1, blk);
	offer_ok(&a, blk, 1, 2, 1, true, tok);
	expect_me(&a, 4, 0, 4, 4);
	expect_pool(&a, 1, 4, 4);
	offer_fails(&a, blk, 1, 2, 0, false, 0, ST(EPERM), 0);	/* shared: never again */
	free_ok(&a, blk, 1, 4);				/* its reference */
	expect_me(&a, 4, 0, 0, 4);			/* the offer still pins it */
	giver_free_refused(&a, blk, 1);
	verify_ok(f);
	take_ok(&b, tok, blk, 1, 2, true, a.client_id);
	expect_me(&b, 4, 0, 4, 0);
	expect_pool(&b, 0, 0, 4);
	free_ok(&b, blk, 1, 4);
	expect_me(&b, 0, 0, 0, 0);
	expect_pool(&b, 0, 0, 0);

	/* keep, then B takes and A frees last. */
	alloc_ok(&a, 0, 2, two);
	offer_ok(&a, two, 2, 0, 1, true, tok2);
	take_ok(&b, tok2, two, 2, 0, true, a.client_id);
	expect_me(&a, 2, 0, 2, 0);
	free_ok(&b, two, 2, 2);
	expect_me(&b, 2, 0, 0, 0);
	verify_ok(f);
	free_ok(&a, two, 2, 2);
	expect_me(&a, 0, 0, 0, 0);
	expect_pool(&a, 0, 0, 0);

	/* The limits of shares and keep. */
	alloc_ok(&a, 0, 1, blk);
	offer_fails(&a, blk, 1, 0, MAX_SHARES + 1, false, 0, ST(EINVAL), 1);
	offer_fails(&a, blk, 1, 0, UINT32_MAX, false, 0, ST(EINVAL), 1);
	offer_fails(&a, blk, 1, 0, 0, true, 0, ST(EINVAL), 1);
	offer_fails(&a, NULL, 0, 0, 0, true, 3, ST(EINVAL), 0);
	offer_ok(&a, blk, 1, 0, MAX_SHARES, false, tok);
	cancel_ok(&a, tok, 1, 0, 0);
	free_ok(&a, blk, 1, 1);
	expect_me(&a, 0, 0, 0, 0);
	verify_ok(f);
}

/*
 * The contract: while an offer is open its giver cannot free its blocks,
 * EBUSY ("under offer"), shared offers included; a giver that took no
 * reference (no keep) frees nothing.
 */
static void test_shared_giver_free_busy(void **state)
{
	struct bb *f = *state;
	uint32_t blk[2];
	uint8_t tok[TOK];
	struct cl a, b;

	bb_start(f, conf_share);
	join(f, &a, NULL, 0);
	join(f, &b, NULL, 0);
	alloc_ok(&a, 0, 2, blk);
	offer_ok(&a, blk, 2, 0, 2, false, tok);
	free_fails(&a, blk, 2, ST(EBUSY), 0);
	free_fails(&a, &blk[1], 1, ST(EBUSY), 0);
	take_ok(&b, tok, blk, 2, 0, true, a.client_id);
	free_fails(&a, blk, 2, ST(EBUSY), 0);		/* still open: one take of 2 */
	cancel_ok(&a, tok, 0, 2, 1);
	free_fails(&a, blk, 2, ST(EPERM), 0);		/* closed: B's, not A's */
	free_ok(&b, blk, 2, 2);
	expect_me(&a, 0, 0, 0, 0);
	verify_ok(f);
}

/* The giver dies while B holds a reference: B still holds it. */
static void test_shared_giver_dies(void **state)
{
	struct bb *f = *state;
	uint32_t blk[3];
	uint8_t tok[TOK];
	struct cl a, b, c;

	bb_start(f, conf_share);
	join(f, &a, NULL, 0);
	join(f, &b, NULL, 0);
	join(f, &c, NULL, 0);
	alloc_ok(&a, 1, 3, blk);
	offer_ok(&a, blk, 3, 1, 2, true, tok);
	take_ok(&b, tok, blk, 3, 1, true, a.client_id);
	expect_pool(&b, 1, 6, 6);
	leave(&a);
	settle(&b, 6, 0);
	expect_me(&b, 6, 0, 6, 0);
	expect_pool(&b, 0, 0, 6);
	take_fails(&c, tok, TOK, ST(EOWNERDEAD));
	verify_ok(f);
	free_ok(&b, &blk[1], 1, 2);
	expect_me(&b, 4, 0, 4, 0);
	free_ok(&b, (uint32_t[]){ blk[2], blk[0] }, 2, 4);
	expect_me(&b, 0, 0, 0, 0);
	expect_pool(&b, 0, 0, 0);
	verify_ok(f);

	/* And when the holder goes too, without freeing. */
	join(f, &a, NULL, 0);
	alloc_ok(&a, 1, 3, blk);
	offer_ok(&a, blk, 3, 1, 1, false, tok);
	take_ok(&c, tok, blk, 3, 1, true, a.client_id);
	leave(&a);
	settle(&b, 6, 0);
	leave(&c);
	settle(&b, 0, 0);
	expect_pool(&b, 0, 0, 0);
	verify_ok(f);
}

/* ---- limits --------------------------------------------------------------------- */

/*
 * max_offers (4 a connection) and max_offers_per_uid (6), over two
 * connections of one uid: EDQUOT, and room again once an offer closes.
 * quota_pages (16): a Take over the taker's quota is refused and leaves
 * the offer to another taker; pages under offer count against the giver.
 */
static void test_limits(void **state)
{
	struct bb *f = *state;
	uint32_t pa[8], pb[8], mine[8 + QUOTA], theirs[12];
	uint8_t tok[MAX_OFFERS_UID + 2][TOK], qt[TOK];
	struct cl a, a2, b, q1, q2, q3;
	unsigned i;

	bb_start(f, conf_share);
	join(f, &a, NULL, 0);
	join(f, &a2, NULL, 0);
	join(f, &b, NULL, 0);
	alloc_ok(&a, 0, 8, pa);
	alloc_ok(&a2, 0, 8, pb);

	for (i = 0; i < MAX_OFFERS; i++)
		offer_ok(&a, &pa[i], 1, 0, 0, false, tok[i]);
	offer_fails(&a, &pa[4], 1, 0, 0, false, 0, ST(EDQUOT), 1);
	offer_fails(&a, &pa[4], 1, 0, 2, false, 0, ST(EDQUOT), 1);
	offer_fails(&a, NULL, 0, 0, 0, false, 1, ST(EDQUOT), 0);
	offer_ok(&a2, &pb[0], 1, 0, 0, false, tok[4]);
	offer_ok(&a2, &pb[1], 1, 0, 1, false, tok[5]);
	offer_fails(&a2, &pb[2], 1, 0, 0, false, 0, ST(EDQUOT), 1);	/* the uid's 6 */
	offer_fails(&a2, NULL, 0, 0, 0, false, 1, ST(EDQUOT), BAD_ANY);
	expect_pool(&a, MAX_OFFERS_UID, MAX_OFFERS_UID, 1);
	expect_me(&a, 16, 4, 0, 4);
	expect_me(&a2, 16, 6, 0, 2);

	/* A take closes one of A's: room for the uid (used by A2), and A,
	 * at 3 of its 4, is then held back by the uid's limit. */
	take_ok(&b, tok[0], &pa[0], 1, 0, false, a.client_id);
	offer_ok(&a2, &pb[2], 1, 0, 0, false, tok[6]);
	offer_fails(&a2, &pb[3], 1, 0, 0, false, 0, ST(EDQUOT), 1);
	offer_fails(&a, &pa[4], 1, 0, 0, false, 0, ST(EDQUOT), 1);
	/* A cancel makes room too. */
	cancel_ok(&a, tok[1], 1, 0, 0);
	offer_ok(&a, &pa[4], 1, 0, 0, false, tok[7]);
	offer_fails(&a2, &pb[3], 1, 0, 0, false, 0, ST(EDQUOT), 1);
	verify_ok(f);
	/* Death closes offers for the uid: A2's go, A may fill its 4. */
	leave(&a2);
	settle(&b, 8, 3);
	offer_ok(&a, &pa[5], 1, 0, 0, false, tok[1]);
	offer_fails(&a, &pa[6], 1, 0, 0, false, 0, ST(EDQUOT), 1);
	take_fails(&b, tok[4], TOK, ST(EOWNERDEAD));
	leave(&a);
	settle(&b, 1, 0);
	free_ok(&b, &pa[0], 1, 1);
	verify_ok(f);

	/* quota_pages = 16 in pool "quota". */
	join(f, &q1, "quota", 0);
	join(f, &q2, "quota", 0);
	join(f, &q3, "quota", 0);
	alloc_ok(&q1, 0, 8, mine);
	offer_ok(&q1, mine, 8, 0, 0, false, qt);
	/* Under offer, still q1's charge: 8 more fit, 9 do not. */
	alloc_fails(&q1, 0, 9, ST(EDQUOT));
	alloc_ok(&q1, 0, 8, mine + 8);
	alloc_fails(&q1, 0, 1, ST(EDQUOT));
	free_ok(&q1, mine + 8, 8, 8);
	offer_fails(&q1, NULL, 0, 0, 0, false, 9, ST(EDQUOT), 0);	/* nor a loan */
	/* A taker holding 12: 12 + 8 > 16. */
	alloc_ok(&q2, 0, 12, theirs);
	take_fails(&q2, qt, TOK, ST(EDQUOT));
	take_fails(&q2, qt, TOK, ST(EDQUOT));
	expect_me(&q2, 20, 12, 0, 0);
	expect_pool(&q2, 1, 8, 0);
	/* The offer stays, for a taker with room. */
	take_ok(&q3, qt, mine, 8, 0, false, q1.client_id);
	expect_me(&q3, 20, 8, 0, 0);
	expect_me(&q1, 20, 0, 0, 0);
	/* q1 is charged nothing now (12 fit its 16), and the uid 8 + 12 + 12. */
	alloc_ok(&q1, 0, 12, mine + 8);
	alloc_fails(&q1, 0, 1, ST(EDQUOT));		/* the uid's 32 */
	free_ok(&q1, mine + 8, 12, 12);
	free_ok(&q3, mine, 8, 8);
	free_ok(&q2, theirs, 12, 12);
	expect_me(&q2, 0, 0, 0, 0);
	verify_ok(f);
}

/* ---- offline -------------------------------------------------------------------- */

/* The holder with client id `id` in an AdminOffline: asserts its pages. */
static void expect_holder(const Pagepool__V1__AdminOffline *off, uint64_t id, uint64_t pages,
			  uint64_t shared)
{
	for (size_t i = 0; i < off->n_holders; i++) {
		const Pagepool__V1__Holder *h = off->holders[i];

		if (h->client_id != id)
			continue;
		if (h->pages != pages || h->shared_pages != shared)
			fail_msg("holder %llu: %llu pages, %llu shared; expected %llu, %llu",
				 (unsigned long long)id, (unsigned long long)h->pages,
				 (unsigned long long)h->shared_pages, (unsigned long long)pages,
				 (unsigned long long)shared);
		assert_int_equal(h->pid, getpid());
		assert_int_equal(h->uid, getuid());
		return;
	}
	fail_msg("client %llu is not among the %zu holders", (unsigned long long)id,
		 off->n_holders);
}

/*
 * Offline of pool "other" (one 1,024-page range) while B and C hold
 * references to a shared block and A has a block under a hand-off offer:
 * EBUSY, and every holder is named, A as the giver.
 */
static void test_offline_holders(void **state)
{
	struct bb *f = *state;
	uint32_t sh[1], ho[1];
	uint8_t tok[TOK], tok2[TOK];
	struct cl a, b, c;
	struct bb_conn *adm;
	bb_admin_response *r;

	bb_start(f, conf_share);
	join(f, &a, "other", 0);
	join(f, &b, "other", 0);
	join(f, &c, "other", 0);
	adm = bb_admin_open(f);
	alloc_ok(&a, 2, 1, sh);
	offer_ok(&a, sh, 1, 2, 2, false, tok);
	take_ok(&b, tok, sh, 1, 2, true, a.client_id);
	take_ok(&c, tok, sh, 1, 2, true, a.client_id);
	alloc_ok(&a, 0, 1, ho);
	offer_ok(&a, ho, 1, 0, 0, false, tok2);
	expect_me(&a, 5, 0, 0, 1);

	r = bb_admin_range(adm, true, "other", 0, POOL_PAGES);
	if (r->status != ST(EBUSY))
		print_error("offline: %s \"%s\"\n", bb_status_name(r->status), r->error);
	assert_int_equal(r->status, ST(EBUSY));
	assert_int_equal(r->body_case, ADR(OFFLINE));
	print_message("offline: \"%s\"\n", r->error);
	assert_int_equal(r->offline->busy_pages, 5);
	assert_int_equal(r->offline->n_holders, 3);
	expect_holder(r->offline, b.client_id, 4, 4);
	expect_holder(r->offline, c.client_id, 4, 4);
	expect_holder(r->offline, a.client_id, 1, 1);
	bb_admin_free(r);
	r = bb_admin_range(adm, false, "other", 0, POOL_PAGES);
	assert_int_equal(r->status, ST(OK));
	bb_admin_free(r);
	bb_admin_verify(adm, NPOOLS);

	/* Let go of everything: the range goes offline, and comes back. */
	free_ok(&b, sh, 1, 4);
	free_ok(&c, sh, 1, 4);
	cancel_ok(&a, tok2, 1, 0, 0);
	free_ok(&a, ho, 1, 1);
	expect_me(&a, 0, 0, 0, 0);
	expect_pool(&a, 0, 0, 0);
	r = bb_admin_range(adm, true, "other", 0, POOL_PAGES);
	assert_int_equal(r->status, ST(OK));
	bb_admin_free(r);
	assert_int_equal(stat_of(&a).free + stat_of(&a).pcp, 0);
	r = bb_admin_range(adm, false, "other", 0, POOL_PAGES);
	assert_int_equal(r->status, ST(OK));
	bb_admin_free(r);
	bb_admin_verify(adm, NPOOLS);
	bb_conn_close(adm);
}

/* ---- old clients -------------------------------------------------------------- */

/*
 * A client that asks for no features and sends none of the new messages
 * is served as before, while others hand pages off around it: alloc
 * answers are plain lists, free and stat work, its pages are its own.
 */
static void test_old_clients(void **state)
{
	struct bb *f = *state;
	uint32_t mine[8], libp[8], blk[4];
	uint8_t tok[TOK];
	struct pp_client *lib;
	struct pp_stat ps;
	struct cl o, a, b;
	struct bb_req q;
	bb_response *r;
	unsigned got;

	bb_start(f, conf_share);
	join(f, &o, NULL, 0);
	r = bb_rpc(o.c, bb_req_alloc(&q, o.id++, 0, 8, 0));
	bb_assert_status(r, ST(OK));
	assert_int_equal(r->pages->n_pfns, 8);
	assert_int_equal(r->pages->n_runs, 0);
	memcpy(mine, r->pages->pfns, sizeof(mine));
	bb_resp_free(r);
	expect_me(&o, 8, 8, 0, 0);
	expect_pool(&o, 0, 0, 0);

	/* Others hand off and share around it. */
	join(f, &a, NULL, 0);
	join(f, &b, NULL, 0);
	alloc_ok(&a, 0, 4, blk);
	offer_ok(&a, blk, 2, 0, 0, false, tok);
	take_ok(&b, tok, blk, 2, 0, false, a.client_id);
	offer_ok(&a, blk + 2, 2, 0, 2, false, tok);
	take_ok(&b, tok, blk + 2, 2, 0, true, a.client_id);
	expect_me(&o, 12, 8, 0, 0);
	free_fails(&o, blk, 1, ST(EPERM), 0);
	free_fails(&o, blk + 2, 1, ST(EPERM), 0);

	/* A libpagepool client that asks for nothing new, meanwhile. */
	lib = bb_client(f, NULL);
	bb_assert_rc(lib, pp_alloc(lib, 0, 8, 0, libp, &got), 0);
	assert_int_equal(got, 8);
	ps = bb_stat(lib);
	assert_int_equal(ps.held, 8);
	assert_int_equal(ps.allocated, 20);
	bb_assert_rc(lib, pp_free(lib, libp, 8, NULL), 0);
	bb_client_close(f, lib);

	free_ok(&o, mine, 8, 8);
	expect_me(&o, 4, 0, 0, 0);
	verify_ok(f);
}

/* ---- malformed offers ---------------------------------------------------------- */

/*
 * Offers the daemon must refuse before looking at a block: count with
 * pfns or runs, nothing to offer, keep without shares, an order above 10,
 * more than max_count pfns, runs without FEATURE_RUNS (EPROTO), bad runs.
 */
static void test_malformed_offers(void **state)
{
	struct bb *f = *state;
	static uint32_t many[MAX_BLOCKS + 1];
	uint32_t mine[2], runs[3];
	uint8_t tok[TOK];
	struct cl a, r;
	struct sreq s;

	bb_start(f, conf_share);
	join(f, &a, NULL, 0);
	join(f, &r, NULL, F_RUNS);
	alloc_ok(&a, 0, 2, mine);

	/* Count (a loan) and pfns together; neither. */
	offer_fails(&a, mine, 2, 0, 0, false, 3, ST(EINVAL), 2);
	offer_fails(&a, NULL, 0, 0, 0, false, 0, ST(EINVAL), 0);
	offer_fails(&a, NULL, 0, 0, 2, true, 0, ST(EINVAL), 0);
	/* Order above max_order: with pfns, as a loan. */
	offer_fails(&a, mine, 2, 11, 0, false, 0, ST(EINVAL), 2);
	offer_fails(&a, NULL, 0, 11, 0, false, 1, ST(EINVAL), 0);
	offer_fails(&a, NULL, 0, UINT32_MAX, 0, false, 1, ST(EINVAL), 0);
	/* More pfns than max_count. */
	offer_fails(&a, many, MAX_BLOCKS + 1, 0, 0, false, 0, ST(E2BIG), MAX_BLOCKS + 1);

	/* Runs without FEATURE_RUNS: EPROTO, on a connection that goes on. */
	runs[0] = mine[0];
	runs[1] = 1;
	req_offer(&s, 0, NULL, 0, 0, 0, false, 0);
	s.offer.runs = runs;
	s.offer.n_runs = 2;
	offer_req_fails(&a, &s, ST(EPROTO), 0);
	req_offer(&s, 0, mine, 1, 0, 0, false, 0);
	s.offer.runs = runs;
	s.offer.n_runs = 2;
	offer_req_fails(&a, &s, ST(EPROTO), 1);
	/* With the feature: runs and count together, an odd run list, a run
	 * of no blocks. */
	req_offer(&s, 0, NULL, 0, 0, 0, false, 4);
	s.offer.runs = runs;
	s.offer.n_runs = 2;
	offer_req_fails(&r, &s, ST(EINVAL), 0);
	runs[2] = 7;
	req_offer(&s, 0, NULL, 0, 0, 0, false, 0);
	s.offer.runs = runs;
	s.offer.n_runs = 3;
	offer_req_fails(&r, &s, ST(EINVAL), 0);
	runs[1] = 0;
	req_offer(&s, 0, NULL, 0, 0, 0, false, 0);
	s.offer.runs = runs;
	s.offer.n_runs = 2;
	offer_req_fails(&r, &s, ST(EINVAL), 0);

	/* Both connections still serve: a good offer goes through. */
	offer_ok(&a, mine, 2, 0, 0, false, tok);
	cancel_ok(&a, tok, 2, 0, 0);
	free_ok(&a, mine, 2, 2);
	expect_me(&a, 0, 0, 0, 0);
	expect_pool(&r, 0, 0, 0);
	verify_ok(f);
}
int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_handoff),
		bb_test(test_loan),
		bb_test(test_cancel),
		bb_test(test_giver_dies),
		bb_test(test_take_races_death),
		bb_test(test_tombstones),
		bb_test(test_bad_tokens),
		bb_test(test_offer_not_held),
		bb_test(test_shared_two_takers),
		bb_test(test_shared_keep),
		bb_test(test_shared_giver_free_busy),
		bb_test(test_shared_giver_dies),
		bb_test(test_limits),
		bb_test(test_offline_holders),
		bb_test(test_old_clients),
		bb_test(test_malformed_offers),
	};

	return cmocka_run_group_tests_name("blackbox hand-off and shared pages", tests, NULL,
					   NULL);
}
