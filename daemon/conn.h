/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn.h - one client connection, owned by one worker thread from hand-off
 * to close.  It reads frames, answers requests in order, holds the pages its
 * client allocated (as a pool owner), and returns them all when it closes,
 * whether the client said goodbye or died.  Its requests are conn_req.h's,
 * its output and the limits on it conn_out.h's.
 *
 * Thread rules: conn_new runs on the admin thread, which hands the
 * connection to one worker (workers_dispatch); from then on only that
 * worker touches it, except for the fields the admin thread's `clients`
 * and verify read under d->quota_lock through d->slots (id, pid, uid, w,
 * pool, owner).
 */
#ifndef PP_CONN_H
#define PP_CONN_H

#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"

struct worker;
struct event;

struct conn {
	struct conn *next, *prev;	/* worker's list (or hand-off queue) */
	struct worker *w;
	struct daemon *d;
	int fd;
	struct event *ev_read;		/* persistent; added while reading */
	struct event *ev_write;		/* persistent; added while output waits */
	bool reading, writing;		/* ev_read, ev_write added */
	uint8_t *in;			/* input: in_cap bytes, frames at in_off */
	size_t in_off, in_len, in_cap;	/* (NULL between callbacks when empty) */
	uint8_t *out;			/* output: bytes [out_off, out_len) queued */
	size_t out_off, out_len, out_cap; /* (NULL when empty) */
	bool in_borrowed, out_borrowed;	/* in, out are the worker's rbuf, wbuf */
	int out_fd;			/* goes with the output's first byte; -1: none */
	uint64_t id;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t *groups;			/* supplementary groups (SO_PEERGROUPS) */
	int pool_idx;			/* -1 until hello */
	uint32_t features;		/* Feature bits granted at hello */
	struct pool *pool;
	struct pcp *pcp;
	struct owner owner;
	struct uid_quota *uq;
	uint32_t slot;			/* daemon_slot_get(); owner id = slot + 1 */
	struct uid_usage *uu;		/* its uid's connections and queued output */
	bool listed;			/* on w->conns (attached) */
	int closing;			/* flush what is queued, then close */
	uint8_t drop;			/* why it is closed (metrics.h), 0: closed */
	int paused;			/* reading stopped until output drains */
	int eof;			/* the peer closed its side */
	uint64_t frames;		/* requests taken off the input */
	struct event *ev_stall;		/* read_timeout: a partial frame waits */
	struct event *ev_hello;		/* hello_timeout */
	struct event *ev_drain;		/* the drain rule's check (config.h) */
	size_t out_queued;		/* bytes in the output, charged to uu */
	uint64_t out_taken;		/* bytes of output the peer took, all told */
	uint64_t drain_mark;		/* out_taken at the last drain check */
	size_t drain_owed;		/* bytes queued at the last drain check */
	struct ccache *cc;		/* its client cache region (clientcache.h), or NULL */
	struct Pagepool__V1__Request *parked_req; /* waits for a reclaim drain */
	uint64_t park_ticket;		/* the drain it waits for; 0: none */
	struct conn *park_next;		/* worker's parked list */
	char name[64];			/* for log lines */
};

/*
 * Admin thread: wrap an accepted socket (credentials read here) and admit
 * it: it takes a connection slot (daemon_slot_get), which counts it.  0 and
 * *out, or -EBUSY (max_connections), -EUSERS (its uid has
 * max_connections_per_uid open) or -ENOMEM; on failure fd is left open for
 * the caller to refuse (refuse_client, refuse.h).
 */
int conn_new(struct daemon *d, int fd, struct conn **out);

/* Worker thread: start serving c on w's event base.  0 or -errno (c closed). */
int conn_attach(struct worker *w, struct conn *c);

/* Worker thread: answer the parked requests whose reclaim drain is done
 * (reclaim.h) and resume reading their connections. */
void conn_resume_parked(struct worker *w);

/*
 * Worker thread: the one teardown of a connection, attached or still
 * queued: return every page, release the slot (and with it the connection
 * count and the uid's), the worker's count and the output charge, close the
 * socket, free c.  The slot goes before the socket closes, so a peer that
 * sees its socket closed can connect again at once, even at the limit.
 */
void conn_close(struct conn *c);

#endif
