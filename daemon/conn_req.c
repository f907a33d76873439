/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn_req.c - the client requests (see conn_req.h): one handle_*() per
 * request type - hello, alloc, free, stat (offer, take and cancel are
 * conn_share.c's) - each checking what it was given
 * and filling one struct conn_reply.  A request that decodes but is wrong
 * gets an error answer here; framing errors never reach this file.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clientcache.h"
#include "conn.h"
#include "conn_req.h"
#include "log.h"
#include "reclaim.h"
#include "worker.h"

#define ALLOC_FLAGS_KNOWN (POOL_NOWAIT | POOL_ZERO | POOL_PARTIAL)

void conn_req_init(struct conn_reply *rp, uint64_t id)
{
	pagepool__v1__response__init(&rp->r);
	rp->r.id = id;
	rp->r.error = rp->text;
	rp->text[0] = '\0';
	rp->fd = -1;
	rp->park = false;
}

void conn_req_err(struct conn_reply *rp, int err, const char *fmt, ...)
{
	va_list ap;

	rp->r.status = (Pagepool__V1__Status)wire_status_from_errno(err);
	va_start(ap, fmt);
	vsnprintf(rp->text, sizeof(rp->text), fmt, ap);
	va_end(ap);
}

static bool conn_may_join(const struct conn *c, const struct pool_conf *pc)
{
	if (pc->ngroups == 0)
		return true;
	for (unsigned i = 0; i < pc->ngroups; i++) {
		if (pc->groups[i] == c->gid)
			return true;
		for (int k = 0; k < c->ngroups; k++)
			if (pc->groups[i] == c->groups[k])
				return true;
	}
	return false;
}

static void handle_hello(struct conn *c, const Pagepool__V1__Hello *h,
			 struct conn_reply *rp)
{
	Pagepool__V1__Welcome *welcome = &rp->u.welcome;
	struct daemon *d = c->d;
	const struct pool_conf *pc;
	int idx;

	if (c->pool) {
		COUNTER_ADD(c->w->mx.proto[MX_PROTO_other], 1);
		conn_req_err(rp, EPROTO, "already joined pool %s", c->pool->name);
		return;
	}
	if (h->version != WIRE_VERSION) {
		conn_req_err(rp, EPROTONOSUPPORT,
			     "protocol version %u not supported (this daemon: %u)", h->version,
			     WIRE_VERSION);
		return;
	}
	idx = config_pool_index(&d->cfg, h->pool);
	if (idx < 0) {
		char name[64];
		log_sanitize(name, sizeof(name), h->pool, strlen(h->pool));
		conn_req_err(rp, ENOENT, "no pool named \"%s\"", name);
		return;
	}
	pc = &d->cfg.pools[idx];
	if (!conn_may_join(c, pc)) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_info_rl(&rl, "%s: refused pool %s (not in its groups)", c->name, pc->name);
		conn_req_err(rp, EPERM, "uid %d gid %d is not allowed into pool %s", (int)c->uid,
			     (int)c->gid, pc->name);
		return;
	}
	/* Always tracked, so a reload can turn the uid quota on. */
	c->uq = daemon_quota_get(d, idx, c->uid);
	if (!c->uq) {
		conn_req_err(rp, EBUSY, "too many users");
		return;
	}
	c->pool_idx = idx;
	/* Read by the admin thread's clients listing. */
	__atomic_store_n(&c->pool, d->pools[idx], __ATOMIC_RELEASE);
	c->pcp = pool_pcp(c->pool, c->w->idx);
	owner_init(&c->owner, c->slot + 1);
	c->owner.client_id = c->id;
	c->owner.uid_pages = &c->uq->pages;
	c->owner.uid_offers = &c->uq->offers;

	pagepool__v1__welcome__init(welcome);
	welcome->version = WIRE_VERSION;
	welcome->pool = c->pool->name;
	welcome->page_size = c->pool->arena.page_size;
	welcome->arena_size = c->pool->arena.size;
	welcome->client_id = c->id;
	welcome->max_count = d->cfg.max_count;
	welcome->max_frame = d->cfg.max_frame;
	welcome->max_order = PP_MAX_ORDER;
	welcome->quota_pages = tunables_get(d)->pools[idx].quota_pages;
	welcome->worker = c->w->idx;
	evtimer_del(c->ev_hello);	/* joined: hello_timeout is over */
	/* Only the features this daemon knows; the rest of the bits are ignored.
	 * A cache only where the pool has client caches. */
	c->features = h->features & (PAGEPOOL__V1__FEATURE__FEATURE_RUNS |
				     (pc->cache_high ? PAGEPOOL__V1__FEATURE__FEATURE_CACHE : 0));
	welcome->features = c->features;
	if (c->features & PAGEPOOL__V1__FEATURE__FEATURE_CACHE) {
		welcome->cache_high = pc->cache_high;
		welcome->cache_batch = pc->cache_batch;
	}
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_WELCOME;
	rp->r.welcome = welcome;
	rp->fd = c->pool->arena.fd;
	log_debug("%s: joined pool %s on worker %u", c->name, c->pool->name, c->w->idx);
}

