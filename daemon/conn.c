/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn.c - a client connection (see conn.h): framing on a libevent
 * bufferevent, strict decoding, one handle_*() per request type, and
 * reclaim of every page on close.
 *
 * Error policy: a request that decodes but is wrong gets an error response
 * and the connection stays usable; a framing error (oversized, or a body
 * that does not decode) gets one last error response and the
 * connection is closed once it is flushed.  Nothing a peer sends can make the
 * daemon exit, leak a page or change state it did not ask for correctly.
 */
#include <errno.h>
#include <stdarg.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "frame.h"
#include "log.h"
#include "reclaim.h"
#include "wire.h"
#include "worker.h"

#define ALLOC_FLAGS_KNOWN (POOL_NOWAIT | POOL_ZERO | POOL_PARTIAL)

/* A response under construction: status, text, and the body chosen. */
struct reply {
	wire_response r;
	char text[160];
	int fd;				/* SCM_RIGHTS to attach, -1 if none */
	bool park;			/* no answer yet: wait for a reclaim drain */
	union {				/* the body r points at */
		Pagepool__V1__Welcome welcome;
		Pagepool__V1__Pages pages;
		Pagepool__V1__Freed freed;
		Pagepool__V1__PoolStat stat;
	} u;
};

static void reply_init(struct reply *rp, uint64_t id)
{
	pagepool__v1__response__init(&rp->r);
	rp->r.id = id;
	rp->r.error = rp->text;
	rp->text[0] = '\0';
	rp->fd = -1;
	rp->park = false;
}

__attribute__((format(printf, 3, 4)))
static void reply_err(struct reply *rp, int err, const char *fmt, ...)
{
	va_list ap;

	rp->r.status = (Pagepool__V1__Status)wire_status_from_errno(err);
	va_start(ap, fmt);
	vsnprintf(rp->text, sizeof(rp->text), fmt, ap);
	va_end(ap);
}

/* Supplementary groups; the kernel says how much room it needs (ERANGE). */
static void conn_read_groups(struct conn *c)
{
	socklen_t len = 64 * sizeof(gid_t);

	for (int tries = 0; tries < 2; tries++) {
		gid_t *g = malloc(len);

		if (!g)
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
			c->groups = g;
			c->ngroups = (int)(len / sizeof(gid_t));
			return;
		}
		free(g);
		if (errno != ERANGE)
			return;
	}
}

int conn_new(struct daemon *d, int fd, struct conn **out)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int ret;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->d = d;
	c->fd = fd;
	c->pool_idx = -1;
	c->id = __atomic_add_fetch(&d->next_client_id, 1, __ATOMIC_RELAXED);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->pid = cred.pid;
		c->uid = cred.uid;
		c->gid = cred.gid;
	} else {
		c->uid = (uid_t)-1;
		c->gid = (gid_t)-1;
	}
	ret = daemon_slot_get(d, c, c->uid, &c->slot, &c->uu);
	if (ret < 0) {
		free(c);
		return ret;
	}
	conn_read_groups(c);
	snprintf(c->name, sizeof(c->name), "client %lu (pid %d uid %d)", (unsigned long)c->id,
		 (int)c->pid, (int)c->uid);
	*out = c;
	return 0;
}

void conn_send_last(int fd, const ProtobufCMessage *msg)
{
	char junk[4096];
	uint8_t *buf;
	size_t len;

	if (wire_encode(msg, UINT32_MAX, &buf, &len) == 0) {
		while (send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EINTR)
			;
		free(buf);
	}
	/* A request already sent and left unread would make the close a reset
	 * (ECONNRESET instead of EOF after our answer); take it off, within
	 * reason. */
	for (int i = 0; i < 16 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0; i++)
		;
	close(fd);
}

