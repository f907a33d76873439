/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libpagepool.c - the client library of pagepoold (see pagepool.h).
 *
 * A struct pp_client is one blocking UNIX stream connection plus the pool's
 * arena, mapped MAP_SHARED once at connect.  Calls are strictly one request,
 * one response: ids start at 1 and increase, and the response must echo the
 * id just sent.  Frames are built and decoded only by proto/wire.c; this file
 * does the I/O and checks everything the daemon says before believing it.
 *
 * A client breaks on any failure that leaves the stream in an unknown state
 * (send/receive error, EOF, oversized or undecodable frame, wrong id, a
 * response that contradicts its request).  A broken client does no more
 * I/O: its calls return -ECONNRESET, pp_last_error() keeps the reason, and
 * the socket stays open until pp_close(), so pages already allocated stay
 * held (and mapped) until then.
 *
 * The arena fd is closed as soon as it is mapped: the mapping keeps the
 * memfd alive, and the process is spared one descriptor per client.
 *
 * The library never prints, never exits and never raises SIGPIPE (every send
 * is MSG_NOSIGNAL).  Only the functions of pagepool.h are exported; the
 * objects are built with -fvisibility=hidden.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pagepool.h"
#include "wire.h"

#define PP_EXPORT	__attribute__((visibility("default")))

#define ERRLEN		256	/* pp_last_error() text, NUL included */
#define RBUF_SIZE	4096	/* read-ahead: most responses in one recvmsg */
#define MAX_FDS		8	/* room for stray fds, which are closed */
#define PP_FLAGS	(PP_NOWAIT | PP_ZERO | PP_PARTIAL)

_Static_assert(PP_NOWAIT == PAGEPOOL__V1__ALLOC_FLAG__ALLOC_NOWAIT, "PP_NOWAIT");
_Static_assert(PP_ZERO == PAGEPOOL__V1__ALLOC_FLAG__ALLOC_ZERO, "PP_ZERO");
_Static_assert(PP_PARTIAL == PAGEPOOL__V1__ALLOC_FLAG__ALLOC_PARTIAL, "PP_PARTIAL");

struct pp_client {
	int fd;			/* the connection */
	bool broken;		/* no more I/O; calls return -ECONNRESET */
	uint64_t next_id;	/* id of the next request */
	uint32_t max_frame;	/* largest frame either way */
	uint32_t bad_index;	/* bad_index of the last failed response */
	uint8_t *base;		/* the arena mapping, map_len bytes */
	size_t map_len;
	uint64_t npages;
	unsigned page_shift;
	struct pp_info info;
	char last_error[ERRLEN];
	size_t rstart, rend;	/* unread bytes in rbuf */
	uint8_t rbuf[RBUF_SIZE];
};

/* pp_last_error(NULL): why this thread's last pp_connect failed. */
static _Thread_local char connect_error[ERRLEN];
static _Thread_local char strerror_buf[128];

/* Text of `err` (> 0) for pp_strerror; the protocol's meanings first. */
#define PP_ERRORS(X)							\
	X(EPERM, "not allowed (pool access or another client's page)")	\
	X(ENOENT, "no such pool")					\
	X(EAGAIN, "no cached pages (NOWAIT)")				\
	X(ENOMEM, "pool exhausted (or out of memory)")			\
	X(EBUSY, "resource busy")					\
	X(EINVAL, "invalid argument")					\
	X(E2BIG, "count or message larger than the limit")		\
	X(EPROTO, "protocol error")					\
	X(EPROTONOSUPPORT, "protocol version not supported")		\
	X(EDQUOT, "page quota exceeded")				\
	X(EALREADY, "page not allocated (double free?)")		\
	X(ESHUTDOWN, "the daemon is shutting down")			\
	X(ECONNRESET, "connection to the daemon lost")			\
	X(EPIPE, "connection to the daemon lost (broken pipe)")	\
	X(ECONNREFUSED, "no daemon listening on the socket")		\
	X(EACCES, "permission denied on the daemon's socket")		\
	X(ENAMETOOLONG, "socket path or pool name too long")

