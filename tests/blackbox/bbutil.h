/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bbutil.h - harness of the black-box tests.  Each test starts the real
 * pagepoold (the binary named by $PAGEPOOLD; the test is skipped when it is
 * unset) on a private socket in a fresh mkdtemp directory, with a config the
 * test writes, and talks to it only through libpagepool or raw bytes on the
 * socket.  Header-only so every test stays one file.
 *
 * Nothing here sleeps to synchronise: start-up waits for the daemon's
 * "READY\n" on a --ready-fd pipe, exits are waited for on a pidfd, socket
 * reads poll, and every wait has a deadline.  A fixture (struct bb) owns the
 * daemon, the clients, raw connections and child processes a test makes, so
 * the teardown releases them even when an assertion fails half-way; the
 * teardown also stops the daemon with SIGTERM and fails the test unless it
 * exits with status 0.
 *
 * Environment: PAGEPOOLD (daemon binary), PP_EXAMPLE (example program, for
 * the test that runs it), BB_VERBOSE=1 prints each daemon's log at teardown,
 * BB_KEEP=1 keeps the temporary directories.
 */
#ifndef PP_BBUTIL_H
#define PP_BBUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "pagepool.h"
#include "pagepool.pb-c.h"

#define BB_READY_TIMEOUT_MS	10000
#define BB_STOP_TIMEOUT_MS	10000
#define BB_IO_TIMEOUT_MS	5000
#define BB_MAX_CLIENTS		64
#define BB_MAX_CONNS		16
#define BB_MAX_KIDS		16
#define BB_MAX_FDS		8

typedef Pagepool__V1__Request bb_request;
typedef Pagepool__V1__Response bb_response;

/* ---- time ---------------------------------------------------------------- */

static inline int64_t bb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until `deadline` (bb_now_ms() based), never negative. */
static inline int bb_left_ms(int64_t deadline)
{
	int64_t left = deadline - bb_now_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* ---- child processes ------------------------------------------------------ */

/*
 * Wait up to timeout_ms for the child `pid` to end; 0 with the raw wait
 * status in *status, -ETIMEDOUT (the child is left running) or -errno.  A
 * pidfd makes the wait a poll(); on a kernel without pidfd_open it re-checks
 * every 5 ms until the deadline.
 */
static inline int bb_wait_pid(pid_t pid, int timeout_ms, int *status)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int ret;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		int left;

		if (r == pid) {
			ret = 0;
			break;
		}
		if (r < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		left = bb_left_ms(deadline);
		if (left == 0) {
			ret = -ETIMEDOUT;
			break;
		}
		if (pfd >= 0) {
			struct pollfd p = { .fd = pfd, .events = POLLIN };
			poll(&p, 1, left);
		} else {
			poll(NULL, 0, left < 5 ? left : 5);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return ret;
}

/* A wait status as one number: the exit code, or 128 + the signal. */
static inline int bb_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* Wait for pid with a deadline; past it, SIGKILL and reap.  Returns the exit
 * code (bb_exit_code) or -ETIMEDOUT when it had to be killed. */
static inline int bb_reap(pid_t pid, int timeout_ms)
{
	int status = 0;

	if (bb_wait_pid(pid, timeout_ms, &status) == 0)
		return bb_exit_code(status);
	kill(pid, SIGKILL);
	bb_wait_pid(pid, 5000, &status);
	return -ETIMEDOUT;
}

/* In a freshly forked child: die with the test process, start from default
 * signal handling (the test runner's handlers are not ours), and forget any
 * systemd hand-over meant for the test runner (CI may run under a service). */
static inline void bb_child_init(pid_t parent)
{
	static const char *const sd_env[] = {
		"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
		"LISTEN_FDNAMES", "JOURNAL_STREAM",
	};
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (size_t i = 0; i < sizeof(sd_env) / sizeof(sd_env[0]); i++)
		unsetenv(sd_env[i]);
}

/* ---- files ---------------------------------------------------------------- */

/* Read a whole (small) file into a malloc'd NUL-terminated string; "" if it
 * cannot be read.  Never NULL. */
static inline char *bb_slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (f) {
		for (;;) {
			size_t n;

			if (cap - len < 4096) {
				char *nb = realloc(buf, cap + 65536);
				if (!nb)
					break;
				buf = nb;
				cap += 65536;
			}
			n = fread(buf + len, 1, cap - len - 1, f);
			if (n == 0)
				break;
			len += n;
		}
		fclose(f);
	}
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	return buf;
}

static inline void bb_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	size_t len = strlen(text);

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * Copy the file `from` to `to` (created or replaced) and give the copy
 * `mode` (umask aside): 0 or -errno.  For a program a test runs as another
 * user, who may not reach the build tree at all (a clone inside a 0700
 * `mktemp -d` directory, or under /root).
 */
static inline int bb_copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in, out = -1, ret = 0;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		goto fail;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		for (ssize_t off = 0, w; off < n; off += w) {
			w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				goto fail;
		}
	}
	if (fchmod(out, mode) < 0)
		goto fail;
	ret = close(out);
	out = -1;
	if (ret < 0)
		goto fail;
	close(in);
	return 0;
