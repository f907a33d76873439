/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcp.c - per-worker page lists (see pcp.h for the contract and the thread
 * rules).  The fast paths are pcp_alloc() and pcp_free(): one RCU pointer
 * load, one array push or pop, two counter bumps.  Everything else - refill,
 * trim, direct buddy access - is out of line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcp.h"

int pcp_default_batch(uint64_t npages)
{
	/* zone_batchsize(): ~1/1024 of the zone, at most 1 MiB worth of pages,
	 * a quarter of that, rounded down to 2^n - 1 to avoid cache aliasing. */
	uint64_t b = npages / 1024, cap = (1u << 20) / 4096, r = 1;

	if (b > cap)
		b = cap;
	b /= 4;
	b += b / 2;
	while (r * 2 <= b)
		r *= 2;
	b = r - 1;
	if (b < 1)
		b = 1;
	return b > PCP_BATCH_MAX ? PCP_BATCH_MAX : (int)b;
}

int pcp_default_high(int batch)
{
	int high = batch * 6;
	return high > PCP_HIGH_MAX ? PCP_HIGH_MAX : high;
}

static int pcp_check_tunables(int high, int batch)
{
	if (high < 0 || high > PCP_HIGH_MAX || batch < 1 || batch > PCP_BATCH_MAX)
		return -EINVAL;
	return 0;
}

int pcp_create(struct zone *z, int high, int batch, struct pcp **out)
{
	struct pcp *pcp;

	if (pcp_check_tunables(high, batch) < 0)
		return -EINVAL;
	if (posix_memalign((void **)&pcp, CACHELINE, sizeof(*pcp)) != 0)
		return -ENOMEM;
	memset(pcp, 0, sizeof(*pcp));
	pcp->lp = calloc(1, sizeof(struct pcplists));
	pcp->drain = calloc(1, sizeof(struct pcplists));
	if (!pcp->lp || !pcp->drain) {
		free(pcp->lp);
		free(pcp->drain);
		free(pcp);
		return -ENOMEM;
	}
	pcp->zone = z;
	pcp->pages = z->pages;
	pcp->high = high;
	pcp->batch = batch;
	pthread_spin_init(&pcp->lock, PTHREAD_PROCESS_PRIVATE);
	pthread_mutex_init(&pcp->wq_lock, NULL);
	pthread_cond_init(&pcp->wq_cond, NULL);
	*out = pcp;
	return 0;
}

void pcp_destroy(struct pcp *pcp)
{
	if (!pcp)
		return;
	pcp_flush(pcp, pcp->lp);
	pcp_flush(pcp, pcp->drain);
	pthread_spin_destroy(&pcp->lock);
	pthread_mutex_destroy(&pcp->wq_lock);
	pthread_cond_destroy(&pcp->wq_cond);
	free(pcp->lp);
	free(pcp->drain);
	free(pcp);
}

int pcp_set_high_batch(struct pcp *pcp, int high, int batch)
{
	if (pcp_check_tunables(high, batch) < 0)
		return -EINVAL;
	WRITE_ONCE(pcp->batch, batch);
	WRITE_ONCE(pcp->high, high);
	return 0;
}

void pcp_set_kick(struct pcp *pcp, void (*kick)(void *), void *arg)
{
	pthread_mutex_lock(&pcp->wq_lock);
	pcp->kick = kick;
	pcp->kick_arg = arg;
	pthread_mutex_unlock(&pcp->wq_lock);
}

static inline void pcp_lock(struct pcp *pcp, int locked)
{
	if (locked)
		pthread_spin_lock(&pcp->lock);
}

static inline void pcp_unlock(struct pcp *pcp, int locked)
{
	if (locked)
		pthread_spin_unlock(&pcp->lock);
}

/* Unlocked zone free of everything in one list, `chunk` pages per section. */
static unsigned pcp_flush_list(struct pcp *pcp, struct pcplist *l, unsigned order,
			       unsigned chunk)
{
	unsigned per = chunk >> order ? chunk >> order : 1, i = 0;

	while (i < l->n) {
		unsigned end = i + per < l->n ? i + per : l->n;
		struct buddy_batch b = { 0 };

		buddy_lock(pcp->zone);
		for (; i < end; i++)
			buddy_batch_add_locked(pcp->zone, &b, l->pfns[i], order);
		buddy_batch_flush_locked(pcp->zone, &b);
		buddy_unlock(pcp->zone);
	}
	i = l->n << order;
	l->n = 0;
	return i;
}

