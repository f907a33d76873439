/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn.c - a client connection (see conn.h): its life from hand-off to
 * close, framing and strict decoding of its input, read straight from the
 * socket into a buffer of its own (raw libevent events: one read, then
 * every complete frame in it is answered and the answers leave in one
 * write; conn_out.c), its timers (hello_timeout, read_timeout, the drain rule's
 * check), parking for a reclaim drain, and reclaim of every page on close.
 * What a request does is conn_req.c's; how answers go out, conn_out.c's.
 *
 * Error policy: a request that decodes but is wrong gets an error response
 * and the connection stays usable; a framing error (oversized, or a body
 * that does not decode) gets one last error response and the
 * connection is closed once it is flushed.  Nothing a peer sends can make the
 * daemon exit, leak a page or change state it did not ask for correctly.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clientcache.h"
#include "conn.h"
#include "conn_out.h"
#include "conn_req.h"
#include "frame.h"
#include "log.h"
#include "reclaim.h"
#include "wire.h"
#include "worker.h"

/* A buffer of a connection's own (conn_in_settle) holds at least IN_MIN
 * bytes, and the frame its input starts with. */
#define IN_MIN		(4 * 1024)

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
	c->out_fd = -1;
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

/* Reading on and off: ev_read is persistent, so a request costs no
 * epoll_ctl; only these transitions do. */
static int conn_read_start(struct conn *c)
{
	if (c->reading)
		return 0;
	if (event_add(c->ev_read, NULL) < 0)
		return -ENOMEM;
	c->reading = true;
	return 0;
}

static void conn_read_stop(struct conn *c)
{
	if (c->reading && event_del(c->ev_read) == 0)
		c->reading = false;
}

/* Framing error: one last response, then close once it is flushed. */
static void conn_fail(struct conn *c, int err, const char *what)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
	struct conn_reply rp;

	log_info_rl(&rl, "%s: %s; closing", c->name, what);
	conn_req_init(&rp, 0);
	conn_req_err(&rp, err, "%s", what);
	c->closing = 1;
	conn_read_stop(c);
	if (conn_out_send(c, &rp.r.base, rp.fd) < 0)
		c->closing = 2;		/* close now */
}

/*
 * Write what is queued; false if c must close now: the write failed, or c
 * is closing and has nothing left to flush (or must not wait for it).
 */
static bool conn_flush(struct conn *c)
{
	if (conn_out_flush(c) < 0 || c->closing == 2)
		return false;
	return !(c->closing && c->out_queued == 0);
}

/* After the input is processed on a connection whose peer has closed:
 * close now, or once the output is flushed.  false: close now. */
