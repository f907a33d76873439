/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_transport.c - proto/transport.c against a stand-in peer: the test
 * holds the other end of a socketpair and writes the answers itself, most
 * often before the call (the socket buffers them), so no daemon runs.
 * Covered: ids and the id-0-with-error rule, statuses, zero-length,
 * oversized, truncated, undecodable and large frames, EOF, fds passed
 * (the first kept, close-on-exec; extra ones closed), timeouts, EINTR,
 * E2BIG on send, an answer left by a peer that closed before reading,
 * connect errors and a connect bounded by its timeout.
 */
#include <dirent.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "bb.h"
#include "transport.h"
#include "wire.h"

#define RESP_DESC	(&pagepool__v1__response__descriptor)

/* A connected pair: p->t is the transport under test, p->peer its peer. */
struct pair {
	struct pp_transport t;
	int peer;
};

static void pair_open(struct pair *p, int timeout_ms)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	transport_init_fd(&p->t, sv[0], timeout_ms);
	p->peer = sv[1];
}

static void pair_close(struct pair *p)
{
	transport_close(&p->t);
	if (p->peer >= 0)
		close(p->peer);
	p->peer = -1;
}

/* Write len bytes to fd in one sendmsg, with nfds fds as SCM_RIGHTS. */
static void put(int fd, const void *buf, size_t len, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	assert_true(nfds <= 8);
	if (nfds) {
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf.buf;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(fd, &m, MSG_NOSIGNAL), (ssize_t)len);
}

/* Frame msg and write it to fd (with fds). */
static void put_msg(int fd, const ProtobufCMessage *msg, const int *fds, unsigned nfds)
{
	uint8_t *buf;
	size_t len;

	assert_int_equal(wire_encode(msg, UINT32_MAX, &buf, &len), 0);
	put(fd, buf, len, fds, nfds);
	free(buf);
}

/* A Response with id, status and error text (may be NULL) to fd. */
static void answer(int fd, uint64_t id, int status, const char *error)
{
	wire_response r = PAGEPOOL__V1__RESPONSE__INIT;

	r.id = id;
	r.status = status;
	r.error = (char *)error;
	put_msg(fd, &r.base, NULL, 0);
}

/* A Stat request with the next id of t. */
static wire_request *stat_req(wire_request *req, Pagepool__V1__Stat *st, struct pp_transport *t)
{
	pagepool__v1__request__init(req);
	pagepool__v1__stat__init(st);
	req->id = transport_next_id(t);
	req->body_case = PAGEPOOL__V1__REQUEST__BODY_STAT;
	req->stat = st;
	return req;
}

/* transport_call of a Stat; *out freed, its status in *status when given. */
static int stat_call(struct pp_transport *t, int *status, int *fd_out)
{
	wire_request req;
	Pagepool__V1__Stat st;
	ProtobufCMessage *out = NULL;
	int ret = transport_call(t, &stat_req(&req, &st, t)->base, RESP_DESC, &out, fd_out);

	if (status)
		*status = out ? transport_msg_status(out) : -1;
	if (ret == 0 || (ret < 0 && out)) {
		assert_non_null(out);
		protobuf_c_message_free_unpacked(out, NULL);
	} else {
		assert_null(out);
	}
	return ret;
}

/* Bytes waiting on fd right now. */
static bool readable(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	return poll(&pf, 1, 0) == 1;
}

static void expect_error(const struct pp_transport *t, const char *words)
{
	if (!strstr(t->error, words))
		print_error("t->error \"%s\", expected \"%s\" in it\n", t->error, words);
	assert_non_null(strstr(t->error, words));
}

/* After a transport failure: broken, and the next call fails at once. */
static void expect_broken(struct pair *p)
{
	char why[TRANSPORT_ERRLEN];

	assert_true(p->t.broken);
	memcpy(why, p->t.error, sizeof(why));
	while (readable(p->peer)) {	/* drop what was sent so far */
		char junk[256];

		assert_true(read(p->peer, junk, sizeof(junk)) > 0);
	}
	p->t.timeout_ms = 1000;		/* a transport that tried would time out */
	assert_int_equal(stat_call(&p->t, NULL, NULL), -ECONNRESET);
	assert_false(readable(p->peer));	/* no I/O */
	assert_string_equal(p->t.error, why);	/* the reason is kept */
}

