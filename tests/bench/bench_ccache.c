/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_ccache.c - benchmark case 7: the client cache (issue 15, proto/
 * ccache.h), each number next to its baseline measured in the same run with
 * the same pinning.  The client is this process, pinned to CPU A before it
 * connects (so the daemon serves it with the worker on CPU A).
 *
 *   1. Cache-hit pair: pp_alloc(c, 0, 1, 0, &pfn, NULL) + pp_free(c, &pfn, 1,
 *	NULL) on a connection with the pool's default cache, in batches of 32
 *	pairs timed with clock_gettime(CLOCK_MONOTONIC) (one read before, one
 *	after: per pair = batch / 32; the clock reads stay in, their cost is
 *	printed); against the same pair on a connection made with
 *	PAGEPOOL_CACHE=0 (two round trips) and against the socket floor: the
 *	same Alloc + Free round trips answered by bench_rpc's blocking echo
 *	server (tests/bench/echo.h), forked here and pinned to CPU A too.
 *	Rounds alternate floor, cache off, cache on.
 *   3. Round trips per 1,000 single-page allocs: pp_stat's `calls` around
 *	1,000 pp_alloc(0, 1), then their 1,000 pp_free, then a steady loop of
 *	1,000 pairs, on fresh connections with the cache on and off.
 *   4. Pipeline: a producer (this process, CPU A) pp_alloc()s one page,
 *	stamps all of it and passes its pfn through an SPSC ring in shared
 *	memory to a consumer process (CPU B), which checks the whole stamp and
 *	returns the pfn through a second ring; the producer pp_free()s it.
 *	Cache on against off, next to the ring floor (a message bounced through
 *	both rings, no buffer) and the socket floor (a socketpair ping-pong
 *	between the same two processes).  Also the hand-off (pp_loan, token
 *	through the ring, pp_take_release), cache on and off: both calls are
 *	round trips whatever the cache.  Throughput with 8 buffers in flight,
 *	round trips with one; rounds alternate the modes.
 *   5. Non-interference: this client runs cache-hit batches at full speed,
 *	each batch timed, while an admin process (CPU B) sends 1,000 requests
 *	a second, paced by absolute deadlines, in alternating windows: A, the
 *	null request AdminStatusReq (`pagepoolctl status`); B, AdminDrainReq
 *	{clients, client_id} (`pagepoolctl drain --client ID`) at this client.
 *	Windows last 1 s; a request that takes longer than the period makes
 *	the next one late, so a window does fewer than 1,000 when they are
 *	slow (the table says how many).  A pp_stat at each window change
 *	(outside the timed batches) counts the window's refills and drains.
 *   (2, the instruction count, is `--callgrind N`: N pairs in cc_pairs(),
 *	the one function ccache-bench.sh has callgrind collect; --cache-off
 *	runs the same loop on a connection without a cache, as a control.)
 *
 *   bench_ccache --socket PATH --admin PATH [--quick] [--cpus A,B] [--daemon-pid PID]
 *		  [--windows N]
 *   bench_ccache --socket PATH --admin PATH --interference [--title TEXT] [...]
 *   bench_ccache --socket PATH --admin PATH --strace-check [--cpus A,B]
 *   bench_ccache --socket PATH --callgrind N [--cache-off]
 *
 * --interference runs part 5 alone (TEXT names the set-up in its heading);
 * --strace-check one A and one B window only, writing marker lines
 * ("ccbench-mark begin|end K") to /dev/null at window changes so that a
 * strace of this process can be cut to the windows.  A SIGALRM watchdog
 * bounds every run; the children die with this process (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pagepool.h"
#include "pagepool.pb-c.h"
#include "transport.h"

#include "benchutil.h"
#include "echo.h"

#define PAIR_BATCH	32		/* pairs per timed batch */
#define HBINS		16384		/* 1-ns histogram bins; above: a list */
#define RING		16		/* slots per SPSC ring */
#define PIPE_W		8		/* buffers in flight (throughput) */
#define MAX_WIN		32		/* non-interference windows */
#define RATE		1000		/* admin requests per second */
#define WIN_NS		1000000000ull	/* one window */
#define WIN_OVER	INT32_MAX
#define MAX_ROUNDS	8

enum { ON, OFF };			/* the two connections: cache on, cache off */
static const char *const var_name[2] = { "cache on", "cache off" };

/* ---- small helpers -------------------------------------------------------- */

struct hist {
	uint64_t n, max;
	uint32_t bin[HBINS];
	uint64_t *over;			/* samples >= HBINS ns, unsorted until read */
	size_t nover, cap;
};

static struct hist *hist_new(unsigned n)
{
	struct hist *h = calloc(n, sizeof(*h));

	if (!h)
		die_err("calloc", ENOMEM);
	return h;
}

/* Room for n samples above HBINS, faulted in now: no allocation, hence no
 * system call, inside a timed window unless more come. */
static void hist_reserve(struct hist *h, size_t n)
{
	h->over = realloc(h->over, n * sizeof(*h->over));
	if (!h->over)
		die_err("realloc", ENOMEM);
	memset(h->over + h->nover, 0, (n - h->nover) * sizeof(*h->over));
	h->cap = n;
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->n++;
	if (v > h->max)
		h->max = v;
	if (v < HBINS) {
		h->bin[v]++;
		return;
	}
	if (h->nover == h->cap)
		hist_reserve(h, h->cap ? 2 * h->cap : 1024);
	h->over[h->nover++] = v;
}

static void hist_merge(struct hist *d, const struct hist *s)
{
	for (unsigned i = 0; i < HBINS; i++)
		d->bin[i] += s->bin[i];
	d->n += s->n - s->nover;	/* hist_add() counts the others */
	for (size_t i = 0; i < s->nover; i++)
		hist_add(d, s->over[i]);
	if (s->max > d->max)
		d->max = s->max;
}

/* Nearest-rank percentile, ns. */
static uint64_t hist_pct(struct hist *h, double p)
{
	uint64_t rank = (uint64_t)(p * (double)h->n), seen = 0;

	if ((double)rank < p * (double)h->n || rank == 0)
		rank++;
	if (h->n == 0)
		return 0;
	for (unsigned v = 0; v < HBINS; v++)
		if ((seen += h->bin[v]) >= rank)
			return v;
	qsort(h->over, h->nover, sizeof(*h->over), cmp_u64);
	return h->over[rank - seen - 1];
}

static void sort_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		die_err("calloc", ENOMEM);
	return p;
}

