/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * refuse.h - turn a peer away before it has a connection: one framed
 * message saying why, sent without blocking (a fresh socket has room for
 * it; a peer with no room gets none), then the socket is closed.  Used for
 * the client socket's admission limits (server.c) and the admin socket's
 * credentials and cap (admin.c).
 *
 * Thread rules: any thread; nothing here is shared.
 */
#ifndef PP_REFUSE_H
#define PP_REFUSE_H

#include <protobuf-c/protobuf-c.h>

/* msg framed and sent, best effort, then fd closed. */
void refuse_msg(int fd, const ProtobufCMessage *msg);

/* The client protocol's refusal: one error Response (id 0, status from
 * errno value `err`, the text from fmt), then fd closed. */
void refuse_client(int fd, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
