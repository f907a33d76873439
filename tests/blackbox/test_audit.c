/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_audit.c - black-box tests of pagepoold's audit trail, read from the
 * daemon's log file: each admin action (drain, drain of client caches,
 * offline refused and done, online, trim, set-pcp accepted and refused,
 * verify, reload, and a reload by SIGHUP) leaves exactly one line naming
 * the admin's uid and pid (this process) and what changed, and read-only
 * requests (status, stats, buddyinfo, clients) leave none; an allocation
 * that fails with ENOMEM in a tiny pool (or EDQUOT on its quota) leaves
 * one line naming the client, and 1,000 of them a bounded number, every
 * one counted by the rate limit's summary.  Every line of a log file
 * starts with its ISO 8601 time.
 *
 * An admin answer is sent after its audit line is written, and an
 * allocation's answer likewise, so the log is read right after the round
 * trip; only SIGHUP and the rate limit's summary are polled for.
 */
#include "bb.h"
#include "log.h"		/* LOG_RATELIMIT_BURST, LOG_RATELIMIT_INTERVAL */

#define ADM(x)		PAGEPOOL__V1__ADMIN_REQUEST__BODY_##x
#define ST(x)		PAGEPOOL__V1__STATUS__##x
#define WINDOW_MS	(LOG_RATELIMIT_INTERVAL * 1000)
#define FAILURES	1000

static const char conf[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"workers = auto\n"
	"log_level = info\n"
	"max_count = 256\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n"
	"pcp_high = 64\n"
	"pcp_batch = 16\n"
	"\n"
	"[pool tiny]\n"
	"size = 4M\n"
	"quota_pages = 2048\n";

/* ---- the log ------------------------------------------------------------------- */

/* Lines of the log that contain `needle` (and, if not NULL, `also`). */
static unsigned log_count(struct bb *f, const char *needle, const char *also)
{
	char *text = bb_slurp(f->log), *save = NULL;
	unsigned n = 0;

	for (char *p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save))
		n += strstr(p, needle) && (!also || strstr(p, also));
	free(text);
	return n;
}

/* Exactly one line with `what` after "admin uid U pid P: ", this process's;
 * a `what` that ends in "\n" must end its line. */
static void expect_once(struct bb *f, const char *what)
{
	char want[300], *text = bb_slurp(f->log), *save = NULL;
	size_t wlen;
	unsigned n = 0;

	snprintf(want, sizeof(want), "pagepoold: admin uid %d pid %d: %s", (int)geteuid(),
		 (int)getpid(), what);
	wlen = strlen(want);
	if (want[wlen - 1] == '\n')
		want[--wlen] = '\0';
	for (char *p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		const char *m = strstr(p, want);

		n += m && (what[strlen(what) - 1] != '\n' || m[wlen] == '\0');
	}
	free(text);
	if (n != 1) {
		bb_print_tail("pagepoold log", f->log, 4000);
		fail_msg("%u lines with \"%s\", expected 1", n, want);
	}
}

/* Every line of the log starts with 2026-12-07T14:45:01.123+00:00. */
static void expect_stamped(struct bb *f)
{
	char *text = bb_slurp(f->log), *save = NULL;
	unsigned n = 0;

	for (char *p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save), n++) {
		int y, mo, d, h, mi, s, ms, oh, om;
		char sign, end;

		if (sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c%2d:%2d%c", &y, &mo, &d, &h, &mi, &s,
			   &ms, &sign, &oh, &om, &end) != 11 || (sign != '+' && sign != '-') ||
		    end != ' ' || p[4] != '-' || p[10] != 'T' || p[19] != '.' || p[29] != ' ')
			fail_msg("a log line without its timestamp: %s", p);
	}
	assert_true(n > 0);
	free(text);
}

/* ---- admin requests -------------------------------------------------------------- */

/* The read-only requests: none may leave an audit line. */
static void read_only(struct bb_conn *a)
{
	bb_admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminStatusReq st = PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT;
	Pagepool__V1__AdminStatsReq ss = PAGEPOOL__V1__ADMIN_STATS_REQ__INIT;
	Pagepool__V1__AdminBuddyinfoReq bi = PAGEPOOL__V1__ADMIN_BUDDYINFO_REQ__INIT;

	bb_admin_pool_counts(a, "default");
	bb_admin_client_find(a, 1);
	q.body_case = ADM(STATUS);
	q.status = &st;
	assert_int_equal(bb_admin_status_of(a, &q), ST(OK));
	q.body_case = ADM(STATS);
	q.stats = &ss;
	assert_int_equal(bb_admin_status_of(a, &q), ST(OK));
	q.body_case = ADM(BUDDYINFO);
	q.buddyinfo = &bi;
	assert_int_equal(bb_admin_status_of(a, &q), ST(OK));
}