static void set_cache_env(int var)
{
	if (var == OFF ? setenv("PAGEPOOL_CACHE", "0", 1) : unsetenv("PAGEPOOL_CACHE"))
		die_err("setenv", errno);
}

/* A connection with the cache on (the pool's config) or off (PAGEPOOL_CACHE=0). */
static struct pp_client *client_connect(const char *sock, int var)
{
	struct pp_client *c;
	int err;

	set_cache_env(var);
	err = pp_connect(sock, NULL, &c);
	unsetenv("PAGEPOOL_CACHE");
	if (err < 0)
		die("pp_connect %s (%s): %s (%s)", sock, var_name[var], pp_strerror(err),
		    pp_last_error(NULL));
	return c;
}

static void client_stat(struct pp_client *c, struct pp_stat *st)
{
	int err = pp_stat(c, st);

	if (err < 0)
		die("pp_stat: %s (%s)", pp_strerror(err), pp_last_error(c));
}

static inline void pairs_loop(struct pp_client *c, uint64_t n)
{
	uint32_t pfn;

	for (uint64_t i = 0; i < n; i++)
		if (pp_alloc(c, 0, 1, 0, &pfn, NULL) < 0 || pp_free(c, &pfn, 1, NULL) < 0)
			die("alloc + free pair: %s", pp_last_error(c));
}

/* The measured pairs; callgrind collects inside this function only. */
static void __attribute__((noinline)) cc_pairs(struct pp_client *c, uint64_t n)
{
	pairs_loop(c, n);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause");
#endif
}

/* ---- shared memory: the pipeline's rings and the windows' control ------- */

enum kind { K_READY = 1, K_PING, K_ACK, K_HAND, K_FLUSH, K_SOCK, K_STOP };

struct slot {
	uint64_t seq;
	uint32_t pfn;			/* K_SOCK: messages to bounce */
	uint16_t kind, var;
	struct pp_token tok;
};

struct ring {
	_Alignas(64) uint64_t head;	/* written by the pushing side */
	_Alignas(64) uint64_t tail;	/* written by the popping side */
	_Alignas(64) struct slot e[RING];
};

struct wstat {				/* one window, written by the admin process */
	uint64_t reqs, late, drained, pages, usec, stuck, bad, rtt_sum, rtt_max, ns;
};

struct shm {
	struct ring fwd, back;		/* producer -> consumer, and back */
	_Alignas(64) int32_t window;	/* -1 before, k, WIN_OVER after */
	int32_t go;			/* the client is warm: start the windows */
	struct wstat ws[MAX_WIN];
	uint64_t cons_checked, cons_bad, cons_held, cons_refs;	/* the consumer's end */
};

/* Spin until pred holds; every 64k spins, check that `peer` lives (0: the
 * parent, else that child). */
#define SPIN_UNTIL(pred, peer)							\
	do {									\
		for (unsigned spin_ = 0; !(pred); spin_++) {			\
			cpu_relax();						\
			if ((spin_ & 0xffff) == 0xffff)				\
				peer_check(peer);				\
		}								\
	} while (0)

static void peer_check(pid_t peer)
{
	int st;

	if (peer == 0 ? getppid() == 1 : waitpid(peer, &st, WNOHANG) == peer)
		die("the other side of the pipeline is gone");
}

static void ring_push(struct ring *r, const struct slot *s, pid_t peer)
{
	uint64_t h = r->head;

	SPIN_UNTIL(h - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) < RING, peer);
	r->e[h % RING] = *s;
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
}

static void ring_pop(struct ring *r, struct slot *s, pid_t peer)
{
	uint64_t t = r->tail;

	SPIN_UNTIL(__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) != t, peer);
	*s = r->e[t % RING];
	__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELEASE);
}

/* ---- the run's state ------------------------------------------------------- */

struct config {
	const char *sock, *admin, *title;
	int cpu_a, cpu_b, quick, strace_check, only5, cg_off;
	unsigned windows, rounds;
	uint64_t cg_pairs;
	pid_t daemon_pid;
};

struct bench {
	struct config cf;
	struct pp_client *c[2];		/* CPU A: cache on, cache off */
	struct shm *m;
	pid_t cons;
	int sock;			/* socketpair end to the consumer */
	size_t words;			/* 64-bit words per page */
	uint64_t seq;
};

/* ---- 1. the cache-hit pair against cache off and the socket floor ------ */

static pid_t echo_start(const char *path, int cpu, struct echo *e)
{
	int p[2], err;
	char line[16] = "";
	pid_t pid;

	if (pipe(p) < 0)
		die_err("pipe", errno);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die_err("fork", errno);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(p[1], 1) < 0 || (err = pin_cpu(cpu)) != 0)
			die("echo server: cannot start");
		close(p[0]);
		_exit(echo_serve(path, 0));
	}
	close(p[1]);
	if (read(p[0], line, sizeof(line) - 1) < 5 || strncmp(line, "READY", 5) != 0)
		die("echo server did not start");
	close(p[0]);
	echo_connect(e, path);
	return pid;
}

struct hit_res {
	struct hist *on, *clk;
	uint64_t *off, *floor;
	size_t noff;
	uint64_t on_pairs, on_ns;
};

