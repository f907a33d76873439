/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wire.h - the one place that frames and decodes pagepool messages, shared
 * by the daemon and libpagepool.
 *
 * A frame is a 4-byte big-endian length followed by that many bytes of one
 * protobuf message (proto/pagepool.proto).  Lengths are checked against the
 * caller's maximum before anything is allocated; a failed unpack is a
 * protocol error (-EPROTO), never -ENOMEM.  A length of 0 is a valid frame:
 * a message whose fields are all at their defaults (a request or answer
 * with id 0, status OK and no body) packs to no bytes.  Nothing here does
 * I/O.
 */
#ifndef PP_WIRE_H
#define PP_WIRE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "pagepool.pb-c.h"

#define WIRE_VERSION	1
#define WIRE_HDR	4
#define WIRE_MAX_FRAME_DEFAULT	(64 * 1024)

typedef Pagepool__V1__Request wire_request;
typedef Pagepool__V1__Response wire_response;

/* Body length of a frame whose 4 header bytes are `hdr`. */
static inline uint32_t wire_frame_len(const uint8_t *hdr)
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

/* Write the 4 header bytes of a frame of `len` body bytes at hdr. */
static inline void wire_put_hdr(uint8_t *hdr, uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

/* Check a frame length: 0, or -E2BIG above `max`.  0 itself is valid. */
int wire_check_len(uint32_t len, uint32_t max);

/*
 * Unpack a frame body of `len` bytes as a `desc` message (free with
 * protobuf_c_message_free_unpacked).  NULL on malformed input (treat as
 * -EPROTO).  An empty body decodes as the default message; `body` may then
 * be NULL (an evbuffer_pullup or malloc of 0 bytes may give NULL).
 */
ProtobufCMessage *wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *body,
			      size_t len);

/*
 * Frame `msg` into a new buffer (header + body); *out is malloc'd and owned by
 * the caller.  0, -E2BIG when the body would exceed `max`, -ENOMEM.
 */
int wire_encode(const ProtobufCMessage *msg, uint32_t max, uint8_t **out, size_t *outlen);

/* Decode a response body with wire_unpack (the daemon decodes requests
 * straight off its input buffers: daemon/frame.c).  NULL on malformed input
 * (treat as -EPROTO).  Free with wire_response_free; requests with
 * wire_request_free. */
wire_response *wire_response_decode(const uint8_t *body, size_t len);
void wire_request_free(wire_request *req);
void wire_response_free(wire_response *resp);

/* Does the decoded message carry fields this version does not know?  The
 * daemon refuses those (strict parsing) with EPROTO. */
int wire_has_unknown_fields(const ProtobufCMessage *msg);

/*
 * The hot messages of large batches, without protobuf-c's generic walk (two
 * size passes, an allocation and a copy per packed list).  Both produce or
 * accept exactly what protobuf-c does for these shapes; anything else is
 * left to protobuf-c, so they change no behaviour, only its cost.
 *
 * wire_fast_free_decode: a Request body that is exactly `id` (optional,
 * first) then a Free holding one packed list of pfns, each varint at most 5
 * bytes and below 2^32, with at most `max` pfns: true and *id, pfns[],
 * *n set.  false for anything else (another body, unknown fields, fields
 * out of order or repeated, a longer list): decode it with wire_unpack.
 *
 * wire_fast_pages_pack: the body of Response{id, status OK, Pages{pfns,
 * order}}, byte for byte what protobuf-c packs, in one pass: out must have
 * room for wire_fast_pages_max(n) bytes.  Returns the body's length.
 */
bool wire_fast_free_decode(const uint8_t *body, size_t len, uint64_t *id, uint32_t *pfns,
			   size_t max, size_t *n);

/* Id tag + 10, pages tag + 5, list tag + 5 (a list is below 2^32 bytes). */
#define WIRE_FAST_PAGES_HEAD	(1 + 10 + 1 + 5 + 1 + 5)

static inline size_t wire_fast_pages_max(size_t n)
{
	/* The head, 5 bytes a pfn, the order's tag and varint. */
	return WIRE_FAST_PAGES_HEAD + 5 * n + 1 + 5;
}

size_t wire_fast_pages_pack(uint8_t *out, uint64_t id, const uint32_t *pfns, size_t n,
			    uint32_t order);

/* Statuses are errno numbers.  An errno the schema has no status for maps
 * to EINVAL (never to OK). */
int wire_status_from_errno(int err);	/* err > 0 */
const char *wire_status_name(int status);

#endif
