/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_drain.c - pagepoolctl drain: empty the workers' pcplists into the
 * buddy allocator, the way the daemon would under pressure.
 */
#include <string.h>

#include "ctl.h"

static int cmd_drain_run(struct ctl *c, const struct ctl_args *a)
{
	Pagepool__V1__AdminDrainReq body = PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	const Pagepool__V1__AdminDrained *d;
	admin_response *resp;
	struct out *o = &c->out;
	int rc;

	if (a->mode && strcmp(a->mode, "rcu") != 0 && strcmp(a->mode, "workqueue") != 0 &&
	    strcmp(a->mode, "spinlock") != 0)
		return report_usage(c, "--mode: '%s' is not rcu, workqueue or spinlock", a->mode);
	body.pool = (char *)(a->pool ? a->pool : "");
	body.mode = (char *)(a->mode ? a->mode : "");
	body.force = a->force;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_DRAIN;
	req.drain = &body;
	rc = request_run(c, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_DRAINED, &resp, NULL);
	if (rc)
		return rc;
	d = resp->drained;
	out_json_str(o, "pool", a->pool);
	out_u64(o, "pages", "drained %llu pages", d->pages);
	out_u64(o, "usec", " in %llu us", d->usec);
	out_str(o, "mode", " (mode %s)\n", d->mode);
	request_free(resp);
	return 0;
}

const struct ctl_cmd cmd_drain_entry = {
	"drain", "[--pool POOL] [--mode rcu|workqueue|spinlock] [--force]",
	"Return the pages cached in the workers' pcplists of POOL (default: every\n"
	"pool) to the buddy allocator and print 'drained N pages in X us (mode M)'.\n"
	"--mode picks how (default: the daemon's drain_mode); --force also drains\n"
	"pcplists that look empty.  JSON: {pool, pages, usec, mode}.",
	O_POOL | O_MODE | O_FORCE, 0, cmd_drain_run,
};
