/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon.c - helpers on the daemon's shared state: its pools, the
 * per-(pool, uid) page quota table and the connection slots.  Quota entries
 * and slots are found and released under quota_lock (at hello and close);
 * charging is a lock-free compare-and-swap loop, because connections of one
 * uid may live on different workers.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"

time_t daemon_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int daemon_pools_create(struct daemon *d)
{
	if (tunables_init(d) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < d->cfg.npools; i++) {
		const struct pool_conf *pc = &d->cfg.pools[i];
		struct pool_config c = {
			.name = pc->name, .size = pc->size, .prefault = pc->prefault,
			.nworkers = d->cfg.ncpus, .drain_mode = d->cfg.drain_mode,
			.high = pc->high, .batch = pc->batch,
		};
		int r = pool_create(&c, &d->pools[i]);

		if (r < 0) {
			log_warnx("pool %s: cannot create (%lu bytes): %s", pc->name,
				  (unsigned long)pc->size, strerror(-r));
			d->pools[i] = NULL;
			while (i-- > 0) {
				pool_destroy(d->pools[i]);
				d->pools[i] = NULL;
			}
			tunables_free(d);
			return r;
		}
		log_info("pool %s: %lu MiB, %u pages, pcp high %d batch %d", pc->name,
			 (unsigned long)(pc->size >> 20), d->pools[i]->npages, d->pools[i]->high,
			 d->pools[i]->batch);
	}
	return 0;
}

void daemon_pools_destroy(struct daemon *d)
{
	for (unsigned i = 0; i < d->cfg.npools; i++) {
		pool_destroy(d->pools[i]);
		d->pools[i] = NULL;
	}
	tunables_free(d);
}

/* uid's usage entry, or a free one for it; NULL when the table is full or
 * cannot be made.  Under quota_lock. */
static struct uid_usage *daemon_uid_find(struct daemon *d, uid_t uid)
{
	struct uid_usage *free_entry = NULL;

	/* Made on first use, so every harness that sets up a daemon gets it;
	 * it lives as long as the daemon. */
	if (!d->uids)
		d->uids = calloc(d->cfg.max_connections, sizeof(*d->uids));
	if (!d->uids)
		return NULL;
	for (uint32_t i = 0; i < d->cfg.max_connections; i++) {
		struct uid_usage *e = &d->uids[i];

		if (e->conns && e->uid == uid)
			return e;
		if (!e->conns && !free_entry)
			free_entry = e;
	}
	if (free_entry) {
		free_entry->uid = uid;
		__atomic_store_n(&free_entry->output, 0, __ATOMIC_RELAXED);
	}
	return free_entry;
}

int daemon_slot_get(struct daemon *d, struct conn *c, uid_t uid, uint32_t *slot,
		    struct uid_usage **uu)
{
	static uint32_t hint;
	uint32_t per_uid = tunables_get(d)->max_connections_per_uid, n;
	struct uid_usage *u;
	int ret = -EBUSY;

	pthread_mutex_lock(&d->quota_lock);
	u = daemon_uid_find(d, uid);
	if (!u) {
		ret = d->uids ? -EBUSY : -ENOMEM;
		goto out;
	}
	if (per_uid && u->conns >= per_uid) {
		ret = -EUSERS;
		goto out;
	}
	for (uint32_t k = 0; k < d->cfg.max_connections; k++) {
		uint32_t i = (hint + k) % d->cfg.max_connections;

		if (!d->slots[i]) {
			d->slots[i] = c;
			hint = i + 1;
			*slot = i;
			u->conns++;
			*uu = u;
			n = __atomic_add_fetch(&d->nconns, 1, __ATOMIC_RELAXED);
			if (n > d->conn_peak)
				d->conn_peak = n;
			ret = 0;
			break;
		}
	}
out:
	pthread_mutex_unlock(&d->quota_lock);
	return ret;
}

void daemon_slot_put(struct daemon *d, uint32_t slot, struct uid_usage *uu)
{
	pthread_mutex_lock(&d->quota_lock);
	d->slots[slot] = NULL;
	uu->conns--;
	__atomic_sub_fetch(&d->nconns, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&d->quota_lock);
}

void daemon_output_account(struct uid_usage *uu, size_t added, size_t removed)
{
	if (added != removed)
		__atomic_add_fetch(&uu->output, (uint64_t)added - (uint64_t)removed,
				   __ATOMIC_RELAXED);
}

bool daemon_output_over(const struct uid_usage *uu, uint32_t budget)
{
	return budget && __atomic_load_n(&uu->output, __ATOMIC_RELAXED) > budget;
}

bool daemon_trim(struct daemon *d)
{
	uint32_t now, peak;
	bool trim;

	pthread_mutex_lock(&d->quota_lock);
	now = __atomic_load_n(&d->nconns, __ATOMIC_RELAXED);
	peak = d->conn_peak;
	/* A fall of 16 from the peak starts an episode, which goes on, a trim
	 * a call, while the count keeps falling: the last closes count too. */
	trim = peak >= now + 16 || (d->trim_from && now + 1 < d->trim_from);
	d->trim_from = trim ? now + 1 : 0;
	if (trim)
		d->conn_peak = now;
	pthread_mutex_unlock(&d->quota_lock);
	if (!trim)
		return false;
	/* The daemon's one arena (M_ARENA_MAX, main.c): its free top, and
	 * since glibc 2.8 the whole free pages inside it too. */
	malloc_trim(0);
	log_debug("connections down from %u to %u: freed memory trimmed", peak, now);
	return true;
}

struct uid_quota *daemon_quota_get(struct daemon *d, int pool, uid_t uid)
{
	struct uid_quota *free_slot = NULL, *q = NULL;

	pthread_mutex_lock(&d->quota_lock);
	for (uint32_t i = 0; i < d->cfg.max_connections; i++) {
		struct uid_quota *e = &d->quotas[i];

		if (e->refs && e->pool == pool && e->uid == uid) {
			q = e;
			break;
		}
		if (!e->refs && !free_slot)
			free_slot = e;
	}
	if (!q && free_slot) {
		q = free_slot;
		q->pool = pool;
		q->uid = uid;
		__atomic_store_n(&q->pages, 0, __ATOMIC_RELAXED);
	}
	if (q)
		q->refs++;
	pthread_mutex_unlock(&d->quota_lock);
	return q;
}

void daemon_quota_put(struct daemon *d, struct uid_quota *q)
{
	pthread_mutex_lock(&d->quota_lock);
	q->refs--;
	pthread_mutex_unlock(&d->quota_lock);
}

bool daemon_quota_charge(struct uid_quota *q, uint64_t pages, uint64_t limit)
{
	return share_quota_charge(&q->pages, pages, limit);
}

void daemon_quota_uncharge(struct uid_quota *q, uint64_t pages)
{
	__atomic_sub_fetch(&q->pages, pages, __ATOMIC_RELAXED);
}