/* ---- ids and statuses ----------------------------------------------------- */

static void test_ids(void **state)
{
	struct pair p;
	int status;

	pair_open(&p, -1);
	answer(p.peer, 1, 0, NULL);
	assert_int_equal(stat_call(&p.t, &status, NULL), 0);
	assert_int_equal(status, 0);
	/* A refusal answering this request: the daemon's words, usable after. */
	answer(p.peer, 2, ENOMEM, "pool exhausted");
	assert_int_equal(stat_call(&p.t, &status, NULL), -ENOMEM);
	assert_int_equal(status, ENOMEM);
	expect_error(&p.t, "pool exhausted");
	assert_false(p.t.broken);
	/* An answer to another request. */
	answer(p.peer, 7, 0, NULL);
	assert_int_equal(stat_call(&p.t, NULL, NULL), -EPROTO);
	expect_error(&p.t, "response id 7 to request 3");
	expect_broken(&p);
	pair_close(&p);

	/* A status no errno can be. */
	pair_open(&p, -1);
	answer(p.peer, 1, 5000, NULL);
	assert_int_equal(stat_call(&p.t, NULL, NULL), -EPROTO);
	expect_error(&p.t, "response status 5000");
	expect_broken(&p);
	pair_close(&p);
}

static void test_id0_with_error(void **state)
{
	struct pair p;
	int status;

	pair_open(&p, -1);
	answer(p.peer, 1, 0, NULL);
	assert_int_equal(stat_call(&p.t, NULL, NULL), 0);
	/* The daemon's last word: answered (body readable), then broken. */
	answer(p.peer, 0, EBUSY, "too many\nconnections");
	assert_int_equal(stat_call(&p.t, &status, NULL), -EBUSY);
	assert_int_equal(status, EBUSY);
	expect_error(&p.t, "too many?connections");	/* printable ASCII only */
	expect_broken(&p);
	pair_close(&p);
}

/* The admin protocol: the same id rules, found through its descriptor
 * (AdminRequest has a message field named "status"). */
static void test_admin_messages(void **state)
{
	Pagepool__V1__AdminRequest req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminStatusReq sr = PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT;
	Pagepool__V1__AdminResponse resp = PAGEPOOL__V1__ADMIN_RESPONSE__INIT;
	ProtobufCMessage *out;
	struct pair p;

	pair_open(&p, -1);
	req.id = transport_next_id(&p.t);
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS;
	req.status = &sr;
	assert_int_equal(transport_msg_id(&req.base), 1);
	assert_int_equal(transport_msg_status(&req.base), 0);
	resp.id = 1;
	resp.status = EPERM;
	resp.error = "not an admin";
	put_msg(p.peer, &resp.base, NULL, 0);
	assert_int_equal(transport_call(&p.t, &req.base,
					&pagepool__v1__admin_response__descriptor, &out, NULL),
			 -EPERM);
	assert_non_null(out);
	assert_ptr_equal(out->descriptor, &pagepool__v1__admin_response__descriptor);
	assert_int_equal(transport_msg_id(out), 1);
	protobuf_c_message_free_unpacked(out, NULL);
	expect_error(&p.t, "not an admin");
	assert_false(p.t.broken);
	pair_close(&p);
}

/* ---- frames --------------------------------------------------------------- */

static void test_empty_frame(void **state)
{
	static const uint8_t empty[4];
	ProtobufCMessage *out;
	struct pair p;
	int fd;

	/* A valid empty message... */
	pair_open(&p, -1);
	put(p.peer, empty, sizeof(empty), NULL, 0);
	assert_int_equal(transport_recv(&p.t, RESP_DESC, &out, &fd), 0);
	assert_non_null(out);
	assert_int_equal(fd, -1);
	assert_int_equal(transport_msg_id(out), 0);
	assert_int_equal(transport_msg_status(out), 0);
	protobuf_c_message_free_unpacked(out, NULL);
	assert_false(p.t.broken);
	/* ...which answers no request (id 0, status OK). */
	put(p.peer, empty, sizeof(empty), NULL, 0);
	assert_int_equal(stat_call(&p.t, NULL, NULL), -EPROTO);
	expect_error(&p.t, "response id 0 to request 1");
	expect_broken(&p);
	pair_close(&p);
}