static bool conn_settle_eof(struct conn *c)
{
	if (!c->eof || c->paused || c->parked_req)
		return true;
	if (c->out_queued == 0)
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
	conn_read_stop(c);
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

/*
 * Backpressure (conn_out_should_pause), once what is queued has been
 * offered to the socket: true if c stopped reading until its output drains.
 * false and *fail if the write failed.
 */
static bool conn_pause(struct conn *c, bool *fail)
{
	*fail = false;
	if (!conn_out_should_pause(c))
		return false;
	if (conn_out_flush(c) < 0) {
		*fail = true;
		return false;
	}
	if (!conn_out_should_pause(c))
		return false;
	c->paused = 1;
	conn_read_stop(c);
	return true;
}

/* Room for the len bytes at buf and the frame they start: at least
 * IN_MIN, never less than len, and for the frame at most a frame and a half
 * (a longer frame is refused: conn_fail). */
static size_t conn_in_want(const struct conn *c, const uint8_t *buf, size_t len)
{
	size_t max = c->d->cfg.max_frame + c->d->cfg.max_frame / 2 + 64, want = IN_MIN;

	if (len >= WIRE_HDR && WIRE_HDR + (size_t)wire_frame_len(buf) > want)
		want = WIRE_HDR + (size_t)wire_frame_len(buf);
	if (want > max)
		want = max;
	return want < len ? len : want;
}

/*
 * The connection's own input buffer before a read: what is left of it moved
 * to the front, and room for the frame it starts.  0 or -ENOMEM.
 */
static int conn_in_room(struct conn *c)
{
	size_t cap;
	uint8_t *p;

	if (c->in_off) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	cap = conn_in_want(c, c->in, c->in_len);
	if (cap <= c->in_cap)
		return 0;
	p = realloc(c->in, cap);
	if (!p)
		return -ENOMEM;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

/*
 * After the input in hand was answered: what is left (part of a frame, or
 * frames that must wait for backpressure, parking or closing) moves out of
 * the worker's buffer into one of the connection's own, and an emptied
 * buffer of its own is freed.  0 or -ENOMEM.
 */
static int conn_in_settle(struct conn *c)
{
	size_t left = c->in_len - c->in_off, cap;
	uint8_t *p;

	if (left == 0) {
		if (!c->in_borrowed)
			free(c->in);
		c->in = NULL;
		c->in_off = c->in_len = c->in_cap = 0;
		c->in_borrowed = false;
		return 0;
	}
	if (!c->in_borrowed)
		return 0;
	cap = conn_in_want(c, c->in + c->in_off, left);
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	memcpy(p, c->in + c->in_off, left);
	c->in = p;
	c->in_off = 0;
	c->in_len = left;
	c->in_cap = cap;
	c->in_borrowed = false;
	return 0;
}

/*
 * The next request in the input, or NULL (see frame_take_buf for *ret).
 * A Free of a packed list, the bulk of a large batch's work, is decoded by
 * hand into the worker's freebuf and `fast` (wire_fast_free_decode: the
 * same result as protobuf-c, at a fraction of the cost); anything else by
 * protobuf-c.  The caller frees what is not `fast`.
 */
static wire_request *conn_next(struct conn *c, wire_request *fast, Pagepool__V1__Free *ffree,
			       int *ret)
{
	const uint8_t *buf = c->in + c->in_off;
	size_t len = c->in_len - c->in_off, used, n;
	uint32_t flen = wire_frame_len(buf);
	wire_request *req;

	pagepool__v1__request__init(fast);
	if (flen <= c->d->cfg.max_frame && len - WIRE_HDR >= flen &&
	    wire_fast_free_decode(buf + WIRE_HDR, flen, &fast->id, c->w->freebuf,
				  c->d->cfg.max_count, &n)) {
		pagepool__v1__free__init(ffree);
		ffree->pfns = c->w->freebuf;
		ffree->n_pfns = n;
		fast->body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
		fast->free = ffree;
		c->in_off += WIRE_HDR + flen;
		*ret = 0;
		return fast;
	}
	req = (wire_request *)frame_take_buf(buf, len, c->d->cfg.max_frame,
					     &pagepool__v1__request__descriptor, &used, ret);
	c->in_off += used;
	return req;
}

/* Handle every complete frame in the input, then write the answers.
 * Returns false if c must close now. */
static bool conn_process(struct conn *c)
{
	bool fail;

	while (!c->closing && !c->parked_req && c->in_len - c->in_off >= WIRE_HDR) {
		wire_request *req, fast;
		Pagepool__V1__Free ffree;
		struct conn_reply rp;
		uint64_t t0;
		int ret;

		if (conn_pause(c, &fail))
			break;
		if (fail)
			return false;
		req = conn_next(c, &fast, &ffree, &ret);
		if (!req) {
			if (ret < 0) {
				COUNTER_ADD(c->w->mx.proto[ret == -E2BIG ? MX_PROTO_frame_too_large
								   : MX_PROTO_undecodable], 1);
				c->drop = MX_CONN_dropped_protocol_error;
				conn_fail(c, ret == -E2BIG ? E2BIG : EPROTO, frame_strerror(ret));
			}
			break;
		}
		c->frames++;
		t0 = metrics_now_ns();
		conn_req_init(&rp, req->id);
		conn_req_run(c, req, &rp);
		if (rp.park && req != &fast) {	/* only an alloc parks */
			conn_park(c, req);
			break;
		}
		ret = conn_out_send(c, &rp.r.base, rp.fd);
		metrics_hist_add(&c->w->mx.req, metrics_now_ns() - t0);
		if (req != &fast)
			wire_request_free(req);
		if (ret < 0)
			return false;
	}
	return conn_flush(c) && conn_settle_eof(c);
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
	    c->in_len == c->in_off) {
		evtimer_del(c->ev_stall);
		return;
	}
	if (c->frames != frames_before || !evtimer_pending(c->ev_stall, NULL))
		evtimer_add(c->ev_stall, &tv);
}

/* The drain rule's check (conn_out_drain_check); a peer that fell behind goes. */
static void conn_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;

	worker_enter(w);
	if (!conn_out_drain_check(c)) {
		c->drop = MX_CONN_dropped_slow_reader;
		conn_close(c);
	}
	worker_leave(w);
}

