/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress-client.c - a client process of the stress test: random allocs and
 * frees through libpagepool, every page stamped and checked, the daemon's
 * count of held pages compared with its own, frees with a pfn it does not
 * hold that must be refused whole.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"

#define MAX_ORDER		10
#define STAMP_BYTES		16
#define NO_PFN			UINT32_MAX

struct stamp {
	uint32_t cid;
	uint32_t pfn;
	uint64_t seq;
};
_Static_assert(sizeof(struct stamp) == STAMP_BYTES, "stamp size");

struct blk {
	uint32_t pfn;
	uint32_t order;
	uint64_t seq;
};

struct client {
	struct run *r;
	struct shared *sh;
	unsigned slot;
	uint32_t cid;
	unsigned pool;
	struct pp_client *pc;
	uint64_t rng;
	uint32_t page_size;
	uint64_t npages;
	uint32_t max_count;
	uint64_t budget;	/* most pages held at once */
	uint64_t held;		/* pages held now */
	struct blk *blk;
	unsigned nblk, maxblk;
	uint64_t *map;		/* one bit per arena page: held by this client */
	uint64_t seq;
	uint64_t nops;
	uint32_t probe_pfn;	/* freed by this client earlier (NO_PFN: none yet) */
	uint32_t pfns[65536 + 1];
};

/* Leave after a failure that makes going on pointless. */
static void __attribute__((noreturn)) client_die(struct client *c)
{
	_exit(EXIT_FAILED);
}

static bool map_test(const struct client *c, uint32_t pfn)
{
	return c->map[pfn / 64] >> (pfn % 64) & 1;
}

static void map_set(struct client *c, uint32_t pfn, unsigned order, bool on)
{
	for (uint32_t p = pfn; p < pfn + (1u << order); p++) {
		if (on)
			c->map[p / 64] |= 1ull << (p % 64);
		else
			c->map[p / 64] &= ~(1ull << (p % 64));
	}
}

/* 70% order 0..1, a long tail up to 10. */
static unsigned pick_order(uint64_t *rng)
{
	static const unsigned cumul[MAX_ORDER + 1] = { 45, 60, 70, 78, 84, 89, 92, 94, 96, 98, 100 };
	unsigned x = rng_below(rng, 100), o = 0;

	while (o < MAX_ORDER && x >= cumul[o])
		o++;
	return o;
}

static void stamp_write(const struct client *c, const struct blk *b)
{
	for (uint32_t i = 0; i < (1u << b->order); i++) {
		uint8_t *p = pp_page(c->pc, b->pfn + i);
		struct stamp st = { .cid = c->cid, .pfn = b->pfn + i, .seq = b->seq };

		if (b->order <= 1) {
			for (uint32_t off = 0; off < c->page_size; off += STAMP_BYTES)
				memcpy(p + off, &st, STAMP_BYTES);
		} else {
			memcpy(p, &st, STAMP_BYTES);
			memcpy(p + c->page_size - STAMP_BYTES, &st, STAMP_BYTES);
		}
	}
}

/* Compare one stamp slot; on a mismatch record it (the first per block). */
static bool stamp_ok(struct client *c, const struct blk *b, uint32_t pfn, uint32_t off,
		     bool *reported)
{
	const uint8_t *p = (const uint8_t *)pp_page(c->pc, pfn) + off;
	struct stamp want = { .cid = c->cid, .pfn = pfn, .seq = b->seq }, got;

	if (memcmp(p, &want, STAMP_BYTES) == 0)
		return true;
	if (!*reported) {
		memcpy(&got, p, STAMP_BYTES);
		shared_fail(c->sh, "bad stamp: client %u (pid %d, pool %s) holds block %u order %u "
			    "(seq %" PRIu64 "); page %u offset %u reads client %u pfn %u seq %" PRIu64,
			    c->cid, (int)getpid(), pool_defs[c->pool].name, b->pfn, b->order, b->seq,
			    pfn, off, got.cid, got.pfn, got.seq);
		*reported = true;
	}
	return false;
}

/* Check every stamp of block b; counts bad pages. */
static void stamp_check(struct client *c, const struct blk *b)
{
	bool reported = false;
	uint64_t bad = 0;

	for (uint32_t i = 0; i < (1u << b->order); i++) {
		uint32_t pfn = b->pfn + i;
		bool ok = true;

		if (b->order <= 1) {
			for (uint32_t off = 0; off < c->page_size; off += STAMP_BYTES)
				ok = stamp_ok(c, b, pfn, off, &reported) && ok;
		} else {
			ok = stamp_ok(c, b, pfn, 0, &reported);
			ok = stamp_ok(c, b, pfn, c->page_size - STAMP_BYTES, &reported) && ok;
		}
		bad += !ok;
	}
	ctr_add(c->sh, CTR_stamp_checks, 1);
	if (bad)
		ctr_add(c->sh, CTR_bad_stamps, bad);
}