void conn_refuse(int fd, int err, const char *fmt, ...)
{
	struct reply rp;
	va_list ap;

	reply_init(&rp, 0);
	rp.r.status = (Pagepool__V1__Status)wire_status_from_errno(err);
	va_start(ap, fmt);
	vsnprintf(rp.text, sizeof(rp.text), fmt, ap);
	va_end(ap);
	conn_send_last(fd, &rp.r.base);
}

/* ---- the output: accounting and the drain rule (config.h) ---------------- */

/* Every change to the output: what is queued is charged to the uid, what
 * the peer took is counted for the drain rule. */
static void conn_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	c->out_queued += info->n_added;
	c->out_queued -= info->n_deleted;
	c->out_taken += info->n_deleted;
	daemon_output_account(c->uu, info->n_added, info->n_deleted);
}

/* Start a drain-rule period: what is queued now is owed by the next check. */
static void conn_drain_arm(struct conn *c)
{
	struct timeval tv = { .tv_sec = tunables_get(c->d)->write_timeout };

	c->drain_mark = c->out_taken;
	c->drain_owed = c->out_queued;
	evtimer_add(c->ev_drain, &tv);
}

/*
 * The drain check, write_timeout after the previous one while answers are
 * queued: the peer must have taken the smaller of what was queued then and
 * min_drain_rate * write_timeout, and at least a byte; otherwise it goes.
 * libevent's own write timeout would not do: it restarts at every byte of
 * progress, so 4 KiB every few seconds kept a full queue alive for ever.
 */
static void conn_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	const struct tunables *t;
	uint64_t need, taken = c->out_taken - c->drain_mark;
	uint32_t secs;

	worker_enter(w);
	t = tunables_get(c->d);
	secs = t->write_timeout;
	need = (uint64_t)t->min_drain_rate * secs;
	if (need > c->drain_owed)
		need = c->drain_owed;
	if (need == 0 && c->drain_owed)
		need = 1;
	if (taken < need) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "%s: took %lu bytes of its responses in %u s with %zu queued "
			     "(must take %lu: min_drain_rate, write_timeout); disconnecting",
			     c->name, (unsigned long)taken, secs, c->drain_owed,
			     (unsigned long)need);
		conn_close(c);
	} else if (c->out_queued) {
		conn_drain_arm(c);
	}
	worker_leave(w);
}

/* Queue one framed message; the connection closes if its output exceeds the cap. */
static int conn_queue(struct conn *c, const uint8_t *buf, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (evbuffer_add(out, buf, len) < 0)
		return -ENOMEM;
	if (!evtimer_pending(c->ev_drain, NULL))
		conn_drain_arm(c);
	/* Backpressure keeps a reading client well below this. */
	if (evbuffer_get_length(out) > c->d->cfg.max_output) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "%s: %zu bytes of responses queued; disconnecting", c->name,
			     evbuffer_get_length(out));
		return -ENOBUFS;
	}
	return 0;
}

/* Send a frame with an fd attached: flush what is queued first, so order holds. */
static int conn_send_fd(struct conn *c, const uint8_t *buf, size_t len, int fd)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	/* conn_process() pauses a connection that has not joined until its
	 * output is flushed, so nothing can be queued ahead of the welcome. */
	if (evbuffer_get_length(out) > 0)
		return -EAGAIN;
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warn_rl(&rl, "%s: cannot send the welcome", c->name);
		return -errno;
	}
	/* The fd went with the first byte; the rest may follow normally. */
	return (size_t)n < len ? conn_queue(c, buf + n, len - (size_t)n) : 0;
}