unsigned pcp_flush(struct pcp *pcp, struct pcplists *lp)
{
	unsigned pages = 0, chunk = (unsigned)READ_ONCE(pcp->batch);

	for (unsigned o = 0; o < PCP_NR_ORDERS; o++)
		if (lp->lists[o].n)
			pages += pcp_flush_list(pcp, &lp->lists[o], o, chunk);
	WRITE_ONCE(lp->count, 0);
	return pages;
}

/* free_pcppages_bulk: bring count down to high - batch in one locked
 * section, starting with the order that overflowed. */
static void pcp_trim(struct pcp *pcp, struct pcplists *lp, unsigned first)
{
	int target = READ_ONCE(pcp->high) - READ_ONCE(pcp->batch);
	int count = lp->count;
	struct buddy_batch b = { 0 };

	if (target < 0)
		target = 0;
	buddy_lock(pcp->zone);
	for (unsigned k = 0; k < PCP_NR_ORDERS && count > target; k++) {
		unsigned o = (first + k) % PCP_NR_ORDERS;
		struct pcplist *l = &lp->lists[o];

		while (l->n && count > target) {
			buddy_batch_add_locked(pcp->zone, &b, l->pfns[--l->n], o);
			count -= 1 << o;
		}
	}
	buddy_batch_flush_locked(pcp->zone, &b);
	buddy_unlock(pcp->zone);
	WRITE_ONCE(lp->count, count);
	STAT_INC(&pcp->stats, bulk_frees);
}

/* A refill comes from the zone in ascending order; lists pop from the end,
 * so store it reversed: blocks then leave in ascending order, a client of
 * large batches gets runs of consecutive pfns, and their return merges in
 * runs (struct buddy_batch). */
static void pcp_store_reversed(uint32_t *pfns, unsigned n)
{
	for (unsigned i = 0, j = n; i + 1 < j; i++, j--) {
		uint32_t t = pfns[i];

		pfns[i] = pfns[j - 1];
		pfns[j - 1] = t;
	}
}

/* rmqueue_bulk into an empty list, then hand out one block. */
static int pcp_refill(struct pcp *pcp, struct pcplists *lp, unsigned order,
		      unsigned flags, uint32_t *pfn)
{
	struct pcplist *l = &lp->lists[order];
	unsigned n = (unsigned)READ_ONCE(pcp->batch) >> order, got;

	if (flags & PCP_NOWAIT) {
		STAT_INC(&pcp->stats, nowait_fail);
		return -EAGAIN;
	}
	if (n == 0)
		n = 1;
	got = buddy_alloc_bulk(pcp->zone, order, n, PG_PCP, l->pfns);
	if (got == 0)
		return -ENOMEM;
	pcp_store_reversed(l->pfns, got);
	STAT_INC(&pcp->stats, refills);
	l->n = got - 1;
	*pfn = l->pfns[got - 1];
	WRITE_ONCE(lp->count, lp->count + (int)((got - 1) << order));
	return 0;
}

/* Orders above PCP_MAX_ORDER, or the pcp disabled: straight to the buddy. */
static int pcp_alloc_direct(struct pcp *pcp, unsigned order, unsigned flags, uint32_t *pfn)
{
	int ret;

	if (order > PP_MAX_ORDER)
		return -EINVAL;
	if (flags & PCP_NOWAIT) {
		STAT_INC(&pcp->stats, nowait_fail);
		return -EAGAIN;
	}
	ret = buddy_alloc(pcp->zone, order, PG_PCP, pfn);
	if (ret == 0) {
		STAT_INC(&pcp->stats, buddy_direct);
		STAT_ADD(&pcp->stats, alloc_pages, 1u << order);
	}
	return ret;
}

