/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.c - worker threads (see worker.h).
 *
 * The eventfd carries three kinds of news, all of which are checked on every
 * wake-up, so one write covers any mix of them: connections queued by the
 * admin thread, workqueue-mode drain requests (pcp->kick), client cache
 * drain requests (clientcache.c), and stop.
 */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clientcache.h"
#include "conn.h"
#include "log.h"
#include "rcu.h"
#include "worker.h"

static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_cond = PTHREAD_COND_INITIALIZER;
static unsigned parked;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cond = PTHREAD_COND_INITIALIZER;
static unsigned started;

static pthread_mutex_t stall_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stall_cond = PTHREAD_COND_INITIALIZER;

/* Single writer (the worker); odd while inside a callback. */
static void worker_seq_bump(struct worker *w)
{
	__atomic_store_n(&w->seq, __atomic_load_n(&w->seq, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELEASE);
}

void worker_enter(struct worker *w)
{
	pp_rcu_online();
	worker_seq_bump(w);
	COUNTER_ADD(w->loops, 1);
}

void worker_leave(struct worker *w)
{
	worker_seq_bump(w);
	pp_rcu_offline();
}

bool workers_progressing(struct daemon *d)
{
	bool ok = true;

	for (unsigned i = 0; i < d->nworkers; i++) {
		struct worker *w = d->workers[i];
		uint32_t seq = __atomic_load_n(&w->seq, __ATOMIC_ACQUIRE);

		if ((seq & 1) && seq == w->wd_seen) {
			/* Once per stuck episode, not at every tick. */
			if (!w->wd_stuck)
				log_warnx("worker %u (CPU %d) has been inside one callback since "
					  "the last watchdog check: not pinging the watchdog",
					  w->idx, w->cpu);
			w->wd_stuck = true;
			ok = false;
		} else if (w->wd_stuck) {
			log_warnx("worker %u (CPU %d) makes progress again", w->idx, w->cpu);
			w->wd_stuck = false;
		}
		w->wd_seen = seq;
	}
	return ok;
}

static void worker_kick(void *arg)
{
	struct worker *w = arg;
	uint64_t one = 1;

	if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("worker %u: eventfd write", w->idx);
}

void worker_wake(struct worker *w)
{
	worker_kick(w);
}

/* The connections handed over since the last call, now the worker's alone. */
static struct conn *worker_take_queue(struct worker *w)
{
	struct conn *c;

	pthread_mutex_lock(&w->qlock);
	c = w->queue;
	w->queue = NULL;
	pthread_mutex_unlock(&w->qlock);
	return c;
}

static void worker_attach_queued(struct worker *w)
{
	struct conn *c = worker_take_queue(w);

	while (c) {
		struct conn *next = c->next;

		conn_attach(w, c);	/* on failure it closed c */
		c = next;
	}
}

/* Every connection goes through conn_close(), attached or still queued. */
static void worker_close_all(struct worker *w)
{
	struct conn *c;

	while (w->conns)
		conn_close(w->conns);
	/* Handed over but never attached: off the queue first, as attaching
	 * does, so conn_close (which takes quota_lock) never runs under qlock. */
	c = worker_take_queue(w);
	while (c) {
		struct conn *next = c->next;

		conn_close(c);
		c = next;
	}
}

/* Wait, offline, until the admin thread lets the workers go. */
static void worker_park_here(struct worker *w)
{
	worker_leave(w);
	pthread_mutex_lock(&park_lock);
	parked++;
	pthread_cond_broadcast(&park_cond);
	while (__atomic_load_n(&w->park, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&park_cond, &park_lock);
	parked--;
	pthread_cond_broadcast(&park_cond);
	pthread_mutex_unlock(&park_lock);
	worker_enter(w);
}

/* Test hook: sit online, in the callback, until released. */
static void worker_stall_here(struct worker *w)
{
	pthread_mutex_lock(&stall_lock);
	while (__atomic_load_n(&w->stall, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&stall_cond, &stall_lock);
	pthread_mutex_unlock(&stall_lock);
}

void workers_test_stall(struct daemon *d, bool on)
{
	struct worker *w = d->workers[0];

	pthread_mutex_lock(&stall_lock);
	__atomic_store_n(&w->stall, on, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&stall_cond);
	pthread_mutex_unlock(&stall_lock);
	if (on)
		worker_kick(w);
	log_warnx("test hook: worker 0 %s", on ? "held online" : "released");
}

void workers_park(struct daemon *d, void (*fn)(void *), void *arg)
{
	unsigned n = 0;

	pthread_mutex_lock(&park_lock);
	for (unsigned i = 0; i < d->nworkers; i++) {
		if (!d->workers[i]->threaded)
			continue;
		__atomic_store_n(&d->workers[i]->park, 1, __ATOMIC_RELEASE);
		worker_kick(d->workers[i]);
		n++;
	}
	while (parked < n)
		pthread_cond_wait(&park_cond, &park_lock);
	pthread_mutex_unlock(&park_lock);
	fn(arg);
	pthread_mutex_lock(&park_lock);
	for (unsigned i = 0; i < d->nworkers; i++)
		__atomic_store_n(&d->workers[i]->park, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&park_cond);
	while (parked > 0)
		pthread_cond_wait(&park_cond, &park_lock);
	pthread_mutex_unlock(&park_lock);
}

static void worker_efd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t n;

	worker_enter(w);
	if (read(fd, &n, sizeof(n)) == sizeof(n))
		COUNTER_ADD(w->wakeups, 1);
	if (__atomic_load_n(&w->park, __ATOMIC_ACQUIRE))
		worker_park_here(w);
	if (__atomic_load_n(&w->stall, __ATOMIC_ACQUIRE))
		worker_stall_here(w);
	if (__atomic_load_n(&w->stopping, __ATOMIC_ACQUIRE)) {
		worker_close_all(w);
		event_base_loopbreak(w->base);
	} else {
		worker_attach_queued(w);
		for (unsigned i = 0; i < w->d->cfg.npools; i++)
			pcp_service(pool_pcp(w->d->pools[i], w->idx));
		if (w->parked)
			conn_resume_parked(w);
		ccache_worker_wake(w);
	}
	worker_leave(w);
}

static void worker_signal_started(struct worker *w, int err)
{
	pthread_mutex_lock(&start_lock);
	w->ready_err = err;
	started++;
	pthread_cond_broadcast(&start_cond);
	pthread_mutex_unlock(&start_lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];
	cpu_set_t set;
	sigset_t sigs;

	/* Signals belong to the admin thread. */
	sigfillset(&sigs);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	snprintf(name, sizeof(name), "pp-worker/%u", w->idx);
	pthread_setname_np(pthread_self(), name);
	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		log_warnx("worker %u: cannot pin to CPU %d; running unpinned", w->idx, w->cpu);
	pp_rcu_register();
	pp_rcu_offline();
	for (unsigned i = 0; i < w->d->cfg.npools; i++)
		pcp_set_kick(pool_pcp(w->d->pools[i], w->idx), worker_kick, w);
	worker_signal_started(w, 0);

	event_base_dispatch(w->base);

	for (unsigned i = 0; i < w->d->cfg.npools; i++)
		pcp_set_kick(pool_pcp(w->d->pools[i], w->idx), NULL, NULL);
	pp_rcu_online();
	pp_rcu_unregister();
	return NULL;
}

void worker_destroy(struct worker *w)
{
	if (!w)
		return;
	if (w->ev_efd)
		event_free(w->ev_efd);
	ccache_worker_fini(w);
	if (w->base)
		event_base_free(w->base);
	if (w->efd >= 0)
		close(w->efd);
	pthread_mutex_destroy(&w->qlock);
	free(w->scratch);
	free(w->freebuf);
	free(w->rbuf);
	free(w->wbuf);
	free(w);
}

struct worker *worker_create(struct daemon *d, unsigned idx)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->d = d;
	w->idx = idx;
	w->cpu = d->cfg.cpus[idx];
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&w->qlock, NULL);
	w->scratch = calloc(d->cfg.max_count, sizeof(uint32_t));
	w->freebuf = calloc(d->cfg.max_count, sizeof(uint32_t));
	w->rbuf = malloc(WORKER_IOBUF);
	w->wbuf = malloc(WORKER_IOBUF);
	w->base = event_base_new();
	if (w->efd < 0 || !w->scratch || !w->freebuf || !w->rbuf || !w->wbuf || !w->base)
		goto fail;
	/* Resident from the start: a fixed cost per worker, not a growth that
	 * the first pipelining client seems to cause. */
	memset(w->rbuf, 0, WORKER_IOBUF);
	memset(w->wbuf, 0, WORKER_IOBUF);
	w->ev_efd = event_new(w->base, w->efd, EV_READ | EV_PERSIST, worker_efd_cb, w);
	if (!w->ev_efd || event_add(w->ev_efd, NULL) < 0 || ccache_worker_init(w) < 0)
		goto fail;
	return w;
fail:
	worker_destroy(w);
	return NULL;
}

