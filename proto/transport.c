/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport.c - the client request loop (see transport.h).
 *
 * The socket stays blocking.  Without a timeout every send and receive is a
 * plain blocking call, so an answer costs one recvmsg as it always did; with
 * one, each call gets a single deadline, every send and receive is made
 * MSG_DONTWAIT so that none can block past it, and poll() waits for the
 * socket with the time left before each receive and whenever a send finds
 * the socket full (a ready socket may still take fewer bytes than offered:
 * EAGAIN just means poll again).
 *
 * Received bytes go through a read-ahead buffer: a whole small answer (a
 * header and its body) arrives in one recvmsg; a body of TRANSPORT_RBUF
 * bytes or more is read straight into its own allocation.  A read-ahead
 * may take several pipelined frames at once, so an fd cannot simply go to
 * the frame being read: the kernel ends a read at the end of the bytes an
 * fd was sent with (it never glues later bytes on), so the fd belongs to
 * the frame holding the last byte read, and waits in t->rfd until that
 * byte is taken.  Texts put in t->error are printable ASCII: part of them
 * come from the peer.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"
#include "wire.h"

#define MAX_FDS		8	/* room for stray fds, which are closed */
#define NO_DEADLINE	INT64_MIN

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The deadline of a call that starts now, NO_DEADLINE for timeout_ms < 0. */
static int64_t deadline_at(int timeout_ms)
{
	return timeout_ms < 0 ? NO_DEADLINE : now_ms() + timeout_ms;
}

/* Milliseconds left until deadline, 0 when it has passed. */
static int left_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left > 0 ? (int)left : 0;
}

static void __attribute__((format(printf, 2, 0)))
error_vset(struct pp_transport *t, const char *fmt, va_list ap)
{
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	for (unsigned char *p = (unsigned char *)t->error; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

/* Put words for err in t->error and return err; t stays usable. */
static int __attribute__((format(printf, 3, 4)))
refuse(struct pp_transport *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(t, fmt, ap);
	va_end(ap);
	return err;
}

/* The same for a transport failure: the stream can no longer be trusted. */
static int __attribute__((format(printf, 3, 4)))
fail(struct pp_transport *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(t, fmt, ap);
	va_end(ap);
	t->broken = true;
	return err;
}

/*
 * Wait until t->fd is ready for `events` or the deadline passes: 0 (ready,
 * or in error: the next send or receive says which), -ETIMEDOUT, -errno.
 */
static int wait_ready(struct pp_transport *t, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pf = { .fd = t->fd, .events = events };
		int r = poll(&pf, 1, left_ms(deadline));

		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

void transport_init_fd(struct pp_transport *t, int fd, int timeout_ms)
{
	t->fd = fd;
	t->max_frame = WIRE_MAX_FRAME_DEFAULT;
	t->timeout_ms = timeout_ms;
	t->next_id = 1;
	t->broken = false;
	t->rstart = t->rend = 0;
	t->rfd = -1;
	t->error[0] = '\0';
}

void transport_close(struct pp_transport *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->rfd >= 0)
		close(t->rfd);
	t->fd = t->rfd = -1;
	t->rstart = t->rend = 0;
}

uint64_t transport_next_id(struct pp_transport *t)
{
	return t->next_id++;
}

/*
 * connect(2) until it succeeds or the deadline passes.  An AF_UNIX connect
 * blocks only while the listener's backlog is full, and then honours
 * SO_SNDTIMEO (failing with EAGAIN): that is the one way to bound it, since
 * there is nothing to poll for.  An interrupted connect leaves the socket
 * unconnected, so it is simply tried again with the time left.
 */
static int connect_until(int fd, const struct sockaddr_un *sa, int64_t deadline)
{
	for (;;) {
		int r;

		if (deadline != NO_DEADLINE) {
			int left = left_ms(deadline);
			/* A zero timeval means "forever": wait at least 1 us. */
			struct timeval tv = { .tv_sec = left / 1000,
					      .tv_usec = left % 1000 * 1000 + !left };

			if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
				return -errno;
		}
		r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
		if (r == 0)
			break;
		if (errno == EINTR && (deadline == NO_DEADLINE || left_ms(deadline) > 0))
			continue;
		if (deadline != NO_DEADLINE && (errno == EAGAIN || errno == EINTR))
			return -ETIMEDOUT;
		return -errno;
	}
	if (deadline != NO_DEADLINE) {
		struct timeval forever = { 0 };	/* sends are bounded by poll() now */

		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &forever, sizeof(forever)) < 0)
			return -errno;
	}
	return 0;
}

