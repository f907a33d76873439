/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pool.c - a pool's life cycle and the ownership rules around allocation
 * and free (see pool.h).  Allocation goes through the worker's pcp; every
 * block handed out is "claimed": its head becomes PG_ALLOC, records the
 * owner, and joins the owner's list through the descriptor links.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pool.h"

#define POOL_MAX_WORKERS 1024

static int pool_check_config(const struct pool_config *cfg, uint64_t page_size)
{
	uint64_t block = page_size * MAX_ORDER_PAGES;

	if (!cfg->name || !cfg->name[0] || strlen(cfg->name) >= POOL_NAME_MAX)
		return -EINVAL;
	if (cfg->size == 0 || cfg->size % block != 0 || cfg->size / page_size >= PFN_NIL)
		return -EINVAL;
	if (cfg->nworkers == 0 || cfg->nworkers > POOL_MAX_WORKERS)
		return -EINVAL;
	if ((unsigned)cfg->drain_mode >= DRAIN_NR_MODES)
		return -EINVAL;
	if (cfg->high < -1 || cfg->high > PCP_HIGH_MAX)
		return -EINVAL;
	if (cfg->batch < -1 || cfg->batch == 0 || cfg->batch > PCP_BATCH_MAX)
		return -EINVAL;
	return 0;
}

/* Default high: six batches, but the pcps together keep at most 1/8 of the pool. */
int pool_default_high(uint64_t npages, unsigned nworkers, int batch)
{
	uint64_t cap = npages / 8 / nworkers;
	int high = pcp_default_high(batch);

	if ((uint64_t)high > cap)
		high = (int)cap;
	return high < batch ? batch : high;
}

int pool_create(const struct pool_config *cfg, struct pool **out)
{
	uint64_t page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	struct pool *pool;
	int ret;

	ret = pool_check_config(cfg, page_size);
	if (ret < 0)
		return ret;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	strcpy(pool->name, cfg->name);
	pool->arena.fd = -1;
	pthread_mutex_init(&pool->admin_lock, NULL);
	ret = share_init(&pool->share);
	if (ret < 0) {
		pthread_mutex_destroy(&pool->admin_lock);
		free(pool);
		return ret;
	}
	pool->npages = (uint32_t)(cfg->size / page_size);
	pool->drain_mode = cfg->drain_mode;
	pool->batch = cfg->batch > 0 ? cfg->batch : pcp_default_batch(pool->npages);
	pool->high = cfg->high >= 0 ? cfg->high
				    : pool_default_high(pool->npages, cfg->nworkers, pool->batch);

	ret = arena_create(&pool->arena, cfg->name, cfg->size, cfg->prefault);
	if (ret < 0)
		goto fail;
	/* Anonymous memory reads as zero until touched: PG_NONE everywhere. */
	pool->pages_bytes = (size_t)pool->npages * sizeof(struct page);
	pool->pages = mmap(NULL, pool->pages_bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pool->pages == MAP_FAILED) {
		pool->pages = NULL;
		ret = -ENOMEM;
		goto fail;
	}
	ret = buddy_init(&pool->zone, pool->pages, pool->npages);
	if (ret < 0)
		goto fail;
	pool->zone.virgin_populated = cfg->prefault;
	pool->pcps = calloc(cfg->nworkers, sizeof(*pool->pcps));
	if (!pool->pcps) {
		ret = -ENOMEM;
		goto fail;
	}
	for (pool->npcp = 0; pool->npcp < cfg->nworkers; pool->npcp++) {
		ret = pcp_create(&pool->zone, pool->high, pool->batch, &pool->pcps[pool->npcp]);
		if (ret < 0)
			goto fail;
		/* No worker runs yet: no grace period needed to turn locking on. */
		pool->pcps[pool->npcp]->locked = cfg->drain_mode == DRAIN_SPINLOCK;
	}
	*out = pool;
	return 0;
fail:
	pool_destroy(pool);
	return ret;
}

