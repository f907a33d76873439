/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_logflood.c - black-box test that an unprivileged peer cannot flood
 * pagepoold's log: a few thousand framing errors, peers that die in the
 * middle of a frame holding pages, connections refused at max_connections
 * and (as root) connects to a world-writable admin socket from uid 65534,
 * all as fast as one process can make them.  Each cause may print at most
 * its burst per window (the defaults of log.h) plus one "similar messages
 * suppressed" line per window, every cause that was suppressed must say so,
 * and the daemon must still serve a new client afterwards.
 */
#include <grp.h>

#include "bb.h"
#include "log.h"		/* LOG_RATELIMIT_BURST, LOG_RATELIMIT_INTERVAL */

#define FLOOD		3000	/* of each cause */
#define HOLDERS		3	/* max_connections - 1: one more fits, two do not */
#define NOBODY		65534
#define WINDOW_MS	(LOG_RATELIMIT_INTERVAL * 1000)

static const char conf[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"admin_mode = 0666\n"
	"workers = auto\n"
	"log_level = info\n"
	"max_frame = 4096\n"
	"max_count = 256\n"
	"max_connections = 4\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

/* Each cause: what its lines (and its summary line) contain; a cause may
 * have a second line, with its own limit. */
enum cause { FRAMING, MIDFRAME, GONE, REFUSED, ADMIN, NCAUSES };
#define NTEXTS	2
static const char *const cause_text[NCAUSES][NTEXTS] = {
	[FRAMING] = { "; closing" },
	[MIDFRAME] = { "closed in the middle of a frame" },
	[GONE] = { "pages returned" },
	/* A per-uid limit equal to max_connections may refuse first. */
	[REFUSED] = { "connection refused: max_connections (", "connection refused: uid " },
	[ADMIN] = { "admin socket: refused uid" },
};

/* ---- provoking each cause once ----------------------------------------------- */

/*
 * A raw connection the daemon accepted and welcomed.  A connect right after
 * another connection closed can still be refused for a moment (the daemon
 * counts the closed one until its worker has freed it), so a refused one
 * (closed, or answered with an error) is retried, within a deadline.
 */
static struct bb_conn *open_conn(struct bb *f)
{
	int64_t deadline = bb_now_ms() + BB_IO_TIMEOUT_MS;

	for (;;) {
		struct bb_conn *c = bb_raw(f);
		struct bb_req q;
		bb_response *r = NULL;
		bool ok = bb_conn_send_req(c, bb_req_hello(&q, 1, 1, NULL), NULL, 0) == 0 &&
			  bb_conn_recv(c, BB_IO_TIMEOUT_MS, &r) == 0 &&
			  r->status == PAGEPOOL__V1__STATUS__OK;

		bb_resp_free(r);
		if (ok)
			return c;
		bb_conn_close(c);
		if (bb_left_ms(deadline) == 0)
			fail_msg("no connection accepted within %d ms", BB_IO_TIMEOUT_MS);
		poll(NULL, 0, 1);
	}
}

/* A frame longer than max_frame: one error response, then the daemon closes. */
static void provoke_framing(struct bb *f)
{
	static const uint8_t hdr[4] = { 0, 0x10, 0, 0 };	/* 1 MiB > 4096 */
	struct bb_conn *c = open_conn(f);
	unsigned n;

	assert_int_equal(bb_conn_send(c, hdr, sizeof(hdr), BB_IO_TIMEOUT_MS), 0);
	assert_int_equal(bb_conn_wait_close(c, BB_IO_TIMEOUT_MS, &n), 0);
	assert_int_equal(n, 1);
	bb_conn_close(c);
}

/* Hold a page, send half a frame and hang up. */
static void provoke_midframe(struct bb *f)
{
	static const uint8_t part[6] = { 0, 0, 0, 9, 0x08, 0x01 };
	struct bb_conn *c = open_conn(f);
	unsigned n;

	assert_int_equal(bb_raw_alloc(c, 2, 0, 1, NULL), 1);
	assert_int_equal(bb_conn_send(c, part, sizeof(part), BB_IO_TIMEOUT_MS), 0);
	assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
	assert_int_equal(bb_conn_wait_close(c, BB_IO_TIMEOUT_MS, &n), 0);
	bb_conn_close(c);
}

/* With HOLDERS connections open: take the last slot, then `times` connects
 * that the daemon must refuse: close, at most after one error response. */
static void provoke_refused(struct bb *f, unsigned times)
{
	struct bb_conn *last = open_conn(f);

	for (unsigned i = 0; i < times; i++) {
		struct bb_conn *c = bb_raw(f);
		unsigned n;

		assert_int_equal(bb_conn_wait_close(c, BB_IO_TIMEOUT_MS, &n), 0);
		assert_true(n <= 1);
		bb_conn_close(c);
	}
	bb_conn_close(last);
}

/*
 * `times` connects to the admin socket as uid NOBODY, each read until the
 * daemon closes it, from a forked child (no exec: setuid and connect need no
 * program).  Exit codes: 0, 1 cannot become NOBODY, 2 connect failed, 3 not
 * closed within BB_IO_TIMEOUT_MS.
 */
static void provoke_admin(struct bb *f, unsigned times)
{
	char asock[160];
	pid_t kid;
	int code;

	snprintf(asock, sizeof(asock), "%s/admin.sock", f->dir);
	kid = bb_fork(f);
	if (kid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(1);
		for (unsigned i = 0; i < times; i++) {
			struct bb_conn c;

			if (bb_conn_open(&c, asock) != 0)
				_exit(2);
			if (bb_conn_wait_eof(&c, BB_IO_TIMEOUT_MS) != 0)
				_exit(3);
			bb_conn_close(&c);
		}
		_exit(0);
	}
	code = bb_kid_wait(f, kid, 60000);
	if (code != 0)
		print_error("admin connects as uid %d: child exit %d\n", NOBODY, code);
	assert_int_equal(code, 0);
}

/* ---- reading the log ----------------------------------------------------------- */

struct tally {
	unsigned lines[NCAUSES][NTEXTS];	/* printed lines of each cause */
	unsigned summaries[NCAUSES];		/* its "suppressed" lines */
};

static void tally_log(struct bb *f, struct tally *t)
{
	char *text = bb_slurp(f->log), *save = NULL;

	memset(t, 0, sizeof(*t));
	for (char *p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		for (unsigned k = 0; k < NCAUSES; k++) {
			for (unsigned j = 0; j < NTEXTS && cause_text[k][j]; j++) {
				if (!strstr(p, cause_text[k][j]))
					continue;
				if (strstr(p, "similar messages suppressed"))
					t->summaries[k]++;
				else
					t->lines[k][j]++;
			}
		}
	}
	free(text);
}

/* A libpagepool client, retried while the daemon still counts the
 * connections just closed against max_connections. */
static struct pp_client *client_retry(struct bb *f)
{
	int64_t deadline = bb_now_ms() + BB_IO_TIMEOUT_MS;
	struct pp_client *c = NULL;
	int r;

	while ((r = pp_connect(f->sock, NULL, &c)) != 0 && bb_left_ms(deadline) > 0)
		poll(NULL, 0, 1);
	if (r != 0)
		fail_msg("pp_connect: %s", pp_strerror(r));
	return c;
}

/* ---- the test ------------------------------------------------------------------- */

static void test_log_flood(void **state)
{
	struct bb *f = *state;
	struct bb_conn *hold[HOLDERS];
	bool as_root = geteuid() == 0;
	int64_t t0, t_flood, elapsed, deadline;
	unsigned bound, ncauses = as_root ? NCAUSES : ADMIN;
	struct tally t;
	bool all;

	t0 = bb_now_ms();
	bb_start(f, conf);
	/* Let uid NOBODY reach the 0666 admin socket; nothing else in here. */
	assert_int_equal(chmod(f->dir, 0711), 0);
	if (!as_root)
		print_message("not root: the admin refusal (uid %d) is left out\n", NOBODY);
	for (unsigned i = 0; i < HOLDERS; i++)
		hold[i] = open_conn(f);

	for (unsigned i = 0; i < FLOOD; i++)
		provoke_framing(f);
	for (unsigned i = 0; i < FLOOD; i++)
		provoke_midframe(f);
	provoke_refused(f, FLOOD);
	if (as_root)
		provoke_admin(f, FLOOD);
	t_flood = bb_now_ms();
	print_message("%u of each cause in %lld ms\n", FLOOD, (long long)(t_flood - t0));

	/*
	 * A cause's summary comes with its first line after its window ends
	 * (or from a periodic flush): once a window has passed since the
	 * flood, provoke each cause still without one, 5 times a second.
	 */
	deadline = t_flood + WINDOW_MS + 5000;
	for (;;) {
		tally_log(f, &t);
		all = true;
		for (unsigned k = 0; k < ncauses; k++)
			all &= t.summaries[k] > 0;
		if (all || bb_left_ms(deadline) == 0)
			break;
		poll(NULL, 0, 200);
		if (bb_now_ms() < t_flood + WINDOW_MS)
			continue;
		if (!t.summaries[FRAMING])
			provoke_framing(f);
		if (!t.summaries[MIDFRAME] || !t.summaries[GONE])
			provoke_midframe(f);
		if (!t.summaries[REFUSED])
			provoke_refused(f, 1);
		if (as_root && !t.summaries[ADMIN])
			provoke_admin(f, 1);
	}
	elapsed = bb_now_ms() - t0;

	/* Every window a cause opened printed at most a burst. */
	bound = LOG_RATELIMIT_BURST * (unsigned)(elapsed / WINDOW_MS + 2);
	for (unsigned k = 0; k < ncauses; k++) {
		unsigned sum = 0;
		bool over = false;

		for (unsigned j = 0; j < NTEXTS && cause_text[k][j]; j++) {
			print_message("\"%s\": %u lines (bound %u in %lld ms)\n", cause_text[k][j],
				      t.lines[k][j], bound, (long long)elapsed);
			sum += t.lines[k][j];
			over |= t.lines[k][j] > bound;
		}
		print_message("  and %u \"suppressed\" lines\n", t.summaries[k]);
		if (over || !sum || !t.summaries[k])
			bb_print_tail("pagepoold log", f->log, 3000);
		assert_false(over);
		assert_true(sum >= 1);
		assert_true(t.summaries[k] >= 1);
	}

	/* Still serving: a new client allocates and frees. */
	for (unsigned i = 0; i < HOLDERS; i++)
		bb_conn_close(hold[i]);
	{
		struct pp_client *c = client_retry(f);
		uint32_t pfn;
		unsigned got;

		bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &pfn, &got), 0);
		bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);
		pp_close(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_log_flood),
	};

	return cmocka_run_group_tests_name("blackbox log flood", tests, NULL, NULL);
}
