/*
 * daemon.c - helpers on the daemon's shared state: its pools, the
 * per-(pool, uid) page quota table and the connection slots.  Quota entries
 * and slots are found and released under quota_lock (at hello and close);
 * charging is a lock-free compare-and-swap loop, because connections of one
 * uid may live on different workers.
 */
#include <errno.h>
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
}

int daemon_slot_get(struct daemon *d, struct conn *c, uint32_t *slot)
{
	static uint32_t hint;
	int ret = -EBUSY;

	pthread_mutex_lock(&d->quota_lock);
	for (uint32_t k = 0; k < d->cfg.max_connections; k++) {
		uint32_t i = (hint + k) % d->cfg.max_connections;

		if (!d->slots[i]) {
			d->slots[i] = c;
			hint = i + 1;
			*slot = i;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&d->quota_lock);
	return ret;
}

void daemon_slot_put(struct daemon *d, uint32_t slot)
{
	pthread_mutex_lock(&d->quota_lock);
	d->slots[slot] = NULL;
	pthread_mutex_unlock(&d->quota_lock);
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
	uint64_t cur = __atomic_load_n(&q->pages, __ATOMIC_RELAXED);

	do {
		if (limit && cur + pages > limit)
			return false;
	} while (!__atomic_compare_exchange_n(&q->pages, &cur, cur + pages, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

void daemon_quota_uncharge(struct uid_quota *q, uint64_t pages)
{
	__atomic_sub_fetch(&q->pages, pages, __ATOMIC_RELAXED);
}
