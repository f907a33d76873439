/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_lifecycle.c - black-box tests of pagepoold's life and death and of
 * its clients': a client killed with SIGKILL has its pages back within a
 * second; SIGTERM and SIGINT with clients holding pages end the daemon with
 * status 0 and close every connection; the same under valgrind finds no
 * definite leak or error; a bad config file is refused with status 1 and a
 * "FILE:LINE:" message.
 */
#include "bb.h"

/* A sanitizer build of the daemon cannot run under valgrind (the tests are
 * built with the same flags as the daemon, so their own build tells). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BB_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BB_SANITIZED 1
#endif
#endif

static const char conf_life[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n"
	"\n"
	"[pool other]\n"
	"size = 8M\n";

/*
 * Forked child: take 600 single pages and 100 order-2 blocks (1,000 pages)
 * from the default pool, say 'R' on `wfd`, then wait to be killed.  Exit
 * codes say what failed.
 */
static int child_hold_1000(const char *sock, int wfd)
{
	static uint32_t pfns[600];
	struct pp_client *c = NULL;
	unsigned got;

	if (pp_connect(sock, NULL, &c) != 0)
		return 10;
	if (pp_alloc(c, 0, 600, 0, pfns, &got) != 0 || got != 600)
		return 11;
	if (pp_alloc(c, 2, 100, 0, pfns, &got) != 0 || got != 100)
		return 12;
	if (write(wfd, "R", 1) != 1)
		return 13;
	for (;;)
		pause();
}

static void test_kill9_returns_pages(void **state)
{
	struct bb *f = *state;
	struct pp_client *mon;
	struct pp_stat st0, st;
	struct pollfd pf;
	int p[2], code;
	int64_t t_kill, waited;
	pid_t kid;
	char c = 0;

	bb_start(f, conf_life);
	mon = bb_client(f, NULL);
	st0 = bb_stat(mon);
	assert_int_equal(st0.allocated, 0);

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	kid = bb_fork(f);
	if (kid == 0) {
		close(p[0]);
		_exit(child_hold_1000(f->sock, p[1]));
	}
	close(p[1]);
	pf = (struct pollfd){ .fd = p[0], .events = POLLIN };
	if (poll(&pf, 1, 10000) != 1 || read(p[0], &c, 1) != 1 || c != 'R') {
		close(p[0]);
		code = bb_kid_wait(f, kid, 1000);
		fail_msg("the child did not get its 1,000 pages (exit %d: 10 connect, "
			 "11/12 alloc)", code);
	}
	close(p[0]);

	st = bb_stat(mon);
	assert_int_equal(st.allocated, 1000);
	assert_int_equal(st.held, 0);

	assert_int_equal(kill(kid, SIGKILL), 0);
	t_kill = bb_now_ms();
	code = bb_kid_wait(f, kid, 2000);
	assert_int_equal(code, 128 + SIGKILL);
	/* Within one second of the kill, every page is back. */
	if (bb_wait_allocated(mon, 0, bb_left_ms(t_kill + 1000), &st) != 0)
		print_error("1 s after kill -9: allocated = %llu, expected 0\n",
			    (unsigned long long)st.allocated);
	assert_int_equal(st.allocated, 0);
	waited = bb_now_ms() - t_kill;
	print_message("pages of the killed client back %lld ms after SIGKILL\n",
		      (long long)waited);
	assert_true(waited <= 1000);
	bb_assert_total(&st);
	assert_int_equal(st.free + st.pcp, st0.total);
}

/* Clients holding pages in two pools, plus raw connections stuck mid-frame
 * and mid-hello; returns the pages held in the default pool. */
