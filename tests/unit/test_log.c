/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_log.c - unit tests of the log module's rate limiter: the burst per
 * window, the count of suppressed lines and the summary line that reports
 * it, the window reset, log_ratelimit_flush() for a flood that stops, the
 * level checked before the limiter, and several threads sharing one cause;
 * and the start of each line: an ISO 8601 time with milliseconds and offset
 * outside the journal, the "<N>" priority and no time when stderr is the
 * journal's stream (JOURNAL_STREAM).  The limiter's clock and the wall
 * clock are variables of the test (log_set_clock, log_set_wallclock), and
 * the log's stderr goes to a temporary file while a case runs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

/* Restore stderr; what was logged, malloc'd, as written. */
static char *capture_end_raw(void)
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

/* Does p start with 2026-12-07T14:45:01.123+00:00 and a space? */
static bool is_stamp(const char *p)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddd+dd:dd ";

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		bool ok = shape[i] == 'd' ? p[i] >= '0' && p[i] <= '9'
			: shape[i] == '+' ? p[i] == '+' || p[i] == '-' : p[i] == shape[i];
		if (!ok)
			return false;
	}
	return true;
}

#define STAMP_LEN	30	/* "2026-12-07T14:45:01.123+00:00 " */

/* capture_end_raw() with the timestamp that starts every line (asserted)
 * taken off, for the cases about what the lines say. */
static char *capture_end(void)
{
	char *text = capture_end_raw(), *out = text;

	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) + 1 : strlen(p);

		if (!is_stamp(p))
			fail_msg("a line without its timestamp: %.*s", (int)len, p);
		memmove(out, p + STAMP_LEN, len - STAMP_LEN);
		out += len - STAMP_LEN;
		p += len;
	}
	*out = '\0';
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
	log_set_wallclock(NULL);
	unsetenv("JOURNAL_STREAM");
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

/* ---- the start of a line ---------------------------------------------------- */

/* 2026-12-07 14:45:01.123 UTC, and a millisecond before the next second. */
#define WALL_MS		INT64_C(1796654701123)
static int64_t fake_wall = WALL_MS;

static int64_t fake_wallclock(void)
{
	return fake_wall;
}

/* The time of a line in zone `tz` (a POSIX TZ string: no tzdata needed). */
static char *line_in_zone(const char *tz, int64_t ms)
{
	char *text;

	setenv("TZ", tz, 1);
	tzset();
	fake_wall = ms;
	log_set_wallclock(fake_wallclock);
	capture_start();
	log_info("stamped %d", 1);
	text = capture_end_raw();
	print_message("TZ=%s: %s", tz, text);
	return text;
}

/* Outside the journal: local time, milliseconds, the zone's offset. */
static void test_timestamp(void **state)
{
	char *text;

	text = line_in_zone("UTC0", WALL_MS);
	assert_string_equal(text, "2026-12-07T14:45:01.123+00:00 pagepoold: stamped 1\n");
	free(text);
	text = line_in_zone("IST-05:30", WALL_MS + 876);
	assert_string_equal(text, "2026-12-07T20:15:01.999+05:30 pagepoold: stamped 1\n");
	free(text);
	text = line_in_zone("EST5", WALL_MS - 123);
	assert_string_equal(text, "2026-12-07T09:45:01.000-05:00 pagepoold: stamped 1\n");
	free(text);
	unsetenv("TZ");
	tzset();
}

/* The real clock: a stamp of the right shape whose time is now. */
static void test_timestamp_now(void **state)
{
	char *text, before[LOG_TIMESTAMP_MAX], after[LOG_TIMESTAMP_MAX];
	struct timespec ts;

	log_set_wallclock(NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	assert_true(log_timestamp(before, sizeof(before), (int64_t)ts.tv_sec * 1000 +
				  ts.tv_nsec / 1000000) == STAMP_LEN - 1);
	capture_start();
	log_warnx("now");
	text = capture_end_raw();
	clock_gettime(CLOCK_REALTIME, &ts);
	log_timestamp(after, sizeof(after), (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	print_message("%s <= %s", before, text);
	assert_true(is_stamp(text));
	assert_true(strncmp(before, text, STAMP_LEN - 1) <= 0);
	assert_true(strncmp(text, after, STAMP_LEN - 1) <= 0);
	assert_string_equal(text + STAMP_LEN, "pagepoold: now\n");
	/* Too small a buffer: nothing. */
	assert_int_equal(log_timestamp(before, STAMP_LEN - 1, 0), 0);
	free(text);
}

/* stderr is the journal's stream: "<N>" and no time; JOURNAL_STREAM that
 * names another file (stderr redirected since) or none: stamped lines. */
static void test_journal_stream(void **state)
{
	struct stat st;
	static const char journal[] = "<6>to the journal 6\n<4>warned: Broken pipe\n";
	const size_t jlen = sizeof(journal) - 1;
	char env[64], *text;

	capture_start();
	assert_int_equal(fstat(2, &st), 0);
	unsetenv("JOURNAL_STREAM");
	assert_false(log_stderr_is_journal());
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", env, 1);
	assert_false(log_stderr_is_journal());
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	assert_true(log_stderr_is_journal());
	log_init(LOG_LVL_INFO, log_stderr_is_journal());
	log_info("to the journal %d", 6);
	errno = EPIPE;
	log_warn("warned");
	log_init(LOG_LVL_INFO, false);
	log_info("to a file");
	text = capture_end_raw();
	print_message("%s", text);
	assert_true(strncmp(text, journal, jlen) == 0);
	assert_true(is_stamp(text + jlen));
	assert_string_equal(text + jlen + STAMP_LEN, "pagepoold: to a file\n");
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
		cmocka_unit_test_setup_teardown(test_timestamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timestamp_now, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_stream, setup, teardown),
	};

	return cmocka_run_group_tests_name("log rate limit", tests, NULL, NULL);
}
