/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_core.c - in-process microbenchmark of the core allocator: the pcp hit
 * path (raw and through the ownership layer), the refill/bulk-free path, the
 * buddy path with the pcp disabled, the three drain modes side by side, and
 * the start-up cost of a 64 GiB pool.
 *
 *   bench_core                      run every case, timed (clock_gettime,
 *                                   median of several runs); one "row" line
 *                                   per case on stdout, details on stderr
 *   bench_core --callgrind CASE N   set CASE up, then run exactly N of its
 *                                   iterations between CALLGRIND_ZERO_STATS
 *                                   and CALLGRIND_DUMP_STATS_AT; prints
 *                                   "ops <count>" (the unit instructions are
 *                                   divided by).  bench-core.sh runs it for
 *                                   two N and subtracts, so set-up cancels.
 *   bench_core --list               the case names and what each measures
 *
 * Thread rules followed here are the daemon's: the thread that drives a pcp
 * is its owner and a registered, online QSBR reader while it does; drains run
 * on an unregistered thread.  In the drain cases each pcp is owned by a
 * worker thread that is registered but offline while it sleeps on its
 * eventfd, exactly like an idle pp-worker.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

#include "benchutil.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif

#define MIB		(1024ull * 1024)
#define GIB		(1024ull * MIB)
#define BENCH_POOL	(1 * GIB)	/* default batch 63, high 378 */
#define RUNS		7		/* timed runs per case; the median is kept */
#define DRAIN_RUNS	101		/* drains per drain case */
#define NWORKERS	2

static void pin_self(int cpu)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	/* Best effort: a restricted cpuset simply leaves us unpinned. */
	if (ncpu > 0)
		pin_cpu((int)(cpu % ncpu));
}

static struct pool *bench_pool(uint64_t size, unsigned nworkers, enum drain_mode mode)
{
	struct pool_config cfg = {
		.name = "bench", .size = size, .nworkers = nworkers,
		.drain_mode = mode, .high = -1, .batch = -1,
	};
	struct pool *pool;
	int ret = pool_create(&cfg, &pool);

	if (ret < 0)
		die_err("pool_create", ret);
	return pool;
}

