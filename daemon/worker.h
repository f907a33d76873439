/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.h - worker threads: one per configured CPU, pinned and named
 * "pp-worker/N", each with its own libevent event_base, its connections and
 * one pcp per pool.  The admin thread hands new connections over through a
 * per-worker queue and an eventfd (memcached's thread.c pattern).
 *
 * QSBR: a worker is a registered reader that is online only while one of its
 * callbacks runs; it is offline while it waits in the event loop, so it never
 * delays a grace period while idle and never blocks while online.
 */
#ifndef PP_WORKER_H
#define PP_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"

struct conn;
struct event_base;
struct event;

/*
 * The worker's I/O buffers (conn.c, conn_out.c).  A connection reads into
 * rbuf and frames its answers into wbuf; only what is left over when its
 * callback ends (part of a frame, frames that must wait, output the socket
 * did not take) is copied into buffers of its own, freed once empty.  So an
 * idle connection holds no buffer at all, and a request costs no malloc.
 */
#define WORKER_IOBUF	(64 * 1024)

/* Offer tokens come 16 bytes at a time out of one getrandom(2) of this
 * many: one system call per 256 offers instead of one per offer. */
#define WORKER_TOKENS	4096

struct worker {
	struct daemon *d;
	unsigned idx;
	int cpu;
	pthread_t thread;
	struct event_base *base;
	int efd;			/* eventfd: new connections, drain requests, stop */
	struct event *ev_efd;
	pthread_mutex_t qlock;
	struct conn *queue;		/* handed over, not yet attached; under qlock */
	struct conn *conns;		/* attached; worker thread only */
	struct conn *parked;		/* waiting for a reclaim drain; worker only */
	uint32_t nparked;		/* atomic: length of parked */
	uint32_t nconns;		/* atomic: queued + attached */
	int stopping;			/* atomic */
	uint64_t wakeups;		/* eventfd wake-ups (stat) */
	uint64_t loops;			/* callbacks run (stat) */
	uint32_t *scratch;		/* max_count pfns for one request */
	uint8_t tokens[WORKER_TOKENS];	/* getrandom(2) bytes for offer tokens */
	unsigned tokens_left;		/* unused bytes at the end of tokens */
	uint32_t *freebuf;		/* max_count pfns of a Free decoded by hand */
	uint8_t *rbuf;			/* WORKER_IOBUF: a connection's read lands here */
	uint8_t *wbuf;			/* WORKER_IOBUF: answers are framed here... */
	struct conn *wbuf_user;		/* ...for this connection until its flush */
	int ready_err;			/* start-up result, read after the barrier */
	int park;			/* atomic: admin asks the worker to park */
	uint32_t seq;			/* atomic: +1 entering, +1 leaving a callback */
	uint32_t wd_seen;		/* admin thread: seq at the last watchdog check */
	bool wd_stuck;			/* admin thread: stuck at the last check */
	int stall;			/* atomic: test hook, hold the worker online */
	bool threaded;			/* runs its own thread (workers_start) */
	uint64_t cc_req;		/* atomic: client cache drain asked (clientcache.c) */
	struct ccache_work *ccw;	/* the worker's part in it */
	struct metrics_worker mx;	/* written by this worker only (metrics.h) */
};

/*
 * One worker - event base, eventfd, scratch - without a thread: whoever
 * creates it runs w->base itself, on a thread that is a registered QSBR
 * reader, offline outside the worker's callbacks (in-process harnesses and
 * tests; the daemon uses workers_start).  Its callbacks then never run
 * concurrently with that thread's other work, so workers_park() treats it as
 * parked.  NULL on allocation failure.
 */
struct worker *worker_create(struct daemon *d, unsigned idx);
/* Free a worker from worker_create(); its connections must be closed. */
void worker_destroy(struct worker *w);

/* Create and start every worker; returns once each has registered with RCU
 * and pinned itself.  0 or -errno (the workers already started are stopped). */
int workers_start(struct daemon *d);

/* Hand a connection to the least-loaded worker (ties: round-robin). */
void workers_dispatch(struct daemon *d, struct conn *c);

/* Admin thread: wake every worker that has a request parked for a reclaim
 * drain (reclaim.h), so it retries; idle workers are left alone. */
void workers_wake_parked(struct daemon *d);

/* Ask every worker to close its connections (their pages go back) and exit;
 * joins them. */
void workers_stop(struct daemon *d);

/*
 * Admin thread: park every worker - each finishes its current callback, goes
 * offline and waits - run fn(arg) on a quiet daemon, then let them go.  For
 * diagnostics (verify) only: it is the one place workers are paused.
 * Workers without a thread (worker_create) are quiet already and not waited for.
 */
void workers_park(struct daemon *d, void (*fn)(void *), void *arg);

/*
 * Admin thread, for the watchdog: true when every worker is either idle in
 * its event loop (offline) or has entered or left a callback since the last
 * call; false when one has sat inside the same callback since then (stuck
 * online: it would also hold up every grace period).
 */
bool workers_progressing(struct daemon *d);

/*
 * Test hook (PAGEPOOLD_TEST_HOOKS=1 and SIGUSR1/SIGUSR2): hold worker 0
 * online inside a callback until released, as a worker stuck in a bug would.
 */
void workers_test_stall(struct daemon *d, bool on);

/* Any thread: wake w through its eventfd (it then checks all its news). */
void worker_wake(struct worker *w);

/* Called by a worker around each libevent callback. */
void worker_enter(struct worker *w);
void worker_leave(struct worker *w);

/*
 * Inside a callback, around a socket's recv or send: the worker is a QSBR
 * reader offline for the system call, so a drain's grace period never waits
 * for one (and seldom has to be woken by the worker's return to offline).
 * No RCU-protected pointer may be held across it; the callback goes on
 * (the watchdog's sequence is untouched).
 */
static inline void worker_syscall_begin(void) { pp_rcu_offline(); }
static inline void worker_syscall_end(void) { pp_rcu_online(); }

#endif
