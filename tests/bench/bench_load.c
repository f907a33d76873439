/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_load.c - load generator for pagepoold: throughput (benchmark case 2)
 * and remote drains (case 3).  tests/bench/bench-load.sh starts the daemons
 * it talks to (private sockets, configurations it writes) and assembles the
 * report; this program only measures and prints Markdown sections on stdout
 * and gnuplot-friendly data files (whitespace-separated columns).
 *
 *   bench_load throughput --socket S --admin A [--pool-on P] [--pool-off P]
 *		[--echo E] [--echo-cpu C] [--batches LIST] [--conns LIST]
 *		[--reps R] [--ms T] [--warmup-ms W] [--dat FILE]
 *	Pages per second of iterations "pp_alloc(order 0, B) + pp_free of the
 *	B pages" for every batch size B and connection count N, against two
 *	pools of one daemon that differ only in pcp_high (default: on; 0: off),
 *	and, for one connection, against the echo server of bench_rpc (the
 *	transport floor: the same framing and frame sizes, no allocator).  Each
 *	repetition runs every (N, B) cell for both pools back to back, which
 *	pool goes first alternating, so slow drifts of a shared machine hit both
 *	alike.  A cell opens N fresh connections (the daemon hands each to the
 *	worker with the fewest), pins every client thread to the CPU of the
 *	worker serving it, warms up for W ms and counts pages for T ms; the
 *	cell's rate is the sum of the threads' rates.
 *
 *   bench_load drain --target MODE,SOCKET,ADMIN ... [--pool P] [--reps R]
 *		[--idle N] [--batch B] [--rate HZ] [--sat-rate HZ]
 *		[--window-ms T] [--sat-ms S] [--warmup-ms W]
 *		[--echo E] [--echo-cpu C] [--drain-dat FILE] [--storm-dat FILE]
 *	One target per drain mode: a daemon whose drain_mode is MODE (the
 *	spinlock mode needs it in the configuration: it locks every pcp
 *	access).  Every target gets one connection per worker, each driven by a
 *	client thread pinned to its worker's CPU.
 *	 (a) drain time as the daemon reports it (AdminDrained.usec, measured
 *	     around the drain on the admin thread) and pages drained: with the
 *	     workers idle and each pcp holding high - 1 pages (the most it keeps
 *	     without trimming); idle with empty lists and --force (the cost of
 *	     the mechanism alone); with the workers saturated by the clients
 *	     (drains SAT_RATE per second); and during the storm below.
 *	 (b) the saturated clients' request latency (every pp_alloc and every
 *	     pp_free timed on its own) in windows of T ms with a drain storm -
 *	     RATE forced drains per second from an admin connection, paced on
 *	     absolute CLOCK_MONOTONIC deadlines, on this program's main thread,
 *	     which is not pinned (nor is the daemon's admin thread) - in quiet
 *	     windows with no admin request at all, and in "null storm" windows
 *	     with RATE admin status requests per second: the same wake-ups of
 *	     this thread and of the daemon's admin thread, without the drains.
 *	     On a machine whose CPUs the clients and workers already fill, the
 *	     null storm tells the cost of the admin traffic itself from the cost
 *	     of draining.  Per repetition and target the three windows run back
 *	     to back, their order rotating, and the targets take turns;
 *	     p50/p99/p999 per window, medians over repetitions.
 *
 * Percentiles are nearest-rank.  Errors end the program with a message (it
 * is a benchmark: the driver script cleans up).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pagepool.h"
#include "wire.h"

#define BENCH_PROG	"bench_load"
#include "benchutil.h"	/* after wire.h: put_be32, packed_request/response */

#define MAX_WORKERS	64
#define MAX_CONNS	16
#define MAX_LIST	16
#define MAX_REPS	100
#define MAX_TARGETS	3
#define LINK_BUF	16384
#define MAX_RESP	(1024 * 1024)
#define REQ_ID_TYPICAL	(1u << 16)	/* id used to size the echo frames */

typedef Pagepool__V1__AdminRequest admin_request;
typedef Pagepool__V1__AdminResponse admin_response;

/* ---- small helpers ---------------------------------------------------- */

static void pin_self(int cpu)
{
	int err = pin_cpu(cpu);

	if (err)
		die("cannot pin to CPU %d: %s", cpu, strerror(err));
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("out of memory");
	return p;
}

/* "1,4,16" into out[] (at most max); returns how many. */
static unsigned parse_list(const char *s, unsigned *out, unsigned max)
{
	unsigned n = 0;
	char *end;

	while (*s) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v == 0 || v > 1000000 || n == max || (*end && *end != ','))
			die("bad list \"%s\" (positive numbers, comma-separated, at most %u)", s,
			    max);
		out[n++] = (unsigned)v;
		s = *end ? end + 1 : end;
	}
	if (n == 0)
		die("empty list");
	return n;
}