/*
 * The general paths: any order, locked pcps, empty or overflowing lists, the
 * pcp disabled.  pcp_alloc() and pcp_free() below handle the common case
 * (order 0, unlocked, a hit) inline and fall through to these for everything
 * else, so these stay exactly as they were; noinline keeps their register
 * pressure out of the fast paths' prologues.
 */
static __attribute__((noinline)) int pcp_alloc_slow(struct pcp *pcp, unsigned order,
						    unsigned flags, uint32_t *pfn)
{
	struct pcplists *lp;
	struct pcplist *l;
	int locked, ret = 0;

	if (unlikely(order > PCP_MAX_ORDER || READ_ONCE(pcp->high) == 0))
		return pcp_alloc_direct(pcp, order, flags, pfn);
	locked = READ_ONCE(pcp->locked);
	pcp_lock(pcp, locked);
	lp = pp_rcu_dereference(pcp->lp);
	l = &lp->lists[order];
	if (likely(l->n)) {
		*pfn = l->pfns[--l->n];
		WRITE_ONCE(lp->count, lp->count - (1 << order));
		STAT_INC(&pcp->stats, pcp_hits);
	} else {
		ret = pcp_refill(pcp, lp, order, flags, pfn);
	}
	pcp_unlock(pcp, locked);
	if (likely(ret == 0))
		STAT_ADD(&pcp->stats, alloc_pages, 1u << order);
	return ret;
}

static __attribute__((noinline)) void pcp_free_slow(struct pcp *pcp, uint32_t pfn,
						    unsigned order)
{
	struct pcplists *lp;
	struct pcplist *l;
	int locked, high = READ_ONCE(pcp->high);

	STAT_ADD(&pcp->stats, free_pages, 1u << order);
	if (unlikely(order > PCP_MAX_ORDER || high == 0))
		goto direct;
	locked = READ_ONCE(pcp->locked);
	pcp_lock(pcp, locked);
	lp = pp_rcu_dereference(pcp->lp);
	l = &lp->lists[order];
	if (unlikely(l->n == PCP_LIST_CAP)) {
		pcp_unlock(pcp, locked);
		goto direct;
	}
	page_set_state(&pcp->pages[pfn], PG_PCP);
	page_set_owner(&pcp->pages[pfn], 0);
	l->pfns[l->n++] = pfn;
	WRITE_ONCE(lp->count, lp->count + (1 << order));
	if (unlikely(lp->count >= high))
		pcp_trim(pcp, lp, order);
	pcp_unlock(pcp, locked);
	return;
direct:
	STAT_INC(&pcp->stats, buddy_direct);
	buddy_free(pcp->zone, pfn, order);
}

/*
 * Fast-path bumps of values other threads read remotely without locks (the
 * stats, lp->count).  Each has one writer, the owning worker, so a plain
 * read-modify-write is correct; the point is that it be one instruction.
 * gcc never folds a relaxed atomic load + store into an add to memory (clang
 * does), so on x86-64 the add is spelled out: an aligned add to memory
 * without a lock prefix is still one store a remote READ_ONCE() sees whole,
 * just like the kernel's this_cpu_add().  ThreadSanitizer builds and other
 * architectures keep COUNTER_ADD, which TSan can see.
 */
#if defined(__x86_64__) && !defined(PP_TSAN)
static inline void pcp_add64(uint64_t *p, uint64_t n)
{
	__asm__("addq %1, %0" : "+m"(*p) : "er"(n));
}

static inline void pcp_add32(int *p, int n)
{
	__asm__("addl %1, %0" : "+m"(*p) : "ir"(n));
}
#else
static inline void pcp_add64(uint64_t *p, uint64_t n) { COUNTER_ADD(*p, n); }
static inline void pcp_add32(int *p, int n) { COUNTER_ADD(*p, n); }
#endif

/*
 * Fast path: an order-0 hit on an unlocked, enabled pcp.  Its effects are
 * exactly those of pcp_alloc_slow() for that case; anything else goes there.
 */