static uint64_t populate(struct bb *f, struct pp_client **mon)
{
	struct pp_client *a = bb_client(f, NULL), *b = bb_client(f, NULL);
	struct pp_client *o = bb_client(f, "other"), *gone = bb_client(f, NULL);
	static const uint8_t partial[] = { 0, 0, 0, 50, 0x08, 0x07 };
	static uint32_t pfns[1024];
	unsigned got;
	struct bb_conn *r1 = bb_raw(f), *r2 = bb_raw(f);

	bb_assert_rc(a, pp_alloc(a, 0, 100, 0, pfns, &got), 0);
	bb_assert_rc(a, pp_alloc(a, 3, 5, 0, pfns, &got), 0);
	bb_assert_rc(b, pp_alloc(b, 10, 1, 0, pfns, &got), 0);
	bb_assert_rc(b, pp_alloc(b, 1, 10, PP_ZERO, pfns, &got), 0);
	bb_assert_rc(o, pp_alloc(o, 0, 300, 0, pfns, &got), 0);
	/* One that comes and goes. */
	bb_assert_rc(gone, pp_alloc(gone, 0, 7, 0, pfns, &got), 0);
	bb_client_close(f, gone);

	/* r1: hello done, holding 3 pages, half a request sent; r2: half a hello. */
	bb_resp_free(bb_raw_hello(r1, 1, NULL));
	bb_raw_alloc(r1, 2, 0, 3, NULL);
	assert_int_equal(bb_conn_send(r1, partial, sizeof(partial), BB_IO_TIMEOUT_MS), 0);
	assert_int_equal(bb_conn_send(r2, partial, 3, BB_IO_TIMEOUT_MS), 0);

	*mon = a;
	return 100 + 5 * 8 + 1024 + 10 * 2 + 3;
}

/* Every connection was closed by the daemon on its way out. */
static void expect_all_closed(struct bb *f, struct pp_client *c)
{
	unsigned n;
	pid_t kid;
	int code;

	for (unsigned i = 0; i < BB_MAX_CONNS; i++) {
		if (f->conns[i].fd < 0)
			continue;
		assert_int_equal(bb_conn_wait_close(&f->conns[i], 2000, &n), 0);
		assert_in_range(n, 0, 1);	/* at most a goodbye */
	}
	/* The library notices and reports it, without killing its caller
	 * (SIGPIPE): try in a child. */
	kid = bb_fork(f);
	if (kid == 0) {
		struct pp_stat st;
		int r = pp_stat(c, &st);

		_exit(r < 0 ? 0 : 1);
	}
	code = bb_kid_wait(f, kid, 5000);
	if (code != 0)
		print_error("pp_stat after the daemon exited: %s\n",
			    code == 1 ? "returned success" :
			    code == 128 + SIGPIPE ? "raised SIGPIPE" : "child died");
	assert_int_equal(code, 0);
}

static void stop_with_clients(void **state, int sig)
{
	struct bb *f = *state;
	struct pp_client *mon;
	uint64_t held;

	bb_start(f, conf_life);
	held = populate(f, &mon);
	bb_expect_allocated(mon, held, 2000);
	bb_stop_ok(f, sig);
	expect_all_closed(f, mon);
}

static void test_sigterm_with_clients(void **state)
{
	stop_with_clients(state, SIGTERM);
}

static void test_sigint_with_clients(void **state)
{
	stop_with_clients(state, SIGINT);
}

static void test_valgrind_clean_shutdown(void **state)
{
	struct bb *f = *state;
	static const char *const vg[] = {
		"valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
		"--error-exitcode=99", NULL,
	};
	struct bb_opts o = {
		.prefix = vg, .ready_timeout_ms = 60000, .stop_timeout_ms = 60000,
	};
	static const uint8_t garbage[] = { 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff };
	struct pp_client *mon;
	struct bb_conn *bad;
	uint64_t held;
	int64_t t0 = bb_now_ms();
	unsigned n;
	char *log;

#ifdef BB_SANITIZED
	print_message("sanitizer build: the daemon cannot run under valgrind: skipping\n");
	skip();
#endif
	if (!bb_on_path("valgrind")) {
		print_message("valgrind is not on PATH: skipping\n");
		skip();
	}
	bb_daemon_path();
	bb_start_opts(f, conf_life, &o);
	print_message("pagepoold under valgrind ready after %lld ms\n",
		      (long long)(bb_now_ms() - t0));
	held = populate(f, &mon);
	/* Error paths too: a frame that does not decode, a refused free. */
	bad = bb_raw(f);
	bb_resp_free(bb_raw_hello(bad, 1, NULL));
	bb_raw_alloc(bad, 2, 0, 2, NULL);
	assert_int_equal(bb_conn_send(bad, garbage, sizeof(garbage), BB_IO_TIMEOUT_MS), 0);
	assert_int_equal(bb_conn_wait_close(bad, 10000, &n), 0);
	bb_conn_close(bad);
	{
		uint32_t out_of_range = 0xffffffffu;
		unsigned bi = 99;

		bb_assert_rc(mon, pp_free(mon, &out_of_range, 1, &bi), -EINVAL);
		assert_int_equal(bi, 0);
	}
	bb_expect_allocated(mon, held, 10000);

	t0 = bb_now_ms();
	bb_stop_ok(f, SIGTERM);
	/* Valgrind's verdict is the exit status; its summary is in the log. */
	log = bb_slurp(f->log);
	assert_non_null(strstr(log, "ERROR SUMMARY: 0 errors"));
	free(log);
	expect_all_closed(f, mon);
}

