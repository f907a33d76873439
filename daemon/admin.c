/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * admin.c - the admin socket's connections (see admin.h): credentials and
 * the connection cap at accept, framing and decoding on a bufferevent,
 * backpressure, the idle timeout, and one teardown (admin_close).  What a
 * request does is admin_req.c's; this file only moves frames.  Also the
 * admin thread's once-a-second memory trim timer.
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
#include <unistd.h>

#include "admin.h"
#include "admin_req.h"
#include "frame.h"
#include "log.h"
#include "refuse.h"
#include "wire.h"

#define ADMIN_MAX_FRAME		4096
#define ADMIN_MAX_CONNS		64
#define ADMIN_ROOT_CONNS	4	/* of those, kept for root and our own uid */
#define ADMIN_MAX_OUTPUT	(64 * 1024)	/* stop reading requests above this */

typedef Pagepool__V1__AdminRequest admin_request;

struct admin_conn {
	struct admin_conn *next, *prev;
	struct daemon *d;
	int fd;				/* the bufferevent's once there is one */
	struct bufferevent *bev;
	uid_t uid;
	pid_t pid;			/* SO_PEERCRED at accept, for the audit lines */
	int closing;
	int paused;			/* reading stopped until the output drains */
};

static struct event_base *admin_base;
static struct admin_conn *admin_conns;
static struct event *trim_ev;		/* daemon_trim() once a second */

/* Encode and queue; frees what the reply allocated. */
static int admin_send(struct admin_conn *ac, struct admin_reply *rp)
{
	uint8_t *buf;
	size_t len;
	int ret = wire_encode(&rp->r.base, UINT32_MAX, &buf, &len);

	admin_req_free(rp);
	if (ret < 0)
		return ret;
	ret = bufferevent_write(ac->bev, buf, len) < 0 ? -ENOMEM : 0;
	free(buf);
	return ret;
}

/*
 * The one teardown of an admin connection, from every state: unlist it,
 * uncount it, close its socket (through the bufferevent once there is one)
 * and free it.
 */
static void admin_close(struct admin_conn *ac)
{
	if (ac->prev)
		ac->prev->next = ac->next;
	else
		admin_conns = ac->next;
	if (ac->next)
		ac->next->prev = ac->prev;
	if (ac->bev)
		bufferevent_free(ac->bev);
	else
		close(ac->fd);
	ac->d->admin_nconns--;
	free(ac);
}

/* Last word, then close once flushed. */
static void admin_fail(struct admin_conn *ac, int err, const char *what)
{
	struct admin_reply rp;

	admin_req_init(&rp, 0);
	admin_req_err(&rp, err, "%s", what);
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
		admin_req_init(&rp, q->id);
		admin_req_run(ac->d, &(struct admin_peer){ .uid = (int)ac->uid, .pid = ac->pid },
			      q, &rp);
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

	admin_req_init(&rp, 0);
	rp.r.status = (Pagepool__V1__Status)wire_status_from_errno(err);
	va_start(ap, fmt);
	vsnprintf(rp.text, sizeof(rp.text), fmt, ap);
	va_end(ap);
	refuse_msg(fd, &rp.r.base);
}

/* Root, our own uid, or a member of admin_group.  *uid_out and *pid_out:
 * the peer's, from SO_PEERCRED. */
static bool admin_allowed(struct daemon *d, int fd, uid_t *uid_out, pid_t *pid_out)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];
	bool ok = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*uid_out = cred.uid;
	*pid_out = cred.pid;
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
	pid_t pid = 0;
	unsigned cap;

	if (!admin_allowed(d, fd, &uid, &pid)) {
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
	ac->fd = fd;
	ac->uid = uid;
	ac->pid = pid;
	d->admin_nconns++;
	ac->next = admin_conns;
	if (admin_conns)
		admin_conns->prev = ac;
	admin_conns = ac;
	ac->bev = bufferevent_socket_new(admin_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!ac->bev) {
		admin_close(ac);
		return;
	}
	/* Input is taken a frame at a time: never more than two buffered. */
	bufferevent_setwatermark(ac->bev, EV_READ, 0, 2 * (WIRE_HDR + ADMIN_MAX_FRAME));
	bufferevent_set_timeouts(ac->bev, &idle, &idle);
	bufferevent_setcb(ac->bev, admin_read_cb, admin_write_cb, admin_event_cb, ac);
	bufferevent_enable(ac->bev, EV_READ | EV_WRITE);
}

static void trim_cb(evutil_socket_t fd, short what, void *arg)
{
	daemon_trim(arg);
}

int admin_start(struct daemon *d, struct event_base *base)
{
	struct timeval second = { .tv_sec = 1 };

	admin_base = base;
	trim_ev = event_new(base, -1, EV_PERSIST, trim_cb, d);
	if (!trim_ev || event_add(trim_ev, &second) < 0)
		return -ENOMEM;
	return 0;
}

void admin_stop(struct daemon *d)
{
	while (admin_conns)
		admin_close(admin_conns);
	if (trim_ev)
		event_free(trim_ev);
	trim_ev = NULL;
}
