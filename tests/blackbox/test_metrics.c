/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_metrics.c - black-box tests of `pagepoolctl metrics`, the Prometheus
 * text the daemon renders: after load through libpagepool with its errors
 * (allocations ok, ENOMEM in a full pool, EDQUOT past a quota, a double
 * free, a drain, an offline and online, a trim, a frame too large on a raw
 * connection) `promtool check metrics` accepts the output, and the series
 * say what the load implies: the allocation and free counts by pool, order
 * and result, the connections, the drain, the range operations, the page
 * gauges summing to each pool's size, and request-duration histograms with
 * cumulative log2 buckets whose _count grows by exactly the requests
 * served.  Then a real node_exporter reads the file from its textfile
 * collector directory, written there as pagepool-metrics.service writes it
 * (a temporary name, then a rename), and serves the pagepool_ series over
 * HTTP on 127.0.0.1.
 *
 * promtool (Debian package prometheus) and prometheus-node-exporter are
 * test dependencies (`make deps`); each check is skipped with a message
 * when its program is missing.  pagepoolctl is found next to $PAGEPOOLD.
 */
#include <arpa/inet.h>
#include <math.h>		/* INFINITY, isinf */
#include <netinet/in.h>

#include "bb.h"

#define ADM(x)		PAGEPOOL__V1__ADMIN_REQUEST__BODY_##x
#define ST(x)		PAGEPOOL__V1__STATUS__##x
#define CTL_TIMEOUT_MS	10000
#define TOOL_TIMEOUT_MS	20000
#define HIST_BUCKETS	22		/* le = 2^0 .. 2^20 us, +Inf */
#define NODE_EXPORTER	"prometheus-node-exporter"

/* default: 2048 pages (two order-10 blocks); tiny: 1024 pages, a
 * connection may hold 512 of them. */
static const char conf[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"workers = auto\n"
	"log_level = info\n"
	"\n"
	"[pool default]\n"
	"size = 8M\n"
	"pcp_high = 64\n"
	"pcp_batch = 16\n"
	"\n"
	"[pool tiny]\n"
	"size = 4M\n"
	"quota_pages = 512\n";

/* ---- the exposition text --------------------------------------------------------- */

/* One sample: its name, its labels as ",k=\"v\",...," and its value. */
struct sample {
	char name[96];
	char labels[320];
	double value;
};

struct samples {
	struct sample *s;
	size_t n;
};

/* Parse the label set at *p (just past '{') into out as ",k=\"v\",...,";
 * false when it is not well formed. */
static bool parse_labels(const char **p, char *out, size_t len)
{
	const char *q = *p;
	size_t n = 0;

	out[n++] = ',';
	while (*q && *q != '}') {
		const char *k = q, *v;

		while (*q && *q != '=')
			q++;
		if (*q != '=' || q[1] != '"')
			return false;
		v = q + 2;
		for (q = v; *q && *q != '"'; q++)
			if (*q == '\\' && q[1])
				q++;
		if (*q != '"' || n + (size_t)(q + 1 - k) + 2 >= len)
			return false;
		memcpy(out + n, k, (size_t)(q + 1 - k));
		n += (size_t)(q + 1 - k);
		out[n++] = ',';
		q++;
		if (*q == ',')
			q++;
	}
	if (*q != '}')
		return false;
	out[n] = '\0';
	*p = q + 1;
	return true;
}

/* Every sample line of `text` (comments skipped); fails the test on a line
 * it cannot read. */
static struct samples samples_parse(const char *text)
{
	struct samples m = { 0 };
	size_t cap = 0;

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		const char *q = p, *end = p + len;
		struct sample s = { .labels = "," };
		char *vend;
		size_t nl;

		if (len && *p != '#') {
			nl = strcspn(q, "{ ");
			if (nl == 0 || nl >= sizeof(s.name) || q + nl > end)
				fail_msg("metrics: cannot read the name in: %.*s", (int)len, p);
			memcpy(s.name, q, nl);
			q += nl;
			if (*q == '{') {
				q++;
				if (!parse_labels(&q, s.labels, sizeof(s.labels)) || q > end)
					fail_msg("metrics: cannot read the labels in: %.*s",
						 (int)len, p);
			}
			if (*q != ' ')
				fail_msg("metrics: no value in: %.*s", (int)len, p);
			s.value = strtod(q + 1, &vend);
			if (vend == q + 1 || (vend != end && *vend != ' '))
				fail_msg("metrics: cannot read the value in: %.*s", (int)len, p);
			if (m.n == cap) {
				cap = cap ? 2 * cap : 256;
				m.s = realloc(m.s, cap * sizeof(*m.s));
				assert_non_null(m.s);
			}
			m.s[m.n++] = s;
		}
		p += len + (p[len] == '\n');
	}
	return m;
}

