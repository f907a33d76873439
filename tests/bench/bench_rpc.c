/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_rpc.c - round-trip latency of pp_alloc(order 0, 1) + pp_free against
 * the transport floor, measured side by side in one run.
 *
 *   bench_rpc --echo-server SOCKET [--epoll]
 *	Accept one UNIX stream connection and answer every Request like
 *	pagepoold in shape and size, without an allocator (tests/bench/echo.h):
 *	Alloc -> Pages of the pfns last freed to it, Free -> Freed.
 *	Single-threaded.  Blocking by default (recvmsg + send per request:
 *	the floor of a thread serving one connection); with --epoll it waits
 *	in epoll_wait() before each receive that finds no buffered bytes
 *	(epoll_wait + recvmsg + send, pagepoold's worker's system calls: the
 *	floor of any server multiplexing connections on one thread).
 *
 *   bench_rpc --daemon SOCKET --echo SOCKET [--echo-epoll SOCKET]
 *	       [--iters N] [--cpu C]
 *	Client.  One "pair" is two round trips, pp_alloc(order 0, count 1) +
 *	pp_free of that page against pagepoold, and the same Alloc and Free
 *	against the echo server(s), which are first given the pfn the daemon
 *	hands out so that every frame has the daemon's size.  All sides go
 *	through proto/transport.h (libpagepool is built on it), so the floors
 *	cost the same framing, encoding and decoding.  --echo is the blocking
 *	server (THE floor of the ratios), --echo-epoll (optional) an --epoll
 *	one, the event-driven floor.  After a warm-up, N pairs per side are
 *	timed in ROUNDS alternating blocks (floor, event-driven floor, daemon,
 *	floor, ...), each pair with clock_gettime(CLOCK_MONOTONIC); percentiles
 *	are over the combined samples of all rounds.  Prints a Markdown table;
 *	the frame sizes it reports are computed with a request id in the middle
 *	of the range the daemon run uses.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pagepool.h"
#include "transport.h"

#include "benchutil.h"
#include "echo.h"

#define ROUNDS		5
#define WARMUP		2000

/* ---- client ------------------------------------------------------------ */

struct sizes {
	size_t alloc_req, pages_resp, free_req, freed_resp;	/* bodies */
};

static void daemon_pair(struct pp_client *c, uint32_t *pfn_out)
{
	uint32_t pfn;
	unsigned got;
	int err;

	err = pp_alloc(c, 0, 1, 0, &pfn, &got);
	if (err < 0 || got != 1)
		die("pp_alloc: %s (%s)", pp_strerror(err), pp_last_error(c));
	err = pp_free(c, &pfn, 1, NULL);
	if (err < 0)
		die("pp_free: %s (%s)", pp_strerror(err), pp_last_error(c));
	if (pfn_out)
		*pfn_out = pfn;
}

/* The same pair against the echo server: the pfn it answers is the one it
 * was given (the daemon's, see main). */
static void echo_pair(struct echo *e)
{
	uint32_t pfn;
	unsigned got;

	echo_alloc(e, 1, &pfn, &got);
	echo_free(e, &pfn, got);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_rpc --echo-server SOCKET [--epoll]\n"
		"       bench_rpc --daemon SOCKET --echo SOCKET [--echo-epoll SOCKET]\n"
		"                 [--iters N] [--cpu C]\n");
	exit(2);
}

/* Connect to an echo server, teach it the daemon's pfn, warm it up. */
static void echo_prepare(struct echo *e, const char *path, uint32_t pfn)
{
	echo_connect(e, path);
	echo_free(e, &pfn, 1);		/* from now on the server answers with it */
	for (size_t i = 0; i < WARMUP; i++)
		echo_pair(e);
}

/* Time per_round pairs against e (or the daemon c when e is NULL) into v[]. */
static void time_pairs(struct echo *e, struct pp_client *c, uint64_t *v, size_t per_round)
{
	for (size_t i = 0; i < per_round; i++) {
		uint64_t t0 = now_ns();

		if (e)
			echo_pair(e);
		else
			daemon_pair(c, NULL);
		v[i] = now_ns() - t0;
	}
}

/* p50, p99, p999 in us of v[n] (sorted here). */
static void pcts(uint64_t *v, size_t n, double out[3])
{
	qsort(v, n, sizeof(*v), cmp_u64);
	out[0] = pct_us(v, n, 0.50);
	out[1] = pct_us(v, n, 0.99);
	out[2] = pct_us(v, n, 0.999);
}

