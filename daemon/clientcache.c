/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clientcache.c - client caches drained remotely (see clientcache.h and
 * proto/ccache.h for the region and the client's rule).
 *
 * The grace period, across processes.  The client enters a cache operation
 * with seq odd followed by a full fence, then reads `active`; the daemon
 * stores `active` = spare, runs a full fence, then reads seq (each side's
 * store and fence are one seq_cst exchange, its read a seq_cst load).  Take any
 * operation that read the OLD set.  Its fence and ours are ordered: if the
 * client's came first, its odd seq (or a later value) was visible to our
 * read; if ours came first, our store to `active` was visible to its read,
 * which then could not have returned the old set.  So when our read finds
 * seq even, no operation on the old set is in progress and none can start;
 * when it finds seq odd, only the operation with that very seq can be on the
 * old set, and it is over once seq differs.  The client's leave is a release
 * store and our read of seq (seq_cst) an acquire, so what that operation wrote
 * to the old set is visible to the flush that follows.  The daemon pays one
 * locked instruction per drained client; the client one per operation (its
 * cost is measured in doc/DESIGN.md, with the alternatives).
 *
 * Nothing read from the region is trusted: counts are clamped, pfns copied
 * into daemon memory before they are sorted and checked, and only blocks the
 * connection owns, of the list's order, listed once, are freed.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clientcache.h"
#include "compiler.h"
#include "conn.h"
#include "conn_req.h"
#include "log.h"
#include "pool.h"
#include "worker.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

/* A worker's part in the current drain request. */
struct ccache_work {
	uint64_t gen;			/* the request being worked on; 0: none */
	uint64_t done;			/* the last request answered */
	int pool_idx;			/* -1: every pool */
	uint64_t client_id;		/* 0: every client */
	unsigned flags;
	unsigned bound_ms;		/* how long to wait for a busy client */
	int tfd;			/* timerfd: re-poll of clients still inside an operation */
	struct event *timer;		/* its read event */
	unsigned backoff_us;
	struct ccache_result res;
	uint32_t buf[PP_CC_CAP];	/* one list, copied out of a region */
};

/* The request in flight: one at a time, from the admin thread. */
static pthread_mutex_t cc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cc_cond;
static pthread_once_t cc_once = PTHREAD_ONCE_INIT;
static uint64_t cc_gen;
static int cc_pool_idx;
static uint64_t cc_client_id;
static unsigned cc_flags;
static unsigned cc_bound_ms;
static unsigned cc_pending;		/* workers yet to answer */
static bool cc_busy;
static struct ccache_result cc_res;
static uint32_t cc_nclients[CONFIG_MAX_POOLS];	/* atomic: regions mapped */
static bool cc_want[CONFIG_MAX_CPUS];	/* admin thread: workers ccache_decay() wants */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void cc_cond_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&cc_cond, &a);
	pthread_condattr_destroy(&a);
}

