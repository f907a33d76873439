/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_admin.h - the admin socket of a fixture's daemon, spoken raw: the
 * socket at DIR/admin.sock (a test's config says admin_socket =
 * @DIR@/admin.sock), one request and its answer on a raw connection, and
 * the questions the tests ask most: verify, drains of client caches, a
 * pool's counts, what `clients` says of one client, offline and online of
 * a range.
 *
 * Everything here asserts through cmocka (never call it in a forked
 * child): a round trip that fails, or an answer with another id, fails the
 * test.  What an answer says is asserted only where the contract below
 * says so; the rest is handed back for the test to judge.
 */
#ifndef PP_BB_ADMIN_H
#define PP_BB_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bb_conn.h"
#include "bb_fixture.h"
#include "bb_msg.h"

#define BB_ADMIN_MAX_STUCK	16	/* stuck client ids kept of a drain */

/* The admin socket's path, DIR/admin.sock, into buf[len]. */
void bb_admin_path(const struct bb *f, char *buf, size_t len);

/* A raw connection to the admin socket in a fixture slot (closed at
 * teardown, or earlier by bb_conn_close); asserts it connected. */
struct bb_conn *bb_admin_open(struct bb *f);

/* The next admin request id (one counter for the process): for a request
 * a test sends itself rather than through bb_admin_rpc. */
uint64_t bb_admin_next_id(void);

/*
 * One admin request: q->id is set to the next id, the answer received.
 * Asserts that the round trip worked and that the answer echoes the id,
 * nothing of its status.  The caller frees the answer (bb_admin_free).
 */
bb_admin_response *bb_admin_rpc(struct bb_conn *a, bb_admin_request *q);

/* Free an answer of bb_admin_rpc or bb_admin_call (NULL is fine). */
void bb_admin_free(bb_admin_response *r);

/* bb_admin_rpc for its status only: the answer's status (freed). */
int bb_admin_status_of(struct bb_conn *a, bb_admin_request *q);

/*
 * The admin verify of every pool: asserts status OK, an AdminVerified
 * listing `npools` pools (0: any number but none), and every one of them
 * ok (fail_msg names the first that is not).
 */
void bb_admin_verify(struct bb_conn *a, size_t npools);

/* What an AdminDrained said, copied out of the answer. */
struct bb_admin_drained {
	int status;			/* the answer's status */
	bool body;			/* an AdminDrained came (the rest is 0 if not) */
	char error[200];		/* the answer's error text */
	char mode[16];
	uint64_t pages, usec, bad;
	uint32_t clients;		/* caches drained */
	size_t nstuck;			/* all of them, even past the first
					 * BB_ADMIN_MAX_STUCK kept in stuck[] */
	uint64_t stuck[BB_ADMIN_MAX_STUCK];
	int64_t ms;			/* the round trip as the test saw it */
};

/* Build in q (and d, its body) a drain of client caches: of `pool` ("" or
 * NULL: every pool), or of client_id alone when it is not 0.  q->id is
 * left 0. */
void bb_admin_drain_req(bb_admin_request *q, Pagepool__V1__AdminDrainReq *d, const char *pool,
			uint64_t client_id);

/* Copy an answer to a drain into the struct (ms left 0). */
struct bb_admin_drained bb_admin_drained_of(const bb_admin_response *r);

/* A drain of client caches (bb_admin_drain_req) as one round trip: what it
 * answered, its status not asserted, and how long it took. */
struct bb_admin_drained bb_admin_drain_clients(struct bb_conn *a, const char *pool,
					       uint64_t client_id);

/* A drain of the pcplists of `pool` ("" or NULL: every pool) in `mode`
 * (NULL: the pool's own), forced or not; and a trim of `pool` ("" or NULL:
 * every pool).  Each is one round trip; the answer's status is returned. */
int bb_admin_drain_pcps(struct bb_conn *a, const char *pool, const char *mode, bool force);
int bb_admin_trim(struct bb_conn *a, const char *pool);

/* A pool's counts from the admin status. */
struct bb_admin_counts {
	uint64_t total, free, pcp, allocated, isolated, offline, cached;
};

/*
 * The counts of `pool` from the admin status: asserts status OK, an
 * AdminStatusInfo that lists the pool, and that its total is the sum of
 * free, pcp, allocated, isolated and offline.  The status reads the
 * counters without locks (pool_counts): for an instant a block on its way
 * between a pcplist and the buddy allocator counts in both, and allocated,
 * derived from the rest, reads 0.  Such a snapshot is read again, up to
 * BB_ADMIN_COUNTS_TRIES times a millisecond apart; the sum must hold in one.
 */
#define BB_ADMIN_COUNTS_TRIES	100
struct bb_admin_counts bb_admin_pool_counts(struct bb_conn *a, const char *pool);

/* Poll bb_admin_pool_counts (every millisecond) until `pool` has
 * `allocated` pages allocated; asserts it does within timeout_ms, and
 * returns the last counts. */
struct bb_admin_counts bb_admin_settle(struct bb_conn *a, const char *pool, uint64_t allocated,
				       int timeout_ms);

/* What admin `clients` says of one client. */
struct bb_admin_client {
	bool found;			/* listed (the rest is 0 if not) */
	int32_t pid;
	uint64_t pages, ref_pages, offered_pages;
	uint32_t offers;
	uint64_t cached, drains, errors, stuck;	/* its cache: ClientInfo.cached,
						 * cache_drains, _errors, _stuck */
};

/* Admin `clients`, client `id` picked out: asserts status OK and an
 * AdminClients; found false when it is not listed. */
struct bb_admin_client bb_admin_client_find(struct bb_conn *a, uint64_t id);

/* bb_admin_client_find that also asserts the client is listed. */
struct bb_admin_client bb_admin_client_info(struct bb_conn *a, uint64_t id);

/* Poll admin `clients` (every millisecond) until client `id` is no longer
 * listed; fails the test if it still is after timeout_ms. */
void bb_admin_client_gone(struct bb_conn *a, uint64_t id, int timeout_ms);

/* Offline (off) or online of [start, start + count) of `pool`: the answer,
 * whatever its status (bb_admin_free it). */
bb_admin_response *bb_admin_range(struct bb_conn *a, bool off, const char *pool,
				  uint32_t start, uint32_t count);

/* bb_admin_range that asserts status OK (and frees the answer). */
void bb_admin_range_ok(struct bb_conn *a, bool off, const char *pool, uint32_t start,
		       uint32_t count);

#endif