/* One result line for bench-core.sh: row <case> <ns/op cell> <notes>. */
static void row(const char *name, const char *cell, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void row(const char *name, const char *cell, const char *fmt, ...)
{
	va_list ap;

	printf("row\t%s\t%s\t", name, cell);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static const char *fmt_cell(char *buf, size_t len, double v, const char *unit)
{
	snprintf(buf, len, "%.*f %s", v < 1 ? 3 : v < 10 ? 2 : 1, v, unit);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Single-threaded cases: the bench thread is the pcp's owning worker.      */

struct bench {
	struct pool *pool;
	struct pcp *pcp;
	struct owner owner;
	unsigned batch;
	uint32_t pfns[PCP_BATCH_MAX];
	uint32_t held;
	uint64_t t_alloc;		/* refill case, phase timers (ns) */
	int phase_timers;
};

/* Shared set-up: a 1 GiB pool with one pcp, the bench thread its online
 * owner. */
static void bench_open(struct bench *b, uint64_t size)
{
	memset(b, 0, sizeof(*b));
	b->pool = bench_pool(size, 1, DRAIN_RCU);
	b->pcp = pool_pcp(b->pool, 0);
	b->batch = (unsigned)b->pool->batch;
	owner_init(&b->owner, 1);
	pp_rcu_register();
}

static void bench_close(struct bench *b)
{
	pool_release_all(b->pool, b->pcp, &b->owner);
	pp_rcu_unregister();
	pool_destroy(b->pool);
}

/* Warm the pcp: one refill (batch pages cached, 1 handed out) and the page
 * back, so the order-0 list holds `batch` pages, far from empty and from high. */
static void setup_pcp_hit(struct bench *b)
{
	uint32_t pfn;
	int ret;

	bench_open(b, BENCH_POOL);
	ret = pcp_alloc(b->pcp, 0, 0, &pfn);
	if (ret < 0)
		die_err("pcp_alloc", ret);
	pcp_free(b->pcp, pfn, 0);
}

static void loop_pcp_hit(struct bench *b, uint64_t n)
{
	struct pcp *pcp = b->pcp;
	uint32_t pfn;
	int ret;

	for (uint64_t i = 0; i < n; i++) {
		if (unlikely((ret = pcp_alloc(pcp, 0, 0, &pfn)) != 0))
			die_err("pcp_alloc", ret);
		pcp_free(pcp, pfn, 0);
	}
}

static void loop_pool_hit(struct bench *b, uint64_t n)
{
	struct pool *pool = b->pool;
	struct pcp *pcp = b->pcp;
	struct owner *o = &b->owner;
	uint32_t pfn;
	unsigned got;
	int ret;

	for (uint64_t i = 0; i < n; i++) {
		if (unlikely((ret = pool_alloc(pool, pcp, o, 0, 1, 0, &pfn, &got)) != 0))
			die_err("pool_alloc", ret);
		if (unlikely((ret = pool_free(pool, pcp, o, &pfn, 1, 0, NULL)) != 0))
			die_err("pool_free", ret);
	}
}

/*
 * Refill cycle: high = batch, so the pcp starts every cycle empty.  One
 * cycle allocates batch order-0 pages through pcp_alloc (the first misses
 * and takes batch pages from the buddy in one locked section, rmqueue_bulk;
 * the other batch-1 are pops) and frees them through pcp_free (batch-1
 * pushes; the last push reaches high and returns all batch pages to the
 * buddy in one locked section, free_pcppages_bulk).  Per page: 1/batch of a
 * refill and of a bulk free, plus one pop and one push.
 */
static void setup_refill(struct bench *b)
{
	int ret;

	bench_open(b, BENCH_POOL);
	ret = pool_set_pcp(b->pool, (int)b->batch, (int)b->batch);
	if (ret < 0)
		die_err("pool_set_pcp", ret);
}

static void loop_refill(struct bench *b, uint64_t n)
{
	struct pcp *pcp = b->pcp;
	unsigned batch = b->batch;
	uint64_t t0 = 0;
	int ret;

	for (uint64_t i = 0; i < n; i++) {
		if (b->phase_timers)
			t0 = now_ns();
		for (unsigned k = 0; k < batch; k++)
			if (unlikely((ret = pcp_alloc(pcp, 0, 0, &b->pfns[k])) != 0))
				die_err("pcp_alloc", ret);
		if (b->phase_timers)
			b->t_alloc += now_ns() - t0;
		for (unsigned k = 0; k < batch; k++)
			pcp_free(pcp, b->pfns[k], 0);
	}
}

/* pcp disabled (high = 0, as while a range is isolated): pcp_alloc and
 * pcp_free go straight to the buddy under zone->lock.  "hot": one page is
 * held first, so its buddy sits alone on the order-0 free list and each
 * alloc/free is a list pop/push with no split and no merge. */
static void setup_buddy(struct bench *b, int hold)
{
	int ret;

	bench_open(b, BENCH_POOL);
	ret = pool_set_pcp(b->pool, 0, (int)b->batch);
	if (ret < 0)
		die_err("pool_set_pcp", ret);
	if (hold) {
		ret = pool_alloc(b->pool, b->pcp, &b->owner, 0, 1, 0, &b->held, &(unsigned){0});
		if (ret < 0)
			die_err("pool_alloc", ret);
	}
}

static void setup_buddy_hot(struct bench *b) { setup_buddy(b, 1); }
/* Nothing held: every alloc splits a max-order block ten times and every
 * free merges it back (the worst case of the buddy path). */
static void setup_buddy_split(struct bench *b) { setup_buddy(b, 0); }

/* ------------------------------------------------------------------------ */
/* Drain cases: NWORKERS worker threads own one pcp each.                    */

enum { CMD_NONE, CMD_FILL, CMD_QUIT };

struct worker {
	pthread_t th;
	struct pool *pool;
	struct pcp *pcp;
	struct owner owner;
	int cpu;
	int efd;			/* wakes the worker: commands and drain kicks */
	int ackfd;			/* worker -> main: command done */
	int cmd;
	unsigned fill;			/* pages to cache on CMD_FILL */
	uint32_t *pfns;
	uint64_t kick_ns;		/* when the last workqueue kick was sent */
	double wake_ns[DRAIN_RUNS + 64];
	unsigned nwake;
};

static void efd_post(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		die_err("eventfd write", errno);
}

static void efd_wait(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) != sizeof(v))
		if (errno != EINTR)
			die_err("eventfd read", errno);
}

/* pcp->kick for workqueue drains: runs on the draining thread. */
static void worker_kick(void *arg)
{
	struct worker *w = arg;

	__atomic_store_n(&w->kick_ns, now_ns(), __ATOMIC_RELEASE);
	efd_post(w->efd);
}

/* Cache `fill` pages in this worker's pcp: take them from the buddy for the
 * worker's owner, then free them through the pcp (pushes, no trim). */
static void worker_fill(struct worker *w)
{
	unsigned got;
	int ret;

	ret = pool_alloc(w->pool, NULL, &w->owner, 0, w->fill, 0, w->pfns, &got);
	if (ret < 0)
		die_err("pool_alloc (fill)", ret);
	ret = pool_free(w->pool, w->pcp, &w->owner, w->pfns, got, 0, NULL);
	if (ret < 0)
		die_err("pool_free (fill)", ret);
}

/* An idle pp-worker in miniature: offline while blocked on its eventfd,
 * online only while it runs pcp code. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pin_self(w->cpu);
	pp_rcu_register();
	pp_rcu_offline();
	for (;;) {
		uint64_t t;
		int cmd;

		efd_wait(w->efd);
		t = now_ns();
		cmd = __atomic_exchange_n(&w->cmd, CMD_NONE, __ATOMIC_ACQ_REL);
		pp_rcu_online();
		if (pcp_service(w->pcp) && w->nwake < ARRAY_SIZE(w->wake_ns))
			w->wake_ns[w->nwake++] =
				(double)(t - __atomic_load_n(&w->kick_ns, __ATOMIC_ACQUIRE));
		if (cmd == CMD_FILL)
			worker_fill(w);
		pp_rcu_offline();
		if (cmd == CMD_QUIT)
			break;
		if (cmd != CMD_NONE)
			efd_post(w->ackfd);
	}
	pp_rcu_unregister();
	return NULL;
}

struct drainbench {
	struct pool *pool;
	enum drain_mode mode;
	struct worker w[NWORKERS];
	unsigned fill;
};

static void workers_cmd(struct drainbench *d, int cmd)
{
	for (unsigned i = 0; i < NWORKERS; i++) {
		__atomic_store_n(&d->w[i].cmd, cmd, __ATOMIC_RELEASE);
		efd_post(d->w[i].efd);
	}
	if (cmd == CMD_QUIT)
		return;
	for (unsigned i = 0; i < NWORKERS; i++)
		efd_wait(d->w[i].ackfd);
}

static void drain_open(struct drainbench *d, enum drain_mode mode)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->pool = bench_pool(BENCH_POOL, NWORKERS, mode);
	/* count >= high trims on the next free, so high - 1 is the most a pcp
	 * holds between operations: "full". */
	d->fill = (unsigned)d->pool->high - 1;
	for (unsigned i = 0; i < NWORKERS; i++) {
		struct worker *w = &d->w[i];

		w->pool = d->pool;
		w->pcp = pool_pcp(d->pool, i);
		w->cpu = (int)i + 1;	/* the bench thread is on CPU 0 */
		w->fill = d->fill;
		owner_init(&w->owner, i + 1);
		w->pfns = calloc(d->fill, sizeof(*w->pfns));
		w->efd = eventfd(0, EFD_CLOEXEC);
		w->ackfd = eventfd(0, EFD_CLOEXEC);
		if (!w->pfns || w->efd < 0 || w->ackfd < 0)
			die_err("drain_open", ENOMEM);
		if (mode == DRAIN_WORKQUEUE)
			pcp_set_kick(w->pcp, worker_kick, w);
		if (pthread_create(&w->th, NULL, worker_main, w) != 0)
			die_err("pthread_create", EAGAIN);
	}
}

