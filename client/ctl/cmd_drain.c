/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_drain.c - pagepoolctl drain: empty the workers' pcplists into the
 * buddy allocator, the way the daemon would under pressure; or, with
 * --clients / --client ID, the clients' own caches (remotely: the clients
 * are not asked anything).
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

	if ((a->clients || a->client_arg) && (a->mode || a->force))
		return report_usage(c, "--clients and --client take no --mode or --force");
	if (a->clients && a->client_arg)
		return report_usage(c, "--clients and --client exclude each other");
	if (a->mode && strcmp(a->mode, "rcu") != 0 && strcmp(a->mode, "workqueue") != 0 &&
	    strcmp(a->mode, "spinlock") != 0)
		return report_usage(c, "--mode: '%s' is not rcu, workqueue or spinlock", a->mode);
	body.pool = (char *)(a->pool ? a->pool : "");
	body.mode = (char *)(a->mode ? a->mode : "");
	body.force = a->force;
	body.clients = a->clients || a->client_arg;
	body.client_id = a->client;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_DRAIN;
	req.drain = &body;
	rc = request_run(c, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_DRAINED, &resp, NULL);
	if (rc)
		return rc;
	d = resp->drained;
	out_json_str(o, "pool", a->pool);
	out_u64(o, "pages", "drained %llu pages", d->pages);
	if (body.clients) {
		out_u64(o, "clients", " from %llu client caches", d->clients);
		out_u64(o, "usec", " in %llu us", d->usec);
		out_u64(o, "bad", " (%llu bad entries ignored)\n", d->bad);
		out_u64(o, "late", d->late ? "%llu workers did not answer in time: their "
			"clients' caches may not be drained\n" : "", d->late);
		/* Not a failure: the drain did what it could and says who held it up. */
		out_arr_begin(o, "stuck");
		for (size_t i = 0; i < d->n_stuck; i++) {
			out_u64(o, NULL, "stuck: client %llu stayed inside a cache operation "
				"past client_cache_grace_ms; its cache is left as it was\n",
				d->stuck[i]);
		}
		out_end(o);
		request_free(resp);
		return 0;
	}
	out_u64(o, "usec", " in %llu us", d->usec);
	out_str(o, "mode", " (mode %s)\n", d->mode);
	request_free(resp);
	return 0;
}

const struct ctl_cmd cmd_drain_entry = {
	"drain", "[--pool POOL] [--mode rcu|workqueue|spinlock] [--force] | [--pool POOL] "
	"--clients | --client ID",
	"Return the pages cached in the workers' pcplists of POOL (default: every\n"
	"pool) to the buddy allocator and print 'drained N pages in X us (mode M)'.\n"
	"--mode picks how (default: the daemon's drain_mode); --force also drains\n"
	"pcplists that look empty.  JSON: {pool, pages, usec, mode}.\n"
	"--clients drains the client caches (pcplists in libpagepool, shared with\n"
	"the daemon) of every client of POOL instead, --client ID only that one's,\n"
	"remotely: the clients are not signalled or asked.  It prints 'drained N\n"
	"pages from C client caches in X us (B bad entries ignored)', then one\n"
	"'stuck:' line per client that stayed inside a cache operation past the\n"
	"daemon's client_cache_grace_ms.  JSON: {pool, pages, clients, usec, bad,\n"
	"stuck: [ID...]}.",
	O_POOL | O_MODE | O_FORCE | O_CLIENTS | O_CLIENT, 0, cmd_drain_run,
};