fail:
	ret = -errno;
	if (out >= 0)
		close(out);
	close(in);
	return ret;
}

/*
 * Can a user who owns none of them reach `path` (absolute): is every
 * directory from / down to `path` itself searchable by others?  true, or
 * false with the first one that is not in `bad` (len bytes).
 */
static inline bool bb_others_can_reach(const char *path, char *bad, size_t len)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (path[0] != '/' || n >= sizeof(dir)) {
		snprintf(bad, len, "%s (not an absolute path)", path);
		return false;
	}
	for (size_t i = 1; i <= n; i++) {
		struct stat st;

		if (i > 1 && i < n && path[i] != '/')
			continue;
		memcpy(dir, path, i);
		dir[i] = '\0';
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || !(st.st_mode & S_IXOTH)) {
			snprintf(bad, len, "%s", dir);
			return false;
		}
	}
	return true;
}

static inline int bb_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static inline void bb_rm_rf(const char *dir)
{
	nftw(dir, bb_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Print the last `max` bytes of a log file as cmocka messages (in pieces:
 * print_message() truncates long messages). */
static inline void bb_print_tail(const char *title, const char *path, size_t max)
{
	char *text = bb_slurp(path);
	size_t len = strlen(text);
	const char *p = len > max ? text + len - max : text;

	print_message("---- %s (%s%s) ----\n", title, path, len > max ? ", tail" : "");
	while (*p) {
		size_t n = strcspn(p, "\n");

		if (n > 500)
			n = 500;
		print_message("%.*s\n", (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
	print_message("---- end ----\n");
	free(text);
}

/* Is `name` an executable on $PATH? */
static inline bool bb_on_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);

		if (n && n + strlen(name) + 2 < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
			if (access(buf, X_OK) == 0)
				return true;
		}
		path = end ? end + 1 : NULL;
	}
	return false;
}

/* ---- raw connections ------------------------------------------------------ */

/* A raw socket to the daemon with its own receive buffer; file descriptors
 * that arrive by SCM_RIGHTS are kept in fds[] and closed with it. */
struct bb_conn {
	int fd;			/* -1: slot unused */
	uint8_t *buf;
	size_t len, cap;
	bool eof;		/* the daemon closed (EOF or reset) */
	int fds[BB_MAX_FDS];
	unsigned nfds;
};

/* A growable byte buffer for building pipelined or broken input. */
struct bb_buf {
	uint8_t *p;
	size_t len, cap;
};

static inline void bb_buf_add(struct bb_buf *b, const void *data, size_t len)
{
	if (b->cap - b->len < len) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *np;

		while (cap - b->len < len)
			cap *= 2;
		np = realloc(b->p, cap);
		assert_non_null(np);
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static inline void bb_buf_add_be32(struct bb_buf *b, uint32_t v)
{
	uint8_t h[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	bb_buf_add(b, h, 4);
}

/* Append one message, framed: big-endian length, then the packed bytes.
 * `extra` (may be NULL) is appended to the message body inside the frame. */
static inline void bb_buf_add_msg(struct bb_buf *b, const ProtobufCMessage *m,
				  const void *extra, size_t extralen)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *tmp = malloc(len + 1);

	assert_non_null(tmp);
	assert_int_equal(protobuf_c_message_pack(m, tmp), len);
	bb_buf_add_be32(b, (uint32_t)(len + extralen));
	bb_buf_add(b, tmp, len);
	if (extralen)
		bb_buf_add(b, extra, extralen);
	free(tmp);
}

static inline void bb_buf_free(struct bb_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Connect to the UNIX socket at `path`: the fd, or -errno. */
static inline int bb_socket_connect(const char *path)
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

static inline void bb_conn_close(struct bb_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	for (unsigned i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/*
 * Send all of buf, waiting for room at most timeout_ms in all.  0, -EPIPE or
 * -ECONNRESET when the daemon has closed, -ETIMEDOUT when it stopped reading.
 * Never raises SIGPIPE.
 */
static inline int bb_conn_send(struct bb_conn *c, const void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		{
			struct pollfd pf = { .fd = c->fd, .events = POLLOUT };
			int left = bb_left_ms(deadline);

			if (left == 0 || poll(&pf, 1, left) == 0)
				return -ETIMEDOUT;
		}
	}
	return 0;
}

static inline int bb_conn_send_buf(struct bb_conn *c, const struct bb_buf *b)
{
	return bb_conn_send(c, b->p, b->len, BB_IO_TIMEOUT_MS);
}

/* Frame and send one request (plus `extra` raw bytes inside its body). */
static inline int bb_conn_send_req(struct bb_conn *c, const bb_request *req,
				   const void *extra, size_t extralen)
{
	struct bb_buf b = { 0 };
	int r;

	bb_buf_add_msg(&b, &req->base, extra, extralen);
	r = bb_conn_send_buf(c, &b);
	bb_buf_free(&b);
	return r;
}

/* Read what is there (waiting up to timeout_ms): 1 got bytes, 0 the daemon
 * closed, -ETIMEDOUT. */
static inline int bb_conn_fill(struct bb_conn *c, int timeout_ms)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * BB_MAX_FDS)];
	} cbuf;
	struct pollfd pf = { .fd = c->fd, .events = POLLIN };
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (c->eof)
		return 0;
	if (c->cap - c->len < 65536) {
		uint8_t *nb = realloc(c->buf, c->cap + 131072);
		assert_non_null(nb);
		c->buf = nb;
		c->cap += 131072;
	}
	for (;;) {
		int r = poll(&pf, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -ETIMEDOUT;
		break;
	}
	iov.iov_base = c->buf + c->len;
	iov.iov_len = c->cap - c->len;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	do
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->nfds < BB_MAX_FDS)
				c->fds[c->nfds++] = fd;
			else
				close(fd);
		}
	}
	if (n < 0 && errno == EAGAIN)
		return 1;	/* spurious wake-up: nothing new, caller loops */
	if (n <= 0) {
		c->eof = true;
		return 0;
	}
	c->len += (size_t)n;
	return 1;
}

