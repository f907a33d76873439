/*
 * admin.h - the admin socket, served by the admin (main) thread: status,
 * counters, buddyinfo, clients, and the operations - drain, offline/online,
 * trim, set-pcp - that pagepoolctl drives.  Every connection's credentials
 * are checked (root, the daemon's own uid, or the admin group); anyone else
 * gets EPERM and is disconnected.  Also runs the idle pcp decay timer.
 */
#ifndef PP_ADMIN_H
#define PP_ADMIN_H

#include "daemon.h"

struct event_base;

/* on_accept for the admin socket (server_listen). */
void admin_accept(struct daemon *d, int fd);

/* Attach the admin thread's event base; start the decay timer. 0 or -errno. */
int admin_start(struct daemon *d, struct event_base *base);
/* Close every admin connection and stop the timer. */
void admin_stop(struct daemon *d);

/*
 * Idle decay (like Linux's decay_pcp_high, but through the remote drain):
 * a pcp whose worker did no allocation or free since the last tick gives its
 * cached pages back, drained in rcu mode - the worker is never woken.
 */
void admin_decay(struct daemon *d);

/* Restart the decay timer with cfg.decay_interval (0: stop it). */
void admin_decay_rearm(struct daemon *d);

#endif
