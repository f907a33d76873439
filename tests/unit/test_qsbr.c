/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_qsbr.c - grace-period behaviour of the rcu drain, one worker at a time.
 *
 * The claims of doc/DESIGN.md "Remote drain", each pinned down by a test:
 *   - an offline (idle, blocked) worker never delays an rcu drain, and the
 *     drain empties its pcp without waking it;
 *   - an online worker inside a long operation delays the drain until it
 *     reports a quiescent state - and no longer - while it keeps serving
 *     from the fresh lists the drain swapped in;
 *   - a workqueue drain cannot finish without waking the worker, while an
 *     rcu drain of the same blocked worker wakes it zero times.
 *
 * Drains run in a helper thread (unregistered, as the admin thread is) so the
 * main thread can wait for them with a deadline: a drain that blocks fails
 * the test instead of hanging it.  Worker threads never assert; they leave
 * error codes and timestamps for the main thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define POOL_MIB	16
#define PCP_HIGH	512		/* well above what fill_pcp() caches: no trim */
#define PCP_BATCH	31
#define KEEP_BLOCKS	5		/* order-0 blocks a worker keeps allocated */
#define WAIT_S		10		/* bound on every wait; never reached when correct */
#define STUCK_NS	50000000ll	/* the simulated long operation: 50 ms */
#define QS_SLACK_NS	5000000000ll	/* a drain ends within 5 s of the last QS */
#define CMD_TOKEN	(1ull << 32)	/* eventfd value of a command; a kick writes 1 */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* ---- a mutex, a condvar on CLOCK_MONOTONIC, and int fields they guard ---- */

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void gate_init(struct gate *g)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&g->lock, NULL);
}

