/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * audit.h - the audit trail: one info line per admin action that changes
 * something (drain, offline, online, trim, set-pcp, verify, reload, and a
 * reload by SIGHUP), naming who asked (the admin connection's SO_PEERCRED
 * uid and pid) and what changed or why it did not:
 *
 *	admin uid 0 pid 1234: set-pcp pool default high 64 batch 16 (was 18/3)
 *	admin uid 0 pid 1234: offline pool default 0..1023: EBUSY, 1024 pages held by 1 client
 *	signal SIGHUP: reload: 1 change: pool default pcp_high 64
 *
 * Read-only requests (status, stats, buddyinfo, clients) leave no line.  A
 * refused reload is logged at warning level, so that it shows at any
 * log_level.  The lines share one rate limit (AUDIT_BURST per
 * LOG_RATELIMIT_INTERVAL), so one admin cannot flood the log; what it
 * suppresses is counted in log.h's summary line.
 *
 * Admin thread only: the "before" snapshot lives in the caller's struct.
 */
#ifndef PP_AUDIT_H
#define PP_AUDIT_H

#include "admin_req.h"
#include "reload.h"

#define AUDIT_BURST		20

/* What a request will change, as it was before: set-pcp's old values. */
struct audit_before {
	char was[160];
};

/* Take the snapshot for q, before it runs. */
void audit_before(struct daemon *d, const Pagepool__V1__AdminRequest *q,
		  struct audit_before *b);

/* Log the line for q run by `peer`, answered in rp (nothing for the
 * read-only requests). */
void audit_admin(const struct admin_peer *peer,
		 const Pagepool__V1__AdminRequest *q, const struct admin_reply *rp,
		 const struct audit_before *b);

/* Log the line for a reload by SIGHUP: ret and r from reload_config(). */
void audit_signal_reload(int ret, const struct reload_result *r);

#endif
