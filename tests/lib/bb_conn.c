/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_conn.c - raw connections of the black-box tests (see bb_conn.h).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bb_conn.h"
#include "bb_time.h"

int bb_socket_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

void bb_conn_init(struct bb_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	transport_init_fd(&c->t, -1, BB_IO_TIMEOUT_MS);
}

int bb_conn_open(struct bb_conn *c, const char *path)
{
	int fd = bb_socket_connect(path);

	bb_conn_init(c);
	if (fd < 0)
		return fd;
	transport_init_fd(&c->t, fd, BB_IO_TIMEOUT_MS);
	c->t.max_frame = BB_MAX_FRAME;
	c->fd = fd;
	return 0;
}

void bb_conn_close(struct bb_conn *c)
{
	if (c->fd < 0)
		return;
	/* The transport owns the socket: c->fd is the same descriptor. */
	transport_close(&c->t);
	for (unsigned i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	bb_conn_init(c);
}

/* Keep a descriptor that came with an answer (closed when fds[] is full). */
static void conn_keep_fd(struct bb_conn *c, int fd)
{
	if (c->nfds < BB_MAX_FDS)
		c->fds[c->nfds++] = fd;
	else
		close(fd);
}

int bb_conn_send(struct bb_conn *c, const void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		struct pollfd pf = { .fd = c->fd, .events = POLLOUT };
		int left;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		left = bb_left_ms(deadline);
		if (left == 0 || poll(&pf, 1, left) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

int bb_conn_send_buf(struct bb_conn *c, const struct bb_buf *b)
{
	return bb_conn_send(c, b->p, b->len, BB_IO_TIMEOUT_MS);
}

int bb_conn_send_req(struct bb_conn *c, const bb_request *req, const void *extra,
		     size_t extralen)
{
	struct bb_buf b = { 0 };
	int r;

	bb_buf_add_msg(&b, &req->base, extra, extralen);
	r = bb_conn_send_buf(c, &b);
	bb_buf_free(&b);
	return r;
}

int bb_conn_send_msg(struct bb_conn *c, const ProtobufCMessage *msg)
{
	c->t.timeout_ms = BB_IO_TIMEOUT_MS;
	return transport_send(&c->t, msg);
}

bool bb_conn_readable(struct bb_conn *c, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;

	/* Bytes the transport has read ahead are input too. */
	if (c->t.rend > c->t.rstart)
		return true;
	for (;;) {
		struct pollfd pf = { .fd = c->fd, .events = POLLIN };
		int r = poll(&pf, 1, bb_left_ms(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		return r > 0;
	}
}

int bb_conn_peek(struct bb_conn *c, void *buf, size_t cap, size_t want, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	uint8_t *out = buf;

	for (;;) {
		size_t ahead = c->t.rend - c->t.rstart, n = ahead < cap ? ahead : cap;
		ssize_t got = 0;

		memcpy(out, c->t.rbuf + c->t.rstart, n);
		if (n < cap)
			got = recv(c->fd, out + n, cap - n, MSG_PEEK | MSG_DONTWAIT);
		if (got > 0)
			n += (size_t)got;
		if (n >= want)
			return (int)n;
		if (got == 0 && n < cap)
			return -ECONNRESET;
		if (got < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (bb_left_ms(deadline) == 0)
			return -ETIMEDOUT;
		if (got > 0) {
			/* Some bytes, not enough: POLLIN would not wait for more. */
			poll(NULL, 0, 1);
		} else {
			struct pollfd pf = { .fd = c->fd, .events = POLLIN };

			poll(&pf, 1, bb_left_ms(deadline));
		}
	}
}

int bb_conn_recv_msg(struct bb_conn *c, int timeout_ms, const ProtobufCMessageDescriptor *desc,
		     ProtobufCMessage **out)
{
	int fd = -1, r;

	*out = NULL;
	if (c->eof)
		return -ECONNRESET;
	if (!bb_conn_readable(c, timeout_ms))
		return -ETIMEDOUT;
	c->t.timeout_ms = timeout_ms > BB_IO_TIMEOUT_MS ? timeout_ms : BB_IO_TIMEOUT_MS;
	r = transport_recv(&c->t, desc, out, &fd);
	if (fd >= 0)
		conn_keep_fd(c, fd);
	if (r == -ECONNRESET)
		c->eof = true;
	return r == -EPROTO ? -EBADMSG : r;
}

int bb_conn_recv(struct bb_conn *c, int timeout_ms, bb_response **out)
{
	return bb_conn_recv_msg(c, timeout_ms, &pagepool__v1__response__descriptor,
				(ProtobufCMessage **)out);
}

int bb_conn_wait_close(struct bb_conn *c, int timeout_ms, unsigned *nresp)
{
	int64_t deadline = bb_now_ms() + timeout_ms;

	*nresp = 0;
	for (;;) {
		bb_response *r;
		int ret = bb_conn_recv(c, bb_left_ms(deadline), &r);

		if (ret == -ECONNRESET)
			return 0;
		if (ret == -ETIMEDOUT)
			return -ETIMEDOUT;
		if (ret != 0)	/* not a frame: the rest cannot be counted */
			return bb_conn_wait_eof(c, bb_left_ms(deadline));
		bb_resp_free(r);
		(*nresp)++;
	}
}

int bb_conn_wait_eof(struct bb_conn *c, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	char buf[4096];

	while (!c->eof) {
		struct pollfd pf = { .fd = c->fd, .events = POLLIN };
		int r = poll(&pf, 1, bb_left_ms(deadline));
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			c->eof = true;
		else if (bb_left_ms(deadline) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}