static void test_bad_frames(void **state)
{
	static const uint8_t garbage[] = { 0, 0, 0, 3, 0xff, 0xff, 0xff };
	uint8_t hdr[8];
	struct pair p;

	/* Above max_frame: refused on the header alone (not waited on). */
	pair_open(&p, 5000);
	p.t.max_frame = 100;
	memcpy(hdr, "\0\0\0\x65", 4);
	put(p.peer, hdr, 4, NULL, 0);
	assert_int_equal(stat_call(&p.t, NULL, NULL), -EPROTO);
	expect_error(&p.t, "response frame of 101 bytes (limit 100)");
	expect_broken(&p);
	pair_close(&p);

	/* Truncated: 10 bytes announced, 3 sent, then EOF. */
	pair_open(&p, -1);
	memcpy(hdr, "\0\0\0\x0a\x08\x01\x10", 7);
	put(p.peer, hdr, 7, NULL, 0);
	shutdown(p.peer, SHUT_WR);
	assert_int_equal(stat_call(&p.t, NULL, NULL), -EPROTO);
	expect_error(&p.t, "truncated frame");
	expect_broken(&p);
	pair_close(&p);

	/* Truncated inside the header. */
	pair_open(&p, -1);
	put(p.peer, hdr, 2, NULL, 0);
	shutdown(p.peer, SHUT_WR);
	assert_int_equal(stat_call(&p.t, NULL, NULL), -EPROTO);
	expect_error(&p.t, "truncated frame");
	pair_close(&p);

	/* Undecodable body. */
	pair_open(&p, -1);
	put(p.peer, garbage, sizeof(garbage), NULL, 0);
	assert_int_equal(stat_call(&p.t, NULL, NULL), -EPROTO);
	expect_error(&p.t, "undecodable response (3 bytes)");
	expect_broken(&p);
	pair_close(&p);

	/* EOF before an answer. */
	pair_open(&p, -1);
	shutdown(p.peer, SHUT_WR);
	assert_int_equal(stat_call(&p.t, NULL, NULL), -ECONNRESET);
	expect_error(&p.t, "closed the connection");
	expect_broken(&p);
	pair_close(&p);
}

/* A body larger than the read-ahead buffer (read straight into its own
 * buffer), after a small frame that shares one recvmsg with its start, and
 * followed by another small one. */
