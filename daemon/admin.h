/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * admin.h - the admin socket, served by the admin (main) thread: status,
 * counters, buddyinfo, clients, and the operations - drain, offline/online,
 * trim, set-pcp - that pagepoolctl drives.  Every connection's credentials
 * are checked (root, the daemon's own uid, or the admin group); anyone else
 * gets EPERM and is disconnected - before it can take one of the 64
 * connections, the last 4 of which are kept for root and our own uid.  A
 * connection is closed after admin_idle_timeout without a request, and stops
 * being read while 64 KiB of answers wait for it.  Also runs the idle pcp
 * decay timer and, once a second, the memory trim after a burst
 * (daemon_trim).
 */
#ifndef PP_ADMIN_H
#define PP_ADMIN_H

#include "daemon.h"

struct event_base;

/* on_accept for the admin socket (server_listen). */
void admin_accept(struct daemon *d, int fd);

/* Attach the admin thread's event base; start the decay and trim timers.
 * 0 or -errno. */
int admin_start(struct daemon *d, struct event_base *base);
/* Close every admin connection and stop the timer. */
void admin_stop(struct daemon *d);

/*
 * Decay (Linux ages pcp->high for the same reason): every decay_interval,
 * a pcp with pages that sat in its lists through the whole interval - all
 * of them on an idle worker, the bottom of the stack on a worker that is
 * busy but hardly uses its lists - gives its cached pages back, drained in
 * rcu mode: the worker is never woken.
 */
void admin_decay(struct daemon *d);

/* Restart the decay timer with cfg.decay_interval (0: stop it). */
void admin_decay_rearm(struct daemon *d);

#endif
