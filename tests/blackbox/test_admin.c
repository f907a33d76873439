/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_admin.c - black-box tests of pagepoold's admin socket through the
 * operators' CLI, pagepoolctl: a drain empties every worker's pcp and puts
 * the pages back in the buddy; rcu drains wake no worker (counters, and no
 * signal syscall under strace) while workqueue drains do; drains of a busy
 * worker; offline/online of a range held by a client; an unprivileged user
 * is refused; every --json output is one JSON document; idle pcps decay
 * without waking their workers; usage and unreachable-socket exit codes.
 *
 * pagepoolctl is found next to $PAGEPOOLD (the same build directory); the
 * tests are skipped when it is not there.  Its --json output is read with
 * python3 (a build dependency), never its human text.
 */
#include <sched.h>
#include <strings.h>

#include "bb.h"

#define POOL_PAGES	4096u		/* 16M of 4 KiB pages */
#define BLOCK_PAGES	1024u		/* one max-order block */
#define CTL_TIMEOUT_MS	10000
#define EX_USAGE_	64
#define EX_UNAVAIL_	69
#define EX_TEMPFAIL_	75
#define EX_NOPERM_	77

/* workers 0,1; pcps of the default pool hold at most 64 pages. */
static const char conf_fmt[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"admin_mode = %s\n"
	"workers = 0,1\n"
	"decay_interval = %u\n"
	"log_level = info\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n"
	"prefault = yes\n"
	"pcp_high = 64\n"
	"pcp_batch = 16\n";

static void start_daemon(struct bb *f, const char *admin_mode, unsigned decay)
{
	char conf[sizeof(conf_fmt) + 64];

	snprintf(conf, sizeof(conf), conf_fmt, admin_mode, decay);
	bb_start(f, conf);
}

/* ---- running programs --------------------------------------------------------- */

/*
 * Run argv (execvp) with stdout/stderr in DIR/outname, DIR/errname; as
 * uid/gid `as` (no supplementary groups) unless it is (uid_t)-1; wait at
 * most timeout_ms (the test fails past it).  The exit code (bb_exit_code).
 */
static int run_prog_as(struct bb *f, const char *const *argv, const char *outname,
		       const char *errname, int timeout_ms, uid_t as)
{
	char out[200], err[200];
	struct bb_prog p = { .argv = argv, .out = out, .err = err, .drop = as != (uid_t)-1,
			     .uid = as };

	snprintf(out, sizeof(out), "%s/%s", f->dir, outname);
	snprintf(err, sizeof(err), "%s/%s", f->dir, errname);
	return bb_kid_wait(f, bb_kid_spawn(f, &p), timeout_ms);
}

static int run_prog(struct bb *f, const char *const *argv, const char *outname,
		    const char *errname, int timeout_ms)
{
	return run_prog_as(f, argv, outname, errname, timeout_ms, (uid_t)-1);
}

static void args_text(const char *const *args, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *args && n + 2 < len; args++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", *args);
}

/*
 * pagepoolctl -s SOCK ARGS... (SOCK NULL: the fixture's admin socket), its
 * stdout in DIR/outname and stderr in DIR/ctl.err; *out and *err (may be
 * NULL) get their text (free them).  Returns the exit code.
 */
static int ctl_run(struct bb *f, const char *sock, const char *outname, char **out, char **err,
		   const char *const *args)
{
	const char *argv[32];
	char asock[160], path[200];
	int n = 0, code;

	if (!sock) {
		bb_admin_path(f, asock, sizeof(asock));
		sock = asock;
	}
	argv[n++] = bb_ctl_path_or_skip();
	argv[n++] = "-s";
	argv[n++] = sock;
	while (*args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	code = run_prog(f, argv, outname, "ctl.err", CTL_TIMEOUT_MS);
	if (out) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, outname);
		*out = bb_slurp(path);
	}
	if (err) {
		snprintf(path, sizeof(path), "%s/ctl.err", f->dir);
		*err = bb_slurp(path);
	}
	return code;
}

#define CTL(f, outname, out, err, ...) \
	ctl_run(f, NULL, outname, out, err, (const char *const[]){ __VA_ARGS__, NULL })

/* pagepoolctl ARGS must exit `want`; prints what it said otherwise. */
static void ctl_expect(struct bb *f, int want, const char *outname, const char *const *args)
{
	char *out, *err, text[512];
	int code = ctl_run(f, NULL, outname, &out, &err, args);

	if (code != want) {
		args_text(args, text, sizeof(text));
		print_error("pagepoolctl %s: exit %d, expected %d\nstdout: %.2000s\nstderr: %.2000s\n",
			    text, code, want, out, err);
	}
	free(out);
	free(err);
	assert_int_equal(code, want);
}

#define CTL_OK(f, outname, ...) \
	ctl_expect(f, 0, outname, (const char *const[]){ __VA_ARGS__, NULL })

/* The real python3 interpreter (resolved once: pyenv shims are slow). */
static const char *python(struct bb *f)
{
	static char exe[PATH_MAX];
	const char *argv[] = { "python3", "-c", "import sys; print(sys.executable)", NULL };
	char path[200], *text;

	if (exe[0])
		return exe;
	if (!bb_on_path("python3"))
		fail_msg("python3 (a build dependency) is not on PATH: needed to read --json");
	assert_int_equal(run_prog(f, argv, "py.out", "py.err", 10000), 0);
	snprintf(path, sizeof(path), "%s/py.out", f->dir);
	text = bb_slurp(path);
	text[strcspn(text, "\n")] = '\0';
	if (text[0] && access(text, X_OK) == 0)
		snprintf(exe, sizeof(exe), "%s", text);
	else
		snprintf(exe, sizeof(exe), "python3");
	free(text);
	return exe;
}

