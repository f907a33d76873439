/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * load-drain.c - bench_load drain (benchmark case 3): drains idle and under
 * load, and the saturated clients' latency in quiet, null-storm and storm
 * windows, taking turns over one daemon per drain mode.  See load-main.c
 * for the method; load-report.c prints the results.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "load.h"

static void target_free_held(struct target *t, unsigned k, unsigned n)
{
	int err;

	if (n == 0)
		return;
	err = pp_free(t->c[k], t->held[k] + t->nheld[k] - n, n, NULL);
	if (err < 0)
		die("pp_free: %s (%s)", pp_strerror(err), pp_last_error(t->c[k]));
	t->nheld[k] -= n;
}

/*
 * Leave every worker's pcp holding high - 1 pages, the most it keeps without
 * trimming: through each worker's connection allocate high - 1 pages (refills
 * of `batch` pages leave some cached), read the pcp count, and free just
 * enough of them to reach high - 1.  The rest stay held by the connection.
 */
static void target_fill(struct target *t, const char *pool)
{
	struct daemon_view v;

	for (unsigned k = 0; k < t->nconn; k++) {
		unsigned want = (unsigned)t->view.pcp[t->worker[k]].high - 1, max, got;

		target_free_held(t, k, t->nheld[k]);
		max = pp_info(t->c[k])->max_count;
		while (t->nheld[k] < want) {
			unsigned n = want - t->nheld[k] < max ? want - t->nheld[k] : max;
			int err = pp_alloc(t->c[k], 0, n, 0, t->held[k] + t->nheld[k], &got);

			if (err < 0)
				die("pp_alloc: %s (%s)", pp_strerror(err), pp_last_error(t->c[k]));
			t->nheld[k] += got;
		}
	}
	admin_view(&t->adm, pool, &v);
	for (unsigned k = 0; k < t->nconn; k++) {
		int high = t->view.pcp[t->worker[k]].high;
		int give = high - 1 - v.pcp[t->worker[k]].count;

		if (give > (int)t->nheld[k])
			give = (int)t->nheld[k];
		if (give > 0)
			target_free_held(t, k, (unsigned)give);
	}
}

static void target_open(struct target *t, const char *pool)
{
	admin_open(&t->adm, t->admin_path);
	admin_view(&t->adm, pool, &t->view);
	t->nconn = t->view.nworkers;
	if (t->nconn > MAX_CONNS)
		die("more workers than the bench has connections for");
	for (unsigned k = 0; k < t->view.nworkers; k++)
		if (t->view.pcp[k].high <= 1)
			die("target %s: pool %s needs its pcp on (high %d)", t->mode, pool,
			    t->view.pcp[k].high);
	connect_spread(t->sock, pool, &t->adm, &t->view, 0, t->nconn, t->c, t->cpu, t->worker);
	for (unsigned k = 0; k < t->nconn; k++)
		t->held[k] = xcalloc((size_t)t->view.pcp[t->worker[k]].high, sizeof(uint32_t));
}

/* (a) idle: one drain of full lists, then one forced drain of empty ones. */
static void dr_idle_sample(struct dr *d, struct target *t)
{
	struct drain_rec rec;

	target_fill(t, d->pool);
	admin_drain(&t->adm, d->pool, 0, &rec);
	drain_set_push(&t->drains[D_IDLE], &rec);
	admin_drain(&t->adm, d->pool, 1, &rec);
	drain_set_push(&t->drains[D_EMPTY], &rec);
}

/* Admin requests paced on absolute deadlines until `end`; see dr_window(). */
struct pacer {
	struct dr *d;
	struct target *t;
	double rate;
	int kind;			/* W_STORM: drains; W_NULL: status requests */
	int force;			/* drain with --force */
	struct drain_set *out;		/* drain records (W_STORM) */
	unsigned missed;
	size_t sent;
};

static void pacer_run(void *arg, uint64_t end)
{
	struct pacer *p = arg;
	uint64_t period = (uint64_t)(1e9 / p->rate), next = now_ns() + period;

	while (next < end) {
		struct drain_rec rec;
		uint64_t now;

		sleep_until_ns(next);
		if (p->kind == W_STORM) {
			admin_drain(&p->t->adm, p->d->pool, p->force, &rec);
			drain_set_push(p->out, &rec);
		} else {
			admin_clients(&p->t->adm);
		}
		p->sent++;
		next += period;
		now = now_ns();
		/* Running late: skip the deadlines already past rather than burst. */
		if (now > next + period) {
			p->missed += (unsigned)((now - next) / period);
			next = now;
		}
	}
}

