/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testutil.h - shared helpers for the cmocka unit tests of the core.
 * Header-only so every test stays one file.
 */
#ifndef PP_TESTUTIL_H
#define PP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "pool.h"

#define TU_MIB (1024ull * 1024)

/* A pool of `mib` MiB with explicit pcp tunables (high/batch -1: defaults). */
static inline struct pool *tu_pool(unsigned mib, unsigned nworkers, enum drain_mode mode,
				   int high, int batch)
{
	struct pool_config cfg = {
		.name = "test", .size = mib * TU_MIB, .nworkers = nworkers,
		.drain_mode = mode, .high = high, .batch = batch,
	};
	struct pool *pool = NULL;

	assert_int_equal(pool_create(&cfg, &pool), 0);
	assert_non_null(pool);
	return pool;
}

/* verify() must hold; on failure print its message. */
#define assert_verify(pool, owners, n) do {					\
	char _err[256];								\
	int _r = pool_verify((pool), (owners), (n), _err, sizeof(_err));	\
	if (_r != 0)								\
		print_error("verify: %s\n", _err);				\
	assert_int_equal(_r, 0);						\
} while (0)

/* Free pages as the zone sees them plus what the pcps cache. */
static inline uint64_t tu_free_pages(struct pool *pool)
{
	struct pool_counts c;
	pool_counts(pool, &c);
	return c.free + c.pcp;
}

#endif
