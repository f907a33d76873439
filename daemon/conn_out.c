/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn_out.c - a client connection's output (see conn_out.h): answers are
 * framed into the connection's own output buffer and written with one send
 * when the input in hand is answered; EV_WRITE waits only while the socket
 * would block.  The welcome goes with its fd by sendmsg, every byte queued
 * is charged to the uid (daemon_output_account) and every byte the peer
 * took counts for the drain rule (config.h).
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clientcache.h"
#include "conn.h"
#include "conn_out.h"
#include "log.h"
#include "wire.h"
#include "worker.h"

/* The output buffer: the worker's wbuf while the connection's callback
 * runs (no malloc per answer), one of the connection's own for what the
 * socket did not take by the end of it (conn_out_keep), freed once empty. */

/* Stop using the worker's buffer (its content is dropped or was copied). */
static void conn_out_unborrow(struct conn *c)
{
	if (c->out_borrowed) {
		c->w->wbuf_user = NULL;
		c->out_borrowed = false;
		c->out = NULL;
		c->out_cap = 0;
	}
}

/* The peer took n bytes of the output: uncharge the uid, count them for
 * the drain rule; an emptied buffer of the connection's own is freed. */
static void conn_out_taken(struct conn *c, size_t n)
{
	c->out_off += n;
	c->out_queued -= n;
	c->out_taken += n;
	daemon_output_account(c->uu, 0, n);
	if (c->out_queued == 0) {
		c->out_off = c->out_len = 0;
		if (!c->out_borrowed) {
			free(c->out);
			c->out = NULL;
			c->out_cap = 0;
		}
	}
}

/* Room for len more bytes at out_len: the worker's buffer when it is free,
 * else compact, then grow (into a buffer of the connection's own).  0 or
 * -ENOMEM. */
static int conn_out_reserve(struct conn *c, size_t len)
{
	size_t cap;
	uint8_t *p;

	if (!c->out && !c->w->wbuf_user) {
		c->w->wbuf_user = c;
		c->out = c->w->wbuf;
		c->out_cap = WORKER_IOBUF;
		c->out_borrowed = true;
	}
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_queued);
		c->out_len = c->out_queued;
		c->out_off = 0;
	}
	if (c->out_cap - c->out_len >= len)
		return 0;
	cap = c->out_cap ? 2 * c->out_cap : 4096;
	if (cap < c->out_len + len)
		cap = c->out_len + len;
	if (c->out_borrowed) {
		p = malloc(cap);
		if (p)
			memcpy(p, c->out, c->out_len);
	} else {
		p = realloc(c->out, cap);
	}
	if (!p)
		return -ENOMEM;
	conn_out_unborrow(c);
	c->out = p;
	c->out_cap = cap;
	return 0;
}

/* End of a flush: what the socket did not take leaves the worker's buffer
 * for one of the connection's own.  0 or -ENOMEM. */
static int conn_out_keep(struct conn *c)
{
	size_t cap = c->out_queued < 4096 ? 4096 : c->out_queued;
	uint8_t *p;

	if (!c->out_borrowed)
		return 0;
	if (c->out_queued == 0) {
		c->out_off = c->out_len = 0;
		conn_out_unborrow(c);
		return 0;
	}
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	memcpy(p, c->out + c->out_off, c->out_queued);
	conn_out_unborrow(c);
	c->out = p;
	c->out_cap = cap;
	c->out_off = 0;
	c->out_len = c->out_queued;
	return 0;
}

/* Start a drain-rule period: what is queued now is owed by the next check. */
static void conn_out_drain_arm(struct conn *c)
{
	struct timeval tv = { .tv_sec = tunables_get(c->d)->write_timeout };

	c->drain_mark = c->out_taken;
	c->drain_owed = c->out_queued;
	evtimer_add(c->ev_drain, &tv);
}

void conn_out_detach(struct conn *c)
{
	daemon_output_account(c->uu, 0, c->out_queued);
	c->out_queued = 0;
	if (c->out_borrowed)
		conn_out_unborrow(c);
	else
		free(c->out);
	c->out = NULL;
}

/* One sendmsg of len bytes at buf with fd attached (SCM_RIGHTS): the bytes
 * sent, or -errno. */
static ssize_t conn_out_sendmsg_fd(struct conn *c, const uint8_t *buf, size_t len, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	worker_syscall_begin();
	do
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	worker_syscall_end();
	return n;
}

int conn_out_flush(struct conn *c)
{
	bool wait;

	while (c->out_queued) {
		ssize_t n;
		bool full;

		if (c->out_fd >= 0) {
			/* A welcome that met a full socket: its fd goes now. */
			n = conn_out_sendmsg_fd(c, c->out + c->out_off, c->out_queued, c->out_fd);
			if (n < 0) {
				errno = (int)-n;
				n = -1;
			} else {
				ccache_fd_sent(c, c->out_fd);
				c->out_fd = -1;
			}
		} else {
			int err;

			worker_syscall_begin();
			n = send(c->fd, c->out + c->out_off, c->out_queued,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			err = errno;
			worker_syscall_end();
			errno = err;
		}
		full = n >= 0 && (size_t)n < c->out_queued;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
			int err = errno;

			log_info_rl(&rl, "%s: connection error: %s", c->name, strerror(err));
			return -err;
		}
		/* A short write means the socket is full: another try would
		 * only cost a system call to learn EAGAIN. */
		conn_out_taken(c, (size_t)n);
		if (full)
			break;
	}
	if (conn_out_keep(c) < 0) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "%s: out of memory for its output; closing", c->name);
		return -ENOMEM;
	}
	/* EV_WRITE only while something waits: no epoll_ctl per answer. */
	wait = c->out_queued > 0;
	/* The drain rule's clock runs only while output waits too: no timer
	 * pending between requests, so the worker waits in epoll_wait with no
	 * timeout (no hrtimer to arm and cancel per request). */
	if (wait && !evtimer_pending(c->ev_drain, NULL))
		conn_out_drain_arm(c);
	else if (!wait && evtimer_pending(c->ev_drain, NULL))
		evtimer_del(c->ev_drain);
	if (wait != c->writing) {
		if (wait ? event_add(c->ev_write, NULL) : event_del(c->ev_write))
			return -ENOMEM;
		c->writing = wait;
	}
	return 0;
}