/* Format into dst (ERRLEN bytes), keeping printable ASCII only. */
static void errtext_vset(char *dst, const char *fmt, va_list ap)
{
	vsnprintf(dst, ERRLEN, fmt, ap);
	for (unsigned char *p = (unsigned char *)dst; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

/* Record why a call failed (for pp_last_error) and return err. */
static int __attribute__((format(printf, 3, 4)))
fail(struct pp_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errtext_vset(c->last_error, fmt, ap);
	va_end(ap);
	return err;
}

/* The same, and break the client: the stream can no longer be trusted. */
static int __attribute__((format(printf, 3, 4)))
fail_break(struct pp_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errtext_vset(c->last_error, fmt, ap);
	va_end(ap);
	c->broken = true;
	return err;
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
			if (fd_out && *fd_out < 0)
				*fd_out = fd;
			else
				close(fd);
		}
	}
}

/* One recvmsg into buf: bytes read, 0 at EOF, or -errno.  Retries EINTR. */
static ssize_t recv_some(struct pp_client *c, void *buf, size_t len, int *fd_out)
{
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

	do
		n = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	take_fds(&m, fd_out);
	return n;
}

/*
 * Read exactly len bytes, from the read-ahead buffer first.  Short pieces go
 * through rbuf so that a whole small response costs one recvmsg.  0, or
 * -errno with the client broken.
 */
static int read_exact(struct pp_client *c, uint8_t *dst, size_t len, bool frame_start,
		      int *fd_out)
{
	size_t done = 0;

	while (done < len) {
		size_t avail = c->rend - c->rstart;
		ssize_t n;

		if (avail) {
			size_t k = avail < len - done ? avail : len - done;

			memcpy(dst + done, c->rbuf + c->rstart, k);
			c->rstart += k;
			done += k;
			continue;
		}
		c->rstart = c->rend = 0;
		if (len - done >= RBUF_SIZE)
			n = recv_some(c, dst + done, len - done, fd_out);
		else
			n = recv_some(c, c->rbuf, RBUF_SIZE, fd_out);
		if (n == 0 && frame_start && done == 0)
			return fail_break(c, -ECONNRESET, "the daemon closed the connection");
		if (n == 0)
			return fail_break(c, -EPROTO, "truncated frame from the daemon");
		if (n < 0)
			return fail_break(c, (int)n, "receive: %s", strerror(-(int)n));
		if (len - done >= RBUF_SIZE)
			done += (size_t)n;
		else
			c->rend = (size_t)n;
	}
	return 0;
}

/* Receive and decode one Response frame into *out (free with wire_response_free).
 * A frame of length 0 is a valid empty Response (id 0, status OK, no body):
 * whether it answers the request is call()'s business, not the framing's. */
static int recv_response(struct pp_client *c, wire_response **out, int *fd_out)
{
	uint8_t hdr[WIRE_HDR], *body = NULL;
	uint32_t len;
	int err;

	err = read_exact(c, hdr, sizeof(hdr), true, fd_out);
	if (err)
		return err;
	len = wire_frame_len(hdr);
	if (wire_check_len(len, c->max_frame))
		return fail_break(c, -EPROTO, "response frame of %u bytes (limit %u)",
				  len, c->max_frame);
	if (len) {
		body = malloc(len);
		if (!body)
			return fail_break(c, -ENOMEM, "no memory for a %u-byte response", len);
	}
	err = read_exact(c, body, len, false, fd_out);
	if (!err) {
		*out = wire_response_decode(body, len);
		if (!*out)
			err = fail_break(c, -EPROTO, "undecodable response (%u bytes)", len);
	}
	free(body);
	return err;
}