static void run_hit(struct bench *b, struct hit_res *res)
{
	unsigned noff = b->cf.quick ? 1000 : 4000, nb = b->cf.quick ? 30000 : 100000;
	struct pp_client *on = b->c[ON], *off = b->c[OFF];
	char path[256];
	struct echo e;
	uint32_t pfn;
	unsigned got;
	pid_t epid;
	int st;

	snprintf(path, sizeof(path), "%s.echo", b->cf.sock);
	epid = echo_start(path, b->cf.cpu_a, &e);
	res->on = hist_new(1);
	res->clk = hist_new(1);
	res->off = xcalloc((size_t)b->cf.rounds * noff, sizeof(uint64_t));
	res->floor = xcalloc((size_t)b->cf.rounds * noff, sizeof(uint64_t));
	pairs_loop(off, 1000);
	pairs_loop(on, 20000);
	if (pp_alloc(off, 0, 1, 0, &pfn, NULL) < 0 || pp_free(off, &pfn, 1, NULL) < 0)
		die("cache-off pair: %s", pp_last_error(off));
	echo_free(&e, &pfn, 1);	/* the echo answers with the daemon's pfn */
	for (unsigned i = 0; i < 1000; i++) {
		echo_alloc(&e, 1, &pfn, &got);
		echo_free(&e, &pfn, 1);
	}
	for (unsigned r = 0; r < b->cf.rounds; r++) {
		uint64_t tb;

		for (unsigned i = 0; i < noff; i++) {
			uint64_t t0 = now_ns();

			echo_alloc(&e, 1, &pfn, &got);
			echo_free(&e, &pfn, 1);
			res->floor[res->noff + i] = now_ns() - t0;
		}
		for (unsigned i = 0; i < noff; i++) {
			uint64_t t0 = now_ns();

			pairs_loop(off, 1);
			res->off[res->noff + i] = now_ns() - t0;
		}
		res->noff += noff;
		tb = now_ns();
		for (unsigned i = 0; i < nb; i++) {
			uint64_t t0 = now_ns();

			cc_pairs(on, PAIR_BATCH);
			hist_add(res->on, now_ns() - t0);
		}
		res->on_ns += now_ns() - tb;
		res->on_pairs += (uint64_t)nb * PAIR_BATCH;
		for (unsigned i = 0; i < 10000; i++) {
			uint64_t t0 = now_ns();

			hist_add(res->clk, now_ns() - t0);
		}
	}
	echo_close(&e);
	waitpid(epid, &st, 0);
	unlink(path);
}

static void report_hit(struct hit_res *res)
{
	double on[3], off[3], fl[3], ps[3] = { 0.50, 0.90, 0.99 };

	sort_u64(res->off, res->noff);
	sort_u64(res->floor, res->noff);
	for (int i = 0; i < 3; i++) {
		on[i] = (double)hist_pct(res->on, ps[i]) / PAIR_BATCH;
		off[i] = (double)pct_u64(res->off, res->noff, ps[i]);
		fl[i] = (double)pct_u64(res->floor, res->noff, ps[i]);
	}
	printf("### 1. Cache-hit pair: pp_alloc(c, 0, 1, 0, &pfn, NULL) + pp_free(c, &pfn, 1, NULL)\n\n");
	printf("| side (ns per pair) | p50 | p90 | p99 | pairs/s | p50 / cache hit |\n");
	printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
	printf("| cache hit (cache on, batches of %d pairs) | %.1f | %.1f | %.1f | %.0f | 1x |\n",
	       PAIR_BATCH, on[0], on[1], on[2],
	       (double)res->on_pairs * 1e9 / (double)res->on_ns);
	printf("| cache off (PAGEPOOL_CACHE=0: 2 round trips) | %.0f | %.0f | %.0f | %.0f | %.0fx |\n",
	       off[0], off[1], off[2], 1e9 / off[0], off[0] / on[0]);
	printf("| socket floor (2 echo round trips, same framing) | %.0f | %.0f | %.0f | %.0f | "
	       "%.0fx |\n\n", fl[0], fl[1], fl[2], 1e9 / fl[0], fl[0] / on[0]);
	printf("Cache hit at p50: %.1f ns per pair (target <= 25 ns: %s); cache off / socket floor "
	       "at p50: %.2fx.\n", on[0], on[0] <= 25.0 ? "met" : "NOT met", off[0] / fl[0]);
	printf("Timing: clock_gettime(CLOCK_MONOTONIC) around each batch of %d pairs, per pair = "
	       "batch / %d; the clock reads stay in (an empty batch: p50 %llu ns, i.e. %.1f ns per "
	       "pair); cache off and floor: each pair timed.  %llu cache-hit pairs, %zu cache-off "
	       "and %zu floor pairs in alternating rounds.\n\n", PAIR_BATCH, PAIR_BATCH,
	       (unsigned long long)hist_pct(res->clk, 0.5),
	       (double)hist_pct(res->clk, 0.5) / PAIR_BATCH, (unsigned long long)res->on_pairs,
	       res->noff, res->noff);
	free(res->off);
	free(res->floor);
	free(res->on->over);
	free(res->on);
	free(res->clk->over);
	free(res->clk);
}

/* ---- 3. round trips per 1,000 single-page allocs ---------------------------- */

static void run_rpcs(struct bench *b)
{
	printf("### 3. Round trips per 1,000 single-page allocs (pp_stat `calls`)\n\n");
	printf("| connection | 1,000 pp_alloc(0, 1) | their 1,000 pp_free | per 1,000 allocs with "
	       "their frees | steady loop, per 1,000 alloc+free pairs | refills / spills / hits |\n");
	printf("| --- | ---: | ---: | ---: | ---: | --- |\n");
	for (int v = ON; v <= OFF; v++) {
		struct pp_client *c = client_connect(b->cf.sock, v);
		static uint32_t pfns[1000];
		struct pp_stat s[4];

		client_stat(c, &s[0]);
		for (unsigned i = 0; i < 1000; i++)
			if (pp_alloc(c, 0, 1, 0, &pfns[i], NULL) < 0)
				die("pp_alloc: %s", pp_last_error(c));
		client_stat(c, &s[1]);
		for (unsigned i = 0; i < 1000; i++)
			if (pp_free(c, &pfns[i], 1, NULL) < 0)
				die("pp_free: %s", pp_last_error(c));
		client_stat(c, &s[2]);
		pairs_loop(c, 1000);
		client_stat(c, &s[3]);
		/* calls counts every round trip, each pp_stat's own included. */
		printf("| %s, fresh connection | %llu | %llu | %llu | %llu | %llu / %llu / %llu |\n",
		       var_name[v], (unsigned long long)(s[1].calls - s[0].calls - 1),
		       (unsigned long long)(s[2].calls - s[1].calls - 1),
		       (unsigned long long)(s[2].calls - s[0].calls - 2),
		       (unsigned long long)(s[3].calls - s[2].calls - 1),
		       (unsigned long long)(s[3].cache_misses - s[0].cache_misses),
		       (unsigned long long)(s[3].cache_spills - s[0].cache_spills),
		       (unsigned long long)(s[3].cache_hits - s[0].cache_hits));
		pp_close(c);
	}
	printf("\nA refill is one Alloc of client_cache_batch pages, a spill one Free of as many; "
	       "the pp_stat calls around each step are not counted.\n\n");
}

