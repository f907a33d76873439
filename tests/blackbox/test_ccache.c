/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ccache.c - black-box tests of the daemon's side of client caches
 * (issue 15, proto/ccache.h), spoken raw: hello with FEATURE_CACHE,
 * CacheMap, the region's memfd mapped by the test, which then acts as the
 * client by hand (tests/lib/bb_ccache.h) - honestly, hostilely, stopped
 * inside an operation, or killed in the middle of one.
 *
 *  - the feature and CacheMap are refused where they must be;
 *  - a drain of one cache flips `active`, frees exactly the listed pages
 *    and counts them (AdminDrained, ClientInfo, status);
 *  - garbage in the region frees nothing that is not the client's, is
 *    counted as its errors, and the daemon lives on;
 *  - a client stopped inside an operation delays only its own drain, up to
 *    client_cache_grace_ms, is reported stuck and named by offline;
 *  - kill -9 inside an operation, offline, an allocation about to fail
 *    ENOMEM and idle decay all bring cached pages back;
 *  - an allocation about to fail ENOMEM waits for no stopped client (nor
 *    holds the admin thread, nor reports it stuck), and drains no cache
 *    when even every cache could not satisfy it;
 *  - 1,000 drains against clients pushing and popping lose nothing;
 *  - the daemon sends no signal and calls no membarrier while it drains,
 *    and a client sees no signal.
 *
 * Every test ends with the admin verify of the pools and, where clients
 * leave, the pool's allocated pages back at 0.
 */
#include <sched.h>
#include <sys/mman.h>

#include "bb.h"
#include "bb_ccache.h"

#define ST(x)		PAGEPOOL__V1__STATUS__##x
#define ADM(x)		PAGEPOOL__V1__ADMIN_REQUEST__BODY_##x
#define ADR(x)		PAGEPOOL__V1__ADMIN_RESPONSE__BODY_##x
#define F_RUNS		PAGEPOOL__V1__FEATURE__FEATURE_RUNS
#define F_CACHE		PAGEPOOL__V1__FEATURE__FEATURE_CACHE
#define GRACE_MS	300		/* client_cache_grace_ms of most tests */
#define SMALL_PAGES	1024u		/* pool "small": one 4 MiB range */
#define SETTLE_MS	5000
#define KID_MS		10000		/* a child's next word */
#define NPOOLS		3		/* default, small, nocache: what verify lists */

static char conf_buf[1024];

/* The config; decay_interval (seconds, 0: off) and client_cache_grace_ms
 * vary by test. */
static const char *conf(unsigned decay, unsigned grace_ms)
{
	snprintf(conf_buf, sizeof(conf_buf),
		 "[daemon]\n"
		 "socket = @SOCKET@\n"
		 "admin_socket = @DIR@/admin.sock\n"
		 "workers = auto\n"
		 "decay_interval = %u\n"
		 "client_cache_grace_ms = %u\n"
		 "\n"
		 "[pool default]\n"
		 "size = 16M\n"
		 "client_cache_high = 64\n"
		 "client_cache_batch = 16\n"
		 "\n"
		 "[pool small]\n"
		 "size = 4M\n"
		 "client_cache_high = 511\n"
		 "client_cache_batch = 64\n"
		 "\n"
		 "[pool nocache]\n"
		 "size = 4M\n"
		 "client_cache_high = 0\n", decay, grace_ms);
	return conf_buf;
}

/* ---- admin (tests/lib/bb_admin.h) ----------------------------------------------- */

/* Assert a drain answer is an OK AdminDrained of mode "clients". */
static void drained_ok(const struct bb_admin_drained *d, const char *what)
{
	if (d->status != ST(OK) || !d->body || strcmp(d->mode, "clients") != 0)
		print_error("%s: %s \"%s\", %s, mode \"%s\" (expected OK, mode \"clients\")\n",
			    what, bb_status_name(d->status), d->error,
			    d->body ? "AdminDrained" : "no AdminDrained", d->mode);
	assert_int_equal(d->status, ST(OK));
	assert_true(d->body);
	assert_string_equal(d->mode, "clients");
}

/* drain --clients [pool], or --client ID: asserts it answered OK. */
static struct bb_admin_drained drain_clients(struct bb_conn *a, const char *pool,
					     uint64_t client_id)
{
	struct bb_admin_drained d = bb_admin_drain_clients(a, pool, client_id);

	drained_ok(&d, client_id ? "drain --client" : "drain --clients");
	return d;
}

static void drained_print(const char *what, const struct bb_admin_drained *d)
{
	print_message("%s: pages %llu, clients %u, stuck %zu%s%llu, bad %llu, usec %llu, "
		      "%lld ms seen by the test\n", what, (unsigned long long)d->pages,
		      d->clients, d->nstuck, d->nstuck ? " first " : " ",
		      (unsigned long long)(d->nstuck ? d->stuck[0] : 0),
		      (unsigned long long)d->bad, (unsigned long long)d->usec, (long long)d->ms);
}

#define CHECK_INFO(in, field, want) do {						\
	if ((in).field != (uint64_t)(want))						\
		print_error("line %d: client %s = %llu, expected %llu\n", __LINE__, #field,	\
			    (unsigned long long)(in).field, (unsigned long long)(want));	\
	assert_int_equal((in).field, (uint64_t)(want));					\
} while (0)

/* Assert what admin `clients` says of client id. */
static void expect_client(struct bb_conn *a, uint64_t id, uint64_t pages, uint64_t cached,
			  uint64_t drains, uint64_t errors)
{
	struct bb_admin_client in = bb_admin_client_info(a, id);

	CHECK_INFO(in, pages, pages);
	CHECK_INFO(in, cached, cached);
	CHECK_INFO(in, drains, drains);
	CHECK_INFO(in, errors, errors);
}

/* ---- raw cache clients in the test process ------------------------------------- */

#define CC_OK(k, expr) do {								\
	int _r = (expr);								\
	if (_r != 0)									\
		print_error("%s = %d (%s): %s\n", #expr, _r,				\
			    _r > 0 ? bb_status_name(_r) : strerror(-_r), (k)->error);	\
	assert_int_equal(_r, 0);							\
} while (0)

/* Connect k to `pool` (NULL: default) with FEATURE_CACHE and map its
 * region. */
static void cc_join(struct bb *f, struct bb_cc *k, const char *pool)
{
	CC_OK(k, bb_cc_hello(k, bb_raw(f), pool, F_CACHE));
	assert_int_equal(k->features & F_CACHE, F_CACHE);
	assert_true(k->high > 0);
	CC_OK(k, bb_cc_map(k));
	assert_int_equal(k->r->active, 0);
}

/* Close k's connection (the daemon sees the client go). */
static void cc_leave(struct bb_cc *k)
{
	bb_cc_unmap(k);
	bb_conn_close(k->c);
}

static void alloc_ok(struct bb_cc *k, uint32_t order, uint32_t count, uint32_t *pfns)
{
	size_t got = 0;

	CC_OK(k, bb_cc_alloc(k, order, count, pfns, &got));
	assert_int_equal(got, count);
}

static void free_ok(struct bb_cc *k, const uint32_t *pfns, size_t n, uint64_t pages)
{
	uint64_t got = 0;

	CC_OK(k, bb_cc_free(k, pfns, n, &got));
	assert_int_equal(got, pages);
}

/* A Free refused with `status`: the page is no longer k's. */
static void free_refused(struct bb_cc *k, const uint32_t *pfns, size_t n, int status)
{
	int r = bb_cc_free(k, pfns, n, NULL);

	if (r != status)
		print_error("free of pfn %u: %d (%s) \"%s\", expected %s\n", pfns[0], r,
			    r > 0 ? bb_status_name(r) : r ? strerror(-r) : "OK", k->error,
			    bb_status_name(status));
	assert_int_equal(r, status);
}

static void push_ok(struct bb_cc *k, unsigned order, const uint32_t *pfns, size_t n)
{
	assert_int_equal(bb_cc_push(k, order, pfns, n), n);
}

/* ---- forked clients ----------------------------------------------------------- */

/* Messages between the test and a child: K_ from the child, C_ to it. */
enum {
	K_READY = 1, K_ENTERED, K_LEFT, K_QUIET, K_DONE, K_FAIL,
	C_ENTER = 100, C_LEAVE, C_FREE, C_QUIT,
};

struct kmsg {
	uint32_t what;
	int32_t memfd;			/* the child's region fd (bb_cc_map_proc) */
	uint64_t client_id;
	uint64_t allocated, freed;	/* pages by Alloc, by Free */
	uint64_t local, ops, unasked;
	uint32_t n;
	uint32_t pfns[32];
	char text[200];
};

/* Child: tell the test, or die. */
static void kid_send(int fd, struct kmsg *m, uint32_t what)
{
	m->what = what;
	if (bb_kid_send(fd, m, sizeof(*m)) != 0)
		_exit(3);
}

