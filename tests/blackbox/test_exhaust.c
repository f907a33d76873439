/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_exhaust.c - black-box tests of pagepoold running out of things or
 * being worn down by its clients, without losing a page or a descriptor:
 *
 *  - a client that sends half a frame and stalls, or trickles a byte now and
 *    then without completing a frame, is dropped after read_timeout (its
 *    pages go back); an idle client is never timed out;
 *  - a burst of connects and disconnects (bare, after hello, holding pages,
 *    mid-frame) leaves the daemon with its start-up descriptors, every page
 *    back and new clients served;
 *  - descriptor exhaustion (RLIMIT_NOFILE): accept backs off, connections
 *    wait in the backlog and are served as soon as descriptors free up;
 *  - 10,000 idle connections: all served, the daemon's memory per connection
 *    reported, everything released at the end.
 *
 * The empty pool (ENOMEM for one client, others unaffected) and the client
 * that never reads (write_timeout) are in test_badinput.c and test_flow.c.
 */
#include <dirent.h>
#include <sys/resource.h>

#include "bb.h"

static const char conf_stall[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"read_timeout = 1\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

/* The daemon's resident memory in KiB (VmRSS). */
static long rss_kib(pid_t pid)
{
	char path[64], *text, *p;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	text = bb_slurp(path);
	p = strstr(text, "VmRSS:");
	if (p)
		kib = strtol(p + 6, NULL, 10);
	free(text);
	return kib;
}

/* Wait (1 ms polls, bounded) until the daemon has `want` descriptors open. */
static void expect_fds(struct bb *f, unsigned want, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	unsigned n;

	while ((n = bb_fd_count(f->pid)) != want && bb_left_ms(deadline) > 0) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
	if (n != want)
		fail_msg("pagepoold has %u descriptors open, %u expected (start-up count)", n, want);
}

/* Send raw bytes on c; asserts they went. */
static void send_raw(struct bb_conn *c, const void *buf, size_t len)
{
	assert_int_equal(bb_conn_send(c, buf, len, BB_IO_TIMEOUT_MS), 0);
}

/* Milliseconds until the daemon closes c (answers read and dropped). */
static int64_t ms_to_close(struct bb_conn *c, int timeout_ms)
{
	int64_t t0 = bb_now_ms();
	unsigned n;

	assert_int_equal(bb_conn_wait_close(c, timeout_ms, &n), 0);
	return bb_now_ms() - t0;
}

/* Half a frame, then silence; a trickle that never completes one; an idle
 * client beside them is kept, and the dropped clients' pages come back. */
static void test_read_timeout(void **state)
{
	struct bb *f = *state;
	static const uint8_t half_hdr[3] = { 0, 0, 0 };
	static const uint8_t hdr100[4] = { 0, 0, 0, 100 };
	struct bb_conn *stalled, *trickler;
	struct pp_client *idle;
	uint32_t pfn;
	unsigned got, bytes = 0;
	int64_t t0;
	bb_response *w;
	char *log;

	bb_start(f, conf_stall);
	idle = bb_client(f, NULL);
	bb_assert_rc(idle, pp_alloc(idle, 0, 1, 0, &pfn, &got), 0);

	stalled = bb_raw(f);
	w = bb_raw_hello(stalled, 1, NULL);
	bb_resp_free(w);
	assert_int_equal(bb_raw_alloc(stalled, 2, 0, 10, NULL), 10);
	trickler = bb_raw(f);
	w = bb_raw_hello(trickler, 1, NULL);
	bb_resp_free(w);
	assert_int_equal(bb_raw_alloc(trickler, 2, 1, 5, NULL), 5);
	bb_expect_allocated(idle, 1 + 10 + 10, 2000);

	t0 = bb_now_ms();
	send_raw(stalled, half_hdr, sizeof(half_hdr));
	send_raw(trickler, hdr100, sizeof(hdr100));
	/* One more byte of the 100-byte body every 200 ms, until dropped. */
	while (!trickler->eof && bytes < 50) {
		uint8_t b = 0x08;

		if (bb_conn_recv(trickler, 200, &w) == -ETIMEDOUT && !trickler->eof) {
			if (send(trickler->fd, &b, 1, MSG_NOSIGNAL) == 1)
				bytes++;
		}
		bb_resp_free(w);
	}
	print_message("trickler: %u body bytes sent over %lld ms, then dropped\n", bytes,
		      (long long)(bb_now_ms() - t0));
	assert_true(trickler->eof);
	assert_true(bytes < 20);
	ms_to_close(stalled, 5000);
	print_message("half-frame client dropped ~%lld ms after it stalled (read_timeout 1 s)\n",
		      (long long)(bb_now_ms() - t0));
	assert_true(bb_now_ms() - t0 >= 900);
	assert_true(bb_now_ms() - t0 <= 4000);

	/* Their pages are back; the idle client, silent all along, is served. */
	bb_expect_allocated(idle, 1, 2000);
	bb_assert_rc(idle, pp_free(idle, &pfn, 1, NULL), 0);
	log = bb_slurp(f->log);
	assert_non_null(strstr(log, "(read_timeout); disconnecting"));
	free(log);
}

/* 3,000 connects and disconnects of every kind leave nothing behind. */
static void test_connect_burst(void **state)
{
	struct bb *f = *state;
	struct pp_client *mon;
	unsigned fds0;
	int64_t t0;
	struct pp_stat st;

	bb_start(f, conf_stall);
	fds0 = bb_fd_count(f->pid);
	t0 = bb_now_ms();
	for (unsigned i = 0; i < 3000; i++) {
		struct bb_conn *c = bb_raw(f);
		bb_response *w;

		switch (i % 4) {
		case 0:		/* connect, close */
			break;
		case 1:		/* hello, close without reading the welcome */
		{
			struct bb_req q;

			assert_int_equal(bb_conn_send_req(c, bb_req_hello(&q, 1, 1, NULL), NULL, 0), 0);
			break;
		}
		case 2:		/* hold pages, close */
			w = bb_raw_hello(c, 1, NULL);
			bb_resp_free(w);
			assert_int_equal(bb_raw_alloc(c, 2, (uint32_t)(i % 3), 4, NULL), 4);
			break;
		case 3:		/* hold pages, close in the middle of a frame */
		{
			static const uint8_t part[6] = { 0, 0, 0, 9, 0x08, 0x01 };

			w = bb_raw_hello(c, 1, NULL);
			bb_resp_free(w);
			assert_int_equal(bb_raw_alloc(c, 2, 0, 3, NULL), 3);
			send_raw(c, part, sizeof(part));
			break;
		}
		}
		bb_conn_close(c);
	}
	print_message("3000 connects/disconnects in %lld ms\n", (long long)(bb_now_ms() - t0));
	mon = bb_client(f, NULL);
	bb_expect_allocated(mon, 0, 5000);
	st = bb_stat(mon);
	bb_assert_total(&st);
	bb_client_close(f, mon);
	expect_fds(f, fds0, 5000);
	print_message("descriptors back to the start-up count (%u); every page back\n", fds0);
}

static const char conf_fds[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

/* Out of descriptors: accept pauses, the backlog waits, and everyone is
 * served once descriptors are free again. */
static void test_fd_exhaustion(void **state)
{
	struct bb *f = *state;
	static const char *const prefix[] = { "prlimit", "--nofile=64:64", NULL };
	const struct bb_opts o = { .prefix = prefix };
	enum { N = 80 };
	static struct bb_conn conns[N];
	bool ok[N] = { false };
	struct bb_req q;
	unsigned fds0, served = 0, waiting = 0;
	char *log;

	if (!bb_on_path("prlimit")) {
		print_message("prlimit (util-linux) is not installed: skipping\n");
		skip();
	}
	bb_start_opts(f, conf_fds, &o);
	fds0 = bb_fd_count(f->pid);
	print_message("daemon: %u descriptors at start, limit 64\n", fds0);
	assert_true(fds0 < 64 - 8);

	/* More connections than the daemon has descriptors left; each says
	 * hello at once. */
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(bb_conn_open(&conns[i], f->sock), 0);
		assert_int_equal(bb_conn_send_req(&conns[i], bb_req_hello(&q, 1, 1, NULL), NULL, 0), 0);
	}
	/* Those it could accept are welcomed, in connection order (the backlog
	 * is FIFO and nothing frees a descriptor meanwhile): the first within
	 * 5 s, each next within 300 ms; after the first left waiting, the rest
	 * are only looked at. */
	for (unsigned i = 0; i < N; i++) {
		bb_response *r;

		if (bb_conn_recv(&conns[i], waiting ? 0 : served ? 300 : 5000, &r) == 0) {
			served++;
			ok[i] = true;
			bb_resp_free(r);
		} else {
			waiting++;
		}
		for (unsigned k = 0; k < conns[i].nfds; k++)
			close(conns[i].fds[k]);
		conns[i].nfds = 0;
	}
	print_message("at the limit: %u served, %u waiting in the backlog\n", served, waiting);
	assert_true(served > 0);
	assert_true(waiting > 0);
	log = bb_slurp(f->log);
	assert_non_null(strstr(log, "pausing accepts, retrying every 100 ms"));
	assert_null(strstr(strstr(log, "pausing accepts") + 1, "pausing accepts"));
	free(log);

	/* Free descriptors: close the served connections, and every waiting
	 * one is then served. */
	for (unsigned i = 0; i < N; i++)
		if (ok[i])
			bb_conn_close(&conns[i]);
	for (unsigned i = 0; i < N; i++) {
		bb_response *r;
		int ret;

		if (ok[i])
			continue;
		ret = bb_conn_recv(&conns[i], 5000, &r);
		if (ret != 0)
			fail_msg("connection %u still not served 5 s after descriptors were freed "
				 "(%s)", i, strerror(-ret));
		bb_assert_status(r, PAGEPOOL__V1__STATUS__OK);
		bb_resp_free(r);
		bb_conn_close(&conns[i]);
	}
	print_message("after freeing descriptors: the %u waiting connections were served\n",
		      waiting);
	log = bb_slurp(f->log);
	assert_non_null(strstr(log, "accepting again after"));
	free(log);
	expect_fds(f, fds0, 5000);
}

static const char conf_10k[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"max_connections = 10100\n"
	"max_connections_per_uid = 0\n"	/* all 10,000 are ours */
	"\n"
	"[pool default]\n"
	"size = 16M\n";

/* 10,000 idle clients (after hello): memory per connection, and all of it
 * released again. */
static void test_10k_idle(void **state)
{
	struct bb *f = *state;
	struct rlimit rl;
	struct bb_conn *conns;
	unsigned n = 10000, fds0;
	long rss0, rss1;
	struct pp_client *c;
	uint32_t pfn;
	unsigned got;
	int64_t t0;

	/* The test and the daemon (which inherits it) need n + some fds. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n + 200) {
		n = rl.rlim_max > 1200 ? (unsigned)rl.rlim_max - 200 : 1000;
		print_message("RLIMIT_NOFILE hard limit %lu: %u connections instead\n",
			      (unsigned long)rl.rlim_max, n);
	}
	rl.rlim_cur = rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	conns = calloc(n, sizeof(*conns));
	assert_non_null(conns);

	bb_start(f, conf_10k);
	fds0 = bb_fd_count(f->pid);
	rss0 = rss_kib(f->pid);
	t0 = bb_now_ms();
	/* In batches: connect and say hello, then read the welcomes (the arena
	 * fd of each is closed at once). */
	for (unsigned base = 0; base < n; base += 256) {
		unsigned end = base + 256 < n ? base + 256 : n;

		for (unsigned i = base; i < end; i++) {
			struct bb_req q;
			int ret = bb_conn_open(&conns[i], f->sock);

			if (ret < 0)
				fail_msg("connect #%u: %s", i, strerror(-ret));
			assert_int_equal(bb_conn_send_req(&conns[i], bb_req_hello(&q, 1, 1, NULL), NULL, 0), 0);
		}
		for (unsigned i = base; i < end; i++) {
			bb_response *r;
			int ret = bb_conn_recv(&conns[i], BB_IO_TIMEOUT_MS, &r);

			if (ret != 0)
				fail_msg("welcome #%u: %s", i, strerror(-ret));
			bb_assert_status(r, PAGEPOOL__V1__STATUS__OK);
			bb_resp_free(r);
			for (unsigned k = 0; k < conns[i].nfds; k++)
				close(conns[i].fds[k]);
			conns[i].nfds = 0;
		}
	}
	rss1 = rss_kib(f->pid);
	print_message("%u idle connections in %lld ms; daemon RSS %ld -> %ld KiB: %.1f KiB "
		      "per connection\n", n, (long long)(bb_now_ms() - t0), rss0, rss1,
		      (double)(rss1 - rss0) / n);
	assert_int_equal(bb_fd_count(f->pid), fds0 + n);
	/* Still serving, promptly. */
	c = bb_client(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &pfn, &got), 0);
	bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);
	bb_client_close(f, c);
	for (unsigned i = 0; i < n; i++)
		bb_conn_close(&conns[i]);
	free(conns);
	expect_fds(f, fds0, 10000);
	/* Generous bound: a connection is a struct conn and a bufferevent with
	 * empty buffers; the RSS delta also holds allocator slack. */
	assert_true(rss1 - rss0 < (long)n * 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_read_timeout),
		bb_test(test_connect_burst),
		bb_test(test_fd_exhaustion),
		bb_test(test_10k_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