static bool bytes_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* A ZERO block: whole pages for small blocks and the first page, the stamp
 * slots of the others. */
static void zero_check(struct client *c, uint32_t pfn, unsigned order)
{
	for (uint32_t i = 0; i < (1u << order); i++) {
		const uint8_t *p = pp_page(c->pc, pfn + i);
		bool ok = order <= 1 || i == 0
			  ? bytes_zero(p, c->page_size)
			  : bytes_zero(p, STAMP_BYTES) &&
			    bytes_zero(p + c->page_size - STAMP_BYTES, STAMP_BYTES);

		if (!ok) {
			ctr_add(c->sh, CTR_bad_zero, 1);
			shared_fail(c->sh, "client %u: block %u order %u allocated with ZERO, page %u "
				    "is not zero", c->cid, pfn, order, pfn + i);
			return;
		}
	}
	ctr_add(c->sh, CTR_zero_allocs, 1);
}

/* Is [pfn, pfn + 2^order) inside the range the fault process has offline? */
static bool in_offline_range(const struct client *c, uint32_t pfn, unsigned order)
{
	uint64_t v = __atomic_load_n(&c->sh->offrange[c->pool], __ATOMIC_ACQUIRE);
	uint64_t start = ((v >> 8) & 0xffffff) * BLOCK_PAGES, count = (v >> 32) * BLOCK_PAGES;

	if ((v & 0xff) != OFF_OFFLINE)
		return false;
	return pfn < start + count && pfn + (1u << order) > start;
}

/* Take a new block: validate it, check ZERO, stamp it, remember it. */
static void client_take(struct client *c, uint32_t pfn, unsigned order, unsigned flags)
{
	struct blk *b;

	if (pfn % (1u << order) || (uint64_t)pfn + (1u << order) > c->npages) {
		ctr_add(c->sh, CTR_bad_blocks, 1);
		shared_fail(c->sh, "client %u: got block %u of order %u: misaligned or outside the "
			    "arena of %" PRIu64 " pages", c->cid, pfn, order, c->npages);
		client_die(c);
	}
	for (uint32_t p = pfn; p < pfn + (1u << order); p++) {
		if (map_test(c, p)) {
			ctr_add(c->sh, CTR_bad_blocks, 1);
			shared_fail(c->sh, "client %u: got block %u order %u, but page %u is in a "
				    "block it already holds", c->cid, pfn, order, p);
			client_die(c);
		}
	}
	if (in_offline_range(c, pfn, order)) {
		ctr_add(c->sh, CTR_offline_handouts, 1);
		shared_fail(c->sh, "client %u: got block %u order %u inside the offline range of "
			    "pool %s", c->cid, pfn, order, pool_defs[c->pool].name);
	}
	if (flags & PP_ZERO)
		zero_check(c, pfn, order);
	if (c->nblk == c->maxblk) {
		shared_fail(c->sh, "client %u: more than %u blocks held", c->cid, c->maxblk);
		client_die(c);
	}
	b = &c->blk[c->nblk++];
	b->pfn = pfn;
	b->order = order;
	b->seq = ++c->seq;
	map_set(c, pfn, order, true);
	stamp_write(c, b);
	c->held += 1u << order;
}

/* A call failed.  A lost connection is told apart (the supervisor decides
 * whether it is a failure: not when the daemon died, which is one already). */
static void __attribute__((noreturn)) client_call_failed(struct client *c, const char *what, int rc)
{
	char msg[FAIL_LEN];

	snprintf(msg, sizeof(msg), "client %u (pid %d, pool %s): %s = %d (%s): %s", c->cid,
		 (int)getpid(), pool_defs[c->pool].name, what, rc, pp_strerror(rc),
		 pp_last_error(c->pc));
	if (rc == -ECONNRESET || rc == -EPIPE) {
		memcpy(c->sh->slot[c->slot].lost, msg, sizeof(msg));
		_exit(EXIT_LOST);
	}
	shared_fail(c->sh, "%s", msg);
	client_die(c);
}

/*
 * The daemon's count of this connection's pages must be ours plus what its
 * client cache holds.  A remote drain may empty the cache at any moment, so
 * the cache is read around the count: pp_stat reads it after its round
 * trip, and only drains shrink it while we do nothing, so the cache at the
 * second round trip lies between the second reading and the first.
 */