static unsigned parse_uint(const char *s, unsigned min, unsigned max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end || v < min || v > max)
		die("bad number \"%s\" (%u..%u)", s, min, max);
	return (unsigned)v;
}

/* A growable array of samples. */
struct samples {
	uint64_t *v;
	size_t n, cap;
};

static void samples_push(struct samples *s, uint64_t x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = x;
}

static void samples_append(struct samples *dst, const struct samples *src)
{
	for (size_t i = 0; i < src->n; i++)
		samples_push(dst, src->v[i]);
}

static void samples_sort(struct samples *s)
{
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
}

/* ---- framed links (admin socket, echo server) ------------------------- */

/* A blocking UNIX stream connection with a read buffer. */
struct link {
	int fd;
	uint8_t buf[LINK_BUF];
	size_t start, end;
};

static void link_open(struct link *l, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		die("%s: socket path too long", path);
	strcpy(sa.sun_path, path);
	l->start = l->end = 0;
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect %s: %s", path, strerror(errno));
}

static void link_send(struct link *l, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(l->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void link_read(struct link *l, uint8_t *dst, size_t want)
{
	while (want > 0) {
		size_t take;

		if (l->start == l->end) {
			ssize_t n = recv(l->fd, l->buf, sizeof(l->buf), 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("recv: %s", strerror(errno));
			if (n == 0)
				die("peer closed the connection");
			l->start = 0;
			l->end = (size_t)n;
		}
		take = l->end - l->start < want ? l->end - l->start : want;
		memcpy(dst, l->buf + l->start, take);
		l->start += take;
		dst += take;
		want -= take;
	}
}

/* One frame's body into body[cap]; returns its length. */
static size_t link_read_frame(struct link *l, uint8_t *body, size_t cap)
{
	uint8_t hdr[WIRE_HDR];
	uint32_t len;

	link_read(l, hdr, sizeof(hdr));
	len = wire_frame_len(hdr);
	if (len > cap)
		die("frame of %u bytes (at most %zu expected)", len, cap);
	link_read(l, body, len);
	return len;
}

/* ---- admin client ----------------------------------------------------- */

struct admin {
	struct link l;
	uint64_t next_id;
	uint8_t body[MAX_RESP];
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

static void admin_open(struct admin *a, const char *path)
{
	link_open(&a->l, path);
	a->next_id = 1;
}

/* Send req, return the decoded response; dies unless it is OK and carries
 * `body`.  Free with pagepool__v1__admin_response__free_unpacked. */
static admin_response *admin_call(struct admin *a, admin_request *req, int body)
{
	admin_response *resp;
	uint8_t *buf;
	size_t len;
	int err;

	req->id = a->next_id++;
	err = wire_encode(&req->base, WIRE_MAX_FRAME_DEFAULT, &buf, &len);
	if (err)
		die("encoding an admin request: %s", strerror(-err));
	link_send(&a->l, buf, len);
	free(buf);
	len = link_read_frame(&a->l, a->body, sizeof(a->body));
	resp = pagepool__v1__admin_response__unpack(NULL, len, a->body);
	if (!resp)
		die("undecodable admin response");
	if (resp->status != PAGEPOOL__V1__STATUS__OK)
		die("admin request refused: %s (%s)", wire_status_name((int)resp->status),
		    resp->error);
	if (resp->id != req->id || (int)resp->body_case != body)
		die("unexpected admin response (id %llu, body %d)",
		    (unsigned long long)resp->id, (int)resp->body_case);
	return resp;
}

static unsigned admin_clients(struct admin *a)
{
	Pagepool__V1__AdminStatusReq q = PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp;
	unsigned n;

	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS;
	req.status = &q;
	resp = admin_call(a, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATUS_INFO);
	n = resp->status_info->clients;
	pagepool__v1__admin_response__free_unpacked(resp, NULL);
	return n;
}

/* Worker CPUs and connection counts, and the pcps of `pool`. */
static void admin_view(struct admin *a, const char *pool, struct daemon_view *v)
{
	Pagepool__V1__AdminStatsReq q = PAGEPOOL__V1__ADMIN_STATS_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminStats *st;
	admin_response *resp;

	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATS;
	req.stats = &q;
	resp = admin_call(a, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATS);
	st = resp->stats;
	memset(v, 0, sizeof(*v));
	if (st->n_workers == 0 || st->n_workers > MAX_WORKERS)
		die("daemon reports %zu workers", st->n_workers);
	v->nworkers = (unsigned)st->n_workers;
	for (size_t i = 0; i < st->n_workers; i++) {
		unsigned w = st->workers[i]->worker;

		if (w >= v->nworkers)
			die("daemon reports worker %u of %u", w, v->nworkers);
		v->cpu[w] = st->workers[i]->cpu;
		v->conns[w] = st->workers[i]->connections;
	}
	for (size_t i = 0; i < st->n_pcps; i++) {
		const Pagepool__V1__PcpStats *p = st->pcps[i];

		if (strcmp(p->pool, pool) != 0 || p->worker >= v->nworkers)
			continue;
		v->pcp[p->worker].count = p->count;
		v->pcp[p->worker].high = p->high;
		v->pcp[p->worker].batch = p->batch;
	}
	pagepool__v1__admin_response__free_unpacked(resp, NULL);
}

/* Drain `pool` in the daemon's configured mode. */
static void admin_drain(struct admin *a, const char *pool, int force, struct drain_rec *rec)
{
	Pagepool__V1__AdminDrainReq q = PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp;
	uint64_t t0 = now_ns();

	q.pool = (char *)pool;
	q.force = force;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_DRAIN;
	req.drain = &q;
	resp = admin_call(a, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_DRAINED);
	rec->rtt_ns = now_ns() - t0;
	rec->usec = resp->drained->usec;
	rec->pages = resp->drained->pages;
	pagepool__v1__admin_response__free_unpacked(resp, NULL);
}

/* Wait until the daemon counts exactly `n` client connections (closing is
 * asynchronous: the worker sees EOF later). */
static void admin_wait_clients(struct admin *a, unsigned n)
{
	uint64_t give_up = now_ns() + 5000000000u;

	while (admin_clients(a) != n) {
		if (now_ns() > give_up)
			die("the daemon still counts other than %u clients after 5 s", n);
		usleep(200);
	}
}

static void drain_set_push(struct drain_set *s, const struct drain_rec *r)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = *r;
}

/* ---- the transport floor: bench_rpc --echo-server ---------------------- */

/* An alloc/free pair's frames for the echo server: each request body is as
 * long as pagepoold's request and starts with the length of pagepoold's
 * response, which the echo server sends back. */
struct echo_msgs {
	uint8_t *frame[2];
	size_t len[2];
};

struct echo {
	struct link l;
	uint8_t body[WIRE_MAX_FRAME_DEFAULT];
};

/* Frames mirroring an alloc + free of `batch` pages that got `pfns`. */
static void echo_msgs_init(struct echo_msgs *m, unsigned batch, const uint32_t *pfns)
{
	for (int i = 0; i < 2; i++) {
		int is_alloc = i == 0;
		size_t body = packed_request(REQ_ID_TYPICAL + (unsigned)i, batch, pfns, is_alloc);
		size_t reply = packed_response(REQ_ID_TYPICAL + (unsigned)i, batch, pfns, is_alloc);
		uint8_t *f;

		if (body < 4)
			body = 4;
		if (reply > WIRE_MAX_FRAME_DEFAULT)
			die("batch %u: response too large for the echo server", batch);
		f = xcalloc(1, WIRE_HDR + body);
		put_be32(f, (uint32_t)body);
		put_be32(f + WIRE_HDR, (uint32_t)reply);
		m->frame[i] = f;
		m->len[i] = WIRE_HDR + body;
	}
}

static void echo_call(struct echo *e, const struct echo_msgs *m, int which)
{
	link_send(&e->l, m->frame[which], m->len[which]);
	link_read_frame(&e->l, e->body, sizeof(e->body));
}

/* ---- load threads ----------------------------------------------------- */

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
	const struct echo_msgs *msgs;
	int cpu;
	unsigned batch;
	int record;
	uint32_t *pfns;
	uint64_t pages, requests, t0, t1;
	struct samples lat;
};

static void loader_pair(struct loader *l, uint64_t *mid)
{
	unsigned got = 0;
	int err;

	if (l->e) {
		echo_call(l->e, l->msgs, 0);
		*mid = now_ns();
		echo_call(l->e, l->msgs, 1);
		return;
	}
	err = pp_alloc(l->c, 0, l->batch, 0, l->pfns, &got);
	if (err < 0 || got != l->batch)
		die("pp_alloc(0, %u): %s (%s)", l->batch, pp_strerror(err), pp_last_error(l->c));
	*mid = now_ns();
	err = pp_free(l->c, l->pfns, l->batch, NULL);
	if (err < 0)
		die("pp_free(%u): %s (%s)", l->batch, pp_strerror(err), pp_last_error(l->c));
}

static void *loader_main(void *arg)
{
	struct loader *l = arg;
	int measuring = 0;

	pin_self(l->cpu);
	for (;;) {
		int ph = __atomic_load_n(l->phase, __ATOMIC_ACQUIRE);
		uint64_t t_start, t_mid, t_end;

		if (ph == PH_STOP)
			break;
		if (ph == PH_MEASURE && !measuring) {
			measuring = 1;
			l->t0 = l->t1 = now_ns();
		}
		t_start = now_ns();
		loader_pair(l, &t_mid);
		t_end = now_ns();
		if (!measuring)
			continue;
		l->pages += l->batch;
		l->requests += 2;
		l->t1 = t_end;
		if (l->record) {
			samples_push(&l->lat, t_mid - t_start);
			samples_push(&l->lat, t_end - t_mid);
		}
	}
	return NULL;
}

static void loader_start(struct loader *l, const int *phase, unsigned batch, int record)
{
	l->phase = phase;
	l->batch = batch;
	l->record = record;
	l->pages = l->requests = l->t0 = l->t1 = 0;
	l->lat.n = 0;
	if (!l->pfns)
		l->pfns = xcalloc(1024 > batch ? 1024 : batch, sizeof(uint32_t));
	if (pthread_create(&l->th, NULL, loader_main, l) != 0)
		die("pthread_create failed");
}

static double loader_rate(const struct loader *l, uint64_t count)
{
	return l->t1 > l->t0 ? (double)count * 1e9 / (double)(l->t1 - l->t0) : 0;
}

/* Warm up, measure for len_ns, stop and join n loaders that share *phase.
 * While measuring, `during` (may be NULL) runs on this thread until the
 * deadline it is given; otherwise this thread just sleeps. */
static void loaders_run(struct loader *ls, unsigned n, int *phase, uint64_t warm_ns,
			uint64_t len_ns, void (*during)(void *, uint64_t), void *arg)
{
	uint64_t end;

	sleep_until_ns(now_ns() + warm_ns);
	__atomic_store_n(phase, PH_MEASURE, __ATOMIC_RELEASE);
	end = now_ns() + len_ns;
	if (during)
		during(arg, end);
	sleep_until_ns(end);
	__atomic_store_n(phase, PH_STOP, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < n; i++)
		pthread_join(ls[i].th, NULL);
}

/*
 * Open n connections to pool and check the daemon spread them as evenly as
 * it can over its workers; cpu[i] gets the CPU of connection i's worker.
 * `base` is the number of other connections the daemon holds meanwhile.
 */
static void connect_spread(const char *sock, const char *pool, struct admin *a,
			   const struct daemon_view *v, unsigned base, unsigned n,
			   struct pp_client **cs, int *cpu, unsigned *worker)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		unsigned per[MAX_WORKERS] = { 0 }, lo = n / v->nworkers;
		unsigned hi = lo + !!(n % v->nworkers);
		int ok = 1;

		admin_wait_clients(a, base);
		for (unsigned i = 0; i < n; i++) {
			int err = pp_connect(sock, pool, &cs[i]);
			unsigned w;

			if (err < 0)
				die("pp_connect %s pool %s: %s (%s)", sock, pool, pp_strerror(err),
				    pp_last_error(NULL));
			w = pp_info(cs[i])->worker;
			if (w >= v->nworkers)
				die("connection served by worker %u of %u", w, v->nworkers);
			per[w]++;
			cpu[i] = v->cpu[w];
			if (worker)
				worker[i] = w;
		}
		for (unsigned w = 0; w < v->nworkers; w++)
			ok &= per[w] >= lo && per[w] <= hi;
		if (ok)
			return;
		for (unsigned i = 0; i < n; i++)
			pp_close(cs[i]);
	}
	die("could not get %u connections spread over %u workers", n, v->nworkers);
}