/* Does sample s have every label of `sel` ("k=\"v\",k2=\"v2\"", "" for
 * none)? */
static bool sample_match(const struct sample *s, const char *sel)
{
	char want[128];

	while (*sel) {
		size_t n = strcspn(sel, ",");

		snprintf(want, sizeof(want), ",%.*s,", (int)n, sel);
		if (!strstr(s->labels, want))
			return false;
		sel += n + (sel[n] == ',');
	}
	return true;
}

/* The sum of the samples named `name` that match `sel`; *count (may be
 * NULL) how many there were. */
static double mx_sum(const struct samples *m, const char *name, const char *sel,
		     unsigned *count)
{
	double sum = 0;
	unsigned n = 0;

	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->s[i].name, name) == 0 && sample_match(&m->s[i], sel)) {
			sum += m->s[i].value;
			n++;
		}
	if (count)
		*count = n;
	return sum;
}

/* The one sample named `name` that matches `sel`; fails unless there is
 * exactly one. */
static double mx_get(const struct samples *m, const char *name, const char *sel)
{
	unsigned n;
	double v = mx_sum(m, name, sel, &n);

	if (n != 1)
		fail_msg("metrics: %u series %s{%s}, expected 1", n, name, sel);
	return v;
}

/* Assert the sum of name{sel} is `want` exactly (counters are integers). */
#define expect_sum(m, name, sel, want) do {						\
	unsigned _n;									\
	double _v = mx_sum(m, name, sel, &_n);						\
	if (_v != (double)(want))							\
		fail_msg("metrics: %s{%s} sums to %.0f over %u series, expected %llu",	\
			 name, sel, _v, _n, (unsigned long long)(want));		\
} while (0)

/* The value of label `key` in s ("" if absent), into buf. */
static void label_value(const struct sample *s, const char *key, char *buf, size_t len)
{
	char want[64];
	const char *v;

	snprintf(want, sizeof(want), ",%s=\"", key);
	v = strstr(s->labels, want);
	buf[0] = '\0';
	if (v) {
		v += strlen(want);
		snprintf(buf, len, "%.*s", (int)strcspn(v, "\""), v);
	}
}

/*
 * Check the histogram `base` for each value of label `key`: 22 buckets with
 * le = 2^k microseconds (k = 0..20) and +Inf, cumulative (never
 * decreasing), +Inf equal to _count, and a _sum.  Returns the sum of the
 * _counts; *series how many label values there were.
 */
