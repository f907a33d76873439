/*
 * conn.h - one client connection, owned by one worker thread from hand-off
 * to close.  It reads frames, answers requests in order, holds the pages its
 * client allocated (as a pool owner), and returns them all when it closes,
 * whether the client said goodbye or died.
 */
#ifndef PP_CONN_H
#define PP_CONN_H

#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"

struct worker;
struct bufferevent;
struct event;

struct conn {
	struct conn *next, *prev;	/* worker's list (or hand-off queue) */
	struct worker *w;
	struct daemon *d;
	int fd;
	struct bufferevent *bev;
	uint64_t id;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t *groups;			/* supplementary groups (SO_PEERGROUPS) */
	int pool_idx;			/* -1 until hello */
	struct pool *pool;
	struct pcp *pcp;
	struct owner owner;
	struct uid_quota *uq;
	uint32_t slot;			/* daemon_slot_get(); owner id = slot + 1 */
	int closing;			/* flush what is queued, then close */
	int paused;			/* reading stopped until output drains */
	int eof;			/* the peer closed its side */
	uint64_t frames;		/* requests taken off the input */
	struct event *ev_stall;		/* read_timeout: a partial frame waits */
	char name[64];			/* for log lines */
};

/* Admin thread: wrap an accepted socket (credentials read here).  NULL on
 * allocation failure (the fd is then closed). */
struct conn *conn_new(struct daemon *d, int fd);

/* Worker thread: start serving c on w's event base.  0 or -errno (c freed). */
int conn_attach(struct worker *w, struct conn *c);

/* Worker thread: return every page, close the socket, free c. */
void conn_close(struct conn *c);

#endif
