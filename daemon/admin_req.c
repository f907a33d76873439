/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * admin_req.c - the admin requests (see admin_req.h): one handle_*() per
 * request type, each filling one struct admin_reply.  Arrays a response
 * points at come from admin_alloc() and are freed by admin_req_free() once
 * the response is encoded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clientcache.h"
#include "admin_req.h"
#include "audit.h"
#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "reload.h"
#include "worker.h"

#define ADMIN_MAX_HOLDERS	32

void admin_req_init(struct admin_reply *rp, uint64_t id)
{
	memset(rp, 0, sizeof(*rp));
	pagepool__v1__admin_response__init(&rp->r);
	rp->r.id = id;
	rp->r.error = rp->text;
}

void admin_req_free(struct admin_reply *rp)
{
	for (unsigned i = 0; i < ARRAY_SIZE(rp->mem); i++) {
		free(rp->mem[i]);
		rp->mem[i] = NULL;
	}
}

void admin_req_err(struct admin_reply *rp, int err, const char *fmt, ...)
{
	va_list ap;

	rp->r.status = (Pagepool__V1__Status)wire_status_from_errno(err);
	va_start(ap, fmt);
	vsnprintf(rp->text, sizeof(rp->text), fmt, ap);
	va_end(ap);
}

static void *admin_alloc(struct admin_reply *rp, size_t n, size_t size)
{
	for (unsigned i = 0; i < ARRAY_SIZE(rp->mem); i++) {
		if (!rp->mem[i]) {
			rp->mem[i] = calloc(n ? n : 1, size);
			if (!rp->mem[i])
				admin_req_err(rp, ENOMEM, "out of memory");
			return rp->mem[i];
		}
	}
	admin_req_err(rp, ENOMEM, "out of memory");
	return NULL;
}

/* A pool by name; "" matches every pool (returns -1 with *all set). */
static int admin_pool(struct daemon *d, const char *name, bool allow_all, struct admin_reply *rp)
{
	char clean[64];

	if (!*name && allow_all)
		return -1;
	for (unsigned i = 0; i < d->cfg.npools; i++)
		if (strcmp(d->pools[i]->name, name) == 0)
			return (int)i;
	log_sanitize(clean, sizeof(clean), name, strlen(name));
	admin_req_err(rp, ENOENT, "no pool named \"%s\"", clean);
	return -2;
}

static void handle_status(struct daemon *d, struct admin_reply *rp)
{
	Pagepool__V1__AdminStatus *st = &rp->u.status;
	Pagepool__V1__PoolCounts *pc, **pp;

	pc = admin_alloc(rp, d->cfg.npools, sizeof(*pc));
	pp = admin_alloc(rp, d->cfg.npools, sizeof(*pp));
	if (!pc || !pp)
		return;
	pagepool__v1__admin_status__init(st);
	st->version = (char *)PAGEPOOLD_VERSION;
	st->uptime_s = (uint64_t)(daemon_now() - d->started);
	st->workers = d->nworkers;
	st->clients = __atomic_load_n(&d->nconns, __ATOMIC_RELAXED);
	st->drain_mode = (char *)drain_mode_name(d->cfg.drain_mode);
	for (unsigned i = 0; i < d->cfg.npools; i++)
		pagepool__v1__pool_counts__init(&pc[i]);
	/* Pages in client caches, read from their regions (may be stale);
	 * a region is unmapped only after its slot is cleared, under this lock. */
	pthread_mutex_lock(&d->quota_lock);
	for (uint32_t s = 0; s < d->cfg.max_connections; s++) {
		struct conn *c = d->slots[s];
		struct ccache *cc = c ? __atomic_load_n(&c->cc, __ATOMIC_ACQUIRE) : NULL;

		if (cc)
			pc[c->pool_idx].cached += ccache_pages(cc);
	}
	pthread_mutex_unlock(&d->quota_lock);
	for (unsigned i = 0; i < d->cfg.npools; i++) {
		struct pool_counts c;
		uint64_t res = 0;

		pool_counts(d->pools[i], &c);
		arena_resident(&d->pools[i]->arena, &res);
		pc[i].name = d->pools[i]->name;
		pc[i].total = c.total;
		pc[i].free = c.free;
		pc[i].pcp = c.pcp;
		pc[i].allocated = c.allocated;
		pc[i].isolated = c.isolated;
		pc[i].offline = c.offline;
		pc[i].resident_bytes = res;
		pc[i].shared = READ_ONCE(d->pools[i]->share.shared_pages);
		pc[i].offered = READ_ONCE(d->pools[i]->share.offered_pages);
		pc[i].offers = READ_ONCE(d->pools[i]->share.offers_open);
		pp[i] = &pc[i];
	}
	st->n_pools = d->cfg.npools;
	st->pools = pp;
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATUS_INFO;
	rp->r.status_info = st;
}

