/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * benchutil.h - helpers shared by the benchmark programs in tests/bench/
 * and the stress test (tests/stress/stress.c): the monotonic clock, sorting
 * and percentiles, CPU pinning and affinity, where a daemon's threads run,
 * the "Machine:" line and the compiler, and die().
 *
 * The functions are static inline, so a program pays only for what it uses.
 * Define BENCH_PROG (the program's name, a string literal) before including
 * this file to get die() and die_err(), which prefix messages with it.  A
 * program that includes wire.h first also gets the frame and message-size
 * helpers of the echo-server floor (bench_rpc, bench_load).
 */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* ---- failing --------------------------------------------------------------- */

#ifdef BENCH_PROG
/* "BENCH_PROG: <message>" on stderr, exit status 1. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void die(const char *fmt, ...)
{
	va_list ap;

	fputs(BENCH_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* "BENCH_PROG: what: <strerror>"; err is an errno, positive or negative. */
__attribute__((noreturn))
static inline void die_err(const char *what, int err)
{
	die("%s: %s", what, strerror(err < 0 ? -err : err));
}
#endif

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

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleep until the CLOCK_MONOTONIC instant t (ns), as now_ns() counts it. */
static inline void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000u),
			       .tv_nsec = (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ---- sorting and percentiles ------------------------------------------------ */

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of v[n] (v is sorted in place); lo/hi (may be NULL) get the extremes. */
static inline double median(double *v, unsigned n, double *lo, double *hi)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	if (lo)
		*lo = v[0];
	if (hi)
		*hi = v[n - 1];
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Nearest-rank percentile of sorted v[n] (0 when n is 0). */
static inline uint64_t pct_u64(const uint64_t *v, size_t n, double p)
{
	size_t k = (size_t)(p * (double)n + 0.999999);

	if (n == 0)
		return 0;
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* The same of nanosecond samples, in microseconds. */
static inline double pct_us(const uint64_t *v, size_t n, double p)
{
	return (double)pct_u64(v, n, p) / 1000.0;
}

/* ---- CPUs ------------------------------------------------------------------ */

/* Pin the calling thread to `cpu`: 0 or an errno. */
static inline int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The first (at most) max CPUs this process may run on, into cpus[]; how
 * many (0 when the affinity cannot be read). */
static inline int first_allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	for (int cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus[n++] = cpu;
	return n;
}

/* Cpus_allowed_list of /proc/<task>/status into buf ("?" if unreadable). */
static inline void task_cpus(const char *task, char *buf, size_t len)
{
	char fn[320], line[512];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(fn, sizeof(fn), "/proc/%s/status", task);
	f = fopen(fn, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
			char *v = line + 18 + strspn(line + 18, " \t");

			v[strcspn(v, "\n")] = 0;
			snprintf(buf, len, "%s", v);
			break;
		}
	}
	fclose(f);
}

/*
 * Where pagepoold `pid` runs, into buf: "pp-worker/0 on CPU 0, ..." for its
 * worker threads and, when main_label is not NULL, "<main_label> on CPU 0-1"
 * for its main thread, in /proc order; "?" when none is found.
 */
static inline void daemon_cpus(pid_t pid, const char *main_label, char *buf, size_t len)
{
	char dir[64], task[300], fn[320], comm[64], cpus[128];
	struct dirent *de;
	size_t used = 0;
	DIR *d;

	buf[0] = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		FILE *f;
		int is_main = main_label && atoi(de->d_name) == (int)pid;

		if (de->d_name[0] == '.')
			continue;
		snprintf(task, sizeof(task), "%d/task/%s", (int)pid, de->d_name);
		snprintf(fn, sizeof(fn), "/proc/%s/comm", task);
		f = fopen(fn, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		comm[strcspn(comm, "\n")] = 0;
		if (!is_main && strncmp(comm, "pp-worker", 9) != 0)
			continue;
		task_cpus(task, cpus, sizeof(cpus));
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s on CPU %s",
						 used ? ", " : "", is_main ? main_label : comm,
						 cpus);
	}
	if (d)
		closedir(d);
	if (!buf[0])
		snprintf(buf, len, "?");
}

/* The pid of the process at the other end of a UNIX socket, or -1. */
static inline pid_t peer_pid(int fd)
{
	struct ucred cr;
	socklen_t sl = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0)
		return -1;
	return cr.pid;
}

/* ---- the machine -------------------------------------------------------------- */

/* The "model name" of /proc/cpuinfo, or "unknown CPU". */
static inline void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon) {
			colon += 1 + (colon[1] == ' ');
			colon[strcspn(colon, "\n")] = 0;
			snprintf(buf, len, "%s", colon);
			break;
		}
	}
	fclose(f);
}

/* "Machine: <CPU model>, nproc <online CPUs>, Linux <release>" on stdout. */
static inline void print_machine(void)
{
	char model[256];
	struct utsname un;

	cpu_model(model, sizeof(model));
	if (uname(&un) < 0)
		snprintf(un.release, sizeof(un.release), "?");
	printf("Machine: %s, nproc %ld, Linux %s\n", model, sysconf(_SC_NPROCESSORS_ONLN),
	       un.release);
}

/* ---- the echo-server floor (with wire.h) ------------------------------------ */

#ifdef PP_WIRE_H
static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Encoded size of request `id`: Alloc(order 0, count batch), or Free of the
 * batch pages pfns[]. */
static inline size_t packed_request(uint64_t id, unsigned batch, const uint32_t *pfns,
				    int is_alloc)
{
	Pagepool__V1__Request req = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Alloc a = PAGEPOOL__V1__ALLOC__INIT;
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;

	req.id = id;
	if (is_alloc) {
		a.count = batch;
		req.body_case = PAGEPOOL__V1__REQUEST__BODY_ALLOC;
		req.alloc = &a;
	} else {
		f.pfns = (uint32_t *)pfns;
		f.n_pfns = batch;
		req.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
		req.free = &f;
	}
	return pagepool__v1__request__get_packed_size(&req);
}

/* Encoded size of pagepoold's answer to it: Pages (order 0, pfns[]) or Freed. */
static inline size_t packed_response(uint64_t id, unsigned batch, const uint32_t *pfns,
				     int is_alloc)
{
	Pagepool__V1__Response resp = PAGEPOOL__V1__RESPONSE__INIT;
	Pagepool__V1__Pages p = PAGEPOOL__V1__PAGES__INIT;
	Pagepool__V1__Freed fr = PAGEPOOL__V1__FREED__INIT;

	resp.id = id;
	if (is_alloc) {
		p.pfns = (uint32_t *)pfns;
		p.n_pfns = batch;
		resp.body_case = PAGEPOOL__V1__RESPONSE__BODY_PAGES;
		resp.pages = &p;
	} else {
		fr.pages = batch;
		resp.body_case = PAGEPOOL__V1__RESPONSE__BODY_FREED;
		resp.freed = &fr;
	}
	return pagepool__v1__response__get_packed_size(&resp);
}
#endif /* PP_WIRE_H */

#endif /* BENCHUTIL_H */
