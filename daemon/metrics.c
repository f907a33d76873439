/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.c - the Prometheus text exposition of pagepoold (see metrics.h).
 * The admin thread sums the per-worker counters with relaxed loads, reads
 * the per-pool ones and the gauges, and prints every family with its HELP
 * and TYPE lines.  Every known label set is printed, zeros included, so a
 * rate() has a series from the start.  Label values from the configuration
 * (pool names) are escaped as the format asks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_req.h"
#include "clientcache.h"
#include "conn.h"
#include "metrics.h"
#include "worker.h"

#define X(n) #n,
static const char *const alloc_results[] = { METRICS_ALLOC_RESULTS(X) };
static const char *const free_results[] = { METRICS_FREE_RESULTS(X) };
static const char *const proto_kinds[] = { METRICS_PROTO_KINDS(X) };
static const char *const conn_causes[] = { METRICS_CONN_CAUSES(X) };
static const char *const triggers[] = { METRICS_TRIGGERS(X) };
static const char *const range_ops[] = { METRICS_RANGE_OPS(X) };
#undef X

/* A label value as the format wants it: \ " and newline escaped. */
static void metrics_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void metrics_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `name{pool="<pool>"` without the closing brace, for more labels. */
static void metrics_pool_open(FILE *f, const char *name, const char *pool)
{
	fprintf(f, "%s{pool=\"", name);
	metrics_label(f, pool);
	fputc('"', f);
}

static const char *metrics_mode_name(unsigned mode)
{
	return mode == MX_MODE_CLIENTS ? "clients" : drain_mode_name((enum drain_mode)mode);
}

/* One worker's count of allocations (frees = false) or frees of pool i,
 * order o, result r. */
static uint64_t worker_count(const struct metrics_worker *m, bool frees, unsigned i, unsigned o,
			     unsigned r)
{
	return frees ? READ_ONCE(m->frees[i][o][r]) : READ_ONCE(m->allocs[i][o][r]);
}

/* A family by pool, order and result, summed over the workers. */
static void metrics_by_order(FILE *f, struct daemon *d, const char *name, const char *help,
			     bool frees, const char *const *results, unsigned nresults)
{
	metrics_head(f, name, "counter", help);
	for (unsigned i = 0; i < d->cfg.npools; i++)
		for (unsigned o = 0; o < PP_NR_ORDERS; o++)
			for (unsigned r = 0; r < nresults; r++) {
				uint64_t v = 0;

				for (unsigned k = 0; k < d->nworkers; k++)
					v += worker_count(&d->workers[k]->mx, frees, i, o, r);
				metrics_pool_open(f, name, d->pools[i]->name);
				fprintf(f, ",order=\"%u\",result=\"%s\"} %lu\n", o, results[r],
					(unsigned long)v);
			}
}

/* Allocations and frees: summed over the workers, per pool, order, result. */
static void metrics_allocs(FILE *f, struct daemon *d)
{
	metrics_by_order(f, d, "pagepool_allocations_total",
			 "Allocations answered (Alloc requests and loans), by pool, block "
			 "order and result.", false, alloc_results, MX_ALLOC_NR);
	metrics_by_order(f, d, "pagepool_frees_total",
			 "Free requests answered, by pool, order of the first block and result.",
			 true, free_results, MX_FREE_NR);
}

static void metrics_conns(FILE *f, struct daemon *d)
{
	metrics_head(f, "pagepool_protocol_errors_total", "counter",
		     "Client requests refused as protocol violations, by kind.");
	for (unsigned r = 0; r < MX_PROTO_NR; r++) {
		uint64_t v = 0;

		for (unsigned k = 0; k < d->nworkers; k++)
			v += READ_ONCE(d->workers[k]->mx.proto[r]);
		fprintf(f, "pagepool_protocol_errors_total{kind=\"%s\"} %lu\n", proto_kinds[r],
			(unsigned long)v);
	}
	metrics_head(f, "pagepool_connections_total", "counter",
		     "Client connections accepted, refused, dropped or closed, by cause.");
	for (unsigned r = 0; r < MX_CONN_NR; r++) {
		uint64_t v = READ_ONCE(d->mx.conns[r]);

		for (unsigned k = 0; k < d->nworkers; k++)
			v += READ_ONCE(d->workers[k]->mx.conns[r]);
		fprintf(f, "pagepool_connections_total{cause=\"%s\"} %lu\n", conn_causes[r],
			(unsigned long)v);
	}
}

/* The drains of one pool's metrics m, labelled `pool` ("" for the client
 * cache drains of every pool at once). */
