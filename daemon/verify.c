/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verify.c - pool_verify(): the invariants of doc/DESIGN.md, checked in
 * O(pages).  Used by the tests after every scenario and (later) by the
 * `verify` admin call.  Every check names the pfn that broke it.
 *
 * It holds the admin lock and the zone lock, so no offline/online/trim or
 * buddy operation runs meanwhile; workers must not be allocating (pcplists
 * and owner lists are read without their owners' cooperation).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pool.h"

struct verify {
	struct pool *pool;
	char *err;
	size_t errlen;
	uint64_t pages[PG_NR_STATES];	/* pages per head state */
	uint64_t heads[PG_NR_STATES];
};

__attribute__((format(printf, 2, 3)))
static int vfail(struct verify *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->err, v->errlen, fmt, ap);
	va_end(ap);
	return -EUCLEAN;
}

/* Which states may a head have inside a block with these flags? */
static bool state_fits_block(uint8_t state, uint8_t blkflags)
{
	switch (blkflags) {
	case 0:
		return state == PG_BUDDY || state == PG_PCP || state == PG_ALLOC;
	case BLK_ISOLATED:
		return state == PG_ISOLATED || state == PG_ALLOC || state == PG_PCP;
	case BLK_OFFLINE:
		return state == PG_OFFLINE;
	}
	return false;
}

/* Walk every block head of the carved region: aligned, no overlap, known
 * state, tail pages PG_NONE. */
static int verify_blocks(struct verify *v)
{
	struct zone *z = &v->pool->zone;

	for (uint32_t pfn = 0; pfn < z->init_pfn;) {
		struct page *p = &z->pages[pfn];
		uint8_t st = page_state(p), blk = z->blockflags[pfn / MAX_ORDER_PAGES];
		uint32_t size;

		if (st == PG_NONE || st >= PG_NR_STATES)
			return vfail(v, "pfn %u: expected a block head, state %u", pfn, st);
		if (p->order > PP_MAX_ORDER)
			return vfail(v, "pfn %u: order %u", pfn, p->order);
		size = 1u << p->order;
		if (pfn & (size - 1))
			return vfail(v, "pfn %u: order-%u block not aligned", pfn, p->order);
		if (!state_fits_block(st, blk))
			return vfail(v, "pfn %u: state %u in a block flagged %#x", pfn, st, blk);
		if (st == PG_ALLOC && page_owner(p) == 0)
			return vfail(v, "pfn %u: allocated without an owner", pfn);
		for (uint32_t t = 1; t < size; t++)
			if (page_state(&z->pages[pfn + t]) != PG_NONE)
				return vfail(v, "pfn %u: head inside order-%u block %u (overlap)",
					     pfn + t, p->order, pfn);
		if (p->flags & PGF_SEEN)
			return vfail(v, "pfn %u: stale SEEN flag", pfn);
		v->pages[st] += size;
		v->heads[st]++;
		pfn += size;
	}
	for (uint32_t pfn = z->init_pfn; pfn < z->npages; pfn += MAX_ORDER_PAGES)
		if (page_state(&z->pages[pfn]) != PG_NONE || z->blockflags[pfn / MAX_ORDER_PAGES])
			return vfail(v, "pfn %u: virgin block touched", pfn);
	return 0;
}

static int verify_free_lists(struct verify *v)
{
	struct zone *z = &v->pool->zone;
	uint64_t blocks = 0;

	for (unsigned o = 0; o < PP_NR_ORDERS; o++) {
		struct free_area *fa = &z->free_area[o];
		uint32_t prev = PFN_NIL, n = 0, punched_seen = 0;

		for (uint32_t pfn = fa->head; pfn != PFN_NIL; pfn = z->pages[pfn].next) {
			struct page *p;

			if (pfn >= z->init_pfn || n > v->heads[PG_BUDDY])
				return vfail(v, "free_area[%u]: bad link to %u", o, pfn);
			p = &z->pages[pfn];
			if (page_state(p) != PG_BUDDY || p->order != o)
				return vfail(v, "free_area[%u]: pfn %u has state %u order %u", o,
					     pfn, page_state(p), p->order);
			if (p->prev != prev)
				return vfail(v, "free_area[%u]: pfn %u prev link broken", o, pfn);
			if (p->flags & PGF_PUNCHED)
				punched_seen = 1;
			else if (punched_seen)
				return vfail(v, "free_area[%u]: unpunched pfn %u after a punched block",
					     o, pfn);
			prev = pfn;
			n++;
		}
		if (fa->tail != prev || fa->nr_free != n)
			return vfail(v, "free_area[%u]: %u blocks listed, %lu counted", o, n,
				     (unsigned long)fa->nr_free);
		blocks += n;
	}
	if (blocks != v->heads[PG_BUDDY])
		return vfail(v, "%lu blocks on free lists, %lu PG_BUDDY heads",
			     (unsigned long)blocks, (unsigned long)v->heads[PG_BUDDY]);
	return 0;
}

