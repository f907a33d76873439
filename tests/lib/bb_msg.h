/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_msg.h - messages of the black-box tests, built without any I/O:
 * requests of the client protocol (struct bb_req and its builders), the
 * status names and the assertion on a response's status, and struct bb_buf,
 * a byte buffer for input a test sends raw: pipelined frames, frames with
 * extra bytes inside the body, broken ones.
 */
#ifndef PP_BB_MSG_H
#define PP_BB_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "pagepool.pb-c.h"

typedef Pagepool__V1__Request bb_request;
typedef Pagepool__V1__Response bb_response;
typedef Pagepool__V1__AdminRequest bb_admin_request;
typedef Pagepool__V1__AdminResponse bb_admin_response;

/* One request and the body it points to. */
struct bb_req {
	Pagepool__V1__Request r;
	Pagepool__V1__Hello hello;
	Pagepool__V1__Alloc alloc;
	Pagepool__V1__Free free;
	Pagepool__V1__Stat stat;
};

/* Fill q with a request and return it (q->r): no body, hello, alloc, free
 * (pfns is borrowed, not copied), stat. */
bb_request *bb_req_none(struct bb_req *q, uint64_t id);
bb_request *bb_req_hello(struct bb_req *q, uint64_t id, uint32_t version, const char *pool);
bb_request *bb_req_alloc(struct bb_req *q, uint64_t id, uint32_t order, uint32_t count,
			 uint32_t flags);
bb_request *bb_req_free(struct bb_req *q, uint64_t id, const uint32_t *pfns, size_t n);
bb_request *bb_req_stat(struct bb_req *q, uint64_t id);

/* Free a response (NULL is fine). */
void bb_resp_free(bb_response *r);

/* The schema's name of a status ("?" for none). */
const char *bb_status_name(int status);

/* Assert a response's status, saying what came instead. */
#define bb_assert_status(resp, want) do {						\
	const bb_response *_r = (resp);							\
	int _w = (want);								\
	if ((int)_r->status != _w)							\
		print_error("response id %llu: status %s (%d) \"%s\", expected %s (%d)\n", \
			    (unsigned long long)_r->id, bb_status_name(_r->status),	\
			    (int)_r->status, _r->error ? _r->error : "",		\
			    bb_status_name(_w), _w);					\
	assert_int_equal((int)_r->status, _w);						\
} while (0)

/* A growable byte buffer for building pipelined or broken input.  Start it
 * zeroed ({ 0 }); release it with bb_buf_free.  Allocation failures assert. */
struct bb_buf {
	uint8_t *p;
	size_t len, cap;
};

void bb_buf_add(struct bb_buf *b, const void *data, size_t len);
void bb_buf_add_be32(struct bb_buf *b, uint32_t v);

/* Append one message, framed: big-endian length, then the packed bytes.
 * `extra` (may be NULL) is appended to the message body inside the frame:
 * the frame's length counts it. */
void bb_buf_add_msg(struct bb_buf *b, const ProtobufCMessage *m, const void *extra,
		    size_t extralen);
void bb_buf_free(struct bb_buf *b);

#endif
