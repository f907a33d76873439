/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * share.c - offers, hand-offs and shared blocks (see share.h).
 *
 * The table is three index-addressed arrays that grow by doubling (offers,
 * shared-block entries, references), each with a free list, a token hash
 * over the open offers, and a ring of closed tokens so that a late Take can
 * be told why its offer is gone.  Everything here runs under s->lock, which
 * is a leaf: blocks that must go back to the pool are collected and freed
 * through the caller's pcp after it is dropped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "pool.h"

#define SHARE_BUCKETS	4096
#define SHARE_CHUNK	256		/* references dropped per lock hold at release */

static inline uint64_t block_pages(unsigned order)
{
	return (uint64_t)1 << order;
}

int share_init(struct share *s)
{
	memset(s, 0, sizeof(*s));
	s->offer_free = s->ent_free = s->ref_free = SHARE_NIL;
	s->buckets = malloc(SHARE_BUCKETS * sizeof(*s->buckets));
	s->tombs = calloc(SHARE_TOMBSTONES, sizeof(*s->tombs));
	if (!s->buckets || !s->tombs) {
		free(s->buckets);
		free(s->tombs);
		s->buckets = NULL;
		return -ENOMEM;
	}
	for (unsigned i = 0; i < SHARE_BUCKETS; i++)
		s->buckets[i] = SHARE_NIL;
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

void share_destroy(struct share *s)
{
	if (!s->buckets)
		return;
	for (uint32_t i = 0; i < s->noffer_slots; i++) {
		free(s->offers[i].pfns);
		free(s->offers[i].takers);
	}
	free(s->offers);
	free(s->ents);
	free(s->refs);
	free(s->buckets);
	free(s->tombs);
	pthread_mutex_destroy(&s->lock);
	s->buckets = NULL;
}

bool share_quota_charge(uint64_t *counter, uint64_t pages, uint64_t limit)
{
	uint64_t cur = __atomic_load_n(counter, __ATOMIC_RELAXED);

	do {
		if (limit && cur + pages > limit)
			return false;
	} while (!__atomic_compare_exchange_n(counter, &cur, cur + pages, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

static void uid_uncharge(const struct owner *o, uint64_t pages)
{
	if (o->uid_pages && pages)
		__atomic_sub_fetch(o->uid_pages, pages, __ATOMIC_RELAXED);
}

uint64_t share_charged(const struct owner *o)
{
	return READ_ONCE(o->pages) + READ_ONCE(o->ref_pages) + READ_ONCE(o->offered_pages);
}

/* ---- the three arrays ------------------------------------------------------ */

/*
 * Make room for `want` more free slots in one array, all or nothing, so that
 * a request never fails half-way through: 0 or -ENOMEM.  New slots are
 * zeroed and chained through `link` onto the free list.
 */
#define SHARE_RESERVE(arr, nslots, freehead, nfree, link, want)				\
	({										\
		int ret_ = 0;								\
		if ((uint64_t)(nfree) < (uint64_t)(want)) {				\
			uint64_t n_ = (nslots) ? (uint64_t)(nslots) * 2 : 64;		\
			__typeof__(arr) a_ = NULL;					\
			while (n_ - (nslots) + (nfree) < (uint64_t)(want))		\
				n_ *= 2;						\
			if (n_ <= OWNER_IDX)						\
				a_ = realloc((arr), n_ * sizeof(*(arr)));		\
			if (!a_) {							\
				ret_ = -ENOMEM;						\
			} else {							\
				for (uint64_t i_ = (nslots); i_ < n_; i_++) {		\
					memset(&a_[i_], 0, sizeof(a_[i_]));		\
					a_[i_].link = (freehead);			\
					(freehead) = (uint32_t)i_;			\
				}							\
				(nfree) += (uint32_t)(n_ - (nslots));			\
				(arr) = a_;						\
				(nslots) = (uint32_t)n_;				\
			}								\
		}									\
		ret_;									\
	})

static int reserve(struct share *s, unsigned offers, unsigned ents, unsigned refs)
{
	if (SHARE_RESERVE(s->offers, s->noffer_slots, s->offer_free, s->offer_nfree, hnext,
			  offers) < 0 ||
	    SHARE_RESERVE(s->ents, s->nents, s->ent_free, s->ent_nfree, next_free, ents) < 0 ||
	    SHARE_RESERVE(s->refs, s->nrefs, s->ref_free, s->ref_nfree, hnext, refs) < 0)
		return -ENOMEM;
	return 0;
}

/* Slot getters: reserve() made sure there is one. */
static uint32_t offer_get(struct share *s)
{
	uint32_t i = s->offer_free;

	s->offer_free = s->offers[i].hnext;
	s->offer_nfree--;
	return i;
}

static uint32_t ent_get(struct share *s)
{
	uint32_t i = s->ent_free;

	s->ent_free = s->ents[i].next_free;
	s->ent_nfree--;
	s->ents[i].used = true;
	return i;
}

static void ent_put(struct share *s, uint32_t e)
{
	s->ents[e].used = false;
	s->ents[e].next_free = s->ent_free;
	s->ent_free = e;
	s->ent_nfree++;
}

/* A new reference of o to entry e (a slot reserved). */
static void ref_add(struct share *s, struct owner *o, uint32_t e)
{
	uint32_t r = s->ref_free;
	struct share_ref *ref = &s->refs[r];

	s->ref_free = ref->hnext;
	s->ref_nfree--;
	ref->used = true;
	ref->seen = false;
	ref->ent = e;
	ref->holder = o->id;
	ref->enext = s->ents[e].ref_head;
	s->ents[e].ref_head = r;
	ref->hprev = SHARE_NIL;
	ref->hnext = o->ref_head;
	if (o->ref_head != SHARE_NIL)
		s->refs[o->ref_head].hprev = r;
	o->ref_head = r;
	s->ents[e].refs++;
	WRITE_ONCE(o->ref_pages, o->ref_pages + block_pages(s->ents[e].order));
}

/* o's reference to e, or SHARE_NIL. */
static uint32_t ref_find(struct share *s, uint32_t e, uint32_t holder)
{
	for (uint32_t r = s->ents[e].ref_head; r != SHARE_NIL; r = s->refs[r].enext)
		if (s->refs[r].holder == holder)
			return r;
	return SHARE_NIL;
}

/* Drop reference r of o: off both lists, counts down.  The entry stays. */
static void ref_del(struct share *s, struct owner *o, uint32_t r)
{
	struct share_ref *ref = &s->refs[r];
	struct share_ent *e = &s->ents[ref->ent];
	uint32_t *pp = &e->ref_head;

	while (*pp != r)
		pp = &s->refs[*pp].enext;
	*pp = ref->enext;
	if (ref->hprev != SHARE_NIL)
		s->refs[ref->hprev].hnext = ref->hnext;
	else
		o->ref_head = ref->hnext;
	if (ref->hnext != SHARE_NIL)
		s->refs[ref->hnext].hprev = ref->hprev;
	e->refs--;
	WRITE_ONCE(o->ref_pages, o->ref_pages - block_pages(e->order));
	ref->used = false;
	ref->hnext = s->ref_free;
	s->ref_free = r;
	s->ref_nfree++;
}

/* Entry e is held by nobody: it goes, and its block is the caller's to free. */
static void ent_release(struct share *s, uint32_t e)
{
	WRITE_ONCE(s->shared_pages, s->shared_pages - block_pages(s->ents[e].order));
	ent_put(s, e);
}

/* ---- tokens ---------------------------------------------------------------- */

static inline uint32_t tok_bucket(const uint64_t tok[2])
{
	return (uint32_t)(tok[0] ^ tok[1]) & (SHARE_BUCKETS - 1);
}

/* Compared without an early exit: the time taken says nothing about how
 * much of a guessed token was right. */
static inline bool tok_eq(const uint64_t a[2], const uint64_t b[2])
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
}

static uint32_t offer_find(struct share *s, const uint64_t tok[2])
{
	for (uint32_t i = s->buckets[tok_bucket(tok)]; i != SHARE_NIL; i = s->offers[i].hnext)
		if (tok_eq(s->offers[i].tok, tok))
			return i;
	return SHARE_NIL;
}

static enum share_closed tomb_find(struct share *s, const uint64_t tok[2])
{
	for (unsigned i = 0; i < SHARE_TOMBSTONES; i++)
		if (s->tombs[i].why != SHARE_OPEN && tok_eq(s->tombs[i].tok, tok))
			return (enum share_closed)s->tombs[i].why;
	return SHARE_OPEN;
}

/*
 * Close offer i (its blocks already dealt with): off the hash and the
 * giver's list, counts down, remembered as `why`.  Returns its pfn array,
 * now the caller's (to free, after using it to collect blocks).
 */
static uint32_t *offer_close(struct share *s, uint32_t i, enum share_closed why)
{
	struct share_offer *of = &s->offers[i];
	struct owner *o = of->giver;
	uint64_t pages = (uint64_t)of->n << of->order;
	uint32_t *pp = &s->buckets[tok_bucket(of->tok)], *pfns = of->pfns;

	while (*pp != i)
		pp = &s->offers[*pp].hnext;
	*pp = of->hnext;
	if (of->gprev != SHARE_NIL)
		s->offers[of->gprev].gnext = of->gnext;
	else
		o->offer_head = of->gnext;
	if (of->gnext != SHARE_NIL)
		s->offers[of->gnext].gprev = of->gprev;
	WRITE_ONCE(o->noffers, o->noffers - 1);
	if (o->uid_offers)
		(*o->uid_offers)--;
	WRITE_ONCE(o->offered_pages, o->offered_pages - pages);
	WRITE_ONCE(s->offered_pages, s->offered_pages - pages);
	WRITE_ONCE(s->offers_open, s->offers_open - 1);
	s->tombs[s->tomb_next].tok[0] = of->tok[0];
	s->tombs[s->tomb_next].tok[1] = of->tok[1];
	s->tombs[s->tomb_next].why = (uint8_t)why;
	s->tomb_next = (s->tomb_next + 1) % SHARE_TOMBSTONES;
	free(of->takers);
	memset(of, 0, sizeof(*of));
	of->hnext = s->offer_free;
	s->offer_free = i;
	s->offer_nfree++;
	return pfns;
}

/*
 * A shared offer's pin goes: every block nobody holds any more is released
 * and its pfn stored in out[] (may be the offer's own array).  Returns how
 * many.
 */
static unsigned offer_unpin(struct share *s, struct pool *pool, const struct share_offer *of,
			    uint32_t *out)
{
	unsigned k = 0;

	for (uint32_t j = 0; j < of->n; j++) {
		uint32_t pfn = of->pfns[j], e = page_owner(&pool->pages[pfn]) & OWNER_IDX;

		s->ents[e].offer = SHARE_NIL;
		if (s->ents[e].refs == 0) {
			ent_release(s, e);
			out[k++] = pfn;
		}
	}
	return k;
}

/* ---- offer, take, cancel ----------------------------------------------------- */

static int share_check_ref(struct share *s, struct pool *pool, struct owner *o, uint32_t pfn,
			   int order, uint32_t *ref);

/* Check the blocks of an offer: o's own, of `order`, listed once. */
static int offer_check(struct pool *pool, struct owner *o, const uint32_t *pfns, unsigned n,
		       unsigned order, unsigned *bad)
{
	unsigned i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		ret = pool_check_block(pool, o, pfns[i], (int)order);
		if (ret == -EPERM) {
			uint32_t ow = page_owner(&pool->pages[pfns[i]]);

			if (ow & (OWNER_OFFER | OWNER_SHARED)) {
				uint32_t ref;

				/* Under o's own open offer: EBUSY, as for a free. */
				pthread_mutex_lock(&pool->share.lock);
				if (share_check_ref(&pool->share, pool, o, pfns[i], -1, &ref) ==
				    -EBUSY)
					ret = -EBUSY;
				pthread_mutex_unlock(&pool->share.lock);
			}
		}
		if (ret < 0)
			break;
		pool->pages[pfns[i]].flags |= PGF_SEEN;
	}
	for (unsigned k = 0; k < i; k++)
		pool->pages[pfns[k]].flags &= (uint16_t)~PGF_SEEN;
	if (ret < 0)
		*bad = i;
	return ret;
}

int share_offer(struct pool *pool, struct owner *o, const uint32_t *pfns, unsigned n,
		unsigned order, unsigned shares, bool keep, bool fresh, const uint64_t tok[2],
		const struct share_limits *lim, unsigned *bad)
{
	struct share *s = &pool->share;
	uint64_t pages = (uint64_t)n << order;
	struct share_offer *of;
	uint64_t *takers;
	uint32_t *copy, i;
	int ret;

	*bad = n;
	if (n == 0 || order > PP_MAX_ORDER || shares > lim->max_shares || (keep && !shares))
		return -EINVAL;
	ret = fresh ? 0 : offer_check(pool, o, pfns, n, order, bad);
	if (ret < 0)
		return ret;
	copy = malloc(n * sizeof(*copy));
	takers = shares ? calloc(shares, sizeof(*takers)) : NULL;
	if (!copy || (shares && !takers)) {
		free(copy);
		free(takers);
		return -ENOMEM;
	}
	memcpy(copy, pfns, n * sizeof(*copy));
	pthread_mutex_lock(&s->lock);
	ret = -EDQUOT;
	if (o->noffers >= lim->max_offers ||
	    (o->uid_offers && lim->max_offers_uid && *o->uid_offers >= lim->max_offers_uid))
		goto fail;
	/* keep: the giver's reference counts beside the offer's pin. */
	if (keep && ((lim->quota && share_charged(o) + pages > lim->quota) ||
		     (o->uid_pages && !share_quota_charge(o->uid_pages, pages, lim->uid_quota))))
		goto fail;
	ret = reserve(s, 1, shares ? n : 0, keep ? n : 0);
	if (ret < 0) {
		if (keep)
			uid_uncharge(o, pages);
		goto fail;
	}
	i = offer_get(s);
	of = &s->offers[i];
	of->tok[0] = tok[0];
	of->tok[1] = tok[1];
	of->giver = o;
	of->n = n;
	of->order = (uint8_t)order;
	of->shares = shares;
	of->keep = keep;
	of->pfns = copy;
	of->takers = takers;
	of->hnext = s->buckets[tok_bucket(tok)];
	s->buckets[tok_bucket(tok)] = i;
	of->gprev = SHARE_NIL;
	of->gnext = o->offer_head;
	if (o->offer_head != SHARE_NIL)
		s->offers[o->offer_head].gprev = i;
	o->offer_head = i;
	WRITE_ONCE(o->noffers, o->noffers + 1);
	if (o->uid_offers)
		(*o->uid_offers)++;
	for (uint32_t j = 0; j < n; j++) {
		struct page *p = &pool->pages[copy[j]];

		pool_unlink_owned(pool, o, copy[j]);
		if (!shares) {
			page_set_owner(p, OWNER_OFFER | i);
			continue;
		}
		uint32_t e = ent_get(s);

		s->ents[e].pfn = copy[j];
		s->ents[e].order = (uint8_t)order;
		s->ents[e].refs = 0;
		s->ents[e].offer = i;
		s->ents[e].ref_head = SHARE_NIL;
		page_set_owner(p, OWNER_SHARED | e);
		if (keep)
			ref_add(s, o, e);
	}
	WRITE_ONCE(o->offered_pages, o->offered_pages + pages);
	WRITE_ONCE(s->offered_pages, s->offered_pages + pages);
	WRITE_ONCE(s->offers_open, s->offers_open + 1);
	if (shares)
		WRITE_ONCE(s->shared_pages, s->shared_pages + pages);
	pthread_mutex_unlock(&s->lock);
	return 0;
fail:
	pthread_mutex_unlock(&s->lock);
	free(copy);
	free(takers);
	return ret;
}

static int closed_errno(enum share_closed why)
{
	switch (why) {
	case SHARE_TAKEN:
		return -EALREADY;
	case SHARE_CANCELLED:
		return -ECANCELED;
	case SHARE_GIVER_GONE:
		return -EOWNERDEAD;
	default:
		return -ENOENT;
	}
}

int share_take(struct pool *pool, struct owner *o, const uint64_t tok[2], uint32_t *pfns,
	       unsigned max, unsigned *n, unsigned *order, bool *shared, uint64_t *giver,
	       const struct share_limits *lim)
{
	struct share *s = &pool->share;
	struct share_offer *of;
	uint64_t pages;
	uint32_t i, *done;
	int ret;

	pthread_mutex_lock(&s->lock);
	i = offer_find(s, tok);
	if (i == SHARE_NIL) {
		ret = closed_errno(tomb_find(s, tok));
		goto out;
	}
	of = &s->offers[i];
	pages = (uint64_t)of->n << of->order;
	ret = -EINVAL;
	if (of->giver == o)
		goto out;
	ret = -ENOBUFS;
	if (of->n > max)
		goto out;
	/* Each client takes a shared offer once (by client id: an owner id is
	 * a slot, which a later connection may reuse). */
	ret = -EALREADY;
	for (uint32_t j = 0; j < of->taken; j++)
		if (of->takers[j] == o->client_id)
			goto out;
	ret = -EDQUOT;
	if (lim->quota && share_charged(o) + pages > lim->quota)
		goto out;
	if (o->uid_pages && !share_quota_charge(o->uid_pages, pages, lim->uid_quota))
		goto out;
	if (of->shares && reserve(s, 0, 0, of->n) < 0) {
		uid_uncharge(o, pages);
		ret = -ENOMEM;
		goto out;
	}
	memcpy(pfns, of->pfns, of->n * sizeof(*pfns));
	*n = of->n;
	*order = of->order;
	*shared = of->shares != 0;
	*giver = of->giver->client_id;
	ret = 0;
	if (!of->shares) {
		/* A hand-off: the blocks become o's own; the giver is uncharged. */
		for (uint32_t j = 0; j < of->n; j++) {
			page_set_owner(&pool->pages[of->pfns[j]], o->id);
			pool_link_owned(pool, o, of->pfns[j]);
		}
		uid_uncharge(of->giver, pages);
		free(offer_close(s, i, SHARE_TAKEN));
		goto out;
	}
	for (uint32_t j = 0; j < of->n; j++)
		ref_add(s, o, page_owner(&pool->pages[of->pfns[j]]) & OWNER_IDX);
	of->takers[of->taken] = o->client_id;
	if (++of->taken < of->shares)
		goto out;
	/* The last take: the pin goes (every block is held by o at least). */
	offer_unpin(s, pool, of, of->pfns);
	uid_uncharge(of->giver, pages);
	done = offer_close(s, i, SHARE_TAKEN);
	free(done);
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int share_cancel(struct pool *pool, struct pcp *pcp, struct owner *o, const uint64_t tok[2],
		 uint64_t *returned, uint64_t *released, uint32_t *takers)
{
	struct share *s = &pool->share;
	struct share_offer *of;
	uint32_t i, *pfns;
	unsigned nfree = 0;
	uint64_t pages;

	*returned = *released = 0;
	*takers = 0;
	pthread_mutex_lock(&s->lock);
	i = offer_find(s, tok);
	if (i == SHARE_NIL || s->offers[i].giver != o) {
		pthread_mutex_unlock(&s->lock);
		return -ENOENT;
	}
	of = &s->offers[i];
	pages = (uint64_t)of->n << of->order;
	*takers = of->taken;
	if (of->taken == 0) {
		/* Nobody took any: the blocks are the giver's own again.  With
		 * keep, the giver's reference (unless it freed it meanwhile)
		 * and the pin were two holdings; they become one. */
		uint64_t dropped = 0;

		for (uint32_t j = 0; j < of->n; j++) {
			struct page *p = &pool->pages[of->pfns[j]];

			if (of->shares) {
				uint32_t e = page_owner(p) & OWNER_IDX, r = ref_find(s, e, o->id);

				if (r != SHARE_NIL) {
					ref_del(s, o, r);
					dropped += block_pages(of->order);
				}
				ent_release(s, e);
			}
			page_set_owner(p, o->id);
			pool_link_owned(pool, o, of->pfns[j]);
		}
		uid_uncharge(o, dropped);
		*returned = pages;
	} else {
		nfree = offer_unpin(s, pool, of, of->pfns);
		uid_uncharge(o, pages);
		*released = pages;
	}
	pfns = offer_close(s, i, SHARE_CANCELLED);
	pthread_mutex_unlock(&s->lock);
	if (nfree)
		pool_put_blocks(pool, pcp, pfns, nfree);
	free(pfns);
	return 0;
}

/* ---- free and release -------------------------------------------------------- */

/* Why o may not free the block at pfn (owner field ow, share bits set). */
static int share_check_ref(struct share *s, struct pool *pool, struct owner *o, uint32_t pfn,
			   int order, uint32_t *ref)
{
	struct page *p = &pool->pages[pfn];
	uint32_t ow = page_owner(p), e;

	if (page_state(p) != PG_ALLOC)
		return -EALREADY;
	if (ow & OWNER_OFFER)
		return s->offers[ow & OWNER_IDX].giver == o ? -EBUSY : -EPERM;
	if (!(ow & OWNER_SHARED))
		return -EPERM;
	e = ow & OWNER_IDX;
	*ref = ref_find(s, e, o->id);
	if (*ref == SHARE_NIL)
		return s->ents[e].offer != SHARE_NIL && s->offers[s->ents[e].offer].giver == o ?
			-EBUSY : -EPERM;	/* pinned by o's own offer */
	if (order >= 0 && s->ents[e].order != (unsigned)order)
		return -EINVAL;
	if (s->refs[*ref].seen)
		return -EINVAL;
	return 0;
}

int share_free(struct pool *pool, struct pcp *pcp, struct owner *o, const uint32_t *pfns,
	       unsigned n, int order, unsigned *bad)
{
	struct share *s = &pool->share;
	uint32_t *out, *refs;
	unsigned i, k = 0;
	int ret = 0;

	out = malloc(n * sizeof(*out) * 2);
	if (!out)
		return -ENOMEM;
	refs = out + n;
	/* Pass 1, unlocked: o's own blocks (only o's thread changes them). */
	for (i = 0; i < n; i++) {
		if (pfns[i] < pool->npages &&
		    (page_owner(&pool->pages[pfns[i]]) & (OWNER_OFFER | OWNER_SHARED)))
			continue;	/* pass 2 */
		ret = pool_check_block(pool, o, pfns[i], order);
		if (ret < 0)
			goto unmark_own;
		pool->pages[pfns[i]].flags |= PGF_SEEN;
	}
	/* Pass 2: the rest under the lock (their owner field may change until
	 * it is held). */
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n; i++) {
		refs[i] = SHARE_NIL;
		if (page_owner(&pool->pages[pfns[i]]) == o->id)
			continue;
		ret = share_check_ref(s, pool, o, pfns[i], order, &refs[i]);
		if (ret < 0)
			break;
		s->refs[refs[i]].seen = true;
	}
	if (ret < 0) {
		for (unsigned j = 0; j < i; j++)
			if (refs[j] != SHARE_NIL)
				s->refs[refs[j]].seen = false;
		pthread_mutex_unlock(&s->lock);
		goto unmark_own;
	}
	for (i = 0; i < n; i++) {
		uint32_t e;

		if (refs[i] == SHARE_NIL)
			continue;
		e = s->refs[refs[i]].ent;
		ref_del(s, o, refs[i]);
		if (s->ents[e].refs == 0 && s->ents[e].offer == SHARE_NIL) {
			ent_release(s, e);
			out[k++] = pfns[i];
		}
	}
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < n; i++) {
		if (refs[i] != SHARE_NIL)
			continue;
		pool->pages[pfns[i]].flags &= (uint16_t)~PGF_SEEN;
		pool_unlink_owned(pool, o, pfns[i]);
		out[k++] = pfns[i];
	}
	if (k)
		pool_put_blocks(pool, pcp, out, k);
	free(out);
	return 0;
unmark_own:
	*bad = i;
	for (unsigned j = 0; j < n; j++)
		if (pfns[j] < pool->npages && page_owner(&pool->pages[pfns[j]]) == o->id)
			pool->pages[pfns[j]].flags &= (uint16_t)~PGF_SEEN;
	free(out);
	return ret;
}

uint64_t share_release_all(struct pool *pool, struct pcp *pcp, struct owner *o)
{
	struct share *s = &pool->share;
	uint32_t buf[SHARE_CHUNK];
	uint64_t charged = 0;

	/* Open offers, one per lock hold: blocks nobody took go to the pool.
	 * What is charged is counted as it goes, under the lock: a take may
	 * close an offer (and uncharge it) between two holds. */
	for (;;) {
		uint32_t i, *pfns;
		unsigned nfree;

		pthread_mutex_lock(&s->lock);
		i = o->offer_head;
		if (i == SHARE_NIL) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		charged += (uint64_t)s->offers[i].n << s->offers[i].order;
		if (s->offers[i].shares)
			nfree = offer_unpin(s, pool, &s->offers[i], s->offers[i].pfns);
		else
			nfree = s->offers[i].n;	/* the array is the list to free */
		pfns = offer_close(s, i, SHARE_GIVER_GONE);
		pthread_mutex_unlock(&s->lock);
		if (nfree)
			pool_put_blocks(pool, pcp, pfns, nfree);
		free(pfns);
	}
	/* References, SHARE_CHUNK per lock hold. */
	for (;;) {
		unsigned k = 0, dropped = 0;

		pthread_mutex_lock(&s->lock);
		while (o->ref_head != SHARE_NIL && dropped < SHARE_CHUNK) {
			uint32_t r = o->ref_head, e = s->refs[r].ent;

			charged += block_pages(s->ents[e].order);
			ref_del(s, o, r);
			dropped++;
			if (s->ents[e].refs == 0 && s->ents[e].offer == SHARE_NIL) {
				buf[k++] = s->ents[e].pfn;
				ent_release(s, e);
			}
		}
		pthread_mutex_unlock(&s->lock);
		if (k)
			pool_put_blocks(pool, pcp, buf, k);
		if (dropped < SHARE_CHUNK)
			break;
	}
	return charged;
}

void share_holders(struct pool *pool, uint32_t owner, uint64_t size, struct pool_holder *h,
		   unsigned max, unsigned *nh)
{
	struct share *s = &pool->share;
	uint32_t idx = owner & OWNER_IDX;

	pthread_mutex_lock(&s->lock);
	if (owner & OWNER_OFFER) {
		if (idx < s->noffer_slots && s->offers[idx].giver)
			pool_holder_add(h, max, nh, s->offers[idx].giver->id, size, size);
	} else if (idx < s->nents && s->ents[idx].used) {
		const struct share_ent *e = &s->ents[idx];

		for (uint32_t r = e->ref_head; r != SHARE_NIL; r = s->refs[r].enext)
			pool_holder_add(h, max, nh, s->refs[r].holder, size, size);
		if (e->offer != SHARE_NIL)
			pool_holder_add(h, max, nh, s->offers[e->offer].giver->id, size, size);
	}
	pthread_mutex_unlock(&s->lock);
}

/* ---- verify ------------------------------------------------------------------ */

struct sverify {
	struct pool *pool;
	char *err;
	size_t errlen;
	uint8_t *live;			/* live owner ids (NULL: not known) */
	uint32_t maxid;
};

__attribute__((format(printf, 2, 3)))
static int sfail(struct sverify *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->err, v->errlen, fmt, ap);
	va_end(ap);
	return -EUCLEAN;
}

