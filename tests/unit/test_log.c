/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_log.c - unit tests of the log module's rate limiter: the burst per
 * window, the count of suppressed lines and the summary line that reports
 * it, the window reset, log_ratelimit_flush() for a flood that stops, the
 * level checked before the limiter, and several threads sharing one cause.
 * The limiter's clock is a variable of the test (log_set_clock), and the
 * log's stderr goes to a temporary file while a case runs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "log.h"

#define T0	1000000		/* any start: the limiter sees only differences */

static int64_t fake_now;

static int64_t fake_clock(void)
{
	return __atomic_load_n(&fake_now, __ATOMIC_RELAXED);
}

/* ---- capturing stderr ----------------------------------------------------- */

static int saved_stderr = -1;
static FILE *captured;

static void capture_start(void)
{
	fflush(stderr);
	captured = tmpfile();
	assert_non_null(captured);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fileno(captured), 2) == 2);
}

/* Restore stderr; what was logged, malloc'd. */
static char *capture_end(void)
{
	long len;
	char *text;

	fflush(stderr);
	assert_true(dup2(saved_stderr, 2) == 2);
	close(saved_stderr);
	saved_stderr = -1;
	len = ftell(captured);
	assert_true(len >= 0);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	rewind(captured);
	assert_int_equal(fread(text, 1, (size_t)len, captured), (size_t)len);
	fclose(captured);
	captured = NULL;
	return text;
}

/* Lines of text that contain `needle`. */
static unsigned count_lines(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (memmem(p, len, needle, strlen(needle)))
			n++;
		p += len + (end != NULL);
	}
	return n;
}

/* Each case starts an hour after the last, with the summaries the last one
 * left pending flushed away: the limiter's list of causes is global. */
static int setup(void **state)
{
	static int64_t start = T0;

	log_init(LOG_LVL_INFO, false);
	log_set_clock(fake_clock);
	start += 3600 * 1000;
	fake_now = start;
	capture_start();
	log_ratelimit_flush();
	free(capture_end());
	return 0;
}

static int teardown(void **state)
{
	log_set_clock(NULL);
	return 0;
}

/* ---- the limiter ------------------------------------------------------------ */

/* burst lines pass in a window, the rest do not; the next window passes
 * burst lines again and reports how many the last one suppressed. */
static void test_check_burst_and_reset(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(5, 10);
	uint64_t missed;

	for (unsigned i = 0; i < 10; i++) {
		assert_true(log_ratelimit_check(&rl, T0 + i, &missed));
		assert_int_equal(missed, 0);
	}
	for (unsigned i = 0; i < 25; i++) {
		assert_false(log_ratelimit_check(&rl, T0 + 100 + i, &missed));
		assert_int_equal(missed, 0);
	}
	/* Still the same window one ms before it ends. */
	assert_false(log_ratelimit_check(&rl, T0 + 4999, &missed));
	assert_int_equal(missed, 0);
	/* A new window: 26 suppressed in the last one. */
	assert_true(log_ratelimit_check(&rl, T0 + 5000, &missed));
	assert_int_equal(missed, 26);
	for (unsigned i = 1; i < 10; i++) {
		assert_true(log_ratelimit_check(&rl, T0 + 5001, &missed));
		assert_int_equal(missed, 0);
	}
	assert_false(log_ratelimit_check(&rl, T0 + 5002, &missed));
	/* The window opens at the first line after the last one ended. */
	assert_true(log_ratelimit_check(&rl, T0 + 60000, &missed));
	assert_int_equal(missed, 1);
	assert_true(log_ratelimit_check(&rl, T0 + 64999, &missed));
	assert_true(log_ratelimit_check(&rl, T0 + 65000, &missed));
	assert_int_equal(missed, 0);	/* nothing suppressed: no summary */
}

/* Interval 0: no limit. */
static void test_check_off(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(0, 1);
	uint64_t missed;

	for (unsigned i = 0; i < 1000; i++)
		assert_true(log_ratelimit_check(&rl, T0, &missed));
}

/* ---- through the log -------------------------------------------------------- */

/* 35 lines of a cause in one window: 10 printed; the first line of the next
 * window comes after "25 similar messages suppressed" naming the cause. */