static uint64_t hist_check(const struct samples *m, const char *base, const char *key,
			   unsigned *series)
{
	char cname[128], bname[128], sname[128], val[64], sel[128];
	uint64_t total = 0;
	unsigned nseries = 0;

	snprintf(cname, sizeof(cname), "%s_count", base);
	snprintf(bname, sizeof(bname), "%s_bucket", base);
	snprintf(sname, sizeof(sname), "%s_sum", base);
	for (size_t i = 0; i < m->n; i++) {
		double le[HIST_BUCKETS], cnt[HIST_BUCKETS], count;
		unsigned nb = 0;

		if (strcmp(m->s[i].name, cname) != 0)
			continue;
		nseries++;
		count = m->s[i].value;
		total += (uint64_t)count;
		label_value(&m->s[i], key, val, sizeof(val));
		snprintf(sel, sizeof(sel), "%s=\"%s\"", key, val);
		assert_true(mx_get(m, sname, sel) >= 0);
		for (size_t j = 0; j < m->n; j++) {
			char lev[32];

			if (strcmp(m->s[j].name, bname) != 0 || !sample_match(&m->s[j], sel))
				continue;
			if (nb == HIST_BUCKETS)
				fail_msg("%s{%s}: more than %d buckets", bname, sel, HIST_BUCKETS);
			label_value(&m->s[j], "le", lev, sizeof(lev));
			le[nb] = strcmp(lev, "+Inf") == 0 ? INFINITY : strtod(lev, NULL);
			cnt[nb++] = m->s[j].value;
		}
		if (nb != HIST_BUCKETS)
			fail_msg("%s{%s}: %u buckets, expected %d", bname, sel, nb, HIST_BUCKETS);
		/* Sort the (le, count) pairs by le: the text's order is not ours to assume. */
		for (unsigned a = 1; a < nb; a++)
			for (unsigned b = a; b > 0 && le[b - 1] > le[b]; b--) {
				double t = le[b];

				le[b] = le[b - 1];
				le[b - 1] = t;
				t = cnt[b];
				cnt[b] = cnt[b - 1];
				cnt[b - 1] = t;
			}
		for (unsigned k = 0; k + 1 < nb; k++) {
			double want = 1e-6 * (double)(1u << k);

			if (le[k] < want * (1 - 1e-9) || le[k] > want * (1 + 1e-9))
				fail_msg("%s{%s}: bucket %u has le %g, expected %g (2^%u us)", bname,
					 sel, k, le[k], want, k);
			if (cnt[k + 1] < cnt[k])
				fail_msg("%s{%s}: not cumulative: le %g has %.0f, le %g has %.0f",
					 bname, sel, le[k], cnt[k], le[k + 1], cnt[k + 1]);
		}
		if (!isinf(le[nb - 1]) || cnt[nb - 1] != count)
			fail_msg("%s{%s}: the +Inf bucket holds %.0f, _count is %.0f", bname, sel,
				 cnt[nb - 1], count);
	}
	if (series)
		*series = nseries;
	return total;
}

/* ---- programs ---------------------------------------------------------------------- */

/* Run argv with stdout in DIR/out.txt and stderr in DIR/err.txt (both
 * printed when it does not exit 0); its exit code. */
static int run_tool(struct bb *f, const char *const *argv, const char *outname, int timeout_ms)
{
	char out[200], err[200];
	struct bb_prog p = { .argv = argv, .out = out, .err = err };
	int code;

	snprintf(out, sizeof(out), "%s/%s", f->dir, outname);
	snprintf(err, sizeof(err), "%s/%s.err", f->dir, outname);
	code = bb_kid_wait(f, bb_kid_spawn(f, &p), timeout_ms);
	if (code != 0) {
		print_error("%s exited %d\n", argv[0], code);
		bb_print_tail("stdout", out, 3000);
		bb_print_tail("stderr", err, 3000);
	}
	return code;
}

/* `pagepoolctl -s DIR/admin.sock metrics` into DIR/<name>: asserts exit 0,
 * returns the text (free it). */
static char *ctl_metrics(struct bb *f, const char *name)
{
	char sock[160], path[200];
	const char *argv[] = { bb_ctl_path_or_skip(), "-s", sock, "metrics", NULL };

	bb_admin_path(f, sock, sizeof(sock));
	assert_int_equal(run_tool(f, argv, name, CTL_TIMEOUT_MS), 0);
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	return bb_slurp(path);
}

/* `promtool check metrics < DIR/<name>`: asserts it is clean (exit 0, no
 * lint message).  False (with a message) when promtool is not installed. */
static bool promtool_check(struct bb *f, const char *name)
{
	char file[200], out[200];
	const char *argv[] = { "sh", "-c", "exec promtool check metrics < \"$1\"", "sh", file,
			       NULL };
	char *text;

	if (!bb_on_path("promtool")) {
		print_message("promtool (Debian package prometheus, `make deps`) is not "
			      "installed: skipping the promtool check\n");
		return false;
	}
	snprintf(file, sizeof(file), "%s/%s", f->dir, name);
	assert_int_equal(run_tool(f, argv, "promtool.out", TOOL_TIMEOUT_MS), 0);
	snprintf(out, sizeof(out), "%s/promtool.out", f->dir);
	text = bb_slurp(out);
	if (text[0])
		fail_msg("promtool check metrics: %s", text);
	free(text);
	return true;
}

/* ---- load ---------------------------------------------------------------------------- */

enum { P_DEFAULT, P_TINY, NPOOLS };
static const char *const pool_names[NPOOLS] = { "default", "tiny" };

/* What the test expects the counters to say: per pool, order and result. */
struct expect {
	uint64_t alloc_ok[NPOOLS][11], alloc_nomem[NPOOLS][11], alloc_dquot[NPOOLS][11];
	uint64_t free_ok[NPOOLS][11], free_already[NPOOLS];
	uint64_t accepted;
	uint64_t other_requests;	/* served, neither an allocation nor a free */
};