static const char py_eval[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"v = eval(sys.argv[2])\n"
	"if isinstance(v, (list, tuple)):\n"
	"    v = ' '.join(str(int(x)) for x in v)\n"
	"elif isinstance(v, bool) or isinstance(v, int):\n"
	"    v = int(v)\n"
	"print(v)\n";

/*
 * Evaluate the python expression `expr` on the JSON document in DIR/name
 * (as d); a list comes back as space-separated integers.  Fails the test,
 * showing the document, when it is not one JSON document or the expression
 * does not apply.  Returns malloc'd text without the newline.
 */
static char *jv(struct bb *f, const char *name, const char *expr)
{
	char file[200], errf[200];
	const char *argv[] = { python(f), "-c", py_eval, file, expr, NULL };
	char *text;
	int code;

	snprintf(file, sizeof(file), "%s/%s", f->dir, name);
	code = run_prog(f, argv, "py.out", "py.err", 10000);
	if (code != 0) {
		snprintf(errf, sizeof(errf), "%s/py.err", f->dir);
		bb_print_tail("pagepoolctl --json output", file, 3000);
		bb_print_tail("python", errf, 2000);
		fail_msg("reading %s from pagepoolctl's --json output failed (python exit %d)",
			 expr, code);
	}
	snprintf(errf, sizeof(errf), "%s/py.out", f->dir);
	text = bb_slurp(errf);
	text[strcspn(text, "\n")] = '\0';
	return text;
}

static uint64_t jv_u64(struct bb *f, const char *name, const char *expr)
{
	char *text = jv(f, name, expr), *end;
	uint64_t v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end)
		fail_msg("%s: not a number: \"%s\"", expr, text);
	free(text);
	return v;
}

/* A list of integers; returns how many (at most max). */
static unsigned jv_list(struct bb *f, const char *name, const char *expr, uint64_t *v,
			unsigned max)
{
	char *text = jv(f, name, expr), *p = text;
	unsigned n = 0;

	while (*p && n < max) {
		char *end;

		errno = 0;
		v[n] = strtoull(p, &end, 10);
		if (errno || end == p)
			fail_msg("%s: not a list of numbers: \"%s\"", expr, text);
		n++;
		p = end + strspn(end, " ");
	}
	free(text);
	return n;
}

/* ---- daemon state through pagepoolctl ---------------------------------------- */

#define PCPS_EXPR "[p['count'] for p in sorted(d['pcps'], key=lambda p: p['worker']) " \
		  "if p['pool'] == 'default']"
#define WORKERS_EXPR "[x for w in sorted(d['workers'], key=lambda w: w['worker']) " \
		     "for x in (w['wakeups'], w['loops'])]"
#define POOL(field) "[p['" field "'] for p in d['pools'] if p['name'] == 'default'][0]"

/* stats --json: default pool's pcp count per worker (2) and the workers'
 * wakeups and loops (w0 wakeups, w0 loops, w1 wakeups, w1 loops). */
static void read_stats(struct bb *f, uint64_t pcp[2], uint64_t wl[4])
{
	CTL_OK(f, "stats.json", "--json", "stats");
	if (pcp)
		assert_int_equal(jv_list(f, "stats.json", PCPS_EXPR, pcp, 2), 2);
	if (wl)
		assert_int_equal(jv_list(f, "stats.json", WORKERS_EXPR, wl, 4), 4);
}

/* The workers' counters once they have stopped moving (two reads 50 ms
 * apart agree); fails if they are still changing after 3 s. */
static void settled_workers(struct bb *f, uint64_t wl[4])
{
	int64_t deadline = bb_now_ms() + 3000;
	uint64_t cur[4];

	read_stats(f, NULL, wl);
	for (;;) {
		poll(NULL, 0, 50);
		read_stats(f, NULL, cur);
		if (memcmp(cur, wl, sizeof(cur)) == 0)
			return;
		if (bb_left_ms(deadline) == 0)
			fail_msg("workers' counters still changing after 3 s with idle clients");
		memcpy(wl, cur, sizeof(cur));
	}
}

struct pool_status {
	uint64_t total, free, pcp, allocated, isolated, offline, resident;
};

static struct pool_status read_status(struct bb *f)
{
	struct pool_status s;
	uint64_t v[7];

	CTL_OK(f, "status.json", "--json", "status");
	assert_int_equal(jv_list(f, "status.json",
				 "[x for p in d['pools'] if p['name'] == 'default' for x in "
				 "(p['total'], p['free'], p['pcp'], p['allocated'], p['isolated'], "
				 "p['offline'], p['resident_bytes'])]", v, 7), 7);
	s.total = v[0];
	s.free = v[1];
	s.pcp = v[2];
	s.allocated = v[3];
	s.isolated = v[4];
	s.offline = v[5];
	s.resident = v[6];
	return s;
}

/* ---- clients ------------------------------------------------------------------ */

/* Connect until both workers serve one of our clients: cw[w] is worker w's. */
static void clients_on_both_workers(struct bb *f, struct pp_client *cw[2])
{
	cw[0] = cw[1] = NULL;
	for (unsigned i = 0; i < 8 && (!cw[0] || !cw[1]); i++) {
		struct pp_client *c = bb_client(f, NULL);
		uint32_t w = pp_info(c)->worker;

		assert_in_range(w, 0, 1);
		if (!cw[w])
			cw[w] = c;
	}
	if (!cw[0] || !cw[1])
		fail_msg("8 connections and worker %d still has none (Welcome.worker)",
			 cw[0] ? 1 : 0);
}

/* Allocate `nalloc` single pages and free all but `keep`: the worker's pcp
 * ends up holding pages (pcp_high 64, batch 16). */
static void fill_pcp(struct pp_client *c, unsigned nalloc, unsigned keep)
{
	uint32_t pfns[256];
	unsigned got;

	assert_true(nalloc <= 256 && keep <= nalloc);
	bb_assert_rc(c, pp_alloc(c, 0, nalloc, 0, pfns, &got), 0);
	assert_int_equal(got, nalloc);
	bb_assert_rc(c, pp_free(c, pfns + keep, nalloc - keep, NULL), 0);
}

#define TEST_START() int64_t t_start = bb_now_ms()
#define TEST_DONE(name) \
	print_message("%s: passed in %lld ms\n", name, (long long)(bb_now_ms() - t_start))

/* ---- 1. drain end to end -------------------------------------------------------- */