/* ---- 4. the pipeline --------------------------------------------------------- */

static void stamp_write(uint64_t *w, size_t words, uint64_t seq, uint32_t pfn)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ull ^ pfn;

	for (size_t i = 0; i < words; i++)
		w[i] = x + i;
}

static bool stamp_ok(const uint64_t *w, size_t words, uint64_t seq, uint32_t pfn)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ull ^ pfn, acc = 0;

	for (size_t i = 0; i < words; i++)
		acc |= w[i] ^ (x + i);
	return acc == 0;
}

/* The consumer: two connections (cache on, off) that map the arena and
 * take hand-offs; checks every stamp; K_STOP reports its end and exits. */
static void __attribute__((noreturn)) consumer_main(struct shm *m, int fd, const struct config *cf)
{
	struct pp_client *kc[2];
	uint32_t prev[2], *pfns;
	unsigned nprev[2] = { 0, 0 }, n, order, flags, bad;
	struct slot s = { .kind = K_READY };
	char buf[sizeof(struct slot)];
	size_t words;
	int err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1 || (err = pin_cpu(cf->cpu_b)) != 0)
		die("consumer: cannot start");
	for (int v = ON; v <= OFF; v++)
		kc[v] = client_connect(cf->sock, v);
	words = pp_info(kc[ON])->page_size / sizeof(uint64_t);
	pfns = xcalloc(pp_info(kc[ON])->max_count, sizeof(*pfns));
	ring_push(&m->back, &s, 0);
	for (;;) {
		ring_pop(&m->fwd, &s, 0);
		if (s.var > OFF)
			die("consumer: bad slot");
		switch (s.kind) {
		case K_PING:
			break;
		case K_HAND:
			err = pp_take_release(kc[s.var], &s.tok, prev + s.var, nprev[s.var], &bad,
					      pfns, pp_info(kc[s.var])->max_count, &n, &order,
					      &flags);
			if (err < 0 || n != 1 || order != 0 || flags != 0)
				die("consumer: pp_take_release: %s (%s)", pp_strerror(err),
				    pp_last_error(kc[s.var]));
			prev[s.var] = pfns[0];
			nprev[s.var] = 1;
			s.pfn = pfns[0];
			/* fall through */
		case K_ACK: {
			const uint64_t *page = pp_page(kc[s.var], s.pfn);

			m->cons_checked++;
			if (!page || !stamp_ok(page, words, s.seq, s.pfn))
				m->cons_bad++;
			break;
		}
		case K_SOCK:
			for (uint32_t i = 0; i < s.pfn; i++)
				if (recv(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
				    send(fd, buf, sizeof(buf), MSG_NOSIGNAL) != (ssize_t)sizeof(buf))
					die_err("consumer: socket floor", errno);
			continue;	/* no answer on the ring */
		case K_FLUSH:
		case K_STOP:
			for (int v = ON; v <= OFF; v++) {
				struct pp_stat st;

				if (nprev[v] && pp_free(kc[v], prev + v, 1, NULL) < 0)
					die("consumer: pp_free: %s", pp_last_error(kc[v]));
				nprev[v] = 0;
				if (s.kind != K_STOP)
					continue;
				client_stat(kc[v], &st);
				m->cons_held += st.held - st.cached;
				m->cons_refs += st.refs;
			}
			break;
		default:
			die("consumer: bad slot kind %u", s.kind);
		}
		ring_push(&m->back, &s, 0);
		if (s.kind == K_STOP)
			_exit(0);
	}
}

enum pmode { P_RING, P_ACK, P_HAND };

struct inflight {
	uint64_t t0, seq;
	uint32_t pfn;
};

static void pipe_issue(struct bench *b, enum pmode mode, int var, struct inflight *f)
{
	struct slot s = { .seq = b->seq++, .var = (uint16_t)var };
	int err = 0;

	f->t0 = now_ns();
	f->seq = s.seq;
	switch (mode) {
	case P_RING:
		s.kind = K_PING;
		break;
	case P_ACK:
		s.kind = K_ACK;
		err = pp_alloc(b->c[var], 0, 1, 0, &s.pfn, NULL);
		break;
	case P_HAND:
		s.kind = K_HAND;
		err = pp_loan(b->c[var], 0, 1, 0, 0, &s.pfn, &s.tok);
		break;
	}
	if (err < 0)
		die("pipeline: %s: %s (%s)", mode == P_ACK ? "pp_alloc" : "pp_loan",
		    pp_strerror(err), pp_last_error(b->c[var]));
	if (mode != P_RING) {
		uint64_t *page = pp_page(b->c[var], s.pfn);

		if (!page)
			die("pipeline: pfn %u outside the arena", s.pfn);
		stamp_write(page, b->words, s.seq, s.pfn);
	}
	f->pfn = s.pfn;
	ring_push(&b->m->fwd, &s, b->cons);
}

/* Batches (buffers) with at most W in flight until max or deadline; round
 * trips into lat[] when given (ack-back: until its pp_free returned). */
static uint64_t pipe_run(struct bench *b, enum pmode mode, int var, unsigned W, uint64_t max,
			 uint64_t deadline, uint64_t *lat)
{
	struct inflight f[PIPE_W];
	uint64_t head = 0, tail = 0;
	struct slot s;

	while (tail < head || (head < max && now_ns() < deadline)) {
		if (head - tail < W && head < max && now_ns() < deadline) {
			pipe_issue(b, mode, var, &f[head++ % W]);
			continue;
		}
		struct inflight *g = &f[tail % W];

		ring_pop(&b->m->back, &s, b->cons);
		if (s.seq != g->seq)
			die("pipeline: answer %llu for %llu", (unsigned long long)s.seq,
			    (unsigned long long)g->seq);
		if (mode == P_ACK && pp_free(b->c[var], &g->pfn, 1, NULL) < 0)
			die("pipeline: pp_free: %s", pp_last_error(b->c[var]));
		if (lat)
			lat[tail] = now_ns() - g->t0;
		tail++;
	}
	return head;
}