/* Every counter of stats.h is a uint64 field of PcpStats of the same name
 * (a missing one fails to compile here; extra ones fail test_pcpstats). */
#define X(name, title, desc)							\
	_Static_assert(_Generic(((Pagepool__V1__PcpStats *)0)->name, uint64_t: 1, default: 0), \
		       "PcpStats." #name " must be a uint64 field (stats.h)");
PCP_COUNTERS(X)
#undef X

static void fill_pcp(Pagepool__V1__PcpStats *ps, struct pool *pool, struct worker *w)
{
	struct pcp *pcp = pool_pcp(pool, w->idx);
	struct pcp_stats s = { 0 };

	pcp_stats_sum(&s, &pcp->stats);
	pagepool__v1__pcp_stats__init(ps);
	ps->pool = pool->name;
	ps->worker = w->idx;
	ps->cpu = w->cpu;
	ps->count = pcp_count_remote(pcp);
	ps->high = READ_ONCE(pcp->high);
	ps->batch = READ_ONCE(pcp->batch);
#define X(name, title, desc) ps->name = s.name;
	PCP_STATS(X)
#undef X
#define X(name, title, desc) ps->name = pcp->name;
	PCP_DRAIN_STATS(X)
#undef X
}

static void handle_stats(struct daemon *d, struct admin_reply *rp)
{
	Pagepool__V1__AdminStats *st = &rp->u.stats;
	size_t n = (size_t)d->cfg.npools * d->nworkers;
	Pagepool__V1__PcpStats *ps = admin_alloc(rp, n, sizeof(*ps));
	Pagepool__V1__PcpStats **pps = admin_alloc(rp, n, sizeof(*pps));
	Pagepool__V1__WorkerStats *ws = admin_alloc(rp, d->nworkers, sizeof(*ws));
	Pagepool__V1__WorkerStats **pws = admin_alloc(rp, d->nworkers, sizeof(*pws));

	if (!ps || !pps || !ws || !pws)
		return;
	pagepool__v1__admin_stats__init(st);
	for (unsigned i = 0; i < d->cfg.npools; i++) {
		for (unsigned k = 0; k < d->nworkers; k++) {
			size_t j = (size_t)i * d->nworkers + k;

			fill_pcp(&ps[j], d->pools[i], d->workers[k]);
			pps[j] = &ps[j];
		}
	}
	for (unsigned k = 0; k < d->nworkers; k++) {
		struct worker *w = d->workers[k];

		pagepool__v1__worker_stats__init(&ws[k]);
		ws[k].worker = k;
		ws[k].cpu = w->cpu;
		ws[k].connections = __atomic_load_n(&w->nconns, __ATOMIC_RELAXED);
		ws[k].wakeups = READ_ONCE(w->wakeups);
		ws[k].loops = READ_ONCE(w->loops);
		pws[k] = &ws[k];
	}
	st->n_pcps = n;
	st->pcps = pps;
	st->n_workers = d->nworkers;
	st->workers = pws;
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATS;
	rp->r.stats = st;
}

static void handle_buddyinfo(struct daemon *d, struct admin_reply *rp)
{
	Pagepool__V1__AdminBuddyinfo *bi = &rp->u.buddy;
	Pagepool__V1__PoolBuddy *pb = admin_alloc(rp, d->cfg.npools, sizeof(*pb));
	Pagepool__V1__PoolBuddy **ppb = admin_alloc(rp, d->cfg.npools, sizeof(*ppb));
	uint64_t *counts = admin_alloc(rp, (size_t)d->cfg.npools * PP_NR_ORDERS, sizeof(uint64_t));

	if (!pb || !ppb || !counts)
		return;
	pagepool__v1__admin_buddyinfo__init(bi);
	for (unsigned i = 0; i < d->cfg.npools; i++) {
		pagepool__v1__pool_buddy__init(&pb[i]);
		pb[i].name = d->pools[i]->name;
		pb[i].free_blocks = counts + (size_t)i * PP_NR_ORDERS;
		pb[i].n_free_blocks = PP_NR_ORDERS;
		buddy_info(&d->pools[i]->zone, pb[i].free_blocks);
		ppb[i] = &pb[i];
	}
	bi->n_pools = d->cfg.npools;
	bi->pools = ppb;
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_BUDDYINFO;
	rp->r.buddyinfo = bi;
}

static void handle_clients(struct daemon *d, struct admin_reply *rp)
{
	Pagepool__V1__AdminClients *cl = &rp->u.clients;
	uint32_t max = d->cfg.max_connections, n = 0;
	Pagepool__V1__ClientInfo *ci = admin_alloc(rp, max, sizeof(*ci));
	Pagepool__V1__ClientInfo **pci = admin_alloc(rp, max, sizeof(*pci));

	if (!ci || !pci)
		return;
	pagepool__v1__admin_clients__init(cl);
	/* Slots are cleared under this lock before a conn is freed. */
	pthread_mutex_lock(&d->quota_lock);
	for (uint32_t i = 0; i < max; i++) {
		struct conn *c = d->slots[i];
		struct pool *pool;

		if (!c)
			continue;
		pool = __atomic_load_n(&c->pool, __ATOMIC_ACQUIRE);
		pagepool__v1__client_info__init(&ci[n]);
		ci[n].id = c->id;
		ci[n].pid = c->pid;
		ci[n].uid = c->uid;
		ci[n].worker = c->w ? c->w->idx : 0;
		ci[n].pool = pool ? pool->name : (char *)"";
		ci[n].pages = READ_ONCE(c->owner.pages);
		ci[n].ref_pages = READ_ONCE(c->owner.ref_pages);
		ci[n].offers = READ_ONCE(c->owner.noffers);
		ci[n].offered_pages = READ_ONCE(c->owner.offered_pages);
		if (pool && __atomic_load_n(&c->cc, __ATOMIC_ACQUIRE)) {
			const struct ccache *cc = c->cc;

			ci[n].cached = ccache_pages(cc);
			ci[n].cache_drains = READ_ONCE(cc->drains);
			ci[n].cache_errors = READ_ONCE(cc->errors);
			ci[n].cache_stuck = READ_ONCE(cc->stuck);
		}
		pci[n] = &ci[n];
		n++;
	}
	pthread_mutex_unlock(&d->quota_lock);
	cl->n_clients = n;
	cl->clients = pci;
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_CLIENTS;
	rp->r.clients = cl;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* True when client `id` is connected with a cache region. */
static bool admin_has_cache(struct daemon *d, uint64_t id)
{
	bool found = false;

	pthread_mutex_lock(&d->quota_lock);
	for (uint32_t s = 0; s < d->cfg.max_connections && !found; s++) {
		struct conn *c = d->slots[s];

		found = c && c->id == id && __atomic_load_n(&c->cc, __ATOMIC_ACQUIRE);
	}
	pthread_mutex_unlock(&d->quota_lock);
	return found;
}

/* drain --clients / --client ID: the client caches (clientcache.h). */
static void handle_drain_clients(struct daemon *d, const Pagepool__V1__AdminDrainReq *q,
				 int idx, struct admin_reply *rp)
{
	Pagepool__V1__AdminDrained *dr = &rp->u.drained;
	struct ccache_result res;
	uint64_t t0 = now_us(), *stuck;
	int ret;

	if (q->client_id && !admin_has_cache(d, q->client_id)) {
		admin_req_err(rp, ENOENT, "no client %lu with a cache", (unsigned long)q->client_id);
		return;
	}
	ret = ccache_drain_for(d, idx, q->client_id, 0, d->cfg.cache_grace_ms, MX_TRIGGER_admin,
			       &res);
	if (ret < 0) {
		admin_req_err(rp, -ret, "client cache drain: %s", strerror(-ret));
		return;
	}
	stuck = admin_alloc(rp, res.nstuck ? res.nstuck : 1, sizeof(*stuck));
	if (!stuck)
		return;
	pagepool__v1__admin_drained__init(dr);
	dr->pages = res.pages;
	dr->usec = now_us() - t0;
	dr->mode = (char *)"clients";
	dr->clients = res.clients;
	dr->bad = res.bad;
	dr->late = res.late;
	dr->n_stuck = res.nstuck < CCACHE_STUCK_MAX ? res.nstuck : CCACHE_STUCK_MAX;
	memcpy(stuck, res.stuck, dr->n_stuck * sizeof(*stuck));
	dr->stuck = stuck;
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_DRAINED;
	rp->r.drained = dr;
}

static void handle_drain(struct daemon *d, const Pagepool__V1__AdminDrainReq *q,
			 struct admin_reply *rp)
{
	Pagepool__V1__AdminDrained *dr = &rp->u.drained;
	enum drain_mode mode = d->cfg.drain_mode;
	int idx = admin_pool(d, q->pool, true, rp), ret = 0;
	uint64_t t0, total = 0;

	if (idx == -2)
		return;
	if (q->clients || q->client_id) {
		if (*q->mode || q->force)
			admin_req_err(rp, EINVAL, "a drain of client caches takes no mode or force");
		else
			handle_drain_clients(d, q, idx, rp);
		return;
	}
	if (*q->mode && drain_mode_parse(q->mode, &mode) < 0) {
		admin_req_err(rp, EINVAL, "unknown drain mode (rcu, workqueue, spinlock)");
		return;
	}
	t0 = now_us();
	for (unsigned i = 0; i < d->cfg.npools && ret == 0; i++) {
		uint64_t n = 0;

		if (idx >= 0 && (unsigned)idx != i)
			continue;
		ret = pool_drain_for(d->pools[i], (int)mode, q->force ? DRAIN_FORCE : 0,
				     MX_TRIGGER_admin, &n);
		total += n;
	}
	if (ret < 0) {
		admin_req_err(rp, -ret,
			      ret == -EINVAL ? "spinlock drains need drain_mode = spinlock"
					     : "drain failed: %s", strerror(-ret));
		return;
	}
	pagepool__v1__admin_drained__init(dr);
	dr->pages = total;
	dr->usec = now_us() - t0;
	dr->mode = (char *)drain_mode_name(mode);
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_DRAINED;
	rp->r.drained = dr;
}

/* Owner id -> the connection holding it (slot + 1). */
static void admin_holder(struct daemon *d, uint32_t owner, Pagepool__V1__Holder *h)
{
	struct conn *c = NULL;

	pagepool__v1__holder__init(h);
	pthread_mutex_lock(&d->quota_lock);
	if (owner >= 1 && owner <= d->cfg.max_connections)
		c = d->slots[owner - 1];
	if (c) {
		h->client_id = c->id;
		h->pid = c->pid;
		h->uid = c->uid;
	}
	pthread_mutex_unlock(&d->quota_lock);
}

static void handle_offline(struct daemon *d, const Pagepool__V1__AdminOfflineReq *q,
			   struct admin_reply *rp)
{
	Pagepool__V1__AdminOffline *off = &rp->u.offline;
	struct pool_holder h[ADMIN_MAX_HOLDERS];
	Pagepool__V1__Holder *hp;
	Pagepool__V1__Holder **php;
	unsigned nh = 0;
	uint64_t busy = 0;
	int idx = admin_pool(d, q->pool, false, rp), ret;

	if (idx < 0)
		return;
	/* Pages cached by clients come back first (whole caches: a client's
	 * lists are not sorted by range); a stuck client keeps its pages and is
	 * named among the holders below. */
	if (ccache_clients(idx))
		ccache_drain_for(d, idx, 0, 0, d->cfg.cache_grace_ms, MX_TRIGGER_offline, NULL);
	ret = pool_offline(d->pools[idx], q->start, q->count, h, ADMIN_MAX_HOLDERS, &nh, &busy);
	if (ret == 0) {
		COUNTER_ADD(d->pools[idx]->mx.range_ops[MX_RANGE_offline], 1);
		return;
	}
	if (ret == -EINVAL) {
		admin_req_err(rp, EINVAL, "range must be whole %u-page blocks inside the pool, not "
			      "overlapping another isolated range", MAX_ORDER_PAGES);
		return;
	}
	if (ret != -EBUSY) {
		admin_req_err(rp, -ret, "offline failed: %s", strerror(-ret));
		return;
	}
	hp = admin_alloc(rp, nh, sizeof(*hp));
	php = admin_alloc(rp, nh, sizeof(*php));
	if (!hp || !php)
		return;
	pagepool__v1__admin_offline__init(off);
	for (unsigned i = 0; i < nh; i++) {
		admin_holder(d, h[i].owner, &hp[i]);
		hp[i].pages = h[i].pages;
		hp[i].shared_pages = h[i].shared;
		php[i] = &hp[i];
	}
	off->busy_pages = busy;
	off->n_holders = nh;
	off->holders = php;
	admin_req_err(rp, EBUSY, "%lu pages in the range are still held (%u holder%s%s)",
		      (unsigned long)busy, nh, nh == 1 ? "" : "s",
		      nh == ADMIN_MAX_HOLDERS ? " listed, maybe more" : "");
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_OFFLINE;
	rp->r.offline = off;
}

static void handle_online(struct daemon *d, const Pagepool__V1__AdminOnlineReq *q,
			  struct admin_reply *rp)
{
	int idx = admin_pool(d, q->pool, false, rp);

	if (idx < 0)
		return;
	if (pool_online(d->pools[idx], q->start, q->count) < 0)
		admin_req_err(rp, EINVAL, "range is not offline or isolated as a whole");
	else
		COUNTER_ADD(d->pools[idx]->mx.range_ops[MX_RANGE_online], 1);
}

static void handle_trim(struct daemon *d, const Pagepool__V1__AdminTrimReq *q,
			struct admin_reply *rp)
{
	Pagepool__V1__AdminTrimmed *t = &rp->u.trimmed;
	int idx = admin_pool(d, q->pool, true, rp), ret = 0;
	uint64_t total = 0;

	if (idx == -2)
		return;
	for (unsigned i = 0; i < d->cfg.npools && ret == 0; i++) {
		uint64_t n = 0;

		if (idx >= 0 && (unsigned)idx != i)
			continue;
		ret = pool_trim(d->pools[i], &n);
		if (ret == 0)
			COUNTER_ADD(d->pools[i]->mx.range_ops[MX_RANGE_trim], 1);
		total += n;
	}
	if (ret < 0) {
		admin_req_err(rp, -ret, "trim failed: %s", strerror(-ret));
		return;
	}
	pagepool__v1__admin_trimmed__init(t);
	t->pages = total;
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_TRIMMED;
	rp->r.trimmed = t;
}

static void handle_set_pcp(struct daemon *d, const Pagepool__V1__AdminSetPcpReq *q,
			   struct admin_reply *rp)
{
	int idx = admin_pool(d, q->pool, true, rp);

	if (idx == -2)
		return;
	if (q->high > PCP_HIGH_MAX || q->batch < 1 || q->batch > PCP_BATCH_MAX ||
	    (q->high && q->batch > q->high)) {
		admin_req_err(rp, EINVAL, "high 0..%d, batch 1..%d and batch <= high", PCP_HIGH_MAX,
			      PCP_BATCH_MAX);
		return;
	}
	for (unsigned i = 0; i < d->cfg.npools; i++)
		if (idx < 0 || (unsigned)idx == i)
			pool_set_pcp(d->pools[i], (int)q->high, (int)q->batch);
}

struct verify_job {
	struct daemon *d;
	int idx;			/* -1: every pool */
	Pagepool__V1__PoolVerify *pv;
	char (*msg)[200];
	struct owner **owners;
};

/* Runs with every worker parked: the pools are quiet. */
static void verify_parked(void *arg)
{
	struct verify_job *j = arg;
	struct daemon *d = j->d;

	for (unsigned i = 0; i < d->cfg.npools; i++) {
		unsigned n = 0;

		if (j->idx >= 0 && (unsigned)j->idx != i)
			continue;
		/* The live owners of this pool: its connections' owners. */
		pthread_mutex_lock(&d->quota_lock);
		for (uint32_t s = 0; s < d->cfg.max_connections; s++) {
			struct conn *c = d->slots[s];

			if (c && __atomic_load_n(&c->pool, __ATOMIC_ACQUIRE) == d->pools[i])
				j->owners[n++] = &c->owner;
		}
		pthread_mutex_unlock(&d->quota_lock);
		pagepool__v1__pool_verify__init(&j->pv[i]);
		j->pv[i].name = d->pools[i]->name;
		j->pv[i].ok = pool_verify(d->pools[i], j->owners, n, j->msg[i],
					  sizeof(j->msg[i])) == 0;
		j->pv[i].message = j->msg[i];
		if (!j->pv[i].ok)
			log_warnx("verify: pool %s: %s", d->pools[i]->name, j->msg[i]);
	}
}

static void handle_verify(struct daemon *d, const Pagepool__V1__AdminVerifyReq *q,
			  struct admin_reply *rp)
{
	Pagepool__V1__AdminVerified *v = &rp->u.verified;
	struct verify_job j = { .d = d, .idx = admin_pool(d, q->pool, true, rp) };
	Pagepool__V1__PoolVerify **ppv;
	unsigned n = 0;

	if (j.idx == -2)
		return;
	j.pv = admin_alloc(rp, d->cfg.npools, sizeof(*j.pv));
	j.msg = admin_alloc(rp, d->cfg.npools, sizeof(*j.msg));
	j.owners = admin_alloc(rp, d->cfg.max_connections, sizeof(*j.owners));
	ppv = admin_alloc(rp, d->cfg.npools, sizeof(*ppv));
	if (!j.pv || !j.msg || !j.owners || !ppv)
		return;
	workers_park(d, verify_parked, &j);
	pagepool__v1__admin_verified__init(v);
	for (unsigned i = 0; i < d->cfg.npools; i++)
		if (j.idx < 0 || (unsigned)j.idx == i)
			ppv[n++] = &j.pv[i];
	v->n_pools = n;
	v->pools = ppv;
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_VERIFIED;
	rp->r.verified = v;
}

static void handle_reload(struct daemon *d, struct admin_reply *rp)
{
	static struct reload_result r;
	static char *lines[RELOAD_MAX_CHANGES];
	Pagepool__V1__AdminReloaded *rl = &rp->u.reloaded;
	int ret = reload_config(d, &r);

	if (ret < 0) {
		admin_req_err(rp, -ret, "%s", r.error);
		return;
	}
	pagepool__v1__admin_reloaded__init(rl);
	for (unsigned i = 0; i < r.nchanges; i++)
		lines[i] = r.changes[i];
	rl->n_changes = r.nchanges;
	rl->changes = lines;
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_RELOADED;
	rp->r.reloaded = rl;
}

static void handle_metrics(struct daemon *d, struct admin_reply *rp)
{
	Pagepool__V1__AdminMetrics *m = &rp->u.metrics;
	char *text;

	if (metrics_render(d, &text) < 0) {
		admin_req_err(rp, ENOMEM, "out of memory");
		return;
	}
	rp->mem[ARRAY_SIZE(rp->mem) - 1] = text;	/* the handlers use no other */
	pagepool__v1__admin_metrics__init(m);
	m->text = text;
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_METRICS;
	rp->r.metrics = m;
}

/* Each case only picks the handler; the handler checks what it was given. */
static void admin_req_dispatch(struct daemon *d, const Pagepool__V1__AdminRequest *q,
			       struct admin_reply *rp)
{
	if (wire_has_unknown_fields(&q->base)) {
		admin_req_err(rp, EPROTO, "request carries fields this daemon does not know");
		return;
	}
	switch (q->body_case) {
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS:
		handle_status(d, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATS:
		handle_stats(d, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_BUDDYINFO:
		handle_buddyinfo(d, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_CLIENTS:
		handle_clients(d, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_DRAIN:
		handle_drain(d, q->drain, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_OFFLINE:
		handle_offline(d, q->offline, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_ONLINE:
		handle_online(d, q->online, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_TRIM:
		handle_trim(d, q->trim, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_SET_PCP:
		handle_set_pcp(d, q->set_pcp, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_VERIFY:
		handle_verify(d, q->verify, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_RELOAD:
		handle_reload(d, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_METRICS:
		handle_metrics(d, rp);
		break;
	default:
		admin_req_err(rp, EPROTO, "unknown admin request");
	}
}

void admin_req_run(struct daemon *d, const struct admin_peer *peer,
		   const Pagepool__V1__AdminRequest *q, struct admin_reply *rp)
{
	struct audit_before b;

	audit_before(d, q, &b);
	admin_req_dispatch(d, q, rp);
	if (!wire_has_unknown_fields(&q->base))
		audit_admin(peer, q, rp, &b);
}
