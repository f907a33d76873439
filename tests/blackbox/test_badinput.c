/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_badinput.c - black-box tests of pagepoold against bad input: every
 * protocol violation and refused request gets its status (or, for framing
 * errors, a closed connection), while a bystander client stays connected
 * and keeps being served.  After each case the bystander allocates, frees
 * and checks that the pool's allocated count equals what live clients
 * really hold: nothing leaks, nothing changes that should not.
 */
#include <sys/mman.h>

#include "bb.h"

#define ST(x) PAGEPOOL__V1__STATUS__##x

#define POOLS								\
	"\n"								\
	"[pool default]\n"						\
	"size = 16M\n"							\
	"groups =\n"							\
	"\n"								\
	"[pool locked]\n"						\
	"size = 4M\n"							\
	"groups = nogroup\n"						\
	"\n"								\
	"[pool quota]\n"						\
	"size = 4M\n"							\
	"quota_pages = 8\n"						\
	"quota_uid_pages = 12\n"					\
	"\n"								\
	"[pool tiny]\n"							\
	"size = 4M\n"							\
	"\n"								\
	"[pool quiet]\n"						\
	"size = 4M\n"							\
	"pcp_high = 32\n"						\
	"pcp_batch = 8\n"

#define MAX_FRAME 4096
#define MAX_COUNT 256