/*
 * Receive one `desc` message (a Response, or an AdminResponse on the admin
 * socket) within timeout_ms.  0 and *out (free with
 * protobuf_c_message_free_unpacked), -ECONNRESET when the daemon closed
 * first, -ETIMEDOUT, or -EBADMSG when the bytes are not a frame holding such
 * a message.  A zero-length frame is a valid empty message (every field at
 * its default: an answer with id 0, status OK and no body).
 */
static inline int bb_conn_recv_msg(struct bb_conn *c, int timeout_ms,
				   const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	int64_t deadline = bb_now_ms() + timeout_ms;

	*out = NULL;
	for (;;) {
		if (c->len >= 4) {
			uint32_t flen = (uint32_t)c->buf[0] << 24 | (uint32_t)c->buf[1] << 16 |
					(uint32_t)c->buf[2] << 8 | c->buf[3];

			if (flen > (16u << 20))
				return -EBADMSG;
			if (c->len >= 4 + (size_t)flen) {
				/* c->buf is not NULL here, so an empty body unpacks too. */
				*out = protobuf_c_message_unpack(desc, NULL, flen, c->buf + 4);
				memmove(c->buf, c->buf + 4 + flen, c->len - 4 - flen);
				c->len -= 4 + flen;
				return *out ? 0 : -EBADMSG;
			}
		}
		if (c->eof)
			return -ECONNRESET;
		if (bb_conn_fill(c, bb_left_ms(deadline)) == -ETIMEDOUT)
			return -ETIMEDOUT;
	}
}

/* bb_conn_recv_msg for the client socket: *out is a Response (bb_resp_free). */
static inline int bb_conn_recv(struct bb_conn *c, int timeout_ms, bb_response **out)
{
	return bb_conn_recv_msg(c, timeout_ms, &pagepool__v1__response__descriptor,
				(ProtobufCMessage **)out);
}

static inline void bb_resp_free(bb_response *r)
{
	if (r)
		pagepool__v1__response__free_unpacked(r, NULL);
}