static void test_drain_end_to_end(void **state)
{
	struct bb *f = *state;
	struct pp_client *cw[2];
	uint64_t pcp[2], pcp_stats[2], drained, sum, total_free;
	uint64_t blocks[16];
	unsigned nb;
	struct pool_status st;
	TEST_START();

	bb_ctl_path_or_skip();
	bb_need_cpus_0_1();
	start_daemon(f, "0600", 0);
	clients_on_both_workers(f, cw);
	fill_pcp(cw[0], 100, 10);
	fill_pcp(cw[1], 100, 10);

	/* pcp --json and stats --json agree: both workers hold pages. */
	CTL_OK(f, "pcp.json", "--json", "pcp");
	assert_int_equal(jv_list(f, "pcp.json",
				 "[s['count'] for p in d['pools'] if p['name'] == 'default' for s in "
				 "sorted(p['pagesets'], key=lambda s: s['worker'])]", pcp, 2), 2);
	read_stats(f, pcp_stats, NULL);
	print_message("pcp counts before the drain: worker 0 %llu, worker 1 %llu\n",
		      (unsigned long long)pcp[0], (unsigned long long)pcp[1]);
	assert_int_equal(pcp_stats[0], pcp[0]);
	assert_int_equal(pcp_stats[1], pcp[1]);
	assert_true(pcp[0] > 0);
	assert_true(pcp[1] > 0);
	st = read_status(f);
	assert_int_equal(st.pcp, pcp[0] + pcp[1]);
	assert_int_equal(st.allocated, 20);

	CTL_OK(f, "drain.json", "--json", "drain");
	drained = jv_u64(f, "drain.json", "d['pages']");
	print_message("drain: %llu pages\n", (unsigned long long)drained);
	assert_int_equal(drained, pcp[0] + pcp[1]);

	read_stats(f, pcp, NULL);
	assert_int_equal(pcp[0], 0);
	assert_int_equal(pcp[1], 0);
	st = read_status(f);
	assert_int_equal(st.total, POOL_PAGES);
	assert_int_equal(st.pcp, 0);
	assert_int_equal(st.allocated, 20);
	assert_int_equal(st.isolated, 0);
	assert_int_equal(st.offline, 0);
	assert_int_equal(st.free, st.total - st.allocated);

	/* buddyinfo: the free blocks add up to the pool's free pages. */
	CTL_OK(f, "buddy.json", "--json", "buddyinfo");
	nb = jv_list(f, "buddy.json",
		     "[p['free_blocks'] for p in d['pools'] if p['name'] == 'default'][0]", blocks,
		     16);
	assert_int_equal(nb, 11);
	total_free = 0;
	for (unsigned o = 0; o < nb; o++)
		total_free += blocks[o] << o;
	sum = jv_u64(f, "buddy.json", "sum(c << o for p in d['pools'] if p['name'] == 'default' "
		     "for o, c in enumerate(p['free_blocks']))");
	assert_int_equal(sum, total_free);
	if (total_free != st.free)
		print_error("buddyinfo free blocks hold %llu pages, status says free %llu\n",
			    (unsigned long long)total_free, (unsigned long long)st.free);
	assert_int_equal(total_free, st.free);
	TEST_DONE("drain end to end");
}

/* ---- 2. rcu drains wake nobody; workqueue drains do ------------------------------ */

#define NDRAINS 100

/* strace -f on the daemon, watching the signal-sending syscalls; t->on
 * false (with a message) when strace is missing or could not attach. */
static void strace_start(struct bb *f, struct bb_trace *t)
{
	memset(t, 0, sizeof(*t));
	if (!bb_on_path("strace")) {
		print_message("strace is not on PATH: skipping the no-signal-syscall check\n");
		return;
	}
	bb_trace_start(f, t, f->pid,
		       "trace=tgkill,tkill,rt_sigqueueinfo,rt_tgsigqueueinfo,kill", "pagepoold");
	if (!t->on)
		print_message("skipping the no-signal-syscall check\n");
}

/* Detach strace; assert it saw none of the signal-sending syscalls. */
static void strace_stop_check(struct bb *f, struct bb_trace *t)
{
	static const char *const calls[] = { "kill(", "sigqueueinfo(", NULL };
	static const char *const signals[] = { "--- SIG", NULL };
	unsigned bad;
	int code;

	if (!t->on)
		return;
	bad = bb_trace_stop(f, t, calls, signals, &code);
	print_message("strace exit %d; %u signal-sending syscalls during the drains\n", code,
		      bad);
	if (bad)
		bb_print_tail("strace", t->out, 4000);
	assert_int_equal(bad, 0);
}

static void run_drains(struct bb *f, unsigned n, const char *mode, uint64_t *pages)
{
	*pages = 0;
	for (unsigned i = 0; i < n; i++) {
		char *out = NULL, *err = NULL;
		int code = CTL(f, "drain.json", &out, &err, "--json", "drain", "--mode", mode,
			       "--force");

		if (code != 0) {
			print_error("drain %u/%u (--mode %s --force): exit %d, expected 0\n"
				    "stdout: %.1000s\nstderr: %.1000s\n", i + 1, n, mode, code, out,
				    err);
			free(out);
			free(err);
			fail();
		}
		free(out);
		free(err);
		if (i == 0)
			*pages = jv_u64(f, "drain.json", "d['pages']");
	}
}

