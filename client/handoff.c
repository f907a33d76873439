/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * handoff.c - buffers that change hands: pp_offer, pp_loan, pp_take,
 * pp_cancel and the token's text form (see pagepool.h and pagepool.proto,
 * "Buffers that change hands").
 *
 * A token is 16 opaque bytes the daemon made; the library only carries
 * it.  An answer whose token is not exactly 16 bytes, or whose blocks
 * contradict the request (another count, pages outside the arena, runs the
 * client did not ask for), is a protocol error and breaks the client, as
 * for pp_alloc.  With FEATURE_RUNS granted, blocks go out as runs when
 * that is shorter (as pp_free sends them) and come back as runs expanded
 * here (as pp_alloc takes them).  A refusal keeps the client usable.
 *
 * The client cache's tags (ccache.c) follow the blocks: a block in the
 * cache cannot be offered or released (-EALREADY here, nothing sent);
 * offered or lent blocks are no longer known as c's; a hand-off taken
 * makes them c's, a shared take never does (its free is the daemon's).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "libpp.h"

#define OFFER_FLAGS	PP_OFFER_KEEP

/* 0, or -EINVAL (recorded as `fn`'s) for an offer's flags and shares the
 * library can judge without asking: unknown flags, keep on a hand-off. */
static int offer_flags_check(struct pp_client *c, const char *fn, unsigned shares,
			     unsigned flags)
{
	if (flags & ~OFFER_FLAGS)
		return libpp_fail(c, -EINVAL, "%s: unknown flags %#x", fn, flags & ~OFFER_FLAGS);
	if ((flags & PP_OFFER_KEEP) && shares == 0)
		return libpp_fail(c, -EINVAL, "%s: PP_OFFER_KEEP on a hand-off (shares 0)", fn);
	return 0;
}

/*
 * Check the Offered answer to an offer of n blocks of order (a loan when
 * loan_pfns is given: its blocks go there, room for n) and copy its token.
 * 0, or -EPROTO with the client broken.
 */
static int offered_take(struct pp_client *c, const Pagepool__V1__Offered *o, unsigned order,
			unsigned n, uint32_t *loan_pfns, struct pp_token *token)
{
	const char *what = loan_pfns ? "loan" : "offer";
	uint64_t total;
	size_t got;
	int err;

	if (o->token.len != PP_TOKEN_SIZE || !o->token.data)
		return libpp_fail_break(c, -EPROTO, "%s answered with a token of %zu bytes, "
					"not %d", what, o->token.len, PP_TOKEN_SIZE);
	if (o->pages != (uint64_t)n << order)
		return libpp_fail_break(c, -EPROTO, "%s of %u order-%u blocks answered with "
					"%llu pages", what, n, order,
					(unsigned long long)o->pages);
	if (loan_pfns) {
		err = libpp_blocks_count(c, what, o->n_pfns, o->runs, o->n_runs, &total);
		if (err)
			return err;
		if (total != n)
			return libpp_fail_break(c, -EPROTO, "loan of %u order-%u blocks answered "
						"with %llu", n, order, (unsigned long long)total);
		err = libpp_blocks_expand(c, what, o->pfns, o->n_pfns, o->runs, o->n_runs, order,
					  loan_pfns, &got);
		if (err)
			return err;
	}
	memcpy(token->b, o->token.data, PP_TOKEN_SIZE);
	return 0;
}

/* Send `of` (an offer of n blocks, or a loan when loan_pfns is given) and
 * take its answer: pp_offer's and pp_loan's common half. */
static int offer_send(struct pp_client *c, Pagepool__V1__Offer *of, unsigned n,
		      uint32_t *loan_pfns, struct pp_token *token)
{
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	int err;

	req.body_case = PAGEPOOL__V1__REQUEST__BODY_OFFER;
	req.offer = of;
	err = libpp_call(c, &req, &resp, NULL);
	/* Refused for the quota, which the cache's pages count in: nothing
	 * changed, so ask again without them. */
	if (err == -EDQUOT && libpp_cache_give_back(c))
		err = libpp_call(c, &req, &resp, NULL);
	if (!err)
		err = libpp_expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_OFFERED);
	if (err)
		return err;
	err = offered_take(c, resp->offered, of->order, n, loan_pfns, token);
	wire_response_free(resp);
	return err;
}

/*
 * *bad_index is always written when given: the index of the block the
 * daemon blamed, or n when the failure is not about one block (the daemon
 * then says n itself: proto3 cannot tell "index 0" from "no index").
 */