static int conn_reply(struct conn *c, struct reply *rp)
{
	uint8_t *buf;
	size_t len;
	int ret;

	ret = wire_encode(&rp->r.base, UINT32_MAX, &buf, &len);
	if (ret < 0)
		return ret;
	ret = rp->fd >= 0 ? conn_send_fd(c, buf, len, rp->fd) : conn_queue(c, buf, len);
	free(buf);
	return ret;
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

static void handle_hello(struct conn *c, const Pagepool__V1__Hello *h, struct reply *rp)
{
	Pagepool__V1__Welcome *welcome = &rp->u.welcome;
	struct daemon *d = c->d;
	const struct pool_conf *pc;
	int idx;

	if (c->pool) {
		reply_err(rp, EPROTO, "already joined pool %s", c->pool->name);
		return;
	}
	if (h->version != WIRE_VERSION) {
		reply_err(rp, EPROTONOSUPPORT, "protocol version %u not supported (this daemon: %u)",
			  h->version, WIRE_VERSION);
		return;
	}
	idx = config_pool_index(&d->cfg, h->pool);
	if (idx < 0) {
		char name[64];
		log_sanitize(name, sizeof(name), h->pool, strlen(h->pool));
		reply_err(rp, ENOENT, "no pool named \"%s\"", name);
		return;
	}
	pc = &d->cfg.pools[idx];
	if (!conn_may_join(c, pc)) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_info_rl(&rl, "%s: refused pool %s (not in its groups)", c->name, pc->name);
		reply_err(rp, EPERM, "uid %d gid %d is not allowed into pool %s", (int)c->uid,
			  (int)c->gid, pc->name);
		return;
	}
	/* Always tracked, so a reload can turn the uid quota on. */
	c->uq = daemon_quota_get(d, idx, c->uid);
	if (!c->uq) {
		reply_err(rp, EBUSY, "too many users");
		return;
	}
	c->pool_idx = idx;
	/* Read by the admin thread's clients listing. */
	__atomic_store_n(&c->pool, d->pools[idx], __ATOMIC_RELEASE);
	c->pcp = pool_pcp(c->pool, c->w->idx);
	owner_init(&c->owner, c->slot + 1);

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
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_WELCOME;
	rp->r.welcome = welcome;
	rp->fd = c->pool->arena.fd;
	log_debug("%s: joined pool %s on worker %u", c->name, c->pool->name, c->w->idx);
}