int workers_start(struct daemon *d)
{
	d->nworkers = d->cfg.ncpus;
	d->workers = calloc(d->nworkers, sizeof(*d->workers));
	if (!d->workers)
		return -ENOMEM;
	for (unsigned i = 0; i < d->nworkers; i++) {
		d->workers[i] = worker_create(d, i);
		if (!d->workers[i] ||
		    pthread_create(&d->workers[i]->thread, NULL, worker_main, d->workers[i]) != 0) {
			worker_destroy(d->workers[i]);
			d->workers[i] = NULL;
			d->nworkers = i;
			workers_stop(d);
			return -ENOMEM;
		}
		d->workers[i]->threaded = true;
	}
	pthread_mutex_lock(&start_lock);
	while (started < d->nworkers)
		pthread_cond_wait(&start_cond, &start_lock);
	pthread_mutex_unlock(&start_lock);
	return 0;
}

/*
 * The workers a client's CPUs have: a client pinned to some CPUs (its
 * affinity when it connected, read from its pid) is served by a worker on
 * one of them when there is one, so that a request wakes a thread on the
 * client's own CPU: a same-CPU wake-up costs a few microseconds here, one
 * across CPUs tens.  false (any worker will do) for a client that may run
 * everywhere, runs where no worker is, or whose affinity cannot be read.
 */