static void sock_floor(struct bench *b, unsigned n, uint64_t *lat)
{
	struct slot s = { .kind = K_SOCK, .pfn = n };
	char buf[sizeof(struct slot)] = "";

	ring_push(&b->m->fwd, &s, b->cons);
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (send(b->sock, buf, sizeof(buf), MSG_NOSIGNAL) != (ssize_t)sizeof(buf) ||
		    recv(b->sock, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
			die_err("socket floor", errno);
		if (lat)
			lat[i] = now_ns() - t0;
	}
}

static void consumer_call(struct bench *b, enum kind k)
{
	struct slot s = { .kind = (uint16_t)k, .seq = b->seq++ };

	ring_push(&b->m->fwd, &s, b->cons);
	ring_pop(&b->m->back, &s, b->cons);
	if (s.kind != k)
		die("consumer: answer of kind %u to %u", s.kind, k);
}

#define NPIPE	6	/* socket floor, ring floor, ack on, ack off, hand-off on, off */
static const char *const pipe_name[NPIPE] = {
	"socket floor: socketpair ping-pong, CPU A <-> CPU B",
	"ring floor: a message through both rings, no buffer",
	"ack-back, cache on", "ack-back, cache off (PAGEPOOL_CACHE=0)",
	"hand-off (pp_loan + pp_take_release), cache on", "hand-off, cache off",
};
static const enum pmode pipe_mode[NPIPE] = { P_RING, P_RING, P_ACK, P_ACK, P_HAND, P_HAND };

static void run_pipe(struct bench *b)
{
	unsigned R = b->cf.rounds, nl = b->cf.quick ? 300 : 1500;
	uint64_t cell = (b->cf.quick ? 100 : 300) * 1000000ull, *lat[NPIPE];
	double rate[NPIPE][MAX_ROUNDS] = { { 0 } }, pc[NPIPE][2], ratio[MAX_ROUNDS];
	int sv[2], st;
	struct slot s;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_err("socketpair", errno);
	fflush(NULL);
	b->cons = fork();
	if (b->cons < 0)
		die_err("fork", errno);
	if (b->cons == 0) {
		close(sv[0]);
		consumer_main(b->m, sv[1], &b->cf);
	}
	close(sv[1]);
	b->sock = sv[0];
	ring_pop(&b->m->back, &s, b->cons);
	for (int k = 0; k < NPIPE; k++)
		lat[k] = xcalloc((size_t)R * nl, sizeof(uint64_t));
	for (unsigned r = 0; r < R; r++) {
		for (int k = 0; k < NPIPE; k++) {
			int var = k >= 2 ? (k & 1 ? OFF : ON) : ON;
			uint64_t *l = lat[k] + (size_t)r * nl, t0, n;

			if (k == 0) {
				sock_floor(b, r ? 20 : 200, NULL);
				sock_floor(b, nl, l);
				continue;
			}
			pipe_run(b, pipe_mode[k], var, 1, r ? 20 : 200, UINT64_MAX, NULL);
			pipe_run(b, pipe_mode[k], var, 1, nl, UINT64_MAX, l);
			pipe_run(b, pipe_mode[k], var, PIPE_W, 2 * PIPE_W, UINT64_MAX, NULL);
			t0 = now_ns();
			n = pipe_run(b, pipe_mode[k], var, PIPE_W, UINT64_MAX, t0 + cell, NULL);
			rate[k][r] = (double)n * 1e9 / (double)(now_ns() - t0);
		}
	}
	consumer_call(b, K_STOP);
	if (waitpid(b->cons, &st, 0) != b->cons || !WIFEXITED(st) || WEXITSTATUS(st))
		die("consumer did not exit cleanly");
	close(b->sock);

	printf("### 4. Pipeline: one %u-byte buffer per message, producer (CPU A) -> consumer "
	       "(CPU B)\n\n", pp_info(b->c[ON])->page_size);
	printf("| mode | buffers/s (%d in flight) | round trip p50 us | p99 us | p50 / socket "
	       "floor |\n| --- | ---: | ---: | ---: | ---: |\n", PIPE_W);
	for (int k = 0; k < NPIPE; k++) {
		double tmp[MAX_ROUNDS];

		sort_u64(lat[k], (size_t)R * nl);
		pc[k][0] = pct_us(lat[k], (size_t)R * nl, 0.50);
		pc[k][1] = pct_us(lat[k], (size_t)R * nl, 0.99);
		memcpy(tmp, rate[k], sizeof(tmp));
		if (k == 0)
			printf("| %s | - |", pipe_name[k]);
		else
			printf("| %s | %.0f |", pipe_name[k], median(tmp, R, NULL, NULL));
		printf(" %.2f | %.2f | %.2fx |\n", pc[k][0], pc[k][1], pc[k][0] / pc[0][0]);
		if (k == 3 || k == 5) {
			for (unsigned r = 0; r < R; r++)
				ratio[r] = rate[k - 1][r] / rate[k][r];
			printf("| **ratio cache on / off, %s** | **%.1fx** | %.1fx faster | %.1fx "
			       "faster | |\n", k == 3 ? "ack-back" : "hand-off",
			       median(ratio, R, NULL, NULL), pc[k][0] / pc[k - 1][0],
			       pc[k][1] / pc[k - 1][1]);
		}
	}
	for (unsigned r = 0; r < R; r++)
		ratio[r] = rate[2][r] / rate[3][r];
	printf("\nAck-back cache on / off: %.1fx buffers/s (target >= 10x: %s).  Hand-off stays "
	       "near 1x by design: pp_loan (alloc + offer) and pp_take_release (take + release) "
	       "are round trips to the daemon whatever the cache, since an offer and its token "
	       "live there; the cache removes only the plain pp_alloc / pp_free round trips.\n",
	       median(ratio, R, NULL, NULL), median(ratio, R, NULL, NULL) >= 10 ? "met" : "NOT met");
	printf("Each buffer: the producer stamps all of it (64-bit words from its sequence number "
	       "and pfn), the consumer checks all of it: %llu checks, %llu bad.  Throughput: %u "
	       "rounds of %llu ms per mode, median over rounds (ratios: median of per-round "
	       "ratios); round trips: one buffer in flight, %u per mode per round, from before "
	       "pp_alloc / pp_loan to the producer having the answer (ack-back: and its pp_free "
	       "returned), nearest rank.  Rings: SPSC, %d slots of %zu bytes in MAP_SHARED "
	       "memory, busy-polled by both sides; the socket floor blocks in recv() on both "
	       "sides (a cross-CPU wake-up each way), which is why a ring pipeline with two "
	       "same-CPU round trips to the daemon (ack-back, cache off) can beat it.\n\n", (unsigned long long)b->m->cons_checked,
	       (unsigned long long)b->m->cons_bad, R, (unsigned long long)(cell / 1000000), nl,
	       RING, sizeof(struct slot));
	if (b->m->cons_bad || b->m->cons_held || b->m->cons_refs)
		die("pipeline: %llu bad stamps; the consumer still holds %llu pages, %llu refs",
		    (unsigned long long)b->m->cons_bad, (unsigned long long)b->m->cons_held,
		    (unsigned long long)b->m->cons_refs);
	for (int k = 0; k < NPIPE; k++)
		free(lat[k]);
}

/* ---- 5. non-interference ----------------------------------------------------- */

struct admin {
	struct pp_transport t;
};

static Pagepool__V1__AdminResponse *admin_call(struct admin *a, Pagepool__V1__AdminRequest *req,
					       int body)
{
	ProtobufCMessage *out = NULL;
	Pagepool__V1__AdminResponse *resp;
	int err;

	req->id = transport_next_id(&a->t);
	err = transport_call(&a->t, &req->base, &pagepool__v1__admin_response__descriptor, &out,
			     NULL);
	if (err < 0)
		die("admin request: %s", a->t.error);
	resp = (Pagepool__V1__AdminResponse *)out;
	if ((int)resp->body_case != body)
		die("admin: unexpected answer (body %d)", (int)resp->body_case);
	return resp;
}

/* One paced request: the null request (A) or a drain of client id (B). */
static void admin_one(struct admin *a, int drain, uint64_t id, struct wstat *w)
{
	Pagepool__V1__AdminRequest req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminStatusReq sq = PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT;
	Pagepool__V1__AdminDrainReq dq = PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT;
	Pagepool__V1__AdminResponse *resp;
	uint64_t t0 = now_ns(), rtt;

	if (drain) {
		dq.clients = 1;
		dq.client_id = id;
		req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_DRAIN;
		req.drain = &dq;
		resp = admin_call(a, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_DRAINED);
		w->drained += resp->drained->clients;
		w->pages += resp->drained->pages;
		w->usec += resp->drained->usec;
		w->stuck += resp->drained->n_stuck;
		w->bad += resp->drained->bad;
	} else {
		req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS;
		req.status = &sq;
		resp = admin_call(a, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATUS_INFO);
	}
	rtt = now_ns() - t0;
	w->rtt_sum += rtt;
	if (rtt > w->rtt_max)
		w->rtt_max = rtt;
	w->reqs++;
	pagepool__v1__admin_response__free_unpacked(resp, NULL);
}

/* The admin process: windows 0, 1, ... alternately A (even) and B (odd),
 * each RATE requests at absolute deadlines one period apart. */
static void __attribute__((noreturn)) loader_main(struct shm *m, const struct config *cf,
						  uint64_t id, unsigned nwin)
{
	uint64_t give_up = now_ns() + (nwin + 60) * 1000000000ull, period = 1000000000ull / RATE;
	struct admin a;
	int err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1 || (err = pin_cpu(cf->cpu_b)) != 0)
		die("admin load: cannot start");
	if (transport_connect(&a.t, cf->admin, 30000) < 0)
		die("admin socket %s: %s", cf->admin, a.t.error);
	a.t.timeout_ms = -1;
	a.t.max_frame = 1 << 20;
	while (!__atomic_load_n(&m->go, __ATOMIC_ACQUIRE)) {
		if (now_ns() > give_up || getppid() == 1)
			die("admin load: the client never started");
		sleep_until_ns(now_ns() + 1000000);
	}
	for (unsigned k = 0; k < nwin; k++) {
		struct wstat *w = &m->ws[k];
		uint64_t start = now_ns(), end = start + WIN_NS, t;

		__atomic_store_n(&m->window, (int32_t)k, __ATOMIC_RELEASE);
		/* A request that ends after the next deadline makes the next one
		 * late (it starts at once); none starts after the window. */
		for (uint64_t dl = start; dl < end && (t = now_ns()) < end; dl += period) {
			if (t < dl)
				sleep_until_ns(dl);
			else if (t > dl + period / 10)
				w->late++;
			admin_one(&a, k & 1, id, w);
		}
		if (now_ns() < end)
			sleep_until_ns(end);
		w->ns = now_ns() - start;
	}
	__atomic_store_n(&m->window, WIN_OVER, __ATOMIC_RELEASE);
	transport_close(&a.t);
	/* Exit (SIGCHLD) only once the client has closed its last window. */
	while (__atomic_load_n(&m->go, __ATOMIC_ACQUIRE) != 2) {
		if (now_ns() > give_up || getppid() == 1)
			die("admin load: the client never finished");
		sleep_until_ns(now_ns() + 1000000);
	}
	_exit(0);
}

