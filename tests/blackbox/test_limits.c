/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_limits.c - black-box tests that one uid cannot take pagepoold from
 * everyone else (issue 11, items 3, 4, 6 and 7):
 *
 *  - per-uid connection limit: the connection past max_connections_per_uid
 *    is told why and closed, while another uid is still served (item 3);
 *  - a burst of 1,000 connections of one uid pipelining `stat` and never
 *    reading: the daemon's private memory stays bounded during it and comes
 *    back to within 2x of idle after they close (item 3);
 *  - a client that reads its answers a trickle at a time (4 KiB every
 *    500 ms) is disconnected by the drain rule (item 3);
 *  - a connection that never says hello gets an error frame naming
 *    hello_timeout, then EOF (item 4);
 *  - at max_connections the newcomer is told why; a client that replaces one
 *    that closed is always accepted, and no false "out of memory" is logged
 *    (items 4 and 6);
 *  - admin socket: 70 idle admin-group connections do not lock root out
 *    (those past the cap are told why), an idle admin connection is timed
 *    out with a reason, and 20,000 pipelined `clients` requests from a peer
 *    that does not read do not grow the daemon by the answers (item 7).
 *
 * Memory is measured as RssAnon in /proc/PID/status: the daemon's private
 * anonymous memory (heap, malloc arenas, stacks), without the pool arenas,
 * which are memfd shared memory (RssShmem).
 */
#include <dirent.h>
#include <sys/resource.h>

#include "bb.h"

#define ST(x) PAGEPOOL__V1__STATUS__##x

typedef Pagepool__V1__AdminRequest admin_request;
typedef Pagepool__V1__AdminResponse admin_response;

/* ---- helpers -------------------------------------------------------------------- */

/* Wait (polling, bounded) until the daemon has `want` descriptors open. */
static void expect_fds(struct bb *f, unsigned want, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	unsigned n;

	while ((n = bb_fd_count(f->pid)) != want && bb_left_ms(deadline) > 0)
		poll(NULL, 0, 1);
	if (n != want)
		fail_msg("pagepoold has %u descriptors open, %u expected", n, want);
}

/*
 * The daemon's last word on c: a Response with id 0, status `status` and an
 * error naming `words`, then EOF, all within timeout_ms.
 */
static void expect_refusal(struct bb_conn *c, int status, const char *words, int timeout_ms)
{
	bb_response *r = NULL;
	int ret = bb_conn_recv(c, timeout_ms, &r);

	if (ret != 0)
		fail_msg("no error frame before the daemon closed (%s): a refused client is not "
			 "told why", ret == -ECONNRESET ? "closed silently" : strerror(-ret));
	print_message("refused: status %s, \"%s\"\n", bb_status_name(r->status), r->error);
	assert_int_equal(r->id, 0);
	bb_assert_status(r, status);
	if (!strstr(r->error, words))
		fail_msg("the reason \"%s\" does not name %s", r->error, words);
	bb_resp_free(r);
	if (bb_conn_wait_eof(c, timeout_ms) != 0)
		fail_msg("the daemon did not close the connection after its error frame");
}

/* Frame `n` stat requests (ids from `id0`) into b. */
static void add_stats(struct bb_buf *b, unsigned n, uint64_t id0)
{
	struct bb_req q;

	for (unsigned i = 0; i < n; i++)
		bb_buf_add_msg(b, &bb_req_stat(&q, id0 + i)->base, NULL, 0);
}

/* Send as much of b (from *off) as the socket takes now; false once the
 * daemon has closed. */