/* Check quotas for `pages` more; charges the uid quota. 0 or -EDQUOT. */
static int conn_charge(struct conn *c, uint64_t pages, struct reply *rp)
{
	/* One snapshot: both quotas come from the same reload. */
	const struct pool_tunables *pt = &tunables_get(c->d)->pools[c->pool_idx];
	uint64_t quota = pt->quota_pages, uid_quota = pt->quota_uid_pages;

	if (quota && c->owner.pages + pages > quota) {
		reply_err(rp, EDQUOT, "connection quota: holding %lu of %lu pages, asked %lu",
			  (unsigned long)c->owner.pages, (unsigned long)quota,
			  (unsigned long)pages);
		return -EDQUOT;
	}
	if (c->uq && !daemon_quota_charge(c->uq, pages, uid_quota)) {
		reply_err(rp, EDQUOT, "uid %d quota of %lu pages exceeded", (int)c->uid,
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
static int conn_alloc(struct conn *c, const Pagepool__V1__Alloc *a, unsigned *got)
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
	if (c->park_ticket || !reclaim_enabled() ||
	    !reclaim_worth(c->pool, c->pcp, (uint64_t)a->count << a->order))
		return -ENOMEM;
	return -EINPROGRESS;
}

static void handle_alloc(struct conn *c, const Pagepool__V1__Alloc *a, struct reply *rp)
{
	Pagepool__V1__Pages *pages = &rp->u.pages;
	unsigned got = 0;
	uint64_t want;
	int ret;

	if (a->order > PP_MAX_ORDER) {
		reply_err(rp, EINVAL, "order %u above the maximum %u", a->order, PP_MAX_ORDER);
		return;
	}
	if (a->count == 0) {
		reply_err(rp, EINVAL, "count 0");
		return;
	}
	if (a->count > c->d->cfg.max_count) {
		reply_err(rp, E2BIG, "count %u above the limit %u", a->count, c->d->cfg.max_count);
		return;
	}
	if (a->flags & ~ALLOC_FLAGS_KNOWN) {
		reply_err(rp, EINVAL, "unknown flags %#x", a->flags & ~ALLOC_FLAGS_KNOWN);
		return;
	}
	want = (uint64_t)a->count << a->order;
	if (conn_charge(c, want, rp) < 0)
		return;
	/* Zeroing may touch gigabytes: do it offline (below), not here. */
	ret = conn_alloc(c, a, &got);
	if (c->uq)
		daemon_quota_uncharge(c->uq, want - ((uint64_t)got << a->order));
	if (ret < 0) {
		if (ret == -EINPROGRESS)
			rp->park = true;	/* charged again when it runs again */
		else if (ret == -ENOMEM)
			reply_err(rp, ENOMEM, "pool %s exhausted: %u order-%u blocks not available",
				  c->pool->name, a->count, a->order);
		else if (ret == -EAGAIN)
			reply_err(rp, EAGAIN, "NOWAIT: no order-%u block cached on this worker",
				  a->order);
		else
			reply_err(rp, -ret, "allocation failed");
		return;
	}
	if (a->flags & POOL_ZERO)
		conn_zero(c, c->w->scratch, got, a->order);
	pagepool__v1__pages__init(pages);
	pages->pfns = c->w->scratch;
	pages->n_pfns = got;
	pages->order = a->order;
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_PAGES;
	rp->r.pages = pages;
}

static void handle_free(struct conn *c, const Pagepool__V1__Free *f, struct reply *rp)
{
	Pagepool__V1__Freed *freed = &rp->u.freed;
	uint64_t before = c->owner.pages;
	unsigned bad = 0;
	int ret;

	if (f->n_pfns == 0) {
		reply_err(rp, EINVAL, "no pfns to free");
		return;
	}
	if (f->n_pfns > c->d->cfg.max_count) {
		reply_err(rp, E2BIG, "%zu pfns above the limit %u", f->n_pfns, c->d->cfg.max_count);
		return;
	}
	ret = pool_free(c->pool, c->pcp, &c->owner, f->pfns, (unsigned)f->n_pfns, -1, &bad);
	if (ret < 0) {
		static const char *const why[] = {
			[EINVAL] = "out of range, or not the first page of a block",
			[EALREADY] = "not allocated (double free?)",
			[EPERM] = "held by another client",
		};
		int e = -ret;
		reply_err(rp, e, "pfn %u (index %u): %s", f->pfns[bad], bad,
			  e < (int)ARRAY_SIZE(why) && why[e] ? why[e] : strerror(e));
		rp->r.bad_index = bad;
		return;
	}
	if (c->uq)
		daemon_quota_uncharge(c->uq, before - c->owner.pages);
	pagepool__v1__freed__init(freed);
	freed->pages = before - c->owner.pages;
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_FREED;
	rp->r.freed = freed;
}

static void handle_stat(struct conn *c, struct reply *rp)
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
	rp->r.body_case = PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT;
	rp->r.pool_stat = st;
}

/* One decoded request: each case only checks the state and calls a handler. */
static void conn_dispatch(struct conn *c, const wire_request *req, struct reply *rp)
{
	if (wire_has_unknown_fields(&req->base)) {
		reply_err(rp, EPROTO, "request carries fields this daemon does not know");
		return;
	}
	if (!c->pool && req->body_case != PAGEPOOL__V1__REQUEST__BODY_HELLO &&
	    req->body_case != PAGEPOOL__V1__REQUEST__BODY__NOT_SET) {
		reply_err(rp, EPROTO, "the first request must be hello");
		return;
	}
	switch (req->body_case) {
	case PAGEPOOL__V1__REQUEST__BODY_HELLO:
		handle_hello(c, req->hello, rp);
		break;
	case PAGEPOOL__V1__REQUEST__BODY_ALLOC:
		handle_alloc(c, req->alloc, rp);
		break;
	case PAGEPOOL__V1__REQUEST__BODY_FREE:
		handle_free(c, req->free, rp);
		break;
	case PAGEPOOL__V1__REQUEST__BODY_STAT:
		handle_stat(c, rp);
		break;
	default:
		reply_err(rp, EPROTO, "request has no known body");
	}
}

/* Framing error: one last response, then close once it is flushed. */
static void conn_fail(struct conn *c, int err, const char *what)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
	struct reply rp;

	log_info_rl(&rl, "%s: %s; closing", c->name, what);
	reply_init(&rp, 0);
	reply_err(&rp, err, "%s", what);
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (conn_reply(c, &rp) < 0 ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		c->closing = 2;		/* nothing to flush: close now */
}

/*
 * Backpressure: stop taking requests while half of max_output is queued (the
 * write callback resumes at a quarter), or while anything of ours is queued
 * and our uid is over its output budget (max_output_per_uid; the write
 * callback looks again as our own queue drains, and an empty queue may
 * always take one more request, so nobody waits on a sibling's reader).
 * Before hello, stop while anything at all is queued, so the welcome's fd
 * never has bytes ahead of it.
 */
static bool conn_should_pause(const struct conn *c)
{
	size_t queued = evbuffer_get_length(bufferevent_get_output(c->bev));

	if (!c->pool)
		return queued > 0;
	return queued > c->d->cfg.max_output / 2 ||
	       (queued > 0 && daemon_output_over(c->uu, tunables_get(c->d)->max_output_per_uid));
}

/* After the input is processed on a connection whose peer has closed:
 * close now, or once the output is flushed.  false: close now. */
static bool conn_settle_eof(struct conn *c)
{
	if (!c->eof || c->paused || c->parked_req)
		return true;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		return false;
	c->closing = 1;
	return true;
}

/*
 * Keep `req` unanswered until a reclaim drain of c's pool is done: stop
 * reading (answers stay in request order), join the worker's parked list,
 * then ask for the drain.  That order matters: the admin thread wakes only
 * workers whose nparked it sees raised after the drain it ran for us.
 */
static void conn_park(struct conn *c, wire_request *req)
{
	struct worker *w = c->w;

	c->parked_req = req;
	bufferevent_disable(c->bev, EV_READ);
	c->park_next = w->parked;
	w->parked = c;
	__atomic_add_fetch(&w->nparked, 1, __ATOMIC_SEQ_CST);
	reclaim_request((unsigned)c->pool_idx, &c->park_ticket);
}

/* Take c off its worker's parked list (its request stays with the caller). */
static void conn_unlink_parked(struct conn *c)
{
	struct conn **pp = &c->w->parked;

	while (*pp != c)
		pp = &(*pp)->park_next;
	*pp = c->park_next;
	c->park_next = NULL;
	__atomic_sub_fetch(&c->w->nparked, 1, __ATOMIC_RELAXED);
}

/* Handle every complete frame in the input.  Returns false if c must close now. */
static bool conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (!c->closing && !c->parked_req && evbuffer_get_length(in) >= WIRE_HDR) {
		wire_request *req;
		struct reply rp;
		int ret;

		if (conn_should_pause(c)) {
			c->paused = 1;
			bufferevent_disable(c->bev, EV_READ);
			break;
		}
		req = (wire_request *)frame_take(in, c->d->cfg.max_frame,
						 &pagepool__v1__request__descriptor, &ret);
		if (!req) {
			if (ret < 0)
				conn_fail(c, ret == -E2BIG ? E2BIG : EPROTO, frame_strerror(ret));
			break;
		}
		c->frames++;
		reply_init(&rp, req->id);
		conn_dispatch(c, req, &rp);
		if (rp.park) {
			conn_park(c, req);
			break;
		}
		ret = conn_reply(c, &rp);
		wire_request_free(req);
		if (ret < 0)
			return false;
	}
	return c->closing != 2 && conn_settle_eof(c);
}

