/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.h - the admin thread's listening side: bind the client socket
 * (refusing to steal one a live daemon still answers on), accept, read the
 * peer's credentials, and hand each connection to a worker.
 */
#ifndef PP_SERVER_H
#define PP_SERVER_H

#include "daemon.h"

struct event_base;

struct server {
	struct daemon *d;
	const char *path;
	int fd;
	bool adopted;			/* passed by systemd: not ours to unlink */
	void (*on_accept)(struct daemon *d, int fd);
	struct event *ev_accept;
	struct event *ev_backoff;	/* re-enables accept after EMFILE */
	int64_t backoff_since;		/* ms (monotonic) of the first EMFILE; 0 none */
};

/* Bind and listen on `path` with `mode` and group `gid` ((gid_t)-1: leave
 * it).  Each accepted socket (non-blocking, close-on-exec) is passed to
 * on_accept.  0 or -errno, with the reason logged. */
int server_listen(struct server *s, struct daemon *d, const char *path, unsigned mode,
		  gid_t gid, void (*on_accept)(struct daemon *d, int fd));

/* Serve on `fd`, a listening socket bound to `path` that systemd passed
 * (socket activation): its mode and owner are the .socket unit's, and it is
 * neither replaced at start nor unlinked at stop. */
void server_adopt(struct server *s, struct daemon *d, const char *path, int fd,
		  void (*on_accept)(struct daemon *d, int fd));

/* on_accept for the client socket: limits, credentials, hand-off to a worker. */
void server_accept_client(struct daemon *d, int fd);

/* Start accepting on `base` (the admin thread's). */
int server_start(struct server *s, struct event_base *base);

/* Stop accepting, close the socket and unlink it unless it was adopted. */
void server_stop(struct server *s);

#endif