static void test_rcu_drain_wakes_nobody(void **state)
{
	struct bb *f = *state;
	struct pp_client *cw[2];
	uint64_t pcp[2], before[4], after[4], pages;
	struct bb_trace t;
	TEST_START();

	bb_ctl_path_or_skip();
	bb_need_cpus_0_1();
	start_daemon(f, "0600", 0);
	clients_on_both_workers(f, cw);
	fill_pcp(cw[0], 100, 0);
	fill_pcp(cw[1], 100, 0);
	read_stats(f, pcp, NULL);
	assert_true(pcp[0] > 0);
	assert_true(pcp[1] > 0);

	strace_start(f, &t);
	settled_workers(f, before);
	run_drains(f, NDRAINS, "rcu", &pages);
	read_stats(f, pcp, after);
	print_message("rcu: first drain %llu pages; wakeups %llu->%llu, %llu->%llu; "
		      "loops %llu->%llu, %llu->%llu\n", (unsigned long long)pages,
		      (unsigned long long)before[0], (unsigned long long)after[0],
		      (unsigned long long)before[2], (unsigned long long)after[2],
		      (unsigned long long)before[1], (unsigned long long)after[1],
		      (unsigned long long)before[3], (unsigned long long)after[3]);
	assert_true(pages > 0);
	assert_int_equal(pcp[0], 0);
	assert_int_equal(pcp[1], 0);
	for (unsigned w = 0; w < 2; w++) {
		if (after[2 * w] != before[2 * w] || after[2 * w + 1] != before[2 * w + 1])
			print_error("worker %u disturbed by %d rcu drains: wakeups %llu -> %llu, "
				    "loops %llu -> %llu (expected unchanged)\n", w, NDRAINS,
				    (unsigned long long)before[2 * w],
				    (unsigned long long)after[2 * w],
				    (unsigned long long)before[2 * w + 1],
				    (unsigned long long)after[2 * w + 1]);
	}
	assert_memory_equal(after, before, sizeof(before));
	strace_stop_check(f, &t);

	/* workqueue: every drain asks the workers to drain themselves. */
	fill_pcp(cw[0], 100, 0);
	fill_pcp(cw[1], 100, 0);
	read_stats(f, pcp, NULL);
	assert_true(pcp[0] > 0);
	assert_true(pcp[1] > 0);
	settled_workers(f, before);
	run_drains(f, NDRAINS, "workqueue", &pages);
	read_stats(f, pcp, after);
	print_message("workqueue: first drain %llu pages; wakeups %llu->%llu, %llu->%llu\n",
		      (unsigned long long)pages, (unsigned long long)before[0],
		      (unsigned long long)after[0], (unsigned long long)before[2],
		      (unsigned long long)after[2]);
	assert_true(pages > 0);
	assert_int_equal(pcp[0], 0);
	assert_int_equal(pcp[1], 0);
	assert_true(after[0] > before[0]);
	assert_true(after[2] > before[2]);
	TEST_DONE("rcu drains wake nobody");
}

/* ---- 3. drains of a busy worker --------------------------------------------------- */

/*
 * Forked: alloc/free in a loop on its own connection until `stop` reads EOF
 * (at most 10 s).  Reports its worker on `ready` first.  Exit 0, or 10 no
 * connection, 11 alloc failed, 12 free failed, 13 short alloc, 14 pfn out of
 * the arena, 15 no round done.
 */
static int hammer(const char *sock, int ready, int stop)
{
	struct pp_client *c = NULL;
	int64_t end = bb_now_ms() + 10000;
	unsigned long rounds = 0;
	uint32_t pfns[16];
	uint8_t w;
	int r;

	/* Busy, but leave the CPU to the drains' pagepoolctl processes first. */
	if (nice(10) < 0)
		return 10;
	r = pp_connect(sock, NULL, &c);
	if (r != 0) {
		dprintf(2, "hammer: pp_connect: %s\n", pp_strerror(r));
		return 10;
	}
	w = (uint8_t)pp_info(c)->worker;
	if (write(ready, &w, 1) != 1)
		return 10;
	close(ready);
	for (;;) {
		struct pollfd pf = { .fd = stop, .events = POLLIN };
		unsigned order = rounds % 4, count = 1 + rounds % 16, got;

		if ((rounds & 63) == 0 && (poll(&pf, 1, 0) > 0 || bb_now_ms() > end))
			break;
		r = pp_alloc(c, order, count, 0, pfns, &got);
		if (r != 0) {
			dprintf(2, "hammer: round %lu: pp_alloc(order %u, count %u): %s (%s)\n",
				rounds, order, count, pp_strerror(r), pp_last_error(c));
			return 11;
		}
		if (got != count)
			return 13;
		for (unsigned i = 0; i < got; i++) {
			uint8_t *p = pp_page(c, pfns[i]);

			if (!p || (pfns[i] & ((1u << order) - 1)))
				return 14;
			p[0] = (uint8_t)rounds;
		}
		r = pp_free(c, pfns, got, NULL);
		if (r != 0) {
			dprintf(2, "hammer: round %lu: pp_free: %s (%s)\n", rounds, pp_strerror(r),
				pp_last_error(c));
			return 12;
		}
		rounds++;
	}
	pp_close(c);
	dprintf(2, "hammer: %lu alloc/free rounds\n", rounds);
	return rounds ? 0 : 15;
}

#define BUSY_DRAINS 200