static const char conf_bad[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"max_frame = 4096\n"
	"max_count = 256\n"
	"default_pool = default\n"
	POOLS;

static const char conf_slow[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"max_output = 16K\n"
	"write_timeout = 1\n"
	POOLS;

/* Start the daemon and connect the bystander (to the default pool). */
static struct pp_client *start(struct bb *f, const char *conf)
{
	struct pp_client *by;
	struct pp_stat st;

	bb_start(f, conf);
	by = bb_client(f, NULL);
	st = bb_stat(by);
	assert_int_equal(st.allocated, 0);
	bb_assert_total(&st);
	return by;
}

/*
 * The bystander is still served, and the default pool's allocated count
 * settles at `held` (pages live clients other than the bystander hold
 * there): alloc one page, see it counted, free it, see it gone.
 */
static void bystander_check(struct pp_client *by, uint64_t held)
{
	struct pp_stat st = bb_expect_allocated(by, held, 2000);
	uint32_t pfn;
	unsigned got;

	assert_int_equal(st.held, 0);
	bb_assert_total(&st);
	bb_assert_rc(by, pp_alloc(by, 0, 1, 0, &pfn, &got), 0);
	assert_int_equal(got, 1);
	st = bb_stat(by);
	assert_int_equal(st.allocated, held + 1);
	assert_int_equal(st.held, 1);
	bb_assert_rc(by, pp_free(by, &pfn, 1, NULL), 0);
	st = bb_stat(by);
	assert_int_equal(st.allocated, held);
	assert_int_equal(st.held, 0);
	bb_assert_total(&st);
}

/* Send `req` on c and assert the response status (the id is checked by
 * bb_rpc). */
static void expect_status(struct bb_conn *c, const bb_request *req, int status)
{
	bb_response *r = bb_rpc(c, req);

	bb_assert_status(r, status);
	bb_resp_free(r);
}

/* A stat on c: OK, and this connection holds `held` pages. */
static void expect_stat_ok(struct bb_conn *c, uint64_t id, uint64_t held)
{
	struct bb_req q;
	bb_response *r = bb_rpc(c, bb_req_stat(&q, id));

	bb_assert_status(r, ST(OK));
	assert_int_equal(r->body_case, PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT);
	assert_int_equal(r->pool_stat->held, held);
	bb_resp_free(r);
}

/* ---- hello ----------------------------------------------------------------- */

static void test_request_before_hello(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct bb_conn *r = bb_raw(f);
	struct bb_req q;
	bb_response *w;

	expect_status(r, bb_req_stat(&q, 5), ST(EPROTO));
	expect_status(r, bb_req_alloc(&q, 6, 0, 1, 0), ST(EPROTO));
	expect_status(r, bb_req_free(&q, 7, (uint32_t[]){ 0 }, 1), ST(EPROTO));
	assert_int_equal(r->nfds, 0);
	/* The connection stayed open and can still say hello. */
	w = bb_raw_hello(r, 8, NULL);
	assert_int_equal(r->nfds, 1);
	bb_resp_free(w);
	expect_stat_ok(r, 9, 0);
	bystander_check(by, 0);
	bb_raw_alloc(r, 10, 0, 3, NULL);
	bystander_check(by, 3);
	bb_conn_close(r);
	bystander_check(by, 0);
}

static void test_second_hello(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct bb_conn *r = bb_raw(f);
	struct bb_req q;

	bb_resp_free(bb_raw_hello(r, 1, NULL));
	bb_raw_alloc(r, 2, 0, 3, NULL);
	expect_status(r, bb_req_hello(&q, 3, 1, NULL), ST(EPROTO));
	expect_status(r, bb_req_hello(&q, 4, 1, "tiny"), ST(EPROTO));
	assert_int_equal(r->nfds, 1);		/* no second arena fd */
	/* Still in the first pool, still holding its pages. */
	expect_stat_ok(r, 5, 3);
	bystander_check(by, 3);
	bb_conn_close(r);
	bystander_check(by, 0);
}

static void test_hello_bad_version(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct bb_conn *r = bb_raw(f);
	struct bb_req q;

	expect_status(r, bb_req_hello(&q, 1, 2, NULL), ST(EPROTONOSUPPORT));
	expect_status(r, bb_req_hello(&q, 2, 0, NULL), ST(EPROTONOSUPPORT));
	expect_status(r, bb_req_hello(&q, 3, 0xffffffffu, NULL), ST(EPROTONOSUPPORT));
	assert_int_equal(r->nfds, 0);		/* no arena for a refused hello */
	expect_status(r, bb_req_stat(&q, 4), ST(EPROTO));	/* still no hello */
	bb_resp_free(bb_raw_hello(r, 5, NULL));	/* the connection stayed open */
	expect_stat_ok(r, 6, 0);
	bystander_check(by, 0);
}

static void test_unknown_pool(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct pp_client *c = NULL;
	struct bb_conn *r = bb_raw(f);
	struct bb_req q;

	bb_assert_rc(NULL, pp_connect(f->sock, "nosuchpool", &c), -ENOENT);
	expect_status(r, bb_req_hello(&q, 1, 1, "nosuchpool"), ST(ENOENT));
	expect_status(r, bb_req_hello(&q, 2, 1, "defaul"), ST(ENOENT));
	assert_int_equal(r->nfds, 0);
	bystander_check(by, 0);
}

/* The arena a client receives is sealed: it cannot shrink it (which would
 * fault every other client), grow it, add seals, or make it executable
 * (MFD_NOEXEC_SEAL, where the kernel has it). */
static void test_arena_sealed_for_clients(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct bb_conn *r = bb_raw(f);
	bb_response *w = bb_raw_hello(r, 1, NULL);
	int fd, seals;
	struct stat st;

	assert_int_equal(r->nfds, 1);
	fd = r->fds[0];
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, w->welcome->arena_size);
	seals = fcntl(fd, F_GET_SEALS);
	print_message("arena fd seals 0x%x, mode %o\n", seals, st.st_mode & 07777);
	assert_true(seals >= 0);
	assert_true(seals & F_SEAL_SHRINK);
	assert_true(seals & F_SEAL_GROW);
	assert_true(seals & F_SEAL_SEAL);
	assert_int_equal(ftruncate(fd, st.st_size / 2), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fd, st.st_size * 2), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	assert_int_equal(errno, EPERM);
	/* MFD_NOEXEC_SEAL (Linux >= 6.3): no exec bits, and F_SEAL_EXEC keeps
	 * them off, so the arena can never be run as a program (execveat). */
	if (seals & 0x20 /* F_SEAL_EXEC */) {
		assert_int_equal(st.st_mode & 0111, 0);
		assert_int_equal(fchmod(fd, 0755), -1);
		assert_int_equal(errno, EPERM);
	} else {
		print_message("kernel without MFD_NOEXEC_SEAL: exec seal check skipped\n");
	}
	/* Still a working arena for everyone. */
	bb_resp_free(w);
	bystander_check(by, 0);
}

static void test_pool_groups_eperm(void **state)
{
	struct bb *f = *state;
	struct pp_client *by, *c = NULL;
	struct group *gr = getgrnam("nogroup");
	gid_t groups[256], nog;
	int n = getgroups(256, groups);
	bool member;
	struct bb_conn *r;
	struct bb_req q;

	if (!gr) {
		print_message("no group \"nogroup\" on this system: skipping\n");
		skip();
	}
	nog = gr->gr_gid;
	assert_true(n >= 0);
	member = getgid() == nog || getegid() == nog;
	for (int i = 0; i < n; i++)
		member = member || groups[i] == nog;
	if (member) {
		print_message("this user is in nogroup, so the pool would let it in: skipping\n");
		skip();
	}
	by = start(f, conf_bad);
	bb_assert_rc(NULL, pp_connect(f->sock, "locked", &c), -EPERM);
	r = bb_raw(f);
	expect_status(r, bb_req_hello(&q, 1, 1, "locked"), ST(EPERM));
	assert_int_equal(r->nfds, 0);		/* the arena fd was not handed out */
	bystander_check(by, 0);
}

/* ---- alloc ----------------------------------------------------------------- */

static void test_alloc_bad_args(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct bb_conn *r = bb_raw(f);
	struct bb_req q;
	bb_response *resp;
	uint32_t pfns[MAX_COUNT + 1];
	unsigned got;

	bb_resp_free(bb_raw_hello(r, 1, NULL));
	expect_status(r, bb_req_alloc(&q, 2, 11, 1, 0), ST(EINVAL));
	expect_status(r, bb_req_alloc(&q, 3, 0xffffffffu, 1, 0), ST(EINVAL));
	expect_status(r, bb_req_alloc(&q, 4, 0, 0, 0), ST(EINVAL));
	expect_status(r, bb_req_alloc(&q, 5, 0, MAX_COUNT + 1, 0), ST(E2BIG));
	expect_status(r, bb_req_alloc(&q, 6, 0, 0xffffffffu, 0), ST(E2BIG));
	/* Flags this version does not define: refused (the status is the
	 * daemon's choice), not ignored. */
	resp = bb_rpc(r, bb_req_alloc(&q, 11, 0, 1, 0x80));
	assert_int_not_equal(resp->status, ST(OK));
	assert_int_not_equal(resp->body_case, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
	bb_resp_free(resp);
	expect_stat_ok(r, 7, 0);			/* none of them allocated */
	bystander_check(by, 0);

	/* The limits themselves are fine. */
	bb_raw_alloc(r, 8, 10, 1, NULL);
	bb_raw_alloc(r, 9, 0, MAX_COUNT, NULL);
	expect_stat_ok(r, 10, 1024 + MAX_COUNT);
	bystander_check(by, 1024 + MAX_COUNT);

	/* The same through the library. */
	{
		struct pp_client *c = bb_client(f, NULL);

		assert_int_equal(pp_info(c)->max_count, MAX_COUNT);
		bb_assert_rc(c, pp_alloc(c, 11, 1, 0, pfns, &got), -EINVAL);
		bb_assert_rc(c, pp_alloc(c, 0, 0, 0, pfns, &got), -EINVAL);
		bb_assert_rc(c, pp_alloc(c, 0, MAX_COUNT + 1, 0, pfns, &got), -E2BIG);
		assert_int_equal(bb_stat(c).held, 0);
	}
	bb_conn_close(r);
	bystander_check(by, 0);
}

static void test_quota(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct pp_client *c1 = bb_client(f, "quota"), *c2;
	uint32_t p1[8], p2[8];
	unsigned got;
	struct pp_stat st;

	assert_int_equal(pp_info(c1)->quota_pages, 8);
	/* Per connection: 8 pages. */
	bb_assert_rc(c1, pp_alloc(c1, 0, 8, 0, p1, &got), 0);
	bb_assert_rc(c1, pp_alloc(c1, 0, 1, 0, p2, &got), -EDQUOT);
	bb_assert_rc(c1, pp_alloc(c1, 3, 1, 0, p2, &got), -EDQUOT);
	assert_int_equal(bb_stat(c1).held, 8);

	/* Per uid: 12 pages over all this uid's connections. */
	c2 = bb_client(f, "quota");
	bb_assert_rc(c2, pp_alloc(c2, 0, 4, 0, p2, &got), 0);
	bb_assert_rc(c2, pp_alloc(c2, 0, 1, 0, p2 + 4, &got), -EDQUOT);
	st = bb_stat(c2);
	assert_int_equal(st.held, 4);
	assert_int_equal(st.allocated, 12);

	/* A page given back is room for the uid again. */
	bb_assert_rc(c1, pp_free(c1, p1, 1, NULL), 0);
	bb_assert_rc(c2, pp_alloc(c2, 0, 1, 0, p2 + 4, &got), 0);
	bb_assert_rc(c2, pp_alloc(c2, 0, 1, 0, p2 + 5, &got), -EDQUOT);

	/* A connection's close returns its uid charge too: c2 (5 pages) may
	 * then grow to its own limit of 8. */
	bb_client_close(f, c1);
	bb_expect_allocated(c2, 5, 2000);
	bb_assert_rc(c2, pp_alloc(c2, 0, 3, 0, p2 + 5, &got), 0);
	bb_assert_rc(c2, pp_alloc(c2, 0, 1, 0, p2, &got), -EDQUOT);
	st = bb_stat(c2);
	assert_int_equal(st.held, 8);
	assert_int_equal(st.allocated, 8);
	bb_assert_total(&st);
	bystander_check(by, 0);
}

static void test_pool_exhausted(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct pp_client *c = bb_client(f, "tiny");
	struct pp_stat st = bb_stat(c);
	uint64_t nblocks = st.total / 1024;
	uint32_t blocks[64], pfns[4];
	unsigned got;

	assert_in_range(nblocks, 1, 64);
	bb_assert_rc(c, pp_alloc(c, 10, (unsigned)nblocks, 0, blocks, &got), 0);
	assert_int_equal(got, nblocks);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, pfns, &got), -ENOMEM);
	bb_assert_rc(c, pp_alloc(c, 10, 1, 0, pfns, &got), -ENOMEM);
	st = bb_stat(c);
	assert_int_equal(st.allocated, st.total);
	assert_int_equal(st.free + st.pcp, 0);

	/* All or nothing: 3 half blocks do not fit in one free block... */
	bb_assert_rc(c, pp_free(c, blocks, 1, NULL), 0);
	bb_assert_rc(c, pp_alloc(c, 9, 3, 0, pfns, &got), -ENOMEM);
	st = bb_stat(c);
	assert_int_equal(st.allocated, st.total - 1024);
	/* ...but PARTIAL takes the two that do. */
	bb_assert_rc(c, pp_alloc(c, 9, 3, PP_PARTIAL, pfns, &got), 0);
	assert_int_equal(got, 2);
	st = bb_stat(c);
	assert_int_equal(st.allocated, st.total);
	bb_assert_total(&st);
	bystander_check(by, 0);		/* other pools unaffected */
}

