/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * admin_req.h - what the admin socket can be asked (admin.c frames and
 * decodes; this answers): status, stats, buddyinfo, clients, and the
 * operations pagepoolctl drives - drain, offline/online, trim, set-pcp,
 * verify, reload.  Each request fills one AdminResponse in a struct
 * admin_reply; a refused request is an error status and a line of text.
 *
 * Thread rules: admin thread only.  Requests are answered synchronously: a
 * drain waits for its grace period here, never in a worker, and verify parks
 * every worker (workers_park).  The admin thread is not an RCU reader, so it
 * may call synchronize_rcu() (through pool_drain) freely.
 */
#ifndef PP_ADMIN_REQ_H
#define PP_ADMIN_REQ_H

#include <stdint.h>

#include "daemon.h"
#include "wire.h"

/* Everything one response may point at; admin_req_free() frees the arrays. */
struct admin_reply {
	Pagepool__V1__AdminResponse r;
	char text[200];
	union {
		Pagepool__V1__AdminStatus status;
		Pagepool__V1__AdminStats stats;
		Pagepool__V1__AdminBuddyinfo buddy;
		Pagepool__V1__AdminClients clients;
		Pagepool__V1__AdminDrained drained;
		Pagepool__V1__AdminOffline offline;
		Pagepool__V1__AdminTrimmed trimmed;
		Pagepool__V1__AdminVerified verified;
		Pagepool__V1__AdminReloaded reloaded;
		Pagepool__V1__AdminMetrics metrics;
	} u;
	void *mem[4];			/* arrays to free */
};

/* An empty OK answer to request `id`, its error text pointing at rp->text. */
void admin_req_init(struct admin_reply *rp, uint64_t id);

/* Make rp a refusal: status from errno value `err`, the text from fmt. */
void admin_req_err(struct admin_reply *rp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Who is asking: the admin connection's SO_PEERCRED, taken at accept. */
struct admin_peer {
	int uid;
	int pid;
};

/* Answer q from `peer` into rp (initialised by admin_req_init with q's
 * id); an action that changes something leaves one audit line (audit.h). */
void admin_req_run(struct daemon *d, const struct admin_peer *peer,
		   const Pagepool__V1__AdminRequest *q, struct admin_reply *rp);

/* Free what answering allocated, once rp->r is encoded (or dropped). */
void admin_req_free(struct admin_reply *rp);

#endif
