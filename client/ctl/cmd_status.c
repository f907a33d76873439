/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_status.c - pagepoolctl status: the daemon and its pools' pages.
 */
#include <stdio.h>

#include "ctl.h"

static const struct out_col pool_cols[] = {
	{ "name", "POOL", OUT_LEFT },
	{ "total", "TOTAL", 0 },
	{ "free", "FREE", 0 },
	{ "pcp", "PCP", 0 },
	{ "allocated", "ALLOCATED", 0 },
	{ "isolated", "ISOLATED", 0 },
	{ "offline", "OFFLINE", 0 },
	{ "resident_bytes", "RESIDENT_MIB", OUT_MIB },
	{ "shared", "SHARED", 0 },
	{ "offered", "OFFERED", 0 },
	{ "offers", "OFFERS", 0 },
	{ "cached", "CACHED", 0 },
};

/* "D HH:MM:SS" past a day, "HH:MM:SS" before. */
static void format_uptime(uint64_t s, char *buf, size_t n)
{
	uint64_t d = s / 86400;

	if (d)
		snprintf(buf, n, "%llud %02u:%02u:%02u", (unsigned long long)d,
			 (unsigned)(s % 86400 / 3600), (unsigned)(s % 3600 / 60), (unsigned)(s % 60));
	else
		snprintf(buf, n, "%02u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s % 3600 / 60),
			 (unsigned)(s % 60));
}

static int cmd_status_run(struct ctl *c, const struct ctl_args *a)
{
	const Pagepool__V1__AdminStatus *st;
	admin_response *resp;
	struct out *o = &c->out;
	char up[64];
	int rc;

	rc = request_empty(c, PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS,
			   &pagepool__v1__admin_status_req__descriptor,
			   PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATUS_INFO, &resp);
	if (rc)
		return rc;
	st = resp->status_info;
	format_uptime(st->uptime_s, up, sizeof(up));
	out_str(o, "version", "version     pagepoold %s\n", st->version);
	out_json_u64(o, "uptime_s", st->uptime_s);
	out_text(o, "uptime      %s (%llu s)\n", up, (unsigned long long)st->uptime_s);
	out_u64(o, "workers", "workers     %llu\n", st->workers);
	out_u64(o, "clients", "clients     %llu\n", st->clients);
	out_str(o, "drain_mode", "drain mode  %s\n\n", st->drain_mode);
	out_table_begin(o, "pools", pool_cols, sizeof(pool_cols) / sizeof(pool_cols[0]), "");
	for (size_t i = 0; i < st->n_pools; i++) {
		const Pagepool__V1__PoolCounts *p = st->pools[i];

		out_row(o);
		out_cell_str(o, p->name);
		out_cell_u64(o, p->total);
		out_cell_u64(o, p->free);
		out_cell_u64(o, p->pcp);
		out_cell_u64(o, p->allocated);
		out_cell_u64(o, p->isolated);
		out_cell_u64(o, p->offline);
		out_cell_u64(o, p->resident_bytes);
		out_cell_u64(o, p->shared);
		out_cell_u64(o, p->offered);
		out_cell_u64(o, p->offers);
		out_cell_u64(o, p->cached);
	}
	out_table_end(o);
	request_free(resp);
	return 0;
}

const struct ctl_cmd cmd_status_entry = {
	"status", "",
	"Show the daemon: version, uptime, worker threads, connected clients and\n"
	"default drain mode; then one line per pool with its pages: TOTAL, FREE\n"
	"(in the buddy allocator), PCP (cached in the workers' pcplists),\n"
	"ALLOCATED (held by clients), ISOLATED (being taken offline), OFFLINE\n"
	"(memory returned to the OS), RESIDENT_MIB (arena memory backed by RAM),\n"
	"SHARED (allocated pages in blocks shared by reference), OFFERED\n"
	"(allocated pages under open offers), OFFERS (open offers) and CACHED\n"
	"(allocated pages in the clients' own caches, read from their regions).\n"
	"JSON: {version, uptime_s, workers, clients, drain_mode, pools: [{name,\n"
	"total, free, pcp, allocated, isolated, offline, resident_bytes, shared,\n"
	"offered, offers, cached}]}.",
	0, 0, cmd_status_run,
};
