/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn_share.c - the requests that move blocks between clients: offer (and
 * its loan form), take, cancel.  The share table (share.c) does the work;
 * this checks what the client sent, charges quotas and words the answers.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "conn.h"
#include "conn_req.h"
#include "log.h"
#include "worker.h"

/* A token from the wire: exactly 16 bytes.  0 or -EINVAL answered. */
static int conn_token(const ProtobufCBinaryData *b, uint64_t tok[2], struct conn_reply *rp)
{
	if (b->len != SHARE_TOKEN_SIZE) {
		conn_req_err(rp, EINVAL, "token of %zu bytes (%d expected)", b->len,
			     SHARE_TOKEN_SIZE);
		return -EINVAL;
	}
	memcpy(tok, b->data, SHARE_TOKEN_SIZE);
	return 0;
}

/* 16 bytes from getrandom(2), taken from the worker's stock (refilled by
 * one call when empty; never blocks once the kernel's pool is initialised,
 * which it is long before a client can connect).  A byte is used once and
 * then wiped. */
static int conn_new_token(struct conn *c, uint64_t tok[2], struct conn_reply *rp)
{
	struct worker *w = c->w;
	ssize_t r;

	if (w->tokens_left < SHARE_TOKEN_SIZE) {
		do
			r = getrandom(w->tokens, sizeof(w->tokens), 0);
		while (r < 0 && errno == EINTR);
		if (r < SHARE_TOKEN_SIZE) {
			static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

			log_warn_rl(&rl, "getrandom for offer tokens failed");
			conn_req_err(rp, EAGAIN, "no random bytes for a token; try again");
			return -EAGAIN;
		}
		w->tokens_left = (unsigned)r;
	}
	w->tokens_left -= SHARE_TOKEN_SIZE;
	memcpy(tok, w->tokens + w->tokens_left, SHARE_TOKEN_SIZE);
	memset(w->tokens + w->tokens_left, 0, SHARE_TOKEN_SIZE);
	return 0;
}

static void conn_offer_err(struct conn *c, int ret, const uint32_t *pfns, unsigned n,
			   unsigned bad, struct conn_reply *rp)
{
	static const char *const why[] = {
		[EINVAL] = "out of range, not the first page of a block, of another order, "
			   "or listed twice",
		[EALREADY] = "not allocated",
		[EPERM] = "not this client's own (another client's, or shared)",
		[EBUSY] = "under an open offer already",
	};
	int e = -ret;

	if (bad < n) {
		conn_req_err(rp, e, "pfn %u (index %u): %s", pfns[bad], bad,
			     e < (int)ARRAY_SIZE(why) && why[e] ? why[e] : strerror(e));
		rp->r.bad_index = bad;
		return;
	}
	rp->r.bad_index = n;	/* not about one block */
	if (e == EDQUOT) {
		conn_req_err(rp, e, "offer limit: %u open offers of %u for this connection, "
			     "or the uid's %u (or the quota for keep's reference)",
			     READ_ONCE(c->owner.noffers), c->d->cfg.max_offers,
			     c->d->cfg.max_offers_per_uid);
	} else {
		conn_req_err(rp, e, "offer failed: %s", strerror(e));
	}
}

/* A loan: allocate a.count fresh blocks into the worker's scratch.  0 and
 * *got, or an answer (or park) in rp. */
static int conn_loan(struct conn *c, unsigned order, unsigned count, unsigned *got,
		     struct conn_reply *rp)
{
	Pagepool__V1__Alloc a = PAGEPOOL__V1__ALLOC__INIT;
	uint64_t want = (uint64_t)count << order;
	int ret;

	if (count > c->d->cfg.max_count) {
		conn_req_err(rp, E2BIG, "count %u above the limit %u", count, c->d->cfg.max_count);
		return -E2BIG;
	}
	if (READ_ONCE(c->owner.noffers) >= c->d->cfg.max_offers) {
		conn_req_err(rp, EDQUOT, "offer limit: %u open offers (max_offers)",
			     c->d->cfg.max_offers);
		return -EDQUOT;
	}
	if (conn_charge(c, want, rp) < 0)
		return -EDQUOT;
	a.order = order;
	a.count = count;
	ret = conn_alloc(c, &a, got);
	if (c->uq)
		daemon_quota_uncharge(c->uq, want - ((uint64_t)*got << order));
	if (ret < 0)
		conn_alloc_err(c, ret, count, order, rp);
	return ret;
}

