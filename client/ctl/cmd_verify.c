/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_verify.c - pagepoolctl verify: the daemon checks its pools'
 * invariants.  The result is printed whether or not a pool is broken; a
 * broken pool makes the exit status EX_DATAERR, with a summary on stderr.
 */
#include <stdio.h>
#include <sysexits.h>

#include "ctl.h"

static int cmd_verify_run(struct ctl *c, const struct ctl_args *a)
{
	Pagepool__V1__AdminVerifyReq body = PAGEPOOL__V1__ADMIN_VERIFY_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	const Pagepool__V1__AdminVerified *v;
	admin_response *resp;
	struct out *o = &c->out;
	char msg[OUT_TEXT_MAX];
	size_t broken = 0;
	int rc;

	body.pool = (char *)(a->pool ? a->pool : "");
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_VERIFY;
	req.verify = &body;
	rc = request_run(c, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_VERIFIED, &resp, NULL);
	if (rc)
		return rc;
	v = resp->verified;
	out_arr_begin(o, "pools");
	for (size_t i = 0; i < v->n_pools; i++) {
		const Pagepool__V1__PoolVerify *p = v->pools[i];
		bool said = p->message && p->message[0];

		broken += !p->ok;
		out_obj_begin(o, NULL);
		out_str(o, "name", "pool %s: ", p->name);
		out_json_bool(o, "ok", p->ok);
		out_json_str(o, "message", said ? p->message : NULL);
		if (p->ok)
			out_text(o, "ok\n");
		else
			out_text(o, "BROKEN: %s\n",
				 said ? out_printable(p->message, msg, sizeof(msg)) : "(no details)");
		out_end(o);
	}
	out_end(o);
	if (broken) {
		report_prefix(c);
		fprintf(stderr, "%zu of %zu pools broken\n", broken, v->n_pools);
	}
	request_free(resp);
	return broken ? EX_DATAERR : 0;
}

const struct ctl_cmd cmd_verify_entry = {
	"verify", "[--pool POOL]",
	"Check the invariants of POOL (default: every pool): every page is\n"
	"accounted exactly once (free, in a pcplist, allocated, isolated or\n"
	"offline), blocks are aligned and never overlap nor sit on two lists,\n"
	"every allocated block has one live owner.  The daemon parks its workers\n"
	"for the duration of the check: no client is served until it is over\n"
	"(it takes time in proportion to the pool sizes), so mind a busy daemon.\n"
	"Prints 'pool NAME: ok' or 'pool NAME: BROKEN: what is broken' per pool\n"
	"and exits 0 when every pool is ok, 65 when one is broken.\n"
	"JSON: {pools: [{name, ok, message}]} (message null when ok), printed\n"
	"also when a pool is broken.",
	O_POOL, 0, cmd_verify_run,
};