static void drain_close(struct drainbench *d)
{
	workers_cmd(d, CMD_QUIT);
	for (unsigned i = 0; i < NWORKERS; i++) {
		struct worker *w = &d->w[i];

		pthread_join(w->th, NULL);
		close(w->efd);
		close(w->ackfd);
		free(w->pfns);
	}
	pool_destroy(d->pool);
}

/* One measured drain: fill every pcp (untimed), drain them all (timed). */
static double drain_once(struct drainbench *d, uint64_t *pages)
{
	uint64_t t0, t1, drained = 0;
	int ret;

	workers_cmd(d, CMD_FILL);
	t0 = now_ns();
	ret = pool_drain(d->pool, (int)d->mode, 0, &drained);
	t1 = now_ns();
	if (ret < 0)
		die_err("pool_drain", ret);
	if (drained != (uint64_t)d->fill * NWORKERS)
		die("drained %" PRIu64 " pages, expected %u", drained, d->fill * NWORKERS);
	*pages = drained;
	return (double)(t1 - t0);
}

static void drain_loop(struct drainbench *d, uint64_t n)
{
	uint64_t pages;

	for (uint64_t i = 0; i < n; i++)
		drain_once(d, &pages);
}

/* ------------------------------------------------------------------------ */
/* Case table.                                                               */

