/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * frame.c - see frame.h.
 */
#include <errno.h>
#include <event2/buffer.h>

#include "frame.h"
#include "wire.h"

ProtobufCMessage *frame_take(struct evbuffer *in, uint32_t max,
			     const ProtobufCMessageDescriptor *desc, int *err)
{
	ProtobufCMessage *msg;
	uint8_t hdr[WIRE_HDR], *body;
	uint32_t len;

	*err = 0;
	if (evbuffer_copyout(in, hdr, WIRE_HDR) < WIRE_HDR)
		return NULL;
	len = wire_frame_len(hdr);
	*err = wire_check_len(len, max);
	if (*err < 0 || evbuffer_get_length(in) < WIRE_HDR + (size_t)len)
		return NULL;
	evbuffer_drain(in, WIRE_HDR);
	/* evbuffer_pullup(in, 0) returns NULL: an empty body needs no bytes. */
	body = len ? evbuffer_pullup(in, len) : NULL;
	msg = body || !len ? wire_unpack(desc, body, len) : NULL;
	evbuffer_drain(in, len);
	if (!msg)
		*err = -EBADMSG;
	return msg;
}

const char *frame_strerror(int err)
{
	switch (err) {
	case -E2BIG: return "frame larger than max_frame";
	default: return "malformed request (does not decode)";
	}
}