void conn_share_limits(struct conn *c, struct share_limits *lim)
{
	const struct pool_tunables *pt = &tunables_get(c->d)->pools[c->pool_idx];

	lim->max_offers = c->d->cfg.max_offers;
	lim->max_offers_uid = c->d->cfg.max_offers_per_uid;
	lim->max_shares = c->d->cfg.max_offer_shares;
	lim->quota = pt->quota_pages;
	lim->uid_quota = pt->quota_uid_pages;
}

int conn_charge(struct conn *c, uint64_t pages, struct conn_reply *rp)
{
	/* One snapshot: both quotas come from the same reload. */
	const struct pool_tunables *pt = &tunables_get(c->d)->pools[c->pool_idx];
	uint64_t quota = pt->quota_pages, uid_quota = pt->quota_uid_pages;
	uint64_t held = share_charged(&c->owner);

	if (quota && held + pages > quota) {
		conn_req_err(rp, EDQUOT, "connection quota: holding %lu of %lu pages, asked %lu",
			     (unsigned long)held, (unsigned long)quota, (unsigned long)pages);
		return -EDQUOT;
	}
	if (c->uq && !daemon_quota_charge(c->uq, pages, uid_quota)) {
		conn_req_err(rp, EDQUOT, "uid %d quota of %lu pages exceeded", (int)c->uid,
			     (unsigned long)uid_quota);
		return -EDQUOT;
	}
	return 0;
}

/* Zero freshly allocated blocks.  They belong to this connection alone and
 * no pcp is touched, so the worker goes offline meanwhile: a drain never
 * waits for a memset. */
static void conn_zero(struct conn *c, const uint32_t *pfns, unsigned n, unsigned order)
{
	size_t bytes = (size_t)c->pool->arena.page_size << order;

	worker_leave(c->w);
	for (unsigned i = 0; i < n; i++)
		memset(arena_ptr(&c->pool->arena, pfns[i]), 0, bytes);
	worker_enter(c->w);
}

/*
 * pool_alloc() that fails with -ENOMEM only when the pool is short (see
 * reclaim.h): on -ENOMEM this worker flushes its own pcplists and tries
 * again; if that fails too, other workers cache pages that could help, and
 * the request has not waited for a drain yet, it returns -EINPROGRESS: the
 * caller parks the request (conn_park) and runs it again once the drain it
 * asks for is done.  The retry (park_ticket set) never parks.
 */
