/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn_out.h - a client connection's output and the limits on it: answers
 * framed into the output buffer (the welcome with the arena's fd, by
 * SCM_RIGHTS, with nothing queued ahead of it), the cap (max_output), the
 * accounting of queued bytes against the uid's budget (max_output_per_uid),
 * backpressure, and the drain rule (min_drain_rate per write_timeout,
 * config.h).
 *
 * Answers are queued by conn_out_send and written by conn_out_flush, which
 * the connection calls once the input in hand is answered, so frames that
 * arrived together leave together.
 *
 * Thread rules: the worker thread that owns the connection (conn.h), inside
 * its callbacks.  The uid's budget is shared with other workers through
 * daemon_output_account(), which is atomic.
 */
#ifndef PP_CONN_OUT_H
#define PP_CONN_OUT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

struct conn;

/* Teardown: give the uid back what is still queued and free the output. */
void conn_out_detach(struct conn *c);

/*
 * Write what is queued, as much as the socket takes now, and keep
 * c->ev_write added, and the drain rule's check (c->ev_drain) armed,
 * exactly while something is left (the write callback calls this again).
 * 0, or -errno if the connection failed (logged): c must close.
 */
int conn_out_flush(struct conn *c);

/*
 * Frame msg and queue it (conn_out_flush writes it); with fd >= 0, send it
 * now with fd attached (-EAGAIN if anything is queued ahead of it), or,
 * when the socket is full, queue it with the fd to go with its first byte
 * (c->out_fd).  0, or
 * -ENOBUFS when the output is now over max_output (logged), or -errno:
 * either way c must close.
 */
int conn_out_send(struct conn *c, const ProtobufCMessage *msg, int fd);

/*
 * The drain rule's check, run when c->ev_drain fires: true if the peer took
 * enough since the last check (the check is re-armed while anything is
 * queued), false if it did not (logged): c must close.
 */
bool conn_out_drain_check(struct conn *c);

/* Backpressure: should c stop taking requests for now?  (See conn_out.c.) */
bool conn_out_should_pause(const struct conn *c);

#endif
