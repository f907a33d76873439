/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_zeroid.c - black-box tests of request id 0 and of the zero-length
 * frame.  A message whose fields are all at their defaults packs to no
 * bytes, so a request with id 0 and no body, and an answer with id 0,
 * status OK and no body (admin offline, online and set-pcp with id 0), travel
 * as frames of length 0: the daemon and every client must take such a frame
 * as a valid empty message, never as a framing error.
 *
 *  - every Request body (none, hello, alloc, free, stat) with id 0 on the
 *    client socket, raw: each gets one decodable answer with id 0 and the
 *    connection keeps serving (a request with a nonzero id is answered);
 *  - every AdminRequest body (status, stats, buddyinfo, clients, drain,
 *    offline, online, trim, set_pcp, verify, reload, none) with id 0 on the
 *    admin socket, the same; the offline, online and set-pcp answers are
 *    zero-length frames, checked byte by byte;
 *  - pagepoolctl and libpagepool never send id 0, so their receive paths are
 *    driven by a stand-in daemon that answers a zero-length frame: they must
 *    decode it (and then refuse its id 0 as the answer to request 1), not
 *    call it an empty or bad frame.
 */
#include "bb.h"

#define ST(x) PAGEPOOL__V1__STATUS__##x
#define ADM(x) PAGEPOOL__V1__ADMIN_REQUEST__BODY_##x
#define ADR(x) PAGEPOOL__V1__ADMIN_RESPONSE__BODY_##x
#define BLOCK_PAGES	1024u		/* one max-order block of 4 KiB pages */

typedef Pagepool__V1__AdminRequest admin_request;
typedef Pagepool__V1__AdminResponse admin_response;

static const char conf_zero[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"workers = auto\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n"
	"pcp_high = 64\n"
	"pcp_batch = 16\n";

static const uint8_t empty_frame[4] = { 0, 0, 0, 0 };

/* ---- the client socket ----------------------------------------------------- */

/* Send req (id 0) raw; assert one answer with id 0, `status` and `body`,
 * whose error text contains `text` (NULL: not checked).  Returns it. */
static bb_response *client_expect(struct bb_conn *c, const bb_request *req, int status,
				  int body, const char *text)
{
	bb_response *r = bb_rpc(c, req);

	assert_int_equal(r->id, 0);
	bb_assert_status(r, status);
	if ((int)r->body_case != body)
		print_error("request body %d: answer body %d, expected %d\n", (int)req->body_case,
			    (int)r->body_case, body);
	assert_int_equal((int)r->body_case, body);
	if (text && !strstr(r->error, text))
		print_error("answer \"%s\", expected it to say \"%s\"\n", r->error, text);
	if (text)
		assert_non_null(strstr(r->error, text));
	return r;
}

static void test_client_requests_id0(void **state)
{
	struct bb *f = *state;
	struct bb_conn *c;
	struct bb_req q;
	bb_response *r;
	uint32_t pfns[2];

	bb_start(f, conf_zero);
	c = bb_raw(f);

	/* The empty frame itself: a Request with id 0 and no body, refused
	 * for its missing body (before hello too) on a connection that goes on. */
	assert_int_equal(protobuf_c_message_get_packed_size(&bb_req_none(&q, 0)->base), 0);
	assert_int_equal(bb_conn_send(c, empty_frame, sizeof(empty_frame), BB_IO_TIMEOUT_MS), 0);
	assert_int_equal(bb_conn_recv(c, BB_IO_TIMEOUT_MS, &r), 0);
	assert_int_equal(r->id, 0);
	bb_assert_status(r, ST(EPROTO));
	if (!strstr(r->error, "request has no known body"))
		print_error("empty frame answered \"%s\"\n", r->error);
	assert_non_null(strstr(r->error, "request has no known body"));
	bb_resp_free(r);

	/* Before hello, every other body is refused for coming first. */
	bb_resp_free(client_expect(c, bb_req_alloc(&q, 0, 0, 1, 0), ST(EPROTO), 0,
				   "first request must be hello"));
	bb_resp_free(client_expect(c, bb_req_stat(&q, 0), ST(EPROTO), 0,
				   "first request must be hello"));
	pfns[0] = 0;
	bb_resp_free(client_expect(c, bb_req_free(&q, 0, pfns, 1), ST(EPROTO), 0,
				   "first request must be hello"));

	bb_resp_free(client_expect(c, bb_req_hello(&q, 0, 1, NULL), ST(OK),
				   PAGEPOOL__V1__RESPONSE__BODY_WELCOME, NULL));
	bb_resp_free(client_expect(c, bb_req_none(&q, 0), ST(EPROTO), 0,
				   "request has no known body"));

	r = client_expect(c, bb_req_alloc(&q, 0, 0, 2, 0), ST(OK),
			  PAGEPOOL__V1__RESPONSE__BODY_PAGES, NULL);
	assert_int_equal(r->pages->n_pfns, 2);
	memcpy(pfns, r->pages->pfns, sizeof(pfns));
	bb_resp_free(r);
	r = client_expect(c, bb_req_stat(&q, 0), ST(OK), PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT,
			  NULL);
	assert_int_equal(r->pool_stat->held, 2);
	bb_resp_free(r);
	r = client_expect(c, bb_req_free(&q, 0, pfns, 2), ST(OK),
			  PAGEPOOL__V1__RESPONSE__BODY_FREED, NULL);
	assert_int_equal(r->freed->pages, 2);
	bb_resp_free(r);

	/* Still the same connection, serving nonzero ids. */
	r = bb_rpc(c, bb_req_stat(&q, 42));
	bb_assert_status(r, ST(OK));
	assert_int_equal(r->pool_stat->held, 0);
	bb_resp_free(r);
	assert_false(c->eof);
}

/* ---- the admin socket ------------------------------------------------------ */

/* A raw connection to the admin socket, in a fixture slot. */
static struct bb_conn *raw_admin(struct bb *f)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/admin.sock", f->dir);
	return bb_raw_at(f, path);
}

