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
 * share one socket); the child should connect on its own.
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
	uint64_t held;		/* pages held by this connection */
};

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
 * Bound every later call on c (pp_alloc, pp_free, pp_stat): each may take
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
 * and is n when the failure is not about one pfn.
 */
int pp_free(struct pp_client *c, const uint32_t *pfns, unsigned n, unsigned *bad_index);

/* The pool's page counts as the daemon sees them. */
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