static bool send_some(int fd, const struct bb_buf *b, size_t *off)
{
	while (*off < b->len) {
		ssize_t n = send(fd, b->p + *off, b->len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			*off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
	return true;
}

/* Send all of b until the socket stays full for `quiet_ms` (the daemon
 * stopped reading) or timeout_ms pass; bytes sent. */
static size_t send_until_stalled(int fd, const struct bb_buf *b, int quiet_ms, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	size_t off = 0;

	while (off < b->len && bb_left_ms(deadline) > 0) {
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		size_t before = off;

		if (!send_some(fd, b, &off))
			break;
		if (off == before && poll(&pf, 1, quiet_ms) == 0)
			break;
	}
	return off;
}

/* Let uid 65534 reach sockets in the fixture's directory (mkdtemp: 0700). */
static void open_dir(struct bb *f)
{
	assert_int_equal(chmod(f->dir, 0711), 0);
}

/* In a child: become uid and gid 65534 (nobody, nogroup), no other groups. */
static bool become_nobody(void)
{
	return setgroups(0, NULL) == 0 && setgid(65534) == 0 && setuid(65534) == 0 &&
	       getuid() == 65534 && geteuid() == 65534;
}

static void need_root(void)
{
	if (geteuid() != 0) {
		print_message("not running as root (a second uid is needed): skipping\n");
		skip();
	}
}

/* Raise RLIMIT_NOFILE to its hard limit; how many connections fit. */
static unsigned raise_nofile(unsigned want)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want + 100) {
		unsigned n = rl.rlim_max > 300 ? (unsigned)rl.rlim_max - 100 : 200;

		print_message("RLIMIT_NOFILE hard limit %lu: %u connections instead of %u\n",
			      (unsigned long)rl.rlim_max, n, want);
		return n;
	}
	return want;
}

/* ---- admin socket helpers ------------------------------------------------------- */

static void admin_path(const struct bb *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s/admin.sock", f->dir);
}

/* Frame one admin request (status or clients) with id `id` into b. */
static void add_admin_req(struct bb_buf *b, uint64_t id, bool clients)
{
	admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminStatusReq st = PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT;
	Pagepool__V1__AdminClientsReq cl = PAGEPOOL__V1__ADMIN_CLIENTS_REQ__INIT;

	q.id = id;
	if (clients) {
		q.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_CLIENTS;
		q.clients = &cl;
	} else {
		q.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS;
		q.status = &st;
	}
	bb_buf_add_msg(b, &q.base, NULL, 0);
}

static int admin_recv(struct bb_conn *c, int timeout_ms, admin_response **out)
{
	return bb_conn_recv_msg(c, timeout_ms, &pagepool__v1__admin_response__descriptor,
				(ProtobufCMessage **)out);
}

/* One status request on an admin connection: its answer must be OK. */
static void admin_status_ok(struct bb_conn *c, uint64_t id)
{
	admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminStatusReq st = PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT;
	admin_response *r = NULL;
	int ret;

	q.id = id;
	q.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS;
	q.status = &st;
	ret = bb_admin_call(c, &q, &r);
	if (ret != 0)
		fail_msg("admin status request: %s", ret == -ECONNRESET ?
			 "the daemon closed the connection without an answer" : strerror(-ret));
	if (r->status != 0)
		fail_msg("admin status refused: %s (%d) \"%s\"", bb_status_name(r->status),
			 (int)r->status, r->error);
	assert_int_equal(r->id, id);
	assert_int_equal(r->body_case, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATUS_INFO);
	pagepool__v1__admin_response__free_unpacked(r, NULL);
}

/* ---- item 3: per-uid connection limit; another uid is still served -------------- */