/* Frame and send req whole.  A request too large fails without I/O. */
static int send_request(struct pp_client *c, const wire_request *req)
{
	uint8_t *buf;
	size_t len, off = 0;
	int err;

	err = wire_encode(&req->base, c->max_frame, &buf, &len);
	if (err == -E2BIG)
		return fail(c, err, "request larger than the daemon's max_frame %u", c->max_frame);
	if (err)
		return fail(c, err, "no memory to encode a request");
	while (off < len) {
		ssize_t n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			fail_break(c, err, "send: %s", strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	free(buf);
	return err;
}

/*
 * One round trip: send req (its id is assigned here), receive its response.
 * 0 with *out set when the daemon answered OK; -status (with the daemon's
 * text in last_error and its bad_index in c->bad_index) when it refused;
 * other -errno when the exchange failed.  fd_out, when given, receives an
 * fd that came with the response (the caller closes it).
 */
static int call(struct pp_client *c, wire_request *req, wire_response **out, int *fd_out)
{
	wire_response *resp;
	int err, status;

	c->bad_index = UINT32_MAX;
	if (c->broken)
		return -ECONNRESET;
	req->id = c->next_id++;
	err = send_request(c, req);
	if (!err)
		err = recv_response(c, &resp, fd_out);
	if (err)
		return err;
	status = (int)resp->status;
	/* id 0 with an error: the daemon refused the connection itself
	 * (a bad frame, shutting down) and is about to close it. */
	if (resp->id != req->id && !(resp->id == 0 && status != 0)) {
		err = fail_break(c, -EPROTO, "response id %llu to request %llu",
				 (unsigned long long)resp->id, (unsigned long long)req->id);
	} else if (status < 0 || status > 4095) {
		err = fail_break(c, -EPROTO, "response status %d", status);
	} else if (status != 0) {
		c->broken = resp->id == 0;
		c->bad_index = resp->bad_index;
		err = fail(c, -status, "%s", resp->error ? resp->error : "");
	}
	if (err) {
		wire_response_free(resp);
		return err;
	}
	*out = resp;
	return 0;
}

/* Check that a response carries the body its request asked for. */
static int expect_body(struct pp_client *c, wire_response *resp, int body_case)
{
	int got = (int)resp->body_case;

	if (got == body_case)
		return 0;
	wire_response_free(resp);
	return fail_break(c, -EPROTO, "response body %d, expected %d", got, body_case);
}

/* Check the welcome's numbers; they are used as shifts and bounds later. */
static int welcome_check(struct pp_client *c, const Pagepool__V1__Welcome *w,
			 const char *pool)
{
	uint32_t ps = w->page_size;

	if (w->version != WIRE_VERSION)
		return fail(c, -EPROTONOSUPPORT, "the daemon speaks protocol version %u, "
			    "the library %u", w->version, WIRE_VERSION);
	if (ps == 0 || (ps & (ps - 1)))
		return fail(c, -EPROTO, "welcome: page size %u", ps);
	if (w->arena_size == 0 || w->arena_size % ps || w->arena_size / ps > (1ULL << 32) ||
	    w->arena_size > SIZE_MAX)
		return fail(c, -EPROTO, "welcome: arena of %llu bytes, pages of %u",
			    (unsigned long long)w->arena_size, ps);
	if (w->max_count == 0 || w->max_order > 31 || w->max_frame == 0)
		return fail(c, -EPROTO, "welcome: max_count %u, max_order %u, max_frame %u",
			    w->max_count, w->max_order, w->max_frame);
	if (!w->pool || strlen(w->pool) >= sizeof(c->info.pool) ||
	    (pool[0] && strcmp(pool, w->pool) != 0))
		return fail(c, -EPROTO, "welcome: joined pool '%.64s', asked for '%s'",
			    w->pool ? w->pool : "", pool);
	return 0;
}

/*
 * Map the arena fd the welcome brought.  The fd must be a memfd sealed
 * against shrinking and at least arena_size long: a shorter file would turn
 * page accesses into SIGBUS.  The caller closes fd.
 */
static int arena_map(struct pp_client *c, int fd, uint64_t size)
{
	struct stat st;
	int seals;

	if (fd < 0)
		return fail(c, -EPROTO, "welcome without the arena fd");
	if (fstat(fd, &st) < 0)
		return fail(c, -errno, "fstat arena: %s", strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size < size)
		return fail(c, -EPROTO, "arena fd of %lld bytes, welcome says %llu",
			    (long long)st.st_size, (unsigned long long)size);
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return fail(c, -EPROTO, "arena fd is not sealed against shrinking");
	c->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (c->base == MAP_FAILED) {
		c->base = NULL;
		return fail(c, -errno, "mmap arena: %s", strerror(errno));
	}
	c->map_len = size;
	return 0;
}

static void info_fill(struct pp_client *c, const Pagepool__V1__Welcome *w)
{
	struct pp_info *i = &c->info;

	snprintf(i->pool, sizeof(i->pool), "%s", w->pool);
	i->page_size = w->page_size;
	i->arena_size = w->arena_size;
	i->client_id = w->client_id;
	i->max_count = w->max_count;
	i->max_order = w->max_order;
	i->max_frame = w->max_frame;
	i->quota_pages = w->quota_pages;
	i->worker = w->worker;
	c->max_frame = w->max_frame;
	c->npages = w->arena_size / w->page_size;
	c->page_shift = (unsigned)__builtin_ctz(w->page_size);
}

/* Say hello, check the welcome, map the arena. */
static int handshake(struct pp_client *c, const char *pool)
{
	Pagepool__V1__Hello hello = PAGEPOOL__V1__HELLO__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	int fd = -1, err;

	hello.version = WIRE_VERSION;
	hello.pool = (char *)pool;
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_HELLO;
	req.hello = &hello;
	err = call(c, &req, &resp, &fd);
	if (!err)
		err = expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_WELCOME);
	if (!err) {
		err = welcome_check(c, resp->welcome, pool);
		if (!err)
			err = arena_map(c, fd, resp->welcome->arena_size);
		if (!err)
			info_fill(c, resp->welcome);
		wire_response_free(resp);
	}
	if (fd >= 0)
		close(fd);
	return err;
}

/* connect(2) to path; a missing socket file means no daemon, not no pool. */
static int socket_connect(struct pp_client *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(c, -ENAMETOOLONG, "socket path too long");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail(c, -errno, "socket: %s", strerror(errno));
	/* An interrupted AF_UNIX connect leaves the socket unconnected: retry. */
	do
		r = connect(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	if (errno == ENOENT)
		return fail(c, -ECONNREFUSED, "connect %s: no such socket", path);
	return fail(c, -errno, "connect %s: %s", path, strerror(errno));
}

PP_EXPORT int pp_connect(const char *socket_path, const char *pool, struct pp_client **out)
{
	struct pp_client *c;
	int err;

	connect_error[0] = '\0';
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!socket_path || !socket_path[0])
		socket_path = PP_DEFAULT_SOCKET;
	if (!pool)
		pool = "";
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(connect_error, ERRLEN, "out of memory");
		return -ENOMEM;
	}
	c->fd = -1;
	c->next_id = 1;
	c->max_frame = WIRE_MAX_FRAME_DEFAULT;
	if (strlen(pool) >= sizeof(c->info.pool))
		err = fail(c, -ENAMETOOLONG, "pool name longer than %zu bytes",
			   sizeof(c->info.pool) - 1);
	else
		err = socket_connect(c, socket_path);
	if (!err)
		err = handshake(c, pool);
	if (err) {
		memcpy(connect_error, c->last_error, ERRLEN);
		pp_close(c);
		return err;
	}
	*out = c;
	return 0;
}