int transport_connect(struct pp_transport *t, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd, err;

	transport_init_fd(t, -1, timeout_ms);
	if (len >= sizeof(sa.sun_path))
		return refuse(t, -ENAMETOOLONG, "socket path longer than %zu bytes",
			      sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return refuse(t, -errno, "socket: %s", strerror(errno));
	err = connect_until(fd, &sa, deadline_at(timeout_ms));
	if (!err) {
		t->fd = fd;
		return 0;
	}
	close(fd);
	if (err == -ENOENT)
		return refuse(t, -ECONNREFUSED, "connect %s: no such socket", path);
	if (err == -ETIMEDOUT)
		return refuse(t, err, "connect %s: not accepted within %d ms", path, timeout_ms);
	return refuse(t, err, "connect %s: %s", path, strerror(-err));
}

/*
 * Send len bytes whole before the deadline.  0 or -errno, t broken.  With a
 * deadline the send is tried first and poll() waits only when the socket
 * is full: there is nearly always room for a request, and a poll before
 * every send would double the system calls of a call.
 */
static int send_all(struct pp_transport *t, const uint8_t *buf, size_t len, int64_t deadline)
{
	int flags = MSG_NOSIGNAL | (deadline == NO_DEADLINE ? 0 : MSG_DONTWAIT);
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(t->fd, buf + off, len - off, flags);
		int err;

		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || !(flags & MSG_DONTWAIT))
			return fail(t, -errno, "send: %s", strerror(errno));
		err = wait_ready(t, POLLOUT, deadline);
		if (err == -ETIMEDOUT)
			return fail(t, err, "send: the daemon did not take the request "
				    "within %d ms", t->timeout_ms);
		if (err)
			return fail(t, err, "poll: %s", strerror(-err));
	}
	return 0;
}

/* Frame and send msg; no broken check.  -E2BIG and -ENOMEM leave t usable. */
static int send_msg(struct pp_transport *t, const ProtobufCMessage *msg, int64_t deadline)
{
	uint8_t *buf;
	size_t len;
	int err;

	err = wire_encode(msg, t->max_frame, &buf, &len);
	if (err == -E2BIG)
		return refuse(t, err, "request larger than the daemon's max_frame %u",
			      t->max_frame);
	if (err)
		return refuse(t, err, "no memory to encode a request");
	err = send_all(t, buf, len, deadline);
	free(buf);
	return err;
}

int transport_send(struct pp_transport *t, const ProtobufCMessage *msg)
{
	if (t->broken)
		return -ECONNRESET;
	return send_msg(t, msg, deadline_at(t->timeout_ms));
}

/* Keep fd in *fd_out when that is still empty (-1), else close it. */
static void fd_keep(int fd, int *fd_out)
{
	if (fd_out && *fd_out < 0)
		*fd_out = fd;
	else
		close(fd);
}

/*
 * Keep the first SCM_RIGHTS fd in *fd_out when fd_out is given and still
 * empty (-1); close every other fd that came along.
 */
static void take_fds(struct msghdr *m, int *fd_out)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			fd_keep(fd, fd_out);
		}
	}
}

