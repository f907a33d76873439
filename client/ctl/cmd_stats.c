/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_stats.c - pagepoolctl stats (the allocator's counters summed per pool
 * and per worker) and pcp (every pool's pagesets), both from one AdminStats
 * answer.  The counters are the daemon's own list, PCP_COUNTERS in
 * daemon/stats.h: its field names are the JSON keys and its titles the
 * column headers, so a counter added there shows here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "stats.h"

#define NCOLS(cols)	(sizeof(cols) / sizeof((cols)[0]))

#define X(name, title, desc) { #name, title, 0 },
static const struct out_col pool_cols[] = {
	{ "name", "POOL", OUT_LEFT }, { "pcps", NULL, 0 }, PCP_COUNTERS(X)
};
static const struct out_col worker_cols[] = {
	{ "worker", "WORKER", 0 }, { "cpu", "CPU", OUT_DASH_NEG },
	{ "connections", "CONNECTIONS", 0 }, { "wakeups", "WAKEUPS", 0 },
	{ "loops", "LOOPS", 0 }, PCP_COUNTERS(X)
};
#undef X
/* The raw entries: JSON only. */
#define X(name, title, desc) { #name, NULL, 0 },
static const struct out_col pcp_cols[] = {
	{ "pool", NULL, 0 }, { "worker", NULL, 0 }, { "cpu", NULL, 0 }, { "count", NULL, 0 },
	{ "high", NULL, 0 }, { "batch", NULL, 0 }, PCP_COUNTERS(X)
};
#undef X
/* pcp's pagesets. */
static const struct out_col pageset_cols[] = {
	{ "worker", "WORKER", 0 }, { "cpu", "CPU", OUT_DASH_NEG }, { "count", "COUNT", 0 },
	{ "high", "HIGH", 0 }, { "batch", "BATCH", 0 },
};

struct pcp_sum {
#define X(name, title, desc) uint64_t name;
	PCP_COUNTERS(X)
#undef X
};

struct pool_agg {
	const char *name;
	unsigned npcps;
	struct pcp_sum sum;
};

struct worker_agg {
	uint32_t worker;
	int32_t cpu;
	const Pagepool__V1__WorkerStats *ws;	/* NULL: only seen in pcps */
	struct pcp_sum sum;
};

struct stats_agg {
	struct pool_agg *pools;
	size_t npools;
	struct worker_agg *workers;
	size_t nworkers;
};

/* Counters wrap at 2^64 in the daemon; a sum saturates rather than lie small. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static void pcp_sum_add(struct pcp_sum *s, const Pagepool__V1__PcpStats *p)
{
#define X(name, title, desc) s->name = sat_add(s->name, p->name);
	PCP_COUNTERS(X)
#undef X
}

static void pcp_sum_cells(struct out *o, const struct pcp_sum *s)
{
#define X(name, title, desc) out_cell_u64(o, s->name);
	PCP_COUNTERS(X)
#undef X
}

static struct worker_agg *worker_find(struct worker_agg *w, size_t *n, uint32_t worker,
				      int32_t cpu)
{
	for (size_t i = 0; i < *n; i++)
		if (w[i].worker == worker)
			return &w[i];
	w[*n] = (struct worker_agg){ .worker = worker, .cpu = cpu };
	return &w[(*n)++];
}

static int worker_cmp(const void *x, const void *y)
{
	const struct worker_agg *a = x, *b = y;

	return a->worker < b->worker ? -1 : a->worker > b->worker;
}

static void stats_agg_free(struct stats_agg *g)
{
	free(g->pools);
	free(g->workers);
}

/* Sum the pcps per pool (in order of first appearance) and per worker (in
 * worker order, with its WorkerStats).  0 or -ENOMEM. */
static int stats_aggregate(const Pagepool__V1__AdminStats *st, struct stats_agg *g)
{
	*g = (struct stats_agg){ 0 };
	g->pools = calloc(st->n_pcps + 1, sizeof(*g->pools));
	g->workers = calloc(st->n_pcps + st->n_workers + 1, sizeof(*g->workers));
	if (!g->pools || !g->workers) {
		stats_agg_free(g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < st->n_workers; i++) {
		const Pagepool__V1__WorkerStats *ws = st->workers[i];

		worker_find(g->workers, &g->nworkers, ws->worker, ws->cpu)->ws = ws;
	}
	for (size_t i = 0; i < st->n_pcps; i++) {
		const Pagepool__V1__PcpStats *p = st->pcps[i];
		size_t k;

		for (k = 0; k < g->npools; k++)
			if (strcmp(g->pools[k].name, p->pool) == 0)
				break;
		if (k == g->npools)
			g->pools[g->npools++].name = p->pool;
		g->pools[k].npcps++;
		pcp_sum_add(&g->pools[k].sum, p);
		pcp_sum_add(&worker_find(g->workers, &g->nworkers, p->worker, p->cpu)->sum, p);
	}
	qsort(g->workers, g->nworkers, sizeof(*g->workers), worker_cmp);
	return 0;
}

static void stats_out(struct out *o, const Pagepool__V1__AdminStats *st,
		      const struct stats_agg *g)
{
	out_table_begin(o, "pools", pool_cols, NCOLS(pool_cols), "");
	for (size_t i = 0; i < g->npools; i++) {
		out_row(o);
		out_cell_str(o, g->pools[i].name);
		out_cell_u64(o, g->pools[i].npcps);
		pcp_sum_cells(o, &g->pools[i].sum);
	}
	out_table_end(o);
	out_text(o, "\n");
	out_table_begin(o, "workers", worker_cols, NCOLS(worker_cols), "");
	for (size_t i = 0; i < g->nworkers; i++) {
		const struct worker_agg *w = &g->workers[i];

		out_row(o);
		out_cell_u64(o, w->worker);
		out_cell_i64(o, w->cpu);
		if (w->ws) {
			out_cell_u64(o, w->ws->connections);
			out_cell_u64(o, w->ws->wakeups);
			out_cell_u64(o, w->ws->loops);
		} else {
			out_cell_null(o);
			out_cell_null(o);
			out_cell_null(o);
		}
		pcp_sum_cells(o, &w->sum);
	}
	out_table_end(o);
	out_table_begin(o, "pcps", pcp_cols, NCOLS(pcp_cols), "");
	for (size_t i = 0; i < st->n_pcps; i++) {
		const Pagepool__V1__PcpStats *p = st->pcps[i];

		out_row(o);
		out_cell_str(o, p->pool);
		out_cell_u64(o, p->worker);
		out_cell_i64(o, p->cpu);
		out_cell_i64(o, p->count);
		out_cell_i64(o, p->high);
		out_cell_i64(o, p->batch);
#define X(name, title, desc) out_cell_u64(o, p->name);
		PCP_COUNTERS(X)
#undef X
	}
	out_table_end(o);
}

/* Request the stats; EX_OK with *out, or the exit status reported. */
static int stats_fetch(struct ctl *c, admin_response **out)
{
	return request_empty(c, PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATS,
			     &pagepool__v1__admin_stats_req__descriptor,
			     PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATS, out);
}

static int cmd_stats_run(struct ctl *c, const struct ctl_args *a)
{
	struct stats_agg g;
	admin_response *resp;
	int rc, err;

	rc = stats_fetch(c, &resp);
	if (rc)
		return rc;
	err = stats_aggregate(resp->stats, &g);
	if (!err) {
		stats_out(&c->out, resp->stats, &g);
		stats_agg_free(&g);
	}
	request_free(resp);
	return err ? report_errno(c, err, NULL) : 0;
}

/* Is pcps[i] the first entry of its pool? */
static bool pcp_pool_first(const Pagepool__V1__AdminStats *st, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (strcmp(st->pcps[k]->pool, st->pcps[i]->pool) == 0)
			return false;
	return true;
}

/* One pool's pagesets, /proc/zoneinfo style. */
static void pcp_pool_out(struct out *o, const Pagepool__V1__AdminStats *st, size_t first)
{
	const char *pool = st->pcps[first]->pool;

	out_obj_begin(o, NULL);
	out_str(o, "name", "Pool %s\n  pagesets\n", pool);
	out_table_begin(o, "pagesets", pageset_cols, NCOLS(pageset_cols), "    ");
	for (size_t k = first; k < st->n_pcps; k++) {
		const Pagepool__V1__PcpStats *p = st->pcps[k];

		if (strcmp(p->pool, pool) != 0)
			continue;
		out_row(o);
		out_cell_u64(o, p->worker);
		out_cell_i64(o, p->cpu);
		out_cell_i64(o, p->count);
		out_cell_i64(o, p->high);
		out_cell_i64(o, p->batch);
	}
	out_table_end(o);
	out_end(o);
}

static int cmd_pcp_run(struct ctl *c, const struct ctl_args *a)
{
	admin_response *resp;
	int rc;

	rc = stats_fetch(c, &resp);
	if (rc)
		return rc;
	out_arr_begin(&c->out, "pools");
	for (size_t i = 0; i < resp->stats->n_pcps; i++)
		if (pcp_pool_first(resp->stats, i))
			pcp_pool_out(&c->out, resp->stats, i);
	out_end(&c->out);
	request_free(resp);
	return 0;
}

const struct ctl_cmd cmd_stats_entry = {
	"stats", "",
	"Show the allocator counters, summed per pool and per worker: pages\n"
	"allocated (ALLOC) and freed (FREE), allocations served from the pcplist\n"
	"(PCP_HITS), refills from the buddy allocator, bulk frees back to it,\n"
	"allocations that went to the buddy directly (BUDDY_DIRECT), NOWAIT\n"
	"failures, self drains, drains (remote or on request) and pages drained.\n"
	"Per worker also its CPU, connections, eventfd wake-ups and event-loop\n"
	"callbacks (LOOPS).  JSON: {pools: [...], workers: [...], pcps: [every raw\n"
	"per-pool, per-worker entry]}.",
	0, 0, cmd_stats_run,
};

const struct ctl_cmd cmd_pcp_entry = {
	"pcp", "",
	"Show every pool's pagesets, in the spirit of /proc/zoneinfo: per worker\n"
	"its CPU ('-' when not pinned), the pages cached now (COUNT), the high\n"
	"watermark (HIGH) and the batch size (BATCH).\n"
	"JSON: {pools: [{name, pagesets: [{worker, cpu, count, high, batch}]}]}.",
	0, 0, cmd_pcp_run,
};