/*
 * read_timeout: a connection holding part of a frame must complete a frame
 * within read_timeout seconds, counted from the last frame it completed or
 * from the first byte of the partial one, so a client that trickles a byte
 * now and then cannot hold a slot either.  Idle connections (nothing
 * buffered) and connections paused by backpressure are not timed.
 */
static void conn_stall_watch(struct conn *c, uint64_t frames_before)
{
	uint32_t secs = tunables_get(c->d)->read_timeout;
	struct timeval tv = { .tv_sec = secs };

	if (!secs || c->closing || c->paused || c->parked_req || c->eof ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
		evtimer_del(c->ev_stall);
		return;
	}
	if (c->frames != frames_before || !evtimer_pending(c->ev_stall, NULL))
		evtimer_add(c->ev_stall, &tv);
}

static void conn_stall_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
	struct conn *c = arg;
	struct worker *w = c->w;

	worker_enter(w);
	log_warnx_rl(&rl, "%s: %zu bytes of an incomplete request and no complete one for %u s "
		     "(read_timeout); disconnecting", c->name,
		     evbuffer_get_length(bufferevent_get_input(c->bev)),
		     tunables_get(c->d)->read_timeout);
	conn_close(c);
	worker_leave(w);
}

/* hello_timeout: a connection that has not joined a pool by now is told why
 * and closed once that is flushed (or by the drain rule, if it never is). */
