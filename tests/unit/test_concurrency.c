/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_concurrency.c - workers allocate and free at full speed through their
 * own pcps while another thread drains the pool over and over, once per drain
 * mode and once rotating through all three on a spinlock-mode pool.
 *
 * Workers are QSBR readers (registered, a quiescent state every iteration)
 * that keep a bounded set of blocks.  Every page a worker holds is marked in
 * a shared bitmap with an atomic test-and-set, so a page handed out twice is
 * caught the moment the second holder marks it; each block also carries a
 * signature word in its first page that must survive until it is freed.
 * Worker threads never assert: they count failures in atomic counters that
 * the main thread checks.  The drainer is a plain, unregistered thread.
 *
 * Termination: the drainer does its drains and raises `stop`; workers run
 * until they see it, then park (offline) so the main thread can verify the
 * pool with every owner still holding pages, then release everything.  Every
 * wait of the main thread is bounded by WATCHDOG_S: a lost wake-up or a drain
 * that never finishes aborts the run instead of hanging it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#define NWORKERS	2
#define DRAINS		10000		/* per single-mode test */
/* The rotating test: 1000 drains of each mode.  Mixed with sleeping drains,
 * spinlock drains meet preempted lock holders (a user-space spinlock cannot
 * disable preemption as the kernel's does) and cost up to a scheduler slice;
 * 10000 of them would blow the run-time budget on a 2-CPU machine. */
#define DRAINS_MIXED	3000
#define POOL_MIB	64
#define PCP_HIGH	186
#define PCP_BATCH	31
#define HELD_MAX	128		/* blocks a worker holds at most */
#define ALLOC_MAX	8		/* blocks per pool_alloc call */
#define FREE_MAX	4		/* blocks per pool_free call */
#define WATCHDOG_S	240		/* a hang becomes a failure after this */
#define PACE_OPS	64		/* worker ops between two drains, at least */
#define SEED		0x9e3779b97f4a7c15ull

/* Failure counters: bumped by worker threads, asserted by the main thread. */
#define FAILURES(X)							\
	X(double_handout, "a page was handed out while someone held it")	\
	X(bad_alloc_ret, "pool_alloc returned an unexpected code or count")	\
	X(bad_head,	"an allocated head is not PG_ALLOC/ours/of its order")	\
	X(bad_zero,	"a POOL_ZERO block was not zeroed")		\
	X(bad_sig,	"a block's signature changed while we held it")	\
	X(bad_free_ret,	"pool_free of a held block failed")		\
	X(lost_mark,	"a held page's bitmap bit was already clear")	\
	X(bad_kick,	"kicked, but no drain request was pending")	\
	X(bad_release,	"pool_release_all returned the wrong page count")

struct failures {
#define X(name, desc) uint64_t name;
	FAILURES(X)
#undef X
};

struct held {
	uint32_t pfn;
	uint8_t order;
};

struct ctx;

struct worker {
	struct ctx *ctx;
	struct pcp *pcp;
	struct owner owner;
	uint64_t rng;
	pthread_t thread;
	unsigned nheld;
	struct held held[HELD_MAX];
	/* Written by the worker, read by main after it parked or exited. */
	uint64_t ops, allocs, high_allocs, enomem, eagain;
	uint64_t serviced_pages, services;
	/* Written by the drainer (kick), read by the worker. */
	int kicked;
	uint64_t kicks;
};

struct ctx {
	struct pool *pool;
	enum drain_mode mode;
	bool rotate;			/* drain modes rcu, workqueue, spinlock in turn */
	unsigned ndrains;
	uint64_t *bitmap;		/* one bit per page, set while held */
	size_t words;
	struct worker workers[NWORKERS];
	struct failures fail;
	int stop;			/* raised by the drainer when done */
	int pace_wait;			/* the drainer sleeps until ops reach... */
	uint64_t pace_target;		/* ...this (see drainer_pace) */
	/* Drainer results, read by main after the join. */
	uint64_t drains, drain_errors, drained, drains_nonzero;
	uint64_t drained_by_mode[DRAIN_NR_MODES];
	uint64_t drains_by_mode[DRAIN_NR_MODES];
	double secs_by_mode[DRAIN_NR_MODES];
	/* Start, park and release hand-shakes between workers and main. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned started;		/* registered, kick set: drains may begin */
	unsigned parked;
	int release;
};

#define FAIL(c, name) __atomic_fetch_add(&(c)->fail.name, 1, __ATOMIC_RELAXED)