/*
 * Wait for the daemon to close the connection, reading (and counting in
 * *nresp) whatever responses come first.  0 once closed, -ETIMEDOUT.
 */
static inline int bb_conn_wait_close(struct bb_conn *c, int timeout_ms, unsigned *nresp)
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
		if (ret == -EBADMSG) {
			/* Not a frame: skip what is buffered and keep waiting. */
			c->len = 0;
			continue;
		}
		bb_resp_free(r);
		(*nresp)++;
	}
}

/* ---- requests ------------------------------------------------------------- */

/* One request and the body it points to. */
struct bb_req {
	Pagepool__V1__Request r;
	Pagepool__V1__Hello hello;
	Pagepool__V1__Alloc alloc;
	Pagepool__V1__Free free;
	Pagepool__V1__Stat stat;
};

static inline bb_request *bb_req_none(struct bb_req *q, uint64_t id)
{
	memset(q, 0, sizeof(*q));
	pagepool__v1__request__init(&q->r);
	q->r.id = id;
	return &q->r;
}

static inline bb_request *bb_req_hello(struct bb_req *q, uint64_t id, uint32_t version,
				       const char *pool)
{
	bb_req_none(q, id);
	pagepool__v1__hello__init(&q->hello);
	q->hello.version = version;
	q->hello.pool = (char *)(pool ? pool : "");
	q->r.body_case = PAGEPOOL__V1__REQUEST__BODY_HELLO;
	q->r.hello = &q->hello;
	return &q->r;
}

static inline bb_request *bb_req_alloc(struct bb_req *q, uint64_t id, uint32_t order,
				       uint32_t count, uint32_t flags)
{
	bb_req_none(q, id);
	pagepool__v1__alloc__init(&q->alloc);
	q->alloc.order = order;
	q->alloc.count = count;
	q->alloc.flags = flags;
	q->r.body_case = PAGEPOOL__V1__REQUEST__BODY_ALLOC;
	q->r.alloc = &q->alloc;
	return &q->r;
}

/* pfns is borrowed, not copied. */
static inline bb_request *bb_req_free(struct bb_req *q, uint64_t id, const uint32_t *pfns,
				      size_t n)
{
	bb_req_none(q, id);
	pagepool__v1__free__init(&q->free);
	q->free.n_pfns = n;
	q->free.pfns = (uint32_t *)pfns;
	q->r.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	q->r.free = &q->free;
	return &q->r;
}

static inline bb_request *bb_req_stat(struct bb_req *q, uint64_t id)
{
	bb_req_none(q, id);
	pagepool__v1__stat__init(&q->stat);
	q->r.body_case = PAGEPOOL__V1__REQUEST__BODY_STAT;
	q->r.stat = &q->stat;
	return &q->r;
}

static inline const char *bb_status_name(int status)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&pagepool__v1__status__descriptor, status);

	return v ? v->name : "?";
}

/* Assert a response's status, saying what came instead. */
#define bb_assert_status(resp, want) do {						\
	const bb_response *_r = (resp);							\
	int _w = (want);								\
	if ((int)_r->status != _w)							\
		print_error("response id %llu: status %s (%d) \"%s\", expected %s (%d)\n", \
			    (unsigned long long)_r->id, bb_status_name(_r->status),	\
			    (int)_r->status, _r->error ? _r->error : "",		\
			    bb_status_name(_w), _w);					\
	assert_int_equal((int)_r->status, _w);						\
} while (0)

/* Assert a libpagepool return code, naming both sides. */
#define bb_assert_rc(c, expr, want) do {						\
	int _got = (expr);								\
	int _want = (want);								\
	if (_got != _want)								\
		print_error("%s = %d (%s), expected %d (%s); daemon said \"%s\"\n",	\
			    #expr, _got, pp_strerror(_got), _want, pp_strerror(_want),	\
			    (c) ? pp_last_error(c) : "");				\
	assert_int_equal(_got, _want);							\
} while (0)

/* Send one request and receive the response to it; asserts that one arrives
 * and that it echoes the request's id. */
static inline bb_response *bb_rpc(struct bb_conn *c, const bb_request *req)
{
	bb_response *resp = NULL;
	int r = bb_conn_send_req(c, req, NULL, 0);

	if (r != 0)
		print_error("send of request %llu: %s\n", (unsigned long long)req->id, strerror(-r));
	assert_int_equal(r, 0);
	r = bb_conn_recv(c, BB_IO_TIMEOUT_MS, &resp);
	if (r != 0)
		print_error("response to request %llu: %s\n", (unsigned long long)req->id,
			    r == -ECONNRESET ? "connection closed by the daemon" : strerror(-r));
	assert_int_equal(r, 0);
	assert_int_equal(resp->id, req->id);
	return resp;
}

