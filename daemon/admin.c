/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * admin.c - the admin socket (see admin.h).  Requests are answered
 * synchronously on the admin thread: a drain waits for its grace period here,
 * never in a worker.  The admin thread is not an RCU reader, so it may call
 * synchronize_rcu() (through pool_drain) freely.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "conn.h"
#include "frame.h"
#include "log.h"
#include "reload.h"
#include "wire.h"
#include "worker.h"

#define ADMIN_MAX_FRAME		4096
#define ADMIN_MAX_CONNS		64
#define ADMIN_ROOT_CONNS	4	/* of those, kept for root and our own uid */
#define ADMIN_MAX_OUTPUT	(64 * 1024)	/* stop reading requests above this */
#define ADMIN_MAX_HOLDERS	32

typedef Pagepool__V1__AdminRequest admin_request;
typedef Pagepool__V1__AdminResponse admin_response;

struct admin_conn {
	struct admin_conn *next, *prev;
	struct daemon *d;
	struct bufferevent *bev;
	uid_t uid;
	int closing;
	int paused;			/* reading stopped until the output drains */
};

static struct event_base *admin_base;
static struct admin_conn *admin_conns;
static struct event *decay_ev;
static struct event *trim_ev;		/* daemon_trim() once a second */
/* Per (pool, worker), as of the last decay tick. */
struct decay_seen {
	uint64_t alloc_pages;		/* pcp->stats.alloc_pages */
	uint64_t drains;		/* pcp->drains */
	int count;			/* pages cached */
};
static struct decay_seen *decay_seen;

/* Everything one response may point at; freed by admin_reply_done(). */
struct admin_reply {
	admin_response r;
	char text[200];
	union {
		Pagepool__V1__AdminStatus status;
		Pagepool__V1__AdminStats stats;
		Pagepool__V1__AdminBuddyinfo buddy;
		Pagepool__V1__AdminClients clients;
		Pagepool__V1__AdminDrained drained;
		Pagepool__V1__AdminOffline offline;
		Pagepool__V1__AdminTrimmed trimmed;
		Pagepool__V1__AdminVerified verified;
		Pagepool__V1__AdminReloaded reloaded;
	} u;
	void *mem[4];			/* arrays to free */
};

__attribute__((format(printf, 3, 4)))
static void admin_err(struct admin_reply *rp, int err, const char *fmt, ...)
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
				admin_err(rp, ENOMEM, "out of memory");
			return rp->mem[i];
		}
	}
	admin_err(rp, ENOMEM, "out of memory");
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
	admin_err(rp, ENOENT, "no pool named \"%s\"", clean);
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
	for (unsigned i = 0; i < d->cfg.npools; i++) {
		struct pool_counts c;
		uint64_t res = 0;

		pool_counts(d->pools[i], &c);
		arena_resident(&d->pools[i]->arena, &res);
		pagepool__v1__pool_counts__init(&pc[i]);
		pc[i].name = d->pools[i]->name;
		pc[i].total = c.total;
		pc[i].free = c.free;
		pc[i].pcp = c.pcp;
		pc[i].allocated = c.allocated;
		pc[i].isolated = c.isolated;
		pc[i].offline = c.offline;
		pc[i].resident_bytes = res;
		pp[i] = &pc[i];
	}
	st->n_pools = d->cfg.npools;
	st->pools = pp;
	rp->r.body_case = PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATUS_INFO;
	rp->r.status_info = st;
}

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
#define X(name, desc) ps->name = s.name;
	PCP_STATS(X)
#undef X
	ps->drains = pcp->drains;
	ps->drained_pages = pcp->drained_pages;
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

static void handle_drain(struct daemon *d, const Pagepool__V1__AdminDrainReq *q,
			 struct admin_reply *rp)
{
	Pagepool__V1__AdminDrained *dr = &rp->u.drained;
	enum drain_mode mode = d->cfg.drain_mode;
	int idx = admin_pool(d, q->pool, true, rp), ret = 0;
	uint64_t t0, total = 0;