/* ---- case 2: throughput ----------------------------------------------- */

enum { TP_ON, TP_OFF, TP_FLOOR, TP_NR };

struct tp {
	const char *sock, *admin_path, *pool[2], *echo_path, *dat;
	int echo_cpu;
	unsigned batches[MAX_LIST], nbatch, conns[MAX_LIST], nconns, reps;
	uint64_t ms, warm_ms;
	struct admin adm;
	struct daemon_view view;
	struct echo echo;
	struct echo_msgs msgs[MAX_LIST];
	double *res;		/* [rep][conns][batch][variant] pages/s */
};

static double *tp_cell(struct tp *t, unsigned r, unsigned ci, unsigned bi, unsigned v)
{
	return &t->res[((r * t->nconns + ci) * t->nbatch + bi) * TP_NR + v];
}

/* One cell: pages/s of n client threads on pool `variant`, or of the echo client. */
static double tp_measure(struct tp *t, unsigned variant, unsigned n, unsigned bi)
{
	struct pp_client *cs[MAX_CONNS];
	struct loader ls[MAX_CONNS];
	int cpu[MAX_CONNS], phase = PH_WARM;
	double rate = 0;

	memset(ls, 0, sizeof(ls));
	if (variant == TP_FLOOR) {
		ls[0].e = &t->echo;
		ls[0].msgs = &t->msgs[bi];
		ls[0].cpu = t->echo_cpu;
		n = 1;
	} else {
		connect_spread(t->sock, t->pool[variant], &t->adm, &t->view, 0, n, cs, cpu, NULL);
		for (unsigned i = 0; i < n; i++) {
			ls[i].c = cs[i];
			ls[i].cpu = cpu[i];
		}
	}
	for (unsigned i = 0; i < n; i++)
		loader_start(&ls[i], &phase, t->batches[bi], 0);
	loaders_run(ls, n, &phase, t->warm_ms * 1000000, t->ms * 1000000, NULL, NULL);
	for (unsigned i = 0; i < n; i++) {
		rate += loader_rate(&ls[i], ls[i].pages);
		free(ls[i].pfns);
		if (ls[i].c)
			pp_close(ls[i].c);
	}
	return rate;
}

