/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * benchutil.c - helpers shared by the benchmark programs in tests/bench/
 * and the stress test (tests/stress/): the monotonic clock, sorting and
 * percentiles, CPU pinning and affinity, where a daemon's threads run, the
 * "Machine:" line, and die().  Compiled once, linked into each of them.
 */
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

#include "benchutil.h"

/* ---- failing --------------------------------------------------------------- */

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void die_err(const char *what, int err)
{
	die("%s: %s", what, strerror(err < 0 ? -err : err));
}

/* ---- time ------------------------------------------------------------------ */

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000u),
			       .tv_nsec = (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ---- sorting and percentiles ------------------------------------------------ */

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(double *v, unsigned n, double *lo, double *hi)
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

uint64_t pct_u64(const uint64_t *v, size_t n, double p)
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

double pct_us(const uint64_t *v, size_t n, double p)
{
	return (double)pct_u64(v, n, p) / 1000.0;
}

/* ---- CPUs ------------------------------------------------------------------ */

int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int first_allowed_cpus(int *cpus, int max)
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

void task_cpus(const char *task, char *buf, size_t len)
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

void daemon_cpus(pid_t pid, const char *main_label, char *buf, size_t len)
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

pid_t peer_pid(int fd)
{
	struct ucred cr;
	socklen_t sl = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0)
		return -1;
	return cr.pid;
}

/* ---- the machine -------------------------------------------------------------- */

void cpu_model(char *buf, size_t len)
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

void print_machine(void)
{
	char model[256];
	struct utsname un;

	cpu_model(model, sizeof(model));
	if (uname(&un) < 0)
		snprintf(un.release, sizeof(un.release), "?");
	printf("Machine: %s, nproc %ld, Linux %s\n", model, sysconf(_SC_NPROCESSORS_ONLN),
	       un.release);
}