struct bcase {
	const char *name;
	void (*setup)(struct bench *b);
	void (*loop)(struct bench *b, uint64_t n);
	uint64_t iters;			/* timed iterations per run */
	const char *what;
};

static const struct bcase cases[] = {
	{ "pcp_hit_raw", setup_pcp_hit, loop_pcp_hit, 20000000,
	  "one pcp_alloc + pcp_free pair, order 0, on a warm pcp (list never empty, "
	  "never at high); the bench thread is the pcp's registered, online owner" },
	{ "pcp_hit_pool", setup_pcp_hit, loop_pool_hit, 5000000,
	  "one pool_alloc(count=1) + pool_free(n=1) pair through the same warm pcp, "
	  "with ownership (struct owner: claim, owner list, free validation)" },
	{ "refill", setup_refill, loop_refill, 100000,
	  "per page: high = batch; alloc batch pages from an empty pcp (1 refill "
	  "+ batch-1 pops), free them (batch-1 pushes + 1 bulk free of batch); "
	  "ns and instructions per page; the alloc side is timed with 2 extra "
	  "clock_gettime per batch" },
	{ "buddy_hot", setup_buddy_hot, loop_pcp_hit, 5000000,
	  "pcp disabled (pool_set_pcp high 0): one pcp_alloc + pcp_free pair "
	  "straight to the buddy under zone->lock, no split/merge (the page's "
	  "buddy is held)" },
	{ "buddy_split", setup_buddy_split, loop_pcp_hit, 2000000,
	  "pcp disabled (high 0), empty pool: each alloc splits an order-10 "
	  "block 10 times, each free merges 10 times" },
};

static const char *const drain_cases[DRAIN_NR_MODES] = {
	[DRAIN_RCU] = "drain_rcu",
	[DRAIN_WORKQUEUE] = "drain_workqueue",
	[DRAIN_SPINLOCK] = "drain_spinlock",
};

static const char *const drain_what[DRAIN_NR_MODES] = {
	[DRAIN_RCU] = "pool_drain(DRAIN_RCU) from the unregistered bench thread; the 2 "
		"pcp owners are registered QSBR workers, offline while they sleep on "
		"their eventfd; each pcp holds high-1 pages (one more free would trim); "
		"time = swap + synchronize_rcu + flush of both",
	[DRAIN_WORKQUEUE] = "pool_drain(DRAIN_WORKQUEUE): the bench thread kicks each "
		"worker's eventfd (pcp_set_kick) and waits; each worker wakes, goes "
		"online, runs pcp_service (flushes its own lists) and goes offline; "
		"wake-up = kick to the worker running",
	[DRAIN_SPINLOCK] = "pool_drain(DRAIN_SPINLOCK) on a pool created with "
		"drain_mode spinlock (workers lock every pcp access): lock, swap, "
		"unlock, flush",
};