static void test_drain_busy_workers(void **state)
{
	struct bb *f = *state;
	int ready[2], stop[2];
	pid_t kids[2];
	bool seen[2] = { false, false };
	uint64_t total = 0;
	int64_t t_drains, worst = 0;
	uint64_t worst_us = 0;
	unsigned busy_end = 0;		/* drains done when a busy client ended */
	struct pool_status st;
	TEST_START();

	bb_ctl_path_or_skip();
	bb_need_cpus_0_1();
	start_daemon(f, "0600", 0);
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
	for (unsigned i = 0; i < 2; i++) {
		kids[i] = bb_fork(f);
		if (kids[i] == 0) {
			close(ready[0]);
			close(stop[1]);
			_exit(hammer(f->sock, ready[1], stop[0]));
		}
	}
	close(ready[1]);
	close(stop[0]);
	for (unsigned i = 0; i < 2; i++) {
		struct pollfd pf = { .fd = ready[0], .events = POLLIN };
		uint8_t w = 2;

		if (poll(&pf, 1, 5000) <= 0 || read(ready[0], &w, 1) != 1) {
			close(ready[0]);
			close(stop[1]);
			fail_msg("hammer child %u did not connect within 5 s", i);
		}
		if (w < 2)
			seen[w] = true;
	}
	close(ready[0]);
	print_message("busy clients on workers:%s%s\n", seen[0] ? " 0" : "", seen[1] ? " 1" : "");
	t_drains = bb_now_ms();

	for (unsigned i = 0; i < BUSY_DRAINS; i++) {
		char *out = NULL, *err = NULL;
		int64_t t1 = bb_now_ms();
		int code = CTL(f, "drain.json", &out, &err, "--json", "drain", "--mode", "rcu");
		const char *p = strstr(out, "\"pages\"");

		t1 = bb_now_ms() - t1;
		if (t1 > worst)
			worst = t1;
		if (code != 0 || !p) {
			print_error("drain %u/%u under load: exit %d, expected 0\nstdout: %.1000s\n"
				    "stderr: %.1000s\n", i + 1, BUSY_DRAINS, code, out, err);
			free(out);
			free(err);
			close(stop[1]);
			fail();
		}
		/* Tiny extraction: "pages": N */
		p += strlen("\"pages\"");
		p += strspn(p, " \t\n:");
		total += strtoull(p, NULL, 10);
		p = strstr(out, "\"usec\"");
		if (p) {
			uint64_t us;

			p += strlen("\"usec\"");
			p += strspn(p, " \t\n:");
			us = strtoull(p, NULL, 10);
			if (us > worst_us)
				worst_us = us;
		}
		free(out);
		free(err);
		if (!busy_end) {
			for (unsigned k = 0; k < 2; k++) {
				siginfo_t si = { 0 };

				if (waitid(P_PID, (id_t)kids[k], &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
				    si.si_pid == kids[k])
					busy_end = i + 1;
			}
		}
	}
	close(stop[1]);
	if (busy_end)
		print_message("note: a busy client ended (its 10 s cap) after drain %u of %d\n",
			      busy_end, BUSY_DRAINS);
	print_message("%d drains took %lld ms (slowest %lld ms; slowest in the daemon %llu us)\n",
		      BUSY_DRAINS, (long long)(bb_now_ms() - t_drains), (long long)worst,
		      (unsigned long long)worst_us);
	for (unsigned i = 0; i < 2; i++) {
		int code = bb_kid_wait(f, kids[i], 15000);

		if (code != 0)
			print_error("hammer child %u: exit %d (10 connect, 11 alloc failed, 12 free "
				    "failed, 13 short alloc, 14 bad pfn, 15 no round)\n", i, code);
		assert_int_equal(code, 0);
	}
	print_message("%d rcu drains under load; drained %llu pages in all\n", BUSY_DRAINS,
		      (unsigned long long)total);
	/* Everything came back. */
	bb_expect_allocated(bb_client(f, NULL), 0, 2000);
	st = read_status(f);
	assert_int_equal(st.allocated, 0);
	assert_int_equal(st.free + st.pcp, st.total);
	TEST_DONE("drains of busy workers");
}

/* ---- 4. offline / online ---------------------------------------------------------- */

/* Is `num` in `text` as a whole number (not part of a longer one)? */
static bool has_number(const char *text, unsigned long long num)
{
	char want[32];
	size_t len = (size_t)snprintf(want, sizeof(want), "%llu", num);

	for (const char *p = strstr(text, want); p; p = strstr(p + 1, want)) {
		bool left = p == text || p[-1] < '0' || p[-1] > '9';
		bool right = p[len] < '0' || p[len] > '9';

		if (left && right)
			return true;
	}
	return false;
}

static void test_offline_online(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	static uint32_t pfns[POOL_PAGES];
	uint32_t blk, start;
	unsigned got, n = 0;
	char s_start[16], s_count[16], *out, *err;
	struct pool_status st0, st;
	int code;
	TEST_START();

	bb_ctl_path_or_skip();
	bb_need_cpus_0_1();
	start_daemon(f, "0600", 0);
	c = bb_client(f, NULL);
	st0 = read_status(f);
	print_message("fresh prefaulted pool: resident %llu bytes\n",
		      (unsigned long long)st0.resident);

	/* A client holds the whole max-order block containing its pfn. */
	bb_assert_rc(c, pp_alloc(c, 10, 1, 0, &blk, &got), 0);
	assert_int_equal(got, 1);
	start = blk & ~(BLOCK_PAGES - 1);
	assert_int_equal(start, blk);
	memset(pp_page(c, blk), 0xa5, 4096);
	snprintf(s_start, sizeof(s_start), "%u", start);
	snprintf(s_count, sizeof(s_count), "%u", BLOCK_PAGES);
	print_message("client %llu (pid %d) holds pages %u..%u\n",
		      (unsigned long long)pp_info(c)->client_id, (int)getpid(), start,
		      start + BLOCK_PAGES - 1);

	code = CTL(f, "offline.out", &out, &err, "offline", "default", s_start, s_count,
		   "--timeout", "0");
	print_message("offline --timeout 0 said on stderr:\n%s", err);
	if (code != EX_TEMPFAIL_)
		print_error("offline of a held range, --timeout 0: exit %d, expected %d (EBUSY)\n"
			    "stdout: %s\n", code, EX_TEMPFAIL_, out);
	assert_int_equal(code, EX_TEMPFAIL_);
	{
		char idtext[48];
		bool named;

		snprintf(idtext, sizeof(idtext), "client %llu",
			 (unsigned long long)pp_info(c)->client_id);
		named = has_number(err, (unsigned long long)getpid()) || strstr(err, idtext);
		if (!named)
			print_error("offline's stderr names neither the holder's pid %d nor \"%s\"\n",
				    (int)getpid(), idtext);
		assert_true(named);
	}
	free(out);
	free(err);

	/* The holder lets go: offline completes. */
	bb_assert_rc(c, pp_free(c, &blk, 1, NULL), 0);
	code = CTL(f, "offline.out", &out, &err, "offline", "default", s_start, s_count,
		   "--timeout", "5");
	if (code != 0)
		print_error("offline after the free, --timeout 5: exit %d, expected 0\n"
			    "stdout: %s\nstderr: %s\n", code, out, err);
	free(out);
	free(err);
	assert_int_equal(code, 0);

	st = read_status(f);
	print_message("after offline: offline %llu, isolated %llu, resident %llu -> %llu bytes\n",
		      (unsigned long long)st.offline, (unsigned long long)st.isolated,
		      (unsigned long long)st0.resident, (unsigned long long)st.resident);
	assert_int_equal(st.offline, BLOCK_PAGES);
	assert_int_equal(st.isolated, 0);
	if (!(st.resident + (4u << 20) <= st0.resident))
		print_error("resident_bytes %llu -> %llu: dropped by less than 4 MiB\n",
			    (unsigned long long)st0.resident, (unsigned long long)st.resident);
	assert_true(st.resident + (4u << 20) <= st0.resident);

	/* The rest of the pool can be taken, never a page of the range. */
	for (;;) {
		int r;

		assert_true(n < POOL_PAGES);
		r = pp_alloc(c, 0, BLOCK_PAGES, PP_PARTIAL, pfns + n, &got);
		if (r == -ENOMEM)
			break;
		bb_assert_rc(c, r, 0);
		n += got;
	}
	print_message("allocated %u pages with the range offline\n", n);
	for (unsigned i = 0; i < n; i++) {
		if (pfns[i] >= start && pfns[i] < start + BLOCK_PAGES)
			fail_msg("pfn %u handed out while pages %u..%u are offline", pfns[i], start,
				 start + BLOCK_PAGES - 1);
	}
	assert_int_equal(n, POOL_PAGES - BLOCK_PAGES);
	for (unsigned i = 0; i < n; i += BLOCK_PAGES)
		bb_assert_rc(c, pp_free(c, pfns + i, n - i < BLOCK_PAGES ? n - i : BLOCK_PAGES,
					NULL), 0);

	/* Online: the range is back and can be allocated again. */
	code = CTL(f, "online.out", &out, &err, "online", "default", s_start, s_count);
	if (code != 0)
		print_error("online: exit %d, expected 0\nstdout: %s\nstderr: %s\n", code, out, err);
	free(out);
	free(err);
	assert_int_equal(code, 0);
	st = read_status(f);
	assert_int_equal(st.offline, 0);
	assert_int_equal(st.isolated, 0);
	assert_int_equal(st.allocated, 0);
	{
		uint32_t blocks[4];
		bool back = false;

		bb_assert_rc(c, pp_alloc(c, 10, 4, PP_PARTIAL, blocks, &got), 0);
		for (unsigned i = 0; i < got; i++)
			back |= blocks[i] == start;
		if (!back)
			print_error("after online: %u order-10 blocks allocated, none at pfn %u\n", got,
				    start);
		assert_true(back);
		/* And its pages are usable. */
		memset(pp_page(c, start), 0x5a, (size_t)BLOCK_PAGES * 4096);
		bb_assert_rc(c, pp_free(c, blocks, got, NULL), 0);
	}
	TEST_DONE("offline/online");
}

/* ---- 5. unprivileged user ------------------------------------------------------- */

static void test_unprivileged_refused(void **state)
{
	struct bb *f = *state;
	char asock[160], err[200], ctl[200], bad[PATH_MAX], *text;
	struct stat sb;
	int code;
	TEST_START();

	bb_ctl_path_or_skip();
	if (geteuid() != 0) {
		print_message("not running as root: skipping the unprivileged-user test\n");
		skip();
	}
	bb_need_cpus_0_1();
	start_daemon(f, "0666", 0);
	bb_admin_path(f, asock, sizeof(asock));
	assert_int_equal(stat(asock, &sb), 0);
	if ((sb.st_mode & 0777) != 0666)
		fail_msg("admin socket mode %04o, admin_mode = 0666 asked", sb.st_mode & 0777);
	/*
	 * nobody runs a copy of pagepoolctl in the fixture's directory, next to
	 * the socket: the build tree may be where nobody cannot go (a clone
	 * inside a 0700 `mktemp -d`, or under /root), and the refusal must be
	 * the daemon's, not exec's.  pagepoolctl needs no library of the build
	 * (only system ones), so the binary alone does; running its --help as
	 * nobody first tells the two apart.  /tmp/ppbb-* is 0700 from mkdtemp:
	 * 0711 lets nobody reach the socket and the copy, and list nothing.
	 */
	snprintf(ctl, sizeof(ctl), "%s/pagepoolctl", f->dir);
	assert_int_equal(bb_copy_file(bb_ctl_path_or_skip(), ctl, 0755), 0);
	assert_int_equal(chmod(f->dir, 0711), 0);
	if (!bb_others_can_reach(f->dir, bad, sizeof(bad)))
		fail_msg("%s is not searchable by others: nobody cannot reach %s", bad, f->dir);
	snprintf(err, sizeof(err), "%s/nobody.err", f->dir);
	code = run_prog_as(f, (const char *const[]){ ctl, "--help", NULL }, "nobody.out",
			   "nobody.err", CTL_TIMEOUT_MS, 65534);
	if (code != 0) {
		text = bb_slurp(err);
		fail_msg("nobody cannot run %s --help (exit %d): %s", ctl, code, text);
	}

	code = run_prog_as(f, (const char *const[]){ ctl, "-s", asock, "status", NULL },
			   "nobody.out", "nobody.err", CTL_TIMEOUT_MS, 65534);
	text = bb_slurp(err);
	print_message("pagepoolctl status as nobody: exit %d, stderr: %s", code, text);
	if (code != EX_NOPERM_)
		print_error("pagepoolctl status as uid 65534: exit %d, expected %d\n", code,
			    EX_NOPERM_);
	assert_int_equal(code, EX_NOPERM_);
	if (!strcasestr(text, "permission"))
		print_error("stderr does not mention permission: %s\n", text);
	assert_non_null(strcasestr(text, "permission"));
	free(text);
	text = bb_slurp(f->log);
	if (!strstr(text, "65534"))
		print_message("note: the daemon's log does not mention uid 65534\n");
	free(text);

	/* The daemon keeps serving root and clients. */
	CTL_OK(f, "status.out", "status");
	{
		struct pp_client *c = bb_client(f, NULL);
		uint32_t pfn;
		unsigned got;

		bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &pfn, &got), 0);
		bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);
	}
	TEST_DONE("unprivileged user refused");
}