/* ---- the fixture ---------------------------------------------------------- */

struct bb_opts {
	const char *const *prefix;	/* run the daemon under this (valgrind ...) */
	int ready_timeout_ms;		/* 0: BB_READY_TIMEOUT_MS */
	int stop_timeout_ms;		/* 0: BB_STOP_TIMEOUT_MS */
	bool debug;			/* -d */
	bool no_ready_fd;		/* no --ready-fd (the test waits its own way) */
	const char *const *env;		/* NAME=VALUE pairs for the daemon, NULL-ended */
};

struct bb {
	char dir[64];			/* mkdtemp, removed at teardown */
	char conf[128];
	char sock[128];
	char log[128];			/* the daemon's stdout + stderr */
	pid_t pid;			/* running daemon, 0 if none */
	int stop_timeout_ms;
	int exit_code;			/* of the last daemon stopped */
	struct pp_client *clients[BB_MAX_CLIENTS];
	struct bb_conn conns[BB_MAX_CONNS];
	pid_t kids[BB_MAX_KIDS];
};

static inline int bb_setup(void **state)
{
	struct bb *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	for (unsigned i = 0; i < BB_MAX_CONNS; i++)
		f->conns[i].fd = -1;
	f->exit_code = -1;
	*state = f;
	return 0;
}

/* The daemon binary, or skip the test. */
static inline const char *bb_daemon_path(void)
{
	const char *exe = getenv("PAGEPOOLD");

	if (!exe || !*exe) {
		print_message("PAGEPOOLD is not set (the pagepoold binary to test): skipping\n");
		skip();
	}
	if (access(exe, X_OK) != 0)
		fail_msg("PAGEPOOLD=%s is not an executable: %s", exe, strerror(errno));
	return exe;
}

/* Create the fixture's directory (once) and name its files. */
static inline void bb_mkdir(struct bb *f)
{
	if (f->dir[0])
		return;
	strcpy(f->dir, "/tmp/ppbb-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/pagepoold.conf", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/pagepool.sock", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/pagepoold.log", f->dir);
}

/* Write the config: `tmpl` with every "@SOCKET@" replaced by the socket path
 * and every "@DIR@" by the directory. */
static inline void bb_write_config(struct bb *f, const char *tmpl)
{
	struct bb_buf b = { 0 };
	const char *p = tmpl;

	bb_mkdir(f);
	while (*p) {
		if (strncmp(p, "@SOCKET@", 8) == 0) {
			bb_buf_add(&b, f->sock, strlen(f->sock));
			p += 8;
		} else if (strncmp(p, "@DIR@", 5) == 0) {
			bb_buf_add(&b, f->dir, strlen(f->dir));
			p += 5;
		} else {
			bb_buf_add(&b, p++, 1);
		}
	}
	bb_buf_add(&b, "", 1);
	bb_write_file(f->conf, (const char *)b.p);
	bb_buf_free(&b);
}

/* 1 "READY\n" read, 0 EOF first, -ETIMEDOUT, -EPROTO something else. */
static inline int bb_read_ready(int fd, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	char buf[64];
	size_t len = 0;

	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pf, 1, bb_left_ms(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -ETIMEDOUT;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
		if (strcmp(buf, "READY\n") == 0)
			return 1;
		if (strncmp(buf, "READY\n", len) != 0)
			return -EPROTO;
	}
}

/* fork + exec the daemon on f->conf; the read end of its ready pipe goes to
 * *ready_rd.  The daemon's output goes to f->log. */