/* ------------------------------------------------------------------------ */
/* Timed runs.                                                               */

static double time_case(const struct bcase *c, struct bench *b, double *samples)
{
	for (unsigned r = 0; r < RUNS; r++) {
		uint64_t t0 = now_ns();

		c->loop(b, c->iters);
		samples[r] = (double)(now_ns() - t0) / (double)c->iters;
	}
	return median(samples, RUNS, NULL, NULL);
}

/* Did the timed loops take the path the case claims?  (The stats are the
 * pcp's own; only this thread writes them.) */
static void check_path(const struct bcase *c, struct bench *b, const struct pcp_stats *s0,
		       uint64_t iters)
{
	const struct pcp_stats *s = &b->pcp->stats;
	uint64_t refills = s->refills - s0->refills, bulk = s->bulk_frees - s0->bulk_frees;
	uint64_t hits = s->pcp_hits - s0->pcp_hits, direct = s->buddy_direct - s0->buddy_direct;
	int ok;

	if (strncmp(c->name, "pcp_hit", 7) == 0)
		ok = hits == iters && refills == 0 && bulk == 0 && direct == 0;
	else if (strncmp(c->name, "buddy", 5) == 0)
		ok = direct == 2 * iters && hits == 0;
	else	/* refill: one refill and one bulk free per cycle */
		ok = refills == iters && bulk == iters && hits == iters * (b->batch - 1);
	if (!ok)
		die("%s took another path: %" PRIu64 " hits, %" PRIu64 " refills, %" PRIu64
		    " bulk frees, %" PRIu64 " direct for %" PRIu64 " iterations", c->name, hits,
		    refills, bulk, direct, iters);
}

static void run_single(const struct bcase *c)
{
	double s[RUNS], med, lo, hi;
	struct pcp_stats snap;
	char cell[32];
	struct bench b;

	c->setup(&b);
	c->loop(&b, c->iters / 10);	/* warm caches and branch predictors */
	snap = b.pcp->stats;
	med = time_case(c, &b, s);
	check_path(c, &b, &snap, RUNS * c->iters);
	lo = s[0];
	hi = s[RUNS - 1];
	if (strcmp(c->name, "refill") == 0) {
		double a[RUNS], am;

		/* Same loop with per-phase clocks: the alloc share. */
		b.phase_timers = 1;
		for (unsigned r = 0; r < RUNS; r++) {
			b.t_alloc = 0;
			c->loop(&b, c->iters);
			a[r] = (double)b.t_alloc / (double)c->iters / b.batch;
		}
		am = median(a, RUNS, NULL, NULL);
		med /= b.batch;
		lo /= b.batch;
		hi /= b.batch;
		fprintf(stderr, "%-16s %8.2f ns/page (runs %.2f..%.2f), alloc side %.2f ns/page, "
			"batch %u\n", c->name, med, lo, hi, am, b.batch);
		row(c->name, fmt_cell(cell, sizeof(cell), med, "ns/page"),
		    "alloc side %.2f ns/page; runs %.2f..%.2f; batch %u: one refill and one "
		    "bulk free per %u pages", am, lo, hi, b.batch, b.batch);
	} else {
		fprintf(stderr, "%-16s %8.2f ns/op (runs %.2f..%.2f), %" PRIu64 " iterations\n",
			c->name, med, lo, hi, c->iters);
		row(c->name, fmt_cell(cell, sizeof(cell), med, "ns"), "runs %.2f..%.2f ns",
		    lo, hi);
	}
	bench_close(&b);
}

