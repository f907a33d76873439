/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * load-throughput.c - bench_load throughput (benchmark case 2): pages per
 * second with the pcp on and off, side by side with the echo floor, and
 * (--daemon-pid) the CPU time the daemon's workers spend per page in the
 * one-connection cells.  See load-main.c for the method.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "benchutil.h"
#include "load.h"

/* TP_PLAIN: pcp on, the client asking for plain pfn lists (PAGEPOOL_RUNS=0)
 * instead of runs; 1-connection rows. */
enum { TP_ON, TP_OFF, TP_FLOOR, TP_PLAIN, TP_NR };

struct tp {
	const char *sock, *admin_path, *pool[2], *echo_path, *dat;
	int echo_cpu;
	pid_t dpid;		/* --daemon-pid, or 0: no CPU accounting */
	unsigned batches[MAX_LIST], nbatch, conns[MAX_LIST], nconns, reps;
	uint64_t ms, warm_ms;
	struct admin adm;
	struct daemon_view view;
	struct echo echo;
	uint32_t *floor_pfns[MAX_LIST];	/* the echo server's answers, per batch */
	double *res;		/* [rep][conns][batch][variant] pages/s */
	double *nspp;		/* the same cells: worker CPU ns per page, 0 unmeasured */
};

static size_t tp_index(const struct tp *t, unsigned r, unsigned ci, unsigned bi, unsigned v)
{
	return ((r * t->nconns + ci) * t->nbatch + bi) * TP_NR + v;
}

static double *tp_cell(struct tp *t, unsigned r, unsigned ci, unsigned bi, unsigned v)
{
	return &t->res[tp_index(t, r, ci, bi, v)];
}

/* Whether the cell's worker CPU per page is measured: 1 connection to the
 * daemon (with more, the workers' time is no single client's). */
static int tp_has_cpu(const struct tp *t, unsigned ci)
{
	return t->dpid > 0 && t->conns[ci] == 1;
}

/* Read /proc/PID/task/TID/FILE into buf (NUL-terminated); 0 or -errno (a
 * thread may end meanwhile). */
static int tp_read_task(pid_t pid, const char *tid, const char *file, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/%s", (int)pid, tid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		err = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return err;
}

/*
 * The CPU time (ns) the daemon's worker threads - every task of pid whose
 * comm starts with "pp-worker" - have run so far: the sum of the first
 * field of their schedstat (the scheduler's sum_exec_runtime).  The kernel
 * brings it up to date whenever a thread leaves its CPU; a worker serving
 * one connection sleeps in epoll_wait between requests, so it is current
 * at the edges of a window to within one request.  Ends the program if
 * pid has no such thread.
 */
static uint64_t tp_worker_cpu_ns(pid_t pid)
{
	char path[64], buf[128];
	struct dirent *de;
	uint64_t sum = 0;
	unsigned found = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		die("%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (tp_read_task(pid, de->d_name, "comm", buf, sizeof(buf)) ||
		    strncmp(buf, "pp-worker", 9) != 0)
			continue;
		if (tp_read_task(pid, de->d_name, "schedstat", buf, sizeof(buf)))
			continue;
		sum += strtoull(buf, NULL, 10);
		found++;
	}
	closedir(d);
	if (!found)
		die("pid %d has no pp-worker thread with a readable schedstat", (int)pid);
	return sum;
}

/* loaders_run's `during`: the workers' CPU time from the start of the
 * measured window to its deadline. */
struct tp_cpu {
	pid_t pid;
	uint64_t ns;
};

static void tp_cpu_during(void *arg, uint64_t end)
{
	struct tp_cpu *c = arg;
	uint64_t t0 = tp_worker_cpu_ns(c->pid);

	sleep_until_ns(end);
	c->ns = tp_worker_cpu_ns(c->pid) - t0;
}

/* One cell: pages/s of n client threads on pool `variant`, or of the echo
 * client.  *nspp (not NULL: a 1-connection daemon cell with --daemon-pid)
 * gets the workers' CPU ns per page counted in the window. */
