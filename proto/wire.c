/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wire.c - framing and strict decoding (see wire.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int wire_check_len(uint32_t len, uint32_t max)
{
	return len > max ? -E2BIG : 0;
}

ProtobufCMessage *wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *body,
			      size_t len)
{
	/* protobuf-c reads nothing for len 0, but NULL + 0 is still undefined
	 * behaviour in C (and UBSan says so): hand it a real address. */
	static const uint8_t none[1];

	return protobuf_c_message_unpack(desc, NULL, len, len ? body : none);
}

int wire_encode(const ProtobufCMessage *msg, uint32_t max, uint8_t **out, size_t *outlen)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf;

	if (len > max)
		return -E2BIG;
	buf = malloc(WIRE_HDR + len);
	if (!buf)
		return -ENOMEM;
	wire_put_hdr(buf, (uint32_t)len);
	protobuf_c_message_pack(msg, buf + WIRE_HDR);
	*out = buf;
	*outlen = WIRE_HDR + len;
	return 0;
}

wire_response *wire_response_decode(const uint8_t *body, size_t len)
{
	return (wire_response *)wire_unpack(&pagepool__v1__response__descriptor, body, len);
}

void wire_request_free(wire_request *req)
{
	if (req)
		pagepool__v1__request__free_unpacked(req, NULL);
}

void wire_response_free(wire_response *resp)
{
	if (resp)
		pagepool__v1__response__free_unpacked(resp, NULL);
}

/* Unknown fields anywhere in the message tree. */
int wire_has_unknown_fields(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;

	if (msg->n_unknown_fields)
		return 1;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const ProtobufCMessage *sub;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		/* A oneof member is only valid when its case is the one set. */
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)((const char *)msg + f->quantifier_offset) != f->id)
			continue;
		sub = *(const ProtobufCMessage *const *)((const char *)msg + f->offset);
		if (sub && wire_has_unknown_fields(sub))
			return 1;
	}
	return 0;
}

int wire_status_from_errno(int err)
{
	if (err > 0 && protobuf_c_enum_descriptor_get_value(&pagepool__v1__status__descriptor, err))
		return err;
	return EINVAL;
}

const char *wire_status_name(int status)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&pagepool__v1__status__descriptor, status);

	return v ? v->name : "UNKNOWN";
}

/* ---- the hot messages, by hand (see wire.h) ---------------------------------- */

/* Request field 1 (id, varint), field 4 (free, bytes); Free field 1 (pfns,
 * packed); Response field 1 (id), field 6 (pages, bytes); Pages field 1
 * (pfns, packed), field 2 (order, varint). */
#define TAG_REQ_ID	0x08
#define TAG_REQ_FREE	0x22
#define TAG_PFNS	0x0a
#define TAG_RESP_ID	0x08
#define TAG_RESP_PAGES	0x32
#define TAG_ORDER	0x10

/* A varint of at most `maxb` bytes at *p (before end): true and *v. */
static inline bool fast_varint(const uint8_t **p, const uint8_t *end, unsigned maxb, uint64_t *v)
{
	const uint8_t *q = *p;
	uint64_t r = 0;

	for (unsigned i = 0; i < maxb && q < end; i++) {
		uint8_t b = *q++;

		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*p = q;
			*v = r;
			return true;
		}
	}
	return false;
}

/* A uint32 varint (at most 5 bytes, value below 2^32) at *p: unrolled
 * while 5 bytes remain, else by fast_varint. */
static inline bool fast_u32(const uint8_t **pp, const uint8_t *end, uint32_t *v)
{
	const uint8_t *p = *pp;
	uint64_t w;
	uint32_t r;

	if (end - p < 5) {
		if (!fast_varint(pp, end, 5, &w) || w > UINT32_MAX)
			return false;
		*v = (uint32_t)w;
		return true;
	}
	r = p[0] & 0x7f;
	if (p[0] & 0x80) {
		r |= (uint32_t)(p[1] & 0x7f) << 7;
		if (p[1] & 0x80) {
			r |= (uint32_t)(p[2] & 0x7f) << 14;
			if (p[2] & 0x80) {
				r |= (uint32_t)(p[3] & 0x7f) << 21;
				if (p[3] & 0x80) {
					/* The 5th byte: 4 more bits, no continuation. */
					if (p[4] & 0xf0)
						return false;
					r |= (uint32_t)p[4] << 28;
					p++;
				}
				p++;
			}
			p++;
		}
		p++;
	}
	*pp = p + 1;
	*v = r;
	return true;
}

