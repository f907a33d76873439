/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_set_pcp.c - pagepoolctl set-pcp: the pcplists' high watermark and
 * batch size, at run time.
 */
#include "ctl.h"

static int cmd_set_pcp_run(struct ctl *c, const struct ctl_args *a)
{
	Pagepool__V1__AdminSetPcpReq body = PAGEPOOL__V1__ADMIN_SET_PCP_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp;
	struct out *o = &c->out;
	int rc;

	if (!a->high_arg || !a->batch_arg)
		return report_usage(c, "--high and --batch are both required");
	body.pool = (char *)(a->pool ? a->pool : "");
	body.high = a->high;
	body.batch = a->batch;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_SET_PCP;
	req.set_pcp = &body;
	rc = request_run(c, &req, 0, &resp, NULL);
	if (rc)
		return rc;
	if (a->pool) {
		out_str(o, "pool", "set-pcp: pool %s", a->pool);
	} else {
		out_json_null(o, "pool");
		out_text(o, "set-pcp: every pool");
	}
	out_u64(o, "high", ": high %llu", a->high);
	out_u64(o, "batch", " batch %llu\n", a->batch);
	request_free(resp);
	return 0;
}

const struct ctl_cmd cmd_set_pcp_entry = {
	"set-pcp", "[--pool POOL] --high N --batch N",
	"Set the pcplist high watermark (pages a worker may cache; 0 turns the\n"
	"pcplists off) and batch size (pages moved per refill or bulk free) of\n"
	"every worker in POOL (default: every pool).  The daemon checks the\n"
	"values (high 0..4096, batch 1..63, batch <= high unless high is 0) and\n"
	"refuses others (exit 65).  JSON: {pool, high, batch}.",
	O_POOL | O_HIGH | O_BATCH, 0, cmd_set_pcp_run,
};
