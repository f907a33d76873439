/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon.h - the running daemon's shared state: configuration, pools,
 * workers, and the per-uid quota table.  Set up by main() before any worker
 * starts and read-only afterwards, except for the fields documented as
 * atomic.
 */
#ifndef PP_DAEMON_H
#define PP_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;

#include "config.h"
#include "metrics.h"
#include "pool.h"
#include "tunables.h"

#define PAGEPOOLD_VERSION PAGEPOOL_VERSION	/* the Makefile's VERSION, via -D */

struct worker;
struct conn;

/* Pages held per (pool, uid), shared by all connections of that uid. */
struct uid_quota {
	int pool;
	uid_t uid;
	unsigned refs;			/* connections using it; under quota_lock */
	uint64_t pages;			/* atomic */
	uint32_t offers;		/* open offers; under its pool's share.lock */
};

/*
 * Open connections and queued answers of one uid, shared by its connections
 * (which may live on different workers): the per-uid connection limit and
 * output budget (config.h).  An entry with conns == 0 is free.
 */
struct uid_usage {
	uid_t uid;
	uint32_t conns;			/* open connections; under quota_lock */
	uint64_t output;		/* atomic: bytes of answers queued for them */
};

struct daemon {
	struct config cfg;		/* run-time values: see tun */
	struct tunables *tun;		/* RCU: the run-time tunables (tunables.h) */
	const char *config_path;
	struct event_base *base;	/* the admin thread's */
	struct pool *pools[CONFIG_MAX_POOLS];
	unsigned nworkers;
	struct worker **workers;
	uint64_t next_client_id;	/* atomic */
	uint32_t nconns;		/* atomic: connections open */
	pthread_mutex_t quota_lock;	/* guards quotas[] refs and slots[] */
	struct uid_quota *quotas;	/* cfg.max_connections entries */
	struct conn **slots;		/* cfg.max_connections: open connections */
	struct uid_usage *uids;		/* cfg.max_connections, made at the first slot;
					 * under quota_lock */
	uint32_t conn_peak;		/* most open since the last trim; quota_lock */
	uint32_t trim_from;		/* 1 + open at the last trim of an episode
					 * (daemon_trim), 0 none; quota_lock */
	time_t started;			/* daemon_now() at start-up */
	unsigned admin_nconns;		/* admin thread only */
	struct metrics_daemon mx;	/* admin thread only (metrics.h) */
};

/* Seconds on the monotonic clock (uptime never jumps with the wall clock). */
time_t daemon_now(void);

/*
 * Start-up: create every configured pool (d->cfg.pools, one pcp per worker
 * of d->cfg.ncpus) into d->pools[], and the first set of run-time tunables
 * (d->tun).  0, or -errno with the failing pool logged and what was already
 * created destroyed again.
 */
int daemon_pools_create(struct daemon *d);
/* Destroy every pool and the tunables; no worker may run and no connection
 * may be open. */
void daemon_pools_destroy(struct daemon *d);

/*
 * A connection slot, 0..max_connections-1, unique among open connections:
 * slot + 1 is the connection's page-owner id, so a live owner id can never be
 * reused by another connection.  The slot is the connection's admission: it
 * counts the connection in d->nconns and in its uid's usage (*uu), and
 * daemon_slot_put() releases all three at once, under one lock, so the count
 * and the slots never disagree.  -EBUSY when every slot is taken
 * (max_connections), -EUSERS when `uid` has max_connections_per_uid open,
 * -ENOMEM.  Any thread.
 */
int daemon_slot_get(struct daemon *d, struct conn *c, uid_t uid, uint32_t *slot,
		    struct uid_usage **uu);
void daemon_slot_put(struct daemon *d, uint32_t slot, struct uid_usage *uu);

/* Answers queued for uu's uid: `added` more, `removed` gone.  Any thread. */
void daemon_output_account(struct uid_usage *uu, size_t added, size_t removed);
/* Is uu's uid above the output budget (max_output_per_uid; 0: none)? */
bool daemon_output_over(const struct uid_usage *uu, uint32_t budget);

/*
 * Admin thread, from a once-a-second timer: after a burst - the open
 * connections fell by at least 16 from their peak since the last trim, and
 * then at each call while they keep falling - give the memory the closed
 * connections' buffers left free in every malloc arena (glibc keeps one per
 * worker thread) back to the system with malloc_trim(0).  At most once per
 * call; a daemon whose connection count is steady never trims.  true if it
 * trimmed.
 */
bool daemon_trim(struct daemon *d);

/* Find or create the quota entry of (pool, uid); NULL when the table is full. */
struct uid_quota *daemon_quota_get(struct daemon *d, int pool, uid_t uid);
void daemon_quota_put(struct daemon *d, struct uid_quota *q);

/*
 * Charge `pages` to q against `limit` (0 = unlimited): true if it fits (and
 * it is charged), false if it would exceed the limit (nothing charged).
 */
bool daemon_quota_charge(struct uid_quota *q, uint64_t pages, uint64_t limit);
void daemon_quota_uncharge(struct uid_quota *q, uint64_t pages);

#endif