	if (idx == -2)
		return;
	if (*q->mode && drain_mode_parse(q->mode, &mode) < 0) {
		admin_err(rp, EINVAL, "unknown drain mode (rcu, workqueue, spinlock)");
		return;
	}
	t0 = now_us();
	for (unsigned i = 0; i < d->cfg.npools && ret == 0; i++) {
		uint64_t n = 0;

		if (idx >= 0 && (unsigned)idx != i)
			continue;
		ret = pool_drain(d->pools[i], (int)mode, q->force ? DRAIN_FORCE : 0, &n);
		total += n;
	}
	if (ret < 0) {
		admin_err(rp, -ret, ret == -EINVAL ? "spinlock drains need drain_mode = spinlock"
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
	ret = pool_offline(d->pools[idx], q->start, q->count, h, ADMIN_MAX_HOLDERS, &nh, &busy);
	if (ret == 0) {
		log_info("pool %s: pages %u..%u offline", q->pool, q->start, q->start + q->count - 1);
		return;
	}
	if (ret == -EINVAL) {
		admin_err(rp, EINVAL, "range must be whole %u-page blocks inside the pool, not "
			  "overlapping another isolated range", MAX_ORDER_PAGES);
		return;
	}
	if (ret != -EBUSY) {
		admin_err(rp, -ret, "offline failed: %s", strerror(-ret));
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
		php[i] = &hp[i];
	}
	off->busy_pages = busy;
	off->n_holders = nh;
	off->holders = php;
	admin_err(rp, EBUSY, "%lu pages in the range are still held (%u holder%s%s)",
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
		admin_err(rp, EINVAL, "range is not offline or isolated as a whole");
	else
		log_info("pool %s: pages %u..%u online", q->pool, q->start, q->start + q->count - 1);
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
		total += n;
	}
	if (ret < 0) {
		admin_err(rp, -ret, "trim failed: %s", strerror(-ret));
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
		admin_err(rp, EINVAL, "high 0..%d, batch 1..%d and batch <= high", PCP_HIGH_MAX,
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
		admin_err(rp, -ret, "%s", r.error);
		log_warnx("reload refused, running configuration kept: %s", r.error);
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

static void admin_dispatch(struct daemon *d, const admin_request *q, struct admin_reply *rp)
{
	if (wire_has_unknown_fields(&q->base)) {
		admin_err(rp, EPROTO, "request carries fields this daemon does not know");
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
	default:
		admin_err(rp, EPROTO, "unknown admin request");
	}
}

/* Encode and queue; frees what the reply allocated. */
static int admin_send(struct admin_conn *ac, struct admin_reply *rp)
{
	uint8_t *buf;
	size_t len;
	int ret = wire_encode(&rp->r.base, UINT32_MAX, &buf, &len);

	for (unsigned i = 0; i < ARRAY_SIZE(rp->mem); i++)
		free(rp->mem[i]);
	if (ret < 0)
		return ret;
	ret = bufferevent_write(ac->bev, buf, len) < 0 ? -ENOMEM : 0;
	free(buf);
	return ret;
}

static void admin_reply_init(struct admin_reply *rp, uint64_t id)
{
	memset(rp, 0, sizeof(*rp));
	pagepool__v1__admin_response__init(&rp->r);
	rp->r.id = id;
	rp->r.error = rp->text;
}

static void admin_close(struct admin_conn *ac)
{
	if (ac->prev)
		ac->prev->next = ac->next;
	else
		admin_conns = ac->next;
	if (ac->next)
		ac->next->prev = ac->prev;
	bufferevent_free(ac->bev);
	ac->d->admin_nconns--;
	free(ac);
}

/* Last word, then close once flushed. */
static void admin_fail(struct admin_conn *ac, int err, const char *what)
{
	struct admin_reply rp;

	admin_reply_init(&rp, 0);
	admin_err(&rp, err, "%s", what);
	ac->closing = 1;
	bufferevent_disable(ac->bev, EV_READ);
	if (admin_send(ac, &rp) < 0)
		admin_close(ac);
}

/*
 * Answer every complete request, unless more than ADMIN_MAX_OUTPUT of
 * answers waits for the peer: then stop reading (backpressure) until the
 * write callback sees the output drained, so a peer that pipelines requests
 * and reads nothing holds at most that much, plus one answer.
 */
static void admin_read_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn *ac = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!ac->closing && evbuffer_get_length(in) >= WIRE_HDR) {
		struct admin_reply rp;
		admin_request *q;
		int err;

		if (evbuffer_get_length(bufferevent_get_output(bev)) > ADMIN_MAX_OUTPUT) {
			ac->paused = 1;
			bufferevent_disable(bev, EV_READ);
			return;
		}

		q = (admin_request *)frame_take(in, ADMIN_MAX_FRAME,
						&pagepool__v1__admin_request__descriptor, &err);
		if (!q) {
			if (err < 0)
				admin_fail(ac, err == -E2BIG ? E2BIG : EPROTO, frame_strerror(err));
			return;
		}
		admin_reply_init(&rp, q->id);
		admin_dispatch(ac->d, q, &rp);
		pagepool__v1__admin_request__free_unpacked(q, NULL);
		if (admin_send(ac, &rp) < 0) {
			admin_close(ac);
			return;
		}
	}
}

/* The output is flushed: a closing connection goes, a paused one reads on. */
static void admin_write_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn *ac = arg;

	if (ac->closing) {
		admin_close(ac);
	} else if (ac->paused) {
		ac->paused = 0;
		bufferevent_enable(bev, EV_READ);
		admin_read_cb(bev, ac);		/* may close ac */
	}
}

/* EOF, an error, or admin_idle_timeout: nothing read for that long (the
 * peer is told why), or nothing of a pending answer taken for that long. */
static void admin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct admin_conn *ac = arg;

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !ac->closing &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
		char msg[96];

		snprintf(msg, sizeof(msg), "idle for %u s (admin_idle_timeout); closing",
			 tunables_get(ac->d)->admin_idle_timeout);
		log_info_rl(&rl, "admin connection of uid %d: %s", (int)ac->uid, msg);
		admin_fail(ac, EPROTO, msg);
		return;
	}
	admin_close(ac);
}

