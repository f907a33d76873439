/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * benchutil.h - helpers shared by the benchmark programs in tests/bench/
 * and the stress test (tests/stress/): the monotonic clock, sorting and
 * percentiles, CPU pinning and affinity, where a daemon's threads run, the
 * "Machine:" line and the compiler, and die().  benchutil.c is compiled
 * once and linked into each program; only the compiler macros, which must
 * describe the program that prints them, stay here.  The echo-server floor
 * of bench_rpc and bench_load is echo.h.
 */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- failing --------------------------------------------------------------- */

/* "<program>: <message>" on stderr, exit status 1. */
__attribute__((format(printf, 1, 2), noreturn))
void die(const char *fmt, ...);

/* "<program>: what: <strerror>"; err is an errno, positive or negative. */
__attribute__((noreturn))
void die_err(const char *what, int err);

/* ---- the build ------------------------------------------------------------- */

/* The compiler, for "info" lines: "gcc <version>" or "clang <version>". */
#ifdef __clang__
#define BENCH_COMPILER	"clang " __clang_version__
#else
#define BENCH_COMPILER	"gcc " __VERSION__
#endif

/* `optimized` in an optimized build; otherwise the warning that the numbers
 * are meaningless. */
#ifdef __OPTIMIZE__
#define BENCH_OPTIMIZED(optimized)	optimized
#else
#define BENCH_OPTIMIZED(optimized)	" (not optimized: numbers are meaningless)"
#endif

/* ---- time ------------------------------------------------------------------ */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);

/* Sleep until the CLOCK_MONOTONIC instant t (ns), as now_ns() counts it. */
void sleep_until_ns(uint64_t t);

/* ---- sorting and percentiles ------------------------------------------------ */

/* qsort comparators. */
int cmp_u64(const void *a, const void *b);
int cmp_double(const void *a, const void *b);

/* Median of v[n] (v is sorted in place); lo/hi (may be NULL) get the extremes. */
double median(double *v, unsigned n, double *lo, double *hi);

/* Nearest-rank percentile of sorted v[n] (0 when n is 0). */
uint64_t pct_u64(const uint64_t *v, size_t n, double p);

/* The same of nanosecond samples, in microseconds. */
double pct_us(const uint64_t *v, size_t n, double p);

/* ---- CPUs ------------------------------------------------------------------ */

/* Pin the calling thread to `cpu`: 0 or an errno. */
int pin_cpu(int cpu);

/* The first (at most) max CPUs this process may run on, into cpus[]; how
 * many (0 when the affinity cannot be read). */
int first_allowed_cpus(int *cpus, int max);

/* Cpus_allowed_list of /proc/<task>/status into buf ("?" if unreadable). */
void task_cpus(const char *task, char *buf, size_t len);

/*
 * Where pagepoold `pid` runs, into buf: "pp-worker/0 on CPU 0, ..." for its
 * worker threads and, when main_label is not NULL, "<main_label> on CPU 0-1"
 * for its main thread, in /proc order; "?" when none is found.
 */
void daemon_cpus(pid_t pid, const char *main_label, char *buf, size_t len);

/* The pid of the process at the other end of a UNIX socket, or -1. */
pid_t peer_pid(int fd);

/* ---- the machine -------------------------------------------------------------- */

/* The "model name" of /proc/cpuinfo, or "unknown CPU". */
void cpu_model(char *buf, size_t len);

/* "Machine: <CPU model>, nproc <online CPUs>, Linux <release>" on stdout. */
void print_machine(void);

#endif /* BENCHUTIL_H */
