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
	} u;
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

#endif