int main(int argc, char **argv)
{
	const char *dsock = NULL, *esock = NULL, *epsock = NULL, *serve = NULL;
	static struct echo e, ep;
	static struct pp_transport probe;
	struct pp_client *c;
	uint64_t *floor_ns, *epoll_ns = NULL, *daemon_ns;
	size_t iters = 20000, per_round, i;
	int cpu = -1, err, round, use_epoll = 0;
	uint32_t pfn = 0;
	struct sizes sz;
	char self_cpus[128], echo_cpus[128], epoll_cpus[128], wk_cpus[512], tmp[32];
	pid_t dpid;
	uint64_t mid_id;
	double fl[3], ev[3] = { 0 }, dm[3];

	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--epoll") == 0) {
			use_epoll = 1;
			continue;
		}
		if (i + 1 >= (size_t)argc)
			usage();
		if (strcmp(a, "--echo-server") == 0)
			serve = argv[++i];
		else if (strcmp(a, "--daemon") == 0)
			dsock = argv[++i];
		else if (strcmp(a, "--echo") == 0)
			esock = argv[++i];
		else if (strcmp(a, "--echo-epoll") == 0)
			epsock = argv[++i];
		else if (strcmp(a, "--iters") == 0)
			iters = strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--cpu") == 0)
			cpu = atoi(argv[++i]);
		else
			usage();
	}
	if (serve)
		return echo_serve(serve, use_epoll);
	if (use_epoll || !dsock || !esock || iters < ROUNDS)
		usage();
	per_round = iters / ROUNDS;
	iters = per_round * ROUNDS;

	if (cpu >= 0 && (err = pin_cpu(cpu)) != 0)
		die_err("sched_setaffinity", err);

	err = pp_connect(dsock, NULL, &c);
	if (err < 0) {
		fprintf(stderr, "bench_rpc: pp_connect %s: %s (%s)\n", dsock, pp_strerror(err),
			pp_last_error(NULL));
		return 1;
	}
	/* Warm the daemon up first: its pcp then hands out the same page. */
	for (i = 0; i < WARMUP; i++)
		daemon_pair(c, &pfn);

	/* The daemon's ids run from 1 to about 2 * (2 * WARMUP + iters). */
	mid_id = 2 * WARMUP + iters;
	sz.alloc_req = echo_request_size(mid_id, 1, &pfn, 1);
	sz.pages_resp = echo_response_size(mid_id, 1, &pfn, 1);
	sz.free_req = echo_request_size(mid_id + 1, 1, &pfn, 0);
	sz.freed_resp = echo_response_size(mid_id + 1, 1, &pfn, 0);
	if (sz.alloc_req < 4 || sz.free_req < 4 || sz.alloc_req > 64 || sz.free_req > 64) {
		fprintf(stderr, "bench_rpc: unexpected request sizes\n");
		return 1;
	}
	echo_prepare(&e, esock, pfn);
	if (epsock)
		echo_prepare(&ep, epsock, pfn);

	floor_ns = calloc(iters, sizeof(*floor_ns));
	daemon_ns = calloc(iters, sizeof(*daemon_ns));
	if (epsock)
		epoll_ns = calloc(iters, sizeof(*epoll_ns));
	if (!floor_ns || !daemon_ns || (epsock && !epoll_ns))
		die_err("calloc", ENOMEM);

	for (round = 0; round < ROUNDS; round++) {
		size_t at = (size_t)round * per_round;

		time_pairs(&e, NULL, floor_ns + at, per_round);
		if (epsock)
			time_pairs(&ep, NULL, epoll_ns + at, per_round);
		time_pairs(NULL, c, daemon_ns + at, per_round);
	}

	/* Who ran where. */
	snprintf(tmp, sizeof(tmp), "%d", (int)getpid());
	task_cpus(tmp, self_cpus, sizeof(self_cpus));
	snprintf(tmp, sizeof(tmp), "%d", (int)peer_pid(e.t.fd));
	task_cpus(tmp, echo_cpus, sizeof(echo_cpus));
	if (epsock) {
		snprintf(tmp, sizeof(tmp), "%d", (int)peer_pid(ep.t.fd));
		task_cpus(tmp, epoll_cpus, sizeof(epoll_cpus));
	}
	dpid = transport_connect(&probe, dsock, ECHO_CONNECT_MS) == 0 ? peer_pid(probe.fd) : -1;
	transport_close(&probe);
	if (dpid > 0)
		daemon_cpus(dpid, NULL, wk_cpus, sizeof(wk_cpus));
	else
		snprintf(wk_cpus, sizeof(wk_cpus), "?");

	pcts(floor_ns, iters, fl);
	if (epsock)
		pcts(epoll_ns, iters, ev);
	pcts(daemon_ns, iters, dm);

	printf("| case (one pair = 2 round trips) | p50 us | p99 us | p999 us |\n");
	printf("| --- | --- | --- | --- |\n");
	printf("| transport floor: echo server, same framing and sizes | %.2f | %.2f | %.2f |\n",
	       fl[0], fl[1], fl[2]);
	if (epsock)
		printf("| event-driven floor: the same, epoll_wait before each receive "
		       "| %.2f | %.2f | %.2f |\n", ev[0], ev[1], ev[2]);
	printf("| pagepoold: pp_alloc(order 0, 1) + pp_free | %.2f | %.2f | %.2f |\n",
	       dm[0], dm[1], dm[2]);
	printf("| ratio daemon / floor | %.2fx | %.2fx | %.2fx |\n",
	       dm[0] / fl[0], dm[1] / fl[1], dm[2] / fl[2]);
	if (epsock)
		printf("| ratio daemon / event-driven floor | %.2fx | %.2fx | %.2fx |\n",
		       dm[0] / ev[0], dm[1] / ev[1], dm[2] / ev[2]);
	printf("\n");
	print_machine();
	printf("Pinning: client on CPU %s; echo server on CPU %s; ", self_cpus, echo_cpus);
	if (epsock)
		printf("event-driven echo server on CPU %s; ", epoll_cpus);
	printf("pagepoold %s\n", wk_cpus);
	printf("Samples: %zu pairs per side after %d warm-up pairs, in %d alternating rounds "
	       "of %zu (%s); percentiles over all rounds (nearest rank)\n",
	       iters, WARMUP, ROUNDS, per_round,
	       epsock ? "floor, event-driven floor, daemon" : "floor, then daemon");
	printf("Frame bodies (bytes, + 4-byte header): Alloc %zu -> Pages %zu, "
	       "Free %zu -> Freed %zu\n",
	       sz.alloc_req, sz.pages_resp, sz.free_req, sz.freed_resp);

	free(floor_ns);
	free(epoll_ns);
	free(daemon_ns);
	if (epsock)
		echo_close(&ep);
	echo_close(&e);
	pp_close(c);
	return 0;
}