static void metrics_drains_of(FILE *f, const struct metrics_pool *m, const char *pool)
{
	for (unsigned mode = 0; mode < MX_MODE_NR; mode++)
		for (unsigned t = 0; t < MX_TRIGGER_NR; t++) {
			metrics_pool_open(f, "pagepool_drains_total", pool);
			fprintf(f, ",mode=\"%s\",trigger=\"%s\"} %lu\n", metrics_mode_name(mode),
				triggers[t], (unsigned long)READ_ONCE(m->drains[mode][t]));
		}
}

static bool metrics_all_pools_used(const struct metrics_pool *m)
{
	for (unsigned t = 0; t < MX_TRIGGER_NR; t++)
		if (READ_ONCE(m->drains[MX_MODE_CLIENTS][t]))
			return true;
	return false;
}

static void metrics_drains(FILE *f, struct daemon *d)
{
	const struct metrics_pool *all = &d->mx.all_pools;
	bool use_all = metrics_all_pools_used(all);

	metrics_head(f, "pagepool_drains_total", "counter",
		     "Drains by pool, mode and trigger; pool=\"\" is a client cache drain of "
		     "every pool.");
	for (unsigned i = 0; i < d->cfg.npools; i++)
		metrics_drains_of(f, &d->pools[i]->mx, d->pools[i]->name);
	if (use_all)
		metrics_drains_of(f, all, "");
	metrics_head(f, "pagepool_drained_pages_total", "counter",
		     "Pages returned to the buddy allocator by drains, by pool and mode.");
	for (unsigned i = 0; i <= d->cfg.npools; i++) {
		const struct metrics_pool *m = i < d->cfg.npools ? &d->pools[i]->mx : all;

		if (i == d->cfg.npools && !use_all)
			break;
		for (unsigned mode = 0; mode < MX_MODE_NR; mode++) {
			metrics_pool_open(f, "pagepool_drained_pages_total",
					  i < d->cfg.npools ? d->pools[i]->name : "");
			fprintf(f, ",mode=\"%s\"} %lu\n", metrics_mode_name(mode),
				(unsigned long)READ_ONCE(m->drained_pages[mode]));
		}
	}
	metrics_head(f, "pagepool_range_operations_total", "counter",
		     "Successful offline, online and trim operations, by pool.");
	for (unsigned i = 0; i < d->cfg.npools; i++)
		for (unsigned r = 0; r < MX_RANGE_NR; r++) {
			metrics_pool_open(f, "pagepool_range_operations_total", d->pools[i]->name);
			fprintf(f, ",op=\"%s\"} %lu\n", range_ops[r],
				(unsigned long)READ_ONCE(d->pools[i]->mx.range_ops[r]));
		}
}

/* Pages in the client caches of each pool, from their regions (stale). */
static void metrics_cached(struct daemon *d, uint64_t *cached)
{
	pthread_mutex_lock(&d->quota_lock);
	for (uint32_t s = 0; s < d->cfg.max_connections; s++) {
		struct conn *c = d->slots[s];
		struct ccache *cc = c ? __atomic_load_n(&c->cc, __ATOMIC_ACQUIRE) : NULL;

		if (cc && c->pool_idx >= 0)
			cached[c->pool_idx] += ccache_pages(cc);
	}
	pthread_mutex_unlock(&d->quota_lock);
}

static void metrics_gauges(FILE *f, struct daemon *d)
{
	uint64_t cached[CONFIG_MAX_POOLS] = { 0 };

	metrics_cached(d, cached);
	metrics_head(f, "pagepool_pages", "gauge", "Pages of each pool, by state.");
	for (unsigned i = 0; i < d->cfg.npools; i++) {
		static const char *const states[] = { "free", "pcp", "allocated", "isolated",
						      "offline", "cached_by_clients" };
		struct pool_counts c;

		pool_counts(d->pools[i], &c);
		{
			const uint64_t v[] = { c.free, c.pcp, c.allocated, c.isolated, c.offline,
					       cached[i] };

			for (unsigned s = 0; s < ARRAY_SIZE(states); s++) {
				metrics_pool_open(f, "pagepool_pages", d->pools[i]->name);
				fprintf(f, ",state=\"%s\"} %lu\n", states[s], (unsigned long)v[s]);
			}
		}
	}
	metrics_head(f, "pagepool_pool_size_pages", "gauge", "Pages in each pool.");
	for (unsigned i = 0; i < d->cfg.npools; i++) {
		metrics_pool_open(f, "pagepool_pool_size_pages", d->pools[i]->name);
		fprintf(f, "} %lu\n", (unsigned long)d->pools[i]->npages);
	}
	metrics_head(f, "pagepool_resident_bytes", "gauge",
		     "Bytes of each pool's arena resident in memory.");
	for (unsigned i = 0; i < d->cfg.npools; i++) {
		uint64_t res = 0;

		arena_resident(&d->pools[i]->arena, &res);
		metrics_pool_open(f, "pagepool_resident_bytes", d->pools[i]->name);
		fprintf(f, "} %lu\n", (unsigned long)res);
	}
	metrics_head(f, "pagepool_clients", "gauge", "Client connections open.");
	fprintf(f, "pagepool_clients %u\n", __atomic_load_n(&d->nconns, __ATOMIC_RELAXED));
	metrics_head(f, "pagepool_worker_connections", "gauge",
		     "Client connections served by each worker.");
	for (unsigned k = 0; k < d->nworkers; k++)
		fprintf(f, "pagepool_worker_connections{worker=\"%u\"} %u\n", k,
			__atomic_load_n(&d->workers[k]->nconns, __ATOMIC_RELAXED));
}