static void client_check_held(struct client *c)
{
	struct pp_stat st0, st;
	int rc = pp_stat(c->pc, &st0);

	if (rc == 0)
		rc = pp_stat(c->pc, &st);
	ctr_add(c->sh, CTR_ops, 1);
	if (rc != 0)
		client_call_failed(c, "pp_stat", rc);
	ctr_add(c->sh, CTR_held_checks, 1);
	if (st.held < c->held + st.cached || st.held > c->held + st0.cached) {
		ctr_add(c->sh, CTR_held_mismatch, 1);
		shared_fail(c->sh, "client %u: pp_stat says it holds %" PRIu64 " pages, it holds %"
			    PRIu64 " and caches %" PRIu64 "..%" PRIu64, c->cid, st.held, c->held,
			    st.cached, st0.cached);
		client_die(c);
	}
}

/*
 * Now and then the n blocks about to be freed go first with one pfn this
 * client freed earlier and does not hold now appended: the daemon must
 * refuse the whole call, naming that pfn (EALREADY if it is free, EPERM if
 * another client holds it, EINVAL if it is offline or inside someone's
 * block), and free none of the others, which the held check confirms.
 */
static void client_probe_free(struct client *c, unsigned n)
{
	unsigned bad = UINT_MAX;
	int rc;

	if (map_test(c, c->probe_pfn))
		return;		/* allocated to this client again since */
	for (unsigned i = 0; i < n; i++)
		if (c->pfns[i] == c->probe_pfn)
			return;	/* the same: it is in this batch */
	c->pfns[n] = c->probe_pfn;
	rc = pp_free(c->pc, c->pfns, n + 1, &bad);
	ctr_add(c->sh, CTR_ops, 1);
	if (rc == -ECONNRESET || rc == -EPIPE)
		client_call_failed(c, "pp_free with a pfn not held", rc);
	if ((rc != -EALREADY && rc != -EPERM && rc != -EINVAL) || bad != n) {
		shared_fail(c->sh, "client %u: pp_free of %u held blocks plus pfn %u, which it does "
			    "not hold, = %d (%s) with bad index %u; expected EALREADY, EPERM or EINVAL "
			    "at index %u: %s", c->cid, n, c->probe_pfn, rc, pp_strerror(rc), bad, n,
			    pp_last_error(c->pc));
		client_die(c);
	}
	ctr_add(c->sh, CTR_free_probes, 1);
	client_check_held(c);
}

/* Free up to k random held blocks in one call, checking their stamps. */
static void client_free(struct client *c, unsigned k)
{
	unsigned n = 0, bad = 0;
	uint64_t pages = 0;
	char what[64];
	int rc;

	if (k > c->max_count)
		k = c->max_count;
	while (n < k && c->nblk) {
		unsigned i = rng_below(&c->rng, c->nblk);
		struct blk b = c->blk[i];

		c->blk[i] = c->blk[--c->nblk];
		stamp_check(c, &b);
		map_set(c, b.pfn, b.order, false);
		c->pfns[n++] = b.pfn;
		pages += 1u << b.order;
	}
	if (n == 0)
		return;
	if (c->probe_pfn != NO_PFN && n < c->max_count && rng_pct(&c->rng, 3))
		client_probe_free(c, n);
	rc = pp_free(c->pc, c->pfns, n, &bad);
	ctr_add(c->sh, CTR_ops, 1);
	if (rc != 0) {
		snprintf(what, sizeof(what), "pp_free(%u blocks) (bad index %u, pfn %u)", n, bad,
			 bad < n ? c->pfns[bad] : 0);
		client_call_failed(c, what, rc);
	}
	c->held -= pages;
	c->probe_pfn = c->pfns[rng_below(&c->rng, n)];
	ctr_add(c->sh, CTR_pages_freed, pages);
}