static bool slive(const struct sverify *v, uint32_t id)
{
	return !v->live || (id <= v->maxid && v->live[id]);
}

/* Every open offer: a live giver, blocks allocated and pointing back. */
static int sverify_offers(struct sverify *v, uint64_t *handoff_pages, uint64_t *offered,
			  uint64_t *nopen)
{
	struct share *s = &v->pool->share;

	for (uint32_t i = 0; i < s->noffer_slots; i++) {
		const struct share_offer *of = &s->offers[i];

		if (!of->giver)
			continue;
		if (!slive(v, of->giver->id))
			return sfail(v, "offer %u: giver %u is not a live client", i,
				     of->giver->id);
		if (of->n == 0 || (of->shares && of->taken >= of->shares) ||
		    (!of->shares && of->taken))
			return sfail(v, "offer %u: %u blocks, %u of %u takes", i, of->n, of->taken,
				     of->shares);
		for (uint32_t j = 0; j < of->n; j++) {
			uint32_t pfn = of->pfns[j], ow;
			const struct page *p;

			if (pfn >= v->pool->npages)
				return sfail(v, "offer %u: pfn %u out of range", i, pfn);
			p = &v->pool->pages[pfn];
			ow = page_owner(p);
			if (page_state(p) != PG_ALLOC || p->order != of->order)
				return sfail(v, "offer %u names pfn %u, state %u order %u (free?)", i,
					     pfn, page_state(p), p->order);
			if (!of->shares && ow != (OWNER_OFFER | i))
				return sfail(v, "offer %u: pfn %u has owner %#x", i, pfn, ow);
			if (of->shares && (!(ow & OWNER_SHARED) || (ow & OWNER_IDX) >= s->nents ||
					   s->ents[ow & OWNER_IDX].offer != i))
				return sfail(v, "offer %u: shared pfn %u not pinned by it (owner %#x)",
					     i, pfn, ow);
		}
		if (!of->shares)
			*handoff_pages += (uint64_t)of->n << of->order;
		*offered += (uint64_t)of->n << of->order;
		(*nopen)++;
	}
	return 0;
}