static void test_large_frame(void **state)
{
	enum { NPFN = 6000 };
	Pagepool__V1__Pages pages = PAGEPOOL__V1__PAGES__INIT;
	wire_response r = PAGEPOOL__V1__RESPONSE__INIT;
	uint32_t *pfns = calloc(NPFN, sizeof(*pfns));
	ProtobufCMessage *out;
	wire_response *got;
	struct pair p;

	assert_non_null(pfns);
	for (unsigned i = 0; i < NPFN; i++)
		pfns[i] = i * 977;
	pages.n_pfns = NPFN;
	pages.pfns = pfns;
	r.body_case = PAGEPOOL__V1__RESPONSE__BODY_PAGES;
	r.pages = &pages;
	assert_true(protobuf_c_message_get_packed_size(&r.base) > 2 * TRANSPORT_RBUF);

	pair_open(&p, 5000);
	p.t.max_frame = 1 << 20;
	answer(p.peer, 1, 0, NULL);
	r.id = 2;
	put_msg(p.peer, &r.base, NULL, 0);
	answer(p.peer, 3, 0, "third");
	for (uint64_t id = 1; id <= 3; id++) {
		assert_int_equal(transport_recv(&p.t, RESP_DESC, &out, NULL), 0);
		got = (wire_response *)out;
		assert_int_equal(got->id, id);
		if (id == 2) {
			assert_int_equal(got->body_case, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
			assert_int_equal(got->pages->n_pfns, NPFN);
			assert_memory_equal(got->pages->pfns, pfns, NPFN * sizeof(*pfns));
		}
		protobuf_c_message_free_unpacked(out, NULL);
	}
	assert_false(p.t.broken);
	pair_close(&p);
	free(pfns);
}

/* ---- file descriptors ----------------------------------------------------- */

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Three memfds of 1, 2 and 3 pages, sent with an answer of id `id`; our
 * copies are closed. */
static void answer_with_fds(int peer, uint64_t id)
{
	wire_response r = PAGEPOOL__V1__RESPONSE__INIT;
	int fds[3];

	for (int i = 0; i < 3; i++) {
		fds[i] = memfd_create("transport-test", MFD_CLOEXEC);
		assert_true(fds[i] >= 0);
		assert_int_equal(ftruncate(fds[i], (i + 1) * 4096), 0);
	}
	r.id = id;
	put_msg(peer, &r.base, fds, 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

static void test_fds(void **state)
{
	struct pair p;
	unsigned n0;
	struct stat st;
	int fd;

	pair_open(&p, -1);
	n0 = open_fds();
	/* The first fd is kept (close-on-exec), the other two closed. */
	answer_with_fds(p.peer, 1);
	assert_int_equal(open_fds(), n0);
	assert_int_equal(stat_call(&p.t, NULL, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 4096);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(open_fds(), n0 + 1);
	close(fd);
	/* Nobody asked for one: all closed. */
	answer_with_fds(p.peer, 2);
	assert_int_equal(stat_call(&p.t, NULL, NULL), 0);
	assert_int_equal(open_fds(), n0);
	/* With an answer to another request: all closed, none handed out. */
	answer_with_fds(p.peer, 9);
	assert_int_equal(stat_call(&p.t, NULL, &fd), -EPROTO);
	assert_int_equal(fd, -1);
	assert_int_equal(open_fds(), n0);
	pair_close(&p);
}

/*
 * Pipelined answers read ahead together: the fd goes with the frame it was
 * sent with, not with the frame whose read brought it in - whether it came
 * with a whole frame or with its first byte only.
 */
static void test_fd_pipelined(void **state)
{
	wire_response r = PAGEPOOL__V1__RESPONSE__INIT;
	ProtobufCMessage *out;
	struct pair p;
	struct stat st;
	uint8_t *buf;
	size_t len;
	unsigned n0;
	int fd, mfd;

	pair_open(&p, 5000);
	n0 = open_fds();
	mfd = memfd_create("transport-test", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 8192), 0);
	answer(p.peer, 1, 0, NULL);
	answer(p.peer, 2, 0, NULL);
	r.id = 3;
	put_msg(p.peer, &r.base, &mfd, 1);		/* the whole frame */
	answer(p.peer, 4, 0, NULL);
	r.id = 5;
	assert_int_equal(wire_encode(&r.base, UINT32_MAX, &buf, &len), 0);
	put(p.peer, buf, 1, &mfd, 1);			/* its first byte */
	put(p.peer, buf + 1, len - 1, NULL, 0);
	free(buf);
	answer(p.peer, 6, 0, NULL);
	close(mfd);
	for (uint64_t id = 1; id <= 6; id++) {
		assert_int_equal(transport_recv(&p.t, RESP_DESC, &out, &fd), 0);
		assert_int_equal(transport_msg_id(out), id);
		protobuf_c_message_free_unpacked(out, NULL);
		if (id != 3 && id != 5) {
			if (fd >= 0)
				print_error("frame %llu came with fd %d\n", (unsigned long long)id,
					    fd);
			assert_int_equal(fd, -1);
			continue;
		}
		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(st.st_size, 8192);
		close(fd);
	}
	assert_int_equal(open_fds(), n0);
	pair_close(&p);
}

/* ---- time ----------------------------------------------------------------- */

static void expect_timeout(int timeout_ms)
{
	struct timeval backstop = { .tv_sec = 5 };
	struct pair p;
	int64_t t0, took;

	pair_open(&p, timeout_ms);
	/* Backstop: a transport that ignored its timeout would fail with
	 * EAGAIN after 5 s here rather than hang the test. */
	assert_int_equal(setsockopt(p.t.fd, SOL_SOCKET, SO_RCVTIMEO, &backstop,
				    sizeof(backstop)), 0);
	t0 = bb_now_ms();
	assert_int_equal(stat_call(&p.t, NULL, NULL), -ETIMEDOUT);
	took = bb_now_ms() - t0;
	print_message("timeout %d ms: -ETIMEDOUT after %lld ms\n", timeout_ms, (long long)took);
	assert_true(took >= timeout_ms - 1);
	assert_true(took <= timeout_ms + 1000);
	expect_error(&p.t, "no answer");
	/* A late answer must not be taken for the next request's. */
	answer(p.peer, 1, 0, NULL);
	expect_broken(&p);
	pair_close(&p);
}

/* A peer that does not read: a request larger than the socket can hold
 * times out on the send side. */
static void expect_send_timeout(int timeout_ms)
{
	enum { NPFN = 1 << 20 };
	Pagepool__V1__Free fr = PAGEPOOL__V1__FREE__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	uint32_t *pfns = calloc(NPFN, sizeof(*pfns));
	struct timeval backstop = { .tv_sec = 5 };
	struct pair p;
	int64_t t0, took;

	assert_non_null(pfns);
	for (unsigned i = 0; i < NPFN; i++)
		pfns[i] = i;
	pair_open(&p, timeout_ms);
	/* Backstop, as in expect_timeout. */
	assert_int_equal(setsockopt(p.t.fd, SOL_SOCKET, SO_SNDTIMEO, &backstop,
				    sizeof(backstop)), 0);
	p.t.max_frame = UINT32_MAX;
	fr.n_pfns = NPFN;
	fr.pfns = pfns;
	req.id = transport_next_id(&p.t);
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	req.free = &fr;
	t0 = bb_now_ms();
	assert_int_equal(transport_send(&p.t, &req.base), -ETIMEDOUT);
	took = bb_now_ms() - t0;
	print_message("send timeout %d ms: -ETIMEDOUT after %lld ms\n", timeout_ms,
		      (long long)took);
	assert_true(took >= timeout_ms - 1 && took <= timeout_ms + 1000);
	expect_error(&p.t, "did not take the request");
	expect_broken(&p);
	pair_close(&p);
	free(pfns);
}

static void test_timeout(void **state)
{
	expect_timeout(300);
	expect_timeout(0);
	expect_send_timeout(300);
	expect_send_timeout(0);
}

/* A listener whose backlog is full: connect waits, and times out. */
static void test_connect(void **state)
{
	struct bb *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pp_transport t;
	char longpath[200];
	int lfd, fill[8], nfill = 0;
	int64_t t0, took;

	bb_mkdir(f);
	assert_int_equal(transport_connect(&t, f->sock, 1000), -ECONNREFUSED);
	assert_int_equal(t.fd, -1);
	expect_error(&t, "no such socket");
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(transport_connect(&t, longpath, -1), -ENAMETOOLONG);

	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	strcpy(sa.sun_path, f->sock);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 0), 0);
	while (nfill < 8) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		assert_true(fd >= 0);
		fill[nfill++] = fd;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			assert_int_equal(errno, EAGAIN);
			break;
		}
	}
	t0 = bb_now_ms();
	alarm(10);	/* backstop: a connect that ignored its timeout dies of SIGALRM */
	assert_int_equal(transport_connect(&t, f->sock, 300), -ETIMEDOUT);
	alarm(0);
	took = bb_now_ms() - t0;
	print_message("connect to a full backlog: -ETIMEDOUT after %lld ms\n", (long long)took);
	assert_true(took >= 299 && took <= 1300);
	assert_int_equal(t.fd, -1);
	/* Room again: connected, and sends are not bounded by SO_SNDTIMEO. */
	close(accept(lfd, NULL, NULL));
	assert_int_equal(transport_connect(&t, f->sock, 300), 0);
	{
		struct timeval tv;
		socklen_t len = sizeof(tv);

		assert_int_equal(getsockopt(t.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len), 0);
		assert_true(tv.tv_sec == 0 && tv.tv_usec == 0);
	}
	transport_close(&t);
	assert_int_equal(t.fd, -1);
	while (nfill)
		close(fill[--nfill]);
	close(lfd);
}