static inline void bb_spawn(struct bb *f, const struct bb_opts *o, int *ready_rd)
{
	const char *exe = bb_daemon_path();
	const char *argv[32];
	char fdarg[16];
	int p[2], logfd, n = 0;
	pid_t parent = getpid(), pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	logfd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	assert_true(logfd >= 0);
	snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
	for (const char *const *a = o && o->prefix ? o->prefix : NULL; a && *a; a++)
		argv[n++] = *a;
	argv[n++] = exe;
	argv[n++] = "-c";
	argv[n++] = f->conf;
	argv[n++] = "-f";
	if (!o || !o->no_ready_fd) {
		argv[n++] = "--ready-fd";
		argv[n++] = fdarg;
	}
	if (o && o->debug)
		argv[n++] = "-d";
	argv[n] = NULL;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		bb_child_init(parent);
		for (const char *const *e = o && o->env ? o->env : NULL; e && *e; e++)
			putenv((char *)*e);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0 ||
		    (!(o && o->no_ready_fd) && fcntl(p[1], F_SETFD, 0) < 0))
			_exit(125);
		execvp(argv[0], (char **)argv);
		dprintf(2, "bbutil: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	close(logfd);
	f->pid = pid;
	f->stop_timeout_ms = o && o->stop_timeout_ms ? o->stop_timeout_ms : BB_STOP_TIMEOUT_MS;
	*ready_rd = p[0];
}

/*
 * Start the daemon on the config `tmpl` (see bb_write_config) and wait for
 * it to say READY on --ready-fd; fails the test (with the daemon's log)
 * when it exits or stays silent instead, and when it does not then close
 * the ready fd.
 */
static inline void bb_start_opts(struct bb *f, const char *tmpl, const struct bb_opts *o)
{
	int timeout = o && o->ready_timeout_ms ? o->ready_timeout_ms : BB_READY_TIMEOUT_MS;
	int rd, r;
	int64_t t0;

	bb_daemon_path();
	assert_int_equal(f->pid, 0);
	bb_write_config(f, tmpl);
	t0 = bb_now_ms();
	bb_spawn(f, o, &rd);
	r = bb_read_ready(rd, timeout);
	if (r == 1) {
		/* The contract: READY, then the daemon closes the fd. */
		char c;
		struct pollfd pf = { .fd = rd, .events = POLLIN };
		int pr = poll(&pf, 1, 5000);
		ssize_t n = pr > 0 ? read(rd, &c, 1) : -1;

		close(rd);
		if (n != 0) {
			bb_print_tail("pagepoold log", f->log, 4000);
			fail_msg("pagepoold wrote READY but did not close --ready-fd afterwards "
				 "(%s)", pr == 0 ? "still open after 5 s" : "more bytes followed");
		}
		return;
	}
	close(rd);
	{
		int code = bb_reap(f->pid, r == 0 ? 5000 : 0);

		f->pid = 0;
		bb_print_tail("pagepoold log", f->log, 4000);
		if (r == -ETIMEDOUT)
			fail_msg("pagepoold did not write READY within %d ms (killed)", timeout);
		if (r == -EPROTO)
			fail_msg("pagepoold wrote something other than \"READY\\n\" on --ready-fd");
		fail_msg("pagepoold exited before READY, after %lld ms: %s %d",
			 (long long)(bb_now_ms() - t0), code >= 128 ? "signal" : "status",
			 code >= 128 ? code - 128 : code);
	}
}

static inline void bb_start(struct bb *f, const char *tmpl)
{
	bb_start_opts(f, tmpl, NULL);
}

/*
 * Run the daemon on a config it must refuse: it must exit within 10 s
 * without writing READY.  Returns its exit code; its output is in f->log.
 */
static inline int bb_start_expect_exit(struct bb *f, const char *tmpl)
{
	int rd, r, code;

	bb_daemon_path();
	assert_int_equal(f->pid, 0);
	bb_write_config(f, tmpl);
	bb_spawn(f, NULL, &rd);
	r = bb_read_ready(rd, BB_READY_TIMEOUT_MS);
	close(rd);
	if (r != 0) {
		int stopped = bb_reap(f->pid, 0);

		f->pid = 0;
		bb_print_tail("pagepoold log", f->log, 4000);
		fail_msg("pagepoold %s on a config it should refuse (code %d)",
			 r == 1 ? "started (READY)" : "neither started nor exited", stopped);
	}
	code = bb_reap(f->pid, BB_STOP_TIMEOUT_MS);
	f->pid = 0;
	if (code == -ETIMEDOUT)
		fail_msg("pagepoold closed --ready-fd but did not exit within %d ms (killed)",
			 BB_STOP_TIMEOUT_MS);
	return code;
}

/*
 * Stop the daemon with `sig` and wait for it (bounded; past the deadline it
 * is killed with SIGKILL and -ETIMEDOUT returned).  Returns its exit code
 * (128 + signal if a signal ended it).  No assertions: teardown uses it.
 */