/* Every shared block: references counted right, held by someone live. */
static int sverify_ents(struct sverify *v, uint64_t *shared)
{
	struct share *s = &v->pool->share;

	for (uint32_t e = 0; e < s->nents; e++) {
		const struct share_ent *ent = &s->ents[e];
		uint32_t nref = 0;

		if (!ent->used)
			continue;
		if (ent->pfn >= v->pool->npages ||
		    page_state(&v->pool->pages[ent->pfn]) != PG_ALLOC ||
		    page_owner(&v->pool->pages[ent->pfn]) != (OWNER_SHARED | e) ||
		    v->pool->pages[ent->pfn].order != ent->order)
			return sfail(v, "shared block %u (pfn %u) not allocated as such", e,
				     ent->pfn);
		for (uint32_t r = ent->ref_head; r != SHARE_NIL; r = s->refs[r].enext) {
			if (r >= s->nrefs || !s->refs[r].used || s->refs[r].ent != e ||
			    nref > s->nrefs)
				return sfail(v, "shared pfn %u: bad reference %u", ent->pfn, r);
			if (!slive(v, s->refs[r].holder))
				return sfail(v, "shared pfn %u: held by %u, not a live client",
					     ent->pfn, s->refs[r].holder);
			if (s->refs[r].seen)
				return sfail(v, "shared pfn %u: stale seen mark", ent->pfn);
			nref++;
		}
		if (nref != ent->refs)
			return sfail(v, "shared pfn %u: %u references counted, %u held", ent->pfn,
				     ent->refs, nref);
		if (nref == 0 && ent->offer == SHARE_NIL)
			return sfail(v, "shared pfn %u: no holder and no offer", ent->pfn);
		if (ent->offer != SHARE_NIL &&
		    (ent->offer >= s->noffer_slots || !s->offers[ent->offer].giver))
			return sfail(v, "shared pfn %u: pinned by closed offer %u", ent->pfn,
				     ent->offer);
		*shared += block_pages(ent->order);
	}
	return 0;
}