/*
 * The drain check, write_timeout after the previous one while answers are
 * queued: the peer must have taken the smaller of what was queued then and
 * min_drain_rate * write_timeout, and at least a byte; otherwise it goes
 * (false, logged here; the caller closes it).
 * libevent's own write timeout would not do: it restarts at every byte of
 * progress, so 4 KiB every few seconds kept a full queue alive for ever.
 */
bool conn_out_drain_check(struct conn *c)
{
	const struct tunables *t = tunables_get(c->d);
	uint64_t need, taken = c->out_taken - c->drain_mark;
	uint32_t secs;


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
		return false;
	}
	if (c->out_queued)
		conn_out_drain_arm(c);
	return true;
}

/* len bytes were framed at out_len: queue them; the connection closes if
 * its output exceeds the cap. */
static int conn_out_commit(struct conn *c, size_t len)
{
	c->out_len += len;
	c->out_queued += len;
	daemon_output_account(c->uu, len, 0);
	/* Backpressure keeps a reading client well below this. */
	if (c->out_queued > c->d->cfg.max_output) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "%s: %zu bytes of responses queued; disconnecting", c->name,
			     c->out_queued);
		return -ENOBUFS;
	}
	return 0;
}

/* Queue len framed bytes. */
static int conn_out_queue(struct conn *c, const uint8_t *buf, size_t len)
{
	if (conn_out_reserve(c, len) < 0)
		return -ENOMEM;
	memcpy(c->out + c->out_len, buf, len);
	return conn_out_commit(c, len);
}

/*
 * Send a frame with an fd attached (the welcome).  conn_process() pauses a
 * connection that has not joined until its output is flushed
 * (conn_out_should_pause), so nothing of ours is queued ahead of it; but
 * the socket itself may be full of earlier answers the peer has not read.
 * Then the frame is queued whole with the fd in c->out_fd, and
 * conn_out_flush sends the fd with its first byte once the socket takes it.
 */
static int conn_out_send_fd(struct conn *c, const uint8_t *buf, size_t len, int fd)
{
	ssize_t n;
	int ret;

	if (c->out_queued > 0)
		return -EAGAIN;
	n = conn_out_sendmsg_fd(c, buf, len, fd);
	if (n == -EAGAIN || n == -EWOULDBLOCK) {
		ret = conn_out_queue(c, buf, len);
		if (ret == 0)
			c->out_fd = fd;
		return ret;
	}
	if (n < 0) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "%s: cannot send the welcome: %s", c->name, strerror((int)-n));
		return (int)n;
	}
	/* The fd went with the first byte; the rest may follow normally. */
	ccache_fd_sent(c, fd);
	return (size_t)n < len ? conn_out_queue(c, buf + n, len - (size_t)n) : 0;
}

/* A Pages answer, framed by wire_fast_pages_pack. */
static int conn_out_pages(struct conn *c, const wire_response *r)
{
	const Pagepool__V1__Pages *pg = r->pages;
	size_t len;

	if (pg->n_pfns > UINT32_MAX / 8)
		return -E2BIG;
	if (conn_out_reserve(c, WIRE_HDR + wire_fast_pages_max(pg->n_pfns)) < 0)
		return -ENOMEM;
	len = wire_fast_pages_pack(c->out + c->out_len + WIRE_HDR, r->id, pg->pfns, pg->n_pfns,
				   pg->order);
	wire_put_hdr(c->out + c->out_len, (uint32_t)len);
	return conn_out_commit(c, WIRE_HDR + len);
}

int conn_out_send(struct conn *c, const ProtobufCMessage *msg, int fd)
{
	uint8_t *buf;
	size_t len;
	int ret;

	if (fd >= 0) {
		ret = wire_encode(msg, UINT32_MAX, &buf, &len);
		if (ret < 0)
			return ret;
		ret = conn_out_send_fd(c, buf, len, fd);
		free(buf);
		return ret;
	}
	/* Framed in place, straight into the output; a Pages answer by hand. */
	if (msg->descriptor == &pagepool__v1__response__descriptor) {
		const wire_response *r = (const wire_response *)msg;

		if (r->body_case == PAGEPOOL__V1__RESPONSE__BODY_PAGES && r->status == 0 &&
		    !*r->error && !r->bad_index && !r->pages->n_runs &&
		    !r->pages->base.n_unknown_fields)
			return conn_out_pages(c, r);
	}
	len = protobuf_c_message_get_packed_size(msg);
	if (len > UINT32_MAX)
		return -E2BIG;
	if (conn_out_reserve(c, WIRE_HDR + len) < 0)
		return -ENOMEM;
	wire_put_hdr(c->out + c->out_len, (uint32_t)len);
	protobuf_c_message_pack(msg, c->out + c->out_len + WIRE_HDR);
	return conn_out_commit(c, WIRE_HDR + len);
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
bool conn_out_should_pause(const struct conn *c)
{
	size_t queued = c->out_queued;

	if (!c->pool)
		return queued > 0;
	return queued > c->d->cfg.max_output / 2 ||
	       (queued > 0 && daemon_output_over(c->uu, tunables_get(c->d)->max_output_per_uid));
}