static bool workers_near(struct daemon *d, pid_t pid, cpu_set_t *set)
{
	bool some = false, all = true;

	if (pid <= 0 || sched_getaffinity(pid, sizeof(*set), set) < 0)
		return false;
	for (unsigned k = 0; k < d->nworkers; k++) {
		int cpu = d->workers[k]->cpu;
		bool in = cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, set);

		some |= in;
		all &= in;
	}
	return some && !all;
}

void workers_dispatch(struct daemon *d, struct conn *c)
{
	static unsigned rr;
	struct worker *best = NULL;
	uint32_t best_n = UINT32_MAX;
	cpu_set_t set;
	bool near = workers_near(d, c->pid, &set);

	/* Least connections (among the workers on the client's CPUs, if it is
	 * pinned near some); the round-robin start breaks ties fairly. */
	for (unsigned k = 0; k < d->nworkers; k++) {
		struct worker *w = d->workers[(rr + k) % d->nworkers];
		uint32_t n = __atomic_load_n(&w->nconns, __ATOMIC_RELAXED);

		if (near && !(w->cpu >= 0 && w->cpu < CPU_SETSIZE && CPU_ISSET(w->cpu, &set)))
			continue;
		if (n < best_n) {
			best = w;
			best_n = n;
		}
	}
	rr++;
	if (!best)		/* no workers: cannot happen after workers_start() */
		abort();
	__atomic_add_fetch(&best->nconns, 1, __ATOMIC_RELAXED);
	c->w = best;
	pthread_mutex_lock(&best->qlock);
	c->next = best->queue;
	best->queue = c;
	pthread_mutex_unlock(&best->qlock);
	worker_kick(best);
}

void workers_wake_parked(struct daemon *d)
{
	for (unsigned i = 0; i < d->nworkers; i++)
		if (__atomic_load_n(&d->workers[i]->nparked, __ATOMIC_ACQUIRE))
			worker_kick(d->workers[i]);
}

void workers_stop(struct daemon *d)
{
	if (d->nworkers && __atomic_load_n(&d->workers[0]->stall, __ATOMIC_ACQUIRE))
		workers_test_stall(d, false);
	for (unsigned i = 0; i < d->nworkers; i++) {
		__atomic_store_n(&d->workers[i]->stopping, 1, __ATOMIC_RELEASE);
		worker_kick(d->workers[i]);
	}
	for (unsigned i = 0; i < d->nworkers; i++) {
		pthread_join(d->workers[i]->thread, NULL);
		worker_destroy(d->workers[i]);
	}
	free(d->workers);
	d->workers = NULL;
	d->nworkers = 0;
}