int conn_alloc(struct conn *c, const Pagepool__V1__Alloc *a, unsigned *got)
{
	unsigned flags = a->flags & ~POOL_ZERO;
	int ret;

	ret = pool_alloc(c->pool, c->pcp, &c->owner, a->order, a->count, flags,
			 c->w->scratch, got);
	if (ret != -ENOMEM)
		return ret;
	if (pcp_drain_local(c->pcp)) {
		ret = pool_alloc(c->pool, c->pcp, &c->owner, a->order, a->count, flags,
				 c->w->scratch, got);
		if (ret != -ENOMEM)
			return ret;
	}
	/* Worth a drain when other pcps hold enough, or with what the clients'
	 * caches hold (their regions summed, under the slots' lock: a failed
	 * allocation's path only). */
	if (c->park_ticket || !reclaim_enabled())
		return -ENOMEM;
	if (!reclaim_worth(c->pool, c->pcp, (uint64_t)a->count << a->order) &&
	    !(ccache_clients(c->pool_idx) &&
	      reclaim_worth_cached(c->pool, c->pcp, (uint64_t)a->count << a->order,
				   ccache_cached(c->d, c->pool_idx))))
		return -ENOMEM;
	return -EINPROGRESS;
}

/*
 * FEATURE_RUNS: an answer's blocks as runs (first, n) of blocks laid end to
 * end, into the worker's freebuf (free while one answer is built), when
 * that is shorter than the list: a refill from the buddy is mostly
 * consecutive.  The blocks keep their order.
 */
bool conn_runs(struct conn *c, const uint32_t *p, size_t n, unsigned order, uint32_t **runsp,
	       size_t *nruns)
{
	const uint32_t step = 1u << order;
	uint32_t *runs = c->w->freebuf;
	size_t k = 0, max = n / 2;

	if (!(c->features & PAGEPOOL__V1__FEATURE__FEATURE_RUNS))
		return false;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && p[j] == p[j - 1] + step)
			j++;
		if (k + 2 > max || k + 2 > c->d->cfg.max_count)
			return false;	/* no shorter: keep the list */
		runs[k++] = p[i];
		runs[k++] = (uint32_t)(j - i);
		i = j;
	}
	*runsp = runs;
	*nruns = k;
	return true;
}

int conn_block_list(struct conn *c, const uint32_t *pfns, size_t npfns, const uint32_t *runs,
		    size_t nruns, unsigned run_order, const uint32_t **outp, size_t *n,
		    struct conn_reply *rp)
{
	uint32_t max = c->d->cfg.max_count, *out = c->w->freebuf;
	uint64_t total = npfns;

	*outp = pfns;
	*n = npfns;
	if (nruns == 0 && run_order == 0)
		return 0;
	if (!(c->features & PAGEPOOL__V1__FEATURE__FEATURE_RUNS)) {
		COUNTER_ADD(c->w->mx.proto[MX_PROTO_runs_without_feature], 1);
		conn_req_err(rp, EPROTO, "runs without FEATURE_RUNS in hello");
		return -EPROTO;
	}
	if (nruns % 2 || run_order > PP_MAX_ORDER) {
		conn_req_err(rp, EINVAL, "runs: %zu numbers (pairs expected), run_order %u",
			     nruns, run_order);
		return -EINVAL;
	}
	for (size_t i = 0; i < nruns; i += 2) {
		uint64_t first = runs[i], cnt = runs[i + 1];

		if (cnt == 0 || first + ((cnt - 1) << run_order) > UINT32_MAX) {
			conn_req_err(rp, EINVAL, "run %zu: %lu blocks from pfn %lu", i / 2,
				     (unsigned long)cnt, (unsigned long)first);
			return -EINVAL;
		}
		total += cnt;
		if (total > max) {
			conn_req_err(rp, E2BIG, "more than %u blocks (the limit)", max);
			return -E2BIG;
		}
	}
	if (npfns)
		memcpy(out, pfns, npfns * sizeof(*out));
	for (size_t i = 0, k = npfns; i < nruns; i += 2)
		for (uint32_t j = 0; j < runs[i + 1]; j++)
			out[k++] = runs[i] + (j << run_order);
	*outp = out;
	*n = (size_t)total;
	return 0;
}

/*
 * An allocation refused for want of pages (ENOMEM) or quota (EDQUOT), as
 * answered in rp: one info line naming the client, the request and the
 * reason.  A client can fail allocations as fast as it asks, so every
 * client shares one rate limit (log.h's defaults).
 */
