/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn_req.h - what a client can ask (conn.c frames and decodes; this
 * answers): hello (join a pool and get its arena), alloc, free, stat.  Each
 * request fills one Response in a struct conn_reply, or asks to be parked
 * until a reclaim drain is done (reclaim.h).  A request that decodes but is
 * wrong gets an error status and a line of text; the connection stays
 * usable.
 *
 * Thread rules: the worker thread that owns the connection, inside its
 * callbacks (online as a QSBR reader).
 */
#ifndef PP_CONN_REQ_H
#define PP_CONN_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "share.h"
#include "wire.h"

struct conn;

/* A response under construction: status, text, and the body chosen. */
struct conn_reply {
	wire_response r;
	char text[160];
	int fd;				/* SCM_RIGHTS to attach, -1 if none */
	bool park;			/* no answer yet: wait for a reclaim drain */
	union {				/* the body r points at */
		Pagepool__V1__Welcome welcome;
		Pagepool__V1__Pages pages;
		Pagepool__V1__Freed freed;
		Pagepool__V1__PoolStat stat;
		Pagepool__V1__Offered offered;
		Pagepool__V1__Taken taken;
		Pagepool__V1__Cancelled cancelled;
		Pagepool__V1__CacheMapped cache_mapped;
	} u;
	uint8_t token[16];		/* Offered.token points here */
};

/* An empty OK answer to request `id`: no fd, not parked. */
void conn_req_init(struct conn_reply *rp, uint64_t id);

/* Make rp a refusal: status from errno value `err`, the text from fmt. */
void conn_req_err(struct conn_reply *rp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Answer req for c into rp (initialised with req's id).  Sets rp->park
 * instead of answering when an allocation should wait for a reclaim drain;
 * run again once it is done (c->park_ticket set), it never parks.
 */
void conn_req_run(struct conn *c, const wire_request *req, struct conn_reply *rp);

/* ---- shared by conn_req.c and conn_share.c (offer, take, cancel) ---- */

struct Pagepool__V1__Alloc;

/* Check the connection and uid quotas for `pages` more and charge the uid;
 * 0, or -EDQUOT answered in rp. */
int conn_charge(struct conn *c, uint64_t pages, struct conn_reply *rp);

/* pool_alloc() into the worker's scratch, with the reclaim rules of
 * reclaim.h: -EINPROGRESS means park the request. */
int conn_alloc(struct conn *c, const struct Pagepool__V1__Alloc *a, unsigned *got);

/* Count an allocation's answer (an Alloc's or a loan's) in the worker's
 * metrics: by pool, order and result. */
void conn_count_alloc(struct conn *c, unsigned order, const struct conn_reply *rp);

/* Answer an allocation failure (ret from conn_alloc) in rp. */
void conn_alloc_err(struct conn *c, int ret, unsigned count, unsigned order,
		    struct conn_reply *rp);

/* n blocks of `order` as runs in the worker's freebuf when shorter (and
 * FEATURE_RUNS is granted): true and *runs, *nruns set. */
bool conn_runs(struct conn *c, const uint32_t *pfns, size_t n, unsigned order,
	       uint32_t **runs, size_t *nruns);

/* A list of blocks: pfns then runs (first, n) of 2^run_order steps,
 * expanded into the worker's freebuf; 0 with *out, *n, or an error in rp. */
int conn_block_list(struct conn *c, const uint32_t *pfns, size_t npfns, const uint32_t *runs,
		    size_t nruns, unsigned run_order, const uint32_t **out, size_t *n,
		    struct conn_reply *rp);

/* pool_free() for c with the quota uncharged; a refusal answered in rp
 * (text prefixed with `what`, bad_index set).  *pages: pages c let go. */
int conn_free_blocks(struct conn *c, const uint32_t *pfns, size_t n, const char *what,
		     uint64_t *pages, struct conn_reply *rp);

/* The limits of offers and takes for c now. */
void conn_share_limits(struct conn *c, struct share_limits *lim);

/* conn_share.c */
void conn_offer(struct conn *c, const Pagepool__V1__Offer *of, struct conn_reply *rp);
void conn_take(struct conn *c, const Pagepool__V1__Take *t, struct conn_reply *rp);
void conn_cancel(struct conn *c, const Pagepool__V1__Cancel *cl, struct conn_reply *rp);

#endif