/* An Offer without blocks (no pfns, no runs) is a loan of fresh ones. */
static bool offer_is_loan(const Pagepool__V1__Offer *of)
{
	return of->n_pfns == 0 && of->n_runs == 0;
}

/* The checks of an Offer that come before its blocks: 0 or an answer in rp. */
static int conn_offer_check(struct conn *c, const Pagepool__V1__Offer *of, bool loan,
			    struct conn_reply *rp)
{
	if (of->order > PP_MAX_ORDER) {
		conn_req_err(rp, EINVAL, "order %u above the maximum %u", of->order, PP_MAX_ORDER);
		return -EINVAL;
	}
	if (of->shares > c->d->cfg.max_offer_shares || (of->keep && !of->shares)) {
		conn_req_err(rp, EINVAL, "shares %u (at most %u), keep %d (needs shares)",
			     of->shares, c->d->cfg.max_offer_shares, of->keep);
		return -EINVAL;
	}
	if (loan != (of->count != 0)) {
		conn_req_err(rp, EINVAL, loan ? "nothing to offer (no pfns, runs or count)"
					      : "count (a loan) and pfns together");
		return -EINVAL;
	}
	if (of->n_pfns > c->d->cfg.max_count) {
		conn_req_err(rp, E2BIG, "%zu pfns above the limit %u", of->n_pfns,
			     c->d->cfg.max_count);
		return -E2BIG;
	}
	return 0;
}

static void conn_offer_answer(struct conn *c, const Pagepool__V1__Offer *of,
			      struct conn_reply *rp)
{
	Pagepool__V1__Offered *od = &rp->u.offered;
	bool loan = offer_is_loan(of);
	struct share_limits lim;
	const uint32_t *pfns;
	unsigned bad = 0, got = 0;
	uint64_t tok[2];
	size_t n;
	int ret;

	if (conn_offer_check(c, of, loan, rp) < 0 || conn_new_token(c, tok, rp) < 0)
		goto refused;
	conn_share_limits(c, &lim);
	if (loan) {
		if (conn_loan(c, of->order, of->count, &got, rp) < 0)
			goto refused;
		pfns = c->w->scratch;
		n = got;
	} else if (conn_block_list(c, of->pfns, of->n_pfns, of->runs, of->n_runs,
				   of->n_runs ? of->order : 0, &pfns, &n, rp) < 0) {
		goto refused;
	}
	ret = share_offer(c->pool, &c->owner, pfns, (unsigned)n, of->order, of->shares,
			  of->keep, loan, tok, &lim, &bad);
	if (ret < 0) {
		if (loan) {
			/* The fresh blocks go straight back. */
			pool_free(c->pool, c->pcp, &c->owner, pfns, (unsigned)n, -1, NULL);
			if (c->uq)
				daemon_quota_uncharge(c->uq, (uint64_t)n << of->order);
			n = 0;	/* the client never saw them: no index */
		}
		conn_offer_err(c, ret, pfns, (unsigned)n, bad, rp);
		return;
	}
	memcpy(rp->token, tok, sizeof(rp->token));
	pagepool__v1__offered__init(od);
	od->token.data = rp->token;
	od->token.len = sizeof(rp->token);
	od->pages = (uint64_t)n << of->order;
	if (loan) {
		od->pfns = (uint32_t *)pfns;
		od->n_pfns = n;
		if (conn_runs(c, pfns, n, of->order, &od->runs, &od->n_runs)) {
			od->pfns = NULL;
			od->n_pfns = 0;
		}
	}
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_OFFERED;
	rp->r.offered = od;
	return;
refused:
	rp->r.bad_index = (uint32_t)of->n_pfns;	/* not about one block */
}