/* One alloc of a single order-`order` block that must return `want`. */
static void alloc1(struct expect *e, struct pp_client *c, int pool, unsigned order, int want,
		   uint32_t *pfn)
{
	uint32_t tmp;
	unsigned got = 0;

	bb_assert_rc(c, pp_alloc(c, order, 1, 0, pfn ? pfn : &tmp, &got), want);
	if (want == 0) {
		assert_int_equal(got, 1);
		e->alloc_ok[pool][order]++;
	} else if (want == -ENOMEM) {
		e->alloc_nomem[pool][order]++;
	} else if (want == -EDQUOT) {
		e->alloc_dquot[pool][order]++;
	}
}

/* One free of a single order-`order` block that must succeed. */
static void free1(struct expect *e, struct pp_client *c, int pool, unsigned order, uint32_t pfn)
{
	bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);
	e->free_ok[pool][order]++;
}

/*
 * The load: every request allocates or frees one block, so counting
 * requests and counting blocks agree.  Returns with `keep` (default pool,
 * one order-0 page) and a tiny-pool order-9 block still allocated.
 */
static void serve_load(struct bb *f, struct bb_conn *a, struct expect *e)
{
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
	struct pp_client *c = bb_client(f, NULL), *t = bb_client(f, "tiny");
	uint32_t blk[2], pfn, keep;
	struct bb_conn *r;

	e->accepted += 2;

	/* ENOMEM: both order-10 blocks of the default pool held, a third asked. */
	alloc1(e, c, P_DEFAULT, 10, 0, &blk[0]);
	alloc1(e, c, P_DEFAULT, 10, 0, &blk[1]);
	alloc1(e, c, P_DEFAULT, 10, -ENOMEM, NULL);
	free1(e, c, P_DEFAULT, 10, blk[1]);

	/* The freed block offline and online again, then back to the buddy. */
	bb_admin_range_ok(a, true, "default", blk[1], 1024);
	bb_admin_range_ok(a, false, "default", blk[1], 1024);
	free1(e, c, P_DEFAULT, 10, blk[0]);

	/* EDQUOT: the connection holds its 512 pages of tiny, which has 512 free. */
	alloc1(e, t, P_TINY, 9, 0, NULL);
	alloc1(e, t, P_TINY, 0, -EDQUOT, NULL);

	/* A double free, and order-0 traffic that leaves pages in a pcp. */
	alloc1(e, c, P_DEFAULT, 0, 0, &pfn);
	alloc1(e, c, P_DEFAULT, 0, 0, &keep);
	free1(e, c, P_DEFAULT, 0, pfn);
	bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), -EALREADY);
	e->free_already[P_DEFAULT]++;

	/* A loan is an allocation: one order-2 block loaned, then the offer
	 * cancelled and the block freed. */
	{
		struct pp_token tok;
		uint64_t back = 0;

		bb_assert_rc(c, pp_loan(c, 2, 1, 0, 0, &pfn, &tok), 0);
		e->alloc_ok[P_DEFAULT][2]++;
		bb_assert_rc(c, pp_cancel(c, &tok, &back), 0);
		e->other_requests++;
		assert_int_equal(back, 4);
		free1(e, c, P_DEFAULT, 2, pfn);
	}

	/* An rcu drain of the default pool's pcps, and a trim of it. */
	assert_int_equal(bb_admin_drain_pcps(a, "default", "rcu", false), ST(OK));
	assert_int_equal(bb_admin_trim(a, "default"), ST(OK));

	/* A frame too large on a raw connection: E2BIG, then closed. */
	r = bb_raw(f);
	e->accepted++;
	assert_int_equal(bb_conn_send(r, huge, sizeof(huge), BB_IO_TIMEOUT_MS), 0);
	assert_int_equal(bb_conn_wait_eof(r, BB_IO_TIMEOUT_MS), 0);
	bb_conn_close(r);
}

/* ---- 1. the series after load ---------------------------------------------------------- */

/* A condition on a snapshot: name{sel} sums to a value in [min, max]. */
struct cond {
	const char *name, *sel;
	double min, max;
};

