/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ccstress.c - client caches under fire, across processes (issue 15):
 * three client processes allocate and free single blocks of orders 0..2 at
 * full speed through libpagepool with its cache on, while the test sends
 * the daemon 10,000 `drain --clients` requests on the admin socket and,
 * every 1,000 of them, kill -9s one client wherever it is in its loop
 * (inside a cache operation or not) and forks a replacement.
 *
 * What catches a mistake:
 *  - every page a client is given is stamped (the client's spawn number,
 *    a serial, the pfn) and the stamp is checked when the client frees it:
 *    a page handed to two processes gets the other's stamp;
 *  - a map shared by every process, created before the forks, with one
 *    byte per arena page: the owner's slot, set by compare-and-swap from 0
 *    on every page of a block when it is handed out and cleared before it
 *    is freed - a page handed out twice finds its byte taken.  A byte, not
 *    a bit: a killed client cannot clear its pages, so the test stops it
 *    (SIGSTOP: it holds its pages still), clears the bytes of its slot,
 *    and only then kills it, after which the daemon may hand them out;
 *  - every drain answers OK, mode "clients", with no bad entry (the
 *    clients are honest);
 *  - every libpagepool call of every client succeeds; the clients that
 *    were not killed saw cache hits and drains;
 *  - at the end the admin verify finds every pool ok, and with every client
 *    gone the pool's allocated count is back to 0.
 *
 * The clients report through a shared results struct; they end when the
 * test says so (or after KID_MAX_MS, their own bound).  The test prints the
 * time it took and the drains per second.
 */
#include <sys/mman.h>

#include "bb.h"

#define ST(x)		PAGEPOOL__V1__STATUS__##x

#define NKIDS		3
#define DRAINS		10000
#define KILL_EVERY	1000
#define NSPAWNS		(NKIDS + DRAINS / KILL_EVERY)
#define MAX_HELD	100		/* blocks a client keeps at most */
#define POOL_PAGES	4096u		/* 16M */
#define KID_MAX_MS	60000		/* a client's own bound */
#define KID_EXIT_MS	10000
#define START_MS	10000
#define SETTLE_MS	5000