static void test_nowait_empty_cache(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct pp_client *c = bb_client(f, "quiet");
	uint32_t pfns[2];
	unsigned got;
	struct pp_stat st;

	bb_assert_rc(c, pp_alloc(c, 0, 1, PP_NOWAIT, pfns, &got), -EAGAIN);
	st = bb_stat(c);
	assert_int_equal(st.allocated, 0);
	assert_int_equal(st.pcp, 0);		/* NOWAIT did not refill */
	/* A normal alloc refills the worker's list (batch 8): NOWAIT now works. */
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, pfns, &got), 0);
	bb_assert_rc(c, pp_alloc(c, 0, 1, PP_NOWAIT, pfns + 1, &got), 0);
	assert_int_equal(got, 1);
	/* Orders above 3 are never cached. */
	bb_assert_rc(c, pp_alloc(c, 4, 1, PP_NOWAIT, pfns, &got), -EAGAIN);
	st = bb_stat(c);
	assert_int_equal(st.allocated, 2);
	bb_assert_total(&st);
	bystander_check(by, 0);
}

/* ---- free ------------------------------------------------------------------ */

static bool in_list(uint32_t pfn, const uint32_t *l, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (l[i] == pfn)
			return true;
	return false;
}

/* pp_free must fail with `err` at `bad`, freeing nothing. */
#define expect_free_fails(c, list, err, bad) do {					\
	uint32_t _l[] = list;								\
	unsigned _bad = 9999;								\
	uint64_t _held = bb_stat(c).held;						\
	bb_assert_rc(c, pp_free(c, _l, sizeof(_l) / sizeof(_l[0]), &_bad), err);	\
	assert_int_equal(_bad, bad);							\
	assert_int_equal(bb_stat(c).held, _held);					\
} while (0)
#define L(...) { __VA_ARGS__ }