/* Wait until c has at least n bytes of input (the answer's header), and
 * copy up to len of them to buf, leaving them unread: how many came. */
static size_t wait_bytes(struct bb_conn *c, size_t n, uint8_t *buf, size_t len)
{
	int got = bb_conn_peek(c, buf, len, n, BB_IO_TIMEOUT_MS);

	if (got < 0)
		fail_msg("no %zu-byte answer within %d ms (%s)", n, BB_IO_TIMEOUT_MS,
			 got == -ECONNRESET ? "the daemon closed the connection" : "timed out");
	return (size_t)got;
}

/*
 * Send q raw on the admin connection and take its answer: id q->id,
 * `status`, body `body` (0: none).  `empty`: the answer must be a frame of
 * length 0 and nothing more.  Returns the answer (caller frees).
 */
static admin_response *admin_expect(struct bb_conn *c, const admin_request *q, int status,
				    int body, bool empty)
{
	struct bb_buf b = { 0 };
	ProtobufCMessage *m;
	admin_response *r;
	int ret;

	bb_buf_add_msg(&b, &q->base, NULL, 0);
	ret = bb_conn_send_buf(c, &b);
	bb_buf_free(&b);
	assert_int_equal(ret, 0);
	if (empty) {
		uint8_t head[64];
		size_t len = wait_bytes(c, 4, head, sizeof(head));

		assert_memory_equal(head, empty_frame, 4);
		assert_int_equal(len, 4);
	}
	ret = bb_conn_recv_msg(c, BB_IO_TIMEOUT_MS, &pagepool__v1__admin_response__descriptor,
			       &m);
	if (ret != 0)
		print_error("admin request body %d id %llu: no answer (%s)\n", (int)q->body_case,
			    (unsigned long long)q->id,
			    ret == -ECONNRESET ? "the daemon closed the connection" : strerror(-ret));
	assert_int_equal(ret, 0);
	r = (admin_response *)m;
	if (r->id != q->id || (int)r->status != status || (int)r->body_case != body)
		print_error("admin request body %d id %llu: answer id %llu status %s \"%s\" body %d, "
			    "expected status %s body %d\n", (int)q->body_case,
			    (unsigned long long)q->id, (unsigned long long)r->id,
			    bb_status_name(r->status), r->error, (int)r->body_case,
			    bb_status_name(status), body);
	assert_int_equal(r->id, q->id);
	assert_int_equal((int)r->status, status);
	assert_int_equal((int)r->body_case, body);
	return r;
}

