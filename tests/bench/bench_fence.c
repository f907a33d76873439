/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_fence.c - the measurements behind the client cache's grace-period
 * scheme (doc/DESIGN.md, "Pcplists in the client"):
 *
 *  1. an alloc+free pair on a list laid out as a client cache list, with
 *     each operation opened the four ways a client could open it: an
 *     exchange (xchg, the library's way), a store and mfence, a store and a
 *     locked add, or a store and a compiler barrier only (what the
 *     asymmetric scheme would leave the client); side by side, alternating;
 *  2. membarrier(MEMBARRIER_CMD_GLOBAL), the daemon's half of that scheme:
 *     its latency, and whether it interrupts a CPU that is busy in user
 *     space - a child spins on the other CPU while the parent calls it, and
 *     the function-call interrupts (CAL, /proc/interrupts) of the spinning
 *     CPU are counted over the calls and over as long an idle stretch.
 *
 *   bench_fence [PAIRS]      (default 20,000,000 pairs per way and round)
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ccache.h"

#define ROUNDS		5
#define MB_CALLS	200

static struct pp_cc_region R __attribute__((aligned(64)));
static uint64_t seqv;

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static inline void enter_xchg(void)
{
	(void)__atomic_exchange_n(&R.seq, ++seqv, __ATOMIC_SEQ_CST);
}

static inline void enter_mfence(void)
{
	__atomic_store_n(&R.seq, ++seqv, __ATOMIC_RELAXED);
#if defined(__x86_64__)
	__asm__ volatile("mfence" ::: "memory");
#else
	(void)__atomic_exchange_n(&R.seq, seqv, __ATOMIC_SEQ_CST);
#endif
}

static inline void enter_lockadd(void)
{
	__atomic_store_n(&R.seq, ++seqv, __ATOMIC_RELAXED);
#if defined(__x86_64__)
	__asm__ volatile("lock; addl $0,-8(%%rsp)" ::: "memory", "cc");
#else
	(void)__atomic_exchange_n(&R.seq, seqv, __ATOMIC_SEQ_CST);
#endif
}

static inline void enter_barrier(void)
{
	__atomic_store_n(&R.seq, ++seqv, __ATOMIC_RELAXED);
	__asm__ volatile("" ::: "memory");
}

static inline void leave(void)
{
	__atomic_store_n(&R.seq, ++seqv, __ATOMIC_RELEASE);
}

/* One alloc (pop) and one free (push) of list[active][0], each an operation. */
#define PAIRS_OF(name, ENTER)							\
	static __attribute__((noinline)) double name(long n)			\
	{									\
		double t0 = now_ns();						\
		for (long i = 0; i < n; i++) {					\
			struct pp_cc_list *l;					\
			uint32_t c, p;						\
			ENTER();						\
			l = &R.list[__atomic_load_n(&R.active, __ATOMIC_SEQ_CST) & 1][0]; \
			c = l->count;						\
			p = l->pfn[c - 1];					\
			l->count = c - 1;					\
			leave();						\
			ENTER();						\
			l = &R.list[__atomic_load_n(&R.active, __ATOMIC_SEQ_CST) & 1][0]; \
			c = l->count;						\
			l->pfn[c] = p;						\
			l->count = c + 1;					\
			leave();						\
		}								\
		return (now_ns() - t0) / (double)n;				\
	}

PAIRS_OF(pairs_xchg, enter_xchg)
PAIRS_OF(pairs_mfence, enter_mfence)
PAIRS_OF(pairs_lockadd, enter_lockadd)
PAIRS_OF(pairs_barrier, enter_barrier)

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Function-call interrupts of `cpu` so far (the CAL line), or -1. */
static long long cal_count(int cpu)
{
	char line[4096];
	long long v = -1;
	FILE *f = fopen("/proc/interrupts", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		while (*p == ' ')
			p++;
		if (strncmp(p, "CAL:", 4) != 0)
			continue;
		p += 4;
		for (int i = 0; i <= cpu; i++) {
			v = strtoll(p, &end, 10);
			if (end == p) {
				v = -1;
				break;
			}
			p = end;
		}
		break;
	}
	fclose(f);
	return v;
}

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s) < 0)
		fprintf(stderr, "bench_fence: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
}