static void test_free_errors(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct pp_client *c = bb_client(f, NULL), *other = bb_client(f, NULL);
	uint32_t p[4], b, q, unalloc = 0, all[10];
	unsigned got;
	uint32_t total = (uint32_t)bb_stat(c).total;
	struct bb_conn *r;
	struct bb_req rq;
	bb_response *resp;

	bb_assert_rc(c, pp_alloc(c, 0, 4, 0, p, &got), 0);
	bb_assert_rc(c, pp_alloc(c, 2, 1, 0, &b, &got), 0);
	bb_assert_rc(other, pp_alloc(other, 0, 1, 0, &q, &got), 0);
	memcpy(all, p, sizeof(p));
	all[4] = b, all[5] = b + 1, all[6] = b + 2, all[7] = b + 3, all[8] = q;
	while (in_list(unalloc, all, 9))
		unalloc++;

	expect_free_fails(c, L(p[0], p[1], total + 5, p[2]), -EINVAL, 2);
	expect_free_fails(c, L(p[0], 0xffffffffu), -EINVAL, 1);
	expect_free_fails(c, L(p[0], total), -EINVAL, 1);
	expect_free_fails(c, L(p[0], b + 1), -EINVAL, 1);	/* a tail page */
	expect_free_fails(c, L(p[0], b, b + 3), -EINVAL, 2);
	expect_free_fails(c, L(p[0], q), -EPERM, 1);		/* another client's */
	expect_free_fails(c, L(p[0], unalloc), -EALREADY, 1);	/* never allocated */
	expect_free_fails(c, L(p[0], p[1], p[0]), -EINVAL, 2);	/* listed twice */
	assert_int_equal(bb_stat(other).held, 1);
	bystander_check(by, 9);

	/* A double free. */
	bb_assert_rc(c, pp_free(c, &p[3], 1, NULL), 0);
	expect_free_fails(c, L(p[0], p[1], p[3]), -EALREADY, 2);
	bystander_check(by, 8);

	/* On the wire: status, bad_index, no Freed body. */
	r = bb_raw(f);
	bb_resp_free(bb_raw_hello(r, 1, NULL));
	{
		uint32_t mine[2];

		bb_raw_alloc(r, 2, 0, 2, mine);
		resp = bb_rpc(r, bb_req_free(&rq, 3, (uint32_t[]){ mine[0], mine[1], q }, 3));
		bb_assert_status(resp, ST(EPERM));
		assert_int_equal(resp->bad_index, 2);
		assert_int_not_equal(resp->body_case, PAGEPOOL__V1__RESPONSE__BODY_FREED);
		bb_resp_free(resp);
		expect_stat_ok(r, 4, 2);
		resp = bb_rpc(r, bb_req_free(&rq, 5, mine, 2));
		bb_assert_status(resp, ST(OK));
		assert_int_equal(resp->body_case, PAGEPOOL__V1__RESPONSE__BODY_FREED);
		assert_int_equal(resp->freed->pages, 2);
		bb_resp_free(resp);
	}

	/* Everything that failed is still ours to free. */
	bb_assert_rc(c, pp_free(c, (uint32_t[]){ p[0], p[1], p[2], b }, 4, NULL), 0);
	assert_int_equal(bb_stat(c).held, 0);
	bb_assert_rc(other, pp_free(other, &q, 1, NULL), 0);
	bystander_check(by, 0);
}

