/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * frame.h - take the next framed protobuf message off an input buffer: the
 * daemon's side of proto/wire.h, shared by client connections (conn.c, a
 * flat buffer of their own) and admin connections (admin.c, a libevent
 * input buffer).
 */
#ifndef PP_FRAME_H
#define PP_FRAME_H

#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

struct evbuffer;

/*
 * Decode the next complete frame in `in` as a `desc` message and remove it
 * from the buffer.  Returns the message (free with protobuf_c_message_free_
 * unpacked), or NULL with *err = 0 when the frame is not complete yet, or
 * NULL with *err = -E2BIG (length above max) or -EBADMSG (the body does not
 * decode; it is consumed).  The length is checked before anything is
 * allocated.  A frame of length 0 is the default message (id 0, no body),
 * which the caller answers like any other request.
 */
ProtobufCMessage *frame_take(struct evbuffer *in, uint32_t max,
			     const ProtobufCMessageDescriptor *desc, int *err);

/*
 * frame_take() on the `len` bytes at `buf`: the same results, and *used is
 * set to the bytes the frame took (0 when it is incomplete or too long).
 */
ProtobufCMessage *frame_take_buf(const uint8_t *buf, size_t len, uint32_t max,
				 const ProtobufCMessageDescriptor *desc, size_t *used, int *err);

/* Words for a frame_take() error, for the last response before closing. */
const char *frame_strerror(int err);

#endif