static int admin_set_pcp(struct bb_conn *a, uint32_t high, uint32_t batch)
{
	Pagepool__V1__AdminSetPcpReq sp = PAGEPOOL__V1__ADMIN_SET_PCP_REQ__INIT;
	bb_admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;

	sp.pool = (char *)"default";
	sp.high = high;
	sp.batch = batch;
	q.body_case = ADM(SET_PCP);
	q.set_pcp = &sp;
	return bb_admin_status_of(a, &q);
}

/* drain, trim and reload of every pool / the named pool. */
static void admin_drain_trim_reload(struct bb_conn *a)
{
	Pagepool__V1__AdminReloadReq rq = PAGEPOOL__V1__ADMIN_RELOAD_REQ__INIT;
	bb_admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;

	assert_int_equal(bb_admin_drain_pcps(a, "default", NULL, false), ST(OK));
	assert_int_equal(bb_admin_trim(a, ""), ST(OK));
	q.body_case = ADM(RELOAD);
	q.reload = &rq;
	assert_int_equal(bb_admin_status_of(a, &q), ST(OK));
}

/* ---- 1. one line per admin action ------------------------------------------------ */

static void test_admin_actions(void **state)
{
	struct bb *f = *state;
	struct bb_conn *a;
	struct pp_client *c;
	bb_admin_response *r;
	uint32_t pfn;
	unsigned got, actions = 0;
	char what[200], range[64];
	int64_t deadline;

	bb_start(f, conf);
	a = bb_admin_open(f);
	read_only(a);
	assert_int_equal(log_count(f, "admin uid ", NULL), 0);

	/* A block held by a client: its offline is refused, then done. */
	c = bb_client(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 10, 1, 0, &pfn, &got), 0);
	snprintf(range, sizeof(range), "offline pool default %u..%u", pfn, pfn + 1023);
	r = bb_admin_range(a, true, "default", pfn, 1024);
	assert_int_equal(r->status, ST(EBUSY));
	bb_admin_free(r);
	actions++;
	snprintf(what, sizeof(what), "%s: EBUSY, 1024 pages held by 1 client\n", range);
	expect_once(f, what);
	bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);
	bb_admin_range_ok(a, true, "default", pfn, 1024);
	bb_admin_range_ok(a, false, "default", pfn, 1024);
	actions += 2;
	snprintf(what, sizeof(what), "%s: ok\n", range);
	expect_once(f, what);
	snprintf(what, sizeof(what), "online pool default %u..%u: ok\n", pfn, pfn + 1023);
	expect_once(f, what);

	/* A pool name from the peer is logged sanitised. */
	r = bb_admin_range(a, true, "no\001such", 0, 1024);
	assert_int_equal(r->status, ST(ENOENT));
	bb_admin_free(r);
	actions++;
	expect_once(f, "offline pool no\\x01such 0..1023: ENOENT, no pool named");

	assert_int_equal(admin_set_pcp(a, 32, 8), ST(OK));
	assert_int_equal(admin_set_pcp(a, 1, 8), ST(EINVAL));
	actions += 2;
	expect_once(f, "set-pcp pool default high 32 batch 8 (was 64/16)\n");
	expect_once(f, "set-pcp pool default high 1 batch 8: EINVAL, ");

	bb_admin_drain_clients(a, "", 0);
	bb_admin_verify(a, 2);
	admin_drain_trim_reload(a);
	actions += 5;
	expect_once(f, "drain --clients all pools: ok, 0 pages from 0 clients, 0 stuck, "
		       "0 bad entries\n");
	expect_once(f, "verify all pools: ok, 2 pools\n");
	expect_once(f, "drain pool default: ok, ");
	expect_once(f, "trim all pools: ok, ");
	/* The file still says 64/16: the reload puts back what set-pcp changed. */
	expect_once(f, "reload: ");

	read_only(a);
	assert_int_equal(log_count(f, "admin uid ", NULL), actions);
	assert_int_equal(log_count(f, "admin uid ", "status"), 0);
	assert_int_equal(log_count(f, "admin uid ", "clients:"), 0);

	/* SIGHUP: one line, with no admin to name. */
	assert_int_equal(kill(f->pid, SIGHUP), 0);
	deadline = bb_now_ms() + BB_IO_TIMEOUT_MS;
	while (log_count(f, "pagepoold: signal SIGHUP: reload: no changes", NULL) == 0 &&
	       bb_left_ms(deadline) > 0)
		poll(NULL, 0, 5);
	assert_int_equal(log_count(f, "pagepoold: signal SIGHUP: reload: no changes", NULL), 1);
	read_only(a);
	assert_int_equal(log_count(f, "admin uid ", NULL), actions);
	assert_int_equal(log_count(f, "SIGHUP", NULL), 1);
	expect_stamped(f);
	if (getenv("BB_VERBOSE"))
		bb_print_tail("pagepoold log", f->log, 4000);
}