int ccache_map(struct conn *c, int *fdp)
{
	struct pp_cc_region *r;
	struct ccache *cc;
	int fd;

	if (c->cc)
		return -EALREADY;
	/* No exec bits where the kernel has the flag (and requires it, with
	 * vm.memfd_noexec = 2); before 6.3 it is refused as unknown. */
	fd = memfd_create("pagepool-cache", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("pagepool-cache", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* Sealed: a client that could shrink it would make our reads fault. */
	if (ftruncate(fd, (off_t)PP_CC_SIZE) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	r = mmap(NULL, PP_CC_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cc = calloc(1, sizeof(*cc));
	if (r == MAP_FAILED || !cc) {
		if (r != MAP_FAILED)
			munmap(r, PP_CC_SIZE);
		free(cc);
		close(fd);
		return -ENOMEM;
	}
	r->magic = PP_CC_MAGIC;
	r->version = PP_CC_VERSION;
	r->size = (uint32_t)PP_CC_SIZE;
	r->active = 0;
	cc->r = r;
	cc->fd = fd;
	/* Read by the admin thread (clients, status) under d->quota_lock. */
	__atomic_store_n(&c->cc, cc, __ATOMIC_RELEASE);
	__atomic_add_fetch(&cc_nclients[c->pool_idx], 1, __ATOMIC_RELAXED);
	*fdp = fd;
	return 0;
}

void ccache_fd_sent(struct conn *c, int fd)
{
	if (c->cc && c->cc->fd >= 0 && c->cc->fd == fd) {
		close(fd);
		c->cc->fd = -1;
	}
}

void ccache_destroy(struct conn *c)
{
	struct ccache *cc = c->cc;

	if (!cc)
		return;
	c->cc = NULL;
	__atomic_sub_fetch(&cc_nclients[c->pool_idx], 1, __ATOMIC_RELAXED);
	if (cc->fd >= 0)
		close(cc->fd);
	munmap(cc->r, PP_CC_SIZE);
	free(cc);
}

uint64_t ccache_cached(struct daemon *d, int pool_idx)
{
	uint64_t pages = 0;

	pthread_mutex_lock(&d->quota_lock);
	for (uint32_t s = 0; s < d->cfg.max_connections; s++) {
		struct conn *c = d->slots[s];
		struct ccache *cc = c ? __atomic_load_n(&c->cc, __ATOMIC_ACQUIRE) : NULL;

		if (cc && c->pool_idx == pool_idx)
			pages += ccache_pages(cc);
	}
	pthread_mutex_unlock(&d->quota_lock);
	return pages;
}

uint32_t ccache_clients(int pool_idx)
{
	return __atomic_load_n(&cc_nclients[pool_idx], __ATOMIC_RELAXED);
}

uint64_t ccache_pages(const struct ccache *cc)
{
	uint64_t pages = 0;

	for (unsigned s = 0; s < 2; s++)
		for (unsigned k = 0; k < PP_CC_ORDERS; k++) {
			uint32_t n = __atomic_load_n(&cc->r->list[s][k].count, __ATOMIC_RELAXED);

			pages += (uint64_t)(n > PP_CC_CAP ? PP_CC_CAP : n) << k;
		}
	return pages;
}

/* The remote drain's first half: the client's next operation uses the
 * (empty) spare; remember where its seq stood just after. */
static void cc_switch(struct ccache *cc, uint64_t now)
{
	struct pp_cc_region *r = cc->r;
	uint32_t spare = cc->active ^ 1;

	for (unsigned k = 0; k < PP_CC_ORDERS; k++)
		__atomic_store_n(&r->list[spare][k].count, 0, __ATOMIC_RELAXED);
	/* The store and the full fence in one: a seq_cst exchange (a locked
	 * instruction), then a seq_cst load - the client's side is the same
	 * pair, so C11's total order of seq_cst operations gives the argument
	 * above (ThreadSanitizer, for one, knows no stand-alone fence). */
	(void)__atomic_exchange_n(&r->active, spare, __ATOMIC_SEQ_CST);
	cc->active = spare;
	cc->seq_seen = __atomic_load_n(&r->seq, __ATOMIC_SEQ_CST);
	__atomic_store_n(&cc->waiting, true, __ATOMIC_RELEASE);
	cc->since_ns = now;
}

/* Grace period over: no operation can still be using the old set. */
static bool cc_quiet(const struct ccache *cc)
{
	return !(cc->seq_seen & 1) ||
	       __atomic_load_n(&cc->r->seq, __ATOMIC_ACQUIRE) != cc->seq_seen;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The second half, once the grace period is over: the old set is ours.
 * Copy each list, clear it (it is the next spare), sort the copy, and free
 * what c owns of that order, each block once, as c's own Free would (quota
 * charges included).  Everything else counts as c's error.
 */
static void cc_flush(struct conn *c, struct ccache_work *cw)
{
	struct ccache *cc = c->cc;
	struct pp_cc_region *r = cc->r;
	uint32_t old = cc->active ^ 1, *buf = cw->buf;
	uint64_t pages = 0, bad = 0;

	for (unsigned k = 0; k < PP_CC_ORDERS; k++) {
		struct pp_cc_list *l = &r->list[old][k];
		uint32_t n = __atomic_load_n(&l->count, __ATOMIC_RELAXED), good = 0;

		if (n > PP_CC_CAP) {
			bad++;
			n = PP_CC_CAP;
		}
		for (uint32_t i = 0; i < n; i++)
			buf[i] = __atomic_load_n(&l->pfn[i], __ATOMIC_RELAXED);
		__atomic_store_n(&l->count, 0, __ATOMIC_RELAXED);
		if (n == 0)
			continue;
		qsort(buf, n, sizeof(buf[0]), cmp_u32);
		for (uint32_t i = 0; i < n; i++) {
			/* Only a block head can be c's: anything else is refused
			 * here, without pool_check_block's zone-locked walk. */
			if ((i > 0 && buf[i] == buf[i - 1]) || buf[i] >= c->pool->npages ||
			    page_state(&c->pool->pages[buf[i]]) != PG_ALLOC ||
			    pool_check_block(c->pool, &c->owner, buf[i], (int)k) < 0) {
				bad++;
				continue;
			}
			buf[good++] = buf[i];
		}
		if (good) {
			struct conn_reply rp;
			uint64_t p = 0;

			conn_req_init(&rp, 0);
			if (conn_free_blocks(c, buf, good, "cache ", &p, &rp) < 0)
				bad += good;	/* cannot happen: every block was checked */
			pages += p;
		}
	}
	__atomic_store_n(&cc->waiting, false, __ATOMIC_RELEASE);
	WRITE_ONCE(cc->drains, cc->drains + 1);
	WRITE_ONCE(cc->flushed, cc->flushed + pages);
	WRITE_ONCE(cc->errors, cc->errors + bad);
	__atomic_store_n(&r->drains, cc->drains, __ATOMIC_RELAXED);
	cw->res.pages += pages;
	cw->res.bad += bad;
	cw->res.clients++;
	if (bad) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "%s: %lu bad entries in its cache region (not freed)", c->name,
			     (unsigned long)bad);
	}
}

/* The worker's answer to the request it worked on. */
static void cc_answer(struct ccache_work *cw)
{
	pthread_mutex_lock(&cc_lock);
	if (cw->gen == cc_gen && cc_busy) {
		struct ccache_result *r = &cc_res;

		r->pages += cw->res.pages;
		r->bad += cw->res.bad;
		r->clients += cw->res.clients;
		for (uint32_t i = 0; i < cw->res.nstuck; i++) {
			if (r->nstuck < CCACHE_STUCK_MAX)
				r->stuck[r->nstuck] = cw->res.stuck[i];
			r->nstuck++;
		}
		if (cc_pending)
			cc_pending--;
		pthread_cond_broadcast(&cc_cond);
	}
	pthread_mutex_unlock(&cc_lock);
	cw->done = cw->gen;
	cw->gen = 0;
}

/* How long cc_poll re-reads a busy client's seq before it lets the event
 * loop go on: a cache operation lasts nanoseconds, so a client running on
 * another CPU has almost always left it by then. */
#define CC_SPIN_NS	2000
/* Then the worker sleeps in its event loop and re-polls from a timerfd of
 * its own, first after CC_REPOLL_US, doubling up to 4 ms: a client preempted
 * inside an operation on the worker's own CPU runs meanwhile and leaves it.
 * (libevent's own timers go through epoll_wait, in whole milliseconds.) */
#define CC_REPOLL_US	20

static inline void cc_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ volatile("" ::: "memory");
#endif
}

/* True while some client of the request is inside the operation it was in
 * at the switch, for at most CC_SPIN_NS. */
static bool cc_spin(struct worker *w)
{
	uint64_t until = now_ns() + CC_SPIN_NS;

	do {
		bool busy = false;

		for (struct conn *c = w->conns; c && !busy; c = c->next)
			busy = c->cc && c->cc->gen == w->ccw->gen && !cc_quiet(c->cc);
		if (!busy)
			return false;
		cc_relax();
	} while (now_ns() < until);
	return true;
}

/* Flush every client of the request whose grace period is over; report the
 * ones past the bound; re-poll the others from the event loop. */
static void cc_poll(struct worker *w)
{
	struct ccache_work *cw = w->ccw;
	uint64_t now, bound = (uint64_t)cw->bound_ms * 1000000u;
	/* Reported as stuck only by a drain that waited the configured bound;
	 * a shorter one (reclaim, decay) just leaves the cache waiting. */
	bool report = cw->bound_ms >= w->d->cfg.cache_grace_ms;
	unsigned left = 0;

	cc_spin(w);
	now = now_ns();

	for (struct conn *c = w->conns; c; c = c->next) {
		struct ccache *cc = c->cc;

		if (!cc || cc->gen != cw->gen)
			continue;
		if (cc_quiet(cc)) {
			cc_flush(c, cw);
			cc->gen = 0;
		} else if (now - cc->since_ns >= bound && !report) {
			cc->gen = 0;
		} else if (now - cc->since_ns >= bound) {
			static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

			if (cw->res.nstuck < CCACHE_STUCK_MAX)
				cw->res.stuck[cw->res.nstuck] = c->id;
			cw->res.nstuck++;
			WRITE_ONCE(cc->stuck, cc->stuck + 1);
			cc->gen = 0;
			log_warnx_rl(&rl, "%s: inside a cache operation for %u ms; its cache is "
				     "left as it is", c->name, w->d->cfg.cache_grace_ms);
		} else {
			left++;
		}
	}
	if (left) {
		struct itimerspec its = { .it_value = { 0, (long)cw->backoff_us * 1000 } };

		cw->backoff_us = cw->backoff_us < 2000 ? cw->backoff_us * 2 : 4000;
		if (timerfd_settime(cw->tfd, 0, &its, NULL) == 0)
			return;
		log_warn("worker %u: cannot arm the client cache timer", w->idx);
	}
	cc_answer(cw);
}

static void cc_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t n;

	(void)what;
	worker_enter(w);
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("worker %u: client cache timer", w->idx);
	if (w->ccw->gen)
		cc_poll(w);
	worker_leave(w);
}