/* Errors in the middle of a pipeline are answered in order like the rest. */
static void test_errors_pipelined(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct pp_client *other = bb_client(f, NULL);
	struct bb_conn *r = bb_raw(f);
	struct bb_buf b = { 0 };
	struct bb_req q;
	uint32_t theirs, first = 0;
	unsigned got;
	static const int want[] = {
		ST(OK), ST(EINVAL), ST(OK), ST(EPERM), ST(E2BIG), ST(EPROTO), ST(OK),
	};

	bb_assert_rc(other, pp_alloc(other, 0, 1, 0, &theirs, &got), 0);
	bb_resp_free(bb_raw_hello(r, 1, NULL));
	bb_buf_add_msg(&b, &bb_req_alloc(&q, 10, 0, 2, 0)->base, NULL, 0);
	bb_buf_add_msg(&b, &bb_req_alloc(&q, 11, 12, 1, 0)->base, NULL, 0);
	bb_buf_add_msg(&b, &bb_req_stat(&q, 12)->base, NULL, 0);
	bb_buf_add_msg(&b, &bb_req_free(&q, 13, &theirs, 1)->base, NULL, 0);
	bb_buf_add_msg(&b, &bb_req_alloc(&q, 14, 0, MAX_COUNT + 1, 0)->base, NULL, 0);
	bb_buf_add_msg(&b, &bb_req_hello(&q, 15, 1, NULL)->base, NULL, 0);
	bb_buf_add_msg(&b, &bb_req_stat(&q, 16)->base, NULL, 0);
	assert_int_equal(bb_conn_send_buf(r, &b), 0);
	bb_buf_free(&b);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bb_response *resp;

		assert_int_equal(bb_conn_recv(r, BB_IO_TIMEOUT_MS, &resp), 0);
		assert_int_equal(resp->id, 10 + i);
		bb_assert_status(resp, want[i]);
		if (i == 0)
			first = resp->pages->pfns[0];
		if (resp->body_case == PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT)
			assert_int_equal(resp->pool_stat->held, 2);
		bb_resp_free(resp);
	}
	assert_int_not_equal(first, theirs);
	assert_int_equal(bb_stat(other).held, 1);	/* the EPERM free took nothing */
	bystander_check(by, 3);
	bb_conn_close(r);
	bystander_check(by, 1);
}