static void conn_hello_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	char why[80];

	worker_enter(w);
	if (!c->pool && !c->closing) {
		snprintf(why, sizeof(why), "no hello within %u s (hello_timeout)",
			 tunables_get(c->d)->hello_timeout);
		conn_fail(c, EPROTO, why);
		if (c->closing == 2)
			conn_close(c);
	}
	worker_leave(w);
}

/* Process the input; false if c was closed. */
static bool conn_run(struct conn *c)
{
	uint64_t frames = c->frames;

	if (!conn_process(c)) {
		conn_close(c);
		return false;
	}
	conn_stall_watch(c, frames);
	return true;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;

	worker_enter(w);
	conn_run(c);
	worker_leave(w);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;

	size_t queued = evbuffer_get_length(bufferevent_get_output(bev));

	worker_enter(w);
	if (c->closing) {
		if (queued == 0)
			conn_close(c);	/* flushed: a closing connection may go */
	} else if (c->paused && !c->parked_req && (c->pool || queued == 0)) {
		c->paused = 0;
		if (!c->eof)
			bufferevent_enable(bev, EV_READ);
		conn_run(c);
	}
	worker_leave(w);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;

	worker_enter(w);
	if ((what & BEV_EVENT_EOF) && !c->closing) {
		/* Answer what was asked before the peer closed its side. */
		c->eof = 1;
		bufferevent_disable(bev, EV_READ);
		if (conn_settle_eof(c)) {
			worker_leave(w);
			return;
		}
		if (evbuffer_get_length(bufferevent_get_input(bev))) {
			static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

			log_info_rl(&rl, "%s: closed in the middle of a frame", c->name);
		} else {
			log_debug("%s: closed", c->name);
		}
	} else if (what & BEV_EVENT_TIMEOUT) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "%s: not reading its responses; disconnecting", c->name);
	} else if (what & BEV_EVENT_ERROR) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_info_rl(&rl, "%s: connection error: %s", c->name,
			    strerror(EVUTIL_SOCKET_ERROR()));
	}
	conn_close(c);
	worker_leave(w);
}

/* The parked request again, now that its drain is done; then read on. */
static void conn_unpark(struct conn *c)
{
	wire_request *req = c->parked_req;
	struct reply rp;
	int ret;

	c->parked_req = NULL;
	reply_init(&rp, req->id);
	conn_dispatch(c, req, &rp);	/* park_ticket is set: it cannot park again */
	c->park_ticket = 0;
	ret = conn_reply(c, &rp);
	wire_request_free(req);
	if (ret < 0) {
		conn_close(c);
		return;
	}
	if (!c->eof)
		bufferevent_enable(c->bev, EV_READ);
	conn_run(c);
}