static void admin_free(admin_response *r)
{
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void test_admin_requests_id0(void **state)
{
	struct bb *f = *state;
	Pagepool__V1__AdminStatusReq status = PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT;
	Pagepool__V1__AdminStatsReq stats = PAGEPOOL__V1__ADMIN_STATS_REQ__INIT;
	Pagepool__V1__AdminBuddyinfoReq buddyinfo = PAGEPOOL__V1__ADMIN_BUDDYINFO_REQ__INIT;
	Pagepool__V1__AdminClientsReq clients = PAGEPOOL__V1__ADMIN_CLIENTS_REQ__INIT;
	Pagepool__V1__AdminDrainReq drain = PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT;
	Pagepool__V1__AdminOfflineReq offline = PAGEPOOL__V1__ADMIN_OFFLINE_REQ__INIT;
	Pagepool__V1__AdminOnlineReq online = PAGEPOOL__V1__ADMIN_ONLINE_REQ__INIT;
	Pagepool__V1__AdminTrimReq trim = PAGEPOOL__V1__ADMIN_TRIM_REQ__INIT;
	Pagepool__V1__AdminSetPcpReq set_pcp = PAGEPOOL__V1__ADMIN_SET_PCP_REQ__INIT;
	Pagepool__V1__AdminVerifyReq verify = PAGEPOOL__V1__ADMIN_VERIFY_REQ__INIT;
	Pagepool__V1__AdminReloadReq reload = PAGEPOOL__V1__ADMIN_RELOAD_REQ__INIT;
	admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	struct pp_client *cl;
	struct bb_conn *c;
	admin_response *r;
	struct pp_stat st;

	bb_start(f, conf_zero);
	cl = bb_client(f, NULL);
	c = raw_admin(f);

/* The body is the local variable named like its oneof member. */
#define SEND(field, CASE, BODY, empty) do {					\
	q.body_case = ADM(CASE);						\
	q.field = &field;							\
	admin_free(admin_expect(c, &q, ST(OK), BODY, empty));			\
} while (0)
	SEND(status, STATUS, ADR(STATUS_INFO), false);
	SEND(stats, STATS, ADR(STATS), false);
	SEND(buddyinfo, BUDDYINFO, ADR(BUDDYINFO), false);
	SEND(clients, CLIENTS, ADR(CLIENTS), false);
	SEND(drain, DRAIN, ADR(DRAINED), false);
	SEND(trim, TRIM, ADR(TRIMMED), false);
	SEND(verify, VERIFY, ADR(VERIFIED), false);
	SEND(reload, RELOAD, ADR(RELOADED), false);

	/* The reproducer: an offline that succeeds, answered with id 0, status
	 * OK and no body - a zero-length frame - on a connection that goes on. */
	offline.pool = online.pool = (char *)"default";
	offline.start = online.start = BLOCK_PAGES;
	offline.count = online.count = BLOCK_PAGES;
	SEND(offline, OFFLINE, 0, true);
	st = bb_stat(cl);
	assert_int_equal(st.offline, BLOCK_PAGES);
	SEND(online, ONLINE, 0, true);
	st = bb_stat(cl);
	assert_int_equal(st.offline, 0);
	set_pcp.pool = (char *)"";
	set_pcp.high = 64;
	set_pcp.batch = 16;
	SEND(set_pcp, SET_PCP, 0, true);
#undef SEND

	/* No body: the empty frame, refused as an unknown request. */
	q.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY__NOT_SET;
	assert_int_equal(protobuf_c_message_get_packed_size(&q.base), 0);
	r = admin_expect(c, &q, ST(EPROTO), 0, false);
	assert_non_null(strstr(r->error, "unknown admin request"));
	admin_free(r);

	/* The connection still serves, nonzero ids too. */
	q.id = 7;
	q.body_case = ADM(STATUS);
	q.status = &status;
	admin_free(admin_expect(c, &q, ST(OK), ADR(STATUS_INFO), false));
	assert_false(c->eof);
}