/* Turn a peer away before it has a connection: one AdminResponse saying
 * why, sent without blocking, then the socket is closed. */
__attribute__((format(printf, 3, 4)))
static void admin_refuse(int fd, int err, const char *fmt, ...)
{
	struct admin_reply rp;
	va_list ap;

	admin_reply_init(&rp, 0);
	rp.r.status = (Pagepool__V1__Status)wire_status_from_errno(err);
	va_start(ap, fmt);
	vsnprintf(rp.text, sizeof(rp.text), fmt, ap);
	va_end(ap);
	conn_send_last(fd, &rp.r.base);
}

/* Root, our own uid, or a member of admin_group. */
static bool admin_allowed(struct daemon *d, int fd, uid_t *uid_out)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];
	bool ok = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*uid_out = cred.uid;
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	if (d->cfg.admin_gid == (gid_t)-1)
		return false;
	if (cred.gid == d->cfg.admin_gid)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		for (size_t i = 0; i < len / sizeof(gid_t); i++)
			ok |= groups[i] == d->cfg.admin_gid;
	return ok;
}

/*
 * Credentials first, then the cap: a peer that may not use the socket never
 * holds one of its ADMIN_MAX_CONNS connections, and the last
 * ADMIN_ROOT_CONNS of them are kept for root and our own uid, so idle
 * admin-group connections cannot lock root out.  Whoever is turned away is
 * told why.  Every connection is closed after admin_idle_timeout without a
 * request (or without its answers being taken).
 */
void admin_accept(struct daemon *d, int fd)
{
	struct timeval idle = { .tv_sec = tunables_get(d)->admin_idle_timeout };
	struct admin_conn *ac;
	uid_t uid = (uid_t)-1;
	unsigned cap;

	if (!admin_allowed(d, fd, &uid)) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "admin socket: refused uid %d (not root or in the admin group)",
			     (int)uid);
		admin_refuse(fd, EPERM, "permission denied: uid %d is not root or in the admin "
			     "group", (int)uid);
		return;
	}
	cap = uid == 0 || uid == geteuid() ? ADMIN_MAX_CONNS : ADMIN_MAX_CONNS - ADMIN_ROOT_CONNS;
	if (d->admin_nconns >= cap) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "admin connection refused: %d already open", d->admin_nconns);
		admin_refuse(fd, EBUSY, "too many admin connections (%u open; the last %d are "
			     "kept for root)", d->admin_nconns, ADMIN_ROOT_CONNS);
		return;
	}
	ac = calloc(1, sizeof(*ac));
	if (!ac) {
		close(fd);
		return;
	}
	ac->d = d;
	ac->uid = uid;
	ac->bev = bufferevent_socket_new(admin_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!ac->bev) {
		close(fd);
		free(ac);
		return;
	}
	d->admin_nconns++;
	ac->next = admin_conns;
	if (admin_conns)
		admin_conns->prev = ac;
	admin_conns = ac;
	/* Input is taken a frame at a time: never more than two buffered. */
	bufferevent_setwatermark(ac->bev, EV_READ, 0, 2 * (WIRE_HDR + ADMIN_MAX_FRAME));
	bufferevent_set_timeouts(ac->bev, &idle, &idle);
	bufferevent_setcb(ac->bev, admin_read_cb, admin_write_cb, admin_event_cb, ac);
	bufferevent_enable(ac->bev, EV_READ | EV_WRITE);
}