/* ---- malformed requests ------------------------------------------------------ */

static void test_unknown_field(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct bb_conn *r = bb_raw(f);
	struct bb_req q;
	bb_response *resp;
	/* field 15 as a varint (tag 15 << 3 | 0), and as bytes (15 << 3 | 2) */
	static const uint8_t varint15[] = { 0x78, 0x01 };
	static const uint8_t bytes15[] = { 0x7a, 0x03, 'a', 'b', 'c' };

	bb_resp_free(bb_raw_hello(r, 1, NULL));

	assert_int_equal(bb_conn_send_req(r, bb_req_stat(&q, 2), varint15, sizeof(varint15)), 0);
	assert_int_equal(bb_conn_recv(r, BB_IO_TIMEOUT_MS, &resp), 0);
	assert_int_equal(resp->id, 2);
	bb_assert_status(resp, ST(EPROTO));
	bb_resp_free(resp);

	assert_int_equal(bb_conn_send_req(r, bb_req_alloc(&q, 3, 0, 1, 0), bytes15,
					  sizeof(bytes15)), 0);
	assert_int_equal(bb_conn_recv(r, BB_IO_TIMEOUT_MS, &resp), 0);
	assert_int_equal(resp->id, 3);
	bb_assert_status(resp, ST(EPROTO));
	bb_resp_free(resp);

	/* Unknown field inside the Alloc body: Alloc{order 0, count 1, 15: 1}. */
	{
		struct bb_buf b = { 0 };
		static const uint8_t alloc_body[] = { 0x10, 0x01, 0x78, 0x01 };
		uint8_t req[] = { 0x08, 0x04, 0x1a, sizeof(alloc_body) };

		bb_buf_add_be32(&b, sizeof(req) + sizeof(alloc_body));
		bb_buf_add(&b, req, sizeof(req));
		bb_buf_add(&b, alloc_body, sizeof(alloc_body));
		assert_int_equal(bb_conn_send_buf(r, &b), 0);
		bb_buf_free(&b);
		assert_int_equal(bb_conn_recv(r, BB_IO_TIMEOUT_MS, &resp), 0);
		assert_int_equal(resp->id, 4);
		bb_assert_status(resp, ST(EPROTO));
		bb_resp_free(resp);
	}

	/* Nothing was allocated, and the connection stays open. */
	expect_stat_ok(r, 5, 0);
	bystander_check(by, 0);
}