static inline int bb_stop_sig(struct bb *f, int sig)
{
	int code;

	if (f->pid <= 0)
		return f->exit_code;
	kill(f->pid, sig);
	code = bb_reap(f->pid, f->stop_timeout_ms);
	f->pid = 0;
	f->exit_code = code;
	return code;
}

/* SIGTERM the daemon and assert it exits 0 within the stop timeout. */
static inline void bb_stop_ok(struct bb *f, int sig)
{
	int64_t t0 = bb_now_ms();
	int code = bb_stop_sig(f, sig);

	if (code != 0) {
		bb_print_tail("pagepoold log", f->log, 6000);
		if (code == -ETIMEDOUT)
			fail_msg("pagepoold did not exit within %d ms of signal %d (killed)",
				 f->stop_timeout_ms, sig);
		fail_msg("pagepoold exited with %s %d after signal %d (expected status 0)",
			 code >= 128 ? "signal" : "status", code >= 128 ? code - 128 : code, sig);
	}
	print_message("pagepoold exited 0, %lld ms after signal %d\n",
		      (long long)(bb_now_ms() - t0), sig);
}

/* ---- clients -------------------------------------------------------------- */

/* Connect through libpagepool to `pool` (NULL: default); asserts success.
 * The fixture closes it at teardown unless bb_client_close() did. */
static inline struct pp_client *bb_client(struct bb *f, const char *pool)
{
	struct pp_client *c = NULL;
	unsigned i;
	int r;

	for (i = 0; i < BB_MAX_CLIENTS && f->clients[i]; i++)
		;
	assert_true(i < BB_MAX_CLIENTS);
	r = pp_connect(f->sock, pool, &c);
	if (r != 0)
		print_error("pp_connect(%s, %s) = %d (%s)\n", f->sock, pool ? pool : "NULL", r,
			    pp_strerror(r));
	assert_int_equal(r, 0);
	assert_non_null(c);
	f->clients[i] = c;
	return c;
}

static inline void bb_client_close(struct bb *f, struct pp_client *c)
{
	for (unsigned i = 0; i < BB_MAX_CLIENTS; i++)
		if (f->clients[i] == c)
			f->clients[i] = NULL;
	pp_close(c);
}

static inline struct pp_stat bb_stat(struct pp_client *c)
{
	struct pp_stat st;

	memset(&st, 0, sizeof(st));
	bb_assert_rc(c, pp_stat(c, &st), 0);
	return st;
}

/* In a quiet pool every page is in exactly one of the counted places. */
static inline void bb_assert_total(const struct pp_stat *st)
{
	uint64_t sum = st->free + st->pcp + st->allocated + st->isolated + st->offline;

	if (sum != st->total)
		print_error("stat: free %llu + pcp %llu + allocated %llu + isolated %llu + "
			    "offline %llu = %llu, total %llu\n",
			    (unsigned long long)st->free, (unsigned long long)st->pcp,
			    (unsigned long long)st->allocated, (unsigned long long)st->isolated,
			    (unsigned long long)st->offline, (unsigned long long)sum,
			    (unsigned long long)st->total);
	assert_int_equal(sum, st->total);
}

/*
 * Poll pp_stat on c until the pool's allocated count is `want` or
 * timeout_ms pass (1 ms between tries).  0 or -ETIMEDOUT; *st is the last
 * snapshot.
 */
static inline int bb_wait_allocated(struct pp_client *c, uint64_t want, int timeout_ms,
				    struct pp_stat *st)
{
	int64_t deadline = bb_now_ms() + timeout_ms;

	for (;;) {
		*st = bb_stat(c);
		if (st->allocated == want)
			return 0;
		if (bb_left_ms(deadline) == 0)
			return -ETIMEDOUT;
		poll(NULL, 0, 1);
	}
}

/* Assert that allocated reaches `want` within timeout_ms. */
static inline struct pp_stat bb_expect_allocated(struct pp_client *c, uint64_t want,
						 int timeout_ms)
{
	struct pp_stat st;

	if (bb_wait_allocated(c, want, timeout_ms, &st) != 0)
		print_error("pool allocated = %llu after %d ms, expected %llu\n",
			    (unsigned long long)st.allocated, timeout_ms,
			    (unsigned long long)want);
	assert_int_equal(st.allocated, want);
	return st;
}