/*
 * Poll `pagepoolctl metrics` until every one of the n conditions holds, or
 * BB_IO_TIMEOUT_MS have passed: the last snapshot parsed (its text in
 * DIR/<file>); the caller asserts what it needs of it.  A worker times a
 * request once its answer is framed and closes a dropped connection after
 * counting the drop, so a test that has its answer, or its EOF, may read a
 * counter or a gauge a moment early.
 */
static struct samples metrics_until(struct bb *f, const char *file, const struct cond *c,
				    size_t n)
{
	int64_t deadline = bb_now_ms() + BB_IO_TIMEOUT_MS;

	for (;;) {
		char *text = ctl_metrics(f, file);
		struct samples m = samples_parse(text);
		size_t ok = 0;

		free(text);
		while (ok < n) {
			double v = mx_sum(&m, c[ok].name, c[ok].sel, NULL);

			if (v < c[ok].min || v > c[ok].max)
				break;
			ok++;
		}
		if (ok == n || bb_left_ms(deadline) == 0)
			return m;
		free(m.s);
		poll(NULL, 0, 5);
	}
}

/* metrics_until for one condition: name{sel} sums to at least `want`. */
static struct samples metrics_wait(struct bb *f, const char *file, const char *name,
				   const char *sel, double want)
{
	const struct cond c = { name, sel, want, INFINITY };

	return metrics_until(f, file, &c, 1);
}

static void expect_allocs_frees(const struct samples *m, const struct expect *e)
{
	uint64_t all = 0;
	char sel[96];

	for (int p = 0; p < NPOOLS; p++) {
		for (unsigned o = 0; o <= 10; o++) {
			static const char *const res[3] = { "ok", "ENOMEM", "EDQUOT" };
			const uint64_t *want[3] = { &e->alloc_ok[p][o], &e->alloc_nomem[p][o],
						    &e->alloc_dquot[p][o] };

			for (int k = 0; k < 3; k++) {
				snprintf(sel, sizeof(sel), "pool=\"%s\",order=\"%u\",result=\"%s\"",
					 pool_names[p], o, res[k]);
				expect_sum(m, "pagepool_allocations_total", sel, *want[k]);
				all += *want[k];
			}
			snprintf(sel, sizeof(sel), "pool=\"%s\",order=\"%u\",result=\"ok\"",
				 pool_names[p], o);
			expect_sum(m, "pagepool_frees_total", sel, e->free_ok[p][o]);
			all += e->free_ok[p][o];
		}
		/* Which order a double free is counted under is the daemon's call. */
		snprintf(sel, sizeof(sel), "pool=\"%s\",result=\"EALREADY\"", pool_names[p]);
		expect_sum(m, "pagepool_frees_total", sel, e->free_already[p]);
		all += e->free_already[p];
	}
	/* Nothing else was counted: no other result, pool or order. */
	if (mx_sum(m, "pagepool_allocations_total", "", NULL) +
	    mx_sum(m, "pagepool_frees_total", "", NULL) != (double)all)
		fail_msg("metrics: allocations + frees sum to %.0f, the load made %llu",
			 mx_sum(m, "pagepool_allocations_total", "", NULL) +
			 mx_sum(m, "pagepool_frees_total", "", NULL), (unsigned long long)all);
}

/* Per pool: the page states (cached_by_clients is part of allocated) add
 * up to pagepool_pool_size_pages, which is what the admin status says. */
static void expect_pages(const struct samples *m, struct bb_conn *a)
{
	static const char *const states[] = { "free", "pcp", "allocated", "isolated", "offline" };
	char sel[96];

	for (int p = 0; p < NPOOLS; p++) {
		struct bb_admin_counts ac = bb_admin_pool_counts(a, pool_names[p]);
		double size, sum = 0;

		snprintf(sel, sizeof(sel), "pool=\"%s\"", pool_names[p]);
		size = mx_get(m, "pagepool_pool_size_pages", sel);
		assert_true(size == (double)ac.total);
		for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
			snprintf(sel, sizeof(sel), "pool=\"%s\",state=\"%s\"", pool_names[p],
				 states[i]);
			sum += mx_get(m, "pagepool_pages", sel);
		}
		if (sum != size)
			fail_msg("metrics: pool %s: page states sum to %.0f, size %.0f",
				 pool_names[p], sum, size);
		snprintf(sel, sizeof(sel), "pool=\"%s\",state=\"cached_by_clients\"",
			 pool_names[p]);
		assert_true(mx_get(m, "pagepool_pages", sel) == 0);	/* no client cache */
		snprintf(sel, sizeof(sel), "pool=\"%s\"", pool_names[p]);
		assert_true(mx_get(m, "pagepool_resident_bytes", sel) >= 0);
	}
	/* What the load left allocated: one page of default, 512 of tiny. */
	expect_sum(m, "pagepool_pages", "pool=\"default\",state=\"allocated\"", 1);
	expect_sum(m, "pagepool_pages", "pool=\"tiny\",state=\"allocated\"", 512);
}

