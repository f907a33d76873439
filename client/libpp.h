/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libpp.h - what the files of libpagepool share and nothing outside it
 * sees (not installed): the client structure, the one round trip, how a
 * failure is recorded, and block lists both ways (pfns as runs, runs as
 * pfns).  libpagepool.c holds these and the connection's life;
 * handoff.c the offers; ccache.c the client cache (proto/ccache.h).  The
 * names are libpp_* because the static library must claim no short global
 * names in a program's namespace; the shared library exports none of them
 * (-fvisibility=hidden).
 *
 * Every function here takes a client that one thread uses at a time, as
 * every call of pagepool.h does.
 */
#ifndef PP_LIBPP_H
#define PP_LIBPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccache.h"
#include "pagepool.h"
#include "transport.h"
#include "wire.h"

#define PP_EXPORT	__attribute__((visibility("default")))

/* Most numbers in a runs list the library sends (pairs: half as many runs). */
#define LIBPP_RUNS_MAX	256

/*
 * The client cache of a connection (ccache.c): lists of blocks of orders
 * 0..PP_CC_ORDERS-1 in the region shared with the daemon, and one tag byte
 * per arena page saying what the library knows of the block starting there
 * (LIBPP_TAG_*).  r is NULL when the connection has no cache; tag is then
 * NULL too.  seq is the library's own copy of r->seq (never read back).
 */
#define LIBPP_TAG_OWNED		0x80	/* c owns the block (order in the low bits) */
#define LIBPP_TAG_CACHED	0x40	/* the block is in c's cache */
#define LIBPP_TAG_MARK		0x20	/* seen already in this pp_free (transient) */
#define LIBPP_TAG_ORDER		0x1f

struct libpp_cache {
	struct pp_cc_region *r;	/* MAP_SHARED, PP_CC_SIZE bytes; NULL: no cache */
	uint64_t seq;		/* the last value written to r->seq */
	uint32_t high[PP_CC_ORDERS];	/* blocks a list may hold; 0: order not cached */
	uint32_t batch[PP_CC_ORDERS];	/* blocks a refill or a spill moves */
	uint8_t *tag;		/* npages bytes, anonymous, faulted in lazily */
	uint64_t hits, misses, spills;
};

struct pp_client {
	struct pp_transport t;	/* the connection; t.error is pp_last_error() */
	uint32_t bad_index;	/* bad_index of the last failed response */
	uint8_t *base;		/* the arena mapping, map_len bytes */
	size_t map_len;
	uint64_t npages;
	unsigned page_shift;
	struct pp_info info;
	uint32_t features;	/* Feature bits the welcome granted */
	uint64_t calls;		/* round trips so far (libpp_call) */
	struct libpp_cache cc;
};