static void conn_alloc_log(struct conn *c, int err, unsigned count, unsigned order,
			   const struct conn_reply *rp)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

	log_info_rl(&rl, "%s: alloc of %u order-%u blocks failed: %s, %s", c->name, count, order,
		    wire_status_name(wire_status_from_errno(err)), rp->text);
}

void conn_alloc_err(struct conn *c, int ret, unsigned count, unsigned order,
		    struct conn_reply *rp)
{
	if (ret == -EINPROGRESS) {
		rp->park = true;	/* charged again when it runs again */
	} else if (ret == -ENOMEM) {
		conn_req_err(rp, ENOMEM, "pool %s exhausted: %u order-%u blocks not available",
			     c->pool->name, count, order);
		conn_alloc_log(c, ENOMEM, count, order, rp);
	} else if (ret == -EAGAIN) {
		conn_req_err(rp, EAGAIN, "NOWAIT: no order-%u block cached on this worker", order);
	} else {
		conn_req_err(rp, -ret, "allocation failed");
	}
}

/* An allocation's answer in rp (an Alloc's, or a loan's: conn_offer),
 * counted by pool, order and result (status is the errno:
 * proto/pagepool.proto); results outside the list are not, nor a request
 * parked for reclaim (its replay is). */
void conn_count_alloc(struct conn *c, unsigned order, const struct conn_reply *rp)
{
	int r;

	switch ((int)rp->r.status) {
	case 0: r = MX_ALLOC_ok; break;
	case ENOMEM: r = MX_ALLOC_ENOMEM; break;
	case EDQUOT: r = MX_ALLOC_EDQUOT; break;
	case EAGAIN: r = MX_ALLOC_EAGAIN; break;
	case EPERM: r = MX_ALLOC_EPERM; break;
	case EINVAL: r = MX_ALLOC_EINVAL; break;
	default: return;
	}
	if (order <= PP_MAX_ORDER && !rp->park)
		COUNTER_ADD(c->w->mx.allocs[c->pool_idx][order][r], 1);
}

/* A Free's answer, counted like an Alloc's, under the order of its first
 * block as it was before the free (a Free seldom mixes orders). */
static void conn_count_free(struct conn *c, unsigned order, const struct conn_reply *rp)
{
	int r;

	switch ((int)rp->r.status) {
	case 0: r = MX_FREE_ok; break;
	case EPERM: r = MX_FREE_EPERM; break;
	case EALREADY: r = MX_FREE_EALREADY; break;
	case EINVAL: r = MX_FREE_EINVAL; break;
	case EBUSY: r = MX_FREE_EBUSY; break;
	default: return;
	}
	COUNTER_ADD(c->w->mx.frees[c->pool_idx][order][r], 1);
}

static void handle_alloc(struct conn *c, const Pagepool__V1__Alloc *a,
			 struct conn_reply *rp)
{
	Pagepool__V1__Pages *pages = &rp->u.pages;
	unsigned got = 0;
	uint64_t want;
	int ret;

	if (a->order > PP_MAX_ORDER) {
		conn_req_err(rp, EINVAL, "order %u above the maximum %u", a->order, PP_MAX_ORDER);
		return;
	}
	if (a->count == 0) {
		conn_req_err(rp, EINVAL, "count 0");
		return;
	}
	if (a->count > c->d->cfg.max_count) {
		conn_req_err(rp, E2BIG, "count %u above the limit %u", a->count,
			     c->d->cfg.max_count);
		return;
	}
	if (a->flags & ~ALLOC_FLAGS_KNOWN) {
		conn_req_err(rp, EINVAL, "unknown flags %#x", a->flags & ~ALLOC_FLAGS_KNOWN);
		return;
	}
	want = (uint64_t)a->count << a->order;
	if (conn_charge(c, want, rp) < 0) {
		conn_alloc_log(c, EDQUOT, a->count, a->order, rp);
		return;
	}
	/* Zeroing may touch gigabytes: do it offline (below), not here. */
	ret = conn_alloc(c, a, &got);
	if (c->uq)
		daemon_quota_uncharge(c->uq, want - ((uint64_t)got << a->order));
	if (ret < 0) {
		conn_alloc_err(c, ret, a->count, a->order, rp);
		return;
	}
	if (a->flags & POOL_ZERO)
		conn_zero(c, c->w->scratch, got, a->order);
	pagepool__v1__pages__init(pages);
	pages->pfns = c->w->scratch;
	pages->n_pfns = got;
	pages->order = a->order;
	if (conn_runs(c, pages->pfns, pages->n_pfns, a->order, &pages->runs, &pages->n_runs)) {
		pages->pfns = NULL;
		pages->n_pfns = 0;
	}
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_PAGES;
	rp->r.pages = pages;
}