static bool cc_matches(const struct ccache_work *cw, struct conn *c)
{
	struct ccache *cc = c->cc;

	if (!cc || (cw->pool_idx >= 0 && c->pool_idx != cw->pool_idx) ||
	    (cw->client_id && c->id != cw->client_id))
		return false;
	if (cw->flags & CCACHE_IDLE) {
		if (!__atomic_exchange_n(&cc->decay_mark, 0, __ATOMIC_ACQ_REL))
			return false;
		/* A cache whose last drain is still waiting on its client is
		 * flushed if the client has moved on, and otherwise skipped at
		 * once: the decay never waits for a stopped client. */
		return cc->waiting ? cc_quiet(cc) : true;
	}
	return true;
}

void ccache_worker_wake(struct worker *w)
{
	struct ccache_work *cw = w->ccw;
	uint64_t gen = __atomic_load_n(&w->cc_req, __ATOMIC_ACQUIRE), now;

	if (!cw || gen == 0 || gen == cw->gen || gen == cw->done)
		return;
	pthread_mutex_lock(&cc_lock);
	if (gen != cc_gen || !cc_busy) {	/* over already: its requester gave up */
		pthread_mutex_unlock(&cc_lock);
		cw->done = gen;
		return;
	}
	cw->pool_idx = cc_pool_idx;
	cw->client_id = cc_client_id;
	cw->flags = cc_flags;
	cw->bound_ms = cc_bound_ms;
	pthread_mutex_unlock(&cc_lock);
	if (cw->gen)			/* a request given up on: forget it */
		timerfd_settime(cw->tfd, 0, &(struct itimerspec){ 0 }, NULL);
	cw->gen = gen;
	memset(&cw->res, 0, sizeof(cw->res));
	cw->backoff_us = CC_REPOLL_US;
	now = now_ns();
	for (struct conn *c = w->conns; c; c = c->next) {
		if (!cc_matches(cw, c))
			continue;
		c->cc->gen = gen;
		if (c->cc->waiting)
			c->cc->since_ns = now;	/* a drain that was stuck: a new bound */
		else
			cc_switch(c->cc, now);
	}
	cc_poll(w);
}

