/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * load.h - the parts of bench_load (tests/bench/load-*.c), the load
 * generator of benchmark cases 2 and 3: load-main.c parses the command
 * line and holds the small helpers, load-admin.c talks to the admin socket
 * (proto/transport.h), load-loader.c runs the client threads (libpagepool,
 * or the echo floor of echo.h), load-throughput.c is case 2, load-drain.c
 * case 3 and load-report.c prints case 3's tables and data files.
 */
#ifndef BENCH_LOAD_H
#define BENCH_LOAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "pagepool.h"
#include "transport.h"
#include "wire.h"

#include "echo.h"

#define MAX_WORKERS	64
#define MAX_CONNS	16
#define MAX_LIST	16
#define MAX_REPS	100
#define MAX_TARGETS	3
#define MAX_RESP	(1024 * 1024)	/* the largest admin answer taken */

typedef Pagepool__V1__AdminRequest admin_request;
typedef Pagepool__V1__AdminResponse admin_response;

/* ---- small helpers (load-main.c) ---------------------------------------- */

void pin_self(int cpu);
void *xcalloc(size_t n, size_t size);
/* "1,4,16" into out[] (at most max); returns how many. */
unsigned parse_list(const char *s, unsigned *out, unsigned max);
unsigned parse_uint(const char *s, unsigned min, unsigned max);

/* A growable array of samples. */
struct samples {
	uint64_t *v;
	size_t n, cap;
};

void samples_push(struct samples *s, uint64_t x);
void samples_append(struct samples *dst, const struct samples *src);
void samples_sort(struct samples *s);

/* ---- admin client (load-admin.c) ------------------------------------------ */

struct admin {
	struct pp_transport t;
};

struct pcp_view {
	int count, high, batch;
};

/* What the daemon says about itself: worker CPUs and one pool's pcps. */
struct daemon_view {
	unsigned nworkers;
	int cpu[MAX_WORKERS];
	struct pcp_view pcp[MAX_WORKERS];
	unsigned conns[MAX_WORKERS];
};

/* One drain as measured: by the daemon (usec) and around the request. */
struct drain_rec {
	uint64_t usec, pages, rtt_ns;
};

struct drain_set {
	struct drain_rec *v;
	size_t n, cap;
};

/* Connect to the admin socket at `path`. */
void admin_open(struct admin *a, const char *path);
/* The number of client connections the daemon counts. */
unsigned admin_clients(struct admin *a);
/* Worker CPUs and connection counts, and the pcps of `pool`. */
void admin_view(struct admin *a, const char *pool, struct daemon_view *v);
/* Drain `pool` in the daemon's configured mode. */
void admin_drain(struct admin *a, const char *pool, int force, struct drain_rec *rec);
/* Wait until the daemon counts exactly `n` client connections. */
void admin_wait_clients(struct admin *a, unsigned n);
void drain_set_push(struct drain_set *s, const struct drain_rec *r);

/* ---- load threads (load-loader.c) ------------------------------------------ */

enum phase { PH_WARM, PH_MEASURE, PH_STOP };

/*
 * One client thread: iterations of alloc(B) + free until the phase is
 * PH_STOP; pages and (if asked) every request's latency are counted from
 * the first iteration that starts in PH_MEASURE.  Exactly one of c and e.
 */
struct loader {
	pthread_t th;
	const int *phase;
	struct pp_client *c;
	struct echo *e;
	int cpu;
	unsigned batch;
	int record;
	uint32_t *pfns;
	uint64_t pages, requests, t0, t1;
	struct samples lat;
};

void loader_start(struct loader *l, const int *phase, unsigned batch, int record);
double loader_rate(const struct loader *l, uint64_t count);
void loaders_run(struct loader *ls, unsigned n, int *phase, uint64_t warm_ns,
		 uint64_t len_ns, void (*during)(void *, uint64_t), void *arg);
void connect_spread(const char *sock, const char *pool, struct admin *a,
		    const struct daemon_view *v, unsigned base, unsigned n,
		    struct pp_client **cs, int *cpu, unsigned *worker);

/* ---- case 2: throughput (load-throughput.c) ---------------------------------- */

int cmd_throughput(int argc, char **argv);

/* ---- case 3: drains (load-drain.c, load-report.c) ----------------------------- */

/* Window kinds: no admin traffic, a drain storm, and a "null storm": status
 * requests at the storm's rate, the same admin traffic without drains. */
enum { W_QUIET, W_NULL, W_STORM, W_NR };

/* Drain conditions (see load-report.c's labels). */
enum { D_IDLE, D_EMPTY, D_SAT, D_STORM, D_NR };

/* Latency percentiles of one window. */
struct wres {
	double p50, p99, p999;		/* us */
	double req_per_s, admin_per_s;	/* client requests, paced admin requests */
};

struct target {
	const char *mode, *sock, *admin_path;
	struct admin adm;
	struct daemon_view view;
	unsigned nconn;
	struct pp_client *c[MAX_WORKERS];
	int cpu[MAX_WORKERS];
	unsigned worker[MAX_WORKERS];
	uint32_t *held[MAX_WORKERS];
	unsigned nheld[MAX_WORKERS];
	struct drain_set drains[D_NR];
	struct wres w[W_NR][MAX_REPS];
	unsigned missed;		/* storm deadlines skipped */
};

struct dr {
	struct target t[MAX_TARGETS];
	unsigned nt;
	const char *pool, *echo_path, *drain_dat, *storm_dat;
	int echo_cpu;
	unsigned reps, idle, batch;
	double rate, sat_rate;
	uint64_t window_ms, sat_ms, warm_ms;
	struct echo echo;
	uint32_t *floor_pfns;		/* the echo server answers with these */
	struct wres floor[MAX_REPS];
};

int cmd_drain(int argc, char **argv);
void dr_describe(struct dr *d);
void dr_report_drains(struct dr *d);
void dr_report_storm(struct dr *d);
void dr_write_dat(struct dr *d);

#endif /* BENCH_LOAD_H */