static void test_request_without_body(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	struct bb_conn *r = bb_raw(f);
	struct bb_req q;

	expect_status(r, bb_req_none(&q, 1), ST(EPROTO));	/* before hello */
	bb_resp_free(bb_raw_hello(r, 2, NULL));
	expect_status(r, bb_req_none(&q, 3), ST(EPROTO));
	expect_stat_ok(r, 4, 0);
	bystander_check(by, 0);
}

/* ---- framing errors: a response with id 0 (where one is due), then close ---- */

/*
 * A raw client in the default pool holding 4 pages sends `bytes` (then
 * shuts down its write side if `shut`); the daemon must answer `status`
 * with id 0 (status < 0: no particular answer, at most one) and close the
 * connection, and the pages must come back.
 */
static void framing_case(struct bb *f, struct pp_client *by, const void *bytes, size_t len,
			 int status, bool shut)
{
	struct bb_conn *r = bb_raw(f);
	bb_response *resp = NULL;
	unsigned more;
	int ret;

	bb_resp_free(bb_raw_hello(r, 1, NULL));
	bb_raw_alloc(r, 2, 0, 4, NULL);
	bystander_check(by, 4);

	assert_int_equal(bb_conn_send(r, bytes, len, BB_IO_TIMEOUT_MS), 0);
	if (shut)
		assert_int_equal(shutdown(r->fd, SHUT_WR), 0);
	if (status >= 0) {
		ret = bb_conn_recv(r, BB_IO_TIMEOUT_MS, &resp);
		if (ret != 0)
			print_error("expected a %s response, got %s\n", bb_status_name(status),
				    ret == -ECONNRESET ? "a close without one" : strerror(-ret));
		assert_int_equal(ret, 0);
		assert_int_equal(resp->id, 0);
		bb_assert_status(resp, status);
		bb_resp_free(resp);
	}
	ret = bb_conn_wait_close(r, BB_IO_TIMEOUT_MS, &more);
	if (ret != 0)
		print_error("the daemon did not close the connection within %d ms\n",
			    BB_IO_TIMEOUT_MS);
	assert_int_equal(ret, 0);
	assert_in_range(more, 0, status >= 0 ? 0 : 1);
	bb_conn_close(r);
	bystander_check(by, 0);
}

static void test_frame_too_long(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	/* Only the header: the daemon must judge the length before the body. */
	static const uint8_t over[] = { 0, 0, (MAX_FRAME + 1) >> 8, (MAX_FRAME + 1) & 0xff };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };

	struct bb_conn *r = bb_raw(f);
	struct bb_req q;
	bb_response *resp;
	uint8_t pad[MAX_FRAME];
	size_t base = protobuf_c_message_get_packed_size(&bb_req_stat(&q, 7)->base);

	/* A frame of exactly max_frame bytes is not too long: a Stat padded
	 * with an unknown bytes field (tag, 2-byte length, data) to MAX_FRAME
	 * gets EPROTO for the field, and the connection stays open. */
	bb_resp_free(bb_raw_hello(r, 1, NULL));
	pad[0] = 0x7a;
	pad[1] = (uint8_t)(0x80 | ((MAX_FRAME - base - 3) & 0x7f));
	pad[2] = (uint8_t)((MAX_FRAME - base - 3) >> 7);
	memset(pad + 3, 'x', MAX_FRAME - base - 3);
	assert_int_equal(bb_conn_send_req(r, bb_req_stat(&q, 7), pad, MAX_FRAME - base), 0);
	assert_int_equal(bb_conn_recv(r, BB_IO_TIMEOUT_MS, &resp), 0);
	assert_int_equal(resp->id, 7);
	bb_assert_status(resp, ST(EPROTO));
	bb_resp_free(resp);
	expect_stat_ok(r, 8, 0);
	bb_conn_close(r);

	framing_case(f, by, over, sizeof(over), ST(E2BIG), false);
	framing_case(f, by, huge, sizeof(huge), ST(E2BIG), false);
}

