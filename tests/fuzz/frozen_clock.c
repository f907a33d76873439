/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * frozen_clock.c - an LD_PRELOAD library that stops the clock, for the
 * fixed-seed fuzz runs of `make check` (tests/fuzz/run-fuzz.sh check).
 *
 * fuzz_proto drives a real daemon whose event bases carry wall-clock timers
 * (the once-a-second trim, the decay of a short decay_interval, read and
 * write timeouts) and whose log rate limits count time.  Run for run, those
 * fire at whichever input happens to be executing when a second passes, so
 * the coverage libFuzzer sees - and with it every input it derives next -
 * would depend on the machine's speed: a run bounded by -runs and -seed would
 * still execute different inputs each time.  With every clock reading the
 * same instant no timer ever expires, and what runs depends only on the seed,
 * the seeds and the code.  Timers stay covered by `make fuzz`, which runs on
 * the real clock.
 *
 * libFuzzer's own -timeout is an alarm (setitimer) and still works; its
 * exec/s figures read 0.  Under the sanitizer runtime's interceptors these
 * definitions are the "next" ones it calls, before libc's.
 */
#include <stddef.h>
#include <sys/time.h>
#include <time.h>

/* Any fixed instant; far from 0 so that "now - interval" stays positive. */
#define FROZEN_SEC	1700000000

int clock_gettime(clockid_t clk, struct timespec *ts);
int gettimeofday(struct timeval *restrict tv, void *restrict tz);
time_t time(time_t *t);

int clock_gettime(clockid_t clk, struct timespec *ts)
{
	ts->tv_sec = FROZEN_SEC;
	ts->tv_nsec = 0;
	return 0;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	tv->tv_sec = FROZEN_SEC;
	tv->tv_usec = 0;
	return 0;
}

time_t time(time_t *t)
{
	if (t)
		*t = FROZEN_SEC;
	return FROZEN_SEC;
}