static void mark(int fd, const char *what, int k)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "ccbench-mark %s %d\n", what, k);

	if (fd >= 0 && write(fd, buf, (size_t)n) < 0)
		die_err("marker", errno);
}

struct win_cli {
	uint64_t misses, drains, calls;
};

/* Part 5's table: each window, then all A and all B pooled (pool[0], [1]). */
static void report_interference(struct bench *b, struct hist *h, const struct win_cli *wc,
				unsigned nwin)
{
	struct hist *pool = h + nwin;
	uint64_t dr = 0, dn = 0, stuck = 0, bad = 0, pages = 0, usec = 0, rtt = 0, reqs = 0;
	uint64_t a99, b99;
	double ratio[MAX_WIN / 2];
	unsigned nr = 0;

	printf("### 5%s. Non-interference: per-batch latency (%d cache-hit pairs) under 1,000 "
	       "admin requests/s%s%s\n\n", b->cf.title ? "b" : "", PAIR_BATCH,
	       b->cf.title ? ", " : "", b->cf.title ? b->cf.title : "");
	printf("| window | load | batches | p50 ns | p99 ns | p99.9 ns | max us | refills | "
	       "drains done (admin / client) | requests done (late) | admin rtt mean / max us |\n");
	printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |\n");
	for (unsigned k = 0; k < nwin; k++) {
		const struct wstat *s = &b->m->ws[k];

		hist_merge(&pool[k & 1], &h[k]);
		printf("| %u | %s | %llu | %llu | %llu | %llu | %.1f | %llu | %llu / %llu | %llu (%llu) "
		       "| %.0f / %.0f |\n", k, k & 1 ? "B: drain --client" : "A: status (null)",
		       (unsigned long long)h[k].n, (unsigned long long)hist_pct(&h[k], 0.5),
		       (unsigned long long)hist_pct(&h[k], 0.99),
		       (unsigned long long)hist_pct(&h[k], 0.999), (double)h[k].max / 1000,
		       (unsigned long long)wc[k].misses, (unsigned long long)s->drained,
		       (unsigned long long)wc[k].drains, (unsigned long long)s->reqs,
		       (unsigned long long)s->late, (double)s->rtt_sum / (double)s->reqs / 1000,
		       (double)s->rtt_max / 1000);
		if (!(k & 1))
			continue;
		ratio[nr++] = (double)hist_pct(&h[k], 0.99) / (double)hist_pct(&h[k - 1], 0.99);
		dr += s->drained;
		dn += s->ns;
		stuck += s->stuck;
		bad += s->bad;
		pages += s->pages;
		usec += s->usec;
		rtt += s->rtt_sum;
		reqs += s->reqs;
	}
	for (int p = 0; p < 2; p++)
		printf("| all %c | | %llu | %llu | %llu | %llu | %.1f | | | | |\n", 'A' + p,
		       (unsigned long long)pool[p].n, (unsigned long long)hist_pct(&pool[p], 0.5),
		       (unsigned long long)hist_pct(&pool[p], 0.99),
		       (unsigned long long)hist_pct(&pool[p], 0.999), (double)pool[p].max / 1000);
	a99 = hist_pct(&pool[0], 0.99);
	b99 = hist_pct(&pool[1], 0.99);
	printf("\np99(B) / p99(A) = %.3f over all windows (target within 5%%: %s), %.3f as the "
	       "median of the %u (A, B) pairs; drains done: %.0f per second of B (%llu pages "
	       "taken back, %llu stuck, %llu bad entries).\n", (double)b99 / (double)a99,
	       (double)b99 <= 1.05 * (double)a99 ? "met" : "NOT met", median(ratio, nr, NULL, NULL),
	       nr, dn ? (double)dr * 1e9 / (double)dn : 0.0, (unsigned long long)pages,
	       (unsigned long long)stuck, (unsigned long long)bad);
	printf("The daemon drains one request at a time and answers when every worker has, so "
	       "drains per second are bounded by 1 / the drain's round trip: %.0f us on average, "
	       "of which %.0f us inside the daemon (AdminDrained.usec).\n",
	       reqs ? (double)rtt / (double)reqs / 1000 : 0.0, reqs ? (double)usec / (double)reqs : 0.0);
	printf("Client on CPU A, the admin load on CPU B (another process, paced by absolute "
	       "deadlines %u us apart; late: started > %u us after its deadline); windows of "
	       "1 s (at most %d requests), A and B alternating.  Per batch: clock_gettime around %d "
	       "pairs.  Refills: the client's cache_misses in the window (each drain empties "
	       "its cache; the next alloc refills it in one round trip).\n\n", 1000000 / RATE,
	       100000 / RATE, RATE, PAIR_BATCH);
}

