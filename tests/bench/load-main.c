/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * load-main.c - bench_load, the load generator for pagepoold: throughput
 * (benchmark case 2) and remote drains (case 3), and its small helpers.
 * tests/bench/bench-load.sh starts the daemons it talks to (private
 * sockets, configurations it writes) and assembles the report; this program
 * only measures and prints Markdown sections on stdout and gnuplot-friendly
 * data files (whitespace-separated columns).  Its parts: load.h.
 *
 *   bench_load throughput --socket S --admin A [--pool-on P] [--pool-off P]
 *		[--echo E] [--echo-cpu C] [--batches LIST] [--conns LIST]
 *		[--reps R] [--ms T] [--warmup-ms W] [--dat FILE] [--daemon-pid PID]
 *	Pages per second of iterations "pp_alloc(order 0, B) + pp_free of the
 *	B pages" for every batch size B and connection count N, against two
 *	pools of one daemon that differ only in pcp_high (default: on; 0: off),
 *	and, for one connection, against the echo server of bench_rpc (the
 *	transport floor: the same messages and frame sizes through the same
 *	request loop, no allocator; tests/bench/echo.h).  Each
 *	repetition runs every (N, B) cell for both pools back to back, which
 *	pool goes first alternating, so slow drifts of a shared machine hit both
 *	alike.  A cell opens N fresh connections (the daemon hands each to the
 *	worker with the fewest), pins every client thread to the CPU of the
 *	worker serving it, warms up for W ms and counts pages for T ms; the
 *	cell's rate is the sum of the threads' rates.  With --daemon-pid (the
 *	pid of the daemon at S, checked), every 1-connection cell against the
 *	daemon also reads the CPU time of the daemon's pp-worker* threads
 *	(/proc/PID/task/TID/schedstat) at the start of the counted window and
 *	at its deadline: worker CPU ns per page counted (a page = one order-0
 *	page allocated and freed), the server's cost without the client's.
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
 * is a benchmark: the driver script cleans up).  Both talk to the daemon
 * through proto/transport.h only: libpagepool for the clients, transport
 * calls for the admin socket, and the echo floor of echo.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "load.h"

/* ---- small helpers ---------------------------------------------------- */

void pin_self(int cpu)
{
	int err = pin_cpu(cpu);

	if (err)
		die("cannot pin to CPU %d: %s", cpu, strerror(err));
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("out of memory");
	return p;
}

/* "1,4,16" into out[] (at most max); returns how many. */
unsigned parse_list(const char *s, unsigned *out, unsigned max)
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

unsigned parse_uint(const char *s, unsigned min, unsigned max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end || v < min || v > max)
		die("bad number \"%s\" (%u..%u)", s, min, max);
	return (unsigned)v;
}

void samples_push(struct samples *s, uint64_t x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = x;
}

void samples_append(struct samples *dst, const struct samples *src)
{
	for (size_t i = 0; i < src->n; i++)
		samples_push(dst, src->v[i]);
}

void samples_sort(struct samples *s)
{
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
}

/* ---- the command line --------------------------------------------------- */

__attribute__((noreturn))
static void usage(void)
{
	fprintf(stderr,
		"usage: bench_load throughput --socket S --admin A [--pool-on P] [--pool-off P]\n"
		"                  [--echo E] [--echo-cpu C] [--batches LIST] [--conns LIST]\n"
		"                  [--reps R] [--ms T] [--warmup-ms W] [--dat FILE]\n"
		"                  [--daemon-pid PID]\n"
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
