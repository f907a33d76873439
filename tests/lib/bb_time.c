/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_time.c - the harness's clock (see bb_time.h).
 */
#include <limits.h>
#include <time.h>

#include "bb_time.h"

int64_t bb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bb_left_ms(int64_t deadline)
{
	int64_t left = deadline - bb_now_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}