static double tp_measure(struct tp *t, unsigned variant, unsigned n, unsigned bi, double *nspp)
{
	struct pp_client *cs[MAX_CONNS];
	struct loader ls[MAX_CONNS];
	int cpu[MAX_CONNS], phase = PH_WARM;
	struct tp_cpu tc = { .pid = t->dpid };
	uint64_t pages = 0;
	double rate = 0;

	memset(ls, 0, sizeof(ls));
	if (variant == TP_FLOOR) {
		/* From now on the echo server answers with this batch's pfns. */
		echo_free(&t->echo, t->floor_pfns[bi], t->batches[bi]);
		ls[0].e = &t->echo;
		ls[0].cpu = t->echo_cpu;
		n = 1;
	} else {
		const char *env = getenv("PAGEPOOL_RUNS");
		char *saved = env ? strdup(env) : NULL;

		if (variant == TP_PLAIN)
			setenv("PAGEPOOL_RUNS", "0", 1);
		connect_spread(t->sock, t->pool[variant == TP_PLAIN ? TP_ON : variant], &t->adm,
			       &t->view, 0, n, cs, cpu, NULL);
		if (variant == TP_PLAIN) {
			if (saved)
				setenv("PAGEPOOL_RUNS", saved, 1);
			else
				unsetenv("PAGEPOOL_RUNS");
		}
		free(saved);
		for (unsigned i = 0; i < n; i++) {
			ls[i].c = cs[i];
			ls[i].cpu = cpu[i];
		}
	}
	for (unsigned i = 0; i < n; i++)
		loader_start(&ls[i], &phase, t->batches[bi], 0);
	loaders_run(ls, n, &phase, t->warm_ms * 1000000, t->ms * 1000000,
		    nspp ? tp_cpu_during : NULL, &tc);
	for (unsigned i = 0; i < n; i++) {
		rate += loader_rate(&ls[i], ls[i].pages);
		pages += ls[i].pages;
		free(ls[i].pfns);
		if (ls[i].c)
			pp_close(ls[i].c);
	}
	if (nspp)
		*nspp = pages ? (double)tc.ns / (double)pages : 0;
	return rate;
}

/* Echo frames sized like real ones: allocate each batch once for its pfns. */
static void tp_echo_setup(struct tp *t)
{
	struct pp_client *c;
	int err;

	if (!t->echo_path)
		return;
	echo_connect(&t->echo, t->echo_path);
	err = pp_connect(t->sock, t->pool[TP_ON], &c);
	if (err < 0)
		die("pp_connect: %s (%s)", pp_strerror(err), pp_last_error(NULL));
	for (unsigned bi = 0; bi < t->nbatch; bi++) {
		unsigned b = t->batches[bi], got;
		uint32_t *pfns = xcalloc(b, sizeof(uint32_t));

		err = pp_alloc(c, 0, b, 0, pfns, &got);
		if (err < 0 || got != b)
			die("pp_alloc(0, %u): %s (%s)", b, pp_strerror(err), pp_last_error(c));
		t->floor_pfns[bi] = pfns;
		err = pp_free(c, pfns, got, NULL);
		if (err < 0)
			die("pp_free: %s (%s)", pp_strerror(err), pp_last_error(c));
	}
	pp_close(c);
}

static void tp_run(struct tp *t)
{
	for (unsigned r = 0; r < t->reps; r++) {
		for (unsigned ci = 0; ci < t->nconns; ci++) {
			for (unsigned bi = 0; bi < t->nbatch; bi++) {
				unsigned first = (r + ci + bi) & 1;
				int cpu = tp_has_cpu(t, ci);

				*tp_cell(t, r, ci, bi, first) = tp_measure(t, first, t->conns[ci], bi,
					cpu ? &t->nspp[tp_index(t, r, ci, bi, first)] : NULL);
				*tp_cell(t, r, ci, bi, !first) = tp_measure(t, !first, t->conns[ci], bi,
					cpu ? &t->nspp[tp_index(t, r, ci, bi, !first)] : NULL);
				if (t->echo_path && t->conns[ci] == 1)
					*tp_cell(t, r, ci, bi, TP_FLOOR) =
						tp_measure(t, TP_FLOOR, 1, bi, NULL);
				if (t->conns[ci] == 1)
					*tp_cell(t, r, ci, bi, TP_PLAIN) = tp_measure(t, TP_PLAIN, 1, bi,
						cpu ? &t->nspp[tp_index(t, r, ci, bi, TP_PLAIN)] : NULL);
			}
		}
		fprintf(stderr, "  throughput: repetition %u/%u done\n", r + 1, t->reps);
	}
}