/* Config lines that must be refused; `line` is where the mistake is (and
 * `alt` another line the message may name, 0 if none). */
struct bad_conf {
	const char *what;
	const char *text;
	int line, alt;
};

static const struct bad_conf bad_confs[] = {
	{ "size not a multiple of 4M",
	  "[daemon]\n"
	  "socket = @SOCKET@\n"
	  "\n"
	  "[pool default]\n"
	  "size = 3M\n", 5, 0 },
	{ "unknown key in [daemon]",
	  "[daemon]\n"
	  "socket = @SOCKET@\n"
	  "frobnicate = yes\n"
	  "\n"
	  "[pool default]\n"
	  "size = 4M\n", 3, 0 },
	{ "unknown key in a pool",
	  "[daemon]\n"
	  "socket = @SOCKET@\n"
	  "\n"
	  "[pool default]\n"
	  "size = 4M\n"
	  "colour = blue\n", 6, 0 },
	{ "max_frame not a number",
	  "# comment\n"
	  "[daemon]\n"
	  "socket = @SOCKET@\n"
	  "max_frame = lots\n"
	  "\n"
	  "[pool default]\n"
	  "size = 4M\n", 4, 0 },
	{ "not an ini line",
	  "[daemon]\n"
	  "socket = @SOCKET@\n"
	  "[pool default]\n"
	  "size = 4M\n"
	  "this is not a key value pair\n", 5, 0 },
	{ "a key given twice",
	  "[daemon]\n"
	  "socket = @SOCKET@\n"
	  "[pool default]\n"
	  "size = 4M\n"
	  "size = 8M\n", 5, 0 },
	{ "a pool section opened twice",
	  "[daemon]\n"
	  "socket = @SOCKET@\n"
	  "[pool default]\n"
	  "size = 4M\n"
	  "[pool other]\n"
	  "size = 4M\n"
	  "[pool default]\n"
	  "prefault = yes\n", 8, 0 },
	{ "a line longer than the parser's buffer",
	  "[daemon]\n"
	  "socket = @SOCKET@\n"
	  "# xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
	  "[pool default]\n"
	  "size = 4M\n", 3, 0 },
	{ "a CPU this process cannot use",
	  "[daemon]\n"
	  "socket = @SOCKET@\n"
	  "workers = 1000\n"
	  "[pool default]\n"
	  "size = 4M\n", 3, 0 },
	{ "an unknown group",
	  "[daemon]\n"
	  "socket = @SOCKET@\n"
	  "[pool default]\n"
	  "size = 4M\n"
	  "groups = no-such-group-here\n", 5, 0 },
	{ "max_output too small for max_count",
	  "[daemon]\n"
	  "socket = @SOCKET@\n"
	  "max_output = 4K\n"
	  "[pool default]\n"
	  "size = 4M\n", 5, 3 },
};

static void test_bad_config_refused(void **state)
{
	struct bb *f = *state;

	for (size_t i = 0; i < sizeof(bad_confs) / sizeof(bad_confs[0]); i++) {
		const struct bad_conf *bc = &bad_confs[i];
		char want[200], alt[200];
		char *log;
		int code;

		code = bb_start_expect_exit(f, bc->text);
		log = bb_slurp(f->log);
		snprintf(want, sizeof(want), "%s:%d:", f->conf, bc->line);
		snprintf(alt, sizeof(alt), "%s:%d:", f->conf, bc->alt);
		if (code != 1 || !(strstr(log, want) || (bc->alt && strstr(log, alt))))
			print_error("%s: exit %d, stderr:\n%s(expected exit 1 and \"%s\"%s%s)\n",
				    bc->what, code, log, want, bc->alt ? " or " : "",
				    bc->alt ? alt : "");
		assert_int_equal(code, 1);
		assert_true(strstr(log, want) || (bc->alt && strstr(log, alt)));
		/* The socket never appeared. */
		assert_int_equal(access(f->sock, F_OK), -1);
		free(log);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_kill9_returns_pages),
		bb_test(test_sigterm_with_clients),
		bb_test(test_sigint_with_clients),
		bb_test(test_valgrind_clean_shutdown),
		bb_test(test_bad_config_refused),
	};

	return cmocka_run_group_tests_name("blackbox lifecycle", tests, NULL, NULL);
}