/* A raw connection in a fixture slot (closed at teardown). */
static inline struct bb_conn *bb_raw(struct bb *f)
{
	struct bb_conn *c = NULL;
	int fd;

	for (unsigned i = 0; i < BB_MAX_CONNS && !c; i++)
		if (f->conns[i].fd < 0)
			c = &f->conns[i];
	assert_non_null(c);
	fd = bb_socket_connect(f->sock);
	if (fd < 0)
		print_error("connect %s: %s\n", f->sock, strerror(-fd));
	assert_true(fd >= 0);
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	return c;
}

/* Raw hello on c; asserts the Welcome.  Returns it (bb_resp_free). */
static inline bb_response *bb_raw_hello(struct bb_conn *c, uint64_t id, const char *pool)
{
	struct bb_req q;
	bb_response *r = bb_rpc(c, bb_req_hello(&q, id, 1, pool));

	bb_assert_status(r, PAGEPOOL__V1__STATUS__OK);
	assert_int_equal(r->body_case, PAGEPOOL__V1__RESPONSE__BODY_WELCOME);
	return r;
}

/* Raw alloc on c; asserts success and returns how many pfns came back
 * (copied to pfns[] when not NULL). */
static inline size_t bb_raw_alloc(struct bb_conn *c, uint64_t id, uint32_t order, uint32_t count,
				  uint32_t *pfns)
{
	struct bb_req q;
	bb_response *r = bb_rpc(c, bb_req_alloc(&q, id, order, count, 0));
	size_t n;

	bb_assert_status(r, PAGEPOOL__V1__STATUS__OK);
	assert_int_equal(r->body_case, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
	n = r->pages->n_pfns;
	assert_int_equal(n, count);
	if (pfns)
		memcpy(pfns, r->pages->pfns, n * sizeof(*pfns));
	bb_resp_free(r);
	return n;
}

/* fork() a child that dies with the test; the fixture kills it at teardown
 * if it is still around.  Children must leave with _exit(), never through a
 * cmocka assertion. */
static inline pid_t bb_fork(struct bb *f)
{
	pid_t parent = getpid(), pid;
	unsigned i;

	for (i = 0; i < BB_MAX_KIDS && f->kids[i]; i++)
		;
	assert_true(i < BB_MAX_KIDS);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bb_child_init(parent);
		return 0;
	}
	f->kids[i] = pid;
	return pid;
}

/* Wait for a bb_fork() child: its exit code (bb_exit_code); fails the test
 * if it is still running after timeout_ms (it is then killed). */
static inline int bb_kid_wait(struct bb *f, pid_t pid, int timeout_ms)
{
	int code = bb_reap(pid, timeout_ms);

	for (unsigned i = 0; i < BB_MAX_KIDS; i++)
		if (f->kids[i] == pid)
			f->kids[i] = 0;
	if (code == -ETIMEDOUT)
		fail_msg("child %d still running after %d ms (killed)", (int)pid, timeout_ms);
	return code;
}

/*
 * Teardown: close clients and raw connections, kill leftover children, stop
 * the daemon (SIGTERM) and fail unless it exits 0, remove the directory.
 */
static inline int bb_teardown(void **state)
{
	struct bb *f = *state;
	int ret = 0;

	for (unsigned i = 0; i < BB_MAX_CLIENTS; i++)
		if (f->clients[i])
			pp_close(f->clients[i]);
	for (unsigned i = 0; i < BB_MAX_CONNS; i++)
		if (f->conns[i].fd >= 0)
			bb_conn_close(&f->conns[i]);
	for (unsigned i = 0; i < BB_MAX_KIDS; i++) {
		if (f->kids[i]) {
			kill(f->kids[i], SIGKILL);
			bb_reap(f->kids[i], 5000);
		}
	}
	if (f->pid > 0) {
		int code = bb_stop_sig(f, SIGTERM);

		if (code != 0) {
			print_error("teardown: pagepoold %s %d after SIGTERM (expected status 0)\n",
				    code == -ETIMEDOUT ? "hung, killed;" :
				    code >= 128 ? "died of signal" : "exited with status",
				    code >= 128 ? code - 128 : code);
			bb_print_tail("pagepoold log", f->log, 6000);
			ret = -1;
		}
	}
	if (f->dir[0]) {
		if (getenv("BB_VERBOSE") && ret == 0)
			bb_print_tail("pagepoold log", f->log, 20000);
		if (getenv("BB_KEEP"))
			print_message("kept %s\n", f->dir);
		else
			bb_rm_rf(f->dir);
	}
	free(f);
	*state = NULL;
	return ret;
}

#define bb_test(fn) cmocka_unit_test_setup_teardown(fn, bb_setup, bb_teardown)

#endif