static void wres_from(struct wres *w, struct samples *lat, uint64_t requests, double secs,
		      size_t admin)
{
	samples_sort(lat);
	w->p50 = pct_us(lat->v, lat->n, 0.50);
	w->p99 = pct_us(lat->v, lat->n, 0.99);
	w->p999 = pct_us(lat->v, lat->n, 0.999);
	w->req_per_s = (double)requests / secs;
	w->admin_per_s = (double)admin / secs;
}

/*
 * One window on target t: a client thread per connection (each pinned to its
 * worker's CPU) runs alloc(batch) + free; after the warm-up every request is
 * timed for len_ms while this thread sends admin requests of `kind` at `rate`
 * per second (W_STORM: drains, forced if `force`; W_NULL: status requests;
 * W_QUIET: nothing).  Drain records go to `out`; w (may be NULL) gets the
 * latency percentiles.
 */
static void dr_window(struct dr *d, struct target *t, int kind, int force, double rate,
		      uint64_t len_ms, struct drain_set *out, struct wres *w)
{
	struct loader ls[MAX_CONNS];
	struct pacer p = { d, t, rate, kind, force, out, 0, 0 };
	struct samples all = { 0 };
	uint64_t requests = 0;
	double secs = 0;
	int phase = PH_WARM;

	memset(ls, 0, sizeof(ls));
	for (unsigned k = 0; k < t->nconn; k++) {
		target_free_held(t, k, t->nheld[k]);
		ls[k].c = t->c[k];
		ls[k].cpu = t->cpu[k];
		loader_start(&ls[k], &phase, d->batch, w != NULL);
	}
	loaders_run(ls, t->nconn, &phase, d->warm_ms * 1000000, len_ms * 1000000,
		    kind != W_QUIET ? pacer_run : NULL, &p);
	for (unsigned k = 0; k < t->nconn; k++) {
		samples_append(&all, &ls[k].lat);
		requests += ls[k].requests;
		if (ls[k].t1 > ls[k].t0 && (double)(ls[k].t1 - ls[k].t0) / 1e9 > secs)
			secs = (double)(ls[k].t1 - ls[k].t0) / 1e9;
		free(ls[k].lat.v);
		free(ls[k].pfns);
	}
	t->missed += p.missed;
	if (w)
		wres_from(w, &all, requests, secs > 0 ? secs : 1, p.sent);
	free(all.v);
}

/* The floor: the same request sizes and loop against the echo server. */
static void dr_floor_window(struct dr *d, struct wres *w)
{
	struct loader l;
	int phase = PH_WARM;

	memset(&l, 0, sizeof(l));
	l.e = &d->echo;
	l.cpu = d->echo_cpu;
	loader_start(&l, &phase, d->batch, 1);
	loaders_run(&l, 1, &phase, d->warm_ms * 1000000, d->window_ms * 1000000, NULL, NULL);
	wres_from(w, &l.lat, l.requests,
		  l.t1 > l.t0 ? (double)(l.t1 - l.t0) / 1e9 : 1, 0);
	free(l.lat.v);
	free(l.pfns);
}

static void dr_run(struct dr *d)
{
	unsigned idle_rounds = d->idle;

	/* (a) idle drains: the targets take turns. */
	for (unsigned i = 0; i < idle_rounds; i++)
		for (unsigned j = 0; j < d->nt; j++)
			dr_idle_sample(d, &d->t[(i + j) % d->nt]);
	fprintf(stderr, "  drain: %u idle drains per mode done\n", idle_rounds);

	/* (a) saturated, then (b) quiet, null storm and storm, in turns. */
	for (unsigned r = 0; r < d->reps; r++) {
		for (unsigned j = 0; j < d->nt; j++) {
			struct target *t = &d->t[(r + j) % d->nt];

			dr_window(d, t, W_STORM, 0, d->sat_rate, d->sat_ms, &t->drains[D_SAT],
				  NULL);
			for (unsigned k = 0; k < W_NR; k++) {
				unsigned kind = (k + r + j) % W_NR;

				dr_window(d, t, (int)kind, 1, d->rate, d->window_ms,
					  &t->drains[D_STORM], &t->w[kind][r]);
			}
		}
		if (d->echo_path)
			dr_floor_window(d, &d->floor[r]);
		fprintf(stderr, "  drain: repetition %u/%u done\n", r + 1, d->reps);
	}
}