static void membarrier_part(void)
{
	double lat[MB_CALLS], t0, idle_ns;
	long long before, after, idle_before, idle_after;
	FILE *f = fopen("/sys/kernel/rcu_expedited", "re");
	int exp = -1, ret;
	pid_t kid;

	if (f) {
		if (fscanf(f, "%d", &exp) != 1)
			exp = -1;
		fclose(f);
	}
	ret = (int)syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	if (ret < 0 || !(ret & MEMBARRIER_CMD_GLOBAL)) {
		printf("membarrier(MEMBARRIER_CMD_GLOBAL): not available (%s)\n",
		       ret < 0 ? strerror(errno) : "not in QUERY's answer");
		return;
	}
	kid = fork();
	if (kid == 0) {		/* a process busy in user space on CPU 0 */
		volatile unsigned long x = 0;

		pin(0);
		for (;;)
			x++;
	}
	pin(1);
	/* Let the spinner start; not a synchronisation: a late start only
	 * makes the idle count below smaller. */
	usleep(200000);
	idle_before = cal_count(0);
	t0 = now_ns();
	usleep(100000);
	idle_ns = now_ns() - t0;
	idle_after = cal_count(0);
	before = cal_count(0);
	t0 = now_ns();
	for (int i = 0; i < MB_CALLS; i++) {
		double s = now_ns();

		if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0)
			fprintf(stderr, "membarrier: %s\n", strerror(errno));
		lat[i] = (now_ns() - s) / 1e3;
	}
	after = cal_count(0);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	qsort(lat, MB_CALLS, sizeof(lat[0]), cmp_d);
	printf("\nmembarrier(MEMBARRIER_CMD_GLOBAL) from CPU 1, a process spinning in user space "
	       "on CPU 0 (/sys/kernel/rcu_expedited = %d):\n", exp);
	printf("| | value |\n| --- | ---: |\n");
	printf("| calls | %d |\n", MB_CALLS);
	printf("| latency p50 / p90 / max, us | %.1f / %.1f / %.1f |\n", lat[MB_CALLS / 2],
	       lat[MB_CALLS * 9 / 10], lat[MB_CALLS - 1]);
	printf("| CPU 0 function-call interrupts during the calls (%.1f ms) | %lld |\n",
	       (now_ns() - t0) / 1e6, before >= 0 && after >= 0 ? after - before : -1);
	printf("| CPU 0 function-call interrupts during %.1f ms without calls | %lld |\n",
	       idle_ns / 1e6, idle_before >= 0 && idle_after >= 0 ? idle_after - idle_before : -1);
	printf("\nAbout one interrupt per call means the \"no-IPI\" barrier interrupts busy "
	       "CPUs on this kernel (expedited RCU grace periods).\n");
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	double x[ROUNDS], m[ROUNDS], l[ROUNDS], b[ROUNDS];

	if (n <= 0) {
		fprintf(stderr, "usage: bench_fence [PAIRS]\n");
		return 2;
	}
	pin(1);
	R.list[0][0].count = 16;
	for (uint32_t i = 0; i < 16; i++)
		R.list[0][0].pfn[i] = i;
	for (int r = 0; r < ROUNDS; r++) {	/* alternating, so drift hits all four */
		x[r] = pairs_xchg(n);
		m[r] = pairs_mfence(n);
		l[r] = pairs_lockadd(n);
		b[r] = pairs_barrier(n);
	}
	qsort(x, ROUNDS, sizeof(double), cmp_d);
	qsort(m, ROUNDS, sizeof(double), cmp_d);
	qsort(l, ROUNDS, sizeof(double), cmp_d);
	qsort(b, ROUNDS, sizeof(double), cmp_d);
	printf("alloc+free pair on a client cache list, each operation opened by (%ld pairs x %d "
	       "rounds, median of rounds, CPU 1):\n", n, ROUNDS);
	printf("| opening | ns per pair | over the barrier-only pair |\n| --- | ---: | ---: |\n");
	printf("| xchg (the library's) | %.2f | %.2f |\n", x[ROUNDS / 2], x[ROUNDS / 2] - b[ROUNDS / 2]);
	printf("| store + mfence | %.2f | %.2f |\n", m[ROUNDS / 2], m[ROUNDS / 2] - b[ROUNDS / 2]);
	printf("| store + lock add | %.2f | %.2f |\n", l[ROUNDS / 2], l[ROUNDS / 2] - b[ROUNDS / 2]);
	printf("| store + compiler barrier (asymmetric scheme) | %.2f | 0 |\n", b[ROUNDS / 2]);
	membarrier_part();
	return 0;
}