/* Record why a call failed (for pp_last_error) and return err. */
int libpp_fail(struct pp_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same, and break the client: the stream can no longer be trusted. */
int libpp_fail_break(struct pp_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * One round trip: send req (its id is assigned here), receive its response.
 * 0 with *out set (free it with wire_response_free) when the daemon
 * answered OK; -status (with the daemon's text in pp_last_error and its
 * bad_index in c->bad_index) when it refused; other -errno when the
 * exchange failed.  fd_out, when given, receives an fd that came with the
 * response (the caller closes it).
 */
int libpp_call(struct pp_client *c, wire_request *req, wire_response **out, int *fd_out);

/* 0 when resp carries the body its request asked for; else resp is freed,
 * the client broken and -EPROTO returned. */
int libpp_expect_body(struct pp_client *c, wire_response *resp, int body_case);

/*
 * pfns[] (n blocks) as runs of blocks 2^order pages apart, in the same
 * order (so an index the daemon blames counts as the caller's does): true
 * with runs[] (room for LIBPP_RUNS_MAX) and *nruns when that is less than
 * half the list, false when the plain list is as short.
 */
bool libpp_runs_pack(const uint32_t *pfns, unsigned n, unsigned order, uint32_t *runs,
		     size_t *nruns);

/*
 * How many blocks an answer's list and runs (first, n pairs) name: *total.
 * 0, or -EPROTO with the client broken for runs the client did not ask for
 * (no FEATURE_RUNS), an odd runs list or an empty run.  `what` names the
 * request in the error text ("alloc", "take", ...).
 */
int libpp_blocks_count(struct pp_client *c, const char *what, size_t n_pfns,
		       const uint32_t *runs, size_t n_runs, uint64_t *total);

/*
 * An answer's blocks of 2^order pages (order <= 31), pfns then runs
 * expanded, into out[] (room for the total libpp_blocks_count gave), each
 * checked to lie in the arena: 0 and *n, or -EPROTO (client broken).
 */
int libpp_blocks_expand(struct pp_client *c, const char *what, const uint32_t *pfns,
			size_t n_pfns, const uint32_t *runs, size_t n_runs, unsigned order,
			uint32_t *out, size_t *n);

/*
 * The plain round trips of pp_alloc and pp_free, after their argument
 * checks, without the cache: the cache's refills and spills use them too.
 * libpp_alloc_rpc: 0 and the blocks in pfns[] (room for count), *n of them,
 * or -errno.  libpp_free_rpc: 0 or -errno, *bad_index (may be NULL) as
 * pp_free's.  Neither touches the tags.
 */
int libpp_alloc_rpc(struct pp_client *c, unsigned order, unsigned count, unsigned flags,
		    uint32_t *pfns, size_t *n);
int libpp_free_rpc(struct pp_client *c, const uint32_t *pfns, unsigned n, unsigned *bad_index);

/* ---- ccache.c: the client cache ------------------------------------------ */

/* FEATURE_CACHE unless $PAGEPOOL_CACHE is "0". */
uint32_t libpp_cache_features(void);

/*
 * After a welcome granting FEATURE_CACHE with high and batch (pages): ask
 * for the region (CacheMap), check and map it, and make the tag table.  0
 * with or without a cache (a refusal, a bad region or no memory leave the
 * connection without one); -errno only when the transport broke.
 */
int libpp_cache_open(struct pp_client *c, uint32_t high, uint32_t batch);

/* Unmap the region and the tag table (pp_close). */
void libpp_cache_close(struct pp_client *c);

/*
 * pp_alloc and pp_free once their arguments are checked (*got and
 * *bad_index set as if nothing was done): served by the cache when it can,
 * by libpp_alloc_rpc / libpp_free_rpc otherwise, with the tags kept.
 * pp_free of a cached pfn is -EALREADY (a double free) with nothing sent.
 */
int libpp_cache_alloc(struct pp_client *c, unsigned order, unsigned count, unsigned flags,
		      uint32_t *pfns, unsigned *got);
int libpp_cache_free(struct pp_client *c, const uint32_t *pfns, unsigned n,
		     unsigned *bad_index);

/* -EALREADY (recorded as fn's, *bad_index set) when a pfn of pfns[] is in
 * c's cache: it must not reach the daemon.  0 otherwise. */
int libpp_cache_check(struct pp_client *c, const char *fn, const uint32_t *pfns, unsigned n,
		      unsigned *bad_index);

/* Blocks of order that c now owns (owned) or no longer knows (!owned):
 * their tags.  pfns[] lie in the arena. */
void libpp_cache_tag(struct pp_client *c, const uint32_t *pfns, size_t n, unsigned order,
		     bool owned);

/* The blocks of pfns[] are not c's any more (or not known to be): tags 0. */
void libpp_cache_untag(struct pp_client *c, const uint32_t *pfns, size_t n);

/* pp_stat's cache fields. */
void libpp_cache_stat(const struct pp_client *c, struct pp_stat *st);

/* Give every cached block back (Free round trips): true when there were
 * any.  For a request refused with EDQUOT, to be asked again once: the
 * cache's pages count against c's quota. */
bool libpp_cache_give_back(struct pp_client *c);

#endif
