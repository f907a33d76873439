/*
 * daemon.c - helpers on the daemon's shared state: the per-(pool, uid) page
 * quota table and the connection slots.  Entries are found and released under quota_lock (at hello
 * and close); charging is a lock-free compare-and-swap loop, because
 * connections of one uid may live on different workers.
 */
#include <errno.h>
#include <time.h>

#include "daemon.h"

time_t daemon_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
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
