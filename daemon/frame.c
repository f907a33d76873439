/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * frame.c - see frame.h.
 */
#include <errno.h>
#include <event2/buffer.h>

#include "frame.h"
#include "wire.h"

ProtobufCMessage *frame_take_buf(const uint8_t *buf, size_t len, uint32_t max,
				 const ProtobufCMessageDescriptor *desc, size_t *used, int *err)
{
	ProtobufCMessage *msg;
	uint32_t flen;

	*used = 0;
	*err = 0;
	if (len < WIRE_HDR)
		return NULL;
	flen = wire_frame_len(buf);
	*err = wire_check_len(flen, max);
	if (*err < 0 || len - WIRE_HDR < flen)
		return NULL;
	*used = WIRE_HDR + (size_t)flen;
	msg = wire_unpack(desc, flen ? buf + WIRE_HDR : NULL, flen);
	if (!msg)
		*err = -EBADMSG;
	return msg;
}

ProtobufCMessage *frame_take(struct evbuffer *in, uint32_t max,
			     const ProtobufCMessageDescriptor *desc, int *err)
{
	ProtobufCMessage *msg;
	uint8_t hdr[WIRE_HDR];
	size_t len, used;

	*err = 0;
	if (evbuffer_copyout(in, hdr, WIRE_HDR) < WIRE_HDR)
		return NULL;
	len = WIRE_HDR + (size_t)wire_frame_len(hdr);
	*err = wire_check_len(wire_frame_len(hdr), max);
	if (*err < 0 || evbuffer_get_length(in) < len)
		return NULL;
	/* One contiguous frame: header and body. */
	msg = frame_take_buf(evbuffer_pullup(in, (ssize_t)len), len, max, desc, &used, err);
	evbuffer_drain(in, used);
	return msg;
}

const char *frame_strerror(int err)
{
	switch (err) {
	case -E2BIG: return "frame larger than max_frame";
	default: return "malformed request (does not decode)";
	}
}