static const char conf_per_uid[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"socket_mode = 0666\n"
	"workers = auto\n"
	"max_connections = 64\n"
	"max_connections_per_uid = 4\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

#define PER_UID 4

static void test_per_uid_limit(void **state)
{
	struct bb *f = *state;
	struct bb_conn *mine[PER_UID], *extra;
	struct bb_req q;
	bb_response *w;
	pid_t kid;
	int code;
	char *log;

	need_root();
	bb_start(f, conf_per_uid);
	open_dir(f);
	for (unsigned i = 0; i < PER_UID; i++) {
		mine[i] = bb_raw(f);
		bb_resp_free(bb_raw_hello(mine[i], 1, NULL));
	}
	/* One more of the same uid: told why, then closed. */
	extra = bb_raw(f);
	/* It may be turned away before its hello is sent: EPIPE then. */
	bb_conn_send_req(extra, bb_req_hello(&q, 1, 1, NULL), NULL, 0);
	expect_refusal(extra, ST(EBUSY), "max_connections_per_uid", BB_IO_TIMEOUT_MS);
	bb_conn_close(extra);

	/* Another uid connects, allocates and frees, meanwhile. */
	kid = bb_fork(f);
	if (kid == 0) {
		struct pp_client *c = NULL;
		uint32_t pfn;
		unsigned got;

		if (!become_nobody())
			_exit(10);
		if (pp_connect(f->sock, NULL, &c) != 0)
			_exit(11);
		if (pp_alloc(c, 0, 1, 0, &pfn, &got) != 0 || pp_free(c, &pfn, 1, NULL) != 0)
			_exit(12);
		pp_close(c);
		_exit(0);
	}
	code = bb_kid_wait(f, kid, 10000);
	if (code != 0)
		fail_msg("uid 65534 was not served while uid 0 was at its limit (child exit %d: "
			 "10 setuid, 11 connect, 12 alloc/free)", code);

	/* One of ours goes: the next one of ours is accepted again. */
	bb_conn_close(mine[0]);
	mine[0] = NULL;
	{
		int64_t deadline = bb_now_ms() + 5000;

		for (;;) {
			struct bb_conn *c = bb_raw(f);
			bb_response *r = NULL;

			bb_conn_send_req(c, bb_req_hello(&q, 1, 1, NULL), NULL, 0);
			assert_int_equal(bb_conn_recv(c, BB_IO_TIMEOUT_MS, &r), 0);
			if (r->status == 0) {
				bb_resp_free(r);
				break;
			}
			/* The daemon may not have seen the close yet. */
			bb_resp_free(r);
			bb_conn_close(c);
			if (bb_left_ms(deadline) == 0)
				fail_msg("a slot of uid 0 stayed taken 5 s after its connection closed");
			poll(NULL, 0, 5);
		}
	}
	w = bb_rpc(mine[1], bb_req_stat(&q, 2));
	bb_assert_status(w, ST(OK));
	bb_resp_free(w);
	log = bb_slurp(f->log);
	assert_non_null(strstr(log, "max_connections_per_uid (4)"));
	free(log);
}

/* ---- item 3: 1,000 misbehaving connections of one uid, and the heap after ------ */

#define BURST_CONNS	1000
#define BURST_STATS	65536		/* pipelined per connection, never read */

static const char conf_burst[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"max_connections = 1100\n"
	"max_connections_per_uid = 100\n"
	"max_output = 1M\n"
	"max_output_per_uid = 1M\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

static void test_burst_memory(void **state)
{
	struct bb *f = *state;
	unsigned n = raise_nofile(BURST_CONNS), fds0, open_conns = 0;
	int *fd = calloc(n, sizeof(*fd));
	size_t *off = calloc(n, sizeof(*off));
	struct bb_buf b = { 0 };
	struct bb_req q;
	struct pp_client *c;
	long idle, idle_rss, during = 0, after;
	int64_t t0, deadline;

	assert_non_null(fd);
	assert_non_null(off);
	bb_buf_add_msg(&b, &bb_req_hello(&q, 1, 1, NULL)->base, NULL, 0);
	add_stats(&b, BURST_STATS, 2);

	bb_start(f, conf_burst);
	/* Idle: after a few well-behaved clients, on every worker, have come
	 * and gone, as in a daemon that has been serving for a while. */
	fds0 = bb_fd_count(f->pid);
	{
		struct pp_client *w[8];

		for (unsigned i = 0; i < 8; i++) {
			w[i] = bb_client(f, NULL);
			bb_stat(w[i]);
		}
		for (unsigned i = 0; i < 8; i++)
			bb_client_close(f, w[i]);
	}
	expect_fds(f, fds0, 5000);
	idle = bb_status_kib(f->pid, "RssAnon");
	idle_rss = bb_status_kib(f->pid, "VmRSS");
	assert_true(idle > 0);

	/* The burst: connect, hello and BURST_STATS stats each, never read. */
	t0 = bb_now_ms();
	for (unsigned i = 0; i < n; i++) {
		fd[i] = bb_socket_connect(f->sock);
		if (fd[i] < 0)
			fail_msg("connect #%u: %s", i, strerror(-fd[i]));
		send_some(fd[i], &b, &off[i]);
	}
	/* Keep pushing for 2 s: whatever the daemon takes, it must bound. */
	deadline = bb_now_ms() + 2000;
	while (bb_left_ms(deadline) > 0) {
		long now;

		for (unsigned i = 0; i < n; i++)
			if (fd[i] >= 0 && !send_some(fd[i], &b, &off[i])) {
				close(fd[i]);	/* refused: the daemon closed it */
				fd[i] = -1;
			}
		now = bb_status_kib(f->pid, "RssAnon");
		if (now > during)
			during = now;
		poll(NULL, 0, 50);
	}
	for (unsigned i = 0; i < n; i++)
		open_conns += fd[i] >= 0;
	print_message("burst: %u connections of one uid, %u still open after %lld ms\n", n,
		      open_conns, (long long)(bb_now_ms() - t0));
	for (unsigned i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	expect_fds(f, fds0, 10000);

	/* The daemon trims once a second while connections fall: poll until
	 * the lowest value has held for 1.5 s (or 8 s pass). */
	after = bb_status_kib(f->pid, "RssAnon");
	deadline = bb_now_ms() + 8000;
	for (int64_t low_at = bb_now_ms(); bb_left_ms(deadline) > 0;) {
		long now = bb_status_kib(f->pid, "RssAnon");

		if (now < after) {
			after = now;
			low_at = bb_now_ms();
		} else if (bb_now_ms() - low_at >= 1500 && after <= 2 * idle) {
			break;
		}
		poll(NULL, 0, 100);
	}
	print_message("daemon RssAnon: idle %ld KiB, during the burst %ld KiB, after it %ld KiB "
		      "(%.2fx idle; VmRSS idle %ld KiB, after %ld KiB)\n", idle, during, after,
		      (double)after / (double)idle, idle_rss, bb_status_kib(f->pid, "VmRSS"));
	free(fd);
	free(off);
	bb_buf_free(&b);
	/* During: 200 connections (the per-uid limit) with ~16 KiB of input each
	 * and 2M of answers for the uid, plus slack. */
	/* A sanitizer's allocator keeps freed memory (ASan's quarantine, TSan's
	 * own heap): the bounds are about glibc's malloc, which the daemon ships
	 * with. */
	if (getenv("PP_SAN") && *getenv("PP_SAN")) {
		print_message("sanitizer build (%s): the heap bounds apply to plain builds only\n",
			      getenv("PP_SAN"));
	} else {
		assert_true(during - idle < 64 * 1024);
		if (after > 2 * idle)
			fail_msg("the heap did not come back within 2x of idle: %ld KiB after, "
				 "%ld idle", after, idle);
	}
	/* And it still serves. */
	c = bb_client(f, NULL);
	bb_stat(c);
}

/* ---- item 3: a reader slower than the drain rule is disconnected --------------- */

/*
 * The reader below takes 4 KiB every 250 ms.  The kernel frees a socket
 * buffer's worth only when a whole packet (up to ~32 KiB) has been read, so
 * the daemon sees progress every ~2 s: inside write_timeout, which is all
 * libevent's write timeout ever asked.  The drain rule asks for
 * min(queued, 64K * 3 s) = 192 KiB every 3 s of a queue that backpressure
 * keeps between 256 and 512 KiB (max_output 1M); the reader takes ~48 KiB.
 */
static const char conf_slow_reader[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"max_output = 1M\n"
	"write_timeout = 3\n"
	"min_drain_rate = 64K\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

static void test_slow_reader(void **state)
{
	struct bb *f = *state;
	struct bb_conn *r;
	struct bb_buf b = { 0 };
	struct pp_client *by;
	size_t sent, taken = 0;
	int64_t t0, deadline;
	bool dropped = false;
	char *log;

	bb_start(f, conf_slow_reader);
	by = bb_client(f, NULL);
	r = bb_raw(f);
	bb_resp_free(bb_raw_hello(r, 1, NULL));
	add_stats(&b, 100000, 2);
	sent = send_until_stalled(r->fd, &b, 300, 10000);
	print_message("pipelined %zu bytes of stat requests before the daemon stopped reading\n",
		      sent);
	assert_true(sent < b.len);

	/*
	 * Now read 4 KiB every 250 ms (16 KiB/s, a quarter of min_drain_rate),
	 * which makes progress well inside every write_timeout.  The daemon's
	 * hang-up shows at once as POLLRDHUP, before the answers still in the
	 * socket buffer are read.
	 */
	t0 = bb_now_ms();
	deadline = t0 + 15000;
	while (!dropped && bb_left_ms(deadline) > 0) {
		struct pollfd pf = { .fd = r->fd, .events = POLLRDHUP };
		char buf[4096];
		ssize_t got;

		if (poll(&pf, 1, 250) > 0 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			dropped = true;
			break;
		}
		got = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (got > 0)
			taken += (size_t)got;
		else if (got == 0 || (errno != EAGAIN && errno != EINTR))
			dropped = true;
	}
	print_message("slow reader: took %zu bytes in %lld ms, %s\n", taken,
		      (long long)(bb_now_ms() - t0), dropped ? "then disconnected" :
		      "still connected");
	bb_buf_free(&b);
	if (!dropped)
		fail_msg("a client reading 4 KiB every 250 ms (min_drain_rate 64K, write_timeout "
			 "3 s) was still connected after 15 s");
	assert_true(taken >= 4096);
	log = bb_slurp(f->log);
	assert_non_null(strstr(log, "min_drain_rate"));
	free(log);
	/* Everyone else is served. */
	bb_stat(by);
}

/* ---- item 4: a connection that never says hello --------------------------------- */

static const char conf_hello[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"hello_timeout = 1\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

static void test_hello_timeout(void **state)
{
	struct bb *f = *state;
	struct bb_conn *silent, *joined;
	struct bb_req q;
	bb_response *r;
	int64_t t0, took;

	bb_start(f, conf_hello);
	t0 = bb_now_ms();
	silent = bb_raw(f);
	joined = bb_raw(f);
	bb_resp_free(bb_raw_hello(joined, 1, NULL));
	expect_refusal(silent, ST(EPROTO), "hello_timeout", 5000);
	took = bb_now_ms() - t0;
	print_message("silent connection told and closed after %lld ms (hello_timeout 1 s)\n",
		      (long long)took);
	assert_true(took >= 900);
	/* The joined connection is past its hello_timeout too, and served. */
	r = bb_rpc(joined, bb_req_stat(&q, 2));
	bb_assert_status(r, ST(OK));
	bb_resp_free(r);
}

/* ---- items 4 and 6: at max_connections --------------------------------------------- */

static const char conf_full[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"workers = auto\n"
	"max_connections = 4\n"
	"max_connections_per_uid = 0\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

#define FULL_CONNS	4
#define FULL_CYCLES	400

/* A child that asks the admin socket for `clients` without pause (they take
 * the lock connection slots are released under) until killed; it writes a
 * byte to `ready` after the first answer. */
static void hammer_clients(const char *asock, int ready)
{
	struct bb_conn a;
	struct bb_buf b = { 0 };

	if (bb_conn_open(&a, asock) != 0)
		_exit(1);
	for (uint64_t id = 1;; id++) {
		admin_response *r = NULL;

		b.len = 0;
		add_admin_req(&b, id, true);
		if (bb_conn_send(&a, b.p, b.len, 5000) != 0 || admin_recv(&a, 5000, &r) != 0)
			_exit(2);
		pagepool__v1__admin_response__free_unpacked(r, NULL);
		if (id == 1 && write(ready, "x", 1) != 1)
			_exit(3);
	}
}

/* Close c and connect its replacement at once, again while the daemon says
 * it is full (bounded); the replacement, welcomed. */
static struct bb_conn *race_replace(struct bb *f, struct bb_conn *c)
{
	int64_t deadline = bb_now_ms() + 5000;
	struct bb_req q;

	bb_conn_close(c);
	for (;;) {
		bb_response *r = NULL;
		int ret;

		c = bb_raw(f);
		bb_conn_send_req(c, bb_req_hello(&q, 1, 1, NULL), NULL, 0);	/* may be EPIPE */
		ret = bb_conn_recv(c, BB_IO_TIMEOUT_MS, &r);
		if (ret == 0 && r->status == 0) {
			bb_resp_free(r);
			return c;
		}
		if (ret != 0 || !strstr(r->error, "max_connections"))
			fail_msg("a client replacing one that closed was turned away: %s",
				 ret ? (ret == -ECONNRESET ? "without a word" : strerror(-ret))
				     : r->error);
		bb_resp_free(r);
		bb_conn_close(c);
		if (bb_left_ms(deadline) == 0)
			fail_msg("a slot stayed taken 5 s after its connection closed");
	}
}

static void test_full_refusal_and_teardown(void **state)
{
	struct bb *f = *state;
	struct bb_conn *c[FULL_CONNS], *extra;
	static const uint8_t bad[4] = { 0xff, 0xff, 0xff, 0xff };	/* above max_frame */
	char asock[160], *log;
	struct bb_req q;
	int ready[2];
	pid_t kid;
	int64_t t0;
	char byte;

	bb_start(f, conf_full);
	/* The hammer first: a child forked later would hold our sockets open. */
	admin_path(f, asock, sizeof(asock));
	assert_int_equal(pipe(ready), 0);
	kid = bb_fork(f);
	if (kid == 0)
		hammer_clients(asock, ready[1]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &byte, 1), 1);
	close(ready[0]);

	for (unsigned i = 0; i < FULL_CONNS; i++) {
		c[i] = bb_raw(f);
		bb_resp_free(bb_raw_hello(c[i], 1, NULL));
	}
	extra = bb_raw(f);
	bb_conn_send_req(extra, bb_req_hello(&q, 1, 1, NULL), NULL, 0);	/* may be EPIPE */
	expect_refusal(extra, ST(EBUSY), "max_connections", BB_IO_TIMEOUT_MS);
	bb_conn_close(extra);

	/*
	 * Replace connections at the limit, FULL_CYCLES times: the client closes
	 * (then we wait until the daemon has closed its socket), or the daemon
	 * closes on a framing error (we see EOF).  Either way the connection
	 * that takes its place must be welcomed at once.  Every third cycle the
	 * client closes and connects again at once, racing the teardown: then
	 * it may be told "max_connections" and try again, but the daemon must
	 * never take its own teardown for a lack of memory.
	 */
	t0 = bb_now_ms();
	for (unsigned k = 0; k < FULL_CYCLES; k++) {
		unsigned i = k % FULL_CONNS;
		bb_response *r = NULL;
		int ret;

		if (k % 3 == 2) {
			c[i] = race_replace(f, c[i]);
			continue;
		}
		if (k % 2) {
			unsigned fds = bb_fd_count(f->pid);

			bb_conn_close(c[i]);
			expect_fds(f, fds - 1, 5000);
		} else {
			assert_int_equal(bb_conn_send(c[i], bad, sizeof(bad), 1000), 0);
			if (bb_conn_wait_eof(c[i], 5000) != 0)
				fail_msg("cycle %u: no EOF after a framing error", k);
			bb_conn_close(c[i]);
		}
		c[i] = bb_raw(f);
		assert_int_equal(bb_conn_send_req(c[i], bb_req_hello(&q, 1, 1, NULL), NULL, 0), 0);
		ret = bb_conn_recv(c[i], BB_IO_TIMEOUT_MS, &r);
		if (ret != 0 || r->status != 0)
			fail_msg("cycle %u: the client replacing one that %s was not accepted: %s",
				 k, k % 2 ? "closed" : "the daemon closed",
				 ret ? strerror(-ret) : r->error);
		bb_resp_free(r);
		for (unsigned m = 0; m < c[i]->nfds; m++)
			close(c[i]->fds[m]);
		c[i]->nfds = 0;
	}
	print_message("%u replacements at max_connections in %lld ms, every one accepted\n",
		      FULL_CYCLES, (long long)(bb_now_ms() - t0));
	assert_int_equal(kill(kid, 0), 0);	/* the hammer was at it all along */
	log = bb_slurp(f->log);
	if (strstr(log, "out of memory"))
		fail_msg("a full daemon logged \"out of memory\"");
	free(log);
}

/* ---- item 7: the admin socket --------------------------------------------------- */

static const char conf_admin[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"admin_mode = 0666\n"
	"admin_group = nogroup\n"
	"admin_idle_timeout = 60\n"
	"workers = auto\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

#define ADMIN_IDLE 70		/* more than the daemon's 64 */

/* 70 idle connections of an admin-group user do not lock root out. */
static void test_admin_root_not_locked_out(void **state)
{
	struct bb *f = *state;
	char asock[160];
	int go[2], done[2];
	struct bb_conn *root;
	pid_t kid;
	int code;
	char byte;

	need_root();
	if (!getgrnam("nogroup")) {
		print_message("no group \"nogroup\": skipping\n");
		skip();
	}
	bb_start(f, conf_admin);
	open_dir(f);
	admin_path(f, asock, sizeof(asock));
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	kid = bb_fork(f);
	if (kid == 0) {
		static struct bb_conn a[ADMIN_IDLE];
		int refused = 0;

		if (!become_nobody())
			_exit(200);
		for (unsigned i = 0; i < ADMIN_IDLE; i++)
			if (bb_conn_open(&a[i], asock) != 0)
				_exit(201);
		if (write(done[1], "x", 1) != 1 || read(go[0], &byte, 1) != 1)
			_exit(202);
		/* Those turned away were told why (EBUSY), then closed. */
		for (unsigned i = 0; i < ADMIN_IDLE; i++) {
			admin_response *r = NULL;

			if (admin_recv(&a[i], 0, &r) != 0)
				continue;
			if (r->id == 0 && r->status == EBUSY && strstr(r->error, "admin connections") &&
			    bb_conn_wait_eof(&a[i], 2000) == 0)
				refused++;
			pagepool__v1__admin_response__free_unpacked(r, NULL);
		}
		_exit(refused);
	}
	close(go[0]);
	close(done[1]);
	assert_int_equal(read(done[0], &byte, 1), 1);
	/* Root, after all of them (the backlog is accepted in order). */
	root = bb_raw_at(f, asock);
	admin_status_ok(root, 7);
	assert_int_equal(write(go[1], "x", 1), 1);
	code = bb_kid_wait(f, kid, 10000);
	print_message("%d idle admin-group connections: %d turned away with a reason; root "
		      "served\n", ADMIN_IDLE, code);
	if (code >= 200)
		fail_msg("the admin-group child failed (%d)", code);
	assert_int_equal(code, ADMIN_IDLE - 60);	/* 64, of which 4 are root's */
	close(go[1]);
	close(done[0]);
}

static const char conf_admin_idle[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"admin_idle_timeout = 1\n"
	"workers = auto\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

static void test_admin_idle_timeout(void **state)
{
	struct bb *f = *state;
	char asock[160];
	struct bb_conn *idle, *busy;
	admin_response *r = NULL;
	int64_t t0, took;
	uint64_t id = 1;
	int ret;

	bb_start(f, conf_admin_idle);
	admin_path(f, asock, sizeof(asock));
	t0 = bb_now_ms();
	idle = bb_raw_at(f, asock);
	busy = bb_raw_at(f, asock);
	/* The busy one asks every 300 ms: it is never idle for 1 s. */
	while (bb_now_ms() - t0 < 5000) {
		admin_status_ok(busy, id++);
		if (bb_conn_readable(idle, 300))
			break;
	}
	ret = admin_recv(idle, 1000, &r);
	if (ret != 0)
		fail_msg("an idle admin connection got no word within 5 s (%s)",
			 ret == -ECONNRESET ? "closed silently" : strerror(-ret));
	took = bb_now_ms() - t0;
	print_message("idle admin connection: \"%s\" after %lld ms\n", r->error, (long long)took);
	assert_int_equal(r->id, 0);
	assert_non_null(strstr(r->error, "admin_idle_timeout"));
	pagepool__v1__admin_response__free_unpacked(r, NULL);
	assert_true(bb_conn_wait_eof(idle, 2000) == 0);
	assert_true(took >= 900);
	admin_status_ok(busy, id++);
}

static const char conf_admin_plain[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"workers = auto\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

#define ADMIN_PIPELINED	20000
#define ADMIN_CLIENTS	48

/* 20,000 `clients` requests from a peer that does not read. */
static void test_admin_output_bounded(void **state)
{
	struct bb *f = *state;
	char asock[160];
	struct bb_conn *a;
	struct bb_buf b = { 0 };
	size_t sent;
	long before, stalled;
	unsigned answered = 0;
	size_t off;
	int64_t deadline;

	bb_start(f, conf_admin_plain);
	for (unsigned i = 0; i < ADMIN_CLIENTS; i++)
		bb_client(f, NULL);	/* so each answer lists 48 clients */
	admin_path(f, asock, sizeof(asock));
	a = bb_raw_at(f, asock);
	admin_status_ok(a, 1);
	before = bb_status_kib(f->pid, "RssAnon");
	for (unsigned i = 0; i < ADMIN_PIPELINED; i++)
		add_admin_req(&b, 100 + i, true);
	sent = send_until_stalled(a->fd, &b, 300, 10000);
	/* The daemon answers what it took (or stops): watch it for 2 s. */
	stalled = before;
	for (int64_t end = bb_now_ms() + 2000; bb_left_ms(end) > 0; poll(NULL, 0, 50)) {
		long now = bb_status_kib(f->pid, "RssAnon");

		if (now > stalled)
			stalled = now;
	}
	print_message("admin: %zu of %zu bytes of requests sent; daemon RssAnon %ld -> at most "
		      "%ld KiB\n",
		      sent, b.len, before, stalled);
	/* 8 MiB; twice that under a sanitizer, whose allocator keeps freed
	 * memory (ASan's quarantine) so that every answer built and freed
	 * before the peer stalled still counts. */
	if (stalled - before > (getenv("PP_SAN") && *getenv("PP_SAN") ? 16 : 8) * 1024)
		fail_msg("a peer that does not read grew the daemon by %ld KiB", stalled - before);

	/* Now read: every request is answered, in order. */
	off = sent;
	deadline = bb_now_ms() + 60000;
	while (answered < ADMIN_PIPELINED && bb_left_ms(deadline) > 0) {
		admin_response *r = NULL;
		int ret;

		send_some(a->fd, &b, &off);
		ret = admin_recv(a, 100, &r);
		if (ret == -ETIMEDOUT)
			continue;
		assert_int_equal(ret, 0);
		assert_int_equal(r->id, 100 + answered);
		assert_int_equal(r->status, 0);
		assert_int_equal(r->clients->n_clients, ADMIN_CLIENTS);
		pagepool__v1__admin_response__free_unpacked(r, NULL);
		answered++;
	}
	print_message("all %u answered once read\n", answered);
	assert_int_equal(answered, ADMIN_PIPELINED);
	bb_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_per_uid_limit),
		bb_test(test_burst_memory),
		bb_test(test_slow_reader),
		bb_test(test_hello_timeout),
		bb_test(test_full_refusal_and_teardown),
		bb_test(test_admin_root_not_locked_out),
		bb_test(test_admin_idle_timeout),
		bb_test(test_admin_output_bounded),
	};

	return cmocka_run_group_tests_name("blackbox limits", tests, NULL, NULL);
}
