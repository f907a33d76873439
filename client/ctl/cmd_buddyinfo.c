/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_buddyinfo.c - pagepoolctl buddyinfo: the free blocks of every pool by
 * order, shaped as /proc/buddyinfo.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define ORDERS_MAX	64	/* columns we agree to print */

/* Column widths as /proc/buddyinfo has them: names padded to the longest,
 * counts right-aligned at least 6 wide. */
static int buddyinfo_widths(const Pagepool__V1__AdminBuddyinfo *bi, int w[ORDERS_MAX])
{
	char buf[OUT_TEXT_MAX];
	int namew = 0;

	for (size_t o = 0; o < ORDERS_MAX; o++)
		w[o] = 6;
	for (size_t i = 0; i < bi->n_pools; i++) {
		const Pagepool__V1__PoolBuddy *p = bi->pools[i];
		int len = (int)strlen(out_printable(p->name, buf, sizeof(buf)));

		namew = len > namew ? len : namew;
		for (size_t o = 0; o < p->n_free_blocks; o++) {
			len = snprintf(buf, sizeof(buf), "%llu",
				       (unsigned long long)p->free_blocks[o]);
			w[o] = len > w[o] ? len : w[o];
		}
	}
	return namew;
}

static int cmd_buddyinfo_run(struct ctl *c, const struct ctl_args *a)
{
	const Pagepool__V1__AdminBuddyinfo *bi;
	admin_response *resp;
	struct out *o = &c->out;
	char why[OUT_TEXT_MAX], name[64], buf[OUT_TEXT_MAX];
	int rc, w[ORDERS_MAX], namew;

	rc = request_empty(c, PAGEPOOL__V1__ADMIN_REQUEST__BODY_BUDDYINFO,
			   &pagepool__v1__admin_buddyinfo_req__descriptor,
			   PAGEPOOL__V1__ADMIN_RESPONSE__BODY_BUDDYINFO, &resp);
	if (rc)
		return rc;
	bi = resp->buddyinfo;
	for (size_t i = 0; i < bi->n_pools; i++) {
		if (bi->pools[i]->n_free_blocks > ORDERS_MAX) {
			snprintf(why, sizeof(why), "buddyinfo: %zu orders in pool '%s'",
				 bi->pools[i]->n_free_blocks,
				 out_printable(bi->pools[i]->name, name, sizeof(name)));
			request_free(resp);
			return report_errno(c, -EPROTO, why);
		}
	}
	namew = buddyinfo_widths(bi, w);
	out_arr_begin(o, "pools");
	for (size_t i = 0; i < bi->n_pools; i++) {
		const Pagepool__V1__PoolBuddy *p = bi->pools[i];

		out_obj_begin(o, NULL);
		out_json_str(o, "name", p->name);
		out_text(o, "Pool %-*s", namew, out_printable(p->name, buf, sizeof(buf)));
		out_arr_begin(o, "free_blocks");
		for (size_t k = 0; k < p->n_free_blocks; k++) {
			out_json_u64(o, NULL, p->free_blocks[k]);
			out_text(o, " %*llu", w[k], (unsigned long long)p->free_blocks[k]);
		}
		out_end(o);
		out_text(o, "\n");
		out_end(o);
	}
	out_end(o);
	request_free(resp);
	return 0;
}

const struct ctl_cmd cmd_buddyinfo_entry = {
	"buddyinfo", "",
	"Show the free blocks of every pool by order, in the shape of\n"
	"/proc/buddyinfo: one line per pool, 'Pool NAME' then the number of free\n"
	"blocks of order 0, 1, ... 10 (an order-n block is 2^n pages).\n"
	"JSON: {pools: [{name, free_blocks: [11 numbers]}]}.",
	0, 0, cmd_buddyinfo_run,
};
