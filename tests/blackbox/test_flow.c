/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_flow.c - black-box tests of pagepoold's flow control and connection
 * life: a client that reads while it pipelines more responses than
 * max_output is slowed down (backpressure), never disconnected; one that
 * never reads is disconnected after write_timeout without write progress;
 * requests sent before a half-close are all answered before EOF; a backlog
 * of pre-hello errors does not cost the welcome its arena fd; an owner id
 * reused from a closed connection gives no power over another client's
 * pages; --ready-fd must name an open fd; max_output must fit max_count.
 */
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "bb.h"

#define ST(x) PAGEPOOL__V1__STATUS__##x

#define FLOW_MAX_OUTPUT (64u << 10)
#define FLOW_POOL_BYTES (1ull << 30)

/* No write_timeout here: these cases are about backpressure alone. */
static const char conf_flow[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"max_output = 64K\n"
	"max_count = 1024\n"
	"\n"
	"[pool default]\n"
	"size = 1G\n";

/* The same with the default max_output (1M). */
static const char conf_plain[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"max_count = 1024\n"
	"\n"
	"[pool default]\n"
	"size = 1G\n";

static const char conf_slow[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"max_output = 64K\n"
	"max_count = 1024\n"
	"write_timeout = 1\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

/* Two connection slots: a connection made after one of two closes must
 * take the slot (and so the owner id) the closed one had. */
static const char conf_two_slots[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"max_connections = 2\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

/* ---- pumping a raw connection: send and receive at once ------------------ */

/* What came back on a pumped connection, in order. */
struct flow {
	struct bb_conn *c;
	bb_response **resp;
	uint64_t *start;	/* stream offset of each response's frame */
	unsigned n, cap;
	uint64_t parsed;	/* bytes of the frames of the responses taken */
	uint64_t fd_rx;		/* parsed after the response the first fd came
				 * with (the transport hands an fd out with the
				 * frame its bytes came with); 0: none */
	size_t sent;		/* bytes of the request stream sent */
	int send_err;		/* errno of a failed send, 0 if none */
};

static void flow_free(struct flow *fl)
{
	for (unsigned i = 0; i < fl->n; i++)
		bb_resp_free(fl->resp[i]);
	free(fl->resp);
	free(fl->start);
	memset(fl, 0, sizeof(*fl));
}

static size_t resp_wire_size(const bb_response *r)
{
	return 4 + protobuf_c_message_get_packed_size(&r->base);
}

/* Take the responses that have come, without waiting for more, noting where
 * an fd arrived; -EBADMSG if one is not a Response. */
static int flow_take(struct flow *fl, unsigned want)
{
	struct bb_conn *c = fl->c;

	while (fl->n < want) {
		unsigned nfds = c->nfds;
		bb_response *r;
		int ret = bb_conn_recv(c, 0, &r);

		if (ret == -ETIMEDOUT || ret == -ECONNRESET)
			break;
		if (ret != 0)
			return -EBADMSG;
		if (fl->n == fl->cap) {
			unsigned cap = fl->cap ? fl->cap * 2 : 1024;
			bb_response **nr = realloc(fl->resp, cap * sizeof(*nr));
			uint64_t *ns;

			assert_non_null(nr);
			fl->resp = nr;
			ns = realloc(fl->start, cap * sizeof(*ns));
			assert_non_null(ns);
			fl->start = ns;
			fl->cap = cap;
		}
		fl->start[fl->n] = fl->parsed;
		fl->resp[fl->n++] = r;
		fl->parsed += resp_wire_size(r);
		if (nfds == 0 && c->nfds > 0)
			fl->fd_rx = fl->parsed;
	}
	return 0;
}

/*
 * Send all of `out` on c while reading the responses as they come (one
 * poll loop, non-blocking both ways, so the daemon is never stuck on us);
 * once everything is sent, shutdown(SHUT_WR) if `shut`.  With `read_late`
 * nothing is read before all is sent (and shut down) and the daemon has
 * taken all of it off the socket (SIOCOUTQ 0; waited for at most 2 s, and
 * then reading starts anyway): whatever it answers by then is still queued
 * on its side.  Returns 0 once `want` responses are in fl, -ECONNRESET if
 * the daemon closed first, -ETIMEDOUT at the deadline, -EBADMSG on bytes
 * that are not a Response.
 */
static int flow_pump_opt(struct flow *fl, struct bb_conn *c, const struct bb_buf *out,
			 bool shut, bool read_late, unsigned want, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	bool shut_done = false;

	memset(fl, 0, sizeof(*fl));
	fl->c = c;
	for (;;) {
		struct pollfd pf = { .fd = c->fd, .events = 0 };
		bool sending = fl->sent < out->len && !fl->send_err;
		bool reading = !read_late || !sending;
		int left, r;

		/* Shut down before taking responses: taking reads, and may take
		 * the last one before this loop comes round again. */
		if (!sending && shut && !shut_done) {
			assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
			shut_done = true;
		}
		if (!read_late && flow_take(fl, want) < 0)
			return -EBADMSG;
		if (fl->n >= want)
			return 0;
		if (c->eof)
			return -ECONNRESET;
		if (!sending && read_late) {
			int64_t until = bb_now_ms() + 2000;
			int outq = 0;

			while (ioctl(c->fd, SIOCOUTQ, &outq) == 0 && outq > 0 &&
			       bb_left_ms(until) > 0 && bb_left_ms(deadline) > 0)
				poll(NULL, 0, 1);
			if (outq > 0)
				print_message("the daemon left %d bytes unread for 2 s; reading now\n",
					      outq);
			read_late = false;
			reading = true;
		}
		left = bb_left_ms(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		if (sending)
			pf.events |= POLLOUT;
		if (reading)
			pf.events |= POLLIN;
		r = poll(&pf, 1, left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (sending && (pf.revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = send(c->fd, out->p + fl->sent, out->len - fl->sent,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n > 0)
				fl->sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				fl->send_err = errno;
		}
	}
}

static int flow_pump(struct flow *fl, struct bb_conn *c, const struct bb_buf *out, bool shut,
		     unsigned want, int timeout_ms)
{
	return flow_pump_opt(fl, c, out, shut, false, want, timeout_ms);
}

/* Report how a pump ended when it did not get everything. */
static void flow_expect(const struct flow *fl, int ret, unsigned want, const char *what)
{
	if (ret != 0)
		print_error("%s: %u of %u responses, then %s (sent %zu bytes%s%s)\n", what, fl->n,
			    want, ret == -ECONNRESET ? "the daemon closed the connection" :
			    strerror(-ret), fl->sent, fl->send_err ? "; send: " : "",
			    fl->send_err ? strerror(fl->send_err) : "");
	assert_int_equal(ret, 0);
	assert_int_equal(fl->n, want);
}

/* ---- 1. backpressure, not a disconnect, for a client that reads ----------- */

#define BP_REQS 300
#define BP_COUNT 256

static void test_backpressure_reader_served(void **state)
{
	struct bb *f = *state;
	struct pp_client *by;
	struct bb_conn *r;
	struct bb_buf b = { 0 };
	struct bb_req q;
	struct flow fl;
	struct pp_stat st;
	uint8_t *seen;
	size_t bytes = 0;
	uint64_t total;
	int64_t t0;
	int ret;

	bb_start(f, conf_flow);
	by = bb_client(f, NULL);
	total = bb_stat(by).total;
	assert_int_equal(total, FLOW_POOL_BYTES / (uint64_t)sysconf(_SC_PAGESIZE));
	r = bb_raw(f);
	bb_resp_free(bb_raw_hello(r, 1, NULL));
	assert_int_equal(r->nfds, 1);

	for (unsigned i = 0; i < BP_REQS; i++)
		bb_buf_add_msg(&b, &bb_req_alloc(&q, 100 + i, 0, BP_COUNT, 0)->base, NULL, 0);
	t0 = bb_now_ms();
	ret = flow_pump(&fl, r, &b, false, BP_REQS, 10000);
	bb_buf_free(&b);
	flow_expect(&fl, ret, BP_REQS, "pipelined allocs, reading all along");
	print_message("%u alloc responses in %lld ms\n", fl.n, (long long)(bb_now_ms() - t0));

	seen = calloc(total, 1);
	assert_non_null(seen);
	for (unsigned i = 0; i < BP_REQS; i++) {
		const bb_response *resp = fl.resp[i];

		assert_int_equal(resp->id, 100 + i);	/* in order */
		bb_assert_status(resp, ST(OK));
		assert_int_equal(resp->body_case, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
		assert_int_equal(resp->pages->n_pfns, BP_COUNT);
		for (unsigned k = 0; k < BP_COUNT; k++) {
			uint32_t pfn = resp->pages->pfns[k];

			assert_true(pfn < total);
			assert_int_equal(seen[pfn], 0);	/* never handed out twice */
			seen[pfn] = 1;
		}
		bytes += resp_wire_size(resp);
	}
	free(seen);
	print_message("%zu bytes of responses, max_output %u\n", bytes, FLOW_MAX_OUTPUT);
	/* The test means something only if the answers overflow max_output. */
	assert_true(bytes > 2 * FLOW_MAX_OUTPUT);
	flow_free(&fl);

	/* Still connected, holding every page it was given. */
	{
		bb_response *resp = bb_rpc(r, bb_req_stat(&q, 9999));

		bb_assert_status(resp, ST(OK));
		assert_int_equal(resp->pool_stat->held, BP_REQS * BP_COUNT);
		bb_resp_free(resp);
	}
	st = bb_stat(by);
	assert_int_equal(st.allocated, BP_REQS * BP_COUNT);
	assert_int_equal(st.held, 0);
	bb_assert_total(&st);

	bb_conn_close(r);
	st = bb_expect_allocated(by, 0, 2000);
	bb_assert_total(&st);
}

/* ---- 2. a client that never reads: disconnected after write_timeout ------- */

#define SLOW_BY_PAGES 5
#define SLOW_PAGES 16
#define SLOW_MAX_SENT (4u << 20)

static void test_nonreader_write_timeout(void **state)
{
	struct bb *f = *state;
	struct pp_client *by;
	struct bb_conn *r;
	struct bb_buf batch = { 0 };
	struct bb_req q;
	struct pp_stat st;
	uint32_t by_pfns[SLOW_BY_PAGES], pfn;
	unsigned got, more;
	size_t off = 0, sent = 0;
	int64_t t0, t_stall = 0, t_close = 0, deadline;
	int err = 0;

	bb_start(f, conf_slow);
	by = bb_client(f, NULL);
	bb_assert_rc(by, pp_alloc(by, 0, SLOW_BY_PAGES, 0, by_pfns, &got), 0);
	r = bb_raw(f);
	bb_resp_free(bb_raw_hello(r, 1, NULL));
	bb_raw_alloc(r, 2, 0, SLOW_PAGES, NULL);
	st = bb_stat(by);
	assert_int_equal(st.allocated, SLOW_BY_PAGES + SLOW_PAGES);

	for (unsigned i = 0; i < 256; i++)
		bb_buf_add_msg(&batch, &bb_req_stat(&q, 100 + i)->base, NULL, 0);

	/* Stat requests without ever reading an answer, until the daemon hangs up. */
	t0 = bb_now_ms();
	deadline = t0 + 10000;
	for (;;) {
		struct pollfd pf = { .fd = r->fd, .events = POLLOUT };
		ssize_t n = send(r->fd, batch.p + off, batch.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		int left;

		if (n > 0) {
			sent += (size_t)n;
			off = (off + (size_t)n) % batch.len;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			err = errno;
			t_close = bb_now_ms();
			break;
		}
		if (!t_stall) {
			/* The daemon stopped taking requests; the bystander is
			 * still served meanwhile. */
			t_stall = bb_now_ms();
			st = bb_stat(by);
			assert_int_equal(st.held, SLOW_BY_PAGES);
			assert_int_equal(st.allocated, SLOW_BY_PAGES + SLOW_PAGES);
		}
		left = bb_left_ms(deadline);
		if (left == 0)
			break;
		poll(&pf, 1, left);
	}
	bb_buf_free(&batch);
	print_message("sent %zu bytes; stalled after %lld ms; %s after %lld ms (%s)\n", sent,
		      t_stall ? (long long)(t_stall - t0) : -1LL,
		      t_close ? "disconnected" : "still connected",
		      (long long)((t_close ? t_close : bb_now_ms()) - t0),
		      err ? strerror(err) : "no error");
	if (err != EPIPE && err != ECONNRESET)
		fail_msg("a client that does not read was not disconnected within 10 s "
			 "(write_timeout = 1; send: %s)", err ? strerror(err) : "still blocked");
	/* Backpressure: the daemon stopped reading, so what it took in (and
	 * what it had to queue in answer) stayed bounded. */
	assert_true(t_stall != 0);
	if (sent >= SLOW_MAX_SENT)
		print_error("the daemon took %zu bytes of requests from a client that "
			    "never reads (expected < %u)\n", sent, SLOW_MAX_SENT);
	assert_true(sent < SLOW_MAX_SENT);
	/* Not for the size of its queue but for write_timeout (1 s) without
	 * progress, which cannot run out before the first unread answer. */
	if (t_close - t0 < 900)
		print_error("disconnected %lld ms after the first unread request; "
			    "write_timeout is 1 s\n", (long long)(t_close - t0));
	assert_true(t_close - t0 >= 900);

	assert_int_equal(bb_conn_wait_close(r, BB_IO_TIMEOUT_MS, &more), 0);
	bb_conn_close(r);

	/* Its pages came back; the bystander keeps its own and is served. */
	st = bb_expect_allocated(by, SLOW_BY_PAGES, 2000);
	assert_int_equal(st.held, SLOW_BY_PAGES);
	bb_assert_total(&st);
	bb_assert_rc(by, pp_alloc(by, 0, 1, 0, &pfn, &got), 0);
	bb_assert_rc(by, pp_free(by, &pfn, 1, NULL), 0);
	bb_assert_rc(by, pp_free(by, by_pfns, SLOW_BY_PAGES, NULL), 0);
	st = bb_stat(by);
	assert_int_equal(st.allocated, 0);
	bb_assert_total(&st);
}

/* ---- 3. half-close: everything asked is answered before EOF --------------- */

#define HC_PAGES 3

/*
 * Hello and an alloc of HC_PAGES, then `n` pipelined requests (Stat, or
 * Alloc{order 0, count 256} when `allocs`) and shutdown(SHUT_WR), reading
 * all along or, with `read_late`, only once the daemon has read it all:
 * every request is answered, in order, then the daemon closes and the
 * pages come back.
 */
static void half_close_case(struct bb *f, unsigned n, bool allocs, bool read_late)
{
	struct pp_client *by = bb_client(f, NULL);
	uint64_t total = bb_stat(by).total, held = HC_PAGES;
	struct bb_conn *r = bb_raw(f);
	struct bb_buf b = { 0 };
	struct bb_req q;
	struct flow fl;
	bb_response *resp;
	struct pp_stat st;
	uint8_t *seen;
	int ret;

	bb_resp_free(bb_raw_hello(r, 1, NULL));
	bb_buf_add_msg(&b, &bb_req_alloc(&q, 2, 0, HC_PAGES, 0)->base, NULL, 0);
	for (unsigned i = 0; i < n; i++)
		bb_buf_add_msg(&b, allocs ? &bb_req_alloc(&q, 10 + i, 0, BP_COUNT, 0)->base
					  : &bb_req_stat(&q, 10 + i)->base, NULL, 0);
	ret = flow_pump_opt(&fl, r, &b, true, read_late, 1 + n, 10000);
	bb_buf_free(&b);
	flow_expect(&fl, ret, 1 + n, "pipelined requests, then shutdown(SHUT_WR)");

	seen = calloc(total, 1);
	assert_non_null(seen);
	assert_int_equal(fl.resp[0]->id, 2);
	bb_assert_status(fl.resp[0], ST(OK));
	assert_int_equal(fl.resp[0]->body_case, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
	assert_int_equal(fl.resp[0]->pages->n_pfns, HC_PAGES);
	for (unsigned i = 0; i < fl.n; i++) {
		const bb_response *s = fl.resp[i];

		assert_int_equal(s->id, i ? 10 + i - 1 : 2);
		bb_assert_status(s, ST(OK));
		if (i == 0 || allocs) {
			assert_int_equal(s->body_case, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
			for (size_t k = 0; k < s->pages->n_pfns; k++) {
				assert_true(s->pages->pfns[k] < total);
				assert_int_equal(seen[s->pages->pfns[k]], 0);
				seen[s->pages->pfns[k]] = 1;
			}
			if (i)
				assert_int_equal(s->pages->n_pfns, BP_COUNT);
		} else {
			assert_int_equal(s->body_case, PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT);
			assert_int_equal(s->pool_stat->held, HC_PAGES);
			assert_int_equal(s->pool_stat->allocated, HC_PAGES);
		}
	}
	free(seen);
	if (allocs)
		held += (uint64_t)n * BP_COUNT;
	print_message("%u responses (%llu bytes) to %zu bytes of requests sent before the "
		      "half-close\n", fl.n, (unsigned long long)fl.parsed, fl.sent);
	flow_free(&fl);

	/* Then EOF, nothing more. */
	ret = bb_conn_recv(r, BB_IO_TIMEOUT_MS, &resp);
	if (ret == 0)
		print_error("an extra response id %llu after all were answered\n",
			    (unsigned long long)resp->id);
	bb_resp_free(ret == 0 ? resp : NULL);
	assert_int_equal(ret, -ECONNRESET);
	bb_conn_close(r);
	print_message("the half-closed connection held %llu pages\n", (unsigned long long)held);
	st = bb_expect_allocated(by, 0, 2000);
	bb_assert_total(&st);
}

/*
 * Default max_output (1M): 15,000 Stat answers (~480 KB, more than the
 * socket holds, less than max_output / 2) are mostly still queued in the
 * daemon when it reads EOF; it must send them all before it closes.
 */
static void test_half_close_all_answered(void **state)
{
	struct bb *f = *state;

	bb_start(f, conf_plain);
	half_close_case(f, 15000, false, true);
}

/* max_output 64K: 300 allocs of 256 pages (~220 KB of answers to ~3 KB of
 * requests) pause the connection by backpressure before its EOF is read;
 * reading all along, every answer still comes. */
static void test_half_close_while_paused(void **state)
{
	struct bb *f = *state;

	bb_start(f, conf_flow);
	half_close_case(f, BP_REQS, true, false);
}

/* ---- 4. a backlog of pre-hello errors, then hello: welcome with its fd ---- */

#define PH_ERRS 5000

static void test_prehello_backlog_welcome_fd(void **state)
{
	struct bb *f = *state;
	struct bb_conn *r;
	struct bb_buf b = { 0 };
	struct bb_req q;
	struct flow fl;
	const bb_response *w, *s;
	struct stat sb;
	uint64_t w_start, w_end;
	int ret;

	bb_start(f, conf_plain);
	r = bb_raw(f);
	/* Requests with an id and no body (id 0 would be an empty frame). */
	for (unsigned i = 0; i < PH_ERRS; i++)
		bb_buf_add_msg(&b, &bb_req_none(&q, 1 + i)->base, NULL, 0);
	bb_buf_add_msg(&b, &bb_req_hello(&q, 777777, 1, NULL)->base, NULL, 0);
	bb_buf_add_msg(&b, &bb_req_stat(&q, 777778)->base, NULL, 0);
	ret = flow_pump(&fl, r, &b, false, PH_ERRS + 2, 10000);
	bb_buf_free(&b);
	flow_expect(&fl, ret, PH_ERRS + 2, "bodiless requests, hello, stat");

	for (unsigned i = 0; i < PH_ERRS; i++) {
		const bb_response *e = fl.resp[i];

		assert_int_equal(e->id, 1 + i);
		bb_assert_status(e, ST(EPROTO));
		assert_int_not_equal(e->body_case, PAGEPOOL__V1__RESPONSE__BODY_WELCOME);
	}
	w = fl.resp[PH_ERRS];
	assert_int_equal(w->id, 777777);
	bb_assert_status(w, ST(OK));
	assert_int_equal(w->body_case, PAGEPOOL__V1__RESPONSE__BODY_WELCOME);
	assert_int_equal(w->welcome->arena_size, FLOW_POOL_BYTES);

	/* Exactly one fd, the arena, and it came with the welcome's bytes: the
	 * transport handed it out with the welcome frame. */
	w_start = fl.start[PH_ERRS];
	w_end = w_start + resp_wire_size(w);
	if (r->nfds != 1 || fl.fd_rx <= w_start || fl.fd_rx > w_end)
		print_error("%u fds; the first came with the read ending at byte %llu, the "
			    "welcome is bytes %llu..%llu\n", r->nfds,
			    (unsigned long long)fl.fd_rx, (unsigned long long)w_start,
			    (unsigned long long)w_end);
	assert_int_equal(r->nfds, 1);
	assert_true(fl.fd_rx > w_start && fl.fd_rx <= w_end);
	assert_int_equal(fstat(r->fds[0], &sb), 0);
	assert_int_equal(sb.st_size, FLOW_POOL_BYTES);

	s = fl.resp[PH_ERRS + 1];
	assert_int_equal(s->id, 777778);
	bb_assert_status(s, ST(OK));
	assert_int_equal(s->body_case, PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT);
	assert_int_equal(s->pool_stat->held, 0);
	flow_free(&fl);

	/* The connection is in the pool and works. */
	bb_raw_alloc(r, 777779, 0, 2, NULL);
	{
		bb_response *resp = bb_rpc(r, bb_req_stat(&q, 777780));

		bb_assert_status(resp, ST(OK));
		assert_int_equal(resp->pool_stat->held, 2);
		bb_resp_free(resp);
	}
	assert_int_equal(r->nfds, 1);
}

/* ---- 5. --ready-fd naming a closed fd ------------------------------------- */

static void test_ready_fd_not_open(void **state)
{
	struct bb *f = *state;
	const char *exe = bb_daemon_path();
	pid_t kid;
	int code;
	char *log;

	bb_write_config(f, conf_flow);
	kid = bb_fork(f);
	if (kid == 0) {
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int logfd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (nul < 0 || logfd < 0 || dup2(nul, 0) < 0 || dup2(logfd, 1) < 0 ||
		    dup2(logfd, 2) < 0)
			_exit(125);
		close(9);
		if (fcntl(9, F_GETFD) != -1)
			_exit(124);
		execl(exe, exe, "-c", f->conf, "-f", "--ready-fd", "9", (char *)NULL);
		_exit(127);
	}
	code = bb_kid_wait(f, kid, 5000);
	log = bb_slurp(f->log);
	if (code != 2 || !strstr(log, "--ready-fd"))
		print_error("pagepoold --ready-fd 9 (fd 9 closed): exit %d, output:\n%s"
			    "(expected exit 2 and a message naming --ready-fd)\n", code, log);
	assert_int_equal(code, 2);
	assert_non_null(strstr(log, "--ready-fd"));
	free(log);
	/* It stopped before making the socket. */
	assert_int_equal(access(f->sock, F_OK), -1);
}

/* ---- 6. owner ids: a reused slot gives no power over other pages ---------- */

/* pp_connect, retried until the deadline: the daemon counts a closed
 * connection out a moment after its pages are back. */
static struct pp_client *connect_retry(struct bb *f, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	struct pp_client *c = NULL;
	unsigned i;
	int r;

	for (i = 0; i < BB_MAX_CLIENTS && f->clients[i]; i++)
		;
	assert_true(i < BB_MAX_CLIENTS);
	/* Without a client cache, as bb_client: the counts read are exact. */
	setenv("PAGEPOOL_CACHE", "0", 1);
	while ((r = pp_connect(f->sock, NULL, &c)) != 0 && bb_left_ms(deadline) > 0)
		poll(NULL, 0, 5);
	unsetenv("PAGEPOOL_CACHE");
	if (r != 0)
		print_error("pp_connect: %s (%s) for %d ms\n", pp_strerror(r),
			    pp_last_error(NULL), timeout_ms);
	assert_int_equal(r, 0);
	f->clients[i] = c;
	return c;
}

#define OW_N 8

static void test_owner_id_reuse(void **state)
{
	struct bb *f = *state;
	struct pp_client *a, *b, *c, *d = NULL;
	uint32_t pa[OW_N], pb[OW_N], pc[OW_N], mixed[2];
	unsigned got, bad;
	struct pp_stat st;

	bb_start(f, conf_two_slots);
	b = bb_client(f, NULL);
	a = bb_client(f, NULL);
	bb_assert_rc(a, pp_alloc(a, 0, OW_N, 0, pa, &got), 0);
	bb_assert_rc(b, pp_alloc(b, 0, OW_N, 0, pb, &got), 0);
	st = bb_stat(b);
	assert_int_equal(st.allocated, 2 * OW_N);

	/* A goes; its pages come back, B's stay. */
	bb_client_close(f, a);
	st = bb_expect_allocated(b, OW_N, 2000);
	assert_int_equal(st.held, OW_N);

	/* With two slots, C can only be in A's. */
	c = connect_retry(f, 2000);
	assert_int_not_equal(pp_connect(f->sock, NULL, &d), 0);	/* no third slot */
	assert_null(d);
	assert_int_equal(bb_stat(c).held, 0);

	/* C cannot free B's pages, alone or after one of its own. */
	bad = 99;
	bb_assert_rc(c, pp_free(c, pb, 1, &bad), -EPERM);
	assert_int_equal(bad, 0);
	bb_assert_rc(c, pp_alloc(c, 0, OW_N, 0, pc, &got), 0);
	for (unsigned i = 0; i < OW_N; i++)
		for (unsigned k = 0; k < OW_N; k++)
			assert_int_not_equal(pc[i], pb[k]);
	mixed[0] = pc[0];
	mixed[1] = pb[OW_N - 1];
	bad = 99;
	bb_assert_rc(c, pp_free(c, mixed, 2, &bad), -EPERM);
	assert_int_equal(bad, 1);
	bad = 99;
	bb_assert_rc(c, pp_free(c, pb, OW_N, &bad), -EPERM);
	assert_int_equal(bad, 0);
	/* Nor can B free C's. */
	bad = 99;
	bb_assert_rc(b, pp_free(b, pc, 1, &bad), -EPERM);
	assert_int_equal(bad, 0);

	st = bb_stat(c);
	assert_int_equal(st.held, OW_N);
	assert_int_equal(st.allocated, 2 * OW_N);
	assert_int_equal(bb_stat(b).held, OW_N);

	/* C's own pages are its to free. */
	bb_assert_rc(c, pp_free(c, pc, OW_N, NULL), 0);
	st = bb_stat(c);
	assert_int_equal(st.held, 0);
	assert_int_equal(st.allocated, OW_N);
	bb_assert_rc(c, pp_alloc(c, 1, 2, 0, pc, &got), 0);
	st = bb_stat(b);
	assert_int_equal(st.held, OW_N);
	assert_int_equal(st.allocated, OW_N + 4);

	/* C's close takes C's pages only; B frees its own. */
	bb_client_close(f, c);
	st = bb_expect_allocated(b, OW_N, 2000);
	assert_int_equal(st.held, OW_N);
	bb_assert_rc(b, pp_free(b, pb, OW_N, NULL), 0);
	st = bb_stat(b);
	assert_int_equal(st.allocated, 0);
	bb_assert_total(&st);
}

/* ---- 7. max_output too small for max_count ------------------------------- */

static const char conf_output_too_small[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"max_count = 1024\n"
	"max_output = 4K\n"
	"\n"
	"[pool default]\n"
	"size = 4M\n";

/* The same 4K is enough for a smaller max_count. */
static const char conf_output_small_ok[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"max_count = 256\n"
	"max_output = 4K\n"
	"\n"
	"[pool default]\n"
	"size = 4M\n";

/* Does `log` have a line "CONF:LINE: ..." mentioning `word`? */
static bool log_names(const char *log, const char *conf, const char *word)
{
	size_t cl = strlen(conf);

	for (const char *p = strstr(log, conf); p; p = strstr(p + 1, conf)) {
		const char *q = p + cl, *eol;
		size_t digits;

		if (*q++ != ':')
			continue;
		digits = strspn(q, "0123456789");
		if (digits == 0 || q[digits] != ':')
			continue;
		eol = strchr(q, '\n');
		if (!eol)
			eol = q + strlen(q);
		for (const char *w = strstr(q, word); w && w < eol; w = strstr(w + 1, word))
			return true;
	}
	return false;
}

static void test_max_output_fits_max_count(void **state)
{
	struct bb *f = *state;
	int code = bb_start_expect_exit(f, conf_output_too_small);
	char *log = bb_slurp(f->log);

	if (code != 1 || !log_names(log, f->conf, "max_output"))
		print_error("max_output 4K, max_count 1024: exit %d, output:\n%s(expected exit 1 "
			    "and \"%s:LINE: ...max_output...\")\n", code, log, f->conf);
	assert_int_equal(code, 1);
	assert_true(log_names(log, f->conf, "max_output"));
	free(log);
	assert_int_equal(access(f->sock, F_OK), -1);

	/* The limit is about the pair: 4K with max_count 256 is fine. */
	bb_start(f, conf_output_small_ok);
	{
		struct pp_client *c = bb_client(f, NULL);
		uint32_t pfns[256];
		unsigned got;

		bb_assert_rc(c, pp_alloc(c, 0, 256, 0, pfns, &got), 0);
		assert_int_equal(got, 256);
		bb_assert_rc(c, pp_free(c, pfns, 256, NULL), 0);
	}
	bb_stop_ok(f, SIGTERM);
}

/* ---- small frames: a paused backlog larger than a frame and a half -------- */

/* The smallest max_frame: a connection's own input buffer is sized for a
 * frame and a half (448 bytes), far less than one read can bring. */
static const char conf_small_frame[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"max_frame = 256\n"
	"max_count = 32\n"
	"max_output = 4K\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

#define SMALL_STATS 20000

/*
 * 20,000 pipelined stat requests (160 KB), read only once all are sent: the
 * daemon reads up to 64 KiB at once into its worker's buffer, answers until
 * backpressure pauses it (2 KiB of answers), and keeps the unanswered rest of
 * that read in a buffer of the connection's own, which must hold all of it
 * however small max_frame is.  Every request is answered, in order, and the
 * connection stays usable.
 */
static void test_small_frame_paused_backlog(void **state)
{
	struct bb *f = *state;
	struct bb_conn *r;
	struct bb_buf b = { 0 };
	struct bb_req q;
	struct flow fl;
	int ret;

	bb_start(f, conf_small_frame);
	r = bb_raw(f);
	bb_resp_free(bb_raw_hello(r, 1, NULL));
	for (unsigned i = 0; i < SMALL_STATS; i++)
		bb_buf_add_msg(&b, &bb_req_stat(&q, 10 + i)->base, NULL, 0);
	ret = flow_pump_opt(&fl, r, &b, false, true, SMALL_STATS, 30000);
	bb_buf_free(&b);
	flow_expect(&fl, ret, SMALL_STATS, "pipelined stats, read late");
	for (unsigned i = 0; i < SMALL_STATS; i++) {
		assert_int_equal(fl.resp[i]->id, 10 + i);
		bb_assert_status(fl.resp[i], ST(OK));
	}
	flow_free(&fl);
	{
		bb_response *resp = bb_rpc(r, bb_req_stat(&q, 99));

		bb_assert_status(resp, ST(OK));
		bb_resp_free(resp);
	}
	bb_conn_close(r);
	bb_stop_ok(f, SIGTERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_backpressure_reader_served),
		bb_test(test_nonreader_write_timeout),
		bb_test(test_half_close_all_answered),
		bb_test(test_half_close_while_paused),
		bb_test(test_prehello_backlog_welcome_fd),
		bb_test(test_ready_fd_not_open),
		bb_test(test_owner_id_reuse),
		bb_test(test_max_output_fits_max_count),
		bb_test(test_small_frame_paused_backlog),
	};

	return cmocka_run_group_tests_name("blackbox flow", tests, NULL, NULL);
}
