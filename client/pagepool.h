/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pagepool.h - libpagepool, the client library of pagepoold.
 *
 * A client connects to the daemon's UNIX socket, joins one pool, and receives
 * the pool's shared memory arena (a sealed memfd) once; the library maps it.
 * From then on allocations and frees carry only page numbers (pfns): the
 * pages themselves are read and written in place through pp_page(), with no
 * copy.  Every page of a pool is visible to every client of that pool: pools,
 * not clients, are the isolation unit.
 *
 * Errors: every function that can fail returns 0 or a negative errno value
 * (-ENOMEM pool exhausted, -EAGAIN NOWAIT found the worker's list empty,
 * -EDQUOT quota, -EPERM not allowed, -EINVAL bad argument, -E2BIG over a limit,
 * -EPROTO protocol error, -ECONNRESET daemon gone, ...); pp_strerror() turns
 * one into text, and pp_last_error() gives the daemon's own explanation of
 * the last failed call.  The library never exits and never prints.
 *
 * fork(): a client must not be used by both parent and child (they would
 * share one socket and one cache); the child should connect on its own.
 *
 * Threads: a struct pp_client is one connection and is not thread-safe;
 * serialise calls on it (pp_set_timeout() included), or give each thread its
 * own client (each client maps the arena once).  Pointers from pp_page() stay
 * valid until pp_close().  Pages are released by the daemon when the
 * connection closes, including when the process dies.
 *
 * Environment, read by every pp_connect() (with secure_getenv(3): ignored
 * in setuid and setgid programs); as with any getenv(), do not change the
 * environment while another thread may be in pp_connect():
 *   PAGEPOOL_SOCKET      the socket when pp_connect() is given NULL or ""
 *                        (unset or empty: PP_DEFAULT_SOCKET)
 *   PAGEPOOL_TIMEOUT_MS  the most pp_connect() may take, in milliseconds
 *                        (connect and handshake together; unset or empty:
 *                        it blocks until the daemon answers).  Not a
 *                        decimal number from 0 to INT_MAX: -EINVAL.
 *   PAGEPOOL_RUNS        "0": send and ask for plain pfn lists, as clients
 *                        before FEATURE_RUNS did; otherwise the library asks
 *                        the daemon for runs (consecutive blocks as (first,
 *                        n) pairs, pagepool.proto), which shrink a large
 *                        batch's messages to a few bytes.  The API is the
 *                        same either way.
 *   PAGEPOOL_CACHE       "0": no client cache (see "Cache"); otherwise the
 *                        library keeps one when the daemon's pool allows.
 *
 * Cache: when the pool's configuration allows (client_cache_high), each
 * connection keeps lists of blocks of orders 0..3 in memory it shares with
 * the daemon, so that pp_alloc(c, order <= 3, count, ...) and pp_free of
 * such blocks usually cost no system call: a list that runs empty is
 * refilled by one round trip of a batch of blocks, a list above its high
 * mark spills a batch in one.  The cached blocks are owned by the
 * connection (pp_stat's held counts them, quotas charge them, pp_close and
 * the process's death return them) and the daemon takes them back when it
 * needs them, without the process doing anything.  The API is the same:
 * a pp_free of a block that is in the cache (freed already) is -EALREADY
 * without asking the daemon, as is a pp_offer or a release of one.
 */
#ifndef PAGEPOOL_H
#define PAGEPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PP_DEFAULT_SOCKET "/run/pagepool/pagepool.sock"

/* pp_alloc flags */
#define PP_NOWAIT	0x1	/* serve only from the worker's cache; -EAGAIN when empty */
#define PP_ZERO		0x2	/* zero the pages before handing them out */
#define PP_PARTIAL	0x4	/* accept fewer blocks than asked (at least one) */

struct pp_client;

struct pp_info {
	char pool[64];		/* the pool joined */
	uint32_t page_size;	/* bytes per page */
	uint64_t arena_size;	/* bytes in the pool's arena */
	uint64_t client_id;	/* this connection's id in the daemon */
	uint32_t max_count;	/* most blocks per pp_alloc */
	uint32_t max_order;	/* largest order */
	uint32_t max_frame;	/* largest message the daemon accepts */
	uint64_t quota_pages;	/* pages this connection may hold; 0 = unlimited */
	uint32_t worker;	/* daemon worker thread serving this connection */
};

struct pp_stat {
	uint64_t total, free, pcp, allocated, isolated, offline;
	uint64_t held;		/* pages held by this connection as its own */
	uint64_t shared;	/* pages of the pool in shared blocks */
	uint64_t offered;	/* pages of the pool under open offers */
	uint64_t offers;	/* open offers in the pool */
	uint64_t refs;		/* pages this connection holds by reference */
	uint64_t my_offered;	/* pages under this connection's open offers */
	/* This connection's cache (see "Cache" above), read in the process. */
	uint64_t cached;	/* pages in it now (part of held) */
	uint64_t cache_hits;	/* pp_alloc calls it served without a round trip */
	uint64_t cache_misses;	/* refills: one allocation round trip each */
	uint64_t cache_spills;	/* frees above its high mark: one round trip each */
	uint64_t cache_drains;	/* times the daemon took its pages back */
	uint64_t calls;		/* round trips on this connection so far, this one's included */
};

/* An offer's token: 16 random bytes, valid in the pool it was made in. */
#define PP_TOKEN_SIZE	16
#define PP_TOKEN_STRLEN	33	/* 32 lower-case hex digits and a NUL */
struct pp_token {
	uint8_t b[PP_TOKEN_SIZE];
};

/* pp_offer flags */
#define PP_OFFER_KEEP	0x1	/* shared offer: the giver keeps a reference */

/* pp_take *flags */
#define PP_TAKEN_SHARED	0x1	/* a read reference, not ownership */

/*
 * Connect to the daemon at `socket_path` (NULL or "": $PAGEPOOL_SOCKET if
 * set and not empty, else PP_DEFAULT_SOCKET) and join `pool` (NULL or "":
 * the default pool).  On success *out owns the connection and the arena
 * mapping.  Returns 0 or -errno (-ENOENT no such pool, -EPERM not allowed
 * into it, -ECONNREFUSED no daemon, -EPROTONOSUPPORT version, -ETIMEDOUT
 * no welcome within $PAGEPOOL_TIMEOUT_MS).  The client starts with no
 * timeout (see pp_set_timeout).
 */
int pp_connect(const char *socket_path, const char *pool, struct pp_client **out);

/* Close the connection and unmap the arena; the daemon frees what is held. */
void pp_close(struct pp_client *c);

/*
 * Bound every later call on c (pp_alloc, pp_free, pp_stat, pp_offer,
 * pp_loan, pp_take, pp_cancel): each may take
 * at most timeout_ms milliseconds, sending and waiting for the answer
 * together; 0 does not wait for an answer at all; < 0 blocks until the
 * daemon answers (the default).  A call that runs out of time returns
 * -ETIMEDOUT and breaks the client (a late answer would be taken for the
 * next one's): connect again to go on.  Returns 0, or -EINVAL for a NULL c.
 */
int pp_set_timeout(struct pp_client *c, int timeout_ms);

const struct pp_info *pp_info(const struct pp_client *c);

/*
 * Allocate `count` blocks of 2^order pages.  pfns[] receives the first page
 * number of each block and *got how many were allocated (== count unless
 * PP_PARTIAL).  Without PP_PARTIAL it is all or nothing.
 */
int pp_alloc(struct pp_client *c, unsigned order, unsigned count, unsigned flags,
	     uint32_t *pfns, unsigned *got);

/*
 * Free blocks by their first pfn.  Every pfn is checked first; one bad pfn
 * (not held by this connection, not a block's first page, listed twice)
 * fails the call and frees nothing; *bad_index (may be NULL) tells which,
 * and is n when the failure is not about one pfn.  A shared block's pfn
 * drops c's reference to it (pp_take); a block under c's own open offer is
 * -EBUSY (pp_cancel it first).
 */
int pp_free(struct pp_client *c, const uint32_t *pfns, unsigned n, unsigned *bad_index);

/*
 * Buffers that change hands (doc/DESIGN.md, "Hand-off and shared pages").
 *
 * pp_offer: offer n blocks of 2^order pages that c owns.  shares = 0 is a
 * hand-off: one taker becomes their owner.  shares = N >= 1 lets up to N
 * clients take a read reference each; PP_OFFER_KEEP keeps one for c too
 * (drop it with pp_free).  *token receives the token to pass to the taker by
 * any channel of your own.  Until the offer closes (taken, pp_cancel, or c
 * disconnects) its blocks count against c's quotas and c cannot free or
 * offer them again.  A refused block is named by *bad_index (may be NULL;
 * n when the failure is not about one block): -EINVAL (out of range, not a
 * block's first page, of another order, listed twice), -EPERM (not c's own:
 * another client's, or shared), -EALREADY (not allocated), -EBUSY (under an
 * open offer already).  -EDQUOT when c or its uid has too many offers open
 * (or, with PP_OFFER_KEEP, c's quota has no room for its own reference),
 * -EINVAL for shares above the daemon's max_offer_shares, -E2BIG.
 *
 * pp_take: take the blocks of an offer made in c's pool.  pfns[] (room for
 * max blocks; max_count is always enough) receives them, *n how many,
 * *order their order, *flags PP_TAKEN_SHARED for a read reference (free it
 * with pp_free when done; the page goes back to the pool with its last
 * holder).  Without it c owns the blocks.  -ENOENT unknown token (or
 * another pool's), -EALREADY taken already (or by c once already),
 * -ECANCELED cancelled, -EOWNERDEAD the giver disconnected and the pages are
 * gone, -EDQUOT c's quota, -EINVAL c's own offer.  -ENOBUFS: the answer
 * had more than max blocks; they ARE taken and held by c (pfns unknown to
 * the caller until pp_close releases them), so pass max >=
 * pp_info(c)->max_count.
 *
 * pp_cancel: close an open offer of c.  Blocks nobody took come back to c as
 * its own (*returned pages, may be NULL); a shared offer's blocks that were
 * taken stay with their holders.  -ENOENT not an open offer of c.
 *
 * Threads: as every call on a client (one thread at a time per client);
 * tokens are plain bytes, any thread or process may pass them around.
 */
int pp_offer(struct pp_client *c, unsigned order, const uint32_t *pfns, unsigned n,
	     unsigned shares, unsigned flags, struct pp_token *token, unsigned *bad_index);
/*
 * pp_loan: allocate `count` fresh blocks of 2^order pages and offer them in
 * one round trip (as pp_alloc, then pp_offer); pfns[] receives the blocks to
 * fill before the token is passed on.  Flags and errors as both.
 */
int pp_loan(struct pp_client *c, unsigned order, unsigned count, unsigned shares,
	    unsigned flags, uint32_t *pfns, struct pp_token *token);
int pp_take(struct pp_client *c, const struct pp_token *token, uint32_t *pfns, unsigned max,
	    unsigned *n, unsigned *order, unsigned *flags);

/*
 * pp_take_release: pp_free(release, nrelease) and pp_take in one round trip,
 * for a consumer done with its previous batch.  The release goes first; if
 * it is refused nothing is taken and *bad_index (may be NULL) names the
 * block (< nrelease), with pp_free's errors.  Otherwise *bad_index is
 * nrelease and the result is the take's: a refused take leaves the release
 * done.
 */
int pp_take_release(struct pp_client *c, const struct pp_token *token, const uint32_t *release,
		    unsigned nrelease, unsigned *bad_index, uint32_t *pfns, unsigned max,
		    unsigned *n, unsigned *order, unsigned *flags);
int pp_cancel(struct pp_client *c, const struct pp_token *token, uint64_t *returned);

/* A token as 32 hex digits (buf: PP_TOKEN_STRLEN bytes), and back: 0 or
 * -EINVAL when s is not exactly 32 hex digits. */
void pp_token_format(const struct pp_token *t, char *buf);
int pp_token_parse(const char *s, struct pp_token *t);

/* The pool's page counts as the daemon sees them, and this connection's
 * cache counters (one round trip). */
int pp_stat(struct pp_client *c, struct pp_stat *st);

/* Address of page `pfn` in this process's mapping of the arena, or NULL if
 * pfn is outside the arena.  Any client of the pool may read any page. */
void *pp_page(const struct pp_client *c, uint32_t pfn);

/* Text for a negative (or positive) errno value returned by this library. */
const char *pp_strerror(int err);

/*
 * The daemon's message for the last failed call on c ("" if none); when the
 * failure was the library's own (bad argument, protocol error, lost
 * connection) a short explanation of it.  Successful calls leave it alone.
 * pp_last_error(NULL) explains why the calling thread's last pp_connect()
 * failed ("" if it succeeded).
 */
const char *pp_last_error(const struct pp_client *c);

#ifdef __cplusplus
}
#endif

#endif