int pcp_alloc(struct pcp *pcp, unsigned order, unsigned flags, uint32_t *pfn)
{
	struct pcplists *lp;
	struct pcplist *l;
	uint64_t n;		/* 64-bit: indexes pfns[] without a zero-extension */

	if (likely((order | (unsigned)READ_ONCE(pcp->locked)) == 0 &&
		   READ_ONCE(pcp->high) != 0)) {
		lp = pp_rcu_dereference(pcp->lp);
		l = &lp->lists[0];
		/* n - 1 without a borrow: the list is not empty (sub; jb). */
		if (likely(!__builtin_sub_overflow((uint64_t)l->n, 1, &n))) {
			l->n = (uint32_t)n;
			*pfn = l->pfns[n];
			pcp_add32(&lp->count, -1);
			pcp_add64(&pcp->stats.pcp_hits, 1);
			pcp_add64(&pcp->stats.alloc_pages, 1);
			return 0;
		}
	}
	return pcp_alloc_slow(pcp, order, flags, pfn);
}

/* The trim test alone also catches high == 0 (count >= -1), and with
 * count + 1 < high <= PCP_HIGH_MAX the order-0 list (n <= count) cannot be
 * full, so the fast path needs neither of those checks. */
_Static_assert(PCP_HIGH_MAX < PCP_LIST_CAP, "a list below high is never full");

/*
 * Fast path: an order-0 push on an unlocked pcp that stays below high (and so
 * is enabled).  Same effects as pcp_free_slow() for that case.
 */
void pcp_free(struct pcp *pcp, uint32_t pfn, unsigned order)
{
	struct pcplists *lp;
	struct pcplist *l;
	struct page *p;

	if (likely((order | (unsigned)READ_ONCE(pcp->locked)) == 0)) {
		lp = pp_rcu_dereference(pcp->lp);
		/* After the push count stays below high: count + 1 < high. */
		if (likely(lp->count < READ_ONCE(pcp->high) - 1)) {
			l = &lp->lists[0];
			p = &pcp->pages[pfn];
			page_set_state(p, PG_PCP);
			page_set_owner(p, 0);
			l->pfns[l->n++] = pfn;
			pcp_add32(&lp->count, 1);
			pcp_add64(&pcp->stats.free_pages, 1);
			return;
		}
	}
	pcp_free_slow(pcp, pfn, order);
}

void pcp_prefill(struct pcp *pcp, unsigned order, unsigned blocks)
{
	struct pcplists *lp;
	struct pcplist *l;
	unsigned want, got;
	int locked;

	if (order > PCP_MAX_ORDER || READ_ONCE(pcp->high) == 0)
		return;
	locked = READ_ONCE(pcp->locked);
	pcp_lock(pcp, locked);
	lp = pp_rcu_dereference(pcp->lp);
	l = &lp->lists[order];
	/* One ordinary refill covers up to batch >> order blocks. */
	if (blocks > l->n + ((unsigned)READ_ONCE(pcp->batch) >> order)) {
		want = blocks - l->n;
		if (want > PCP_LIST_CAP - l->n)
			want = PCP_LIST_CAP - l->n;
		got = buddy_alloc_bulk(pcp->zone, order, want, PG_PCP, l->pfns + l->n);
		pcp_store_reversed(l->pfns + l->n, got);
		if (got) {
			l->n += got;
			WRITE_ONCE(lp->count, lp->count + (int)(got << order));
			STAT_INC(&pcp->stats, refills);
		}
	}
	pcp_unlock(pcp, locked);
}

unsigned pcp_alloc_bulk(struct pcp *pcp, unsigned order, unsigned n, uint32_t *pfns)
{
	struct pcplists *lp;
	struct pcplist *l;
	unsigned k;
	int locked;

	if (order > PCP_MAX_ORDER || READ_ONCE(pcp->high) == 0)
		return 0;
	locked = READ_ONCE(pcp->locked);
	pcp_lock(pcp, locked);
	lp = pp_rcu_dereference(pcp->lp);
	l = &lp->lists[order];
	k = n < l->n ? n : l->n;
	/* In pop order: the top of the list first. */
	for (unsigned i = 0; i < k; i++)
		pfns[i] = l->pfns[l->n - 1 - i];
	l->n -= k;
	WRITE_ONCE(lp->count, lp->count - (int)(k << order));
	pcp_unlock(pcp, locked);
	STAT_ADD(&pcp->stats, pcp_hits, k);
	STAT_ADD(&pcp->stats, alloc_pages, (uint64_t)k << order);
	return k;
}