PP_EXPORT int pp_offer(struct pp_client *c, unsigned order, const uint32_t *pfns, unsigned n,
		       unsigned shares, unsigned flags, struct pp_token *token,
		       unsigned *bad_index)
{
	Pagepool__V1__Offer of = PAGEPOOL__V1__OFFER__INIT;
	uint32_t runs[LIBPP_RUNS_MAX];
	size_t nruns = 0;
	int err;

	if (bad_index)
		*bad_index = n;
	if (!c)
		return -EINVAL;
	if (!pfns || n == 0 || !token)
		return libpp_fail(c, -EINVAL, "pp_offer: %s", !pfns ? "pfns is NULL" :
				  n == 0 ? "n is 0" : "token is NULL");
	err = offer_flags_check(c, "pp_offer", shares, flags);
	if (err)
		return err;
	if (order > c->info.max_order)
		return libpp_fail(c, -EINVAL, "pp_offer: order %u above max_order %u", order,
				  c->info.max_order);
	if (n > c->info.max_count)
		return libpp_fail(c, -E2BIG, "pp_offer: %u blocks, max_count %u", n,
				  c->info.max_count);
	of.order = order;
	of.shares = shares;
	of.keep = (flags & PP_OFFER_KEEP) != 0;
	if ((c->features & PAGEPOOL__V1__FEATURE__FEATURE_RUNS) &&
	    libpp_runs_pack(pfns, n, order, runs, &nruns)) {
		of.runs = runs;
		of.n_runs = nruns;
	} else {
		of.n_pfns = n;
		of.pfns = (uint32_t *)pfns;	/* only read by the packer */
	}
	err = libpp_cache_check(c, "pp_offer", pfns, n, bad_index);
	if (err)
		return err;
	err = offer_send(c, &of, n, NULL, token);
	if (!err || c->t.broken)
		libpp_cache_untag(c, pfns, n);
	if (err && bad_index && c->bad_index < n &&
	    (err == -EINVAL || err == -EPERM || err == -EALREADY || err == -EBUSY))
		*bad_index = c->bad_index;
	return err;
}

PP_EXPORT int pp_loan(struct pp_client *c, unsigned order, unsigned count, unsigned shares,
		      unsigned flags, uint32_t *pfns, struct pp_token *token)
{
	Pagepool__V1__Offer of = PAGEPOOL__V1__OFFER__INIT;
	int err;

	if (!c)
		return -EINVAL;
	if (!pfns || count == 0 || !token)
		return libpp_fail(c, -EINVAL, "pp_loan: %s", !pfns ? "pfns is NULL" :
				  count == 0 ? "count 0" : "token is NULL");
	err = offer_flags_check(c, "pp_loan", shares, flags);
	if (err)
		return err;
	if (order > c->info.max_order)
		return libpp_fail(c, -EINVAL, "pp_loan: order %u above max_order %u", order,
				  c->info.max_order);
	if (count > c->info.max_count)
		return libpp_fail(c, -E2BIG, "pp_loan: count %u above max_count %u", count,
				  c->info.max_count);
	of.order = order;
	of.shares = shares;
	of.keep = (flags & PP_OFFER_KEEP) != 0;
	of.count = count;
	err = offer_send(c, &of, count, pfns, token);
	if (!err)
		libpp_cache_tag(c, pfns, count, order, false);
	return err;
}

/*
 * The blocks of a Taken answer into pfns[] (room for max).  More than
 * max_count blocks, none, or an order above max_order contradict the
 * welcome: -EPROTO, client broken.  More than max but no more than
 * max_count: -ENOBUFS, and the client stays usable - the blocks are taken
 * (the daemon cannot know the caller's room) and held until pp_close.
 */
static int taken_take(struct pp_client *c, const Pagepool__V1__Taken *t, uint32_t *pfns,
		      unsigned max, size_t *n)
{
	uint64_t total;
	int err;

	err = libpp_blocks_count(c, "take", t->n_pfns, t->runs, t->n_runs, &total);
	if (err)
		return err;
	if (total == 0 || total > c->info.max_count || t->order > c->info.max_order)
		return libpp_fail_break(c, -EPROTO, "take answered with %llu blocks of order %u "
					"(max_count %u, max_order %u)",
					(unsigned long long)total, t->order,
					c->info.max_count, c->info.max_order);
	if (total > max)
		return libpp_fail(c, -ENOBUFS, "pp_take: %llu blocks taken, room for %u: they "
				  "stay held until pp_close (pass max >= max_count)",
				  (unsigned long long)total, max);
	return libpp_blocks_expand(c, "take", t->pfns, t->n_pfns, t->runs, t->n_runs,
				   t->order, pfns, n);
}