/* Echo frames sized like real requests: allocate each batch once for its pfns. */
static void tp_echo_setup(struct tp *t)
{
	struct pp_client *c;
	uint32_t *pfns = xcalloc(MAX_CONNS * 1024, sizeof(uint32_t));
	int err;

	if (!t->echo_path)
		return;
	link_open(&t->echo.l, t->echo_path);
	err = pp_connect(t->sock, t->pool[TP_ON], &c);
	if (err < 0)
		die("pp_connect: %s (%s)", pp_strerror(err), pp_last_error(NULL));
	for (unsigned bi = 0; bi < t->nbatch; bi++) {
		unsigned b = t->batches[bi], got;

		err = pp_alloc(c, 0, b, 0, pfns, &got);
		if (err < 0)
			die("pp_alloc(0, %u): %s (%s)", b, pp_strerror(err), pp_last_error(c));
		echo_msgs_init(&t->msgs[bi], b, pfns);
		err = pp_free(c, pfns, got, NULL);
		if (err < 0)
			die("pp_free: %s (%s)", pp_strerror(err), pp_last_error(c));
	}
	pp_close(c);
	free(pfns);
}

static void tp_run(struct tp *t)
{
	for (unsigned r = 0; r < t->reps; r++) {
		for (unsigned ci = 0; ci < t->nconns; ci++) {
			for (unsigned bi = 0; bi < t->nbatch; bi++) {
				unsigned first = (r + ci + bi) & 1;

				*tp_cell(t, r, ci, bi, first) =
					tp_measure(t, first, t->conns[ci], bi);
				*tp_cell(t, r, ci, bi, !first) =
					tp_measure(t, !first, t->conns[ci], bi);
				if (t->echo_path && t->conns[ci] == 1)
					*tp_cell(t, r, ci, bi, TP_FLOOR) =
						tp_measure(t, TP_FLOOR, 1, bi);
			}
		}
		fprintf(stderr, "  throughput: repetition %u/%u done\n", r + 1, t->reps);
	}
}