static void conn_stall_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
	struct conn *c = arg;
	struct worker *w = c->w;

	worker_enter(w);
	log_warnx_rl(&rl, "%s: %zu bytes of an incomplete request and no complete one for %u s "
		     "(read_timeout); disconnecting", c->name, c->in_len - c->in_off,
		     tunables_get(c->d)->read_timeout);
	c->drop = MX_CONN_dropped_read_timeout;
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
		c->drop = MX_CONN_dropped_hello_timeout;
		conn_fail(c, EPROTO, why);
		if (!conn_flush(c))
			conn_close(c);
	}
	worker_leave(w);
}

/*
 * A paused connection may read again once its output is down to a quarter
 * of max_output (and, before hello, empty, for the welcome's fd); if so, it
 * is resumed here.  The output drains in the write callback, but also in the
 * flush that ends the very processing that paused it, when the peer reads
 * fast: EV_WRITE is then gone, so that flush must be able to resume it too.
 */
static bool conn_resume(struct conn *c)
{
	if (!c->paused || c->parked_req || c->closing ||
	    c->out_queued > c->d->cfg.max_output / 4 || (!c->pool && c->out_queued))
		return false;
	c->paused = 0;
	if (!c->eof)
		conn_read_start(c);
	return true;
}

/* Process the input (again after each resume: every pass answers at least
 * one frame or ends paused, so this ends); false if c was closed. */
static bool conn_run(struct conn *c)
{
	uint64_t frames = c->frames;

	do {
		if (!conn_process(c)) {
			conn_close(c);
			return false;
		}
	} while (conn_resume(c));
	if (conn_in_settle(c) < 0) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "%s: out of memory for its input; closing", c->name);
		conn_close(c);
		return false;
	}
	conn_stall_watch(c, frames);
	return true;
}

/* The peer closed its side: answer what was asked (conn_settle_eof), or
 * close now. */
static void conn_eof(struct conn *c)
{
	c->eof = 1;
	conn_read_stop(c);
	if (conn_settle_eof(c))
		return;
	if (c->in_len != c->in_off) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_info_rl(&rl, "%s: closed in the middle of a frame", c->name);
	} else {
		log_debug("%s: closed", c->name);
	}
	conn_close(c);
}

/* recv, offline (worker_syscall_begin): errno as recv leaves it. */
static ssize_t conn_recv(struct conn *c, uint8_t *buf, size_t len)
{
	ssize_t n;
	int err;

	worker_syscall_begin();
	do
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	err = errno;
	worker_syscall_end();
	errno = err;
	return n;
}

/*
 * One read, then every complete frame in hand is answered (conn_run).  With
 * nothing held, the read goes into the worker's buffer (no FIONREAD, no
 * copy); a connection holding part of a frame reads on into its own buffer,
 * which always has room for that frame (conn_in_room).  Reading is stopped
 * whenever frames must wait (backpressure, parking, closing), so what a
 * connection holds is bounded by one read and one frame.
 */