void pool_destroy(struct pool *pool)
{
	if (!pool)
		return;
	for (unsigned i = 0; i < pool->npcp; i++)
		pcp_destroy(pool->pcps[i]);
	free(pool->pcps);
	if (pool->zone.blockflags)
		buddy_destroy(&pool->zone);
	if (pool->pages)
		munmap(pool->pages, pool->pages_bytes);
	arena_destroy(&pool->arena);
	share_destroy(&pool->share);
	pthread_mutex_destroy(&pool->admin_lock);
	free(pool);
}

void owner_init(struct owner *o, uint32_t id)
{
	memset(o, 0, sizeof(*o));
	o->id = id;
	o->head = PFN_NIL;
	o->ref_head = SHARE_NIL;
	o->offer_head = SHARE_NIL;
}

static inline void owner_link(struct pool *pool, struct owner *o, uint32_t pfn)
{
	struct page *p = &pool->pages[pfn];

	p->prev = PFN_NIL;
	p->next = o->head;
	if (o->head != PFN_NIL)
		pool->pages[o->head].prev = pfn;
	o->head = pfn;
	COUNTER_ADD(o->pages, 1u << p->order);
}

static inline void owner_unlink(struct pool *pool, struct owner *o, uint32_t pfn)
{
	struct page *p = &pool->pages[pfn];

	if (p->prev != PFN_NIL)
		pool->pages[p->prev].next = p->next;
	else
		o->head = p->next;
	if (p->next != PFN_NIL)
		pool->pages[p->next].prev = p->prev;
	COUNTER_ADD(o->pages, -(uint64_t)(1u << p->order));
}

void pool_link_owned(struct pool *pool, struct owner *o, uint32_t pfn)
{
	page_set_state(&pool->pages[pfn], PG_ALLOC);
	owner_link(pool, o, pfn);
}

void pool_unlink_owned(struct pool *pool, struct owner *o, uint32_t pfn)
{
	owner_unlink(pool, o, pfn);
}

/* Take one block: through the pcp when there is one, else from the buddy. */
static int pool_get_block(struct pool *pool, struct pcp *pcp, unsigned order,
			  unsigned flags, uint32_t *pfn)
{
	if (pcp)
		return pcp_alloc(pcp, order, flags & POOL_NOWAIT ? PCP_NOWAIT : 0, pfn);
	if (flags & POOL_NOWAIT)
		return -EAGAIN;
	return buddy_alloc(&pool->zone, order, PG_PCP, pfn);
}

/* Return one claimed block, already unlinked from its owner. */
static void pool_put_block(struct pool *pool, struct pcp *pcp, uint32_t pfn)
{
	unsigned order = pool->pages[pfn].order;

	if (pcp)
		pcp_free(pcp, pfn, order);
	else
		buddy_free(&pool->zone, pfn, order);
}