/* ---- 6. every --json output is one JSON document ----------------------------------- */

static void test_json_outputs(void **state)
{
	static const char *const cmds[] = { "status", "stats", "buddyinfo", "pcp", "clients",
					    "drain", "trim" };
	struct bb *f = *state;
	struct pp_client *c;
	uint32_t pfns[8];
	unsigned got;
	TEST_START();

	bb_ctl_path_or_skip();
	bb_need_cpus_0_1();
	start_daemon(f, "0600", 0);
	c = bb_client(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, 8, 0, pfns, &got), 0);
	bb_assert_rc(c, pp_free(c, pfns, 4, NULL), 0);

	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char name[32], *type;

		snprintf(name, sizeof(name), "%s.json", cmds[i]);
		CTL_OK(f, name, "--json", cmds[i]);
		/* json.load refuses anything but exactly one document. */
		type = jv(f, name, "type(d).__name__");
		print_message("%s --json: one JSON %s\n", cmds[i], type);
		free(type);
	}
	/* clients lists our connection with its id and pid. */
	{
		char expr[200];

		snprintf(expr, sizeof(expr),
			 "len([x for x in d['clients'] if x['id'] == %llu and x['pid'] == %d and "
			 "x['pages'] == 4])",
			 (unsigned long long)pp_info(c)->client_id, (int)getpid());
		assert_int_equal(jv_u64(f, "clients.json", expr), 1);
	}
	TEST_DONE("--json outputs");
}