static void test_frame_garbage(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	/* An unterminated varint; then a field with wire type 7, which does not exist. */
	static const uint8_t garbage[] = { 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff };
	static const uint8_t badtype[] = { 0, 0, 0, 3, 0x0f, 0x01, 0x02 };

	framing_case(f, by, garbage, sizeof(garbage), ST(EPROTO), false);
	framing_case(f, by, badtype, sizeof(badtype), ST(EPROTO), false);
}

/* A zero-length frame is no framing error: it is the empty Request (id 0,
 * no body), refused as such on a connection that stays open. */
static void test_frame_zero_length(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	struct bb_conn *r = bb_raw(f);
	bb_response *resp;

	bb_resp_free(bb_raw_hello(r, 1, NULL));
	bb_raw_alloc(r, 2, 0, 4, NULL);
	assert_int_equal(bb_conn_send(r, zero, sizeof(zero), BB_IO_TIMEOUT_MS), 0);
	assert_int_equal(bb_conn_recv(r, BB_IO_TIMEOUT_MS, &resp), 0);
	assert_int_equal(resp->id, 0);
	bb_assert_status(resp, ST(EPROTO));
	assert_non_null(strstr(resp->error, "request has no known body"));
	bb_resp_free(resp);
	expect_stat_ok(r, 3, 4);
	bystander_check(by, 4);
}

static void test_eof_mid_frame(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_bad);
	static const uint8_t half_body[] = { 0, 0, 0, 100, 8, 1, 0x2a, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t half_header[] = { 0, 0 };

	framing_case(f, by, half_body, sizeof(half_body), -1, true);
	framing_case(f, by, half_header, sizeof(half_header), -1, true);
}

/* ---- a client that never reads ------------------------------------------------ */

static void test_slow_reader_disconnected(void **state)
{
	struct bb *f = *state;
	struct pp_client *by = start(f, conf_slow);
	struct bb_conn *r = bb_raw(f);
	struct bb_buf batch = { 0 };
	struct bb_req q;
	int64_t deadline;
	unsigned long sent = 0;
	unsigned more;
	int ret = 0;

	bb_resp_free(bb_raw_hello(r, 1, NULL));
	bb_raw_alloc(r, 2, 0, 16, NULL);
	bystander_check(by, 16);

	for (unsigned i = 0; i < 256; i++)
		bb_buf_add_msg(&batch, &bb_req_stat(&q, 100 + i)->base, NULL, 0);
	/* Stat requests, never reading an answer, until the daemon hangs up. */
	deadline = bb_now_ms() + 10000;
	while (bb_left_ms(deadline) > 0) {
		ret = bb_conn_send(r, batch.p, batch.len, bb_left_ms(deadline));
		if (ret != 0)
			break;
		sent += 256;
		/* Meanwhile the bystander is served. */
		if (sent % 8192 == 0)
			assert_int_equal(bb_stat(by).held, 0);
	}
	bb_buf_free(&batch);
	print_message("daemon stopped taking requests after %lu unread stat requests: %s\n",
		      sent, strerror(-ret));
	if (ret != -EPIPE && ret != -ECONNRESET)
		fail_msg("a client that does not read was not disconnected within 10 s "
			 "(max_output = 16K, write_timeout = 1; send: %s)", strerror(-ret));
	/* What it had sent before the close may still be readable; then EOF. */
	assert_int_equal(bb_conn_wait_close(r, BB_IO_TIMEOUT_MS, &more), 0);
	assert_true(more < sent);
	bb_conn_close(r);
	bystander_check(by, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_request_before_hello),
		bb_test(test_second_hello),
		bb_test(test_hello_bad_version),
		bb_test(test_unknown_pool),
		bb_test(test_pool_groups_eperm),
		bb_test(test_alloc_bad_args),
		bb_test(test_quota),
		bb_test(test_pool_exhausted),
		bb_test(test_nowait_empty_cache),
		bb_test(test_free_errors),
		bb_test(test_errors_pipelined),
		bb_test(test_unknown_field),
		bb_test(test_request_without_body),
		bb_test(test_frame_too_long),
		bb_test(test_frame_garbage),
		bb_test(test_frame_zero_length),
		bb_test(test_eof_mid_frame),
		bb_test(test_slow_reader_disconnected),
		bb_test(test_arena_sealed_for_clients),
	};

	return cmocka_run_group_tests_name("blackbox bad input", tests, NULL, NULL);
}
