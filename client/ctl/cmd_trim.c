/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_trim.c - pagepoolctl trim: give the memory of free max-order blocks
 * back to the OS.
 */
#include "ctl.h"

static int cmd_trim_run(struct ctl *c, const struct ctl_args *a)
{
	Pagepool__V1__AdminTrimReq body = PAGEPOOL__V1__ADMIN_TRIM_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp;
	struct out *o = &c->out;
	char buf[OUT_TEXT_MAX];
	int rc;

	body.pool = (char *)(a->pool ? a->pool : "");
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_TRIM;
	req.trim = &body;
	rc = request_run(c, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_TRIMMED, &resp, NULL);
	if (rc)
		return rc;
	out_json_str(o, "pool", a->pool);
	out_u64(o, "pages", "trim: %llu pages returned to the OS", resp->trimmed->pages);
	out_text(o, " (%s)\n", a->pool ? out_printable(a->pool, buf, sizeof(buf)) : "every pool");
	request_free(resp);
	return 0;
}

const struct ctl_cmd cmd_trim_entry = {
	"trim", "[--pool POOL]",
	"Return the memory of the free max-order blocks of POOL (default: every\n"
	"pool) to the OS and print how many pages that released.  The pages stay\n"
	"in the pool; their memory comes back, zeroed, when they are used again.\n"
	"JSON: {pool, pages}.",
	O_POOL, 0, cmd_trim_run,
};