struct tp_sum {
	double med[TP_NR], lo[TP_NR], hi[TP_NR];
	int have_floor;
};

static void tp_summarise(struct tp *t, unsigned ci, unsigned bi, struct tp_sum *s)
{
	double v[MAX_REPS];

	s->have_floor = t->echo_path && t->conns[ci] == 1;
	for (unsigned k = 0; k < TP_NR; k++) {
		for (unsigned r = 0; r < t->reps; r++)
			v[r] = *tp_cell(t, r, ci, bi, k);
		s->med[k] = median(v, t->reps, &s->lo[k], &s->hi[k]);
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
	fprintf(f, "# conns batch on_pps off_pps ratio floor_pps on_min on_max off_min off_max\n");
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
			fprintf(f, "%.0f %.0f %.0f %.0f\n", s.lo[TP_ON], s.hi[TP_ON], s.lo[TP_OFF],
				s.hi[TP_OFF]);
		}
	}
	fclose(f);
}

static void tp_report(struct tp *t)
{
	unsigned last = t->nbatch - 1, n = 0, met = 0;
	char a[32], b[32], c[32];

	printf("| conns | batch | pcp on, pages/s | pcp off, pages/s | on / off | "
	       "floor (echo, 1 conn), pages/s | on / floor |\n");
	printf("| --- | --- | --- | --- | --- | --- | --- |\n");
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
				printf("%.2f |\n", s.med[TP_ON] / s.med[TP_FLOOR]);
			else
				printf(" |\n");
		}
	}
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

	daemon_cpus(peer_pid(t->adm.l.fd), "admin (main) thread", buf, sizeof(buf));
	printf("Pinning: pagepoold %s.  Each client thread has its own connection and is "
	       "pinned to the CPU of the worker serving it (the daemon gives a new "
	       "connection to the worker with the fewest; the bench checks the spread is "
	       "even and reconnects otherwise), so a client and its worker share a CPU and "
	       "the wake-ups of a round trip stay on it.", buf);
	if (t->echo_path) {
		char pid[32];

		snprintf(pid, sizeof(pid), "%d", (int)peer_pid(t->echo.l.fd));
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

static int cmd_throughput(int argc, char **argv)
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
	t.res = xcalloc((size_t)t.reps * t.nconns * t.nbatch * TP_NR, sizeof(double));
	tp_echo_setup(&t);
	tp_run(&t);
	tp_describe(&t);
	tp_report(&t);
	if (t.dat)
		tp_write_dat(&t);
	return 0;
}