int conn_free_blocks(struct conn *c, const uint32_t *pfns, size_t n, const char *what,
		     uint64_t *pages, struct conn_reply *rp)
{
	/* Only this thread changes these two (not offered_pages: a take). */
	uint64_t before = c->owner.pages + c->owner.ref_pages, after;
	unsigned bad = 0;
	int ret;

	ret = pool_free(c->pool, c->pcp, &c->owner, pfns, (unsigned)n, -1, &bad);
	if (ret < 0) {
		static const char *const why[] = {
			[EINVAL] = "out of range, or not the first page of a block",
			[EALREADY] = "not allocated (double free?)",
			[EPERM] = "held by another client (or shared, with no reference of yours)",
			[EBUSY] = "under an open offer of yours (cancel it first)",
		};
		int e = -ret;
		conn_req_err(rp, e, "%spfn %u (index %u): %s", what, pfns[bad], bad,
			     e < (int)ARRAY_SIZE(why) && why[e] ? why[e] : strerror(e));
		rp->r.bad_index = bad;
		return ret;
	}
	after = c->owner.pages + c->owner.ref_pages;
	if (c->uq)
		daemon_quota_uncharge(c->uq, before - after);
	*pages = before - after;
	return 0;
}

static void handle_free(struct conn *c, const Pagepool__V1__Free *f,
			struct conn_reply *rp)
{
	Pagepool__V1__Freed *freed = &rp->u.freed;
	const uint32_t *pfns;
	uint64_t pages;
	unsigned order;
	size_t n;
	int ret;

	if (f->n_pfns > c->d->cfg.max_count) {
		conn_req_err(rp, E2BIG, "%zu pfns above the limit %u", f->n_pfns,
			     c->d->cfg.max_count);
		return;
	}
	if (conn_block_list(c, f->pfns, f->n_pfns, f->runs, f->n_runs, f->run_order, &pfns, &n,
			    rp) < 0)
		return;
	if (n == 0) {
		conn_req_err(rp, EINVAL, "no pfns to free");
		return;
	}
	order = pfns[0] < c->pool->npages ? c->pool->pages[pfns[0]].order : 0;
	if (order > PP_MAX_ORDER)
		order = 0;
	ret = conn_free_blocks(c, pfns, n, "", &pages, rp);
	conn_count_free(c, order, rp);
	if (ret < 0)
		return;
	pagepool__v1__freed__init(freed);
	freed->pages = pages;
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_FREED;
	rp->r.freed = freed;
}

static void handle_stat(struct conn *c, struct conn_reply *rp)
{
	Pagepool__V1__PoolStat *st = &rp->u.stat;
	struct pool_counts pc;

	pool_counts(c->pool, &pc);
	pagepool__v1__pool_stat__init(st);
	st->pool = c->pool->name;
	st->total = pc.total;
	st->free = pc.free;
	st->pcp = pc.pcp;
	st->allocated = pc.allocated;
	st->isolated = pc.isolated;
	st->offline = pc.offline;
	st->held = c->owner.pages;
	st->shared = READ_ONCE(c->pool->share.shared_pages);
	st->offered = READ_ONCE(c->pool->share.offered_pages);
	st->offers = READ_ONCE(c->pool->share.offers_open);
	st->refs = c->owner.ref_pages;
	st->my_offered = READ_ONCE(c->owner.offered_pages);
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT;
	rp->r.pool_stat = st;
}