/* ---- 7. idle decay ---------------------------------------------------------------- */

static void test_idle_decay(void **state)
{
	struct bb *f = *state;
	struct pp_client *cw[2];
	uint64_t pcp[2], before[4], after[4], drains0, drains1;
	int64_t t0, deadline;
	TEST_START();

	bb_ctl_path_or_skip();
	bb_need_cpus_0_1();
	start_daemon(f, "0600", 1);
	clients_on_both_workers(f, cw);
	/* Counted before the pcps fill: on a slow (sanitizer) build a decay
	 * tick may drain them before the workers have settled. */
	CTL_OK(f, "stats0.json", "--json", "stats");
	drains0 = jv_u64(f, "stats0.json", "sum(p['drains'] for p in d['pcps'])");
	fill_pcp(cw[0], 100, 0);
	fill_pcp(cw[1], 100, 0);
	t0 = bb_now_ms();
	settled_workers(f, before);
	read_stats(f, pcp, NULL);
	print_message("idle clients, pcp counts %llu and %llu\n", (unsigned long long)pcp[0],
		      (unsigned long long)pcp[1]);

	/* Two ticks would do; the margin is for a loaded CI machine. */
	deadline = t0 + 20000;
	for (;;) {
		read_stats(f, pcp, after);
		if (pcp[0] == 0 && pcp[1] == 0)
			break;
		if (bb_left_ms(deadline) == 0)
			fail_msg("pcp counts still %llu and %llu 20 s after the clients went idle "
				 "(decay_interval = 1)", (unsigned long long)pcp[0],
				 (unsigned long long)pcp[1]);
		poll(NULL, 0, 100);
	}
	drains1 = jv_u64(f, "stats.json", "sum(p['drains'] for p in d['pcps'])");
	print_message("pcps empty %lld ms after the clients went idle; drains %llu -> %llu; "
		      "wakeups %llu->%llu, %llu->%llu\n", (long long)(bb_now_ms() - t0),
		      (unsigned long long)drains0, (unsigned long long)drains1,
		      (unsigned long long)before[0], (unsigned long long)after[0],
		      (unsigned long long)before[2], (unsigned long long)after[2]);
	assert_true(drains1 > drains0);
	if (after[0] != before[0] || after[2] != before[2])
		print_error("decay woke the workers: wakeups %llu -> %llu, %llu -> %llu\n",
			    (unsigned long long)before[0], (unsigned long long)after[0],
			    (unsigned long long)before[2], (unsigned long long)after[2]);
	assert_int_equal(after[0], before[0]);
	assert_int_equal(after[2], before[2]);
	{
		struct pool_status st = read_status(f);

		assert_int_equal(st.pcp, 0);
		assert_int_equal(st.free, st.total - st.allocated);
	}
	TEST_DONE("idle decay");
}

/* ---- 8. usage errors ---------------------------------------------------------------- */

static void test_usage_errors(void **state)
{
	struct bb *f = *state;
	char *out, *err;
	int code;
	TEST_START();

	bb_ctl_path_or_skip();
	bb_need_cpus_0_1();
	start_daemon(f, "0600", 0);

	ctl_expect(f, EX_USAGE_, "u1.out", (const char *const[]){ "frobnicate", NULL });
	ctl_expect(f, EX_USAGE_, "u2.out",
		   (const char *const[]){ "offline", "default", "abc", "1024", NULL });
	code = ctl_run(f, "/nonexistent", "u3.out", &out, &err,
		       (const char *const[]){ "status", NULL });
	if (code != EX_UNAVAIL_)
		print_error("pagepoolctl -s /nonexistent status: exit %d, expected %d\nstderr: %s\n",
			    code, EX_UNAVAIL_, err);
	free(out);
	free(err);
	assert_int_equal(code, EX_UNAVAIL_);
	/* The daemon was there all along. */
	CTL_OK(f, "status.out", "status");
	TEST_DONE("usage errors");
}

/* ---- verify and reload ------------------------------------------------------- */

/* verify parks the workers, checks every invariant with live clients holding
 * pages, and lets the workers go: they serve again afterwards. */
static void test_verify_live(void **state)
{
	struct bb *f = *state;
	struct pp_client *cw[2];
	uint32_t pfns[8];
	unsigned got;
	char *out;

	bb_need_cpus_0_1();
	start_daemon(f, "0600", 0);
	clients_on_both_workers(f, cw);
	for (int i = 0; i < 2; i++) {
		fill_pcp(cw[i], 24, 4);
		assert_int_equal(pp_alloc(cw[i], 2, 2, 0, pfns, &got), 0);
	}
	assert_int_equal(CTL(f, "verify.txt", &out, NULL, "verify"), 0);
	assert_non_null(strstr(out, "pool default: ok"));
	free(out);
	CTL_OK(f, "verify.json", "--json", "verify");
	assert_int_equal(jv_u64(f, "verify.json", "all(p['ok'] for p in d['pools'])"), 1);
	assert_int_equal(jv_u64(f, "verify.json", "len(d['pools'])"), 1);
	/* The workers were released: both still serve. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pp_alloc(cw[i], 0, 4, 0, pfns, &got), 0);
		assert_int_equal(pp_free(cw[i], pfns, got, NULL), 0);
	}
	/* An unknown pool is an error, not a pass. */
	assert_int_equal(CTL(f, "verify.txt", NULL, NULL, "verify", "--pool", "nope"), 65);
}