void pool_put_blocks(struct pool *pool, struct pcp *pcp, const uint32_t *pfns, unsigned n)
{
	if (pcp && n > 1) {
		pcp_free_bulk(pcp, pfns, n);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		pool_put_block(pool, pcp, pfns[i]);
}

int pool_alloc(struct pool *pool, struct pcp *pcp, struct owner *o, unsigned order,
	       unsigned count, unsigned flags, uint32_t *pfns, unsigned *got)
{
	unsigned i;
	int ret = 0;

	*got = 0;
	if (order > PP_MAX_ORDER || count == 0)
		return -EINVAL;
	i = 0;
	if (pcp && count > 1 && !(flags & POOL_NOWAIT)) {
		/* A batch: top the list up once, take it off in one go. */
		pcp_prefill(pcp, order, count);
		i = pcp_alloc_bulk(pcp, order, count, pfns);
		for (unsigned k = 0; k < i; k++) {
			struct page *p = &pool->pages[pfns[k]];

			page_set_owner(p, o->id);
			page_set_state(p, PG_ALLOC);
			owner_link(pool, o, pfns[k]);
		}
	}
	for (; i < count; i++) {
		struct page *p;

		ret = pool_get_block(pool, pcp, order, flags, &pfns[i]);
		if (ret < 0)
			break;
		p = &pool->pages[pfns[i]];
		page_set_owner(p, o->id);
		page_set_state(p, PG_ALLOC);
		owner_link(pool, o, pfns[i]);
	}
	if (i < count && !(i > 0 && (flags & POOL_PARTIAL))) {
		/* All or nothing: give back what this call took. */
		while (i > 0) {
			i--;
			owner_unlink(pool, o, pfns[i]);
			pool_put_block(pool, pcp, pfns[i]);
		}
		return ret;
	}
	if (flags & POOL_ZERO)
		for (unsigned k = 0; k < i; k++)
			memset(arena_ptr(&pool->arena, pfns[k]), 0,
			       (size_t)pool->arena.page_size << order);
	*got = i;
	return 0;
}

/* State of the block containing a non-head pfn: PG_NONE when no block
 * covers it (a virgin page, never carved). */
static uint8_t pool_enclosing_state(struct pool *pool, uint32_t pfn)
{
	for (unsigned o = 1; o <= PP_MAX_ORDER; o++) {
		uint32_t head = pfn & ~((1u << o) - 1);
		struct page *p = &pool->pages[head];
		uint8_t st = page_state(p);

		if (st != PG_NONE)
			return p->order >= o ? st : PG_NONE;
	}
	return PG_NONE;
}

/* Check one pfn of a free request; see pool_free() for the codes. */
static inline int pool_check_free(struct pool *pool, struct owner *o, uint32_t pfn, int order)
{
	struct page *p;
	uint8_t st;

	if (pfn >= pool->npages)
		return -EINVAL;
	p = &pool->pages[pfn];
	st = page_state(p);
	if (st == PG_NONE) {
		/* Inside a block: a tail of an allocated one is a caller bug;
		 * inside a free one it is a page that is not allocated.  Other
		 * workers split and merge the blocks around it under the zone
		 * lock, so the walk takes it (an error path only). */
		buddy_lock(&pool->zone);
		st = pool_enclosing_state(pool, pfn);
		buddy_unlock(&pool->zone);
		return st == PG_ALLOC || st == PG_OFFLINE ? -EINVAL : -EALREADY;
	}
	if (st == PG_OFFLINE)
		return -EINVAL;
	if (st != PG_ALLOC)
		return -EALREADY;
	if (page_owner(p) != o->id)
		return -EPERM;
	if (order >= 0 && p->order != (unsigned)order)
		return -EINVAL;
	if (p->flags & PGF_SEEN)
		return -EINVAL;	/* listed twice in this request */
	return 0;
}

int pool_check_block(struct pool *pool, struct owner *o, uint32_t pfn, int order)
{
	return pool_check_free(pool, o, pfn, order);
}

int pool_free(struct pool *pool, struct pcp *pcp, struct owner *o, const uint32_t *pfns,
	      unsigned n, int order, unsigned *bad)
{
	unsigned i;
	int ret = 0;

	if (n == 0)
		return -EINVAL;
	/* Validate everything first; PGF_SEEN marks pfns already checked (only
	 * this owner's thread touches the flags of its allocated heads). */
	for (i = 0; i < n; i++) {
		ret = pool_check_free(pool, o, pfns[i], order);
		if (ret < 0)
			break;
		pool->pages[pfns[i]].flags |= PGF_SEEN;
	}
	if (ret < 0) {
		for (unsigned k = 0; k < i; k++)
			pool->pages[pfns[k]].flags &= (uint16_t)~PGF_SEEN;
		/* Not o's own: a shared block o holds a reference to, one under
		 * o's offer, or someone else's; share_free() sorts them out. */
		if (ret == -EPERM &&
		    (page_owner(&pool->pages[pfns[i]]) & (OWNER_OFFER | OWNER_SHARED))) {
			unsigned b = 0;

			ret = share_free(pool, pcp, o, pfns, n, order, &b);
			if (ret < 0 && bad)
				*bad = b;
			return ret;
		}
		if (bad)
			*bad = i;
		return ret;
	}
	/* All valid: one more pass unmarks and unlinks. */
	for (i = 0; i < n; i++) {
		pool->pages[pfns[i]].flags &= (uint16_t)~PGF_SEEN;
		owner_unlink(pool, o, pfns[i]);
	}
	if (pcp && n > 1) {
		pcp_free_bulk(pcp, pfns, n);
	} else {
		for (i = 0; i < n; i++)
			pool_put_block(pool, pcp, pfns[i]);
	}
	return 0;
}

uint64_t pool_release_all(struct pool *pool, struct pcp *pcp, struct owner *o)
{
	uint64_t pages = o->pages;

	while (o->head != PFN_NIL) {
		uint32_t pfn = o->head;

		owner_unlink(pool, o, pfn);
		pool_put_block(pool, pcp, pfn);
	}
	return pages + share_release_all(pool, pcp, o);
}

int pool_drain(struct pool *pool, int mode, unsigned flags, uint64_t *drained)
{
	enum drain_mode m = mode < 0 ? READ_ONCE(pool->drain_mode) : (enum drain_mode)mode;

	return drain_pcps(pool->pcps, pool->npcp, m, flags, drained);
}

int pool_drain_for(struct pool *pool, int mode, unsigned flags, enum metrics_trigger trigger,
		   uint64_t *drained)
{
	enum drain_mode m = mode < 0 ? READ_ONCE(pool->drain_mode) : (enum drain_mode)mode;
	uint64_t t0 = metrics_now_ns(), pages = 0;
	int ret = drain_pcps(pool->pcps, pool->npcp, m, flags, &pages);

	if (ret == 0)
		metrics_drain(&pool->mx, m, trigger, pages, metrics_now_ns() - t0);
	if (drained)
		*drained = pages;
	return ret;
}

int pool_set_drain_mode(struct pool *pool, enum drain_mode mode)
{
	if ((unsigned)mode >= DRAIN_NR_MODES)
		return -EINVAL;
	pthread_mutex_lock(&pool->admin_lock);
	if ((mode == DRAIN_SPINLOCK) != (pool->drain_mode == DRAIN_SPINLOCK))
		drain_set_locking(pool->pcps, pool->npcp, mode == DRAIN_SPINLOCK);
	WRITE_ONCE(pool->drain_mode, mode);
	pthread_mutex_unlock(&pool->admin_lock);
	return 0;
}

/* Push the pool's tunables to every pcp; high is 0 while a range is isolated.
 * admin_lock held. */
void pool_apply_pcp(struct pool *pool)
{
	int high = READ_ONCE(pool->zone.nr_isolated_blocks) ? 0 : pool->high;

	for (unsigned i = 0; i < pool->npcp; i++)
		pcp_set_high_batch(pool->pcps[i], high, pool->batch);
}

int pool_set_pcp(struct pool *pool, int high, int batch)
{
	if (high < 0 || high > PCP_HIGH_MAX || batch < 1 || batch > PCP_BATCH_MAX)
		return -EINVAL;
	pthread_mutex_lock(&pool->admin_lock);
	pool->high = high;
	pool->batch = batch;
	pool_apply_pcp(pool);
	pthread_mutex_unlock(&pool->admin_lock);
	return 0;
}

/*
 * Lock-free and stale-tolerant: a flush or trim hands blocks to the buddy
 * allocator before it lowers the list's count, so for an instant a block
 * may count as free and as pcp; allocated, derived from the rest, then
 * reads low (0 at worst), and the parts may add up to more than total.
 */
void pool_counts(struct pool *pool, struct pool_counts *c)
{
	uint64_t used;

	memset(c, 0, sizeof(*c));
	c->total = pool->npages;
	c->free = READ_ONCE(pool->zone.nr_free);
	c->isolated = READ_ONCE(pool->zone.nr_isolated);
	c->offline = READ_ONCE(pool->zone.nr_offline);
	for (unsigned i = 0; i < pool->npcp; i++) {
		struct pcp *pcp = pool->pcps[i];
		c->pcp += (uint64_t)pcp_count_remote(pcp);
		c->pcp += (uint64_t)READ_ONCE(READ_ONCE(pcp->drain)->count);
	}
	used = c->free + c->isolated + c->offline + c->pcp;
	c->allocated = used < c->total ? c->total - used : 0;
}