bool wire_fast_free_decode(const uint8_t *body, size_t len, uint64_t *id, uint32_t *pfns,
			   size_t max, size_t *n)
{
	const uint8_t *p = body, *end = body + len, *fend;
	uint64_t v, flen, plen;
	size_t k = 0;

	*id = 0;
	if (len == 0)
		return false;
	if (*p == TAG_REQ_ID) {
		p++;
		/* 9 bytes: every id below 2^63, no question of truncation. */
		if (!fast_varint(&p, end, 9, &v))
			return false;
		*id = v;
	}
	if (p == end || *p++ != TAG_REQ_FREE)
		return false;
	if (!fast_varint(&p, end, 5, &flen) || flen != (uint64_t)(end - p))
		return false;
	/* The Free: exactly one packed list, filling it. */
	if (flen == 0 || *p++ != TAG_PFNS)
		return false;
	if (!fast_varint(&p, end, 5, &plen) || plen != (uint64_t)(end - p))
		return false;
	fend = end;
	while (p < fend) {
		if (k == max)
			return false;
		/* At most 5 bytes, and the 5th below 0x10: the value fits 32
		 * bits as it is, where protobuf-c would truncate. */
		if (!fast_u32(&p, fend, &pfns[k]))
			return false;
		k++;
	}
	*n = k;
	return true;
}

static inline size_t fast_varint_size(uint64_t v)
{
	/* 1 byte per 7 bits, at least 1. */
	return v ? (size_t)(63 - __builtin_clzll(v)) / 7 + 1 : 1;
}

static inline uint8_t *fast_put_u32(uint8_t *p, uint32_t v)
{
	if (v < 1u << 7) {
		p[0] = (uint8_t)v;
		return p + 1;
	}
	if (v < 1u << 14) {
		p[0] = (uint8_t)(v | 0x80);
		p[1] = (uint8_t)(v >> 7);
		return p + 2;
	}
	if (v < 1u << 21) {
		p[0] = (uint8_t)(v | 0x80);
		p[1] = (uint8_t)(v >> 7 | 0x80);
		p[2] = (uint8_t)(v >> 14);
		return p + 3;
	}
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint8_t *fast_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

size_t wire_fast_pages_pack(uint8_t *out, uint64_t id, const uint32_t *pfns, size_t n,
			    uint32_t order)
{
	uint8_t hdr[WIRE_FAST_PAGES_HEAD], *p, *list = out + WIRE_FAST_PAGES_HEAD;
	size_t llen, plen, hlen;

	/* The list first, where the longest head would end; then the head,
	 * whose lengths depend on it, and the list moved up to it. */
	p = list;
	for (size_t i = 0; i < n; i++)
		p = fast_put_u32(p, pfns[i]);
	llen = (size_t)(p - list);
	plen = (n ? 1 + fast_varint_size(llen) + llen : 0) +
	       (order ? 1 + fast_varint_size(order) : 0);
	p = hdr;
	if (id) {
		*p++ = TAG_RESP_ID;
		p = fast_put_varint(p, id);
	}
	*p++ = TAG_RESP_PAGES;
	p = fast_put_varint(p, plen);
	if (n) {
		*p++ = TAG_PFNS;
		p = fast_put_varint(p, llen);
	}
	hlen = (size_t)(p - hdr);
	memcpy(out, hdr, hlen);
	memmove(out + hlen, list, llen);
	p = out + hlen + llen;
	if (order) {
		*p++ = TAG_ORDER;
		p = fast_put_varint(p, order);
	}
	return (size_t)(p - out);
}