static void test_metrics_after_load(void **state)
{
	struct bb *f = *state;
	struct expect e = { 0 };
	struct samples m;
	struct bb_conn *a;
	unsigned nworkers, nserved = 0;
	uint64_t served;
	double up;

	bb_ctl_path_or_skip();
	bb_start(f, conf);
	a = bb_admin_open(f);
	serve_load(f, a, &e);

	/* Every request the clients made (their hellos too) timed, the raw
	 * connection dropped and gone. */
	for (int p = 0; p < NPOOLS; p++)
		for (unsigned o = 0; o <= 10; o++)
			nserved += (unsigned)(e.alloc_ok[p][o] + e.alloc_nomem[p][o] +
					      e.alloc_dquot[p][o] + e.free_ok[p][o]);
	nserved += (unsigned)(e.free_already[P_DEFAULT] + e.other_requests) + NPOOLS;
	{
		const struct cond settled[] = {
			{ "pagepool_connections_total", "cause=\"dropped_protocol_error\"", 1, 1 },
			{ "pagepool_clients", "", 2, 2 },
			{ "pagepool_request_duration_seconds_count", "", nserved, INFINITY },
		};

		m = metrics_until(f, "load.prom", settled, 3);
	}
	promtool_check(f, "load.prom");

	expect_allocs_frees(&m, &e);
	expect_sum(&m, "pagepool_protocol_errors_total", "kind=\"frame_too_large\"", 1);
	expect_sum(&m, "pagepool_protocol_errors_total", "", 1);
	expect_sum(&m, "pagepool_connections_total", "cause=\"accepted\"", e.accepted);
	expect_sum(&m, "pagepool_connections_total", "cause=\"dropped_protocol_error\"", 1);
	expect_sum(&m, "pagepool_connections_total", "cause=\"refused_max_connections\"", 0);
	expect_sum(&m, "pagepool_connections_total", "cause=\"refused_per_uid\"", 0);
	if (mx_sum(&m, "pagepool_drains_total", "pool=\"default\",mode=\"rcu\",trigger=\"admin\"",
		   NULL) < 1)
		fail_msg("metrics: no pagepool_drains_total{pool=\"default\",mode=\"rcu\","
			 "trigger=\"admin\"} after an admin rcu drain");
	assert_true(mx_sum(&m, "pagepool_drained_pages_total", "pool=\"default\"", NULL) >= 0);
	expect_sum(&m, "pagepool_range_operations_total", "pool=\"default\",op=\"offline\"", 1);
	expect_sum(&m, "pagepool_range_operations_total", "pool=\"default\",op=\"online\"", 1);
	expect_sum(&m, "pagepool_range_operations_total", "pool=\"default\",op=\"trim\"", 1);
	expect_sum(&m, "pagepool_range_operations_total", "pool=\"tiny\"", 0);
	expect_pages(&m, a);
	expect_sum(&m, "pagepool_clients", "", 2);
	expect_sum(&m, "pagepool_worker_connections", "", 2);
	up = mx_get(&m, "pagepool_uptime_seconds", "");
	assert_true(up >= 0 && up < 3600);
	expect_sum(&m, "pagepool_build_info", "", 1);

	/* Exactly the requests served: each alloc (loans included) and free,
	 * the cancel, and one hello per client (a frame too large is no
	 * request). */
	served = hist_check(&m, "pagepool_request_duration_seconds", "worker", &nworkers);
	assert_true(nworkers >= 1);
	if (served != nserved)
		fail_msg("metrics: request histograms count %llu requests, the load made %u",
			 (unsigned long long)served, nserved);
	hist_check(&m, "pagepool_drain_duration_seconds", "mode", NULL);
	expect_sum(&m, "pagepool_drain_duration_seconds_count", "mode=\"rcu\"",
		   mx_sum(&m, "pagepool_drains_total", "mode=\"rcu\"", NULL));
	free(m.s);
}

