/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_conn.h - raw connections of the black-box tests: a socket to the
 * daemon that the test writes bytes to as it likes (well-formed, pipelined,
 * broken) and reads answers from through the one client request loop,
 * proto/transport.h.  The harness has no frame reader of its own: every
 * answer is received by transport_recv, so a test sees the daemon exactly
 * as libpagepool and pagepoolctl do.
 *
 * Writes are raw (bb_conn_send: bytes in, no framing) or one message framed
 * by the transport (bb_conn_send_msg).  A raw write never breaks the
 * transport: a test may still read the daemon's last word after its write
 * failed with EPIPE.  Descriptors passed with answers (SCM_RIGHTS) are kept
 * in fds[] and closed with the connection.
 *
 * Receives wait for the first byte of an answer at most the caller's
 * timeout (nothing waiting: -ETIMEDOUT, the connection intact); once bytes
 * have come, the rest of that frame gets at least BB_IO_TIMEOUT_MS.  A frame
 * that is not the expected message is -EBADMSG; after it (and after a
 * timeout half-way through a frame) the transport refuses further receives
 * and only bb_conn_wait_eof() is still useful.
 */
#ifndef PP_BB_CONN_H
#define PP_BB_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "bb_msg.h"
#include "transport.h"

#define BB_IO_TIMEOUT_MS	5000
#define BB_MAX_FDS		8
#define BB_MAX_FRAME		(16u << 20)	/* the largest answer a test takes */

struct bb_conn {
	int fd;			/* the socket (also t.fd): raw writes, shutdown, poll;
				 * -1 when closed */
	struct pp_transport t;	/* every receive goes through it */
	bool eof;		/* the daemon closed (EOF or reset) */
	int fds[BB_MAX_FDS];	/* descriptors that came with answers */
	unsigned nfds;
};

/* Connect a bare socket to the UNIX socket at `path`: the fd, or -errno. */
int bb_socket_connect(const char *path);

/* Make c an unconnected connection (fd -1), as bb_conn_close leaves it. */
void bb_conn_init(struct bb_conn *c);

/* Connect c to the UNIX socket at `path`: 0, or -errno (c closed). */
int bb_conn_open(struct bb_conn *c, const char *path);

/* Close c (if open) and the descriptors it received; c may be opened
 * again. */
void bb_conn_close(struct bb_conn *c);

/*
 * Send all of buf raw, waiting for room at most timeout_ms in all.  0,
 * -EPIPE or -ECONNRESET when the daemon has closed, -ETIMEDOUT when it
 * stopped reading.  Never raises SIGPIPE.
 */
int bb_conn_send(struct bb_conn *c, const void *buf, size_t len, int timeout_ms);

/* bb_conn_send of a whole bb_buf, within BB_IO_TIMEOUT_MS. */
int bb_conn_send_buf(struct bb_conn *c, const struct bb_buf *b);

/* Frame one request (plus `extra` raw bytes inside its body, see
 * bb_buf_add_msg) and send it raw. */
int bb_conn_send_req(struct bb_conn *c, const bb_request *req, const void *extra,
		     size_t extralen);

/* Send one message framed by the transport, within BB_IO_TIMEOUT_MS: 0 or
 * -errno (then the transport refuses further receives). */
int bb_conn_send_msg(struct bb_conn *c, const ProtobufCMessage *msg);

/* Is input waiting on c (bytes, EOF or an error), or does some come within
 * timeout_ms? */
bool bb_conn_readable(struct bb_conn *c, int timeout_ms);

/*
 * Wait until at least `want` bytes of input are waiting on c and copy up to
 * `cap` (>= want) of them to buf without taking them: how many were copied,
 * -ECONNRESET when the daemon closed before `want` came, or -ETIMEDOUT.
 */
int bb_conn_peek(struct bb_conn *c, void *buf, size_t cap, size_t want, int timeout_ms);

/*
 * Receive one `desc` message (a Response, or an AdminResponse on the admin
 * socket) through the transport.  0 and *out (free with
 * protobuf_c_message_free_unpacked), -ECONNRESET when the daemon closed
 * first (c->eof), -ETIMEDOUT, or -EBADMSG when the bytes are not a frame
 * holding such a message.  A zero-length frame is a valid empty message.
 */
int bb_conn_recv_msg(struct bb_conn *c, int timeout_ms, const ProtobufCMessageDescriptor *desc,
		     ProtobufCMessage **out);

/* bb_conn_recv_msg for the client socket: *out is a Response (bb_resp_free). */
int bb_conn_recv(struct bb_conn *c, int timeout_ms, bb_response **out);

/*
 * Wait for the daemon to close the connection, reading (and counting in
 * *nresp) whatever responses come first.  0 once closed, -ETIMEDOUT.
 */
int bb_conn_wait_close(struct bb_conn *c, int timeout_ms, unsigned *nresp);

/* Wait for the daemon to close the connection, dropping whatever comes
 * first unread.  0 once closed, -ETIMEDOUT. */
int bb_conn_wait_eof(struct bb_conn *c, int timeout_ms);

#endif
