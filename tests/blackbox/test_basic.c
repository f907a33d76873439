/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_basic.c - black-box tests of pagepoold's normal service: allocate,
 * write in place, see the same bytes from another process, free, and the
 * pool's counts return to where they started; pipelined requests answered
 * in order on one raw connection; connections spread evenly over the
 * workers, and a pinned client served on its own CPU; the example program runs clean against the daemon.
 */
#include <sched.h>

#include "bb.h"

static const char conf_basic[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"log_level = info\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n"
	"groups =\n";

static const char conf_two_workers[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = 0,1\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

#define POOL_BYTES (16u << 20)

/* What the parent writes at the start of page `pfn` (the rest is filled
 * with a byte derived from the pfn). */
static void page_pattern(char *buf, size_t len, uint32_t pfn, pid_t writer)
{
	snprintf(buf, len, "pagepool page %u written by %d", pfn, (int)writer);
}

static uint8_t page_fill(uint32_t pfn)
{
	return (uint8_t)(0x5a ^ pfn ^ (pfn >> 8));
}

/* 0 if page `pfn` holds what fill_page() wrote there. */
static int page_check(const uint8_t *page, size_t ps, uint32_t pfn, pid_t writer)
{
	char head[64];
	size_t hl;

	page_pattern(head, sizeof(head), pfn, writer);
	hl = strlen(head) + 1;
	if (memcmp(page, head, hl) != 0)
		return -1;
	for (size_t i = hl; i < ps / 2; i++)
		if (page[i] != page_fill(pfn))
			return -1;
	return 0;
}

static void page_write(uint8_t *page, size_t ps, uint32_t pfn, pid_t writer)
{
	char head[64];
	size_t hl;

	page_pattern(head, sizeof(head), pfn, writer);
	hl = strlen(head) + 1;
	memcpy(page, head, hl);
	memset(page + hl, page_fill(pfn), ps / 2 - hl);
}

static const char child_reply[] = "the child was here";

/*
 * Forked child: its own connection, its own mapping; reads every page the
 * parent wrote and answers in the second half of the first page.  Exit 0,
 * or a code saying what went wrong.
 */
static int child_reader(const char *sock, const uint32_t *pfns, unsigned n, size_t ps,
			pid_t writer)
{
	struct pp_client *c = NULL;

	if (pp_connect(sock, NULL, &c) != 0)
		return 10;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = pp_page(c, pfns[i]);

		if (!p)
			return 11;
		if (page_check(p, ps, pfns[i], writer) != 0)
			return 12;
	}
	memcpy((uint8_t *)pp_page(c, pfns[0]) + ps / 2, child_reply, sizeof(child_reply));
	pp_close(c);
	return 0;
}

static void test_alloc_write_share_free(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	const struct pp_info *info;
	struct pp_stat st0, st;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	uint32_t pfns[16], pages[16 + 4 * 2];	/* block heads; every page */
	unsigned got, npages = 0;
	pid_t kid;
	int code;

	bb_start(f, conf_basic);
	c = bb_client(f, NULL);
	info = pp_info(c);
	assert_string_equal(info->pool, "default");
	assert_int_equal(info->page_size, ps);
	assert_int_equal(info->arena_size, POOL_BYTES);
	assert_int_equal(info->max_order, 10);
	assert_int_equal(info->max_count, 1024);
	assert_int_equal(info->quota_pages, 0);

	st0 = bb_stat(c);
	assert_int_equal(st0.total, POOL_BYTES / ps);
	assert_int_equal(st0.allocated, 0);
	assert_int_equal(st0.held, 0);
	bb_assert_total(&st0);

	/* 8 single pages and 2 order-2 blocks. */
	bb_assert_rc(c, pp_alloc(c, 0, 8, 0, pfns, &got), 0);
	assert_int_equal(got, 8);
	bb_assert_rc(c, pp_alloc(c, 2, 2, 0, pfns + 8, &got), 0);
	assert_int_equal(got, 2);
	for (unsigned i = 0; i < 10; i++) {
		unsigned span = i < 8 ? 1 : 4;

		if (span == 4)
			assert_int_equal(pfns[i] % 4, 0);	/* aligned to its size */
		assert_true(pfns[i] + span <= st0.total);
		for (unsigned k = 0; k < span; k++)
			pages[npages++] = pfns[i] + k;
	}
	for (unsigned i = 0; i < npages; i++)		/* no page handed out twice */
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(pages[i], pages[j]);

	/* The mapping: one arena, page i at offset i * page_size. */
	assert_non_null(pp_page(c, 0));
	assert_null(pp_page(c, (uint32_t)st0.total));
	for (unsigned i = 0; i < npages; i++) {
		uint8_t *p = pp_page(c, pages[i]);

		assert_non_null(p);
		assert_ptr_equal(p, (uint8_t *)pp_page(c, 0) + (size_t)pages[i] * ps);
		page_write(p, ps, pages[i], getpid());
	}

	st = bb_stat(c);
	assert_int_equal(st.allocated, npages);
	assert_int_equal(st.held, npages);
	bb_assert_total(&st);

	/* Another process, its own connection: the same bytes at the same pfns. */
	kid = bb_fork(f);
	if (kid == 0)
		_exit(child_reader(f->sock, pages, npages, ps, getppid()));
	code = bb_kid_wait(f, kid, 10000);
	if (code != 0)
		print_error("reader child: exit %d (10 no connect, 11 no page, 12 bytes differ)\n",
			    code);
	assert_int_equal(code, 0);
	assert_memory_equal((uint8_t *)pp_page(c, pages[0]) + ps / 2, child_reply,
			    sizeof(child_reply));

	/* The child's goodbye did not take our pages. */
	st = bb_stat(c);
	assert_int_equal(st.allocated, npages);
	assert_int_equal(st.held, npages);

	bb_assert_rc(c, pp_free(c, pfns, 10, NULL), 0);
	st = bb_stat(c);
	assert_int_equal(st.allocated, 0);
	assert_int_equal(st.held, 0);
	assert_int_equal(st.total, st0.total);
	assert_int_equal(st.free + st.pcp, st0.free + st0.pcp);
	bb_assert_total(&st);

	/* ZERO: pages that held our pattern come back zeroed. */
	bb_assert_rc(c, pp_alloc(c, 0, 8, PP_ZERO, pfns, &got), 0);
	assert_int_equal(got, 8);
	for (unsigned i = 0; i < got; i++) {
		const uint8_t *p = pp_page(c, pfns[i]);

		for (size_t k = 0; k < ps; k++)
			if (p[k]) {
				print_error("PP_ZERO page %u byte %zu = 0x%02x\n", pfns[i], k, p[k]);
				fail();
			}
	}
	bb_assert_rc(c, pp_free(c, pfns, got, NULL), 0);
	st = bb_stat(c);
	assert_int_equal(st.allocated, 0);
	bb_assert_total(&st);
}

#define NPIPE 50

static void test_pipelined_in_order(void **state)
{
	struct bb *f = *state;
	struct bb_conn *r;
	struct bb_buf b = { 0 };
	struct bb_req q;
	bb_response *resp;
	uint32_t got_pfns[NPIPE];
	unsigned nallocs = 0;
	struct stat sb;
	ssize_t n;
	int64_t deadline;

	bb_start(f, conf_basic);
	r = bb_raw(f);

	/* Hello and 50 alloc/stat requests, written with one send(). */
	bb_buf_add_msg(&b, &bb_req_hello(&q, 1000, 1, NULL)->base, NULL, 0);
	for (unsigned i = 0; i < NPIPE; i++) {
		uint64_t id = 1001 + 7 * i;

		if (i % 2 == 0)
			bb_buf_add_msg(&b, &bb_req_alloc(&q, id, 0, 1, 0)->base, NULL, 0);
		else
			bb_buf_add_msg(&b, &bb_req_stat(&q, id)->base, NULL, 0);
	}
	n = send(r->fd, b.p, b.len, MSG_NOSIGNAL);
	assert_int_equal(n, (ssize_t)b.len);
	bb_buf_free(&b);

	deadline = bb_now_ms() + 10000;
	assert_int_equal(bb_conn_recv(r, bb_left_ms(deadline), &resp), 0);
	assert_int_equal(resp->id, 1000);
	bb_assert_status(resp, PAGEPOOL__V1__STATUS__OK);
	assert_int_equal(resp->body_case, PAGEPOOL__V1__RESPONSE__BODY_WELCOME);
	assert_int_equal(resp->welcome->version, 1);
	assert_int_equal(resp->welcome->page_size, sysconf(_SC_PAGESIZE));
	assert_int_equal(resp->welcome->arena_size, POOL_BYTES);
	/* The arena came along as SCM_RIGHTS: a memfd of the arena's size. */
	assert_int_equal(r->nfds, 1);
	assert_int_equal(fstat(r->fds[0], &sb), 0);
	assert_int_equal(sb.st_size, POOL_BYTES);
	bb_resp_free(resp);

	for (unsigned i = 0; i < NPIPE; i++) {
		int ret = bb_conn_recv(r, bb_left_ms(deadline), &resp);

		if (ret != 0)
			print_error("response %u of %u: %s\n", i + 1, NPIPE, strerror(-ret));
		assert_int_equal(ret, 0);
		assert_int_equal(resp->id, 1001 + 7 * i);
		bb_assert_status(resp, PAGEPOOL__V1__STATUS__OK);
		if (i % 2 == 0) {
			assert_int_equal(resp->body_case, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
			assert_int_equal(resp->pages->n_pfns, 1);
			got_pfns[nallocs++] = resp->pages->pfns[0];
		} else {
			/* Answered after exactly the allocs before it. */
			assert_int_equal(resp->body_case, PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT);
			assert_int_equal(resp->pool_stat->held, nallocs);
			assert_int_equal(resp->pool_stat->allocated, nallocs);
		}
		bb_resp_free(resp);
	}
	for (unsigned i = 0; i < nallocs; i++)
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(got_pfns[i], got_pfns[j]);

	/* Nothing more was sent back. */
	assert_int_equal(bb_conn_recv(r, 100, &resp), -ETIMEDOUT);

	/* Closing the raw connection returns its pages. */
	bb_conn_close(r);
	{
		struct pp_client *c = bb_client(f, NULL);
		struct pp_stat st = bb_expect_allocated(c, 0, 2000);

		bb_assert_total(&st);
	}
}

#define NCONN 16

static void test_connections_spread_over_workers(void **state)
{
	struct bb *f = *state;
	struct pp_client *cl[NCONN];
	unsigned per_worker[2] = { 0, 0 };
	uint64_t ids[NCONN];
	uint32_t pfn;
	unsigned got, lo, hi;
	cpu_set_t cpus;
	struct pp_stat st;

	assert_int_equal(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	if (!CPU_ISSET(0, &cpus) || !CPU_ISSET(1, &cpus)) {
		print_message("CPUs 0 and 1 are not both available: skipping\n");
		skip();
	}
	bb_start(f, conf_two_workers);
	/* One page per connection, no client cache's batch on top. */
	assert_int_equal(setenv("PAGEPOOL_CACHE", "0", 1), 0);
	for (unsigned i = 0; i < NCONN; i++) {
		const struct pp_info *info;

		cl[i] = bb_client(f, NULL);
		info = pp_info(cl[i]);
		assert_in_range(info->worker, 0, 1);
		per_worker[info->worker]++;
		ids[i] = info->client_id;
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(ids[i], ids[j]);
		/* Every connection is served. */
		bb_assert_rc(cl[i], pp_alloc(cl[i], 0, 1, 0, &pfn, &got), 0);
		assert_int_equal(got, 1);
	}
	unsetenv("PAGEPOOL_CACHE");
	print_message("connections per worker: %u, %u\n", per_worker[0], per_worker[1]);
	lo = per_worker[0] < per_worker[1] ? per_worker[0] : per_worker[1];
	hi = per_worker[0] + per_worker[1] - lo;
	assert_true(lo > 0);		/* both workers used */
	assert_in_range(hi - lo, 0, 1);	/* least-loaded assignment */

	st = bb_stat(cl[0]);
	assert_int_equal(st.allocated, NCONN);
	assert_int_equal(st.held, 1);

	for (unsigned i = 0; i < NCONN; i++)
		bb_client_close(f, cl[i]);
	{
		struct pp_client *c = bb_client(f, NULL);

		st = bb_expect_allocated(c, 0, 2000);
		bb_assert_total(&st);
	}
}

/* A client pinned to one CPU is served by the worker on that CPU, however
 * many connections that worker has already. */
static void test_pinned_client_on_its_cpu(void **state)
{
	struct bb *f = *state;
	struct pp_client *cl[2 * 4 + 1];
	cpu_set_t all, one;
	unsigned n = 0;

	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	if (!CPU_ISSET(0, &all) || !CPU_ISSET(1, &all)) {
		print_message("CPUs 0 and 1 are not both available: skipping\n");
		skip();
	}
	bb_start(f, conf_two_workers);	/* worker 0 on CPU 0, worker 1 on CPU 1 */
	for (int cpu = 1; cpu >= 0; cpu--) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
		for (unsigned i = 0; i < 4; i++, n++) {
			cl[n] = bb_client(f, NULL);
			assert_int_equal(pp_info(cl[n])->worker, (unsigned)cpu);
		}
	}
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
	/* Unpinned again: any worker (4 connections each now). */
	cl[n] = bb_client(f, NULL);
	assert_in_range(pp_info(cl[n])->worker, 0, 1);
	n++;
	for (unsigned i = 0; i < n; i++)
		bb_client_close(f, cl[i]);
}

static void test_example_program(void **state)
{
	struct bb *f = *state;
	const char *ex = getenv("PP_EXAMPLE");
	const char *argv[3] = { NULL };
	char out[160];
	int code;
	struct pp_stat st;

	if (!ex || !*ex) {
		print_message("PP_EXAMPLE is not set (the pp-example binary): skipping\n");
		skip();
	}
	bb_start(f, conf_basic);
	snprintf(out, sizeof(out), "%s/example.out", f->dir);
	argv[0] = ex;
	argv[1] = f->sock;
	code = bb_kid_wait(f, bb_kid_spawn(f, &(struct bb_prog){ .argv = argv, .out = out,
								  .err = out }), 10000);
	if (code != 0) {
		bb_print_tail("pp-example output", out, 4000);
		print_error("pp-example %s: exit %d\n", f->sock, code);
	}
	assert_int_equal(code, 0);
	/* It left nothing behind. */
	st = bb_expect_allocated(bb_client(f, NULL), 0, 2000);
	bb_assert_total(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_alloc_write_share_free),
		bb_test(test_pipelined_in_order),
		bb_test(test_connections_spread_over_workers),
		bb_test(test_pinned_client_on_its_cpu),
		bb_test(test_example_program),
	};

	return cmocka_run_group_tests_name("blackbox basic", tests, NULL, NULL);
}
