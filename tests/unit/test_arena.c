/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_arena.c - the sealed memfd arena and a pool's lazy start-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static uint64_t rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &pages, &rss), 2);
	fclose(f);
	return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void test_arena_sealed(void **state)
{
	struct arena a;
	int seals;

	assert_int_equal(arena_create(&a, "t", 16 * TU_MIB, false), 0);
	seals = fcntl(a.fd, F_GET_SEALS);
	assert_true(seals & F_SEAL_SHRINK);
	assert_true(seals & F_SEAL_GROW);
	assert_true(seals & F_SEAL_SEAL);
	assert_false(seals & F_SEAL_WRITE);
	assert_true(fcntl(a.fd, F_GETFD) & FD_CLOEXEC);
	/* The seals hold: no resize, no new seals. */
	assert_int_equal(ftruncate(a.fd, 4096), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(a.fd, 32 * TU_MIB), -1);
	assert_int_equal(fcntl(a.fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	assert_int_equal(errno, EPERM);
	/* Writable through the mapping. */
	memset(arena_ptr(&a, 3), 0xab, a.page_size);
	assert_int_equal(((unsigned char *)a.base)[3 * a.page_size + 7], 0xab);
	arena_destroy(&a);
}

static void test_arena_bad_size(void **state)
{
	struct arena a;

	assert_int_equal(arena_create(&a, "t", 0, false), -EINVAL);
	assert_int_equal(arena_create(&a, "t", 4096 + 1, false), -EINVAL);
}

static void test_arena_prefault_punch(void **state)
{
	struct arena a;
	uint64_t before, after;

	assert_int_equal(arena_create(&a, "t", 8 * TU_MIB, true), 0);
	assert_int_equal(arena_resident(&a, &before), 0);
	assert_true(before >= 8 * TU_MIB);
	assert_int_equal(arena_punch(&a, 0, 4 * TU_MIB), 0);
	assert_int_equal(arena_resident(&a, &after), 0);
	assert_int_equal(before - after, 4 * TU_MIB);
	assert_int_equal(arena_punch(&a, 6 * TU_MIB, 4 * TU_MIB), -EINVAL);
	arena_destroy(&a);
}

/* A 64 GiB pool starts without touching its pages or its descriptors. */
static void test_pool_64g_lazy_start(void **state)
{
	struct pool_config cfg = { .name = "big", .size = 64ull << 30, .nworkers = 2,
				   .high = -1, .batch = -1 };
	struct timespec t0, t1;
	struct pool *pool;
	uint64_t rss0, rss1, resident;
	double ms;

	rss0 = rss_bytes();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pool_create(&cfg, &pool), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rss1 = rss_bytes();
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("64 GiB pool: %u pages, %zu bytes of descriptors per page "
		      "(%zu MiB virtual), created in %.3f ms, RSS +%lu KiB\n",
		      pool->npages, sizeof(struct page), pool->pages_bytes >> 20, ms,
		      (unsigned long)((rss1 - rss0) >> 10));
	assert_int_equal(sizeof(struct page), 16);
	assert_int_equal(pool->npages, 16u << 20);
	/* Behaviour, not speed: nothing was walked or faulted in. */
	assert_true(rss1 - rss0 < 8 * TU_MIB);
	assert_int_equal(arena_resident(&pool->arena, &resident), 0);
	assert_int_equal(resident, 0);
	assert_int_equal(pool->zone.init_pfn, 0);
	assert_int_equal(buddy_nr_free(&pool->zone), pool->npages);
	assert_verify(pool, NULL, 0);
	pool_destroy(pool);
}

static void test_pool_bad_config(void **state)
{
	struct pool_config cfg = { .name = "p", .size = 16 * TU_MIB, .nworkers = 1,
				   .high = -1, .batch = -1 };
	struct pool *pool = NULL;

	cfg.size = 3 * TU_MIB;		/* not whole max-order blocks */
	assert_int_equal(pool_create(&cfg, &pool), -EINVAL);
	cfg.size = 16 * TU_MIB;
	cfg.nworkers = 0;
	assert_int_equal(pool_create(&cfg, &pool), -EINVAL);
	cfg.nworkers = 1;
	cfg.batch = 64;
	assert_int_equal(pool_create(&cfg, &pool), -EINVAL);
	cfg.batch = -1;
	cfg.high = PCP_HIGH_MAX + 1;
	assert_int_equal(pool_create(&cfg, &pool), -EINVAL);
	cfg.high = -1;
	cfg.name = "";
	assert_int_equal(pool_create(&cfg, &pool), -EINVAL);
	cfg.name = "p";
	cfg.drain_mode = DRAIN_NR_MODES;
	assert_int_equal(pool_create(&cfg, &pool), -EINVAL);
	assert_null(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_sealed),
		cmocka_unit_test(test_arena_bad_size),
		cmocka_unit_test(test_arena_prefault_punch),
		cmocka_unit_test(test_pool_64g_lazy_start),
		cmocka_unit_test(test_pool_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
