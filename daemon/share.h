/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * share.h - blocks that change hands: offers (a token for a list of blocks),
 * hand-offs (ownership moves to the one taker) and shared blocks (read
 * references held by several clients).  See doc/DESIGN.md, "Hand-off and
 * shared pages".
 *
 * The single-owner path stays as it was: an owned block's descriptor names
 * its owner and sits on the owner's list.  A block that is under a hand-off
 * offer or shared lives in the pool's share table instead, and its
 * descriptor's owner field says where (the descriptor stays 16 bytes):
 *
 *   owner = id                    owned by that client (1..OWNER_MAX)
 *   owner = OWNER_OFFER | i       under hand-off offer i, on nobody's list
 *   owner = OWNER_SHARED | e      shared: entry e counts its references
 *
 * A shared block is held by references (one per holder, on the holder's
 * list) and, while its offer is open, by the offer's pin; it returns to the
 * pool when both are gone.
 *
 * Locking: one mutex per pool (struct share.lock) guards the whole table,
 * every owner's share fields (refs, offers, ref_pages, offered_pages,
 * noffers) and every descriptor whose owner field has OWNER_OFFER or
 * OWNER_SHARED set.  It is a leaf lock: code holding it takes no other lock
 * (blocks to free are collected and freed after it is dropped), so it may be
 * taken under the zone lock (offline's holder scan).  Hand-offs and shared
 * blocks are off the single-owner fast path: a mutex is cheap there, next
 * to the system calls of the requests that reach it.
 */
#ifndef PP_SHARE_H
#define PP_SHARE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define OWNER_OFFER	0x40000000u
#define OWNER_SHARED	0x80000000u
#define OWNER_IDX	0x3fffffffu
#define OWNER_MAX	(OWNER_OFFER - 1)	/* largest client owner id */

#define SHARE_TOKEN_SIZE	16
#define SHARE_TOMBSTONES	4096		/* closed offers remembered per pool */
#define SHARE_NIL		UINT32_MAX

struct pool;
struct pcp;
struct owner;
struct pool_holder;

/* Why an offer closed, as remembered for a later Take. */
enum share_closed {
	SHARE_OPEN = 0,
	SHARE_TAKEN,		/* every take used: EALREADY */
	SHARE_CANCELLED,	/* ECANCELED */
	SHARE_GIVER_GONE,	/* EOWNERDEAD */
};

struct share_offer {
	uint64_t tok[2];
	struct owner *giver;		/* NULL: slot free */
	uint32_t hnext;			/* token hash chain */
	uint32_t gnext, gprev;		/* giver's list of open offers */
	uint32_t n;			/* blocks */
	uint32_t shares, taken;		/* 0: a hand-off; takes served */
	uint8_t order;
	bool keep;
	uint32_t *pfns;			/* the blocks, in the giver's order */
	uint64_t *takers;		/* shared: client ids of the takes served */
};

struct share_ent {			/* one shared block */
	uint32_t pfn;
	uint32_t refs;			/* references held */
	uint32_t offer;			/* the open offer pinning it, or SHARE_NIL */
	uint32_t ref_head;		/* its references (share_ref.enext) */
	uint32_t next_free;		/* free list when unused */
	uint8_t order;
	bool used;
};

struct share_ref {			/* one holder's reference to one shared block */
	uint32_t ent;
	uint32_t holder;		/* owner id */
	uint32_t enext;			/* next reference to the same block */
	uint32_t hnext, hprev;		/* the holder's list */
	bool seen;			/* scratch: listed in the free being checked */
	bool used;
};

struct share_tomb {
	uint64_t tok[2];
	uint8_t why;			/* enum share_closed */
};

struct share {
	pthread_mutex_t lock;
	struct share_offer *offers;	/* by index; free ones chain through hnext */
	uint32_t noffer_slots, offer_free, offer_nfree;
	uint32_t *buckets;		/* token hash: SHARE_BUCKETS heads */
	struct share_ent *ents;		/* free ones chain through next_free */
	uint32_t nents, ent_free, ent_nfree;
	struct share_ref *refs;		/* free ones chain through hnext */
	uint32_t nrefs, ref_free, ref_nfree;
	struct share_tomb *tombs;	/* ring */
	uint32_t tomb_next;
	uint64_t offers_open;		/* READ_ONCE by stats */
	uint64_t offered_pages;		/* pages under open offers */
	uint64_t shared_pages;		/* pages in shared blocks */
};

/* Limits for one request (from the configuration and the tunables). */
struct share_limits {
	uint32_t max_offers;		/* open offers per connection */
	uint32_t max_offers_uid;	/* per uid (0: none) */
	uint32_t max_shares;		/* most takers of one offer */
	uint64_t quota;			/* pages per connection (0: none) */
	uint64_t uid_quota;		/* pages per uid (0: none) */
};

int share_init(struct share *s);
void share_destroy(struct share *s);

/*
 * Charge `pages` to a uid's page count against `limit` (0 = unlimited):
 * true if it fits (and it is charged).  Any thread.
 */
bool share_quota_charge(uint64_t *counter, uint64_t pages, uint64_t limit);

/* Pages charged to o: owned, held by reference, under its open offers. */
uint64_t share_charged(const struct owner *o);

/*
 * Offer n blocks of `order` that o owns (all validated first: in range, o's
 * own, of that order, listed once; *bad names the first that is not; `fresh`:
 * the caller has just allocated them to o, a loan, and they are not checked
 * again).
 * shares 0: a hand-off; else up to `shares` takers, keep: o keeps a
 * reference.  tok: 16 random bytes made by the caller.  0, or -EINVAL
 * (*bad), -EBUSY (*bad: under an open offer already), -EPERM (*bad:
 * someone else's or shared), -EALREADY (*bad: not allocated), -EDQUOT
 * (offer limits, or the uid quota for keep's reference), -E2BIG.  The
 * owner's thread.
 */
int share_offer(struct pool *pool, struct owner *o, const uint32_t *pfns, unsigned n,
		unsigned order, unsigned shares, bool keep, bool fresh, const uint64_t tok[2],
		const struct share_limits *lim, unsigned *bad);

/*
 * Take offer `tok` for o: its blocks (at most `max`, else -ENOBUFS with
 * nothing taken) into pfns, *n, *order, *shared, *giver (the giver's
 * client id).  0, or -ENOENT, -EALREADY, -ECANCELED, -EOWNERDEAD (see
 * pagepool.proto), -EINVAL (o is the giver), -EDQUOT.  The taker's thread.
 */
int share_take(struct pool *pool, struct owner *o, const uint64_t tok[2], uint32_t *pfns,
	       unsigned max, unsigned *n, unsigned *order, bool *shared, uint64_t *giver,
	       const struct share_limits *lim);

/*
 * Close o's open offer `tok`: blocks nobody took come back to o (*returned
 * pages), a shared offer's pin on taken blocks goes (*released pages; a
 * block nobody holds any more returns to the pool through pcp).  -ENOENT
 * when tok is not an open offer of o.  The owner's thread.
 */
int share_cancel(struct pool *pool, struct pcp *pcp, struct owner *o, const uint64_t tok[2],
		 uint64_t *returned, uint64_t *released, uint32_t *takers);

/*
 * pool_free()'s path for a request that names a block o does not own as
 * its own (shared, under offer, or not o's at all): the whole request is
 * checked and freed here, all or nothing, with pool_free()'s codes plus
 * -EBUSY (a block under o's open offer).  A shared block's pfn drops o's
 * reference (o's pages + ref_pages say what o no longer holds).
 */
int share_free(struct pool *pool, struct pcp *pcp, struct owner *o, const uint32_t *pfns,
	       unsigned n, int order, unsigned *bad);

/* o is going: close its offers (their blocks nobody took go back to the
 * pool) and drop its references.  Returns the pages it was charged for
 * them.  The owner's thread. */
uint64_t share_release_all(struct pool *pool, struct pcp *pcp, struct owner *o);

/* Offline's holder scan: add the holders of the block at pfn (owner field
 * `owner`, OWNER_OFFER or OWNER_SHARED set) to h.  Zone lock held. */
void share_holders(struct pool *pool, uint32_t owner, uint64_t size, struct pool_holder *h,
		   unsigned max, unsigned *nh);

/*
 * verify(): the share table against the descriptors and the live owners
 * (NULL: not known).  Adds the pages it accounts for to *pages.  0 or
 * -EUCLEAN with err filled.  Workers parked, admin and zone locks held.
 */
int share_verify(struct pool *pool, struct owner *const *owners, unsigned nowners,
		 uint64_t *pages, char *err, size_t errlen);

#endif