struct tp_sum {
	double med[TP_NR], lo[TP_NR], hi[TP_NR];
	double nspp[TP_NR];		/* medians (not TP_FLOOR) */
	int have_floor, have_cpu, have_plain;
};

static void tp_summarise(struct tp *t, unsigned ci, unsigned bi, struct tp_sum *s)
{
	double v[MAX_REPS];

	s->have_floor = t->echo_path && t->conns[ci] == 1;
	s->have_plain = t->conns[ci] == 1;
	s->have_cpu = tp_has_cpu(t, ci);
	for (unsigned k = 0; k < TP_NR; k++) {
		for (unsigned r = 0; r < t->reps; r++)
			v[r] = *tp_cell(t, r, ci, bi, k);
		s->med[k] = median(v, t->reps, &s->lo[k], &s->hi[k]);
		if (k == TP_FLOOR)
			continue;
		for (unsigned r = 0; r < t->reps; r++)
			v[r] = t->nspp[tp_index(t, r, ci, bi, k)];
		s->nspp[k] = median(v, t->reps, NULL, NULL);
	}
}

static void fmt_rate(char *buf, size_t len, double pps)
{
	if (pps >= 1e6)
		snprintf(buf, len, "%.2f M", pps / 1e6);
	else
		snprintf(buf, len, "%.1f k", pps / 1e3);
}

static void tp_write_dat(struct tp *t)
{
	FILE *f = fopen(t->dat, "w");

	if (!f)
		die("%s: %s", t->dat, strerror(errno));
	fprintf(f, "# bench_load throughput: pages/s (one page = one order-0 page allocated "
		"and freed), medians of %u repetitions\n", t->reps);
	fprintf(f, "# one block per connection count (gnuplot index 0..%u); \"-\" = not "
		"measured (the floor uses one connection)\n", t->nconns - 1);
	fprintf(f, "# conns batch on_pps off_pps ratio floor_pps on_min on_max off_min off_max "
		"on_ns_page off_ns_page plain_pps plain_ns_page\n");
	fprintf(f, "# *_ns_page: the daemon's worker CPU ns per page (--daemon-pid, 1 "
		"connection; \"-\" otherwise); plain_*: pcp on, plain pfn lists "
		"(PAGEPOOL_RUNS=0), 1 connection\n");
	for (unsigned ci = 0; ci < t->nconns; ci++) {
		if (ci)
			fprintf(f, "\n\n");
		for (unsigned bi = 0; bi < t->nbatch; bi++) {
			struct tp_sum s;

			tp_summarise(t, ci, bi, &s);
			fprintf(f, "%u %u %.0f %.0f %.4f ", t->conns[ci], t->batches[bi],
				s.med[TP_ON], s.med[TP_OFF],
				s.med[TP_OFF] > 0 ? s.med[TP_ON] / s.med[TP_OFF] : 0);
			if (s.have_floor)
				fprintf(f, "%.0f ", s.med[TP_FLOOR]);
			else
				fprintf(f, "- ");
			fprintf(f, "%.0f %.0f %.0f %.0f ", s.lo[TP_ON], s.hi[TP_ON], s.lo[TP_OFF],
				s.hi[TP_OFF]);
			if (s.have_cpu)
				fprintf(f, "%.1f %.1f ", s.nspp[TP_ON], s.nspp[TP_OFF]);
			else
				fprintf(f, "- - ");
			if (s.have_plain)
				fprintf(f, "%.0f ", s.med[TP_PLAIN]);
			else
				fprintf(f, "- ");
			if (s.have_plain && s.have_cpu)
				fprintf(f, "%.1f\n", s.nspp[TP_PLAIN]);
			else
				fprintf(f, "-\n");
		}
	}
	fclose(f);
}