PP_EXPORT int pp_take_release(struct pp_client *c, const struct pp_token *token,
			      const uint32_t *release, unsigned nrelease, unsigned *bad_index,
			      uint32_t *pfns, unsigned max, unsigned *n, unsigned *order,
			      unsigned *flags)
{
	Pagepool__V1__Take take = PAGEPOOL__V1__TAKE__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	size_t got = 0;
	int err;

	if (n)
		*n = 0;
	if (order)
		*order = 0;
	if (flags)
		*flags = 0;
	if (bad_index)
		*bad_index = nrelease;
	if (!c)
		return -EINVAL;
	if (!token || !pfns || max == 0 || (nrelease && !release))
		return libpp_fail(c, -EINVAL, "pp_take: %s", !token ? "token is NULL" :
				  !pfns ? "pfns is NULL" : max == 0 ? "max is 0" :
				  "release is NULL");
	if (nrelease > c->info.max_count)
		return libpp_fail(c, -E2BIG, "pp_take: release of %u blocks, max_count %u",
				  nrelease, c->info.max_count);
	err = libpp_cache_check(c, "pp_take_release", release, nrelease, bad_index);
	if (err)
		return err;
	take.token.len = PP_TOKEN_SIZE;
	take.token.data = (uint8_t *)token->b;	/* only read by the packer */
	take.n_release = nrelease;
	take.release = (uint32_t *)release;	/* only read by the packer */
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_TAKE;
	req.take = &take;
	err = libpp_call(c, &req, &resp, NULL);
	if (err == -EDQUOT && libpp_cache_give_back(c)) {
		/* The take was refused for the quota, the release (if any) went
		 * through: take again, without the cache's pages and the release. */
		libpp_cache_untag(c, release, nrelease);
		take.n_release = 0;
		nrelease = 0;
		err = libpp_call(c, &req, &resp, NULL);
	}
	if (!err)
		err = libpp_expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_TAKEN);
	if (err) {
		/* A refused release names its block; anything else: the
		 * release (if any) went through. */
		if (c->bad_index < nrelease &&
		    (err == -EINVAL || err == -EPERM || err == -EALREADY || err == -EBUSY)) {
			if (bad_index)
				*bad_index = c->bad_index;
			if (!c->t.broken)
				return err;
		}
		libpp_cache_untag(c, release, nrelease);
		return err;
	}
	libpp_cache_untag(c, release, nrelease);
	err = taken_take(c, resp->taken, pfns, max, &got);
	if (!err) {
		libpp_cache_tag(c, pfns, got, resp->taken->order, !resp->taken->shared);
		if (n)
			*n = (unsigned)got;
		if (order)
			*order = resp->taken->order;
		if (flags)
			*flags = resp->taken->shared ? PP_TAKEN_SHARED : 0;
	}
	wire_response_free(resp);
	return err;
}

PP_EXPORT int pp_take(struct pp_client *c, const struct pp_token *token, uint32_t *pfns,
		      unsigned max, unsigned *n, unsigned *order, unsigned *flags)
{
	return pp_take_release(c, token, NULL, 0, NULL, pfns, max, n, order, flags);
}

PP_EXPORT int pp_cancel(struct pp_client *c, const struct pp_token *token, uint64_t *returned)
{
	Pagepool__V1__Cancel cancel = PAGEPOOL__V1__CANCEL__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	uint64_t back;
	int err;

	if (returned)
		*returned = 0;
	if (!c)
		return -EINVAL;
	if (!token)
		return libpp_fail(c, -EINVAL, "pp_cancel: token is NULL");
	cancel.token.len = PP_TOKEN_SIZE;
	cancel.token.data = (uint8_t *)token->b;	/* only read by the packer */
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_CANCEL;
	req.cancel = &cancel;
	err = libpp_call(c, &req, &resp, NULL);
	if (!err)
		err = libpp_expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_CANCELLED);
	if (err)
		return err;
	back = resp->cancelled->returned;
	wire_response_free(resp);
	/* Pages coming back cannot outnumber the arena's; the max_count bound
	 * of the offer is in blocks, whose order the answer does not say. */
	if (back > c->npages)
		return libpp_fail_break(c, -EPROTO, "cancel answered %llu pages returned, "
					"the arena has %llu", (unsigned long long)back,
					(unsigned long long)c->npages);
	if (returned)
		*returned = back;
	return 0;
}

PP_EXPORT void pp_token_format(const struct pp_token *t, char *buf)
{
	static const char hex[] = "0123456789abcdef";

	if (!buf)
		return;
	if (!t) {
		buf[0] = '\0';
		return;
	}
	for (unsigned i = 0; i < PP_TOKEN_SIZE; i++) {
		buf[2 * i] = hex[t->b[i] >> 4];
		buf[2 * i + 1] = hex[t->b[i] & 0xf];
	}
	buf[2 * PP_TOKEN_SIZE] = '\0';
}

/* A hex digit's value, or -1. */
static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Upper-case digits are accepted too; *t is written only on success. */
PP_EXPORT int pp_token_parse(const char *s, struct pp_token *t)
{
	struct pp_token tok;

	if (!s || !t)
		return -EINVAL;
	for (unsigned i = 0; i < PP_TOKEN_SIZE; i++) {
		int hi = hex_value(s[2 * i]), lo = hi < 0 ? -1 : hex_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		tok.b[i] = (uint8_t)(hi << 4 | lo);
	}
	if (s[2 * PP_TOKEN_SIZE] != '\0')
		return -EINVAL;
	*t = tok;
	return 0;
}