static void run_drain(enum drain_mode mode)
{
	double t[DRAIN_RUNS], wake[NWORKERS * (DRAIN_RUNS + 64)], med;
	char cell[32];
	struct drainbench d;
	unsigned nw = 0;
	uint64_t pages = 0;

	drain_open(&d, mode);
	for (unsigned i = 0; i < 5; i++)	/* warm-up */
		drain_once(&d, &pages);
	for (unsigned i = 0; i < NWORKERS; i++)
		d.w[i].nwake = 0;
	for (unsigned i = 0; i < DRAIN_RUNS; i++)
		t[i] = drain_once(&d, &pages);
	med = median(t, DRAIN_RUNS, NULL, NULL);
	for (unsigned i = 0; i < NWORKERS; i++)
		for (unsigned k = 0; k < d.w[i].nwake; k++)
			wake[nw++] = d.w[i].wake_ns[k];
	fprintf(stderr, "%-16s %8.2f us/drain (min %.2f, max %.2f), %" PRIu64
		" pages (%u pcps x %u), %.1f ns/page\n", drain_cases[mode], med / 1000,
		t[0] / 1000, t[DRAIN_RUNS - 1] / 1000, pages, NWORKERS, d.fill,
		med / (double)pages);
	if (mode == DRAIN_WORKQUEUE) {
		double w = median(wake, nw, NULL, NULL);

		fprintf(stderr, "%-16s %8.2f us median kick-to-wake-up latency (%u samples)\n",
			"", w / 1000, nw);
		row(drain_cases[mode], fmt_cell(cell, sizeof(cell), med / 1000, "µs/drain"),
		    "%" PRIu64 " pages (%u pcps x %u), %.1f ns/page; worker wake-up "
		    "(eventfd kick to running) %.2f µs median", pages, NWORKERS, d.fill,
		    med / (double)pages, w / 1000);
	} else {
		row(drain_cases[mode], fmt_cell(cell, sizeof(cell), med / 1000, "µs/drain"),
		    "%" PRIu64 " pages (%u pcps x %u), %.1f ns/page", pages, NWORKERS,
		    d.fill, med / (double)pages);
	}
	drain_close(&d);
}

/* Virtual and resident size of the whole process (/proc/self/statm). */
static void statm(uint64_t *vsz, uint64_t *rss)
{
	unsigned long size, res;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%lu %lu", &size, &res) != 2)
		die_err("/proc/self/statm", errno);
	fclose(f);
	*vsz = (uint64_t)size * (uint64_t)sysconf(_SC_PAGESIZE);
	*rss = (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Resident bytes of one mapping, by mincore(). */
static uint64_t mapping_resident(void *addr, size_t len)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), n = (len + ps - 1) / ps, res = 0;
	unsigned char *vec = malloc(n);

	if (!vec || mincore(addr, len, vec) < 0)
		die_err("mincore", errno);
	for (size_t i = 0; i < n; i++)
		res += vec[i] & 1;
	free(vec);
	return (uint64_t)res * ps;
}

static void run_startup(void)
{
	struct pool_config cfg = {
		.name = "bench64g", .size = 64 * GIB, .nworkers = 1,
		.drain_mode = DRAIN_RCU, .high = -1, .batch = -1,
	};
	double t[5], med;
	char cell[32];
	uint64_t vsz0, vsz1, rss0, rss1, desc_res, arena_res = 0;
	struct pool *pool = NULL;
	int ret;

	for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t t0 = now_ns();

		ret = pool_create(&cfg, &pool);
		t[i] = (double)(now_ns() - t0);
		if (ret < 0)
			die_err("pool_create 64 GiB", ret);
		pool_destroy(pool);
	}
	/* Footprint of one fresh pool: process RSS before and after. */
	statm(&vsz0, &rss0);
	ret = pool_create(&cfg, &pool);
	if (ret < 0)
		die_err("pool_create 64 GiB", ret);
	statm(&vsz1, &rss1);
	rss0 = rss1 > rss0 ? rss1 - rss0 : 0;
	vsz0 = vsz1 > vsz0 ? vsz1 - vsz0 : 0;
	desc_res = mapping_resident(pool->pages, pool->pages_bytes);
	arena_resident(&pool->arena, &arena_res);
	med = median(t, ARRAY_SIZE(t), NULL, NULL);
	fprintf(stderr, "%-16s %8.3f ms median pool_create(64 GiB) (min %.3f, max %.3f)\n",
		"startup_64g", med / 1e6, t[0] / 1e6, t[ARRAY_SIZE(t) - 1] / 1e6);
	fprintf(stderr, "%-16s sizeof(struct page) = %zu bytes per %u-byte page (%.2f%%); "
		"%u pages\n", "", sizeof(struct page), pool->arena.page_size,
		100.0 * (double)sizeof(struct page) / pool->arena.page_size, pool->npages);
	fprintf(stderr, "%-16s descriptor array: %.1f MiB virtual, %.1f KiB resident "
		"(mincore); process: virtual +%.2f GiB, RSS +%.1f KiB; arena resident %" PRIu64
		" bytes\n", "", (double)pool->pages_bytes / MIB, (double)desc_res / 1024,
		(double)vsz0 / GIB, (double)rss0 / 1024, arena_res);
	row("startup_64g", fmt_cell(cell, sizeof(cell), med / 1e6, "ms"),
	    "struct page %zu B per %u B page (%.2f%%); descriptor array %.0f MiB "
	    "virtual, %.0f KiB resident (mincore); process virtual +%.2f GiB, RSS "
	    "+%.0f KiB; arena resident %" PRIu64 " B", sizeof(struct page),
	    pool->arena.page_size, 100.0 * (double)sizeof(struct page) / pool->arena.page_size,
	    (double)pool->pages_bytes / MIB, (double)desc_res / 1024, (double)vsz0 / GIB,
	    (double)rss0 / 1024, arena_res);
	pool_destroy(pool);
}