/* ---- signals -------------------------------------------------------------- */

static int eintr_peer = -1;
static volatile sig_atomic_t eintr_signals;

/* The answer comes only after the signal: written by its handler. */
static void eintr_handler(int sig)
{
	static const uint8_t resp[] = { 0, 0, 0, 2, 0x08, 0x01 };	/* id 1 */

	eintr_signals++;
	if (write(eintr_peer, resp, sizeof(resp)) != (ssize_t)sizeof(resp))
		_exit(99);
}

/* 'S' when pid sleeps in the kernel (/proc/pid/stat's state). */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *paren;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : '?';
}

/*
 * A signal without SA_RESTART reaches the caller blocked in its receive
 * (a child watches for the request, then for the caller to sleep, and
 * sends it); the call goes on and takes the answer the handler writes.
 */
static void expect_eintr(struct bb *f, int timeout_ms)
{
	struct sigaction sa = { .sa_handler = eintr_handler }, old;
	pid_t parent = getpid(), kid;
	struct pair p;

	pair_open(&p, timeout_ms);
	eintr_peer = p.peer;
	eintr_signals = 0;
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);	/* sa_flags 0: no SA_RESTART */
	kid = bb_fork(f);
	if (kid == 0) {
		struct pollfd pf = { .fd = p.peer, .events = POLLIN };
		int64_t deadline = bb_now_ms() + 10000;

		if (poll(&pf, 1, 10000) != 1)
			_exit(2);
		while (proc_state(parent) != 'S')
			if (bb_left_ms(deadline) == 0 || poll(NULL, 0, 1) < 0)
				_exit(3);
		_exit(kill(parent, SIGUSR1) == 0 ? 0 : 4);
	}
	assert_int_equal(stat_call(&p.t, NULL, NULL), 0);
	assert_int_equal(eintr_signals, 1);
	assert_int_equal(bb_kid_wait(f, kid, 10000), 0);
	assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
	assert_false(p.t.broken);
	pair_close(&p);
}