/*
 * Map the connection's client cache region (clientcache.h); the answer
 * carries its memfd.  The fd must go with the answer's first byte, and
 * conn_out sends one only when nothing is queued ahead: a client that
 * pipelines CacheMap behind unread answers is told to send it alone.
 */
static void handle_cache_map(struct conn *c, struct conn_reply *rp)
{
	Pagepool__V1__CacheMapped *cm = &rp->u.cache_mapped;
	const struct pool_conf *pc = &c->d->cfg.pools[c->pool_idx];
	int fd = -1, ret;

	if (!(c->features & PAGEPOOL__V1__FEATURE__FEATURE_CACHE)) {
		conn_req_err(rp, EPERM, "no client cache: %s", pc->cache_high ?
			     "FEATURE_CACHE was not asked for in hello" :
			     "the pool has client_cache_high = 0");
		return;
	}
	if (c->cc) {
		conn_req_err(rp, EALREADY, "the cache region is mapped already");
		return;
	}
	if (c->out_queued) {
		conn_req_err(rp, EBUSY, "send CacheMap alone, once earlier answers are read");
		return;
	}
	ret = ccache_map(c, &fd);
	if (ret < 0) {
		conn_req_err(rp, -ret, "cannot create the cache region: %s", strerror(-ret));
		return;
	}
	pagepool__v1__cache_mapped__init(cm);
	cm->size = (uint32_t)PP_CC_SIZE;
	cm->version = PP_CC_VERSION;
	cm->high = pc->cache_high;
	cm->batch = pc->cache_batch;
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_CACHE_MAPPED;
	rp->r.cache_mapped = cm;
	rp->fd = fd;
}

/* One decoded request: each case only checks the state and calls a handler. */
void conn_req_run(struct conn *c, const wire_request *req, struct conn_reply *rp)
{
	if (wire_has_unknown_fields(&req->base)) {
		COUNTER_ADD(c->w->mx.proto[MX_PROTO_unknown_fields], 1);
		conn_req_err(rp, EPROTO, "request carries fields this daemon does not know");
		return;
	}
	if (!c->pool && req->body_case != PAGEPOOL__V1__REQUEST__BODY_HELLO &&
	    req->body_case != PAGEPOOL__V1__REQUEST__BODY__NOT_SET) {
		COUNTER_ADD(c->w->mx.proto[MX_PROTO_before_hello], 1);
		conn_req_err(rp, EPROTO, "the first request must be hello");
		return;
	}
	switch (req->body_case) {
	case PAGEPOOL__V1__REQUEST__BODY_HELLO:
		handle_hello(c, req->hello, rp);
		break;
	case PAGEPOOL__V1__REQUEST__BODY_ALLOC:
		handle_alloc(c, req->alloc, rp);
		conn_count_alloc(c, req->alloc->order, rp);
		break;
	case PAGEPOOL__V1__REQUEST__BODY_FREE:
		handle_free(c, req->free, rp);
		break;
	case PAGEPOOL__V1__REQUEST__BODY_STAT:
		handle_stat(c, rp);
		break;
	case PAGEPOOL__V1__REQUEST__BODY_OFFER:
		conn_offer(c, req->offer, rp);
		break;
	case PAGEPOOL__V1__REQUEST__BODY_TAKE:
		conn_take(c, req->take, rp);
		break;
	case PAGEPOOL__V1__REQUEST__BODY_CANCEL:
		conn_cancel(c, req->cancel, rp);
		break;
	case PAGEPOOL__V1__REQUEST__BODY_CACHE_MAP:
		handle_cache_map(c, rp);
		break;
	default:
		COUNTER_ADD(c->w->mx.proto[MX_PROTO_no_body], 1);
		conn_req_err(rp, EPROTO, "request has no known body");
	}
}