static void client_alloc(struct client *c)
{
	unsigned order = pick_order(&c->rng);
	uint64_t room = c->budget - c->held;
	unsigned maxc, count, flags = 0, got = 0;
	char what[80];
	int rc;

	if ((room >> order) == 0) {
		client_free(c, 1 + rng_below(&c->rng, 16));
		return;
	}
	maxc = (unsigned)((room >> order) < 64 ? (room >> order) : 64);
	if (order >= 7 && maxc > 2)
		maxc = 2;
	if (order == 0 && rng_pct(&c->rng, 2))	/* now and then a batch of max_count */
		maxc = (unsigned)(room < c->max_count ? room : c->max_count);
	/* Small counts more often than large ones. */
	count = 1 + rng_below(&c->rng, 1 + rng_below(&c->rng, maxc));
	if (rng_pct(&c->rng, 10))
		flags |= PP_NOWAIT;
	if (rng_pct(&c->rng, 15))
		flags |= PP_ZERO;
	if (rng_pct(&c->rng, 30))
		flags |= PP_PARTIAL;
	rc = pp_alloc(c->pc, order, count, flags, c->pfns, &got);
	ctr_add(c->sh, CTR_ops, 1);
	ctr_add(c->sh, CTR_alloc_calls, 1);
	snprintf(what, sizeof(what), "pp_alloc(order %u, count %u, flags %#x)", order, count,
		 flags);
	if (rc == -ENOMEM) {
		ctr_add(c->sh, CTR_enomem, 1);
		return;
	}
	if (rc == -EAGAIN && (flags & PP_NOWAIT)) {
		ctr_add(c->sh, CTR_eagain, 1);
		return;
	}
	if (rc != 0)
		client_call_failed(c, what, rc);
	if (got == 0 || got > count || (got != count && !(flags & PP_PARTIAL))) {
		shared_fail(c->sh, "client %u: %s succeeded with %u blocks", c->cid, what, got);
		client_die(c);
	}
	if (got < count)
		ctr_add(c->sh, CTR_short_partial, 1);
	for (unsigned i = 0; i < got; i++)
		client_take(c, c->pfns[i], order, flags);
	ctr_add(c->sh, CTR_pages_alloc, (uint64_t)got << order);
}

/* Progress, for the supervisor's watchdog and its kill accounting. */
static void client_beat(struct client *c)
{
	__atomic_store_n(&c->sh->slot[c->slot].held, c->held, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->sh->slot[c->slot].beat, 1, __ATOMIC_RELAXED);
}

static void client_step(struct client *c)
{
	unsigned x = rng_below(&c->rng, 100);

	if (c->nblk && x < 40)
		client_free(c, rng_pct(&c->rng, 3) ? c->nblk : 1 + rng_below(&c->rng, 24));
	else if (c->nblk && x < 43)
		stamp_check(c, &c->blk[rng_below(&c->rng, c->nblk)]);	/* a long-held one */
	else
		client_alloc(c);
	if (++c->nops % 64 == 0)
		client_check_held(c);
	client_beat(c);
}

/* The end of a client that was not killed: free everything (checking each
 * stamp and that the daemon agrees it then holds nothing), or now and then
 * just close and let the daemon reclaim. */
static void client_finish(struct client *c)
{
	if (rng_pct(&c->rng, 30)) {
		ctr_add(c->sh, CTR_closed_pages, c->held);
	} else {
		while (c->nblk) {
			client_free(c, c->max_count);
			client_beat(c);
		}
		client_check_held(c);
	}
	pp_close(c->pc);
}

/* The pool of the clients in `slot`: "side" for slots 5, 11, ... (the last
 * slot when there are fewer than 6), else "default". */
static unsigned slot_pool(const struct run *r, unsigned slot)
{
	return slot % 6 == 5 || (r->nclients < 6 && slot == r->nclients - 1);
}

/* A client process: slot, stamp id `cid`.  Returns the exit status. */
int client_main(struct run *r, unsigned slot, uint32_t cid)
{
	static struct client cl;
	struct client *c = &cl;
	const struct pp_info *info;
	unsigned npool = 0;
	int rc;

	c->r = r;
	c->sh = r->sh;
	c->slot = slot;
	c->cid = cid;
	c->pool = slot_pool(r, slot);
	c->rng = r->seed ^ ((uint64_t)cid * 0x2545f4914f6cdd1dull);
	c->probe_pfn = NO_PFN;
	rc = pp_connect(r->sock, pool_defs[c->pool].name, &c->pc);
	if (rc != 0) {
		shared_fail(c->sh, "client %u: pp_connect(%s, %s) = %d (%s): %s", cid, r->sock,
			    pool_defs[c->pool].name, rc, pp_strerror(rc), pp_last_error(NULL));
		return EXIT_FAILED;
	}
	info = pp_info(c->pc);
	c->page_size = info->page_size;
	c->npages = info->arena_size / info->page_size;
	c->max_count = info->max_count < 65536 ? info->max_count : 65536;
	/* Together the clients of a pool ask for about 1.5 times its pages. */
	for (unsigned s = 0; s < r->nclients; s++)
		npool += slot_pool(r, s) == c->pool;
	c->budget = c->npages * 3 / 2 / (npool ? npool : 1);
	if (c->budget < BLOCK_PAGES + 64)
		c->budget = BLOCK_PAGES + 64;
	c->maxblk = (unsigned)c->budget + 1;
	c->blk = calloc(c->maxblk, sizeof(*c->blk));
	c->map = calloc((c->npages + 63) / 64, sizeof(*c->map));
	if (!c->blk || !c->map) {
		shared_fail(c->sh, "client %u: out of memory", cid);
		return EXIT_FAILED;
	}
	while (!stop_requested(c->sh))
		client_step(c);
	client_finish(c);
	return 0;
}