/* ---- 2. the histogram counts every request served --------------------------------------- */

/* A raw connection says hello and asks `n` stats: the request histograms'
 * _count, summed over the workers, grows by exactly n + 1. */
static void test_request_histogram_counts(void **state)
{
	struct bb *f = *state;
	const unsigned n = 37;
	struct samples m0, m1;
	struct bb_conn *r;
	struct bb_req q;
	uint64_t before, after;
	char *text;

	bb_ctl_path_or_skip();
	bb_start(f, conf);
	r = bb_raw(f);
	text = ctl_metrics(f, "before.prom");
	m0 = samples_parse(text);
	free(text);
	before = hist_check(&m0, "pagepool_request_duration_seconds", "worker", NULL);
	bb_resp_free(bb_raw_hello(r, 1, NULL));
	for (unsigned i = 0; i < n; i++) {
		bb_response *resp = bb_rpc(r, bb_req_stat(&q, 2 + i));

		bb_assert_status(resp, ST(OK));
		bb_resp_free(resp);
	}
	m1 = metrics_wait(f, "after.prom", "pagepool_request_duration_seconds_count", "",
			  (double)(before + n + 1));
	after = hist_check(&m1, "pagepool_request_duration_seconds", "worker", NULL);
	if (after - before != n + 1)
		fail_msg("metrics: request histograms counted %llu requests for a hello and %u "
			 "stats", (unsigned long long)(after - before), n);
	promtool_check(f, "after.prom");
	free(m0.s);
	free(m1.s);
}

/* ---- 3. node_exporter serves them --------------------------------------------------------- */

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static uint16_t free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/*
 * GET `path` from 127.0.0.1:port over HTTP/1.0 (the server closes after
 * the answer), every send and receive bounded by timeout_ms: the whole
 * answer, headers included (free it), or NULL when nothing listens there.
 */
