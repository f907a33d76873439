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
#include "pool.h"

#define PAGEPOOLD_VERSION "0.1"

struct worker;
struct conn;

/* Pages held per (pool, uid), shared by all connections of that uid. */
struct uid_quota {
	int pool;
	uid_t uid;
	unsigned refs;			/* connections using it; under quota_lock */
	uint64_t pages;			/* atomic */
};

struct daemon {
	struct config cfg;
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
	time_t started;			/* daemon_now() at start-up */
	unsigned admin_nconns;		/* admin thread only */
};

/* Seconds on the monotonic clock (uptime never jumps with the wall clock). */
time_t daemon_now(void);

/*
 * Start-up: create every configured pool (d->cfg.pools, one pcp per worker
 * of d->cfg.ncpus) into d->pools[].  0, or -errno with the failing pool
 * logged and the pools already created destroyed again.
 */
int daemon_pools_create(struct daemon *d);
/* Destroy every pool; no worker may run and no connection may be open. */
void daemon_pools_destroy(struct daemon *d);

/*
 * A connection slot, 0..max_connections-1, unique among open connections:
 * slot + 1 is the connection's page-owner id, so a live owner id can never be
 * reused by another connection.  -EBUSY when every slot is taken.
 */
int daemon_slot_get(struct daemon *d, struct conn *c, uint32_t *slot);
void daemon_slot_put(struct daemon *d, uint32_t slot);

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
