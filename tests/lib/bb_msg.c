/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_msg.c - messages of the black-box tests (see bb_msg.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bb_msg.h"

bb_request *bb_req_none(struct bb_req *q, uint64_t id)
{
	memset(q, 0, sizeof(*q));
	pagepool__v1__request__init(&q->r);
	q->r.id = id;
	return &q->r;
}

bb_request *bb_req_hello(struct bb_req *q, uint64_t id, uint32_t version, const char *pool)
{
	bb_req_none(q, id);
	pagepool__v1__hello__init(&q->hello);
	q->hello.version = version;
	q->hello.pool = (char *)(pool ? pool : "");
	q->r.body_case = PAGEPOOL__V1__REQUEST__BODY_HELLO;
	q->r.hello = &q->hello;
	return &q->r;
}

bb_request *bb_req_alloc(struct bb_req *q, uint64_t id, uint32_t order, uint32_t count,
			 uint32_t flags)
{
	bb_req_none(q, id);
	pagepool__v1__alloc__init(&q->alloc);
	q->alloc.order = order;
	q->alloc.count = count;
	q->alloc.flags = flags;
	q->r.body_case = PAGEPOOL__V1__REQUEST__BODY_ALLOC;
	q->r.alloc = &q->alloc;
	return &q->r;
}

bb_request *bb_req_free(struct bb_req *q, uint64_t id, const uint32_t *pfns, size_t n)
{
	bb_req_none(q, id);
	pagepool__v1__free__init(&q->free);
	q->free.n_pfns = n;
	q->free.pfns = (uint32_t *)pfns;
	q->r.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	q->r.free = &q->free;
	return &q->r;
}

bb_request *bb_req_stat(struct bb_req *q, uint64_t id)
{
	bb_req_none(q, id);
	pagepool__v1__stat__init(&q->stat);
	q->r.body_case = PAGEPOOL__V1__REQUEST__BODY_STAT;
	q->r.stat = &q->stat;
	return &q->r;
}

void bb_resp_free(bb_response *r)
{
	if (r)
		pagepool__v1__response__free_unpacked(r, NULL);
}

const char *bb_status_name(int status)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&pagepool__v1__status__descriptor, status);

	return v ? v->name : "?";
}

void bb_buf_add(struct bb_buf *b, const void *data, size_t len)
{
	if (b->cap - b->len < len) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *np;

		while (cap - b->len < len)
			cap *= 2;
		np = realloc(b->p, cap);
		assert_non_null(np);
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

void bb_buf_add_be32(struct bb_buf *b, uint32_t v)
{
	uint8_t h[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	bb_buf_add(b, h, 4);
}

void bb_buf_add_msg(struct bb_buf *b, const ProtobufCMessage *m, const void *extra,
		    size_t extralen)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *tmp = malloc(len + 1);

	assert_non_null(tmp);
	assert_int_equal(protobuf_c_message_pack(m, tmp), len);
	bb_buf_add_be32(b, (uint32_t)(len + extralen));
	bb_buf_add(b, tmp, len);
	if (extralen)
		bb_buf_add(b, extra, extralen);
	free(tmp);
}

void bb_buf_free(struct bb_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
