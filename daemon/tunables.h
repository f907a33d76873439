/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tunables.h - the run-time tunables a reload may change, published whole.
 *
 * Workers read them through tunables_get() while they are online QSBR
 * readers, so one request sees one consistent set (a connection quota
 * never pairs with the per-uid quota of another reload).  A reload builds a
 * new set, swaps the pointer with rcu_xchg_pointer and frees the old set
 * after synchronize_rcu, as Knot DNS publishes its configuration.  The
 * admin thread is the only writer; it reads the current set without RCU.
 *
 * Not here: the pcp's high and batch (per-pcp words the allocation fast path
 * reads; any mix of an old and a new value is safe there), log_level (an
 * atomic in log.c), drain_mode (the pool's, switched under its admin lock)
 * and decay_interval (the admin thread's own timer).
 */
#ifndef PP_TUNABLES_H
#define PP_TUNABLES_H

#include <stdint.h>

#include "config.h"
#include "rcu.h"

struct daemon;

struct pool_tunables {
	uint64_t quota_pages;		/* per connection; 0 = unlimited */
	uint64_t quota_uid_pages;	/* per uid; 0 = unlimited */
};

/*
 * The daemon-wide run-time tunables, each a uint32_t named as in struct
 * config, with how reload reports a change (a printf format for the value).
 * The struct, its construction and reload's comparison follow from it.
 */
#define TUNABLES_U32(X)							\
	X(write_timeout, "%u s (from each connection's next drain check)")	\
	X(read_timeout, "%u s")						\
	X(hello_timeout, "%u s (new connections)")			\
	X(min_drain_rate, "%u bytes/s")					\
	X(max_connections_per_uid, "%u (new connections)")		\
	X(max_output_per_uid, "%u bytes")				\
	X(admin_idle_timeout, "%u s (new admin connections)")

struct tunables {
#define X(name, fmt) uint32_t name;
	TUNABLES_U32(X)
#undef X
	struct pool_tunables pools[CONFIG_MAX_POOLS];
};

/* Start-up (before any worker runs): the first set, from d->cfg.  0 or -ENOMEM. */
int tunables_init(struct daemon *d);
/* Shutdown, once no reader is left. */
void tunables_free(struct daemon *d);

/*
 * Admin thread: publish the run-time values of `cfg` as the new set and free
 * the old one after a grace period.  Must not be called by an online reader
 * or with a lock workers take.  0 or -ENOMEM (the old set stays).
 */
int tunables_publish(struct daemon *d, const struct config *cfg);

/* An online worker (or the admin thread): the current set. */
#define tunables_get(d)	((const struct tunables *)pp_rcu_dereference((d)->tun))

#endif
