/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ccache.h - the client cache region: per-connection pcplists that live in
 * libpagepool's process and that pagepoold drains remotely, across the
 * process boundary, without signalling or waking the client.  See
 * doc/DESIGN.md, "Pcplists in the client".
 *
 * The daemon creates one region per connection that asks for it (request
 * CacheMap, after a Welcome granting FEATURE_CACHE), as a sealed memfd of
 * PP_CC_SIZE bytes (it cannot shrink or grow), maps it, and passes the fd
 * with the CacheMapped answer.  Both sides map it shared.
 *
 * Layout.  Two sets of lists, list[0] and list[1], each with one list per
 * order 0..PP_CC_ORDERS-1.  `active` (written by the daemon only) says which
 * set the client uses; the other is the daemon's spare.  A list holds the
 * first pfns of blocks of its order that the client owns and has not handed
 * to its user: pfn[0..count).
 *
 * The client's rule (one thread at a time per connection, as every call):
 *
 *     enter:  seq += 1 (odd), then a FULL fence (a locked instruction),
 *             then read `active`;
 *     ...     pop or push on list[active][order] only;
 *     leave:  seq += 1 (even), a release store.
 *
 * The daemon's remote drain (daemon/clientcache.c): write the spare's counts 0,
 * store `active` = spare, a full fence, read seq.  If seq was even, or once
 * it differs from what was read, no cache operation can still use the old
 * set (any operation entered later reads the new `active`: the two fences
 * order the store-buffer race both ways); the daemon copies the old set into
 * its own memory, validates every pfn against its ownership records, frees
 * the good ones and writes the old counts 0.  A client that stays inside an
 * operation (seq odd and unchanged) past the daemon's bound keeps its old
 * set and is reported; its pages stay owned by it.
 *
 * Everything the daemon reads here is untrusted input: it never reads
 * `active` back (it keeps its own copy), bounds every count by PP_CC_CAP,
 * and checks every pfn before freeing it.
 */
#ifndef PP_CCACHE_H
#define PP_CCACHE_H

#include <stdint.h>

#define PP_CC_MAGIC	0x70706363u	/* "ppcc" */
#define PP_CC_VERSION	1u
#define PP_CC_ORDERS	4		/* orders 0..3 are cached */
#define PP_CC_CAP	511		/* blocks one list can hold */
#define PP_CC_HIGH_MAX	PP_CC_CAP	/* largest client_cache_high (pages) */

struct pp_cc_list {
	uint32_t count;			/* blocks in pfn[]; the daemon clamps it */
	uint32_t pfn[PP_CC_CAP];
};

struct pp_cc_region {
	/* Written by the daemon. */
	uint32_t magic;			/* PP_CC_MAGIC */
	uint32_t version;		/* PP_CC_VERSION */
	uint32_t size;			/* bytes of the region (PP_CC_SIZE) */
	uint32_t active;		/* 0 or 1: the set the client uses */
	uint64_t drains;		/* remote drains of this cache (for pp_stat) */
	uint8_t pad0[64 - 24];
	/* Written by the client. */
	uint64_t seq;			/* odd inside a cache operation */
	uint64_t hits;			/* allocations served from the cache */
	uint64_t misses;		/* refills (one Alloc each) */
	uint64_t spills;		/* frees above high (one Free each) */
	uint8_t pad1[64 - 32];
	struct pp_cc_list list[2][PP_CC_ORDERS];
};

/* Whole pages: 128 + 2 * 4 * 2048 bytes rounded up. */
#define PP_CC_SIZE	((sizeof(struct pp_cc_region) + 4095) & ~(size_t)4095)

/*
 * Per-order limits from the pool's client_cache_high and client_cache_batch
 * (pages): order k keeps at most high >> k blocks and moves batch >> k at a
 * time (at least 1), so every order caches about the same number of pages.
 * An order whose high is 0 is not cached.
 */
static inline uint32_t pp_cc_high(uint32_t high_pages, unsigned order)
{
	uint32_t h = high_pages >> order;

	return h > PP_CC_CAP ? PP_CC_CAP : h;
}

static inline uint32_t pp_cc_batch(uint32_t batch_pages, uint32_t high_pages, unsigned order)
{
	uint32_t h = pp_cc_high(high_pages, order);
	uint32_t b = batch_pages >> order;

	if (b == 0)
		b = 1;
	return b > h ? h : b;
}

#endif