/* One histogram series: h's cumulative buckets, then _sum and _count,
 * labelled `label="value"`. */
static void metrics_hist(FILE *f, const char *name, const char *label, const char *value,
			 const struct metrics_hist *h)
{
	uint64_t cum = 0;

	for (unsigned b = 0; b < METRICS_HIST_BUCKETS; b++) {
		cum += h->bucket[b];
		fprintf(f, "%s_bucket{%s=\"%s\",le=\"", name, label, value);
		if (b <= METRICS_HIST_MAX_LOG2)
			fprintf(f, "%.7g", (double)(1u << b) / 1e6);
		else
			fputs("+Inf", f);
		fprintf(f, "\"} %lu\n", (unsigned long)cum);
	}
	fprintf(f, "%s_sum{%s=\"%s\"} %.9f\n", name, label, value, (double)h->sum_ns / 1e9);
	fprintf(f, "%s_count{%s=\"%s\"} %lu\n", name, label, value, (unsigned long)h->count);
}

/* A relaxed snapshot of `src` added into `dst` (private to the caller). */
static void metrics_hist_sum(struct metrics_hist *dst, const struct metrics_hist *src)
{
	for (unsigned b = 0; b < METRICS_HIST_BUCKETS; b++)
		dst->bucket[b] += READ_ONCE(src->bucket[b]);
	dst->sum_ns += READ_ONCE(src->sum_ns);
	dst->count += READ_ONCE(src->count);
}

static void metrics_hists(FILE *f, struct daemon *d)
{
	metrics_head(f, "pagepool_request_duration_seconds", "histogram",
		     "Time a worker took to handle a client request and frame its answer.");
	for (unsigned k = 0; k < d->nworkers; k++) {
		struct metrics_hist h;
		char w[16];

		memset(&h, 0, sizeof(h));
		metrics_hist_sum(&h, &d->workers[k]->mx.req);
		snprintf(w, sizeof(w), "%u", k);
		metrics_hist(f, "pagepool_request_duration_seconds", "worker", w, &h);
	}
	metrics_head(f, "pagepool_drain_duration_seconds", "histogram",
		     "Time drains took, by mode (every pool and trigger).");
	for (unsigned mode = 0; mode < MX_MODE_NR; mode++) {
		struct metrics_hist h;

		memset(&h, 0, sizeof(h));
		for (unsigned i = 0; i < d->cfg.npools; i++)
			metrics_hist_sum(&h, &d->pools[i]->mx.drain_time[mode]);
		metrics_hist_sum(&h, &d->mx.all_pools.drain_time[mode]);
		metrics_hist(f, "pagepool_drain_duration_seconds", "mode", metrics_mode_name(mode),
			     &h);
	}
}

int metrics_render(struct daemon *d, char **text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	metrics_allocs(f, d);
	metrics_conns(f, d);
	metrics_drains(f, d);
	metrics_gauges(f, d);
	metrics_hists(f, d);
	metrics_head(f, "pagepool_uptime_seconds", "gauge", "Seconds since pagepoold started.");
	fprintf(f, "pagepool_uptime_seconds %lld\n", (long long)(daemon_now() - d->started));
	metrics_head(f, "pagepool_build_info", "gauge", "The running pagepoold's version.");
	fputs("pagepool_build_info{version=\"", f);
	metrics_label(f, PAGEPOOLD_VERSION);
	fputs("\"} 1\n", f);
	if (ferror(f) | fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	*text = buf;
	return 0;
}