/* Mark (set = true) or unmark every pfn of one pcplists.  Returns pages. */
static int verify_pcplists(struct verify *v, struct pcplists *lp, bool set, uint64_t *pages)
{
	struct page *pg = v->pool->pages;
	uint64_t sum = 0;

	for (unsigned o = 0; o < PCP_NR_ORDERS; o++) {
		struct pcplist *l = &lp->lists[o];

		if (l->n > PCP_LIST_CAP)
			return vfail(v, "pcplist order %u: %u entries", o, l->n);
		for (uint32_t i = 0; i < l->n; i++) {
			uint32_t pfn = l->pfns[i];

			if (!set) {
				if (pfn < v->pool->npages)
					pg[pfn].flags &= (uint16_t)~PGF_SEEN;
				continue;
			}
			if (pfn >= v->pool->npages || page_state(&pg[pfn]) != PG_PCP ||
			    pg[pfn].order != o)
				return vfail(v, "pcplist order %u: pfn %u not a PG_PCP order-%u head",
					     o, pfn, o);
			if (pg[pfn].flags & PGF_SEEN)
				return vfail(v, "pfn %u: on two pcplists (or twice on one)", pfn);
			pg[pfn].flags |= PGF_SEEN;
			sum += 1u << o;
		}
	}
	if (set && (uint64_t)lp->count != sum)
		return vfail(v, "pcplists count %d, %lu pages listed", lp->count,
			     (unsigned long)sum);
	*pages += sum;
	return 0;
}

static int verify_pcps(struct verify *v, bool set)
{
	uint64_t pages = 0;
	int ret;

	for (unsigned i = 0; i < v->pool->npcp; i++) {
		struct pcp *pcp = v->pool->pcps[i];

		ret = verify_pcplists(v, pcp->lp, set, &pages);
		if (ret == 0)
			ret = verify_pcplists(v, pcp->drain, set, &pages);
		if (ret < 0)
			return ret;
	}
	if (set && pages != v->pages[PG_PCP])
		return vfail(v, "%lu pages in pcplists, %lu PG_PCP pages",
			     (unsigned long)pages, (unsigned long)v->pages[PG_PCP]);
	return 0;
}

static int verify_owners(struct verify *v, struct owner *const *owners, unsigned n, bool set,
			 uint64_t shared)
{
	struct page *pg = v->pool->pages;
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct owner *o = owners[i];
		uint64_t held = 0, steps = 0;

		for (uint32_t pfn = o->head; pfn != PFN_NIL; pfn = pg[pfn].next) {
			if (!set) {
				pg[pfn].flags &= (uint16_t)~PGF_SEEN;
				continue;
			}
			if (pfn >= v->pool->npages || steps++ > v->heads[PG_ALLOC])
				return vfail(v, "owner %u: bad link to %u", o->id, pfn);
			if (page_state(&pg[pfn]) != PG_ALLOC || page_owner(&pg[pfn]) != o->id)
				return vfail(v, "owner %u lists pfn %u (state %u, owner %u)", o->id,
					     pfn, page_state(&pg[pfn]), page_owner(&pg[pfn]));
			if (pg[pfn].flags & PGF_SEEN)
				return vfail(v, "pfn %u: listed by two owners", pfn);
			pg[pfn].flags |= PGF_SEEN;
			held += 1u << pg[pfn].order;
		}
		if (set && held != o->pages)
			return vfail(v, "owner %u: holds %lu pages, counts %lu", o->id,
				     (unsigned long)held, (unsigned long)o->pages);
		total += held;
	}
	if (set && total + shared != v->pages[PG_ALLOC])
		return vfail(v, "live owners hold %lu pages, offers and shared blocks %lu, "
			     "%lu pages allocated", (unsigned long)total, (unsigned long)shared,
			     (unsigned long)v->pages[PG_ALLOC]);
	return 0;
}

static int verify_totals(struct verify *v)
{
	struct zone *z = &v->pool->zone;
	uint64_t virgin = z->npages - z->init_pfn, sum = virgin;

	for (unsigned s = 1; s < PG_NR_STATES; s++)
		sum += v->pages[s];
	if (sum != z->npages)
		return vfail(v, "pages accounted %lu, pool size %u", (unsigned long)sum, z->npages);
	if (z->nr_free != v->pages[PG_BUDDY] + virgin)
		return vfail(v, "zone nr_free %lu, free pages %lu", (unsigned long)z->nr_free,
			     (unsigned long)(v->pages[PG_BUDDY] + virgin));
	if (z->nr_isolated != v->pages[PG_ISOLATED] || z->nr_offline != v->pages[PG_OFFLINE])
		return vfail(v, "zone isolated/offline %lu/%lu, pages %lu/%lu",
			     (unsigned long)z->nr_isolated, (unsigned long)z->nr_offline,
			     (unsigned long)v->pages[PG_ISOLATED],
			     (unsigned long)v->pages[PG_OFFLINE]);
	return 0;
}

int pool_verify(struct pool *pool, struct owner *const *owners, unsigned nowners,
		char *err, size_t errlen)
{
	struct verify v = { .pool = pool, .err = err, .errlen = errlen };
	int ret;

	if (errlen)
		err[0] = '\0';
	pthread_mutex_lock(&pool->admin_lock);
	buddy_lock(&pool->zone);
	ret = verify_blocks(&v);
	if (ret == 0)
		ret = verify_free_lists(&v);
	if (ret == 0)
		ret = verify_totals(&v);
	/* Membership checks mark pages SEEN; always unmark, even on failure. */
	if (ret == 0) {
		uint64_t shared = 0;

		ret = verify_pcps(&v, true);
		if (ret == 0)
			ret = share_verify(pool, owners, nowners, &shared, err, errlen);
		if (ret == 0 && owners)
			ret = verify_owners(&v, owners, nowners, true, shared);
		if (owners)
			verify_owners(&v, owners, nowners, false, 0);
		verify_pcps(&v, false);
	}
	buddy_unlock(&pool->zone);
	pthread_mutex_unlock(&pool->admin_lock);
	return ret;
}