static void tp_report(struct tp *t)
{
	unsigned last = t->nbatch - 1, n = 0, met = 0;
	char a[32], b[32], c[32];

	printf("| conns | batch | pcp on, pages/s | pcp off, pages/s | on / off | "
	       "floor (echo, 1 conn), pages/s | on / floor | pcp on, plain lists | plain / floor |%s\n",
	       t->dpid > 0 ? " daemon ns/page (pcp on; plain) |" : "");
	printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |%s\n",
	       t->dpid > 0 ? " --- |" : "");
	for (unsigned ci = 0; ci < t->nconns; ci++) {
		for (unsigned bi = 0; bi < t->nbatch; bi++) {
			struct tp_sum s;
			double ratio;

			tp_summarise(t, ci, bi, &s);
			ratio = s.med[TP_OFF] > 0 ? s.med[TP_ON] / s.med[TP_OFF] : 0;
			fmt_rate(a, sizeof(a), s.med[TP_ON]);
			fmt_rate(b, sizeof(b), s.med[TP_OFF]);
			fmt_rate(c, sizeof(c), s.med[TP_FLOOR]);
			printf("| %u | %u | %s | %s | %s%.2fx%s | %s | ", t->conns[ci],
			       t->batches[bi], a, b, ratio >= 3 ? "**" : "", ratio,
			       ratio >= 3 ? "**" : "", s.have_floor ? c : "");
			if (s.have_floor && s.med[TP_FLOOR] > 0)
				printf("%.2f |", s.med[TP_ON] / s.med[TP_FLOOR]);
			else
				printf(" |");
			fmt_rate(c, sizeof(c), s.med[TP_PLAIN]);
			printf(" %s |", s.have_plain ? c : "");
			if (s.have_plain && s.have_floor && s.med[TP_FLOOR] > 0)
				printf(" %.2f |", s.med[TP_PLAIN] / s.med[TP_FLOOR]);
			else
				printf(" |");
			if (s.have_cpu)
				printf(" %.0f; %.0f |", s.nspp[TP_ON], s.nspp[TP_PLAIN]);
			else if (t->dpid > 0)
				printf(" |");
			printf("\n");
		}
	}
	if (t->dpid > 0)
		printf("\ndaemon ns/page (pcp on): CPU time of pagepoold's worker threads (pid %d, "
		       "every thread named pp-worker*: sum of the first field of "
		       "/proc/PID/task/TID/schedstat) from the start of the counted window to its "
		       "deadline, divided by the pages the client counted in it (each page one "
		       "order-0 page allocated and then freed: its alloc and its free are both in "
		       "the figure); 1-connection rows, medians over repetitions (pcp off too in "
		       "the .dat file).\n", (int)t->dpid);
	printf("\nAim (pcp on >= 3x pcp off with %u workers under contention): at batch %u "
	       "with the connections spread over both workers,", t->view.nworkers,
	       t->batches[last]);
	for (unsigned ci = 0; ci < t->nconns; ci++) {
		struct tp_sum s;
		double ratio;

		if (t->conns[ci] < 2)
			continue;
		tp_summarise(t, ci, last, &s);
		ratio = s.med[TP_OFF] > 0 ? s.med[TP_ON] / s.med[TP_OFF] : 0;
		printf("%s %u conns %.2fx", n ? "," : "", t->conns[ci], ratio);
		n++;
		met += ratio >= 3;
	}
	if (n)
		printf(": **%s** (%u of %u at 3x or more).\n\n",
		       met == n ? "met" : met ? "partly met" : "missed", met, n);
	else
		printf(" no configuration with 2+ connections was measured.\n\n");
}

static void tp_describe(struct tp *t)
{
	char buf[1024], cpus[128];

	daemon_cpus(peer_pid(t->adm.t.fd), "admin (main) thread", buf, sizeof(buf));
	printf("Pinning: pagepoold %s.  Each client thread has its own connection and is "
	       "pinned to the CPU of the worker serving it (the daemon gives a new "
	       "connection to the worker with the fewest; the bench checks the spread is "
	       "even and reconnects otherwise), so a client and its worker share a CPU and "
	       "the wake-ups of a round trip stay on it.", buf);
	if (t->echo_path) {
		char pid[32];

		snprintf(pid, sizeof(pid), "%d", (int)peer_pid(t->echo.t.fd));
		task_cpus(pid, cpus, sizeof(cpus));
		printf("  Floor: the echo server on CPU %s and its client on CPU %d.", cpus,
		       t->echo_cpu);
	}
	printf("\n");
	print_machine();
	printf("Samples: %u repetitions; each cell: fresh connections, %llu ms warm-up, "
	       "%llu ms counted; pcp on and off back to back, which first alternating; "
	       "medians over repetitions (min..max in the .dat file).  pcp on: default "
	       "high %d, batch %d (per worker); pcp off: pcp_high = 0, every page through the "
	       "zone lock.\n\n", t->reps, (unsigned long long)t->warm_ms,
	       (unsigned long long)t->ms, t->view.pcp[0].high, t->view.pcp[0].batch);
}