/* Every owner's references and offers add up to its counts. */
static int sverify_owner(struct sverify *v, const struct owner *o)
{
	struct share *s = &v->pool->share;
	uint64_t refp = 0, offp = 0, steps = 0;
	uint32_t noff = 0;

	for (uint32_t r = o->ref_head; r != SHARE_NIL; r = s->refs[r].hnext) {
		if (r >= s->nrefs || !s->refs[r].used || s->refs[r].holder != o->id ||
		    steps++ > s->nrefs)
			return sfail(v, "client %u: bad reference link %u", o->id, r);
		refp += block_pages(s->ents[s->refs[r].ent].order);
	}
	for (uint32_t i = o->offer_head; i != SHARE_NIL; i = s->offers[i].gnext) {
		if (i >= s->noffer_slots || s->offers[i].giver != o || noff > s->noffer_slots)
			return sfail(v, "client %u: bad offer link %u", o->id, i);
		offp += (uint64_t)s->offers[i].n << s->offers[i].order;
		noff++;
	}
	if (refp != o->ref_pages || offp != o->offered_pages || noff != o->noffers)
		return sfail(v, "client %u: references %lu/%lu pages, offers %u/%u, %lu/%lu pages",
			     o->id, (unsigned long)refp, (unsigned long)o->ref_pages, noff,
			     o->noffers, (unsigned long)offp, (unsigned long)o->offered_pages);
	return 0;
}

