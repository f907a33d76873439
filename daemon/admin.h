/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * admin.h - the admin socket, served by the admin (main) thread: status,
 * counters, buddyinfo, clients, and the operations - drain, offline/online,
 * trim, set-pcp - that pagepoolctl drives (the requests themselves:
 * admin_req.h).  Every connection's credentials are checked (root, the
 * daemon's own uid, or the admin group); anyone else gets EPERM and is
 * disconnected - before it can take one of the 64 connections, the last 4
 * of which are kept for root and our own uid.  A connection is closed after
 * admin_idle_timeout without a request, and stops being read while 64 KiB
 * of answers wait for it.  Also runs, once a second, the memory trim after a
 * burst (daemon_trim).
 *
 * Thread rules: admin thread only (every call, and every callback on its
 * event base).
 */
#ifndef PP_ADMIN_H
#define PP_ADMIN_H

#include "daemon.h"

struct event_base;

/* on_accept for the admin socket (server_listen). */
void admin_accept(struct daemon *d, int fd);

/* Attach the admin thread's event base; start the trim timer.  0 or -errno. */
int admin_start(struct daemon *d, struct event_base *base);
/* Close every admin connection and stop the timer. */
void admin_stop(struct daemon *d);

#endif