int cmd_throughput(int argc, char **argv)
{
	static struct tp t;
	static const unsigned def_batches[] = { 1, 4, 16, 64, 256, 1024 };
	struct daemon_view off;
	unsigned max_conns = 0;

	t.pool[TP_ON] = "on";
	t.pool[TP_OFF] = "off";
	t.reps = 5;
	t.ms = 400;
	t.warm_ms = 50;
	t.nbatch = 6;
	memcpy(t.batches, def_batches, sizeof(def_batches));
	t.nconns = parse_list("1,2,3,4", t.conns, MAX_LIST);
	for (int i = 2; i < argc; i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("%s needs a value", o);
		if (!strcmp(o, "--socket"))
			t.sock = v;
		else if (!strcmp(o, "--admin"))
			t.admin_path = v;
		else if (!strcmp(o, "--pool-on"))
			t.pool[TP_ON] = v;
		else if (!strcmp(o, "--pool-off"))
			t.pool[TP_OFF] = v;
		else if (!strcmp(o, "--echo"))
			t.echo_path = v;
		else if (!strcmp(o, "--echo-cpu"))
			t.echo_cpu = (int)parse_uint(v, 0, 4095);
		else if (!strcmp(o, "--batches"))
			t.nbatch = parse_list(v, t.batches, MAX_LIST);
		else if (!strcmp(o, "--conns"))
			t.nconns = parse_list(v, t.conns, MAX_LIST);
		else if (!strcmp(o, "--reps"))
			t.reps = parse_uint(v, 1, MAX_REPS);
		else if (!strcmp(o, "--ms"))
			t.ms = parse_uint(v, 1, 600000);
		else if (!strcmp(o, "--warmup-ms"))
			t.warm_ms = parse_uint(v, 0, 600000);
		else if (!strcmp(o, "--dat"))
			t.dat = v;
		else if (!strcmp(o, "--daemon-pid"))
			t.dpid = (pid_t)parse_uint(v, 1, 0x7fffffff);
		else
			die("unknown option %s", o);
	}
	if (!t.sock || !t.admin_path)
		die("throughput needs --socket and --admin");
	for (unsigned i = 0; i < t.nconns; i++)
		if (t.conns[i] > max_conns)
			max_conns = t.conns[i];
	if (max_conns > MAX_CONNS)
		die("at most %u connections", MAX_CONNS);
	for (unsigned i = 0; i < t.nbatch; i++)
		if (t.batches[i] > 1024)
			die("batches of at most 1024 pages (the daemon's default max_count)");
	admin_open(&t.adm, t.admin_path);
	admin_view(&t.adm, t.pool[TP_ON], &t.view);
	admin_view(&t.adm, t.pool[TP_OFF], &off);
	if (t.view.pcp[0].high == 0 || off.pcp[0].high != 0)
		die("pool %s must have its pcp on and pool %s off (pcp_high = 0)",
		    t.pool[TP_ON], t.pool[TP_OFF]);
	if (t.dpid > 0) {
		pid_t p = peer_pid(t.adm.t.fd);

		if (p != t.dpid)
			die("--daemon-pid %d is not the daemon at %s (pid %d)", (int)t.dpid,
			    t.admin_path, (int)p);
		(void)tp_worker_cpu_ns(t.dpid);	/* ends here without worker threads */
	}
	t.res = xcalloc((size_t)t.reps * t.nconns * t.nbatch * TP_NR, sizeof(double));
	t.nspp = xcalloc((size_t)t.reps * t.nconns * t.nbatch * TP_NR, sizeof(double));
	tp_echo_setup(&t);
	tp_run(&t);
	tp_describe(&t);
	tp_report(&t);
	if (t.dat)
		tp_write_dat(&t);
	return 0;
}