int share_verify(struct pool *pool, struct owner *const *owners, unsigned nowners,
		 uint64_t *pages, char *err, size_t errlen)
{
	struct share *s = &pool->share;
	struct sverify v = { .pool = pool, .err = err, .errlen = errlen };
	uint64_t handoff = 0, offered = 0, nopen = 0, shared = 0;
	int ret;

	if (owners) {
		for (unsigned i = 0; i < nowners; i++)
			if (owners[i]->id > v.maxid)
				v.maxid = owners[i]->id;
		v.live = calloc((size_t)v.maxid + 1, 1);
		if (!v.live)
			return sfail(&v, "out of memory");
		for (unsigned i = 0; i < nowners; i++)
			v.live[owners[i]->id] = 1;
	}
	pthread_mutex_lock(&s->lock);
	ret = sverify_offers(&v, &handoff, &offered, &nopen);
	if (ret == 0)
		ret = sverify_ents(&v, &shared);
	for (unsigned i = 0; ret == 0 && owners && i < nowners; i++)
		ret = sverify_owner(&v, owners[i]);
	if (ret == 0 && (offered != s->offered_pages || shared != s->shared_pages ||
			 nopen != s->offers_open))
		ret = sfail(&v, "table counts offered %lu shared %lu offers %lu, found %lu %lu %lu",
			    (unsigned long)s->offered_pages, (unsigned long)s->shared_pages,
			    (unsigned long)s->offers_open, (unsigned long)offered,
			    (unsigned long)shared, (unsigned long)nopen);
	pthread_mutex_unlock(&s->lock);
	free(v.live);
	*pages += handoff + shared;
	return ret;
}
