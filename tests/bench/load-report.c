/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * load-report.c - bench_load drain's output: the pinning and method, the
 * drain-time and latency tables (Markdown, stdout) and the .dat files.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "load.h"

static const char *const w_names[W_NR] = { "quiet", "null", "storm" };
static const char *const d_names[D_NR] = { "idle", "idle-empty", "saturated", "storm" };
static const char *const d_labels[D_NR] = {
	"idle, lists at high - 1",
	"idle, lists empty, --force",
	"saturated, lists as the load leaves them",
	"saturated, during the storm (--force)",
};

struct dsum {
	size_t n;
	double p50, p90, p99, max, pages, rtt;
};

static void dsum_of(const struct drain_set *s, struct dsum *o)
{
	struct samples us = { 0 }, pg = { 0 }, rtt = { 0 };

	memset(o, 0, sizeof(*o));
	o->n = s->n;
	if (!s->n)
		return;
	for (size_t i = 0; i < s->n; i++) {
		samples_push(&us, s->v[i].usec);
		samples_push(&pg, s->v[i].pages);
		samples_push(&rtt, s->v[i].rtt_ns);
	}
	samples_sort(&us);
	samples_sort(&pg);
	samples_sort(&rtt);
	o->p50 = (double)pct_u64(us.v, us.n, 0.50);
	o->p90 = (double)pct_u64(us.v, us.n, 0.90);
	o->p99 = (double)pct_u64(us.v, us.n, 0.99);
	o->max = (double)us.v[us.n - 1];
	o->pages = (double)pct_u64(pg.v, pg.n, 0.50);
	o->rtt = pct_us(rtt.v, rtt.n, 0.50);
	free(us.v);
	free(pg.v);
	free(rtt.v);
}

/* Medians over repetitions of one target's windows of one kind. */
static void wres_median(const struct wres *w, unsigned n, struct wres *o)
{
	double v[5][MAX_REPS];

	for (unsigned r = 0; r < n; r++) {
		v[0][r] = w[r].p50;
		v[1][r] = w[r].p99;
		v[2][r] = w[r].p999;
		v[3][r] = w[r].req_per_s;
		v[4][r] = w[r].admin_per_s;
	}
	o->p50 = median(v[0], n, NULL, NULL);
	o->p99 = median(v[1], n, NULL, NULL);
	o->p999 = median(v[2], n, NULL, NULL);
	o->req_per_s = median(v[3], n, NULL, NULL);
	o->admin_per_s = median(v[4], n, NULL, NULL);
}

static void dr_medians(const struct dr *d, const struct target *t, struct wres *m)
{
	for (int k = 0; k < W_NR; k++)
		wres_median(t->w[k], d->reps, &m[k]);
}

void dr_report_drains(struct dr *d)
{
	printf("#### (a) Drain time, as the daemon reports it (AdminDrained.usec: the whole "
	       "pool_drain() on the admin thread)\n\n");
	printf("| mode | condition | drains | us p50 | us p90 | us p99 | us max | "
	       "pages/drain p50 | admin round trip p50 us |\n");
	printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
	for (unsigned j = 0; j < d->nt; j++) {
		for (unsigned k = 0; k < D_NR; k++) {
			struct dsum s;

			dsum_of(&d->t[j].drains[k], &s);
			if (!s.n)
				continue;
			printf("| %s | %s | %zu | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f |\n",
			       d->t[j].mode, d_labels[k], s.n, s.p50, s.p90, s.p99, s.max, s.pages,
			       s.rtt);
		}
	}
	printf("\n");
	for (unsigned j = 0; j < d->nt; j++) {
		struct dsum s;

		if (strcmp(d->t[j].mode, "rcu") != 0)
			continue;
		dsum_of(&d->t[j].drains[D_IDLE], &s);
		printf("Aim (an idle rcu drain of %u workers under 100 us): p50 %.0f us, p90 "
		       "%.0f us, max %.0f us: **%s** (at p50%s).\n\n", d->t[j].nconn, s.p50,
		       s.p90, s.max, s.p50 < 100 ? "met" : "missed",
		       s.max < 100 ? " and at max" : "");
	}
}