/* xorshift64*: cheap, per-thread, reproducible from SEED. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void deadline(struct timespec *ts, clockid_t clk, unsigned sec)
{
	clock_gettime(clk, ts);
	ts->tv_sec += sec;
}

/* Join within the watchdog or abort: a thread that never ends is a bug. */
static void join_or_abort(pthread_t t, const char *what)
{
	struct timespec ts;

	deadline(&ts, CLOCK_REALTIME, WATCHDOG_S);
	if (pthread_timedjoin_np(t, NULL, &ts) != 0) {
		print_error("%s did not finish within %u s: hang\n", what, WATCHDOG_S);
		abort();
	}
}

/* Orders 0..10, ~85% in the pcp range 0..3. */
static unsigned pick_order(uint64_t r)
{
	unsigned p = (unsigned)(r % 100);

	if (p < 40)
		return 0;
	if (p < 58)
		return 1;
	if (p < 72)
		return 2;
	if (p < 85)
		return 3;
	return 4 + (unsigned)((r >> 8) % (PP_MAX_ORDER - 3));
}

/* Mark (set) or unmark every page of a block.  Returns true when, on set,
 * some bit was already set, or, on clear, some bit was already clear. */
static bool bitmap_update(uint64_t *bm, uint32_t pfn, unsigned order, bool set)
{
	uint32_t n = 1u << order;
	bool clash = false;

	while (n) {
		uint32_t bit = pfn % 64, k = 64 - bit < n ? 64 - bit : n;
		uint64_t mask = (k == 64 ? ~0ull : (1ull << k) - 1) << bit, old;

		if (set) {
			old = __atomic_fetch_or(&bm[pfn / 64], mask, __ATOMIC_ACQ_REL);
			clash |= (old & mask) != 0;
		} else {
			old = __atomic_fetch_and(&bm[pfn / 64], ~mask, __ATOMIC_ACQ_REL);
			clash |= (old & mask) != mask;
		}
		pfn += k;
		n -= k;
	}
	return clash;
}

static uint64_t *block_word(struct pool *pool, uint32_t pfn)
{
	return arena_ptr(&pool->arena, pfn);
}

static uint64_t block_sig(const struct worker *w, uint32_t pfn)
{
	return (uint64_t)w->owner.id << 32 | pfn;
}

/* Take ownership of a block just allocated: check it, mark it, sign it. */
static void worker_claim(struct worker *w, uint32_t pfn, unsigned order, unsigned flags)
{
	struct ctx *c = w->ctx;
	struct page *p;
	uint64_t *word;

	if (pfn >= c->pool->npages || (pfn & ((1u << order) - 1))) {
		FAIL(c, bad_head);
		return;
	}
	p = &c->pool->pages[pfn];
	word = block_word(c->pool, pfn);
	if (bitmap_update(c->bitmap, pfn, order, true))
		FAIL(c, double_handout);
	if (page_state(p) != PG_ALLOC || page_owner(p) != w->owner.id || p->order != order)
		FAIL(c, bad_head);
	if ((flags & POOL_ZERO) && *word != 0)
		FAIL(c, bad_zero);
	*word = block_sig(w, pfn);
	w->held[w->nheld++] = (struct held){ .pfn = pfn, .order = (uint8_t)order };
	if (order > PCP_MAX_ORDER)
		w->high_allocs++;
}

/* Give up our claim before the block goes back to the pool. */
static void worker_unclaim(struct worker *w, const struct held *h)
{
	struct ctx *c = w->ctx;

	if (*block_word(c->pool, h->pfn) != block_sig(w, h->pfn))
		FAIL(c, bad_sig);
	if (bitmap_update(c->bitmap, h->pfn, h->order, false))
		FAIL(c, lost_mark);
}

static void worker_alloc(struct worker *w, uint64_t r)
{
	struct ctx *c = w->ctx;
	unsigned order = pick_order(r), count = 1, flags = 0, room = HELD_MAX - w->nheld, got;
	uint32_t pfns[ALLOC_MAX];
	int ret;

	if ((r >> 16) % 8 == 0)
		count = 2 + (unsigned)((r >> 20) % (ALLOC_MAX - 1));
	if (count > room)
		count = room;
	if ((r >> 24) % 8 == 0)
		flags |= POOL_NOWAIT;
	if (count > 1 && (r >> 28) % 2)
		flags |= POOL_PARTIAL;
	if (order <= 2 && (r >> 32) % 32 == 0)
		flags |= POOL_ZERO;
	ret = pool_alloc(c->pool, w->pcp, &w->owner, order, count, flags, pfns, &got);
	if (ret == 0) {
		bool ok = (flags & POOL_PARTIAL) ? got >= 1 && got <= count : got == count;
		if (!ok)
			FAIL(c, bad_alloc_ret);
		for (unsigned i = 0; i < got && i < count; i++)
			worker_claim(w, pfns[i], order, flags);
		w->allocs += got;
	} else if (ret == -ENOMEM && !(flags & POOL_NOWAIT) && got == 0) {
		w->enomem++;
	} else if (ret == -EAGAIN && (flags & POOL_NOWAIT) && got == 0) {
		w->eagain++;
	} else {
		FAIL(c, bad_alloc_ret);
	}
}