void ccache_begin(struct conn *c)
{
	if (c->cc && !c->cc->waiting)
		cc_switch(c->cc, now_ns());
}

int ccache_finish(struct conn *c, struct ccache_result *res)
{
	struct ccache_work *cw = c->w->ccw;
	struct ccache_result saved = cw->res;

	if (!c->cc || !c->cc->waiting || !cc_quiet(c->cc))
		return 0;
	memset(&cw->res, 0, sizeof(cw->res));
	cc_flush(c, cw);
	res->pages += cw->res.pages;
	res->bad += cw->res.bad;
	res->clients += cw->res.clients;
	cw->res = saved;
	return 1;
}

int ccache_worker_init(struct worker *w)
{
	struct ccache_work *cw = calloc(1, sizeof(*cw));

	if (!cw)
		return -ENOMEM;
	cw->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	cw->timer = cw->tfd < 0 ? NULL :
		    event_new(w->base, cw->tfd, EV_READ | EV_PERSIST, cc_timer_cb, w);
	if (!cw->timer || event_add(cw->timer, NULL) < 0) {
		if (cw->timer)
			event_free(cw->timer);
		if (cw->tfd >= 0)
			close(cw->tfd);
		free(cw);
		return -ENOMEM;
	}
	w->ccw = cw;
	return 0;
}

void ccache_worker_fini(struct worker *w)
{
	if (!w->ccw)
		return;
	event_free(w->ccw->timer);
	close(w->ccw->tfd);
	free(w->ccw);
	w->ccw = NULL;
}

/* The worker serving client `id`, or NULL when it is gone. */
static struct worker *cc_worker_of(struct daemon *d, uint64_t id)
{
	struct worker *w = NULL;

	pthread_mutex_lock(&d->quota_lock);
	for (uint32_t s = 0; s < d->cfg.max_connections && !w; s++)
		if (d->slots[s] && d->slots[s]->id == id)
			w = d->slots[s]->w;
	pthread_mutex_unlock(&d->quota_lock);
	return w;
}