/*
 * Pages that certainly sat in the pcplists through the whole last interval.
 * The lists are LIFO stacks: with at most A pages allocated from a pcp that
 * held C pages at the last tick, the bottom C - A pages were never touched
 * (frees push on top).  Stale, lock-free reads; a drain in between (counted
 * by pcp->drains) voids the snapshot.
 */
static int decay_cold_pages(struct pcp *pcp, struct decay_seen *seen)
{
	uint64_t alloc = READ_ONCE(pcp->stats.alloc_pages), drains = READ_ONCE(pcp->drains);
	int count = pcp_count_remote(pcp), cold = 0;

	if (drains == seen->drains && alloc - seen->alloc_pages < (uint64_t)seen->count)
		cold = seen->count - (int)(alloc - seen->alloc_pages);
	if (cold > count)
		cold = count;
	seen->alloc_pages = alloc;
	seen->drains = drains;
	seen->count = count;
	return cold;
}

void admin_decay(struct daemon *d)
{
	struct pcp *aged[CONFIG_MAX_CPUS];

	for (unsigned i = 0; i < d->cfg.npools; i++) {
		unsigned n = 0;
		uint64_t cold = 0;

		for (unsigned k = 0; k < d->nworkers; k++) {
			struct pcp *pcp = pool_pcp(d->pools[i], k);
			int c = decay_cold_pages(pcp, &decay_seen[(size_t)i * d->nworkers + k]);

			if (c > 0) {
				aged[n++] = pcp;
				cold += (uint64_t)c;
			}
		}
		if (n) {
			uint64_t pages = 0;

			drain_pcps(aged, n, DRAIN_RCU, 0, &pages);
			/* The drain bumped pcp->drains: the next tick starts afresh. */
			for (unsigned k = 0; k < d->nworkers; k++)
				decay_cold_pages(pool_pcp(d->pools[i], k),
						 &decay_seen[(size_t)i * d->nworkers + k]);
			log_debug("pool %s: decay drained %lu pages (%lu aged a whole interval) "
				  "from %u workers", d->pools[i]->name, (unsigned long)pages,
				  (unsigned long)cold, n);
		}
	}
}

static void decay_cb(evutil_socket_t fd, short what, void *arg)
{
	admin_decay(arg);
}

static void trim_cb(evutil_socket_t fd, short what, void *arg)
{
	daemon_trim(arg);
}

void admin_decay_rearm(struct daemon *d)
{
	struct timeval tv = { .tv_sec = d->cfg.decay_interval };

	event_del(decay_ev);
	if (d->cfg.decay_interval && event_add(decay_ev, &tv) < 0)
		log_warnx("cannot arm the decay timer");
}

int admin_start(struct daemon *d, struct event_base *base)
{
	struct timeval second = { .tv_sec = 1 };

	admin_base = base;
	decay_seen = calloc((size_t)d->cfg.npools * d->nworkers, sizeof(*decay_seen));
	decay_ev = event_new(base, -1, EV_PERSIST, decay_cb, d);
	trim_ev = event_new(base, -1, EV_PERSIST, trim_cb, d);
	if (!decay_seen || !decay_ev || !trim_ev || event_add(trim_ev, &second) < 0)
		return -ENOMEM;
	admin_decay_rearm(d);
	return 0;
}

void admin_stop(struct daemon *d)
{
	while (admin_conns)
		admin_close(admin_conns);
	if (decay_ev)
		event_free(decay_ev);
	decay_ev = NULL;
	if (trim_ev)
		event_free(trim_ev);
	trim_ev = NULL;
	free(decay_seen);
	decay_seen = NULL;
}