static void test_eintr(void **state)
{
	expect_eintr(*state, -1);	/* blocking recvmsg */
	expect_eintr(*state, 10000);	/* poll */
}

/* ---- sending -------------------------------------------------------------- */

static void test_send_e2big(void **state)
{
	Pagepool__V1__Free fr = PAGEPOOL__V1__FREE__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	uint32_t pfns[64] = { 0 };
	ProtobufCMessage *out = (ProtobufCMessage *)&fr;	/* must be reset */
	struct pair p;

	pair_open(&p, -1);
	p.t.max_frame = 16;
	fr.n_pfns = 64;
	fr.pfns = pfns;
	req.id = transport_next_id(&p.t);
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	req.free = &fr;
	assert_int_equal(transport_call(&p.t, &req.base, RESP_DESC, &out, NULL), -E2BIG);
	assert_null(out);
	assert_int_equal(transport_send(&p.t, &req.base), -E2BIG);
	expect_error(&p.t, "max_frame 16");
	assert_false(p.t.broken);
	assert_false(readable(p.peer));		/* nothing sent */
	/* Still usable. */
	answer(p.peer, 2, 0, NULL);
	assert_int_equal(stat_call(&p.t, NULL, NULL), 0);
	pair_close(&p);
}

/* A peer that answered and closed before reading the request: its answer
 * says more than the EPIPE of the send. */
static void test_answer_after_close(void **state)
{
	struct pair p;

	pair_open(&p, -1);
	answer(p.peer, 0, ESHUTDOWN, "the daemon is shutting down");
	close(p.peer);
	p.peer = -1;
	assert_int_equal(stat_call(&p.t, NULL, NULL), -ESHUTDOWN);
	expect_error(&p.t, "shutting down");
	assert_true(p.t.broken);
	pair_close(&p);

	/* Closed without a word: the send's error. */
	pair_open(&p, -1);
	close(p.peer);
	p.peer = -1;
	assert_int_equal(stat_call(&p.t, NULL, NULL), -EPIPE);
	expect_error(&p.t, "send: ");
	assert_true(p.t.broken);
	assert_int_equal(stat_call(&p.t, NULL, NULL), -ECONNRESET);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_ids),
		bb_test(test_id0_with_error),
		bb_test(test_admin_messages),
		bb_test(test_empty_frame),
		bb_test(test_bad_frames),
		bb_test(test_large_frame),
		bb_test(test_fds),
		bb_test(test_fd_pipelined),
		bb_test(test_timeout),
		bb_test(test_connect),
		bb_test(test_eintr),
		bb_test(test_send_e2big),
		bb_test(test_answer_after_close),
	};

	return cmocka_run_group_tests_name("client transport", tests, NULL, NULL);
}