static void worker_free(struct worker *w, uint64_t r)
{
	struct ctx *c = w->ctx;
	unsigned k = 1, bad;
	uint32_t pfns[FREE_MAX];
	int order = -1;

	if (r % 8 == 0)
		k = 2 + (unsigned)((r >> 3) % (FREE_MAX - 1));
	if (k > w->nheld)
		k = w->nheld;
	r >>= 8;
	for (unsigned i = 0; i < k; i++) {
		unsigned j = (unsigned)(rng_next(&w->rng) % w->nheld);
		struct held h = w->held[j];

		w->held[j] = w->held[--w->nheld];
		worker_unclaim(w, &h);
		pfns[i] = h.pfn;
		/* Name the order when all agree (half the time), else any order. */
		if (i == 0)
			order = (r & 1) ? h.order : -1;
		else if (order != h.order)
			order = -1;
	}
	if (pool_free(c->pool, w->pcp, &w->owner, pfns, k, order, &bad) != 0)
		FAIL(c, bad_free_ret);
}

/* The drain job's wake-up: what an eventfd write would be in the daemon. */
static void worker_kick(void *arg)
{
	struct worker *w = arg;

	__atomic_fetch_add(&w->kicks, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&w->kicked, 1, __ATOMIC_RELEASE);
}

/* Each kick follows a new request ticket and the drain waits for it, so a
 * kicked pcp_service() must always complete a request (this worker is the
 * only writer of wq_done). */
static void worker_service(struct worker *w)
{
	uint64_t done;

	if (!__atomic_exchange_n(&w->kicked, 0, __ATOMIC_ACQUIRE))
		return;
	done = w->pcp->wq_done;
	w->serviced_pages += pcp_service(w->pcp);
	w->services++;
	if (w->pcp->wq_done == done)
		FAIL(w->ctx, bad_kick);
}