PP_EXPORT void pp_close(struct pp_client *c)
{
	if (!c)
		return;
	if (c->base)
		munmap(c->base, c->map_len);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

PP_EXPORT const struct pp_info *pp_info(const struct pp_client *c)
{
	return c ? &c->info : NULL;
}

/* Check the Pages answer to an Alloc of count blocks of order. */
static int pages_check(struct pp_client *c, const Pagepool__V1__Pages *p, unsigned order,
		       unsigned count, unsigned flags)
{
	size_t n = p->n_pfns;

	if (p->order != order || n == 0 || n > count || (n < count && !(flags & PP_PARTIAL)))
		return fail_break(c, -EPROTO, "alloc of %u order-%u blocks answered with %zu "
				  "of order %u", count, order, n, p->order);
	for (size_t i = 0; i < n; i++)
		if ((uint64_t)p->pfns[i] + (1ULL << order) > c->npages)
			return fail_break(c, -EPROTO, "alloc answered pfn %u outside the arena "
					  "(%llu pages)", p->pfns[i],
					  (unsigned long long)c->npages);
	return 0;
}

PP_EXPORT int pp_alloc(struct pp_client *c, unsigned order, unsigned count, unsigned flags,
		       uint32_t *pfns, unsigned *got)
{
	Pagepool__V1__Alloc alloc = PAGEPOOL__V1__ALLOC__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	int err;

	if (got)
		*got = 0;
	if (!c)
		return -EINVAL;
	if (!pfns || count == 0 || (flags & ~PP_FLAGS))
		return fail(c, -EINVAL, "pp_alloc: %s", !pfns ? "pfns is NULL" :
			    count == 0 ? "count 0" : "unknown flags");
	if (order > c->info.max_order)
		return fail(c, -EINVAL, "pp_alloc: order %u above max_order %u", order,
			    c->info.max_order);
	if (count > c->info.max_count)
		return fail(c, -E2BIG, "pp_alloc: count %u above max_count %u", count,
			    c->info.max_count);
	alloc.order = order;
	alloc.count = count;
	alloc.flags = flags;
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_ALLOC;
	req.alloc = &alloc;
	err = call(c, &req, &resp, NULL);
	if (!err)
		err = expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
	if (err)
		return err;
	err = pages_check(c, resp->pages, order, count, flags);
	if (!err) {
		memcpy(pfns, resp->pages->pfns, resp->pages->n_pfns * sizeof(*pfns));
		if (got)
			*got = (unsigned)resp->pages->n_pfns;
	}
	wire_response_free(resp);
	return err;
}

/*
 * *bad_index is always written when given: the index of the pfn the daemon
 * blamed, or n when the failure is not about one pfn.  Only the per-pfn
 * statuses carry an index: proto3 cannot tell "index 0" from "no index".
 */
PP_EXPORT int pp_free(struct pp_client *c, const uint32_t *pfns, unsigned n,
		      unsigned *bad_index)
{
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	int err;

	if (bad_index)
		*bad_index = n;
	if (!c)
		return -EINVAL;
	if (!pfns || n == 0)
		return fail(c, -EINVAL, "pp_free: %s", !pfns ? "pfns is NULL" : "n is 0");
	if (n > c->info.max_count)
		return fail(c, -E2BIG, "pp_free: %u pfns, max_count %u", n, c->info.max_count);
	f.n_pfns = n;
	f.pfns = (uint32_t *)pfns;	/* only read by the packer */
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	req.free = &f;
	err = call(c, &req, &resp, NULL);
	if (err) {
		if (bad_index && c->bad_index < n &&
		    (err == -EINVAL || err == -EPERM || err == -EALREADY))
			*bad_index = c->bad_index;
		return err;
	}
	err = expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_FREED);
	if (!err)
		wire_response_free(resp);
	return err;
}