/* ------------------------------------------------------------------------ */
/* callgrind mode.                                                           */

static int run_callgrind(const char *name, uint64_t n)
{
#ifdef HAVE_CALLGRIND
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct bcase *c = &cases[i];
		struct bench b;

		if (strcmp(c->name, name) != 0)
			continue;
		c->setup(&b);
		c->loop(&b, 16);	/* first-touch and lazy work out of the window */
		CALLGRIND_ZERO_STATS;
		c->loop(&b, n);
		CALLGRIND_DUMP_STATS_AT(name);
		printf("ops %" PRIu64 "\n", strcmp(name, "refill") == 0 ? n * b.batch : n);
		bench_close(&b);
		return 0;
	}
	for (unsigned m = 0; m < DRAIN_NR_MODES; m++) {
		struct drainbench d;

		if (strcmp(drain_cases[m], name) != 0)
			continue;
		drain_open(&d, (enum drain_mode)m);
		drain_loop(&d, 2);
		CALLGRIND_ZERO_STATS;
		drain_loop(&d, n);
		CALLGRIND_DUMP_STATS_AT(name);
		printf("ops %" PRIu64 "\n", n);
		drain_close(&d);
		return 0;
	}
	fprintf(stderr, "bench_core: unknown case %s (see --list)\n", name);
	return 2;
#else
	fprintf(stderr, "bench_core: built without <valgrind/callgrind.h> (apt-get install "
		"valgrind)\n");
	return 2;
#endif
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_core [--list | --callgrind CASE ITERS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
			printf("%s\t%s\n", cases[i].name, cases[i].what);
		for (unsigned m = 0; m < DRAIN_NR_MODES; m++)
			printf("%s\t%s\n", drain_cases[m], drain_what[m]);
		printf("startup_64g\tpool_create of a 64 GiB pool, then what it made "
		       "resident: the descriptor array by mincore, the arena by st_blocks, "
		       "the process by /proc/self/statm\n");
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "--callgrind") == 0)
		return run_callgrind(argv[2], strtoull(argv[3], NULL, 10));
	if (argc != 1)
		usage();

	pin_self(0);
	fprintf(stderr, "bench_core: page %ld B, %llu MiB pools with default tunables, "
		"median of %d runs per case\n", sysconf(_SC_PAGESIZE),
		(unsigned long long)(BENCH_POOL / MIB), RUNS);
	printf("info\tcompiler %s%s; %ld online CPUs; bench thread "
	       "pinned to CPU 0, worker i to CPU i+1 (mod CPUs)\n",
	       BENCH_COMPILER, BENCH_OPTIMIZED(" (optimized)"), sysconf(_SC_NPROCESSORS_ONLN));
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_single(&cases[i]);
	run_drain(DRAIN_RCU);
	run_drain(DRAIN_SPINLOCK);
	run_drain(DRAIN_WORKQUEUE);
	run_startup();
	return 0;
}