static void worker_count(struct ctx *c, unsigned *field)
{
	pthread_mutex_lock(&c->lock);
	(*field)++;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void worker_park(struct worker *w)
{
	struct ctx *c = w->ctx;

	worker_count(c, &c->parked);
	pthread_mutex_lock(&c->lock);
	while (!c->release)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

static void worker_release(struct worker *w)
{
	struct ctx *c = w->ctx;
	uint64_t held = 0;

	for (unsigned i = 0; i < w->nheld; i++) {
		worker_unclaim(w, &w->held[i]);
		held += 1u << w->held[i].order;
	}
	w->nheld = 0;
	if (pool_release_all(c->pool, w->pcp, &w->owner) != held || w->owner.pages != 0)
		FAIL(c, bad_release);
}

/*
 * A drain can be far quicker than a worker's operation (a spinlock drain of
 * empty pcps is a few lock round trips), so without pacing the drainer would
 * finish before the workers got going.  Before each drain it waits until the
 * workers together did PACE_OPS operations since the last one.  It waits
 * asleep on the condvar, not spinning: with more threads than CPUs a spinning
 * drainer is one more CPU hog, and every drain then waits a scheduler tick for
 * the worker it displaced; a sleeper gets the CPU back at once, as a real
 * admin thread would.  Workers never wait for the drainer outside a drain and
 * keep checking `pace_wait` after every operation, so a wake-up can be late
 * by an operation but never lost.
 */
static uint64_t workers_ops(struct ctx *c)
{
	uint64_t ops = 0;

	for (unsigned i = 0; i < NWORKERS; i++)
		ops += __atomic_load_n(&c->workers[i].ops, __ATOMIC_SEQ_CST);
	return ops;
}

static void drainer_pace(struct ctx *c, uint64_t *last)
{
	uint64_t target = *last + PACE_OPS;

	if (workers_ops(c) < target) {
		pthread_mutex_lock(&c->lock);
		__atomic_store_n(&c->pace_target, target, __ATOMIC_SEQ_CST);
		__atomic_store_n(&c->pace_wait, 1, __ATOMIC_SEQ_CST);
		while (workers_ops(c) < target)
			pthread_cond_wait(&c->cond, &c->lock);
		__atomic_store_n(&c->pace_wait, 0, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&c->lock);
	}
	*last = workers_ops(c);
}

/* Worker side of the pacing: wake the drainer once its target is reached. */
static void worker_pace(struct worker *w)
{
	struct ctx *c = w->ctx;

	if (!__atomic_load_n(&c->pace_wait, __ATOMIC_SEQ_CST) ||
	    workers_ops(c) < __atomic_load_n(&c->pace_target, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ctx *c = w->ctx;

	pp_rcu_register();
	pcp_set_kick(w->pcp, worker_kick, w);
	worker_count(c, &c->started);
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		uint64_t r = rng_next(&w->rng);

		if (w->nheld == 0 || (w->nheld < HELD_MAX && (r & 1)))
			worker_alloc(w, r >> 1);
		else
			worker_free(w, r >> 1);
		worker_service(w);
		pp_rcu_quiescent();
		/* Read by the drainer to pace itself (one writer). */
		__atomic_store_n(&w->ops, w->ops + 1, __ATOMIC_SEQ_CST);
		worker_pace(w);
	}
	/* Every drain is over (stop is raised after the last one): idle
	 * offline while main verifies, as a daemon worker would in poll. */
	pp_rcu_offline();
	worker_park(w);
	pp_rcu_online();
	worker_release(w);
	pcp_set_kick(w->pcp, NULL, NULL);
	pp_rcu_unregister();
	return NULL;
}

static enum drain_mode drainer_mode(const struct ctx *c, unsigned i)
{
	return c->rotate ? (enum drain_mode)(i % DRAIN_NR_MODES) : c->mode;
}

/* Unregistered: QSBR updaters must not be online readers. */
static void *drainer_main(void *arg)
{
	struct ctx *c = arg;
	struct pool *pool = c->pool;
	uint64_t last = 0;

	for (unsigned i = 0; i < c->ndrains; i++) {
		enum drain_mode mode = drainer_mode(c, i);
		unsigned flags = i % 8 == 0 ? DRAIN_FORCE : 0;
		uint64_t got = 0;
		double t;
		int ret;

		drainer_pace(c, &last);
		t = now_s();

		/* Mostly the whole pool, sometimes one pcp on its own. */
		if (i % 5 == 4)
			ret = drain_pcps(&pool->pcps[(i / 5) % pool->npcp], 1, mode, flags, &got);
		else
			ret = pool_drain(pool, (int)mode, flags, &got);
		c->secs_by_mode[mode] += now_s() - t;
		c->drains_by_mode[mode]++;
		if (ret != 0)
			c->drain_errors++;
		/* Also read by the watchdog's message. */
		__atomic_store_n(&c->drains, c->drains + 1, __ATOMIC_RELAXED);
		c->drained += got;
		c->drained_by_mode[mode] += got;
		c->drains_nonzero += got != 0;
	}
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void ctx_init(struct ctx *c, enum drain_mode pool_mode, enum drain_mode mode,
		     bool rotate)
{
	pthread_condattr_t ca;

	memset(c, 0, sizeof(*c));
	c->pool = tu_pool(POOL_MIB, NWORKERS, pool_mode, PCP_HIGH, PCP_BATCH);
	c->mode = mode;
	c->rotate = rotate;
	c->ndrains = rotate ? DRAINS_MIXED : DRAINS;
	c->words = (c->pool->npages + 63) / 64;
	c->bitmap = calloc(c->words, sizeof(uint64_t));
	assert_non_null(c->bitmap);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&c->lock, NULL);
	for (unsigned i = 0; i < NWORKERS; i++) {
		struct worker *w = &c->workers[i];

		w->ctx = c;
		w->pcp = pool_pcp(c->pool, i);
		w->rng = SEED ^ ((uint64_t)(i + 1) * 0xbf58476d1ce4e5b9ull) ^ (uint64_t)mode;
		owner_init(&w->owner, 100 + i);
	}
}

static void ctx_destroy(struct ctx *c)
{
	pool_destroy(c->pool);
	free(c->bitmap);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
}

/* Wait until every worker got to `what` (started, parked), within the watchdog. */
static void wait_workers(struct ctx *c, const unsigned *field, const char *what)
{
	struct timespec ts;
	int ret = 0;
	unsigned n;

	deadline(&ts, CLOCK_MONOTONIC, WATCHDOG_S);
	pthread_mutex_lock(&c->lock);
	while (*field < NWORKERS && ret == 0)
		ret = pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	n = *field;
	pthread_mutex_unlock(&c->lock);
	if (n < NWORKERS) {
		print_error("%u of %u workers %s within %u s: hang (drains done: %lu)\n",
			    n, NWORKERS, what, WATCHDOG_S,
			    (unsigned long)__atomic_load_n(&c->drains, __ATOMIC_RELAXED));
		abort();
	}
}

static uint64_t bitmap_count(const struct ctx *c)
{
	uint64_t n = 0;

	for (size_t i = 0; i < c->words; i++)
		n += (uint64_t)__builtin_popcountll(c->bitmap[i]);
	return n;
}

static void check_failures(const struct ctx *c)
{
	int bad = 0;

#define X(name, desc)							\
	if (c->fail.name) {						\
		print_error("%s: %lu (%s)\n", #name, (unsigned long)c->fail.name, desc); \
		bad = 1;						\
	}
	FAILURES(X)
#undef X
	assert_int_equal(bad, 0);
}

/* The pool as it was with the workers parked, every owner holding blocks.
 * Taken before the workers are released, asserted after they are joined. */
struct held_snapshot {
	int verify;			/* pool_verify() with the owners array */
	char err[256];
	bool owners_ok;			/* each held set adds up to its owner's count */
	bool stats_ok;			/* per pcp: pages allocated - freed == held */
	uint64_t held, marked;		/* pages held; bits set in the bitmap */
};

static void snapshot_held(struct ctx *c, struct owner **owners, struct held_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->verify = pool_verify(c->pool, owners, NWORKERS, s->err, sizeof(s->err));
	s->owners_ok = s->stats_ok = true;
	for (unsigned i = 0; i < NWORKERS; i++) {
		struct worker *w = &c->workers[i];
		struct pcp_stats *st = &c->pool->pcps[i]->stats;
		uint64_t pages = 0;

		for (unsigned k = 0; k < w->nheld; k++)
			pages += 1u << w->held[k].order;
		s->owners_ok &= pages == w->owner.pages;
		s->stats_ok &= st->alloc_pages - st->free_pages == pages;
		s->held += pages;
	}
	s->marked = bitmap_count(c);
}

static void check_snapshot(const struct held_snapshot *s)
{
	if (s->verify != 0)
		print_error("verify, owners holding: %s\n", s->err);
	assert_int_equal(s->verify, 0);
	assert_true(s->owners_ok);
	assert_true(s->stats_ok);
	/* The bitmap marks exactly what the owners hold. */
	assert_int_equal(s->marked, s->held);
}

static void check_after_release(struct ctx *c, struct owner **owners, uint64_t final_drained)
{
	struct pool *pool = c->pool;
	struct pool_counts pc;
	uint64_t accounted = 0, serviced = 0;

	for (unsigned i = 0; i < pool->npcp; i++) {
		assert_int_equal(pcp_count_remote(pool->pcps[i]), 0);
		assert_int_equal(pool->pcps[i]->drain->count, 0);
		accounted += pool->pcps[i]->drained_pages;
	}
	assert_verify(pool, owners, NWORKERS);
	assert_int_equal(tu_free_pages(pool), pool->npages);
	pool_counts(pool, &pc);
	assert_int_equal(pc.free, pool->npages);
	assert_int_equal(pc.allocated, 0);
	assert_int_equal(bitmap_count(c), 0);
	/* Every page a drain reported came from some pcp's accounting. */
	assert_int_equal(accounted, c->drained + final_drained);
	/* Each workqueue drain's pages are exactly what the workers flushed. */
	for (unsigned i = 0; i < NWORKERS; i++)
		serviced += c->workers[i].serviced_pages;
	assert_int_equal(serviced, c->drained_by_mode[DRAIN_WORKQUEUE]);
}

static void check_kicks(const struct ctx *c)
{
	uint64_t kicks = 0, services = 0;

	for (unsigned i = 0; i < NWORKERS; i++) {
		kicks += c->workers[i].kicks;
		services += c->workers[i].services;
	}
	/* rcu and spinlock drains never ask a worker for anything. */
	if (c->rotate || c->mode == DRAIN_WORKQUEUE) {
		assert_true(kicks > 0);
		assert_int_equal(services, kicks);
	} else {
		assert_int_equal(kicks, 0);
		assert_int_equal(services, 0);
	}
}

static void run_stress(enum drain_mode pool_mode, enum drain_mode mode, bool rotate)
{
	struct ctx *c = malloc(sizeof(*c));
	struct owner *owners[NWORKERS];
	struct held_snapshot snap;
	pthread_t drainer;
	int final_ret;
	uint64_t final_drained = 0, ops = 0, allocs = 0, high = 0, enomem = 0, eagain = 0;
	double t0 = now_s();

	assert_non_null(c);
	ctx_init(c, pool_mode, mode, rotate);
	for (unsigned i = 0; i < NWORKERS; i++) {
		owners[i] = &c->workers[i].owner;
		assert_int_equal(pthread_create(&c->workers[i].thread, NULL, worker_main,
						&c->workers[i]), 0);
	}
	/* A workqueue drain of a pcp whose worker has no kick yet is -ENOTSUP. */
	wait_workers(c, &c->started, "started");
	assert_int_equal(pthread_create(&drainer, NULL, drainer_main, c), 0);

	wait_workers(c, &c->parked, "stopped");
	join_or_abort(drainer, "drainer");
	snapshot_held(c, owners, &snap);

	pthread_mutex_lock(&c->lock);
	c->release = 1;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	for (unsigned i = 0; i < NWORKERS; i++)
		join_or_abort(c->workers[i].thread, "worker");

	/* Workers are gone and unregistered their kicks: rcu works for any pool. */
	final_ret = pool_drain(c->pool, mode == DRAIN_SPINLOCK ? DRAIN_SPINLOCK : DRAIN_RCU,
			       DRAIN_FORCE, &final_drained);

	for (unsigned i = 0; i < NWORKERS; i++) {
		struct worker *w = &c->workers[i];

		ops += w->ops;
		allocs += w->allocs;
		high += w->high_allocs;
		enomem += w->enomem;
		eagain += w->eagain;
	}
	print_message("  %s%s: %lu drains (%lu found pages), %lu pages drained, "
		      "%lu worker ops, %lu blocks allocated (%lu order>3), "
		      "%lu ENOMEM, %lu EAGAIN, %.2f s\n",
		      rotate ? "rotating " : "", rotate ? "" : drain_mode_name(mode),
		      (unsigned long)c->drains, (unsigned long)c->drains_nonzero,
		      (unsigned long)c->drained, (unsigned long)ops, (unsigned long)allocs,
		      (unsigned long)high, (unsigned long)enomem, (unsigned long)eagain,
		      now_s() - t0);
	for (unsigned m = 0; m < DRAIN_NR_MODES; m++)
		if (c->drains_by_mode[m])
			print_message("    %s drains: %lu, mean %.1f us\n", drain_mode_name(m),
				      (unsigned long)c->drains_by_mode[m],
				      c->secs_by_mode[m] * 1e6 / (double)c->drains_by_mode[m]);

	/* Every thread is joined: from here on a failed assert leaks, never hangs. */
	check_failures(c);
	check_snapshot(&snap);
	assert_int_equal(final_ret, 0);
	assert_int_equal(c->drains, c->ndrains);
	assert_int_equal(c->drain_errors, 0);
	/* The drains really raced with the workers and took pages from them. */
	assert_true(c->drained > 0);
	if (rotate)
		for (unsigned m = 0; m < DRAIN_NR_MODES; m++)
			assert_true(c->drained_by_mode[m] > 0);
	assert_true(allocs > 0);
	assert_true(high > 0);
	check_kicks(c);
	check_after_release(c, owners, final_drained);
	ctx_destroy(c);
	free(c);
}

static void test_stress_drain_rcu(void **state)
{
	run_stress(DRAIN_RCU, DRAIN_RCU, false);
}

static void test_stress_drain_workqueue(void **state)
{
	run_stress(DRAIN_WORKQUEUE, DRAIN_WORKQUEUE, false);
}

static void test_stress_drain_spinlock(void **state)
{
	run_stress(DRAIN_SPINLOCK, DRAIN_SPINLOCK, false);
}

/* rcu, workqueue and spinlock drains in turn: only a locked pool allows all. */
static void test_stress_drain_rotating(void **state)
{
	run_stress(DRAIN_SPINLOCK, DRAIN_SPINLOCK, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_drain_rcu),
		cmocka_unit_test(test_stress_drain_workqueue),
		cmocka_unit_test(test_stress_drain_spinlock),
		cmocka_unit_test(test_stress_drain_rotating),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