static const char *const w_labels[W_NR] = {
	"quiet (no admin requests)",
	"null storm (status requests)",
	"**drain storm** (forced drains)",
};

void dr_report_storm(struct dr *d)
{
	struct wres m[W_NR];

	printf("#### (b) Saturated clients' request latency: quiet, a null storm (%.0f admin "
	       "status requests/s) and a drain storm (%.0f forced drains/s)\n\n", d->rate,
	       d->rate);
	printf("| mode | window | admin req/s | p50 us | p99 us | p999 us | p99 / quiet | "
	       "p99 / null storm | p999 / quiet | client requests/s |\n");
	printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
	for (unsigned j = 0; j < d->nt; j++) {
		dr_medians(d, &d->t[j], m);
		for (int k = 0; k < W_NR; k++) {
			printf("| %s | %s | %.0f | %.1f | %.1f | %.1f | ", d->t[j].mode, w_labels[k],
			       m[k].admin_per_s, m[k].p50, m[k].p99, m[k].p999);
			if (k == W_QUIET)
				printf("| ");
			else
				printf("%.3fx | ", m[k].p99 / m[W_QUIET].p99);
			if (k == W_STORM)
				printf("**%.3fx** | ", m[k].p99 / m[W_NULL].p99);
			else
				printf("| ");
			if (k == W_QUIET)
				printf("| ");
			else
				printf("%.2fx | ", m[k].p999 / m[W_QUIET].p999);
			printf("%.0f |\n", m[k].req_per_s);
		}
	}
	if (d->echo_path) {
		wres_median(d->floor, d->reps, &m[0]);
		printf("| floor | echo server, 1 conn, same CPU | | %.1f | %.1f | %.1f | | | | "
		       "%.0f |\n", m[0].p50, m[0].p99, m[0].p999, m[0].req_per_s);
	}
	printf("\n");
	for (unsigned j = 0; j < d->nt; j++) {
		const struct target *t = &d->t[j];
		double vq, vn;

		dr_medians(d, t, m);
		vq = (m[W_STORM].p99 / m[W_QUIET].p99 - 1) * 100;
		vn = (m[W_STORM].p99 / m[W_NULL].p99 - 1) * 100;
		if (strcmp(t->mode, "rcu") == 0)
			printf("Aim (rcu: p99 under the storm at most 5%% above quiet): %+.1f%%: "
			       "**%s**; against the null storm (the same admin traffic without "
			       "drains): %+.1f%%: **%s**.\n", vq, vq <= 5 ? "met" : "missed", vn,
			       vn <= 5 ? "within 5%" : "above 5%");
		else if (strcmp(t->mode, "workqueue") == 0)
			printf("Aim (workqueue: p99 visibly higher under the storm): %+.1f%% against "
			       "quiet, %+.1f%% against the null storm.\n", vq, vn);
		else
			printf("%s: p99 under the storm %+.1f%% against quiet, %+.1f%% against the "
			       "null storm.\n", t->mode, vq, vn);
		if (t->missed)
			printf("(%s: %u storm deadlines skipped because a drain ran late.)\n",
			       t->mode, t->missed);
	}
	printf("\n");
}

