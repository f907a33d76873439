/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_clients.c - pagepoolctl clients: the connected clients and what they
 * hold.
 */
#include "ctl.h"

static const struct out_col client_cols[] = {
	{ "id", "ID", 0 }, { "pid", "PID", 0 }, { "uid", "UID", 0 }, { "worker", "WORKER", 0 },
	{ "pool", "POOL", OUT_LEFT }, { "pages", "PAGES", 0 }, { "ref_pages", "REFS", 0 },
	{ "offers", "OFFERS", 0 }, { "offered_pages", "OFFERED", 0 }, { "cached", "CACHED", 0 },
	{ "cache_drains", "DRAINS", 0 }, { "cache_errors", "BAD", 0 }, { "cache_stuck", "STUCK", 0 },
};

static int cmd_clients_run(struct ctl *c, const struct ctl_args *a)
{
	const Pagepool__V1__AdminClients *cl;
	admin_response *resp;
	struct out *o = &c->out;
	int rc;

	rc = request_empty(c, PAGEPOOL__V1__ADMIN_REQUEST__BODY_CLIENTS,
			   &pagepool__v1__admin_clients_req__descriptor,
			   PAGEPOOL__V1__ADMIN_RESPONSE__BODY_CLIENTS, &resp);
	if (rc)
		return rc;
	cl = resp->clients;
	out_table_begin(o, "clients", client_cols, sizeof(client_cols) / sizeof(client_cols[0]),
			"");
	for (size_t i = 0; i < cl->n_clients; i++) {
		const Pagepool__V1__ClientInfo *ci = cl->clients[i];

		out_row(o);
		out_cell_u64(o, ci->id);
		out_cell_i64(o, ci->pid);
		out_cell_u64(o, ci->uid);
		out_cell_u64(o, ci->worker);
		/* No pool before its hello. */
		out_cell_str(o, ci->pool && ci->pool[0] ? ci->pool : NULL);
		out_cell_u64(o, ci->pages);
		out_cell_u64(o, ci->ref_pages);
		out_cell_u64(o, ci->offers);
		out_cell_u64(o, ci->offered_pages);
		out_cell_u64(o, ci->cached);
		out_cell_u64(o, ci->cache_drains);
		out_cell_u64(o, ci->cache_errors);
		out_cell_u64(o, ci->cache_stuck);
	}
	out_table_end(o);
	request_free(resp);
	return 0;
}

const struct ctl_cmd cmd_clients_entry = {
	"clients", "",
	"List the connected clients: ID (as pp_info() reports it), PID and UID of\n"
	"the peer, the WORKER serving it, the POOL it joined ('-' before its\n"
	"hello), the PAGES it holds as its own, the pages it holds by reference\n"
	"(REFS: shared blocks), its open OFFERS and the pages under them (OFFERED),\n"
	"the pages in its client cache (CACHED, part of PAGES, read from its region:\n"
	"may be a moment old), the remote DRAINS of that cache, the BAD entries\n"
	"found in it (never freed) and the drains it held up past the bound (STUCK).\n"
	"JSON: {clients: [{id, pid, uid, worker, pool, pages, ref_pages, offers,\n"
	"offered_pages, cached, cache_drains, cache_errors, cache_stuck}]} (pool\n"
	"null before hello).",
	0, 0, cmd_clients_run,
};