static void run_interference(struct bench *b, unsigned nwin, int marks)
{
	struct pp_client *c = b->c[ON];
	struct hist *h = hist_new(nwin + 2);
	struct win_cli wc[MAX_WIN] = { { 0, 0, 0 } };
	struct pp_stat st, last = { 0 };
	uint64_t give_up = now_ns() + (nwin + 30) * 1000000000ull;
	int32_t cur = -1, w;
	int status, fd = marks ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
	pid_t pid;

	if (marks && fd < 0)
		die_err("/dev/null", errno);
	for (unsigned k = 0; k < nwin; k++)
		hist_reserve(&h[k], 1 << 16);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die_err("fork", errno);
	if (pid == 0)
		loader_main(b->m, &b->cf, pp_info(c)->client_id, nwin);
	pairs_loop(c, 20000);
	__atomic_store_n(&b->m->go, 1, __ATOMIC_RELEASE);
	for (;;) {
		w = __atomic_load_n(&b->m->window, __ATOMIC_ACQUIRE);
		if (w != cur) {
			if (cur >= 0)
				mark(fd, "end", cur);
			client_stat(c, &st);
			if (cur >= 0) {
				wc[cur].misses = st.cache_misses - last.cache_misses;
				wc[cur].drains = st.cache_drains - last.cache_drains;
				wc[cur].calls = st.calls - last.calls - 1;
			}
			last = st;
			if (w == WIN_OVER) {
				__atomic_store_n(&b->m->go, 2, __ATOMIC_RELEASE);
				break;
			}
			if (w < 0 || w >= (int32_t)nwin)
				die("bad window %d", w);
			mark(fd, "begin", w);
			cur = w;
		}
		uint64_t t0 = now_ns(), t1;

		cc_pairs(c, PAIR_BATCH);
		t1 = now_ns();
		if (cur >= 0)
			hist_add(&h[cur], t1 - t0);
		if (t1 > give_up)
			die("non-interference: the admin load did not finish in time");
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		die("admin load: waitpid");

	report_interference(b, h, wc, nwin);
	if (marks)
		printf("strace-window\t%llu\t%llu\t%llu\n", (unsigned long long)wc[1].misses,
		       (unsigned long long)wc[1].calls, (unsigned long long)b->m->ws[1].drained);
	if (fd >= 0)
		close(fd);
	for (unsigned k = 0; k < nwin + 2; k++)
		free(h[k].over);
	free(h);
}

/* ---- 2. callgrind --------------------------------------------------------- */

static int run_callgrind(struct bench *b)
{
	struct pp_client *c = b->c[ON];
	struct pp_stat s0, s1;

	pairs_loop(c, 1000);
	client_stat(c, &s0);
	cc_pairs(c, b->cf.cg_pairs);
	client_stat(c, &s1);
	printf("pairs %llu hits %llu misses %llu spills %llu calls %llu\n",
	       (unsigned long long)b->cf.cg_pairs,
	       (unsigned long long)(s1.cache_hits - s0.cache_hits),
	       (unsigned long long)(s1.cache_misses - s0.cache_misses),
	       (unsigned long long)(s1.cache_spills - s0.cache_spills),
	       (unsigned long long)(s1.calls - s0.calls - 1));
	return 0;
}

/* ---- main ------------------------------------------------------------------- */

static void on_alarm(int sig)
{
	static const char msg[] = "bench_ccache: timed out (watchdog)\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_ccache --socket PATH --admin PATH [--quick] [--cpus A,B]\n"
		"                    [--daemon-pid PID] [--windows N]\n"
		"                    [--interference [--title TEXT] | --strace-check]\n"
		"       bench_ccache --socket PATH --callgrind N [--cache-off]\n");
	exit(2);
}