void pcp_free_bulk(struct pcp *pcp, const uint32_t *pfns, unsigned n)
{
	struct pcplists *lp;
	int locked, high = READ_ONCE(pcp->high), count;
	uint64_t pages = 0;
	bool zone_locked = false;
	struct buddy_batch b = { 0 };

	if (high == 0) {
		for (unsigned i = 0; i < n; i++)
			pcp_free(pcp, pfns[i], pcp->pages[pfns[i]].order);
		return;
	}
	locked = READ_ONCE(pcp->locked);
	pcp_lock(pcp, locked);
	lp = pp_rcu_dereference(pcp->lp);
	count = lp->count;
	for (unsigned i = 0; i < n; i++) {
		uint32_t pfn = pfns[i];
		unsigned order = pcp->pages[pfn].order;
		struct pcplist *l = &lp->lists[order <= PCP_MAX_ORDER ? order : 0];

		pages += 1u << order;
		/* Below high (as pcp_free() keeps it), or to the buddy. */
		if (order <= PCP_MAX_ORDER && count + (1 << order) < high &&
		    l->n < PCP_LIST_CAP) {
			page_set_state(&pcp->pages[pfn], PG_PCP);
			page_set_owner(&pcp->pages[pfn], 0);
			l->pfns[l->n++] = pfn;
			count += 1 << order;
			continue;
		}
		if (!zone_locked) {
			buddy_lock(pcp->zone);
			zone_locked = true;
		}
		buddy_batch_add_locked(pcp->zone, &b, pfn, order);
	}
	if (zone_locked) {
		buddy_batch_flush_locked(pcp->zone, &b);
		buddy_unlock(pcp->zone);
		STAT_INC(&pcp->stats, bulk_frees);
	}
	WRITE_ONCE(lp->count, count);
	pcp_unlock(pcp, locked);
	STAT_ADD(&pcp->stats, free_pages, pages);
}

int pcp_wq_request(struct pcp *pcp, uint64_t *ticket)
{
	void (*kick)(void *);
	void *arg;

	pthread_mutex_lock(&pcp->wq_lock);
	kick = pcp->kick;
	arg = pcp->kick_arg;
	if (kick)
		*ticket = __atomic_add_fetch(&pcp->wq_req, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&pcp->wq_lock);
	if (!kick)
		return -ENOTSUP;
	kick(arg);
	return 0;
}

unsigned pcp_wq_wait(struct pcp *pcp, uint64_t ticket)
{
	unsigned pages;

	pthread_mutex_lock(&pcp->wq_lock);
	while (LOAD_ACQUIRE(pcp->wq_done) < ticket)
		pthread_cond_wait(&pcp->wq_cond, &pcp->wq_lock);
	pages = (unsigned)pcp->wq_drained;
	pthread_mutex_unlock(&pcp->wq_lock);
	return pages;
}

unsigned pcp_drain_local(struct pcp *pcp)
{
	struct pcplists *lp;
	unsigned pages;
	int locked = READ_ONCE(pcp->locked);

	pcp_lock(pcp, locked);
	/* A remote drain may swap lp meanwhile: the old lists stay ours until
	 * we go quiescent, and they are empty by then. */
	lp = pp_rcu_dereference(pcp->lp);
	pages = lp->count ? pcp_flush(pcp, lp) : 0;
	pcp_unlock(pcp, locked);
	return pages;
}

unsigned pcp_service(struct pcp *pcp)
{
	uint64_t req = LOAD_ACQUIRE(pcp->wq_req);
	unsigned pages;

	if (req == pcp->wq_done)
		return 0;
	pages = pcp_drain_local(pcp);
	STAT_INC(&pcp->stats, self_drains);
	pthread_mutex_lock(&pcp->wq_lock);
	/* Several requests may have piled up; one flush answers them all. */
	pcp->wq_drained = pages;
	STORE_RELEASE(pcp->wq_done, req);
	pthread_cond_broadcast(&pcp->wq_cond);
	pthread_mutex_unlock(&pcp->wq_lock);
	return pages;
}