/* One recvmsg into buf before the deadline: bytes read, 0 at EOF, -errno. */
static ssize_t recv_some(struct pp_transport *t, void *buf, size_t len, int *fd_out,
			 int64_t deadline)
{
	int flags = MSG_CMSG_CLOEXEC | (deadline == NO_DEADLINE ? 0 : MSG_DONTWAIT);

	for (;;) {
		union {
			char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = { .iov_base = buf, .iov_len = len };
		struct msghdr m = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
		};
		ssize_t n;

		if (deadline != NO_DEADLINE) {
			int err = wait_ready(t, POLLIN, deadline);

			if (err)
				return err;
		}
		n = recvmsg(t->fd, &m, flags);
		if (n >= 0) {
			take_fds(&m, fd_out);
			return n;
		}
		if (errno != EINTR && !(errno == EAGAIN && (flags & MSG_DONTWAIT)))
			return -errno;
	}
}

/*
 * Read exactly len bytes of the frame being received, from the read-ahead
 * buffer first; *fd_out (not NULL) takes the frame's fd.  0, or -errno with
 * t broken: -ECONNRESET for EOF before a frame, -EPROTO inside one.
 */
static int read_exact(struct pp_transport *t, uint8_t *dst, size_t len, bool frame_start,
		      int *fd_out, int64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		size_t avail = t->rend - t->rstart;
		bool direct = len - done >= TRANSPORT_RBUF;
		ssize_t n;

		if (avail) {
			size_t k = avail < len - done ? avail : len - done;

			memcpy(dst + done, t->rbuf + t->rstart, k);
			t->rstart += k;
			done += k;
			if (t->rstart == t->rend && t->rfd >= 0) {
				fd_keep(t->rfd, fd_out);	/* its byte is this frame's */
				t->rfd = -1;
			}
			continue;
		}
		t->rstart = t->rend = 0;
		/* A direct read never goes past this frame: its fd is ours. */
		if (direct)
			n = recv_some(t, dst + done, len - done, fd_out, deadline);
		else
			n = recv_some(t, t->rbuf, TRANSPORT_RBUF, &t->rfd, deadline);
		if (n == -ETIMEDOUT)
			return fail(t, -ETIMEDOUT, "no answer from the daemon within %d ms",
				    t->timeout_ms);
		if (n < 0)
			return fail(t, (int)n, "receive: %s", strerror(-(int)n));
		if (n == 0 && frame_start && done == 0)
			return fail(t, -ECONNRESET, "the daemon closed the connection");
		if (n == 0)
			return fail(t, -EPROTO, "truncated frame from the daemon");
		if (direct)
			done += (size_t)n;
		else
			t->rend = (size_t)n;
	}
	return 0;
}

/* Hand a received fd to the caller, or close it when nobody asked for one. */
static void fd_hand(int fd, int *fd_out)
{
	if (fd_out)
		*fd_out = fd;
	else if (fd >= 0)
		close(fd);
}

/* Receive and unpack one frame; no broken check.  On failure *out is NULL
 * and no fd is left open. */
static int recv_msg(struct pp_transport *t, const ProtobufCMessageDescriptor *desc,
		    ProtobufCMessage **out, int *fd_out, int64_t deadline)
{
	uint8_t hdr[WIRE_HDR], *body = NULL;
	uint32_t len;
	int fd = -1, err;

	*out = NULL;
	err = read_exact(t, hdr, sizeof(hdr), true, &fd, deadline);
	if (err)
		goto fail;
	len = wire_frame_len(hdr);
	if (wire_check_len(len, t->max_frame)) {
		err = fail(t, -EPROTO, "response frame of %u bytes (limit %u)", len, t->max_frame);
		goto fail;
	}
	if (len && !(body = malloc(len))) {
		err = fail(t, -ENOMEM, "no memory for a %u-byte response", len);
		goto fail;
	}
	err = read_exact(t, body, len, false, &fd, deadline);
	if (err)
		goto fail;
	*out = wire_unpack(desc, body, len);
	if (!*out) {
		err = fail(t, -EPROTO, "undecodable response (%u bytes)", len);
		goto fail;
	}
	free(body);
	fd_hand(fd, fd_out);
	return 0;
fail:
	free(body);
	if (fd >= 0)
		close(fd);
	return err;
}