void conn_offer(struct conn *c, const Pagepool__V1__Offer *of, struct conn_reply *rp)
{
	conn_offer_answer(c, of, rp);
	/* A loan is an allocation too, and counted as one. */
	if (offer_is_loan(of))
		conn_count_alloc(c, of->order, rp);
}

/* Word a refused take. */
static void conn_take_err(struct conn *c, int ret, const struct share_limits *lim,
			  struct conn_reply *rp)
{
	switch (ret) {
	case -ENOENT:
		conn_req_err(rp, ENOENT, "no such offer in pool %s", c->pool->name);
		break;
	case -EALREADY:
		conn_req_err(rp, EALREADY, "offer already taken (by every taker it allows, "
			     "or once by this client)");
		break;
	case -ECANCELED:
		conn_req_err(rp, ECANCELED, "offer cancelled by its giver");
		break;
	case -EOWNERDEAD:
		conn_req_err(rp, EOWNERDEAD, "the offer's giver disconnected: its pages went "
			     "back to the pool");
		break;
	case -EINVAL:
		conn_req_err(rp, EINVAL, "this client's own offer (cancel it instead)");
		break;
	case -EDQUOT:
		conn_req_err(rp, EDQUOT, "quota: this client holds %lu pages (quota %lu, uid "
			     "quota %lu)", (unsigned long)share_charged(&c->owner),
			     (unsigned long)lim->quota, (unsigned long)lim->uid_quota);
		break;
	default:
		conn_req_err(rp, -ret, "take failed: %s", strerror(-ret));
	}
}

void conn_take(struct conn *c, const Pagepool__V1__Take *t, struct conn_reply *rp)
{
	Pagepool__V1__Taken *tk = &rp->u.taken;
	struct share_limits lim;
	unsigned n = 0, order = 0;
	bool shared = false;
	uint64_t tok[2], giver = 0, released = 0;
	int ret;

	if (conn_token(&t->token, tok, rp) < 0)
		goto refused;
	if (t->n_release > c->d->cfg.max_count) {
		conn_req_err(rp, E2BIG, "release of %zu blocks above the limit %u", t->n_release,
			     c->d->cfg.max_count);
		goto refused;
	}
	/* The consumer's previous batch first; refused, nothing is taken (the
	 * answer's bad_index names the block). */
	if (t->n_release &&
	    conn_free_blocks(c, t->release, t->n_release, "release: ", &released, rp) < 0)
		return;
	conn_share_limits(c, &lim);
	ret = share_take(c->pool, &c->owner, tok, c->w->scratch, c->d->cfg.max_count, &n, &order,
			 &shared, &giver, &lim);
	if (ret < 0) {
		conn_take_err(c, ret, &lim, rp);
		goto refused;
	}
	pagepool__v1__taken__init(tk);
	tk->pfns = c->w->scratch;
	tk->n_pfns = n;
	tk->order = order;
	tk->shared = shared;
	tk->giver = giver;
	tk->released = released;
	if (conn_runs(c, tk->pfns, n, order, &tk->runs, &tk->n_runs)) {
		tk->pfns = NULL;
		tk->n_pfns = 0;
	}
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_TAKEN;
	rp->r.taken = tk;
	return;
refused:
	rp->r.bad_index = (uint32_t)t->n_release;	/* not about a released block */
}

void conn_cancel(struct conn *c, const Pagepool__V1__Cancel *cl, struct conn_reply *rp)
{
	Pagepool__V1__Cancelled *cd = &rp->u.cancelled;
	uint64_t tok[2], returned, released;
	uint32_t takers;

	if (conn_token(&cl->token, tok, rp) < 0)
		return;
	if (share_cancel(c->pool, c->pcp, &c->owner, tok, &returned, &released, &takers) < 0) {
		conn_req_err(rp, ENOENT, "no open offer of this connection with that token");
		return;
	}
	pagepool__v1__cancelled__init(cd);
	cd->returned = returned;
	cd->released = released;
	cd->takers = takers;
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_CANCELLED;
	rp->r.cancelled = cd;
}