static char *http_get(uint16_t port, const char *path, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	char req[256];
	size_t len = 0, cap = 65536;
	char *buf;
	int fd, n;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return NULL;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%u\r\n\r\n", path,
		     port);
	assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
	buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		ssize_t got;

		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = recv(fd, buf + len, cap - len - 1, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			fail_msg("reading the answer from 127.0.0.1:%u: %s", port, strerror(errno));
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Write `text` into DIR/pagepool.prom as pagepool-metrics.service does: a
 * temporary name the collector ignores, then a rename over the real one. */
static void textfile_write(const char *dir, const char *text)
{
	char tmp[256], dst[256];

	assert_true(strlen(dir) < 200);
	snprintf(tmp, sizeof(tmp), "%s/.pagepool.prom.tmp", dir);
	snprintf(dst, sizeof(dst), "%s/pagepool.prom", dir);
	bb_write_file(tmp, text);
	assert_int_equal(rename(tmp, dst), 0);
}

/* Start node_exporter with only the textfile collector, reading `dir`, on
 * a free port of 127.0.0.1; wait (bounded) until it answers.  Its pid. */
static pid_t node_exporter_start(struct bb *f, const char *dir, uint16_t *port)
{
	char listen[64], tdir[256], out[200];
	const char *argv[] = { NODE_EXPORTER, listen, "--collector.disable-defaults",
			       "--collector.textfile", tdir, NULL };
	struct bb_prog p = { .argv = argv, .out = out, .err = out };
	int64_t deadline = bb_now_ms() + TOOL_TIMEOUT_MS;
	pid_t pid;

	*port = free_port();
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", *port);
	snprintf(tdir, sizeof(tdir), "--collector.textfile.directory=%s", dir);
	snprintf(out, sizeof(out), "%s/node_exporter.log", f->dir);
	pid = bb_kid_spawn(f, &p);
	for (;;) {
		char *ans = http_get(*port, "/", 2000);
		int code;

		if (ans) {
			free(ans);
			return pid;
		}
		if (bb_kid_exited(f, pid, &code)) {
			bb_print_tail("node_exporter", out, 3000);
			fail_msg("node_exporter exited %d before it listened on 127.0.0.1:%u", code,
				 *port);
		}
		if (bb_left_ms(deadline) == 0) {
			bb_print_tail("node_exporter", out, 3000);
			fail_msg("node_exporter does not listen on 127.0.0.1:%u after %d ms", *port,
				 TOOL_TIMEOUT_MS);
		}
		poll(NULL, 0, 10);
	}
}

static void test_node_exporter(void **state)
{
	struct bb *f = *state;
	char dir[200], *text, *ans, *body;
	struct samples m, served;
	struct pp_client *c;
	uint32_t pfn;
	unsigned got, npp = 0, nfile = 0;
	uint16_t port;
	pid_t pid;
	int code;

	if (!bb_on_path(NODE_EXPORTER)) {
		print_message(NODE_EXPORTER " (`make deps`) is not installed: skipping\n");
		skip();
	}
	bb_ctl_path_or_skip();
	bb_start(f, conf);
	c = bb_client(f, NULL);
	/* An order-3 page breaks one of the two order-10 blocks: one more fits. */
	bb_assert_rc(c, pp_alloc(c, 3, 1, 0, &pfn, &got), 0);
	bb_assert_rc(c, pp_alloc(c, 10, 1, 0, &pfn, &got), 0);
	bb_assert_rc(c, pp_alloc(c, 10, 1, 0, &pfn, &got), -ENOMEM);
	m = metrics_wait(f, "node.prom", "pagepool_allocations_total",
			 "pool=\"default\",order=\"10\",result=\"ENOMEM\"", 1);
	snprintf(dir, sizeof(dir), "%s/node.prom", f->dir);
	text = bb_slurp(dir);
	snprintf(dir, sizeof(dir), "%s/textfile", f->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	textfile_write(dir, text);

	pid = node_exporter_start(f, dir, &port);
	ans = http_get(port, "/metrics", TOOL_TIMEOUT_MS);
	assert_non_null(ans);
	assert_true(kill(pid, SIGTERM) == 0);
	code = bb_kid_wait(f, pid, TOOL_TIMEOUT_MS);
	print_message("node_exporter stopped (exit %d)\n", code);

	if (strncmp(ans, "HTTP/1.", 7) != 0 || strncmp(ans + 8, " 200", 4) != 0)
		fail_msg("node_exporter answered: %.200s", ans);
	body = strstr(ans, "\r\n\r\n");
	assert_non_null(body);
	served = samples_parse(body + 4);
	/* The collector read the file without complaint ... */
	if (mx_get(&served, "node_textfile_scrape_error", "") != 0) {
		char log[200];

		snprintf(log, sizeof(log), "%s/node_exporter.log", f->dir);
		bb_print_tail("node_exporter", log, 3000);
		fail_msg("node_exporter: node_textfile_scrape_error is not 0 (log above)");
	}
	/* ... and serves its series with the values pagepoolctl printed. */
	if (!strstr(body, "\n# TYPE pagepool_allocations_total counter\n"))
		fail_msg("node_exporter does not serve pagepool_allocations_total as a counter");
	expect_sum(&served, "pagepool_allocations_total",
		   "pool=\"default\",order=\"3\",result=\"ok\"", 1);
	expect_sum(&served, "pagepool_allocations_total",
		   "pool=\"default\",order=\"10\",result=\"ok\"", 1);
	expect_sum(&served, "pagepool_allocations_total",
		   "pool=\"default\",order=\"10\",result=\"ENOMEM\"", 1);
	expect_sum(&served, "pagepool_pool_size_pages", "pool=\"default\"",
		   mx_get(&m, "pagepool_pool_size_pages", "pool=\"default\""));
	assert_true(hist_check(&served, "pagepool_request_duration_seconds", "worker", NULL) ==
		    hist_check(&m, "pagepool_request_duration_seconds", "worker", NULL));
	for (size_t i = 0; i < served.n; i++)
		npp += strncmp(served.s[i].name, "pagepool_", 9) == 0;
	for (size_t i = 0; i < m.n; i++)
		nfile += strncmp(m.s[i].name, "pagepool_", 9) == 0;
	print_message("node_exporter served %u pagepool_ samples (the file has %u)\n", npp,
		      nfile);
	assert_int_equal(npp, nfile);
	free(served.s);
	free(m.s);
	free(ans);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_metrics_after_load),
		bb_test(test_request_histogram_counts),
		bb_test(test_node_exporter),
	};

	return cmocka_run_group_tests_name("blackbox metrics", tests, NULL, NULL);
}