static void dr_add_target(struct dr *d, const char *spec)
{
	struct target *t;
	char *s, *c1, *c2;

	if (d->nt == MAX_TARGETS)
		die("at most %d targets", MAX_TARGETS);
	t = &d->t[d->nt++];
	s = strdup(spec);
	c1 = s ? strchr(s, ',') : NULL;
	c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c2)
		die("--target MODE,SOCKET,ADMIN_SOCKET, not \"%s\"", spec);
	*c1 = *c2 = 0;
	t->mode = s;
	t->sock = c1 + 1;
	t->admin_path = c2 + 1;
}

/* The echo server answers with real pfns, for the frame sizes: from the
 * first target's first connection. */
static void dr_echo_setup(struct dr *d)
{
	struct target *t = &d->t[0];
	unsigned got;
	int err;

	if (!d->echo_path)
		return;
	echo_connect(&d->echo, d->echo_path);
	d->floor_pfns = xcalloc(d->batch, sizeof(uint32_t));
	err = pp_alloc(t->c[0], 0, d->batch, 0, d->floor_pfns, &got);
	if (err < 0 || got != d->batch)
		die("pp_alloc: %s (%s)", pp_strerror(err), pp_last_error(t->c[0]));
	err = pp_free(t->c[0], d->floor_pfns, got, NULL);
	if (err < 0)
		die("pp_free: %s (%s)", pp_strerror(err), pp_last_error(t->c[0]));
	echo_free(&d->echo, d->floor_pfns, got);
}

int cmd_drain(int argc, char **argv)
{
	static struct dr d;

	d.pool = "default";
	d.reps = 5;
	d.idle = 30;
	d.batch = 16;
	d.rate = 1000;
	d.sat_rate = 50;
	d.window_ms = 3000;
	d.sat_ms = 400;
	d.warm_ms = 200;
	for (int i = 2; i < argc; i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("%s needs a value", o);
		if (!strcmp(o, "--target"))
			dr_add_target(&d, v);
		else if (!strcmp(o, "--pool"))
			d.pool = v;
		else if (!strcmp(o, "--reps"))
			d.reps = parse_uint(v, 1, MAX_REPS);
		else if (!strcmp(o, "--idle"))
			d.idle = parse_uint(v, 1, 1000000);
		else if (!strcmp(o, "--batch"))
			d.batch = parse_uint(v, 1, 1024);
		else if (!strcmp(o, "--rate"))
			d.rate = parse_uint(v, 1, 1000000);
		else if (!strcmp(o, "--sat-rate"))
			d.sat_rate = parse_uint(v, 1, 1000000);
		else if (!strcmp(o, "--window-ms"))
			d.window_ms = parse_uint(v, 1, 600000);
		else if (!strcmp(o, "--sat-ms"))
			d.sat_ms = parse_uint(v, 1, 600000);
		else if (!strcmp(o, "--warmup-ms"))
			d.warm_ms = parse_uint(v, 0, 600000);
		else if (!strcmp(o, "--echo"))
			d.echo_path = v;
		else if (!strcmp(o, "--echo-cpu"))
			d.echo_cpu = (int)parse_uint(v, 0, 4095);
		else if (!strcmp(o, "--drain-dat"))
			d.drain_dat = v;
		else if (!strcmp(o, "--storm-dat"))
			d.storm_dat = v;
		else
			die("unknown option %s", o);
	}
	if (d.nt == 0)
		die("drain needs at least one --target MODE,SOCKET,ADMIN_SOCKET");
	for (unsigned j = 0; j < d.nt; j++)
		target_open(&d.t[j], d.pool);
	dr_echo_setup(&d);
	dr_run(&d);
	dr_describe(&d);
	dr_report_drains(&d);
	dr_report_storm(&d);
	dr_write_dat(&d);
	return 0;
}

