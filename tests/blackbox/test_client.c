/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_client.c - libpagepool's environment and timeouts: PAGEPOOL_SOCKET
 * names the socket when pp_connect() is given none; PAGEPOOL_TIMEOUT_MS
 * bounds pp_connect(); pp_set_timeout() bounds each later call.  A daemon
 * that does not answer is a stand-in: a child that accepts, reads every
 * byte and never replies (or replies to the hello only).  The real daemon
 * must still serve a client with a timeout set.
 */
#include "bb.h"

static const char conf_basic[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = 1\n"
	"\n"
	"[pool default]\n"
	"size = 4M\n";

/* Teardown that also clears what the tests put in the environment. */
static int env_teardown(void **state)
{
	unsetenv("PAGEPOOL_SOCKET");
	unsetenv("PAGEPOOL_TIMEOUT_MS");
	unsetenv("PAGEPOOL_CACHE");
	return bb_teardown(state);
}

#define client_test(fn) cmocka_unit_test_setup_teardown(fn, bb_setup, env_teardown)

/* ---- a stand-in daemon ---------------------------------------------------- */

/* The stand-in's answers (bb_standin_start): a Welcome to the first read
 * when `welcome` (a hello comes whole in one read), then nothing. */
static int standin_answer(int s, unsigned nread, int welcome)
{
	if (nread == 0 && welcome && bb_standin_welcome(s, 0, 0, 0) != 0)
		return 6;
	return 0;
}

static void expect_took(int64_t t0, int timeout_ms)
{
	int64_t took = bb_now_ms() - t0;

	print_message("-ETIMEDOUT after %lld ms (timeout %d ms)\n", (long long)took, timeout_ms);
	assert_true(took >= timeout_ms - 1);
	assert_true(took <= timeout_ms + 1000);
}

/* ---- tests ---------------------------------------------------------------- */

/* NULL and "" mean $PAGEPOOL_SOCKET; an explicit path wins over it. */
static void test_socket_from_env(void **state)
{
	struct bb *f = *state;
	struct pp_client *c = NULL;
	char other[160];
	int r;

	bb_start(f, conf_basic);
	assert_int_equal(setenv("PAGEPOOL_SOCKET", f->sock, 1), 0);
	bb_assert_rc(NULL, pp_connect(NULL, NULL, &c), 0);
	assert_string_equal(pp_info(c)->pool, "default");
	pp_close(c);
	bb_assert_rc(NULL, pp_connect("", NULL, &c), 0);
	pp_close(c);

	snprintf(other, sizeof(other), "%s/nothing-here.sock", f->dir);
	c = NULL;
	assert_int_equal(pp_connect(other, NULL, &c), -ECONNREFUSED);
	assert_null(c);
	assert_non_null(strstr(pp_last_error(NULL), other));

	/* Empty: the default socket, whatever is (not) there. */
	assert_int_equal(setenv("PAGEPOOL_SOCKET", "", 1), 0);
	r = pp_connect(NULL, NULL, &c);
	if (r == 0)
		pp_close(c);
	else
		assert_non_null(strstr(pp_last_error(NULL), PP_DEFAULT_SOCKET));
}

/* PAGEPOOL_TIMEOUT_MS: a daemon that never welcomes costs that long. */
static void test_connect_timeout(void **state)
{
	struct bb *f = *state;
	struct pp_client *c = NULL;
	pid_t kid = bb_standin_start(f, standin_answer, false);
	int64_t t0;

	assert_int_equal(setenv("PAGEPOOL_TIMEOUT_MS", "300", 1), 0);
	t0 = bb_now_ms();
	assert_int_equal(pp_connect(f->sock, NULL, &c), -ETIMEDOUT);
	expect_took(t0, 300);
	assert_null(c);
	assert_non_null(strstr(pp_last_error(NULL), "no answer"));
	assert_int_equal(bb_kid_wait(f, kid, 5000), 0);		/* saw the hello, then EOF */

	/* Not a number: refused before any I/O. */
	assert_int_equal(setenv("PAGEPOOL_TIMEOUT_MS", "5s", 1), 0);
	assert_int_equal(pp_connect(f->sock, NULL, &c), -EINVAL);
	assert_non_null(strstr(pp_last_error(NULL), "PAGEPOOL_TIMEOUT_MS"));
	assert_int_equal(setenv("PAGEPOOL_TIMEOUT_MS", "-1", 1), 0);
	assert_int_equal(pp_connect(f->sock, NULL, &c), -EINVAL);
}

/* pp_set_timeout: a call the daemon reads but never answers. */
static void test_call_timeout(void **state)
{
	struct bb *f = *state;
	struct pp_client *c = NULL;
	struct pp_stat st;
	pid_t kid = bb_standin_start(f, standin_answer, true);
	int64_t t0;

	bb_assert_rc(NULL, pp_connect(f->sock, NULL, &c), 0);
	assert_int_equal(pp_set_timeout(NULL, 100), -EINVAL);
	assert_int_equal(pp_set_timeout(c, 300), 0);
	t0 = bb_now_ms();
	assert_int_equal(pp_stat(c, &st), -ETIMEDOUT);
	expect_took(t0, 300);
	assert_non_null(strstr(pp_last_error(c), "no answer"));
	assert_string_equal(pp_strerror(-ETIMEDOUT), "the daemon did not answer in time");
	/* Broken: no more I/O, the reason kept. */
	t0 = bb_now_ms();
	assert_int_equal(pp_stat(c, &st), -ECONNRESET);
	assert_true(bb_now_ms() - t0 < 100);
	assert_non_null(strstr(pp_last_error(c), "no answer"));
	pp_close(c);
	assert_int_equal(bb_kid_wait(f, kid, 5000), 0);
}

/* The real daemon answers well within a timeout, call after call. */
static void test_timeout_real_daemon(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	uint32_t pfns[8];
	unsigned got, bad;
	struct pp_stat st;

	bb_start(f, conf_basic);
	assert_int_equal(setenv("PAGEPOOL_TIMEOUT_MS", "10000", 1), 0);
	/* Every call a round trip: no client cache to answer in the process. */
	assert_int_equal(setenv("PAGEPOOL_CACHE", "0", 1), 0);
	c = bb_client(f, NULL);
	assert_int_equal(pp_set_timeout(c, 10000), 0);
	for (unsigned i = 0; i < 100; i++) {
		bb_assert_rc(c, pp_alloc(c, 0, 8, 0, pfns, &got), 0);
		assert_int_equal(got, 8);
		bb_assert_rc(c, pp_free(c, pfns, got, &bad), 0);
	}
	/* A refusal within the timeout leaves the client usable. */
	pfns[0] = 0;
	assert_int_equal(pp_free(c, pfns, 1, &bad), -EALREADY);
	assert_int_equal(pp_set_timeout(c, -5), 0);	/* back to blocking */
	bb_assert_rc(c, pp_stat(c, &st), 0);
	assert_int_equal(st.allocated, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		client_test(test_socket_from_env),
		client_test(test_connect_timeout),
		client_test(test_call_timeout),
		client_test(test_timeout_real_daemon),
	};

	return cmocka_run_group_tests_name("libpagepool environment and timeouts", tests, NULL,
					   NULL);
}