void dr_describe(struct dr *d)
{
	char buf[1024], cpus[128];

	printf("Pinning: ");
	for (unsigned j = 0; j < d->nt; j++) {
		daemon_cpus(peer_pid(d->t[j].adm.t.fd), "admin (main) thread", buf,
			    sizeof(buf));
		printf("%s daemon: %s; ", d->t[j].mode, buf);
	}
	printf("one client connection per worker, its thread pinned to that worker's CPU; "
	       "the drain (admin) client is this program's main thread, not pinned.");
	if (d->echo_path) {
		char pid[32];

		snprintf(pid, sizeof(pid), "%d", (int)peer_pid(d->echo.t.fd));
		task_cpus(pid, cpus, sizeof(cpus));
		printf("  Floor: echo server on CPU %s, its client on CPU %d.", cpus, d->echo_cpu);
	}
	printf("\n");
	print_machine();
	printf("Load: each client loops pp_alloc(order 0, %u) + pp_free, every request timed "
	       "(clock_gettime); pcp high %d, batch %d per worker.  Idle: %u drains per mode, "
	       "each after refilling the lists.  Saturated: %.0f drains/s for %llu ms per "
	       "repetition.  Storm: %.0f forced drains/s (clock_nanosleep on absolute "
	       "deadlines) for %llu ms; a null storm (the same rate of admin status "
	       "requests) and a quiet window of the same length; %u repetitions, %llu ms "
	       "warm-up per window, targets and window order taking turns; latency figures "
	       "are medians over repetitions of each window's percentiles.\n\n", d->batch,
	       d->t[0].view.pcp[0].high, d->t[0].view.pcp[0].batch,
	       d->idle, d->sat_rate, (unsigned long long)d->sat_ms, d->rate,
	       (unsigned long long)d->window_ms, d->reps, (unsigned long long)d->warm_ms);
}

void dr_write_dat(struct dr *d)
{
	FILE *f;

	if (d->drain_dat) {
		f = fopen(d->drain_dat, "w");
		if (!f)
			die("%s: %s", d->drain_dat, strerror(errno));
		fprintf(f, "# bench_load drain: drain time reported by the daemon (us) and pages "
			"per drain\n# mode condition drains us_p50 us_p90 us_p99 us_max "
			"pages_p50 rtt_p50_us\n");
		for (unsigned j = 0; j < d->nt; j++) {
			for (unsigned k = 0; k < D_NR; k++) {
				struct dsum s;

				dsum_of(&d->t[j].drains[k], &s);
				fprintf(f, "%s %s %zu %.0f %.0f %.0f %.0f %.0f %.1f\n", d->t[j].mode,
					d_names[k], s.n, s.p50, s.p90, s.p99, s.max, s.pages, s.rtt);
			}
		}
		fclose(f);
	}
	if (!d->storm_dat)
		return;
	f = fopen(d->storm_dat, "w");
	if (!f)
		die("%s: %s", d->storm_dat, strerror(errno));
	fprintf(f, "# bench_load storm: request latency (us) of saturated clients; windows: "
		"quiet, null storm (%.0f status requests/s), storm (%.0f forced drains/s)\n",
		d->rate, d->rate);
	fprintf(f, "# index 0: medians over %u repetitions, one row per mode\n", d->reps);
	fprintf(f, "# mode p50_quiet p99_quiet p999_quiet p50_null p99_null p999_null "
		"p50_storm p99_storm p999_storm p99_storm_vs_quiet p99_storm_vs_null "
		"req_per_s_quiet req_per_s_null req_per_s_storm drains_per_s\n");
	for (unsigned j = 0; j < d->nt; j++) {
		struct wres m[W_NR];

		dr_medians(d, &d->t[j], m);
		fprintf(f, "%s", d->t[j].mode);
		for (int k = 0; k < W_NR; k++)
			fprintf(f, " %.2f %.2f %.2f", m[k].p50, m[k].p99, m[k].p999);
		fprintf(f, " %.4f %.4f %.0f %.0f %.0f %.0f\n", m[W_STORM].p99 / m[W_QUIET].p99,
			m[W_STORM].p99 / m[W_NULL].p99, m[W_QUIET].req_per_s, m[W_NULL].req_per_s,
			m[W_STORM].req_per_s, m[W_STORM].admin_per_s);
	}
	fprintf(f, "\n\n# index 1: every window\n# mode rep window p50 p99 p999 req_per_s "
		"admin_per_s\n");
	for (unsigned j = 0; j < d->nt; j++)
		for (unsigned r = 0; r < d->reps; r++)
			for (int k = 0; k < W_NR; k++) {
				const struct wres *w = &d->t[j].w[k][r];

				fprintf(f, "%s %u %s %.2f %.2f %.2f %.0f %.0f\n", d->t[j].mode, r,
					w_names[k], w->p50, w->p99, w->p999, w->req_per_s,
					w->admin_per_s);
			}
	fclose(f);
}