static void test_summary_line(void **state)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
	char *text;

	capture_start();
	for (int i = 0; i < 35; i++) {
		log_warnx_rl(&rl, "peer %d: bad frame", i);
		fake_now += 10;
	}
	fake_now += LOG_RATELIMIT_INTERVAL * 1000 - 350;
	log_warnx_rl(&rl, "peer %d: bad frame", 99);
	text = capture_end();

	print_message("%s", text);
	assert_int_equal(count_lines(text, "bad frame"), 12);	/* 10 + summary + 1 */
	assert_non_null(strstr(text, "pagepoold: peer 9: bad frame\n"));
	assert_null(strstr(text, "peer 10: bad frame"));
	assert_non_null(strstr(text, "pagepoold: peer 9: bad frame\n"
				     "pagepoold: rate limit: 25 similar messages suppressed "
				     "(at most 10 per 5 s): \"peer %d: bad frame\"\n"
				     "pagepoold: peer 99: bad frame\n"));
	free(text);
}

/* log_warn_rl appends errno's text and leaves errno as it was. */
static void test_warn_errno(void **state)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
	char *text;

	capture_start();
	errno = EPIPE;
	log_warn_rl(&rl, "peer %d", 1);
	assert_int_equal(errno, EPIPE);
	for (int i = 0; i < 20; i++)
		log_warn_rl(&rl, "peer %d", 2);
	assert_int_equal(errno, EPIPE);
	text = capture_end();
	assert_non_null(strstr(text, "pagepoold: peer 1: Broken pipe\n"));
	assert_int_equal(count_lines(text, "pagepoold: peer"), 10);
	free(text);
}

/* A flood that stops: log_ratelimit_flush() reports it once the window has
 * ended, not before, and only once; the next line has no second summary. */
static void test_flush(void **state)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
	static struct log_ratelimit quiet = LOG_RATELIMIT_DEFAULT;
	char *text;

	capture_start();
	log_info_rl(&quiet, "quiet cause");
	for (int i = 0; i < 17; i++)
		log_info_rl(&rl, "flood %d", i);
	fake_now += 4999;
	log_ratelimit_flush();		/* window not over: nothing */
	fake_now += 1;
	log_ratelimit_flush();
	log_ratelimit_flush();		/* reported already */
	log_info_rl(&rl, "flood %d", 100);
	text = capture_end();

	print_message("%s", text);
	assert_int_equal(count_lines(text, "suppressed"), 1);
	assert_non_null(strstr(text, "pagepoold: flood 9\n"
				     "pagepoold: rate limit: 7 similar messages suppressed "
				     "(at most 10 per 5 s): \"flood %d\"\n"
				     "pagepoold: flood 100\n"));
	assert_int_equal(count_lines(text, "quiet cause"), 1);
	free(text);
}

/* Lines below the level never reach the limiter: they use up no burst. */
static void test_level_first(void **state)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
	char *text;

	log_set_level(LOG_LVL_WARN);
	capture_start();
	for (int i = 0; i < 100; i++)
		log_info_rl(&rl, "filtered %d", i);
	log_set_level(LOG_LVL_INFO);
	for (int i = 0; i < 10; i++)
		log_info_rl(&rl, "shown %d", i);
	text = capture_end();
	assert_int_equal(count_lines(text, "filtered"), 0);
	assert_int_equal(count_lines(text, "shown"), 10);
	assert_int_equal(count_lines(text, "suppressed"), 0);
	free(text);
}

/* ---- threads ---------------------------------------------------------------- */

#define NTHREADS	4
#define PER_THREAD	5000

static struct log_ratelimit shared_rl = LOG_RATELIMIT_DEFAULT;

static void *flood_thread(void *arg)
{
	for (int i = 0; i < PER_THREAD; i++)
		log_warnx_rl(&shared_rl, "thread %d: line", (int)(intptr_t)arg);
	return NULL;
}

/* Several threads on one cause: exactly burst lines in the window, and every
 * other line counted in the summary. */
static void test_threads(void **state)
{
	pthread_t t[NTHREADS];
	char *text, want[160];

	capture_start();
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, flood_thread, (void *)(intptr_t)i), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	fake_now += LOG_RATELIMIT_INTERVAL * 1000;
	log_ratelimit_flush();
	text = capture_end();

	assert_int_equal(count_lines(text, "pagepoold: thread "), LOG_RATELIMIT_BURST);
	snprintf(want, sizeof(want), "rate limit: %d similar messages suppressed",
		 NTHREADS * PER_THREAD - LOG_RATELIMIT_BURST);
	if (!strstr(text, want))
		print_error("no \"%s\" in:\n%s", want, text);
	assert_non_null(strstr(text, want));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check_burst_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warn_errno, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests_name("log rate limit", tests, NULL, NULL);
}