/* ---- the clients' receive paths, against a stand-in daemon ----------------- */

/* Read exactly len bytes from fd by deadline: 0, or -1. */
static int read_full(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	while (len) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pf, 1, bb_left_ms(deadline)) <= 0)
			return -1;
		n = read(fd, buf, len);
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * A stand-in daemon at DIR/fake.sock (its path in path[len]), in a child:
 * it accepts one connection, reads one whole request frame, answers with a
 * zero-length frame and waits for the peer to close.  Bound and listening
 * before the fork, so the client cannot come too early.  The child exits 0
 * when it answered, non-zero if no request came.
 */
static pid_t fake_daemon(struct bb *f, char *path, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;
	pid_t pid;

	bb_mkdir(f);
	snprintf(path, len, "%s/fake.sock", f->dir);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	pid = bb_fork(f);
	if (pid == 0) {
		int64_t deadline = bb_now_ms() + 10000;
		struct pollfd pf = { .fd = lfd, .events = POLLIN };
		uint8_t hdr[4], body[4096], byte;
		uint32_t blen;
		int fd;

		if (poll(&pf, 1, bb_left_ms(deadline)) <= 0)
			_exit(2);
		fd = accept(lfd, NULL, NULL);
		if (fd < 0 || read_full(fd, hdr, 4, deadline) < 0)
			_exit(3);
		blen = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
		if (blen > sizeof(body) || read_full(fd, body, blen, deadline) < 0)
			_exit(4);
		if (write(fd, empty_frame, sizeof(empty_frame)) != (ssize_t)sizeof(empty_frame))
			_exit(5);
		/* Until the client hangs up (EOF: read_full fails). */
		(void)read_full(fd, &byte, 1, deadline);
		_exit(0);
	}
	close(lfd);
	return pid;
}

/* Run argv with stdout and stderr into out[len]; its exit code. */
static int run_capture(struct bb *f, const char *const *argv, char *out, size_t len)
{
	char path[200], *text;
	struct bb_prog p = { .argv = argv, .out = path, .err = path };
	int code;

	snprintf(path, sizeof(path), "%s/capture.out", f->dir);
	code = bb_kid_wait(f, bb_kid_spawn(f, &p), 10000);
	text = bb_slurp(path);
	snprintf(out, len, "%s", text);
	free(text);
	return code;
}

static void test_pagepoolctl_takes_empty_frame(void **state)
{
	struct bb *f = *state;
	char sock[160], out[4096];
	const char *ctl = bb_ctl_path_or_skip();
	pid_t fake = fake_daemon(f, sock, sizeof(sock));
	const char *argv[] = { ctl, "-s", sock, "status", NULL };
	int code = run_capture(f, argv, out, sizeof(out));

	print_message("pagepoolctl status against a zero-length answer: exit %d: %s", code, out);
	assert_int_equal(bb_kid_wait(f, fake, 10000), 0);
	/* Decoded (id 0, status OK), then refused for its id: not a bad frame. */
	assert_int_equal(code, 76);		/* EX_PROTOCOL */
	assert_non_null(strstr(out, "response id 0 to request 1"));
	assert_null(strstr(out, "empty"));
}

static void test_libpagepool_takes_empty_frame(void **state)
{
	struct bb *f = *state;
	struct pp_client *c = NULL;
	char sock[160];
	pid_t fake = fake_daemon(f, sock, sizeof(sock));
	int ret = pp_connect(sock, NULL, &c);

	print_message("pp_connect against a zero-length answer: %d: %s\n", ret,
		      pp_last_error(NULL));
	assert_int_equal(bb_kid_wait(f, fake, 10000), 0);
	assert_int_equal(ret, -EPROTO);
	assert_null(c);
	assert_non_null(strstr(pp_last_error(NULL), "response id 0 to request 1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_client_requests_id0),
		bb_test(test_admin_requests_id0),
		bb_test(test_pagepoolctl_takes_empty_frame),
		bb_test(test_libpagepool_takes_empty_frame),
	};

	return cmocka_run_group_tests_name("blackbox zero id and empty frames", tests, NULL, NULL);
}