static void conn_read(struct conn *c)
{
	ssize_t n;
	size_t room, got = 0;

	if (!c->in) {
		n = conn_recv(c, c->w->rbuf, WORKER_IOBUF);
		if (n > 0) {
			c->in = c->w->rbuf;
			c->in_borrowed = true;
			c->in_off = 0;
			c->in_len = got = (size_t)n;
			c->in_cap = WORKER_IOBUF;
		}
	} else {
		for (int tries = 0;; tries++) {
			if (conn_in_room(c) < 0) {
				static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

				log_warnx_rl(&rl, "%s: out of memory for its input; closing", c->name);
				conn_close(c);
				return;
			}
			room = c->in_cap - c->in_len;
			if (room == 0) {
				conn_read_stop(c);	/* full: read on once frames are taken */
				return;
			}
			n = conn_recv(c, c->in + c->in_len, room);
			if (n > 0) {
				c->in_len += (size_t)n;
				got += (size_t)n;
			}
			/* A read that filled the buffer with part of a longer frame: the
			 * rest is most likely there already, so read it now rather than
			 * after another wait (once; the buffer then holds the frame). */
			if (n <= 0 || (size_t)n < room || tries > 0 || c->in_len < WIRE_HDR ||
			    WIRE_HDR + (size_t)wire_frame_len(c->in) <= c->in_len)
				break;
		}
	}
	if (got) {
		conn_run(c);	/* an end or error after it shows at the next read */
	} else if (n == 0) {
		conn_eof(c);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_info_rl(&rl, "%s: connection error: %s", c->name, strerror(errno));
		conn_close(c);
	}
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;

	worker_enter(w);
	conn_read(c);
	worker_leave(w);
}

/* The socket takes output again: write on; a closing connection goes once
 * flushed, a paused one reads again (conn_resume). */
static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;

	worker_enter(w);
	if (!conn_flush(c))
		conn_close(c);
	else if (conn_resume(c))
		conn_run(c);
	worker_leave(w);
}

/* The parked request again, now that its drain is done; then read on. */
static void conn_unpark(struct conn *c)
{
	wire_request *req = c->parked_req;
	struct conn_reply rp;
	int ret;

	c->parked_req = NULL;
	conn_req_init(&rp, req->id);
	conn_req_run(c, req, &rp);	/* park_ticket is set: it cannot park again */
	c->park_ticket = 0;
	ret = conn_out_send(c, &rp.r.base, rp.fd);
	wire_request_free(req);
	if (ret < 0) {
		conn_close(c);
		return;
	}
	if (!c->eof)
		conn_read_start(c);
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
	c->ev_read = event_new(w->base, c->fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->ev_write = event_new(w->base, c->fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	c->ev_stall = evtimer_new(w->base, conn_stall_cb, c);
	c->ev_hello = evtimer_new(w->base, conn_hello_cb, c);
	c->ev_drain = evtimer_new(w->base, conn_drain_cb, c);
	if (!c->ev_read || !c->ev_write || !c->ev_stall || !c->ev_hello ||
	    !c->ev_drain || conn_read_start(c) < 0) {
		log_warnx("%s: out of memory; closing", c->name);
		conn_close(c);
		return -ENOMEM;
	}
	snprintf(c->name, sizeof(c->name), "client %lu (pid %d uid %d, worker %u)",
		 (unsigned long)c->id, (int)c->pid, (int)c->uid, w->idx);
	/* No write timeout: the drain rule (conn_drain_cb) covers a peer that
	 * takes nothing as well as one that takes too little. */
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
	conn_out_detach(c);
	/* Each count has one owner: the slot carries the daemon's and the uid's
	 * (daemon_slot_put), the hand-off the worker's (workers_dispatch). */
	daemon_slot_put(c->d, c->slot, c->uu);
	/* After the slot: the admin thread reads the region under quota_lock. */
	ccache_destroy(c);
	if (w) {
		__atomic_sub_fetch(&w->nconns, 1, __ATOMIC_RELAXED);
		COUNTER_ADD(w->mx.conns[c->drop ? c->drop : MX_CONN_closed], 1);
	}
	if (c->ev_stall)
		event_free(c->ev_stall);
	if (c->ev_hello)
		event_free(c->ev_hello);
	if (c->ev_drain)
		event_free(c->ev_drain);
	if (c->ev_read)
		event_free(c->ev_read);
	if (c->ev_write)
		event_free(c->ev_write);
	close(c->fd);
	if (!c->in_borrowed)
		free(c->in);
	free(c->groups);
	free(c);
}
