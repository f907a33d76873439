/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport.h - the one client-side request loop of pagepool: connect to a
 * daemon socket, frame and send messages, receive frames (with a passed fd)
 * and match answers to requests.  Built on wire.h's framing; used by
 * libpagepool, pagepoolctl, the tests, the stress test and the benchmarks,
 * for the client protocol (Request/Response) and the admin protocol
 * (AdminRequest/AdminResponse) alike: a message type is named by its
 * protobuf-c descriptor, and the `id`, `status` and `error` fields both
 * protocols share are found through it.
 *
 * Errors are negative errno values, with words for the last one in
 * t->error.  A transport failure (-ECONNRESET at EOF, -EPROTO for a frame
 * that is truncated, oversized, undecodable or answers another request,
 * -ETIMEDOUT, any other -errno) marks the transport broken: every later call
 * fails with -ECONNRESET.  A refusal by the daemon (status != OK) does not.
 * EINTR is retried; SIGPIPE is never raised (MSG_NOSIGNAL).  Nothing here
 * prints or exits.  One transport is used by one thread at a time.
 */
#ifndef PP_TRANSPORT_H
#define PP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#define TRANSPORT_RBUF	4096	/* read-ahead: a small answer costs one recvmsg */
#define TRANSPORT_ERRLEN 256

struct pp_transport {
	int fd;				/* -1 when closed */
	uint32_t max_frame;		/* frames above it refused, both ways */
	int timeout_ms;			/* per call (send + receive); < 0 never */
	uint64_t next_id;		/* transport_next_id() hands these out */
	bool broken;
	size_t rstart, rend;		/* read-ahead window in rbuf */
	int rfd;			/* an fd that came with rbuf[rend - 1], or -1:
					 * it goes to the frame holding that byte */
	uint8_t rbuf[TRANSPORT_RBUF];
	char error[TRANSPORT_ERRLEN];	/* the last failure or refusal, in words */
};

/*
 * Connect to the UNIX socket `path`.  0, or -errno: -ECONNREFUSED when
 * nobody listens (the socket file is missing included), -ENAMETOOLONG,
 * -ETIMEDOUT.  max_frame starts at WIRE_MAX_FRAME_DEFAULT, timeout_ms at
 * `timeout_ms`, next_id at 1.  On failure t is closed (fd -1).
 */
int transport_connect(struct pp_transport *t, const char *path, int timeout_ms);

/* Wrap a connected stream socket (a socketpair, an inherited fd); t owns it. */
void transport_init_fd(struct pp_transport *t, int fd, int timeout_ms);

/* Close the socket (if open); t may be connected again. */
void transport_close(struct pp_transport *t);

/* The id for the next request on t (1, 2, ...). */
uint64_t transport_next_id(struct pp_transport *t);

/*
 * Frame `msg` and send it whole.  0, -E2BIG (larger than max_frame; nothing
 * sent, t not broken), -ENOMEM, or a transport failure.
 */
int transport_send(struct pp_transport *t, const ProtobufCMessage *msg);

/*
 * Receive one frame and unpack it as a `desc` message into *out (free with
 * protobuf_c_message_free_unpacked(*out, NULL)).  A zero-length frame is a
 * valid all-default message.  fd_out (may be NULL): the first fd passed with
 * the frame's bytes, or -1 (others are closed); the caller owns it.
 * 0 or a transport failure (*out NULL).
 */
int transport_recv(struct pp_transport *t, const ProtobufCMessageDescriptor *desc,
		   ProtobufCMessage **out, int *fd_out);

/*
 * One round trip: send `req` (whose `id` field the caller set, usually to
 * transport_next_id()), receive one `resp_desc` message, and check it
 * answers req: the same id - or id 0 with an error status, the daemon's last
 * word before it closes (then t is broken too).  Returns 0 when the status
 * is OK; -status when the daemon refused (its error text in t->error); a
 * transport failure otherwise.  *out is set whenever an answer to req came
 * (0 or -status: the caller may read its body, e.g. a bad index or a list
 * of holders, and frees it), NULL on a transport failure.
 */
int transport_call(struct pp_transport *t, const ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **out,
		   int *fd_out);

/* The `id` / `status` fields of a request or response of either protocol. */
uint64_t transport_msg_id(const ProtobufCMessage *msg);
int transport_msg_status(const ProtobufCMessage *msg);

#endif