void conn_resume_parked(struct worker *w)
{
	struct conn *c = w->parked, *next;

	for (; c; c = next) {
		next = c->park_next;
		if (!reclaim_done((unsigned)c->pool_idx, c->park_ticket))
			continue;
		conn_unlink_parked(c);
		conn_unpark(c);		/* may close c */
	}
}

int conn_attach(struct worker *w, struct conn *c)
{
	/* workers_dispatch() set c->w on the admin thread, where the admin
	 * `clients` request reads it; store only if it differs (a harness). */
	struct timeval hello = { .tv_sec = tunables_get(w->d)->hello_timeout };

	if (c->w != w)
		c->w = w;
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	c->listed = true;
	c->bev = bufferevent_socket_new(w->base, c->fd, BEV_OPT_CLOSE_ON_FREE);
	c->ev_stall = evtimer_new(w->base, conn_stall_cb, c);
	c->ev_hello = evtimer_new(w->base, conn_hello_cb, c);
	c->ev_drain = evtimer_new(w->base, conn_drain_cb, c);
	if (c->bev)
		c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->bev), conn_out_cb, c);
	if (!c->bev || !c->ev_stall || !c->ev_hello || !c->ev_drain || !c->out_cb) {
		log_warnx("%s: out of memory; closing", c->name);
		conn_close(c);
		return -ENOMEM;
	}
	snprintf(c->name, sizeof(c->name), "client %lu (pid %d uid %d, worker %u)",
		 (unsigned long)c->id, (int)c->pid, (int)c->uid, w->idx);
	/* Stop reading while more than a frame and a half is buffered. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, w->d->cfg.max_frame + w->d->cfg.max_frame / 2 + 64);
	bufferevent_setwatermark(c->bev, EV_WRITE, w->d->cfg.max_output / 4, 0);
	/* No libevent write timeout: the drain rule (conn_drain_cb) covers a
	 * peer that takes nothing as well as one that takes too little. */
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (hello.tv_sec)
		evtimer_add(c->ev_hello, &hello);
	log_debug("%s: connected", c->name);
	return 0;
}

void conn_close(struct conn *c)
{
	struct worker *w = c->w;
	uint64_t pages = 0;

	if (c->parked_req) {
		conn_unlink_parked(c);
		wire_request_free(c->parked_req);
		c->parked_req = NULL;
	}
	if (c->pool) {
		pages = pool_release_all(c->pool, c->pcp, &c->owner);
		if (c->uq)
			daemon_quota_uncharge(c->uq, pages);
	}
	if (c->uq)
		daemon_quota_put(c->d, c->uq);
	if (pages) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_info_rl(&rl, "%s: gone; %lu pages returned", c->name, (unsigned long)pages);
	}
	if (c->listed) {
		if (c->prev)
			c->prev->next = c->next;
		else
			w->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
	}
	if (c->out_cb) {
		/* The buffer may outlive this call (libevent frees it later). */
		evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
		daemon_output_account(c->uu, 0, c->out_queued);
	}
	/* Each count has one owner: the slot carries the daemon's and the uid's
	 * (daemon_slot_put), the hand-off the worker's (workers_dispatch). */
	daemon_slot_put(c->d, c->slot, c->uu);
	if (w)
		__atomic_sub_fetch(&w->nconns, 1, __ATOMIC_RELAXED);
	if (c->ev_stall)
		event_free(c->ev_stall);
	if (c->ev_hello)
		event_free(c->ev_hello);
	if (c->ev_drain)
		event_free(c->ev_drain);
	if (c->bev)
		bufferevent_free(c->bev);
	else
		close(c->fd);
	free(c->groups);
	free(c);
}