static void gate_destroy(struct gate *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

static void gate_add(struct gate *g, int *field, int d)
{
	pthread_mutex_lock(&g->lock);
	*field += d;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/* Wait until *field >= want, at most `sec` seconds.  True when it got there. */
static bool gate_wait(struct gate *g, const int *field, int want, unsigned sec)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += sec;
	pthread_mutex_lock(&g->lock);
	while (*field < want && pthread_cond_timedwait(&g->cond, &g->lock, &ts) == 0)
		;
	ok = *field >= want;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

static int gate_get(struct gate *g, const int *field)
{
	int v;

	pthread_mutex_lock(&g->lock);
	v = *field;
	pthread_mutex_unlock(&g->lock);
	return v;
}

/* Join within the bound or abort: a thread that never ends is a hang. */
static void join_or_abort(pthread_t t, const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3 * WAIT_S;
	if (pthread_timedjoin_np(t, NULL, &ts) != 0) {
		print_error("%s did not finish within %d s: hang\n", what, 3 * WAIT_S);
		abort();
	}
}

/* ---- the drain helper thread ---- */

struct drain_job {
	struct gate *gate;
	struct pool *pool;
	enum drain_mode mode;
	unsigned flags;
	const int *qs_flag;		/* read right after the drain returns; may be NULL */
	pthread_t thread;
	/* Results, valid once done is set. */
	int ret;
	uint64_t drained;
	int64_t t0, t1;
	int qs_at_return;
	int done;
};

static void *drain_main(void *arg)
{
	struct drain_job *j = arg;
	int qs;

	j->t0 = now_ns();
	j->ret = pool_drain(j->pool, (int)j->mode, j->flags, &j->drained);
	/* First thing after synchronize_rcu() returned: has the worker's QS
	 * already happened?  It must have. */
	qs = j->qs_flag ? __atomic_load_n(j->qs_flag, __ATOMIC_SEQ_CST) : -1;
	j->t1 = now_ns();
	j->qs_at_return = qs;
	gate_add(j->gate, &j->done, 1);
	return NULL;
}

static void drain_start(struct drain_job *j, struct gate *g, struct pool *pool,
			enum drain_mode mode, unsigned flags, const int *qs_flag)
{
	memset(j, 0, sizeof(*j));
	j->gate = g;
	j->pool = pool;
	j->mode = mode;
	j->flags = flags;
	j->qs_flag = qs_flag;
	assert_int_equal(pthread_create(&j->thread, NULL, drain_main, j), 0);
}

/* ---- worker helpers ---- */

/*
 * Allocate blocks of orders 0..PCP_MAX_ORDER through the pcp and free all of
 * them but KEEP_BLOCKS order-0 ones, so the pcplists cache pages (refill
 * leftovers plus everything freed).  Worker thread, online.  0 or -errno.
 */
static int fill_pcp(struct pool *pool, struct pcp *pcp, struct owner *o)
{
	static const unsigned counts[PCP_NR_ORDERS] = { 40, 12, 6, 3 };
	uint32_t pfns[40];
	unsigned got;
	int ret;

	for (unsigned order = 0; order < PCP_NR_ORDERS; order++) {
		unsigned keep = order == 0 ? KEEP_BLOCKS : 0;

		ret = pool_alloc(pool, pcp, o, order, counts[order], 0, pfns, &got);
		if (ret < 0)
			return ret;
		ret = pool_free(pool, pcp, o, pfns + keep, got - keep, (int)order, NULL);
		if (ret < 0)
			return ret;
	}
	return pcp_count_remote(pcp) > 0 ? 0 : -ENODATA;
}

/* One block of `order` in and out again: a request's worth of pcp work. */
static int churn_once(struct pool *pool, struct pcp *pcp, struct owner *o, unsigned order)
{
	uint32_t pfn;
	unsigned got;
	int ret = pool_alloc(pool, pcp, o, order, 1, 0, &pfn, &got);

	return ret < 0 ? ret : pool_free(pool, pcp, o, &pfn, 1, (int)order, NULL);
}

static struct pool *qsbr_pool(enum drain_mode mode)
{
	return tu_pool(POOL_MIB, 1, mode, PCP_HIGH, PCP_BATCH);
}

/* The end of every test: the pool is whole again. */
static void check_pool_whole(struct pool *pool, struct owner *o)
{
	struct owner *owners[1] = { o };

	assert_int_equal(o->pages, 0);
	assert_verify(pool, owners, 1);
	assert_int_equal(tu_free_pages(pool), pool->npages);
	assert_int_equal(pool_drain(pool, DRAIN_RCU, DRAIN_FORCE, NULL), 0);
	assert_int_equal(pcp_count_remote(pool_pcp(pool, 0)), 0);
	assert_int_equal(tu_free_pages(pool), pool->npages);
	assert_verify(pool, owners, 1);
}

/* ==== 1. an offline worker never delays a drain ==== */

struct idle_worker {
	struct gate gate;
	struct pool *pool;
	struct pcp *pcp;
	struct owner owner;
	int efd;
	pthread_t thread;
	int err;
	int cached;		/* pcp pages when it went offline */
	int ready;		/* offline and about to block */
	int wakeups;		/* returns from read(efd) */
};

static void *idle_worker_main(void *arg)
{
	struct idle_worker *w = arg;
	uint64_t v;

	pp_rcu_register();
	w->err = fill_pcp(w->pool, w->pcp, &w->owner);
	w->cached = pcp_count_remote(w->pcp);
	/* Idle: offline before blocking, as a daemon worker around poll. */
	pp_rcu_offline();
	gate_add(&w->gate, &w->ready, 1);
	while (read(w->efd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	__atomic_fetch_add(&w->wakeups, 1, __ATOMIC_SEQ_CST);
	pp_rcu_online();
	pool_release_all(w->pool, w->pcp, &w->owner);
	pp_rcu_unregister();
	return NULL;
}

static void test_offline_worker_never_delays_drain(void **state)
{
	struct idle_worker w = { 0 };
	struct owner *owners[1] = { &w.owner };
	struct drain_job job;
	uint64_t one = 1;
	int wakeups;
	bool done;

	gate_init(&w.gate);
	w.pool = qsbr_pool(DRAIN_RCU);
	w.pcp = pool_pcp(w.pool, 0);
	owner_init(&w.owner, 7);
	w.efd = eventfd(0, EFD_CLOEXEC);
	assert_true(w.efd >= 0);
	assert_int_equal(pthread_create(&w.thread, NULL, idle_worker_main, &w), 0);
	assert_true(gate_wait(&w.gate, &w.ready, 1, WAIT_S));
	assert_int_equal(w.err, 0);
	assert_true(w.cached > 0);
	assert_int_equal(pcp_count_remote(w.pcp), w.cached);

	drain_start(&job, &w.gate, w.pool, DRAIN_RCU, 0, NULL);
	done = gate_wait(&w.gate, &job.done, 1, WAIT_S);
	/* When the drain returned, the worker was still blocked in read(). */
	wakeups = __atomic_load_n(&w.wakeups, __ATOMIC_SEQ_CST);
	if (!done)	/* let the worker unregister so the drain can end, then fail */
		assert_int_equal(write(w.efd, &one, sizeof(one)), sizeof(one));
	join_or_abort(job.thread, "rcu drain");
	assert_true(done);
	assert_int_equal(wakeups, 0);
	assert_int_equal(job.ret, 0);
	assert_int_equal(job.drained, (uint64_t)w.cached);
	assert_int_equal(pcp_count_remote(w.pcp), 0);
	assert_int_equal(w.pcp->drained_pages, (uint64_t)w.cached);

	/* A forced drain (swap even though empty) does not wait for it either. */
	drain_start(&job, &w.gate, w.pool, DRAIN_RCU, DRAIN_FORCE, NULL);
	done = gate_wait(&w.gate, &job.done, 1, WAIT_S);
	if (!done)
		assert_int_equal(write(w.efd, &one, sizeof(one)), sizeof(one));
	join_or_abort(job.thread, "forced rcu drain");
	assert_true(done);
	assert_int_equal(job.ret, 0);
	assert_int_equal(job.drained, 0);

	/* Still blocked, still holding its blocks: the pool adds up around it. */
	assert_int_equal(__atomic_load_n(&w.wakeups, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(w.owner.pages, KEEP_BLOCKS);
	assert_verify(w.pool, owners, 1);
	assert_int_equal(tu_free_pages(w.pool), w.pool->npages - KEEP_BLOCKS);

	assert_int_equal(write(w.efd, &one, sizeof(one)), sizeof(one));
	join_or_abort(w.thread, "idle worker");
	assert_int_equal(w.wakeups, 1);
	check_pool_whole(w.pool, &w.owner);
	close(w.efd);
	pool_destroy(w.pool);
	gate_destroy(&w.gate);
}

/* ==== 2. an online worker delays the drain until its QS, and no longer ==== */

struct busy_worker {
	struct gate gate;
	struct pool *pool;
	struct pcp *pcp;
	struct owner owner;
	pthread_t thread;
	int err;
	int cached;		/* pcp pages when the operation began */
	int inside;		/* gate: inside the long operation */
	int offline;		/* gate: QS reported, offline */
	int finish;		/* gate: main lets it exit */
	int swap_seen;		/* 1: saw pcp->lp change; -1: gave up */
	int qs_reported;	/* set immediately before the quiescent state */
	int64_t t_swap, t_qs;
	uint64_t ops_during;	/* pcp operations served during the drain */
	int cached_after;	/* pcp pages (fresh lists) when it reported the QS */
};

/* Spin, online and without a QS, until the drain swaps our lists. */
static void busy_wait_swap(struct busy_worker *w, struct pcplists *seen)
{
	int64_t limit = now_ns() + (int64_t)WAIT_S * 1000000000ll;

	while (READ_ONCE(w->pcp->lp) == seen && now_ns() < limit)
		caa_cpu_relax();
	w->swap_seen = READ_ONCE(w->pcp->lp) != seen ? 1 : -1;
	w->t_swap = now_ns();
}

static void *busy_worker_main(void *arg)
{
	struct busy_worker *w = arg;
	struct pcplists *seen;
	int ret = 0;

	pp_rcu_register();
	w->err = fill_pcp(w->pool, w->pcp, &w->owner);
	w->cached = pcp_count_remote(w->pcp);
	/* The operation starts here: no quiescent state until it ends.  Note
	 * the lists before telling main, or a quick drain could swap first. */
	seen = READ_ONCE(w->pcp->lp);
	gate_add(&w->gate, &w->inside, 1);
	busy_wait_swap(w, seen);
	/* Keep serving for STUCK_NS: the pages land in the fresh lists. */
	while (ret == 0 && now_ns() - w->t_swap < STUCK_NS) {
		ret = churn_once(w->pool, w->pcp, &w->owner, (unsigned)(w->ops_during % 4));
		w->ops_during++;
	}
	if (ret < 0 && w->err == 0)
		w->err = ret;
	w->cached_after = pcp_count_remote(w->pcp);
	w->t_qs = now_ns();
	__atomic_store_n(&w->qs_reported, 1, __ATOMIC_SEQ_CST);
	pp_rcu_quiescent();
	pp_rcu_offline();
	gate_add(&w->gate, &w->offline, 1);
	gate_wait(&w->gate, &w->finish, 1, 3 * WAIT_S);
	pp_rcu_online();
	pool_release_all(w->pool, w->pcp, &w->owner);
	pp_rcu_unregister();
	return NULL;
}

static void test_online_worker_delays_drain_until_qs(void **state)
{
	struct busy_worker w = { 0 };
	struct drain_job job;
	bool done, went_offline;
	int pcp_after;

	gate_init(&w.gate);
	w.pool = qsbr_pool(DRAIN_RCU);
	w.pcp = pool_pcp(w.pool, 0);
	owner_init(&w.owner, 8);
	assert_int_equal(pthread_create(&w.thread, NULL, busy_worker_main, &w), 0);
	assert_true(gate_wait(&w.gate, &w.inside, 1, WAIT_S));

	drain_start(&job, &w.gate, w.pool, DRAIN_RCU, 0, &w.qs_reported);
	/* The worker gives up waiting for the swap after WAIT_S and reports its
	 * QS anyway, so even a broken drain ends and is then reported. */
	done = gate_wait(&w.gate, &job.done, 1, 2 * WAIT_S);
	went_offline = gate_wait(&w.gate, &w.offline, 1, 2 * WAIT_S);
	join_or_abort(job.thread, "rcu drain");
	/* Parked offline, still holding its blocks: what its pcp kept. */
	pcp_after = pcp_count_remote(w.pcp);
	gate_add(&w.gate, &w.finish, 1);
	join_or_abort(w.thread, "busy worker");

	print_message("  worker stuck %.1f ms after the swap (%lu ops), drain took %.1f ms, "
		      "returned %.3f ms after the QS\n",
		      (double)(w.t_qs - w.t_swap) / 1e6, (unsigned long)w.ops_during,
		      (double)(job.t1 - job.t0) / 1e6, (double)(job.t1 - w.t_qs) / 1e6);
	assert_true(done);
	assert_true(went_offline);
	assert_int_equal(w.err, 0);
	assert_true(w.cached > 0);
	assert_int_equal(w.swap_seen, 1);
	assert_int_equal(job.ret, 0);
	/* synchronize_rcu() returned only after the worker's QS... */
	assert_int_equal(job.qs_at_return, 1);
	assert_true(job.t1 >= w.t_qs);
	assert_true(w.t_qs - w.t_swap >= STUCK_NS);
	assert_true(job.t1 - job.t0 >= STUCK_NS);
	/* ...and not long after it. */
	assert_true(job.t1 - w.t_qs < QS_SLACK_NS);
	/* It drained exactly the lists it swapped out, while the worker kept
	 * serving from the fresh ones, which stay with the worker. */
	assert_int_equal(job.drained, (uint64_t)w.cached);
	assert_true(w.ops_during > 0);
	assert_int_equal(pcp_after, w.cached_after);
	check_pool_whole(w.pool, &w.owner);
	pool_destroy(w.pool);
	gate_destroy(&w.gate);
}

/* ==== 3. a workqueue drain wakes the worker; an rcu drain does not ==== */

enum sleepy_cmd { CMD_NONE, CMD_FILL, CMD_STOP };

struct sleepy_worker {
	struct gate gate;
	struct pool *pool;
	struct pcp *pcp;
	struct owner owner;
	int efd;
	pthread_t thread;
	int err;
	int ready;
	int cmd;		/* gate-guarded; announced by a CMD_TOKEN write */
	int acks;		/* commands done */
	int cached1, cached2;	/* pcp pages after the first and second fill */
	int kicks;		/* kick() calls, made by the drain thread */
	int wakeups;		/* returns from read(efd) */
	uint64_t kick_writes;	/* eventfd value written by kicks, as read */
	uint64_t cmd_writes;	/* ...and by commands */
	uint64_t serviced;	/* pages its pcp_service() flushed */
};

static void sleepy_kick(void *arg)
{
	struct sleepy_worker *w = arg;
	uint64_t one = 1;

	__atomic_fetch_add(&w->kicks, 1, __ATOMIC_SEQ_CST);
	if (write(w->efd, &one, sizeof(one)) != sizeof(one))
		abort();	/* an eventfd write of 1 cannot fail here */
}

/*
 * One wake-up: serve a pending drain request, then a command if this read
 * carried its token (main sets cmd before writing the token, so a wake-up by
 * a kick never takes a command meant for a later read).  False on stop.
 */
static bool sleepy_wakeup(struct sleepy_worker *w, uint64_t v)
{
	int cmd = CMD_NONE;

	__atomic_fetch_add(&w->wakeups, 1, __ATOMIC_SEQ_CST);
	w->kick_writes += v % CMD_TOKEN;
	w->cmd_writes += v / CMD_TOKEN;
	pp_rcu_online();
	w->serviced += pcp_service(w->pcp);
	if (v >= CMD_TOKEN) {
		pthread_mutex_lock(&w->gate.lock);
		cmd = w->cmd;
		w->cmd = CMD_NONE;
		pthread_mutex_unlock(&w->gate.lock);
	}
	if (cmd == CMD_FILL) {
		int ret = fill_pcp(w->pool, w->pcp, &w->owner);
		if (ret < 0 && w->err == 0)
			w->err = ret;
		w->cached2 = pcp_count_remote(w->pcp);
	} else if (cmd == CMD_STOP) {
		pool_release_all(w->pool, w->pcp, &w->owner);
		pcp_set_kick(w->pcp, NULL, NULL);
	}
	pp_rcu_offline();
	if (cmd != CMD_NONE)
		gate_add(&w->gate, &w->acks, 1);
	return cmd != CMD_STOP;
}

static void *sleepy_worker_main(void *arg)
{
	struct sleepy_worker *w = arg;
	bool more = true;

	pp_rcu_register();
	pcp_set_kick(w->pcp, sleepy_kick, w);
	w->err = fill_pcp(w->pool, w->pcp, &w->owner);
	w->cached1 = pcp_count_remote(w->pcp);
	pp_rcu_offline();
	gate_add(&w->gate, &w->ready, 1);
	while (more) {
		uint64_t v;

		if (read(w->efd, &v, sizeof(v)) != sizeof(v)) {
			if (errno == EINTR)
				continue;
			w->err = -errno;
			break;
		}
		more = sleepy_wakeup(w, v);
	}
	pp_rcu_unregister();
	return NULL;
}

/* Hand the worker a command through its eventfd and wait until it is done. */
static bool sleepy_command(struct sleepy_worker *w, int cmd)
{
	uint64_t token = CMD_TOKEN;
	int acks = gate_get(&w->gate, &w->acks);

	pthread_mutex_lock(&w->gate.lock);
	w->cmd = cmd;
	pthread_mutex_unlock(&w->gate.lock);
	if (write(w->efd, &token, sizeof(token)) != sizeof(token))
		return false;
	return gate_wait(&w->gate, &w->acks, acks + 1, WAIT_S);
}

/* Run one drain with a deadline; on a hang, stop the worker first so that a
 * workqueue drain waiting for it can end, then report the failure. */
static void sleepy_drain(struct sleepy_worker *w, struct drain_job *job, enum drain_mode mode)
{
	bool done;

	drain_start(job, &w->gate, w->pool, mode, 0, NULL);
	done = gate_wait(&w->gate, &job->done, 1, WAIT_S);
	if (!done)
		sleepy_command(w, CMD_STOP);
	join_or_abort(job->thread, drain_mode_name(mode));
	assert_true(done);
	assert_int_equal(job->ret, 0);
}

static void test_workqueue_wakes_worker_rcu_does_not(void **state)
{
	struct sleepy_worker w = { 0 };
	struct drain_job job;

	gate_init(&w.gate);
	w.pool = qsbr_pool(DRAIN_WORKQUEUE);
	w.pcp = pool_pcp(w.pool, 0);
	owner_init(&w.owner, 9);
	w.efd = eventfd(0, EFD_CLOEXEC);
	assert_true(w.efd >= 0);
	assert_int_equal(pthread_create(&w.thread, NULL, sleepy_worker_main, &w), 0);
	assert_true(gate_wait(&w.gate, &w.ready, 1, WAIT_S));
	assert_int_equal(w.err, 0);
	assert_true(w.cached1 > 0);

	/* rcu: the blocked worker's pages are drained; it is neither kicked
	 * nor woken, and runs no self-drain. */
	sleepy_drain(&w, &job, DRAIN_RCU);
	assert_int_equal(job.drained, (uint64_t)w.cached1);
	assert_int_equal(pcp_count_remote(w.pcp), 0);
	assert_int_equal(__atomic_load_n(&w.kicks, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(__atomic_load_n(&w.wakeups, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(READ_ONCE(w.pcp->stats.self_drains), 0);

	/* Wake it ourselves to refill its pcp.  Its read sees only our token:
	 * the rcu drain wrote nothing to its eventfd. */
	assert_true(sleepy_command(&w, CMD_FILL));
	assert_int_equal(gate_get(&w.gate, &w.err), 0);
	assert_int_equal(__atomic_load_n(&w.wakeups, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(w.kick_writes, 0);
	assert_int_equal(w.cmd_writes, 1);
	assert_true(w.cached2 > 0);
	assert_int_equal(pcp_count_remote(w.pcp), w.cached2);

	/* workqueue: cannot finish unless the worker wakes and drains itself. */
	sleepy_drain(&w, &job, DRAIN_WORKQUEUE);
	assert_int_equal(job.drained, (uint64_t)w.cached2);
	assert_int_equal(pcp_count_remote(w.pcp), 0);
	/* One drain of one pcp: exactly one kick. */
	assert_int_equal(__atomic_load_n(&w.kicks, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(__atomic_load_n(&w.wakeups, __ATOMIC_SEQ_CST), 2);
	assert_true(READ_ONCE(w.pcp->stats.self_drains) >= 1);

	assert_true(sleepy_command(&w, CMD_STOP));
	join_or_abort(w.thread, "sleepy worker");
	assert_int_equal(w.err, 0);
	assert_int_equal(w.kick_writes, 1);
	assert_int_equal(w.cmd_writes, 2);
	assert_int_equal(w.serviced, (uint64_t)w.cached2);
	check_pool_whole(w.pool, &w.owner);
	close(w.efd);
	pool_destroy(w.pool);
	gate_destroy(&w.gate);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offline_worker_never_delays_drain),
		cmocka_unit_test(test_online_worker_delays_drain_until_qs),
		cmocka_unit_test(test_workqueue_wakes_worker_rcu_does_not),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