PP_EXPORT int pp_stat(struct pp_client *c, struct pp_stat *st)
{
	Pagepool__V1__Stat stat = PAGEPOOL__V1__STAT__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	const Pagepool__V1__PoolStat *ps;
	int err;

	if (!c)
		return -EINVAL;
	if (!st)
		return fail(c, -EINVAL, "pp_stat: st is NULL");
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_STAT;
	req.stat = &stat;
	err = call(c, &req, &resp, NULL);
	if (!err)
		err = expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT);
	if (err)
		return err;
	ps = resp->pool_stat;
	*st = (struct pp_stat){
		.total = ps->total, .free = ps->free, .pcp = ps->pcp,
		.allocated = ps->allocated, .isolated = ps->isolated,
		.offline = ps->offline, .held = ps->held,
	};
	wire_response_free(resp);
	return 0;
}

PP_EXPORT void *pp_page(const struct pp_client *c, uint32_t pfn)
{
	if (!c || !c->base || pfn >= c->npages)
		return NULL;
	return c->base + ((size_t)pfn << c->page_shift);
}

/* The C library's text for err, into this thread's buffer when needed. */
static const char *libc_strerror(int err)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(err, strerror_buf, sizeof(strerror_buf));	/* GNU */
#else
	if (strerror_r(err, strerror_buf, sizeof(strerror_buf)) != 0)	/* XSI */
		snprintf(strerror_buf, sizeof(strerror_buf), "error %d", err);
	return strerror_buf;
#endif
}

PP_EXPORT const char *pp_strerror(int err)
{
	long e = err < 0 ? -(long)err : err;

	switch (e) {
	case 0:
		return "success";
#define X(num, text) case num: return text;
	PP_ERRORS(X)
#undef X
	}
	if (e > INT_MAX)
		return "unknown error";
	return libc_strerror((int)e);
}

PP_EXPORT const char *pp_last_error(const struct pp_client *c)
{
	return c ? c->last_error : connect_error;
}