static const char conf[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"workers = auto\n"
	"log_level = warn\n"
	"decay_interval = 0\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n"
	"client_cache_high = 64\n"
	"client_cache_batch = 16\n";

/* What one spawned client did (written by it alone, read by the test). */
struct kid_res {
	int started;			/* connected */
	int done;			/* ended on its own, everything freed */
	uint64_t ops, allocs, frees;
	uint64_t fails;			/* libpagepool calls that failed */
	uint64_t bad_stamps;		/* pages whose stamp was not its own on free */
	uint64_t doubles;		/* pages handed out while another held them */
	uint64_t hits, misses, spills, drains;	/* pp_stat at its end */
	char first[160];		/* the first failure, in words */
};

/* Shared by the test and every client (MAP_SHARED, before the forks). */
struct shared {
	int stop;			/* the test says: free everything and leave */
	uint8_t owner[POOL_PAGES];	/* slot + 1 of the client holding the page, 0 */
	struct kid_res res[NSPAWNS];
};

/* At the start of every page a client holds. */
struct stamp {
	uint32_t spawn, serial, pfn, magic;
};

#define STAMP_MAGIC	0x73746d70u

struct held {
	uint32_t pfn, serial;
	unsigned order;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void kid_fail(struct kid_res *res, struct pp_client *c, const char *what, int rc)
{
	if (res->fails++ == 0)
		snprintf(res->first, sizeof(res->first), "%s: %d (%s) \"%s\"", what, rc,
			 pp_strerror(rc), c ? pp_last_error(c) : pp_last_error(NULL));
}

/* Take the pages of block h for `slot` in the shared map, stamped. */
static void kid_take(struct shared *sh, struct pp_client *c, unsigned slot, unsigned spawn,
		     const struct held *h)
{
	struct kid_res *res = &sh->res[spawn];

	for (uint32_t i = 0; i < (1u << h->order); i++) {
		uint32_t p = h->pfn + i;
		uint8_t none = 0;
		struct stamp st = { spawn, h->serial, p, STAMP_MAGIC };
		void *page = pp_page(c, p);

		if (p >= POOL_PAGES || !page) {
			kid_fail(res, c, "pp_alloc gave a pfn outside the arena", (int)p);
			continue;
		}
		if (!__atomic_compare_exchange_n(&sh->owner[p], &none, (uint8_t)(slot + 1), false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			res->doubles++;
		memcpy(page, &st, sizeof(st));
	}
}

/* Check block h's stamps and let its pages go in the shared map. */
static void kid_release(struct shared *sh, struct pp_client *c, unsigned slot, unsigned spawn,
			const struct held *h)
{
	struct kid_res *res = &sh->res[spawn];

	for (uint32_t i = 0; i < (1u << h->order); i++) {
		uint32_t p = h->pfn + i;
		struct stamp want = { spawn, h->serial, p, STAMP_MAGIC }, got;
		uint8_t mine = (uint8_t)(slot + 1);
		void *page = pp_page(c, p);

		if (p >= POOL_PAGES || !page)
			continue;
		memcpy(&got, page, sizeof(got));
		if (memcmp(&got, &want, sizeof(got)) != 0)
			res->bad_stamps++;
		__atomic_compare_exchange_n(&sh->owner[p], &mine, 0, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
	}
}

/*
 * One client process: single blocks of orders 0..2 allocated and freed at
 * full speed, up to MAX_HELD held, until the test says stop (or its own
 * bound); then it frees what it holds, reads its cache counters and leaves.
 * Leaves with _exit only.
 */
static void kid_run(struct shared *sh, const char *sock, unsigned slot, unsigned spawn)
{
	struct kid_res *res = &sh->res[spawn];
	struct held held[MAX_HELD];
	uint64_t rng = 0x9e3779b97f4a7c15ull * (spawn + 1), serial = 0;
	int64_t until = bb_now_ms() + KID_MAX_MS;
	struct pp_client *c;
	struct pp_stat st;
	unsigned n = 0;
	int rc;

	rc = pp_connect(sock, NULL, &c);
	if (rc) {
		kid_fail(res, NULL, "pp_connect", rc);
		_exit(1);
	}
	__atomic_store_n(&res->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		uint64_t r = xorshift(&rng);

		if ((res->ops & 4095) == 0 && bb_now_ms() > until)
			break;
		__atomic_store_n(&res->ops, res->ops + 1, __ATOMIC_RELAXED);
		if (n == 0 || (n < MAX_HELD && (r & 1))) {
			struct held *h = &held[n];
			unsigned got = 0;

			h->order = (unsigned)(r >> 1) % 3;
			rc = pp_alloc(c, h->order, 1, 0, &h->pfn, &got);
			if (rc || got != 1) {
				kid_fail(res, c, "pp_alloc", rc);
				continue;
			}
			h->serial = (uint32_t)++serial;
			kid_take(sh, c, slot, spawn, h);
			n++;
			res->allocs++;
		} else {
			unsigned i = (unsigned)((r >> 1) % n);

			kid_release(sh, c, slot, spawn, &held[i]);
			rc = pp_free(c, &held[i].pfn, 1, NULL);
			if (rc)
				kid_fail(res, c, "pp_free", rc);
			held[i] = held[--n];
			res->frees++;
		}
	}
	while (n) {
		kid_release(sh, c, slot, spawn, &held[--n]);
		rc = pp_free(c, &held[n].pfn, 1, NULL);
		if (rc)
			kid_fail(res, c, "pp_free at the end", rc);
		res->frees++;
	}
	rc = pp_stat(c, &st);
	if (rc) {
		kid_fail(res, c, "pp_stat", rc);
	} else {
		res->hits = st.cache_hits;
		res->misses = st.cache_misses;
		res->spills = st.cache_spills;
		res->drains = st.cache_drains;
	}
	pp_close(c);
	__atomic_store_n(&res->done, 1, __ATOMIC_RELEASE);
	_exit(0);
}

static pid_t kid_spawn(struct bb *f, struct shared *sh, unsigned slot, unsigned spawn)
{
	pid_t pid = bb_fork(f);

	if (pid == 0)
		kid_run(sh, f->sock, slot, spawn);
	return pid;
}

/* Wait (bounded) until `pid` is stopped. */
static void kid_wait_stopped(pid_t pid)
{
	int64_t deadline = bb_now_ms() + KID_EXIT_MS;

	for (;;) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WSTOPPED | WNOHANG) == 0 && si.si_pid == pid &&
		    si.si_code == CLD_STOPPED)
			return;
		if (bb_left_ms(deadline) == 0)
			fail_msg("client %d did not stop within %d ms", (int)pid, KID_EXIT_MS);
		poll(NULL, 0, 1);
	}
}

/*
 * kill -9 the client in `slot` wherever it is: stopped first, so that the
 * pages it holds stay its own while the test clears its bytes in the
 * shared map; the daemon takes them back once it is dead.
 */
static void kid_kill(struct bb *f, struct shared *sh, pid_t pid, unsigned slot)
{
	assert_int_equal(kill(pid, SIGSTOP), 0);
	kid_wait_stopped(pid);
	for (uint32_t p = 0; p < POOL_PAGES; p++) {
		uint8_t mine = (uint8_t)(slot + 1);

		__atomic_compare_exchange_n(&sh->owner[p], &mine, 0, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(bb_kid_wait(f, pid, KID_EXIT_MS), 128 + SIGKILL);
}

/* drain --clients: asserts an OK AdminDrained of mode "clients" with no
 * bad entry; adds what it did to the totals. */
static void drain_clients(struct bb_conn *a, uint64_t *pages, uint64_t *clients,
			  uint64_t *stuck)
{
	struct bb_admin_drained d = bb_admin_drain_clients(a, NULL, 0);

	if (d.status != ST(OK) || !d.body || strcmp(d.mode, "clients") != 0 || d.bad)
		fail_msg("drain --clients: %s \"%s\", %s, mode \"%s\", bad %llu",
			 bb_status_name(d.status), d.error,
			 d.body ? "AdminDrained" : "no AdminDrained", d.mode,
			 (unsigned long long)d.bad);
	*pages += d.pages;
	*clients += d.clients;
	*stuck += d.nstuck;
}

static void test_ccstress(void **state)
{
	struct bb *f = *state;
	struct shared *sh;
	struct bb_conn *a;
	struct pp_client *c;
	pid_t pid[NKIDS];
	unsigned spawn[NKIDS], nspawn = 0, kills = 0;
	uint64_t pages = 0, clients = 0, stuck = 0, ops = 0, hits = 0, drains_seen = 0;
	int64_t t0, t1, deadline;

	bb_start(f, conf);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	a = bb_admin_open(f);

	t0 = bb_now_ms();
	for (unsigned k = 0; k < NKIDS; k++) {
		spawn[k] = nspawn++;
		pid[k] = kid_spawn(f, sh, k, spawn[k]);
	}
	deadline = bb_now_ms() + START_MS;
	for (unsigned k = 0; k < NKIDS; k++)
		while (!__atomic_load_n(&sh->res[spawn[k]].started, __ATOMIC_ACQUIRE)) {
			int code;

			if (bb_kid_exited(f, pid[k], &code))
				fail_msg("client %u left with %d before it connected: %s", k, code,
					 sh->res[spawn[k]].first);
			if (bb_left_ms(deadline) == 0)
				fail_msg("client %u did not connect within %d ms", k, START_MS);
			poll(NULL, 0, 1);
		}

	for (unsigned i = 1; i <= DRAINS; i++) {
		drain_clients(a, &pages, &clients, &stuck);
		if (i % KILL_EVERY == 0 && i < DRAINS) {
			unsigned k = kills++ % NKIDS;

			kid_kill(f, sh, pid[k], k);
			spawn[k] = nspawn++;
			pid[k] = kid_spawn(f, sh, k, spawn[k]);
		}
	}
	t1 = bb_now_ms();

	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (unsigned k = 0; k < NKIDS; k++)
		assert_int_equal(bb_kid_wait(f, pid[k], KID_EXIT_MS), 0);

	for (unsigned s = 0; s < nspawn; s++) {
		const struct kid_res *res = &sh->res[s];
		bool last = false;

		for (unsigned k = 0; k < NKIDS; k++)
			last |= spawn[k] == s;
		print_message("client spawn %u%s: %llu ops, %llu allocs, %llu frees, %llu fails, "
			      "%llu bad stamps, %llu doubles; cache %llu hits %llu misses %llu "
			      "spills %llu drains\n", s, last ? "" : " (killed)",
			      (unsigned long long)res->ops, (unsigned long long)res->allocs,
			      (unsigned long long)res->frees, (unsigned long long)res->fails,
			      (unsigned long long)res->bad_stamps, (unsigned long long)res->doubles,
			      (unsigned long long)res->hits, (unsigned long long)res->misses,
			      (unsigned long long)res->spills, (unsigned long long)res->drains);
		if (res->fails)
			fail_msg("client spawn %u: %llu calls failed, the first %s", s,
				 (unsigned long long)res->fails, res->first);
		assert_int_equal(res->bad_stamps, 0);
		assert_int_equal(res->doubles, 0);
		assert_true(res->started);
		assert_int_equal(res->done, last);
		assert_true(res->ops > 0);
		if (last) {
			assert_true(res->hits > 0);
			assert_true(res->drains > 0);
			hits += res->hits;
			drains_seen += res->drains;
		}
		ops += res->ops;
	}
	for (uint32_t p = 0; p < POOL_PAGES; p++)
		assert_int_equal(sh->owner[p], 0);

	bb_admin_verify(a, 0);
	c = bb_client(f, NULL);
	bb_expect_allocated(c, 0, SETTLE_MS);
	bb_admin_verify(a, 0);
	print_message("%u drains in %lld ms (%.0f drains/s), %u clients killed: %llu pages "
		      "drained from %llu caches, %llu stuck; %llu client ops, %llu cache hits and "
		      "%llu drains seen by the clients that ended\n", DRAINS, (long long)(t1 - t0),
		      DRAINS * 1000.0 / (double)(t1 - t0 ? t1 - t0 : 1), kills,
		      (unsigned long long)pages, (unsigned long long)clients,
		      (unsigned long long)stuck, (unsigned long long)ops, (unsigned long long)hits,
		      (unsigned long long)drains_seen);
	munmap(sh, sizeof(*sh));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_ccstress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