int transport_recv(struct pp_transport *t, const ProtobufCMessageDescriptor *desc,
		   ProtobufCMessage **out, int *fd_out)
{
	*out = NULL;
	if (fd_out)
		*fd_out = -1;
	if (t->broken)
		return -ECONNRESET;
	return recv_msg(t, desc, out, fd_out, deadline_at(t->timeout_ms));
}

/* The field `name` of msg when it has one of type `type`, else NULL. */
static const void *msg_field(const ProtobufCMessage *msg, const char *name, ProtobufCType type)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, name);

	if (!f || f->type != type || f->label == PROTOBUF_C_LABEL_REPEATED)
		return NULL;
	return (const char *)msg + f->offset;
}

uint64_t transport_msg_id(const ProtobufCMessage *msg)
{
	const uint64_t *id = msg_field(msg, "id", PROTOBUF_C_TYPE_UINT64);

	return id ? *id : 0;
}

int transport_msg_status(const ProtobufCMessage *msg)
{
	const int *status = msg_field(msg, "status", PROTOBUF_C_TYPE_ENUM);

	return status ? *status : 0;
}

static const char *msg_error(const ProtobufCMessage *msg)
{
	const char *const *error = msg_field(msg, "error", PROTOBUF_C_TYPE_STRING);

	return error && *error ? *error : "";
}

/* Does resp answer the request `id`?  0, or -EPROTO with t broken for
 * another id or a status no errno can be. */
static int answer_match(struct pp_transport *t, const ProtobufCMessage *resp, uint64_t id)
{
	uint64_t got = transport_msg_id(resp);
	int status = transport_msg_status(resp);

	/* id 0 with an error: the daemon refused the connection itself (a bad
	 * frame, shutting down, too many connections) and is closing it. */
	if (got != id && !(got == 0 && status != 0))
		return fail(t, -EPROTO, "response id %llu to request %llu",
			    (unsigned long long)got, (unsigned long long)id);
	if (status < 0 || status > 4095)
		return fail(t, -EPROTO, "response status %d", status);
	return 0;
}

/* 0 for an OK answer, else -status with the daemon's words in t->error. */
static int answer_status(struct pp_transport *t, const ProtobufCMessage *resp)
{
	int status = transport_msg_status(resp);

	if (status == 0)
		return 0;
	if (transport_msg_id(resp) == 0)
		t->broken = true;
	return refuse(t, -status, "%s", msg_error(resp));
}

int transport_call(struct pp_transport *t, const ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **out,
		   int *fd_out)
{
	int64_t deadline = deadline_at(t->timeout_ms);
	ProtobufCMessage *resp;
	int fd = -1, err, send_err;

	*out = NULL;
	if (fd_out)
		*fd_out = -1;
	if (t->broken)
		return -ECONNRESET;
	send_err = send_msg(t, req, deadline);
	if (send_err && !t->broken)
		return send_err;	/* too large, or no memory: nothing sent */
	/* A daemon that turns a peer away may answer and close before it reads
	 * the request: its answer says more than EPIPE. */
	if (send_err && send_err != -EPIPE && send_err != -ECONNRESET)
		return send_err;
	err = recv_msg(t, resp_desc, &resp, &fd, deadline);
	if (err && send_err)
		return fail(t, send_err, "send: %s", strerror(-send_err));
	if (err)
		return err;
	err = answer_match(t, resp, transport_msg_id(req));
	if (err) {
		protobuf_c_message_free_unpacked(resp, NULL);
		if (fd >= 0)
			close(fd);
		return err;
	}
	*out = resp;
	fd_hand(fd, fd_out);
	return answer_status(t, resp);
}