/* ---- 2. failing allocations ---------------------------------------------------- */

/* Lines the rate limit's summaries say were suppressed of a cause. */
static uint64_t suppressed(struct bb *f, const char *cause)
{
	char *text = bb_slurp(f->log), *save = NULL;
	uint64_t sum = 0;

	for (char *p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		const char *s = strstr(p, "rate limit: ");
		unsigned long long n;

		if (s && strstr(p, cause) && sscanf(s, "rate limit: %llu similar", &n) == 1)
			sum += n;
	}
	free(text);
	return sum;
}

static void test_alloc_failures(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	uint32_t blocks[2], pfns[4];
	unsigned got, printed, windows;
	char who[160];
	int64_t t0, elapsed, deadline;

	bb_start(f, conf);
	c = bb_client(f, "tiny");
	bb_assert_rc(c, pp_alloc(c, 10, 1, 0, blocks, &got), 0);
	assert_int_equal(log_count(f, "blocks failed", NULL), 0);

	/* One ENOMEM: one line, naming the client, the request and why. */
	bb_assert_rc(c, pp_alloc(c, 0, 3, 0, pfns, &got), -ENOMEM);
	snprintf(who, sizeof(who), "pagepoold: client %lu (pid %d uid %d, worker ",
		 (unsigned long)pp_info(c)->client_id, (int)getpid(), (int)geteuid());
	assert_int_equal(log_count(f, who, "): alloc of 3 order-0 blocks failed: ENOMEM, pool tiny "
				   "exhausted"), 1);
	assert_int_equal(log_count(f, "blocks failed", NULL), 1);

	/* Past its quota (2048 pages, 1024 held): EDQUOT, one line. */
	bb_assert_rc(c, pp_alloc(c, 10, 2, 0, pfns, &got), -EDQUOT);
	assert_int_equal(log_count(f, who, "): alloc of 2 order-10 blocks failed: EDQUOT, "
				   "connection quota"), 1);

	/* 1,000 more: at most a burst per window, the rest counted. */
	t0 = bb_now_ms();
	for (unsigned i = 0; i < FAILURES; i++)
		bb_assert_rc(c, pp_alloc(c, 0, 1, 0, pfns, &got), -ENOMEM);
	elapsed = bb_now_ms() - t0;
	windows = (unsigned)(elapsed / WINDOW_MS) + 2;	/* the first one opened before t0 */
	printed = log_count(f, "blocks failed: ", NULL) - log_count(f, "blocks failed: ", "rate limit");
	print_message("%u failures in %lld ms: %u lines printed\n", FAILURES + 2,
		      (long long)elapsed, printed);
	assert_true(printed >= LOG_RATELIMIT_BURST);
	assert_true(printed <= windows * LOG_RATELIMIT_BURST);
	if (elapsed < WINDOW_MS - 1000)
		assert_int_equal(printed, LOG_RATELIMIT_BURST);
	/* The summary comes once the window has ended (the daemon's service
	 * tick flushes it): printed + suppressed accounts for every failure. */
	deadline = bb_now_ms() + 3 * WINDOW_MS;
	while (printed + suppressed(f, "blocks failed: ") < FAILURES + 2 && bb_left_ms(deadline) > 0)
		poll(NULL, 0, 20);
	assert_int_equal(printed + suppressed(f, "blocks failed: "), FAILURES + 2);
	bb_assert_rc(c, pp_free(c, blocks, 1, NULL), 0);
	expect_stamped(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_admin_actions),
		bb_test(test_alloc_failures),
	};

	return cmocka_run_group_tests_name("blackbox audit", tests, NULL, NULL);
}
