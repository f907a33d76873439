/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_time.h - the black-box harness's clock: monotonic milliseconds and
 * what is left of a deadline.  Every wait in the harness and the tests is
 * bounded by a deadline computed with these.
 */
#ifndef PP_BB_TIME_H
#define PP_BB_TIME_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t bb_now_ms(void);

/* Milliseconds left until `deadline` (bb_now_ms() based), never negative. */
int bb_left_ms(int64_t deadline);

#endif