/* ---- case 3: drains --------------------------------------------------- */

/* Window kinds: no admin traffic, a drain storm, and a "null storm": status
 * requests at the storm's rate, the same admin traffic without drains. */
enum { W_QUIET, W_NULL, W_STORM, W_NR };

static const char *const w_names[W_NR] = { "quiet", "null", "storm" };
enum { D_IDLE, D_EMPTY, D_SAT, D_STORM, D_NR };

static const char *const d_names[D_NR] = { "idle", "idle-empty", "saturated", "storm" };
static const char *const d_labels[D_NR] = {
	"idle, lists at high - 1",
	"idle, lists empty, --force",
	"saturated, lists as the load leaves them",
	"saturated, during the storm (--force)",
};

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
	struct echo_msgs msgs;
	struct wres floor[MAX_REPS];
};

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
	l.msgs = &d->msgs;
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

static void dr_report_drains(struct dr *d)
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

static void dr_report_storm(struct dr *d)
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

static void dr_describe(struct dr *d)
{
	char buf[1024], cpus[128];

	printf("Pinning: ");
	for (unsigned j = 0; j < d->nt; j++) {
		daemon_cpus(peer_pid(d->t[j].adm.l.fd), "admin (main) thread", buf,
			    sizeof(buf));
		printf("%s daemon: %s; ", d->t[j].mode, buf);
	}
	printf("one client connection per worker, its thread pinned to that worker's CPU; "
	       "the drain (admin) client is this program's main thread, not pinned.");
	if (d->echo_path) {
		char pid[32];

		snprintf(pid, sizeof(pid), "%d", (int)peer_pid(d->echo.l.fd));
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

static void dr_write_dat(struct dr *d)
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

static void dr_echo_setup(struct dr *d)
{
	struct target *t = &d->t[0];
	uint32_t *pfns = xcalloc(d->batch, sizeof(uint32_t));
	unsigned got;
	int err;

	if (!d->echo_path)
		return;
	link_open(&d->echo.l, d->echo_path);
	/* Real pfns for the frame sizes, from the first target's first connection. */
	err = pp_alloc(t->c[0], 0, d->batch, 0, pfns, &got);
	if (err < 0)
		die("pp_alloc: %s (%s)", pp_strerror(err), pp_last_error(t->c[0]));
	echo_msgs_init(&d->msgs, d->batch, pfns);
	err = pp_free(t->c[0], pfns, got, NULL);
	if (err < 0)
		die("pp_free: %s (%s)", pp_strerror(err), pp_last_error(t->c[0]));
	free(pfns);
}

static int cmd_drain(int argc, char **argv)
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

__attribute__((noreturn))
static void usage(void)
{
	fprintf(stderr,
		"usage: bench_load throughput --socket S --admin A [--pool-on P] [--pool-off P]\n"
		"                  [--echo E] [--echo-cpu C] [--batches LIST] [--conns LIST]\n"
		"                  [--reps R] [--ms T] [--warmup-ms W] [--dat FILE]\n"
		"       bench_load drain --target MODE,SOCKET,ADMIN ... [--pool P] [--reps R]\n"
		"                  [--idle N] [--batch B] [--rate HZ] [--sat-rate HZ]\n"
		"                  [--window-ms T] [--sat-ms S] [--warmup-ms W] [--echo E]\n"
		"                  [--echo-cpu C] [--drain-dat FILE] [--storm-dat FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "throughput"))
		return cmd_throughput(argc, argv);
	if (!strcmp(argv[1], "drain"))
		return cmd_drain(argc, argv);
	usage();
}