/* Replace `from` with `to` in the daemon's config file. */
static void conf_edit(struct bb *f, const char *from, const char *to)
{
	char *text = bb_slurp(f->conf), *at = strstr(text, from), *buf;
	size_t len = strlen(text) + strlen(to) + 1;

	assert_non_null(at);
	buf = malloc(len);
	assert_non_null(buf);
	snprintf(buf, len, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	bb_write_file(f->conf, buf);
	free(buf);
	free(text);
}

#define HIGHS_EXPR "[p['high'] for p in sorted(d['pcps'], key=lambda p: p['worker'])]"

#define QUOTA_A "quota_pages = 100\nquota_uid_pages = 100000"
#define QUOTA_B "quota_pages = 100000\nquota_uid_pages = 100"

/*
 * Child of test_reload_quotas: hello and ask for 150 pages, again and again,
 * until the parent closes `stop`.  Either reloaded set refuses 150 pages
 * (A by the connection quota, B by the uid quota); only a request that saw
 * one quota of each set could get them.  Exit 0, 1 on such a success, 2 on
 * any other error.
 */
static int reload_quotas_child(const char *sock, int stop)
{
	uint32_t pfns[150];
	unsigned got;

	for (unsigned round = 0; round < 100000; round++) {
		struct pollfd p = { .fd = stop, .events = POLLIN };
		struct pp_client *c;

		if (poll(&p, 1, 0) != 0)
			return 0;
		if (pp_connect(sock, NULL, &c) != 0)
			return 2;
		for (int i = 0; i < 20; i++) {
			int r = pp_alloc(c, 0, 150, 0, pfns, &got);

			if (r != -EDQUOT) {
				pp_close(c);
				return r == 0 ? 1 : 2;
			}
		}
		pp_close(c);
	}
	return 0;
}

/* Reloads publish the connection and uid quotas as one set: requests racing
 * 40 reloads never see one of each, and the welcome names the new quota. */
static void test_reload_quotas(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	int stop[2];
	pid_t kid;

	bb_need_cpus_0_1();
	start_daemon(f, "0600", 0);
	conf_edit(f, "pcp_batch = 16", "pcp_batch = 16\n" QUOTA_A);
	CTL_OK(f, "reload.txt", "reload");
	assert_int_equal(pipe(stop), 0);
	kid = bb_fork(f);
	if (kid == 0) {
		close(stop[1]);
		_exit(reload_quotas_child(f->sock, stop[0]));
	}
	close(stop[0]);
	for (int i = 0; i < 20; i++) {
		conf_edit(f, QUOTA_A, QUOTA_B);
		CTL_OK(f, "reload.txt", "reload");
		conf_edit(f, QUOTA_B, QUOTA_A);
		CTL_OK(f, "reload.txt", "reload");
	}
	close(stop[1]);
	assert_int_equal(bb_kid_wait(f, kid, 10000), 0);
	c = bb_client(f, NULL);
	assert_int_equal(pp_info(c)->quota_pages, 100);
	conf_edit(f, QUOTA_A, QUOTA_B);
	CTL_OK(f, "reload.txt", "reload");
	bb_client_close(f, c);
	c = bb_client(f, NULL);
	assert_int_equal(pp_info(c)->quota_pages, 100000);
}

/* reload applies run-time tunables, refuses a pool size change as a whole,
 * and SIGHUP does the same as the command. */
static void test_reload(void **state)
{
	struct bb *f = *state;
	uint64_t highs[2];
	char *out, *err;
	int64_t deadline;

	bb_need_cpus_0_1();
	start_daemon(f, "0600", 0);
	conf_edit(f, "pcp_high = 64\npcp_batch = 16", "pcp_high = 128\npcp_batch = 32");
	assert_int_equal(CTL(f, "reload.txt", &out, NULL, "reload"), 0);
	assert_non_null(strstr(out, "high 128 batch 32"));
	free(out);
	CTL_OK(f, "stats.json", "--json", "stats");
	assert_int_equal(jv_list(f, "stats.json", HIGHS_EXPR, highs, 2), 2);
	assert_int_equal(highs[0], 128);
	assert_int_equal(highs[1], 128);

	/* A size change needs a restart: refused whole, nothing applied. */
	conf_edit(f, "pcp_high = 128\npcp_batch = 32", "pcp_high = 100\npcp_batch = 10");
	conf_edit(f, "size = 16M", "size = 32M");
	assert_int_equal(CTL(f, "reload.txt", NULL, &err, "reload"), 65);
	assert_non_null(strstr(err, "restart"));
	free(err);
	CTL_OK(f, "stats.json", "--json", "stats");
	assert_int_equal(jv_list(f, "stats.json", HIGHS_EXPR, highs, 2), 2);
	assert_int_equal(highs[0], 128);
	CTL_OK(f, "status.json", "--json", "status");
	assert_int_equal(jv_u64(f, "status.json", POOL("total")), POOL_PAGES);

	/* An invalid file is refused with its line. */
	conf_edit(f, "size = 32M", "size = 16M\nbogus = 1");
	assert_int_equal(CTL(f, "reload.txt", NULL, &err, "reload"), 65);
	assert_non_null(strstr(err, "bogus"));
	free(err);

	/* SIGHUP: same path.  Poll (bounded) until the new high shows. */
	conf_edit(f, "\nbogus = 1", "");
	assert_int_equal(kill(f->pid, SIGHUP), 0);
	deadline = bb_now_ms() + 5000;
	do {
		CTL_OK(f, "stats.json", "--json", "stats");
		assert_int_equal(jv_list(f, "stats.json", HIGHS_EXPR, highs, 2), 2);
	} while (highs[0] != 100 && bb_left_ms(deadline) > 0);
	assert_int_equal(highs[0], 100);
	assert_int_equal(highs[1], 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_drain_end_to_end),
		bb_test(test_rcu_drain_wakes_nobody),
		bb_test(test_drain_busy_workers),
		bb_test(test_offline_online),
		bb_test(test_unprivileged_refused),
		bb_test(test_json_outputs),
		bb_test(test_idle_decay),
		bb_test(test_usage_errors),
		bb_test(test_verify_live),
		bb_test(test_reload),
		bb_test(test_reload_quotas),
	};

	return cmocka_run_group_tests_name("blackbox admin", tests, NULL, NULL);
}