/* Child: say what went wrong and leave. */
static void kid_fail(int fd, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void kid_fail(int fd, const char *fmt, ...)
{
	struct kmsg m;
	va_list ap;

	memset(&m, 0, sizeof(m));
	va_start(ap, fmt);
	vsnprintf(m.text, sizeof(m.text), fmt, ap);
	va_end(ap);
	m.what = K_FAIL;
	bb_kid_send(fd, &m, sizeof(m));
	_exit(2);
}

/* Child: wait (bounded) for the test's command `want`. */
static void kid_expect(int fd, uint32_t want)
{
	struct kmsg m;
	ssize_t n = bb_kid_recv(fd, &m, sizeof(m), 120000);

	if (n != (ssize_t)sizeof(m) || m.what != want)
		kid_fail(fd, "expected command %u, got %zd bytes, %u", want, n,
			 n == (ssize_t)sizeof(m) ? m.what : 0);
}

/* Test: receive the child's message `want`; fails with its words if it
 * failed instead. */
static struct kmsg kid_wait(int fd, uint32_t want, int timeout_ms)
{
	struct kmsg m;
	ssize_t n = bb_kid_recv(fd, &m, sizeof(m), timeout_ms);

	if (n != (ssize_t)sizeof(m))
		fail_msg("child: %s waiting for message %u",
			 n == -ETIMEDOUT ? "silent" : n < 0 ? strerror((int)-n) : "short message",
			 want);
	m.text[sizeof(m.text) - 1] = '\0';
	if (m.what == K_FAIL)
		fail_msg("child failed: %s", m.text);
	assert_int_equal(m.what, want);
	return m;
}

static void kid_cmd(int fd, uint32_t what)
{
	struct kmsg m;

	memset(&m, 0, sizeof(m));
	m.what = what;
	assert_int_equal(bb_kid_send(fd, &m, sizeof(m)), 0);
}

/* Fork a child of the fixture running fn(f, fd, arg) (fn never returns);
 * the test's end of the channel in *fd. */
static pid_t kid_start(struct bb *f, void (*fn)(struct bb *, int, void *), void *arg, int *fd)
{
	struct bb_kid_chan ch;
	pid_t pid;

	assert_int_equal(bb_kid_chan_open(&ch), 0);
	pid = bb_fork(f);
	if (pid == 0) {
		fn(f, bb_kid_chan_side(&ch, true), arg);
		_exit(0);
	}
	*fd = bb_kid_chan_side(&ch, false);
	return pid;
}

/* Child: connect to `pool` with FEATURE_CACHE and map the region. */
static void kid_join(struct bb *f, int fd, struct bb_conn *c, struct bb_cc *k, const char *pool,
		     struct kmsg *m)
{
	int r;

	memset(m, 0, sizeof(*m));
	r = bb_conn_open(c, f->sock);
	if (r < 0)
		kid_fail(fd, "connect: %s", strerror(-r));
	r = bb_cc_hello(k, c, pool, F_CACHE);
	if (r != 0 || !(k->features & F_CACHE))
		kid_fail(fd, "hello: %d, features %u: %s", r, k->features, k->error);
	r = bb_cc_map(k);
	if (r != 0)
		kid_fail(fd, "CacheMap: %d: %s", r, k->error);
	m->client_id = k->client_id;
	m->memfd = k->memfd;
}

/* Is pid stopped (state T in /proc/PID/stat)? */
static bool proc_stopped(pid_t pid)
{
	char path[64], *text, *p;
	bool stopped;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	text = bb_slurp(path);
	p = strrchr(text, ')');
	stopped = p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
	free(text);
	return stopped;
}

/* SIGSTOP pid and wait until it is stopped. */
static void kid_stop(pid_t pid)
{
	int64_t deadline = bb_now_ms() + SETTLE_MS;

	assert_int_equal(kill(pid, SIGSTOP), 0);
	while (!proc_stopped(pid)) {
		if (!bb_left_ms(deadline))
			fail_msg("child %d not stopped %d ms after SIGSTOP", (int)pid, SETTLE_MS);
		poll(NULL, 0, 1);
	}
}

/* ---- 1. the feature and CacheMap ----------------------------------------------- */

/* CacheMap: its status and how many fds came with it. */
static int map_status(struct bb_cc *k, unsigned *fds)
{
	int r = bb_cc_map_raw(k, fds);

	assert_true(r >= 0);	/* an answer came */
	return r;
}

/*
 * FEATURE_CACHE is granted only by a pool that caches and only when asked;
 * CacheMap is refused before hello (EPROTO), without the feature (EPERM)
 * and the second time (EALREADY), each time without an fd and on a
 * connection that goes on.  A granted map is the sealed region ccache.h
 * describes, empty, with the pool's high and batch.
 */
static void test_feature_and_map(void **state)
{
	struct bb *f = *state;
	struct bb_cc k, n, o, g;
	struct bb_conn *a;
	uint32_t p[2];
	unsigned fds;
	int seals;

	bb_start(f, conf(0, GRACE_MS));
	a = bb_admin_open(f);

	/* Before hello: refused for coming first; the connection goes on. */
	memset(&k, 0, sizeof(k));
	k.c = bb_raw(f);
	k.id = 1;
	k.memfd = -1;
	assert_int_equal(map_status(&k, &fds), ST(EPROTO));
	assert_int_equal(fds, 0);
	CC_OK(&k, bb_cc_hello(&k, k.c, NULL, F_CACHE));
	assert_int_equal(k.c->nfds, 1);		/* the arena, no region */

	/* A pool without client caches does not grant the feature. */
	CC_OK(&n, bb_cc_hello(&n, bb_raw(f), "nocache", F_CACHE | F_RUNS));
	assert_int_equal(n.features, F_RUNS);
	assert_int_equal(n.high, 0);
	print_message("nocache pool: Welcome cache_high %u, cache_batch %u\n", n.high, n.batch);
	assert_int_equal(map_status(&n, &fds), ST(EPERM));
	assert_int_equal(fds, 0);
	alloc_ok(&n, 0, 2, p);
	free_ok(&n, p, 2, 2);

	/* A caching pool, the feature not asked for. */
	CC_OK(&o, bb_cc_hello(&o, bb_raw(f), NULL, 0));
	assert_int_equal(o.features, 0);
	assert_int_equal(map_status(&o, &fds), ST(EPERM));
	assert_int_equal(fds, 0);

	/* Granted: the pool's numbers, a sealed region, empty. */
	CC_OK(&g, bb_cc_hello(&g, bb_raw(f), NULL, F_CACHE | F_RUNS));
	assert_int_equal(g.features, F_CACHE | F_RUNS);
	assert_int_equal(g.high, 64);
	assert_int_equal(g.batch, 16);
	CC_OK(&g, bb_cc_map(&g));
	assert_int_equal(g.map_size, PP_CC_SIZE);
	seals = fcntl(g.memfd, F_GET_SEALS);
	print_message("region: %zu bytes, seals 0x%x\n", (size_t)PP_CC_SIZE, seals);
	assert_true(seals >= 0);
	assert_true(seals & F_SEAL_SHRINK);
	assert_true(seals & F_SEAL_GROW);
	assert_int_not_equal(ftruncate(g.memfd, 0), 0);
	assert_int_not_equal(ftruncate(g.memfd, 2 * PP_CC_SIZE), 0);
	assert_int_equal(g.r->active, 0);
	assert_int_equal(g.r->seq, 0);
	assert_int_equal(g.r->drains, 0);
	for (unsigned s = 0; s < 2; s++)
		for (unsigned o2 = 0; o2 < PP_CC_ORDERS; o2++)
			assert_int_equal(bb_cc_count(g.r, s, o2), 0);
	expect_client(a, g.client_id, 0, 0, 0, 0);

	/* Once per connection. */
	assert_int_equal(map_status(&g, &fds), ST(EALREADY));
	assert_int_equal(fds, 0);
	assert_int_equal(g.c->nfds, 2);
	alloc_ok(&g, 0, 2, p);
	free_ok(&g, p, 2, 2);

	cc_leave(&g);
	bb_admin_verify(a, NPOOLS);
	bb_admin_settle(a, "default", 0, SETTLE_MS);
}

/* ---- 2. the drain of an honest cache -------------------------------------------- */

/*
 * 40 pages allocated, 32 of them in the client's list: drain --client
 * frees exactly those 32, flips `active`, zeroes the old count, counts one
 * drain; the client still holds the other 8, the 32 are no longer its
 * (EALREADY).  What it pushes next goes to the other set, and the next
 * drain (--clients of the pool) takes it and flips back.
 */
static void test_drain_honest(void **state)
{
	struct bb *f = *state;
	uint32_t p[40], q[4];
	struct bb_conn *a;
	struct bb_admin_drained d;
	struct bb_admin_counts c;
	struct bb_admin_client in;
	struct bb_cc k;
	uint64_t spare;

	bb_start(f, conf(0, GRACE_MS));
	a = bb_admin_open(f);
	cc_join(f, &k, NULL);
	alloc_ok(&k, 0, 40, p);
	push_ok(&k, 0, p, 32);
	assert_int_equal(bb_cc_count(k.r, 0, 0), 32);
	assert_int_equal(k.r->seq, 2);
	expect_client(a, k.client_id, 40, 32, 0, 0);
	c = bb_admin_pool_counts(a, "default");
	assert_int_equal(c.allocated, 40);
	assert_int_equal(c.cached, 32);
	spare = c.free + c.pcp;

	d = drain_clients(a, NULL, k.client_id);
	drained_print("drain --client", &d);
	assert_int_equal(d.pages, 32);
	assert_int_equal(d.clients, 1);
	assert_int_equal(d.nstuck, 0);
	assert_int_equal(d.bad, 0);
	assert_int_equal(k.r->active, 1);
	assert_int_equal(bb_cc_count(k.r, 0, 0), 0);
	assert_int_equal(bb_cc_count(k.r, 1, 0), 0);
	assert_int_equal(k.r->drains, 1);
	in = bb_admin_client_info(a, k.client_id);
	CHECK_INFO(in, pages, 8);
	CHECK_INFO(in, cached, 0);
	CHECK_INFO(in, drains, 1);
	CHECK_INFO(in, errors, 0);
	CHECK_INFO(in, stuck, 0);
	c = bb_admin_pool_counts(a, "default");
	assert_int_equal(c.allocated, 8);
	assert_int_equal(c.cached, 0);
	assert_int_equal(c.free + c.pcp, spare + 32);	/* free again */
	free_refused(&k, &p[0], 1, ST(EALREADY));
	free_refused(&k, &p[31], 1, ST(EALREADY));

	/* The next pushes land in set 1; a drain of the pool takes them. */
	alloc_ok(&k, 0, 4, q);
	push_ok(&k, 0, q, 4);
	assert_int_equal(bb_cc_count(k.r, 1, 0), 4);
	expect_client(a, k.client_id, 12, 4, 1, 0);
	d = drain_clients(a, "default", 0);
	drained_print("drain --clients default", &d);
	assert_int_equal(d.pages, 4);
	assert_int_equal(d.clients, 1);
	assert_int_equal(d.nstuck, 0);
	assert_int_equal(k.r->active, 0);
	assert_int_equal(bb_cc_count(k.r, 1, 0), 0);
	assert_int_equal(k.r->drains, 2);
	expect_client(a, k.client_id, 8, 0, 2, 0);

	/* A drain of an empty cache frees nothing. */
	d = drain_clients(a, NULL, 0);
	assert_int_equal(d.pages, 0);
	assert_int_equal(d.nstuck, 0);

	free_ok(&k, p + 32, 8, 8);
	bb_admin_settle(a, "default", 0, SETTLE_MS);
	bb_admin_verify(a, NPOOLS);
	cc_leave(&k);
}

/* ---- 3. hostility ------------------------------------------------------------------ */

/* Fill list[set][order] with `count` and pfn[i] = pfns[i % n] for the whole
 * list (what lies beyond count too). */
static void list_fill(struct pp_cc_region *r, unsigned set, unsigned order, uint32_t count,
		      const uint32_t *pfns, size_t n)
{
	for (unsigned i = 0; i < PP_CC_CAP; i++)
		r->list[set][order].pfn[i] = pfns[i % n];
	r->list[set][order].count = count;
}

/* Garbage where the daemon writes: it must never read it back. */
static void header_garbage(struct pp_cc_region *r)
{
	r->magic = 0xdeadbeef;
	r->version = 99;
	r->size = 1;
	r->active = 0x55555555;
	r->drains = ~0ull;
	r->hits = r->misses = r->spills = 0x4141414141414141ull;
}

/*
 * A hostile client H writes, into the set in use, its own good blocks next
 * to a duplicate, another client's held and cached pages, a free page,
 * pfns out of range, a page inside one of its blocks, a block in the list
 * of another order; into the spare set, the other client's pages; garbage
 * into the header and `active`.  The drain frees exactly H's good blocks
 * and counts the 10 bad entries.  Then counts of 0xffffffff, CAP + 1 and
 * CAP over lists of garbage next to one good block: that block is freed,
 * nothing else.  The other client O keeps all its pages throughout.
 */
static void test_hostile_region(void **state)
{
	struct bb *f = *state;
	uint32_t g[8], b1[2], b2[1], x[1], o[16], o1[4], gg[1], junk[3];
	struct bb_conn *a;
	struct pp_cc_region *r;
	struct bb_cc h, ob;
	struct bb_admin_drained d;
	uint64_t bad1;

	bb_start(f, conf(0, GRACE_MS));
	a = bb_admin_open(f);
	cc_join(f, &ob, NULL);
	alloc_ok(&ob, 0, 16, o);
	push_ok(&ob, 0, o + 8, 8);
	alloc_ok(&ob, 1, 4, o1);
	expect_client(a, ob.client_id, 24, 8, 0, 0);

	cc_join(f, &h, NULL);
	r = h.r;
	alloc_ok(&h, 0, 8, g);
	alloc_ok(&h, 1, 2, b1);
	alloc_ok(&h, 2, 1, b2);
	alloc_ok(&h, 0, 1, x);
	free_ok(&h, x, 1, 1);		/* x is free now */
	expect_client(a, h.client_id, 16, 0, 0, 0);

	/* Round 1: set 0 is in use (the daemon's copy of active). */
	{
		const uint32_t l0[] = { g[0], g[1], g[2], g[3], g[0], o[0], o[8], x[0],
					h.npages, 0xffffffffu, b2[0] + 1, b1[0] };
		const uint32_t l1[] = { b1[1], b2[0] + 2, g[4] };

		memcpy(r->list[0][0].pfn, l0, sizeof(l0));
		r->list[0][0].count = 12;
		memcpy(r->list[0][1].pfn, l1, sizeof(l1));
		r->list[0][1].count = 3;
		r->list[0][2].pfn[0] = b2[0];
		r->list[0][2].count = 1;
		r->list[0][3].pfn[0] = o1[0];	/* beyond count: never looked at */
		r->list[0][3].count = 0;
		list_fill(r, 1, 0, 5, o, 16);
		list_fill(r, 1, 1, 4, o1, 4);
		list_fill(r, 1, 2, 0xffffffffu, o, 16);
		list_fill(r, 1, 3, PP_CC_CAP + 1, o1, 4);
		header_garbage(r);
	}
	d = drain_clients(a, NULL, h.client_id);
	drained_print("hostile round 1", &d);
	assert_int_equal(d.pages, 4 + 2 + 4);	/* g[0..3], b1[1], b2 */
	assert_int_equal(d.bad, 10);
	assert_int_equal(d.clients, 1);
	assert_int_equal(d.nstuck, 0);
	assert_int_equal(r->active, 1);
	for (unsigned s = 0; s < 2; s++)
		for (unsigned k = 0; k < PP_CC_ORDERS; k++)
			assert_int_equal(bb_cc_count(r, s, k), 0);
	expect_client(a, ob.client_id, 24, 8, 0, 0);
	expect_client(a, h.client_id, 6, 0, 1, 10);	/* g[4..7], b1[0] */
	free_refused(&h, &g[0], 1, ST(EALREADY));
	free_refused(&h, &b1[1], 1, ST(EALREADY));
	free_refused(&h, &b2[0], 1, ST(EALREADY));
	bad1 = d.bad;

	/* Round 2: counts past the cap in set 1 (now in use), one good
	 * block; the spare set and the header full of garbage again. */
	alloc_ok(&h, 3, 1, gg);
	junk[0] = h.npages + 7;
	junk[1] = 0xfffffff0u;
	junk[2] = o[3];
	list_fill(r, 1, 0, 0xffffffffu, o, 16);
	list_fill(r, 1, 1, PP_CC_CAP + 1, o1, 4);
	list_fill(r, 1, 2, PP_CC_CAP, junk, 3);
	list_fill(r, 1, 3, 1, gg, 1);
	list_fill(r, 0, 0, 7, o, 16);
	list_fill(r, 0, 1, PP_CC_CAP, o1, 4);
	header_garbage(r);
	h.seq = 0x7ffffffffffffff0ull;	/* even: outside any operation */
	r->seq = h.seq;
	d = drain_clients(a, NULL, h.client_id);
	drained_print("hostile round 2", &d);
	assert_int_equal(d.pages, 8);		/* gg alone */
	assert_true(d.bad >= 3);		/* at least one per bad list */
	assert_int_equal(d.nstuck, 0);
	assert_int_equal(r->active, 0);
	expect_client(a, ob.client_id, 24, 8, 0, 0);
	expect_client(a, h.client_id, 6, 0, 2, bad1 + d.bad);

	/* O's pages are all its own still: it frees them, drains its cache. */
	free_ok(&ob, o, 8, 8);
	free_ok(&ob, o1, 4, 8);
	d = drain_clients(a, NULL, ob.client_id);
	assert_int_equal(d.pages, 8);
	assert_int_equal(d.bad, 0);
	expect_client(a, ob.client_id, 0, 0, 1, 0);
	bb_admin_verify(a, NPOOLS);
	cc_leave(&h);
	cc_leave(&ob);
	bb_admin_settle(a, "default", 0, SETTLE_MS);
	bb_admin_verify(a, NPOOLS);
}

/* ---- 4. a stopped client -------------------------------------------------------- */

#define STUCK_PAGES	16u
#define STUCK_CACHED	12u

/* Child A: 16 pages in "small", 12 of them cached; enters an operation on
 * command and stays inside until told to leave. */
static void kid_stuck(struct bb *f, int fd, void *arg)
{
	struct bb_conn c;
	struct bb_cc k;
	struct kmsg m;
	int r;

	kid_join(f, fd, &c, &k, "small", &m);
	r = bb_cc_alloc(&k, 0, STUCK_PAGES, m.pfns, NULL);
	if (r != 0)
		kid_fail(fd, "alloc: %d: %s", r, k.error);
	m.n = STUCK_PAGES;
	if (bb_cc_push(&k, 0, m.pfns, STUCK_CACHED) != STUCK_CACHED)
		kid_fail(fd, "push");
	kid_send(fd, &m, K_READY);
	kid_expect(fd, C_ENTER);
	bb_cc_enter(&k);
	kid_send(fd, &m, K_ENTERED);
	kid_expect(fd, C_LEAVE);
	bb_cc_leave(&k);
	kid_send(fd, &m, K_LEFT);
	kid_expect(fd, C_QUIT);
	bb_conn_close(&c);
	_exit(0);
}

/* The holder `id` of an AdminOffline: asserts its pages and pid. */
static void expect_holder(const bb_admin_response *r, uint64_t id, uint64_t pages, pid_t pid)
{
	assert_int_equal(r->body_case, ADR(OFFLINE));
	for (size_t i = 0; i < r->offline->n_holders; i++) {
		const Pagepool__V1__Holder *h = r->offline->holders[i];

		if (h->client_id != id)
			continue;
		assert_int_equal(h->pages, pages);
		assert_int_equal(h->pid, pid);
		return;
	}
	fail_msg("client %llu is not among the %zu holders", (unsigned long long)id,
		 r->offline->n_holders);
}

/*
 * A, a child, stops (SIGSTOP) inside a cache operation.  A drain of B
 * alone does not wait for it; a drain of the pool waits the bound, then
 * reports A stuck and drains B and C; A's old set stays as it was and its
 * pages its own; offline names A among the holders.  Once A is let go and
 * leaves the operation, the next drain flushes its old set.
 */
static void test_stopped_client(void **state)
{
	struct bb *f = *state;
	uint32_t pb[12], pc[8];
	struct pp_cc_region *ra;
	struct bb_cc b, c;
	struct bb_conn *a;
	bb_admin_response *r;
	struct bb_admin_drained d;
	struct kmsg m;
	struct bb_admin_client in;
	uint64_t ida;
	pid_t pid;
	int fd;

	bb_start(f, conf(0, GRACE_MS));
	a = bb_admin_open(f);
	pid = kid_start(f, kid_stuck, NULL, &fd);
	m = kid_wait(fd, K_READY, KID_MS);
	ida = m.client_id;
	ra = bb_cc_map_proc(pid, m.memfd);
	assert_non_null(ra);
	assert_int_equal(bb_cc_count(ra, 0, 0), STUCK_CACHED);
	cc_join(f, &b, "small");
	cc_join(f, &c, "small");
	alloc_ok(&b, 0, 8, pb);
	push_ok(&b, 0, pb, 8);
	alloc_ok(&c, 0, 8, pc);
	push_ok(&c, 0, pc, 8);

	kid_cmd(fd, C_ENTER);
	kid_wait(fd, K_ENTERED, KID_MS);
	kid_stop(pid);
	assert_int_equal(ra->seq & 1, 1);

	/* B alone: A's stay inside does not touch it. */
	d = drain_clients(a, NULL, b.client_id);
	drained_print("drain --client B", &d);
	assert_int_equal(d.pages, 8);
	assert_int_equal(d.clients, 1);
	assert_int_equal(d.nstuck, 0);
	if (d.ms >= GRACE_MS)
		print_error("drain --client B took %lld ms, client_cache_grace_ms is %d\n",
			    (long long)d.ms, GRACE_MS);
	assert_true(d.ms < GRACE_MS);

	/* The pool: B (4 more) and C drained, A stuck after the bound. */
	alloc_ok(&b, 0, 4, pb + 8);
	push_ok(&b, 0, pb + 8, 4);
	d = drain_clients(a, "small", 0);
	drained_print("drain --clients small", &d);
	if (d.ms < GRACE_MS * 9 / 10 || d.ms > GRACE_MS + 5000)
		print_error("drain --clients took %lld ms; the bound is %d ms\n", (long long)d.ms,
			    GRACE_MS);
	assert_true(d.ms >= GRACE_MS * 9 / 10);
	assert_true(d.ms <= GRACE_MS + 5000);
	assert_int_equal(d.nstuck, 1);
	assert_int_equal(d.stuck[0], ida);
	assert_int_equal(d.clients, 2);
	assert_int_equal(d.pages, 12);
	assert_int_equal(d.bad, 0);
	assert_int_equal(ra->active, 1);
	assert_int_equal(bb_cc_count(ra, 0, 0), STUCK_CACHED);
	assert_memory_equal(ra->list[0][0].pfn, m.pfns, STUCK_CACHED * sizeof(uint32_t));
	in = bb_admin_client_info(a, ida);
	print_message("A: pages %llu, cached %llu, stuck %llu, drains %llu\n",
		      (unsigned long long)in.pages, (unsigned long long)in.cached,
		      (unsigned long long)in.stuck, (unsigned long long)in.drains);
	CHECK_INFO(in, pages, STUCK_PAGES);
	CHECK_INFO(in, stuck, 1);
	CHECK_INFO(in, drains, 0);
	expect_client(a, b.client_id, 0, 0, 2, 0);
	expect_client(a, c.client_id, 0, 0, 1, 0);

	/* Offline drains every cache first: A's stays, A is named. */
	r = bb_admin_range(a, true, "small", 0, SMALL_PAGES);
	print_message("offline: %s \"%s\"\n", bb_status_name(r->status), r->error);
	assert_int_equal(r->status, ST(EBUSY));
	expect_holder(r, ida, STUCK_PAGES, pid);
	bb_admin_free(r);
	bb_admin_range_ok(a, false, "small", 0, SMALL_PAGES);
	CHECK_INFO(bb_admin_client_info(a, ida), pages, STUCK_PAGES);
	assert_int_equal(bb_cc_count(ra, 0, 0), STUCK_CACHED);

	/* Let go: A leaves the operation; the next drain flushes its set. */
	assert_int_equal(kill(pid, SIGCONT), 0);
	kid_cmd(fd, C_LEAVE);
	kid_wait(fd, K_LEFT, KID_MS);
	assert_int_equal(ra->seq & 1, 0);
	d = drain_clients(a, NULL, ida);
	drained_print("drain --client A after it left", &d);
	assert_int_equal(d.pages, STUCK_CACHED);
	assert_int_equal(d.nstuck, 0);
	assert_int_equal(d.clients, 1);
	assert_int_equal(bb_cc_count(ra, 0, 0), 0);
	in = bb_admin_client_info(a, ida);
	CHECK_INFO(in, pages, STUCK_PAGES - STUCK_CACHED);
	CHECK_INFO(in, cached, 0);
	CHECK_INFO(in, drains, 1);

	kid_cmd(fd, C_QUIT);
	assert_int_equal(bb_kid_wait(f, pid, KID_MS), 0);
	close(fd);
	bb_cc_unmap_region(ra);
	cc_leave(&b);
	cc_leave(&c);
	bb_admin_settle(a, "small", 0, SETTLE_MS);
	bb_admin_verify(a, NPOOLS);
}

/* ---- 5. kill -9 inside an operation -------------------------------------------- */

/* Child: 24 pages and two order-1 blocks, 16 + 2 blocks cached, then half
 * a push (the pfn written, the count not yet) inside an operation, where it
 * waits to be killed. */
static void kid_killed(struct bb *f, int fd, void *arg)
{
	struct pp_cc_list *l;
	uint32_t blk[2];
	struct bb_conn c;
	struct bb_cc k;
	struct kmsg m;
	unsigned s;

	kid_join(f, fd, &c, &k, NULL, &m);
	if (bb_cc_alloc(&k, 0, 24, m.pfns, NULL) != 0 || bb_cc_alloc(&k, 1, 2, blk, NULL) != 0)
		kid_fail(fd, "alloc: %s", k.error);
	if (bb_cc_push(&k, 0, m.pfns, 16) != 16 || bb_cc_push(&k, 1, blk, 2) != 2)
		kid_fail(fd, "push");
	s = bb_cc_enter(&k);
	l = &k.r->list[s][0];
	l->pfn[l->count] = m.pfns[16];
	kid_send(fd, &m, K_ENTERED);
	kid_expect(fd, C_QUIT);
	_exit(0);
}

/*
 * kill -9 of a client inside a cache operation: its 28 pages come back.
 * Twice: alone, and while a drain of its cache waits for it (the test sees
 * the drain's switch of `active` before it kills), which must still answer.
 */
static void test_kill9_inside(void **state)
{
	struct bb *f = *state;
	struct bb_conn *a, *a2;

	bb_start(f, conf(0, GRACE_MS));
	a = bb_admin_open(f);
	a2 = bb_admin_open(f);
	for (unsigned round = 0; round < 2; round++) {
		Pagepool__V1__AdminDrainReq dq;
		bb_admin_request q;
		bb_admin_response *r = NULL;
		struct pp_cc_region *rk;
		struct kmsg m;
		struct bb_admin_drained d;
		int fd, code;
		pid_t pid;

		pid = kid_start(f, kid_killed, NULL, &fd);
		m = kid_wait(fd, K_ENTERED, KID_MS);
		expect_client(a, m.client_id, 28, 20, 0, 0);
		rk = bb_cc_map_proc(pid, m.memfd);
		assert_non_null(rk);
		assert_int_equal(rk->seq & 1, 1);
		if (round == 1) {
			int64_t deadline = bb_now_ms() + SETTLE_MS;

			bb_admin_drain_req(&q, &dq, NULL, m.client_id);
			q.id = bb_admin_next_id();
			assert_int_equal(bb_conn_send_msg(a2, &q.base), 0);
			while (__atomic_load_n(&rk->active, __ATOMIC_ACQUIRE) == 0) {
				if (!bb_left_ms(deadline))
					fail_msg("the drain did not switch the cache in %d ms",
						 SETTLE_MS);
				poll(NULL, 0, 1);
			}
		}
		assert_int_equal(kill(pid, SIGKILL), 0);
		code = bb_kid_wait(f, pid, KID_MS);
		assert_int_equal(code, 128 + SIGKILL);
		close(fd);
		if (round == 1) {
			assert_int_equal(bb_conn_recv_msg(a2, GRACE_MS + 5000,
							  &pagepool__v1__admin_response__descriptor,
							  (ProtobufCMessage **)&r), 0);
			assert_int_equal(r->id, q.id);
			d = bb_admin_drained_of(r);
			bb_admin_free(r);
			drained_print("drain of a client killed while it waited", &d);
			drained_ok(&d, "drain --client (killed)");
			assert_int_equal(d.bad, 0);
		}
		bb_cc_unmap_region(rk);
		bb_admin_client_gone(a, m.client_id, SETTLE_MS);
		bb_admin_settle(a, "default", 0, SETTLE_MS);
		bb_admin_verify(a, NPOOLS);
	}
}

/* ---- 6. offline pulls caches back --------------------------------------------- */

/*
 * A caches 100 pages and 10 order-2 blocks, B 50 order-1 blocks, and hold
 * nothing else: offline of the whole pool drains both caches and succeeds.
 */
static void test_offline_drains(void **state)
{
	struct bb *f = *state;
	uint32_t pa[100], pa2[10], pb[50], one[1];
	struct bb_cc ka, kb;
	struct bb_conn *a;
	struct bb_admin_counts c;

	bb_start(f, conf(0, GRACE_MS));
	a = bb_admin_open(f);
	cc_join(f, &ka, "small");
	cc_join(f, &kb, "small");
	alloc_ok(&ka, 0, 100, pa);
	push_ok(&ka, 0, pa, 100);
	alloc_ok(&ka, 2, 10, pa2);
	push_ok(&ka, 2, pa2, 10);
	alloc_ok(&kb, 1, 50, pb);
	push_ok(&kb, 1, pb, 50);
	expect_client(a, ka.client_id, 140, 140, 0, 0);
	expect_client(a, kb.client_id, 100, 100, 0, 0);
	c = bb_admin_pool_counts(a, "small");
	assert_int_equal(c.allocated, 240);
	assert_int_equal(c.cached, 240);

	bb_admin_range_ok(a, true, "small", 0, SMALL_PAGES);
	c = bb_admin_pool_counts(a, "small");
	assert_int_equal(c.offline, SMALL_PAGES);
	assert_int_equal(c.allocated, 0);
	assert_int_equal(c.cached, 0);
	expect_client(a, ka.client_id, 0, 0, 1, 0);
	expect_client(a, kb.client_id, 0, 0, 1, 0);
	assert_int_equal(ka.r->active, 1);
	assert_int_equal(bb_cc_count(ka.r, 0, 0), 0);
	assert_int_equal(bb_cc_count(ka.r, 0, 2), 0);
	assert_int_equal(bb_cc_count(kb.r, 0, 1), 0);
	bb_admin_range_ok(a, false, "small", 0, SMALL_PAGES);

	/* The clients go on. */
	alloc_ok(&ka, 0, 1, one);
	push_ok(&ka, 0, one, 1);
	assert_int_equal(bb_cc_count(ka.r, 1, 0), 1);
	cc_leave(&ka);
	cc_leave(&kb);
	bb_admin_settle(a, "small", 0, SETTLE_MS);
	bb_admin_verify(a, NPOOLS);
}

/* ---- 7. ENOMEM reclaims client caches ------------------------------------------ */

/*
 * A caches 800 of the 1,024 pages of "small" (400 pages, 200 order-1
 * blocks; honest: below its high of 511 pages per order).  B asks for more
 * than the buddy and the worker lists hold: it gets them, because the
 * reclaim path drains A's cache.
 */
static void test_enomem_reclaims(void **state)
{
	struct bb *f = *state;
	static uint32_t pa[400], pa1[200], pb[400];
	uint32_t want;
	struct bb_cc ka, kb;
	struct bb_conn *a;
	struct bb_admin_counts c;
	struct bb_admin_client in;

	bb_start(f, conf(0, GRACE_MS));
	a = bb_admin_open(f);
	cc_join(f, &ka, "small");
	cc_join(f, &kb, "small");
	assert_true(pp_cc_high(ka.high, 0) >= 400 && pp_cc_high(ka.high, 1) >= 200);
	alloc_ok(&ka, 0, 400, pa);
	push_ok(&ka, 0, pa, 400);
	alloc_ok(&ka, 1, 200, pa1);
	push_ok(&ka, 1, pa1, 200);
	expect_client(a, ka.client_id, 800, 800, 0, 0);
	c = bb_admin_pool_counts(a, "small");
	want = (uint32_t)(c.free + c.pcp) + 76;
	print_message("free %llu + pcp %llu; B asks for %u pages\n", (unsigned long long)c.free,
		      (unsigned long long)c.pcp, want);
	assert_true(want <= 400);

	alloc_ok(&kb, 0, want, pb);
	in = bb_admin_client_info(a, ka.client_id);
	print_message("A after B's alloc: pages %llu, cached %llu, drains %llu\n",
		      (unsigned long long)in.pages, (unsigned long long)in.cached,
		      (unsigned long long)in.drains);
	assert_true(in.cached < 800);
	assert_true(in.pages < 800);
	assert_true(in.drains >= 1);
	assert_int_equal(ka.r->active, 1);
	assert_int_equal(bb_cc_count(ka.r, 0, 0), 0);
	assert_int_equal(bb_cc_count(ka.r, 0, 1), 0);
	in = bb_admin_client_info(a, kb.client_id);
	CHECK_INFO(in, pages, want);
	CHECK_INFO(in, cached, 0);

	free_ok(&kb, pb, want, want);
	cc_leave(&ka);
	cc_leave(&kb);
	bb_admin_settle(a, "small", 0, SETTLE_MS);
	bb_admin_verify(a, NPOOLS);
}

/* ---- 7b. reclaim neither waits for a stopped client nor drains bystanders ---- */

#define SLOW_GRACE_MS	2000	/* client_cache_grace_ms of the reclaim tests */
#define PROMPT_MS	500	/* "well under the bound": a behaviour bound */

/* B's allocation of more pages than "small" has (513 order-1 blocks of its
 * 1,024 pages): ENOMEM, timed. */
static int64_t alloc_impossible(struct bb_cc *b)
{
	static uint32_t junk[513];
	int64_t t0 = bb_now_ms();
	int r = bb_cc_alloc(b, 1, 513, junk, NULL);

	if (r != ST(ENOMEM))
		print_error("alloc of 513 order-1 blocks: %d (%s) \"%s\", expected ENOMEM\n", r,
			    r > 0 ? bb_status_name(r) : r ? strerror(-r) : "OK", b->error);
	assert_int_equal(r, ST(ENOMEM));
	return bb_now_ms() - t0;
}

/* Assert an answer took less than PROMPT_MS. */
static void expect_prompt(const char *what, int64_t ms)
{
	print_message("%s: %lld ms (client_cache_grace_ms %d)\n", what, (long long)ms,
		      SLOW_GRACE_MS);
	if (ms >= PROMPT_MS)
		print_error("%s took %lld ms, expected < %d (the bound is %d ms)\n", what,
			    (long long)ms, PROMPT_MS, SLOW_GRACE_MS);
	assert_true(ms < PROMPT_MS);
}

/*
 * A, a child, caches 12 of its 16 pages of "small" and stops (SIGSTOP)
 * inside a cache operation; B (no cache) holds every other page, and
 * client_cache_grace_ms is 2 s.  An allocation by B that A's cache could
 * not satisfy either is refused ENOMEM at once, without touching A's
 * cache.  One that only A's cache could satisfy drains it for a failed
 * allocation, which waits CCACHE_RECLAIM_MS for A, not the bound: ENOMEM
 * at once, A not counted stuck, and an admin status asked while that drain
 * runs answers at once (the admin thread is not held).
 */
static void test_stopped_reclaim_prompt(void **state)
{
	struct bb *f = *state;
	static uint32_t pb[SMALL_PAGES];
	Pagepool__V1__AdminStatusReq sq = PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT;
	bb_admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	bb_admin_response *sr;
	struct pp_cc_region *ra;
	struct bb_req rq;
	bb_request *req;
	bb_response *resp = NULL;
	struct bb_conn *a;
	struct bb_cc b;
	struct bb_admin_counts c;
	struct kmsg m;
	struct bb_admin_client in;
	int64_t t0, deadline, ms;
	uint64_t ida;
	pid_t pid;
	int fd;

	bb_start(f, conf(0, SLOW_GRACE_MS));
	a = bb_admin_open(f);
	/* B first, while no client caches: everything but A's 16 pages. */
	CC_OK(&b, bb_cc_hello(&b, bb_raw(f), "small", 0));
	assert_int_equal(b.features & F_CACHE, 0);
	alloc_ok(&b, 0, SMALL_PAGES - STUCK_PAGES, pb);
	pid = kid_start(f, kid_stuck, NULL, &fd);
	m = kid_wait(fd, K_READY, KID_MS);
	ida = m.client_id;
	ra = bb_cc_map_proc(pid, m.memfd);
	assert_non_null(ra);
	c = bb_admin_pool_counts(a, "small");
	assert_int_equal(c.free + c.pcp, 0);
	assert_int_equal(c.cached, STUCK_CACHED);
	kid_cmd(fd, C_ENTER);
	kid_wait(fd, K_ENTERED, KID_MS);
	kid_stop(pid);
	assert_int_equal(ra->seq & 1, 1);

	/* Impossible even with A's cache: no drain at all. */
	expect_prompt("ENOMEM beyond the pool", alloc_impossible(&b));
	assert_int_equal(ra->active, 0);
	assert_int_equal(bb_cc_count(ra, 0, 0), STUCK_CACHED);

	/* Only A's cache could: the reclaim drain switches it, gives up on A
	 * after CCACHE_RECLAIM_MS; the status is asked once it has switched. */
	req = bb_req_alloc(&rq, b.id++, 0, 1, 0);
	t0 = bb_now_ms();
	assert_int_equal(bb_conn_send_msg(b.c, &req->base), 0);
	deadline = t0 + SETTLE_MS;
	while (__atomic_load_n(&ra->active, __ATOMIC_ACQUIRE) == 0) {
		if (!bb_left_ms(deadline))
			fail_msg("the reclaim did not switch A's cache in %d ms", SETTLE_MS);
		poll(NULL, 0, 1);
	}
	q.body_case = ADM(STATUS);
	q.status = &sq;
	ms = bb_now_ms();
	sr = bb_admin_rpc(a, &q);
	ms = bb_now_ms() - ms;
	assert_int_equal(sr->status, ST(OK));
	bb_admin_free(sr);
	expect_prompt("admin status during the reclaim drain", ms);
	assert_int_equal(bb_conn_recv(b.c, SLOW_GRACE_MS + 5000, &resp), 0);
	ms = bb_now_ms() - t0;
	assert_int_equal(resp->id, req->id);
	if (resp->status != ST(ENOMEM))
		print_error("alloc of 1 page: %s \"%s\", expected ENOMEM\n",
			    bb_status_name(resp->status), resp->error ? resp->error : "");
	assert_int_equal(resp->status, ST(ENOMEM));
	bb_resp_free(resp);
	expect_prompt("ENOMEM that only A's cache could have served", ms);
	in = bb_admin_client_info(a, ida);
	print_message("A: pages %llu, cached %llu, stuck %llu, drains %llu\n",
		      (unsigned long long)in.pages, (unsigned long long)in.cached,
		      (unsigned long long)in.stuck, (unsigned long long)in.drains);
	CHECK_INFO(in, stuck, 0);
	CHECK_INFO(in, drains, 0);
	CHECK_INFO(in, pages, STUCK_PAGES);
	assert_int_equal(bb_cc_count(ra, 0, 0), STUCK_CACHED);

	/* Let go: A leaves the operation and the daemon; all comes back. */
	assert_int_equal(kill(pid, SIGCONT), 0);
	kid_cmd(fd, C_LEAVE);
	kid_wait(fd, K_LEFT, KID_MS);
	kid_cmd(fd, C_QUIT);
	assert_int_equal(bb_kid_wait(f, pid, KID_MS), 0);
	close(fd);
	bb_cc_unmap_region(ra);
	bb_admin_client_gone(a, ida, SETTLE_MS);
	free_ok(&b, pb, SMALL_PAGES - STUCK_PAGES, SMALL_PAGES - STUCK_PAGES);
	cc_leave(&b);
	bb_admin_settle(a, "small", 0, SETTLE_MS);
	bb_admin_verify(a, NPOOLS);
}

#define BYSTANDER_TRIES	20

/*
 * C caches 8 pages of "small" and does nothing more.  20 allocations by B
 * that the whole pool could not satisfy are refused ENOMEM without a drain
 * of C's cache: its cache_drains stays 0 and its pages stay cached.
 */
static void test_bystander_not_drained(void **state)
{
	struct bb *f = *state;
	uint32_t pc[8];
	struct bb_cc b, kc;
	struct bb_conn *a;
	struct bb_admin_counts c;
	struct bb_admin_client in;
	int64_t worst = 0;

	bb_start(f, conf(0, GRACE_MS));
	a = bb_admin_open(f);
	cc_join(f, &kc, "small");
	alloc_ok(&kc, 0, 8, pc);
	push_ok(&kc, 0, pc, 8);
	CC_OK(&b, bb_cc_hello(&b, bb_raw(f), "small", 0));
	for (unsigned i = 0; i < BYSTANDER_TRIES; i++) {
		int64_t ms = alloc_impossible(&b);

		worst = ms > worst ? ms : worst;
	}
	in = bb_admin_client_info(a, kc.client_id);
	print_message("%d impossible allocations, the slowest %lld ms; C: drains %llu, "
		      "cached %llu\n", BYSTANDER_TRIES, (long long)worst,
		      (unsigned long long)in.drains, (unsigned long long)in.cached);
	CHECK_INFO(in, drains, 0);
	expect_client(a, kc.client_id, 8, 8, 0, 0);
	assert_int_equal(kc.r->active, 0);
	assert_int_equal(bb_cc_count(kc.r, 0, 0), 8);
	c = bb_admin_pool_counts(a, "small");
	assert_int_equal(c.allocated, 8);
	assert_int_equal(c.cached, 8);

	cc_leave(&b);
	cc_leave(&kc);
	bb_admin_settle(a, "small", 0, SETTLE_MS);
	bb_admin_verify(a, NPOOLS);
}

/* ---- 8. idle decay ------------------------------------------------------------- */

#define DECAY_WAIT_MS	10000
#define DECAY_GAP_MS	200

/*
 * decay_interval = 1: A caches 32 pages and does nothing more; within a
 * few intervals its cache is drained.  B caches 32 pages and the test
 * moves B's seq (an empty operation) between every two polls: the daemon's
 * idle checks come about an interval apart (a late one may be followed by
 * an early one), so while B moves at least every DECAY_GAP_MS it has moved
 * between any two checks and must not have been decayed when A was.  That
 * second claim needs the test process to have run that often: when it did
 * not (the largest gap is printed), only A is asserted.
 */
static void test_idle_decay(void **state)
{
	struct bb *f = *state;
	uint32_t pa[32], pb[32];
	int64_t deadline, last, gap = 0;
	struct bb_cc ka, kb;
	struct bb_conn *a;
	struct bb_admin_client in;

	bb_start(f, conf(1, GRACE_MS));
	a = bb_admin_open(f);
	cc_join(f, &ka, NULL);
	cc_join(f, &kb, NULL);
	alloc_ok(&ka, 0, 32, pa);
	push_ok(&ka, 0, pa, 32);
	alloc_ok(&kb, 0, 32, pb);
	push_ok(&kb, 0, pb, 32);
	last = bb_now_ms();
	deadline = last + DECAY_WAIT_MS;
	for (;;) {
		int64_t now;

		bb_cc_enter(&kb);
		bb_cc_leave(&kb);
		now = bb_now_ms();
		if (now - last > gap)
			gap = now - last;
		last = now;
		in = bb_admin_client_info(a, ka.client_id);
		if (in.cached == 0 || !bb_left_ms(deadline))
			break;
		poll(NULL, 0, 5);
	}
	print_message("A decayed after %lld ms; largest gap between B's moves %lld ms\n",
		      (long long)(DECAY_WAIT_MS - bb_left_ms(deadline)), (long long)gap);
	CHECK_INFO(in, cached, 0);
	CHECK_INFO(in, pages, 0);
	assert_true(in.drains >= 1);
	assert_int_equal(bb_cc_count(ka.r, 0, 0), 0);
	assert_int_equal(ka.r->active, 1);

	in = bb_admin_client_info(a, kb.client_id);
	if (gap < DECAY_GAP_MS) {
		CHECK_INFO(in, cached, 32);
		CHECK_INFO(in, pages, 32);
		CHECK_INFO(in, drains, 0);
		assert_int_equal(kb.r->active, 0);
	} else {
		print_message("the test did not run for %lld ms: B's side not asserted\n",
			      (long long)gap);
	}
	cc_leave(&ka);
	cc_leave(&kb);
	bb_admin_settle(a, "default", 0, SETTLE_MS);
	bb_admin_verify(a, NPOOLS);
}

/* ---- 9. drains against busy clients -------------------------------------------- */

#define LOOP_KIDS	3
#define LOOP_DRAINS	1000
#define LOOP_LOCAL	48
#define LOOP_MAX_ITERS	(1u << 30)
#define LOOP_MAX_MS	120000

/* Shared by the test and its looping children. */
struct loop_shared {
	int stop;
};

struct loop_arg {
	struct loop_shared *sh;
	unsigned idx;
};

/* A child client taking pages (pop, or a refill by Alloc) and giving them
 * back (push below high, or a spill by Free), stamping every page it holds
 * with its own mark and checking it before it lets the page go. */
struct loop {
	int fd;
	struct bb_conn c;
	struct bb_cc k;
	uint8_t *arena;
	uint32_t high;
	uint64_t mark;
	uint32_t local[LOOP_LOCAL];
	unsigned nlocal;
	uint64_t allocated, freed, ops;
};

static uint64_t *loop_word(struct loop *l, uint32_t pfn)
{
	return (uint64_t *)(l->arena + (size_t)pfn * l->k.page_size);
}

static void loop_check(struct loop *l, uint32_t pfn, const char *where)
{
	uint64_t v;

	if (pfn >= l->k.npages)
		kid_fail(l->fd, "%s: pfn %u out of the arena", where, pfn);
	v = *loop_word(l, pfn);
	if (v != (l->mark | pfn))
		kid_fail(l->fd, "%s: page %u stamped %#llx, not %#llx: someone else had it", where,
			 pfn, (unsigned long long)v, (unsigned long long)(l->mark | pfn));
}

static void loop_take(struct loop *l)
{
	uint32_t pfn, tmp[64];
	size_t got = 0;
	int r;

	if (bb_cc_pop(&l->k, 0, &pfn) == 0) {
		loop_check(l, pfn, "pop");
	} else {
		r = bb_cc_alloc(&l->k, 0, l->k.batch, tmp, &got);
		if (r != 0 || got != l->k.batch)
			kid_fail(l->fd, "refill: %d, %zu pages: %s", r, got, l->k.error);
		l->allocated += got;
		for (size_t i = 0; i < got; i++)
			*loop_word(l, tmp[i]) = l->mark | tmp[i];
		if (bb_cc_push(&l->k, 0, tmp + 1, got - 1) != got - 1)
			kid_fail(l->fd, "refill push");
		pfn = tmp[0];
	}
	l->local[l->nlocal++] = pfn;
}

static void loop_give(struct loop *l)
{
	uint32_t pfn = l->local[--l->nlocal];
	struct pp_cc_list *li;
	bool pushed = false;
	uint64_t pages = 0;
	int r;

	loop_check(l, pfn, "give");
	li = &l->k.r->list[bb_cc_enter(&l->k)][0];
	if (li->count < l->high) {
		li->pfn[li->count] = pfn;
		li->count++;
		pushed = true;
	}
	bb_cc_leave(&l->k);
	if (pushed)
		return;
	r = bb_cc_free(&l->k, &pfn, 1, &pages);
	if (r != 0 || pages != 1)
		kid_fail(l->fd, "spill of page %u: %d: %s", pfn, r, l->k.error);
	l->freed++;
}

/* Take and give at random until the test says stop (bounded). */
static void loop_run(struct loop *l, struct loop_shared *sh, unsigned idx)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (idx + 1);
	int64_t deadline = bb_now_ms() + LOOP_MAX_MS;

	for (uint32_t i = 0; i < LOOP_MAX_ITERS; i++) {
		if ((i & 255) == 0) {
			if (__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
				return;
			if (!bb_left_ms(deadline))
				kid_fail(l->fd, "not stopped within %d ms", LOOP_MAX_MS);
			sched_yield();
		}
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (l->nlocal == 0 || (l->nlocal < LOOP_LOCAL && (x & 1)))
			loop_take(l);
		else
			loop_give(l);
		l->ops++;
	}
	kid_fail(l->fd, "not stopped after %u operations", LOOP_MAX_ITERS);
}

/*
 * Child: loop, then report (K_QUIET: pages held outside the cache, and
 * whether anything came from the daemon unasked); after the test's last
 * drain (C_FREE) the cache in use must be empty: free what it holds,
 * report the totals (K_DONE), leave on C_QUIT.
 */
static void kid_loop(struct bb *f, int fd, void *arg)
{
	const struct loop_arg *la = arg;
	static struct loop l;
	uint64_t pages = 0, held = 1;
	struct kmsg m;
	uint32_t pfn;
	void *p;
	int r;

	memset(&l, 0, sizeof(l));
	l.fd = fd;
	kid_join(f, fd, &l.c, &l.k, NULL, &m);
	l.high = pp_cc_high(l.k.high, 0);
	l.mark = (uint64_t)(la->idx + 1) << 40;
	if (l.high == 0 || l.k.batch == 0 || l.k.batch > 64 || l.c.nfds < 1)
		kid_fail(fd, "high %u, batch %u, %u fds", l.high, l.k.batch, l.c.nfds);
	p = mmap(NULL, (size_t)l.k.npages * l.k.page_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 l.c.fds[0], 0);
	if (p == MAP_FAILED)
		kid_fail(fd, "mmap of the arena: %s", strerror(errno));
	l.arena = p;
	kid_send(fd, &m, K_READY);

	loop_run(&l, la->sh, la->idx);
	m.local = l.nlocal;
	m.ops = l.ops;
	m.unasked = bb_conn_readable(&l.c, 0);
	kid_send(fd, &m, K_QUIET);

	kid_expect(fd, C_FREE);
	if (bb_cc_pop(&l.k, 0, &pfn) == 0)
		kid_fail(fd, "page %u still in the cache after the last drain", pfn);
	for (unsigned i = 0; i < l.nlocal; i++)
		loop_check(&l, l.local[i], "last free");
	if (l.nlocal) {
		r = bb_cc_free(&l.k, l.local, l.nlocal, &pages);
		if (r != 0 || pages != l.nlocal)
			kid_fail(fd, "last free of %u pages: %d: %s", l.nlocal, r, l.k.error);
		l.freed += l.nlocal;
	}
	r = bb_cc_stat(&l.k, &held, NULL);
	if (r != 0 || held != 0)
		kid_fail(fd, "stat: %d, %llu pages held at the end", r, (unsigned long long)held);
	m.allocated = l.allocated;
	m.freed = l.freed;
	kid_send(fd, &m, K_DONE);
	kid_expect(fd, C_QUIT);
	bb_conn_close(&l.c);
	_exit(0);
}

struct loopers {
	struct loop_shared *sh;
	struct loop_arg arg[LOOP_KIDS];
	pid_t pid[LOOP_KIDS];
	int fd[LOOP_KIDS];
	uint64_t id[LOOP_KIDS];
	unsigned n;
};

static void loopers_start(struct bb *f, struct loopers *lp, unsigned n)
{
	memset(lp, 0, sizeof(*lp));
	lp->sh = mmap(NULL, sizeof(*lp->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		      -1, 0);
	assert_true(lp->sh != MAP_FAILED);
	lp->n = n;
	for (unsigned i = 0; i < n; i++) {
		lp->arg[i].sh = lp->sh;
		lp->arg[i].idx = i;
		lp->pid[i] = kid_start(f, kid_loop, &lp->arg[i], &lp->fd[i]);
	}
	for (unsigned i = 0; i < n; i++)
		lp->id[i] = kid_wait(lp->fd[i], K_READY, KID_MS).client_id;
}

/*
 * Stop the children and account for every page: after a last drain of
 * quiet caches (nobody stuck), each holds exactly what it says, its cache
 * is empty, it frees what it holds; pages allocated = pages freed by the
 * children + pages the drains freed (`drained`, the last one added).
 */
static void loopers_finish(struct bb_conn *a, struct bb *f, struct loopers *lp,
			   uint64_t drained)
{
	uint64_t allocated = 0, freed = 0, ops = 0;
	struct kmsg q[LOOP_KIDS];
	struct bb_admin_drained d;

	__atomic_store_n(&lp->sh->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < lp->n; i++) {
		q[i] = kid_wait(lp->fd[i], K_QUIET, KID_MS);
		ops += q[i].ops;
		if (q[i].unasked)
			fail_msg("child %u: the daemon sent something unasked", i);
	}
	d = drain_clients(a, "default", 0);
	drained_print("last drain of quiet caches", &d);
	assert_int_equal(d.nstuck, 0);
	assert_int_equal(d.bad, 0);
	drained += d.pages;
	for (unsigned i = 0; i < lp->n; i++) {
		struct bb_admin_client in = bb_admin_client_info(a, lp->id[i]);

		CHECK_INFO(in, pages, q[i].local);
		CHECK_INFO(in, cached, 0);
		CHECK_INFO(in, errors, 0);
	}
	for (unsigned i = 0; i < lp->n; i++) {
		struct kmsg m;

		kid_cmd(lp->fd[i], C_FREE);
		m = kid_wait(lp->fd[i], K_DONE, KID_MS);
		allocated += m.allocated;
		freed += m.freed;
	}
	print_message("%u children: %llu operations; pages allocated %llu = freed by them %llu "
		      "+ drained %llu\n", lp->n, (unsigned long long)ops,
		      (unsigned long long)allocated, (unsigned long long)freed,
		      (unsigned long long)drained);
	assert_int_equal(allocated, freed + drained);
	for (unsigned i = 0; i < lp->n; i++) {
		kid_cmd(lp->fd[i], C_QUIT);
		assert_int_equal(bb_kid_wait(f, lp->pid[i], KID_MS), 0);
		close(lp->fd[i]);
	}
	munmap(lp->sh, sizeof(*lp->sh));
}

/*
 * 1,000 drains of the pool against 3 children pushing and popping at full
 * speed: no bad entry, no page of one child seen by another (stamps), every
 * Free the children make accepted, and every page accounted for.
 */
static void test_drain_loop(void **state)
{
	struct bb *f = *state;
	uint64_t drained = 0, stuck = 0;
	struct loopers lp;
	struct bb_conn *a;
	int64_t t0;

	bb_start(f, conf(0, GRACE_MS));
	a = bb_admin_open(f);
	loopers_start(f, &lp, LOOP_KIDS);
	t0 = bb_now_ms();
	for (unsigned i = 0; i < LOOP_DRAINS; i++) {
		struct bb_admin_drained d = drain_clients(a, "default", 0);

		if (d.bad)
			fail_msg("drain %u: %llu bad entries from honest clients", i,
				 (unsigned long long)d.bad);
		drained += d.pages;
		stuck += d.nstuck;
	}
	print_message("%d drains in %lld ms: %llu pages, %llu stuck reports\n", LOOP_DRAINS,
		      (long long)(bb_now_ms() - t0), (unsigned long long)drained,
		      (unsigned long long)stuck);
	assert_true(drained > 0);
	loopers_finish(a, f, &lp, drained);
	bb_admin_settle(a, "default", 0, SETTLE_MS);
	bb_admin_verify(a, NPOOLS);
}

/* ---- 10. no signals ------------------------------------------------------------ */

#define TRACE_DRAINS	100

/*
 * While strace watches the daemon (membarrier and every signal-sending
 * call) and a looping client (signals delivered), 100 rounds of a drain of
 * that client and a drain of the default pool (where a second client
 * caches 2 more pages each round), then one drain of a client stuck inside
 * an operation in "small" (the daemon's re-poll and bound): the daemon
 * makes none of those calls, the looping client gets no signal nor any
 * message it did not ask for, and loses no page.
 */
static void test_no_signals(void **state)
{
	static const char *const daemon_calls[] = { "membarrier(", "kill(", "sigqueueinfo(",
						    NULL };
	static const char *const signals[] = { "--- SIG", NULL };
	struct bb *f = *state;
	uint64_t drained = 0;
	struct bb_trace td, tk;
	struct loopers lp;
	uint32_t ps[4], pp[2];
	struct bb_cc ks, kp;
	struct bb_conn *a;
	struct bb_admin_drained d;
	unsigned bad;

	if (!bb_on_path("strace")) {
		print_message("strace is not on PATH: skipping\n");
		skip();
	}
	bb_start(f, conf(0, GRACE_MS));
	a = bb_admin_open(f);
	cc_join(f, &ks, "small");
	alloc_ok(&ks, 0, 4, ps);
	push_ok(&ks, 0, ps, 4);
	bb_cc_enter(&ks);			/* stays inside */
	cc_join(f, &kp, NULL);
	loopers_start(f, &lp, 1);

	bb_trace_start(f, &td, f->pid,
		       "trace=membarrier,kill,tgkill,tkill,rt_sigqueueinfo,rt_tgsigqueueinfo",
		       "daemon");
	if (!td.on) {
		print_message("strace cannot attach to the daemon: skipping\n");
		skip();
	}
	bb_trace_start(f, &tk, lp.pid[0], "trace=none", "client");
	if (!tk.on) {
		print_message("strace cannot attach to a client: skipping\n");
		skip();
	}
	for (unsigned i = 0; i < TRACE_DRAINS; i++) {
		d = drain_clients(a, NULL, lp.id[0]);
		assert_int_equal(d.nstuck, 0);
		drained += d.pages;
		alloc_ok(&kp, 0, 2, pp);
		push_ok(&kp, 0, pp, 2);
		d = drain_clients(a, "default", 0);
		assert_int_equal(d.nstuck, 0);
		assert_true(d.pages >= 2);
		drained += d.pages - 2;		/* what the looping client had cached since */
	}
	d = drain_clients(a, "small", 0);
	drained_print("drain of a stuck client under strace", &d);
	assert_int_equal(d.nstuck, 1);
	assert_int_equal(d.stuck[0], ks.client_id);
	assert_true(bb_admin_client_info(a, lp.id[0]).drains >= 1);
	assert_true(drained > 0);

	bad = bb_trace_stop(f, &td, daemon_calls, NULL, NULL);
	print_message("daemon: %u membarrier or signal-sending calls during %d drains\n", bad,
		      TRACE_DRAINS + 1);
	assert_int_equal(bad, 0);
	bad = bb_trace_stop(f, &tk, signals, NULL, NULL);
	print_message("client: %u signals delivered during %d drains\n", bad, TRACE_DRAINS);
	assert_int_equal(bad, 0);

	loopers_finish(a, f, &lp, drained);
	bb_cc_leave(&ks);
	d = drain_clients(a, "small", 0);
	assert_int_equal(d.pages, 4);
	cc_leave(&ks);
	cc_leave(&kp);
	bb_admin_settle(a, "default", 0, SETTLE_MS);
	bb_admin_settle(a, "small", 0, SETTLE_MS);
	bb_admin_verify(a, NPOOLS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_feature_and_map),
		bb_test(test_drain_honest),
		bb_test(test_hostile_region),
		bb_test(test_stopped_client),
		bb_test(test_kill9_inside),
		bb_test(test_offline_drains),
		bb_test(test_enomem_reclaims),
		bb_test(test_stopped_reclaim_prompt),
		bb_test(test_bystander_not_drained),
		bb_test(test_idle_decay),
		bb_test(test_drain_loop),
		bb_test(test_no_signals),
	};

	return cmocka_run_group_tests_name("blackbox client caches", tests, NULL, NULL);
}