static void parse_args(int argc, char **argv, struct config *cf)
{
	int cpus[2], n = first_allowed_cpus(cpus, 2);

	*cf = (struct config){ .cpu_a = n > 0 ? cpus[0] : 0, .cpu_b = n > 1 ? cpus[1] : 0 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--quick") == 0 || strcmp(a, "--cache-off") == 0) {
			*(a[2] == 'q' ? &cf->quick : &cf->cg_off) = 1;
			continue;
		}
		if (strcmp(a, "--strace-check") == 0 || strcmp(a, "--interference") == 0) {
			cf->only5 = 1;
			cf->strace_check = a[2] == 's';
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(a, "--socket") == 0)
			cf->sock = argv[++i];
		else if (strcmp(a, "--admin") == 0)
			cf->admin = argv[++i];
		else if (strcmp(a, "--cpus") == 0) {
			if (sscanf(argv[++i], "%d,%d", &cf->cpu_a, &cf->cpu_b) != 2)
				usage();
		} else if (strcmp(a, "--daemon-pid") == 0)
			cf->daemon_pid = (pid_t)atoi(argv[++i]);
		else if (strcmp(a, "--windows") == 0)
			cf->windows = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--title") == 0)
			cf->title = argv[++i];
		else if (strcmp(a, "--callgrind") == 0)
			cf->cg_pairs = strtoull(argv[++i], NULL, 10);
		else
			usage();
	}
	if (!cf->sock || (!cf->cg_pairs && !cf->admin))
		usage();
	if (!cf->windows)
		cf->windows = cf->strace_check ? 2 : cf->quick ? 4 : 10;
	if (cf->windows < 2 || cf->windows > MAX_WIN)
		usage();
	cf->rounds = cf->quick ? 3 : 5;
}

int main(int argc, char **argv)
{
	static struct bench b;
	struct hit_res hit = { 0 };
	struct pp_stat st[2];
	char wk[512] = "?";
	int err;

	parse_args(argc, argv, &b.cf);
	signal(SIGALRM, on_alarm);
	alarm(b.cf.cg_pairs ? 600 : b.cf.quick ? 90 : 300);
	if ((err = pin_cpu(b.cf.cpu_a)) != 0)
		die_err("sched_setaffinity", err);
	b.c[ON] = client_connect(b.cf.sock, b.cf.cg_off ? OFF : ON);
	if (b.cf.cg_pairs)
		return run_callgrind(&b);
	b.c[OFF] = client_connect(b.cf.sock, OFF);
	b.words = pp_info(b.c[ON])->page_size / sizeof(uint64_t);
	b.m = mmap(NULL, sizeof(*b.m), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b.m == MAP_FAILED)
		die_err("mmap", errno);
	b.m->window = -1;
	pairs_loop(b.c[ON], 1000);
	client_stat(b.c[ON], &st[ON]);
	if (st[ON].cache_hits == 0)
		die("the cache-on connection has no cache (client_cache_high 0?)");
	if (b.cf.only5) {
		run_interference(&b, b.cf.windows, b.cf.strace_check);
		return 0;
	}

	run_hit(&b, &hit);
	report_hit(&hit);
	run_rpcs(&b);
	run_pipe(&b);
	run_interference(&b, b.cf.windows, 0);

	for (int v = ON; v <= OFF; v++) {
		client_stat(b.c[v], &st[v]);
		if (st[v].held != st[v].cached || st[v].refs || st[v].my_offered)
			die("at the end the %s connection holds %llu pages (%llu cached)",
			    var_name[v], (unsigned long long)st[v].held,
			    (unsigned long long)st[v].cached);
	}
	if (st[OFF].cache_hits || st[OFF].cached)
		die("the cache-off connection used a cache");
	print_machine();
	if (b.cf.daemon_pid > 0)
		daemon_cpus(b.cf.daemon_pid, "admin/main thread", wk, sizeof(wk));
	printf("Pinning: client (producer) on CPU %d, consumer and admin load on CPU %d; "
	       "pagepoold %s; connections served by worker %u (cache on) and %u (cache off)\n",
	       b.cf.cpu_a, b.cf.cpu_b, wk, pp_info(b.c[ON])->worker, pp_info(b.c[OFF])->worker);
	printf("End (pp_stat): the cache-on connection holds %llu pages, all in its cache "
	       "(%llu hits, %llu refills, %llu spills, %llu remote drains); cache off holds "
	       "0" BENCH_OPTIMIZED("") "\n", (unsigned long long)st[ON].held,
	       (unsigned long long)st[ON].cache_hits, (unsigned long long)st[ON].cache_misses,
	       (unsigned long long)st[ON].cache_spills, (unsigned long long)st[ON].cache_drains);
	pp_close(b.c[ON]);
	pp_close(b.c[OFF]);
	return 0;
}