/* Worker w takes part in a request for `only` (NULL: every worker; for the
 * decay, those ccache_decay() wants). */
static bool cc_asked(const struct worker *w, const struct worker *only, unsigned flags)
{
	if (!w->threaded || !w->ccw)
		return false;
	if (flags & CCACHE_IDLE)
		return w->idx < CONFIG_MAX_CPUS && cc_want[w->idx];
	return !only || w == only;
}

int ccache_decay(struct daemon *d, struct ccache_result *res)
{
	bool any = false;

	memset(cc_want, 0, sizeof(cc_want));
	pthread_mutex_lock(&d->quota_lock);
	for (uint32_t s = 0; s < d->cfg.max_connections; s++) {
		struct conn *c = d->slots[s];
		struct ccache *cc = c ? __atomic_load_n(&c->cc, __ATOMIC_ACQUIRE) : NULL;
		uint64_t seq;
		bool idle;

		if (!cc || !c->w || c->w->idx >= CONFIG_MAX_CPUS)
			continue;
		seq = __atomic_load_n(&cc->r->seq, __ATOMIC_RELAXED);
		idle = seq == cc->admin_seq && !(seq & 1) && ccache_pages(cc) > 0;
		cc->admin_seq = seq;
		if (idle || __atomic_load_n(&cc->waiting, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&cc->decay_mark, 1, __ATOMIC_RELEASE);
			cc_want[c->w->idx] = true;
			any = true;
		}
	}
	pthread_mutex_unlock(&d->quota_lock);
	if (!any) {
		if (res)
			memset(res, 0, sizeof(*res));
		return 0;
	}
	return ccache_drain_for(d, -1, 0, CCACHE_IDLE, 0, MX_TRIGGER_decay, res);
}

int ccache_drain(struct daemon *d, int pool_idx, uint64_t client_id, unsigned flags,
		 unsigned bound_ms, struct ccache_result *res)
{
	uint64_t gen, wait_ms = (uint64_t)bound_ms + 1000;
	struct worker *only = client_id ? cc_worker_of(d, client_id) : NULL;
	struct timespec until;

	if (client_id && !only) {	/* gone: nothing of its is cached */
		if (res)
			memset(res, 0, sizeof(*res));
		return 0;
	}

	pthread_once(&cc_once, cc_cond_init);
	pthread_mutex_lock(&cc_lock);
	if (cc_busy) {
		pthread_mutex_unlock(&cc_lock);
		return -EAGAIN;
	}
	cc_busy = true;
	gen = ++cc_gen;
	cc_pool_idx = pool_idx;
	cc_client_id = client_id;
	cc_flags = flags;
	cc_bound_ms = bound_ms;
	memset(&cc_res, 0, sizeof(cc_res));
	cc_pending = 0;
	for (unsigned i = 0; i < d->nworkers; i++)
		if (cc_asked(d->workers[i], only, flags))
			cc_pending++;
	pthread_mutex_unlock(&cc_lock);

	for (unsigned i = 0; i < d->nworkers; i++) {
		struct worker *w = d->workers[i];

		if (!cc_asked(w, only, flags))
			continue;
		__atomic_store_n(&w->cc_req, gen, __ATOMIC_RELEASE);
		worker_wake(w);
	}

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(wait_ms / 1000);
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&cc_lock);
	while (cc_pending && pthread_cond_timedwait(&cc_cond, &cc_lock, &until) != ETIMEDOUT)
		;
	cc_res.late = cc_pending;
	if (res)
		*res = cc_res;
	cc_busy = false;
	pthread_mutex_unlock(&cc_lock);
	if (cc_res.late)
		log_warnx("client cache drain: %u workers did not answer within %lu ms",
			  cc_res.late, (unsigned long)wait_ms);
	return 0;
}

int ccache_drain_for(struct daemon *d, int pool_idx, uint64_t client_id, unsigned flags,
		     unsigned bound_ms, enum metrics_trigger trigger, struct ccache_result *res)
{
	struct metrics_pool *m = pool_idx >= 0 ? &d->pools[pool_idx]->mx : &d->mx.all_pools;
	struct ccache_result r;
	uint64_t t0 = metrics_now_ns();
	int ret = ccache_drain(d, pool_idx, client_id, flags, bound_ms, &r);

	if (ret == 0)
		metrics_drain(m, MX_MODE_CLIENTS, trigger, r.pages, metrics_now_ns() - t0);
	if (res)
		*res = r;
	return ret;
}
