/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_buddy.c - the zone on its own: split, merge, alignment, exhaustion,
 * lazy carving, bulk operations, buddyinfo.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define NBLOCKS 4
#define NPAGES (NBLOCKS * MAX_ORDER_PAGES)

struct fixture {
	struct page *pages;
	struct zone z;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->pages = calloc(NPAGES, sizeof(struct page));
	assert_int_equal(buddy_init(&f->z, f->pages, NPAGES), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	buddy_destroy(&f->z);
	free(f->pages);
	free(f);
	return 0;
}

static void test_init_rejects_partial_blocks(void **state)
{
	struct page pages[8];
	struct zone z;

	assert_int_equal(buddy_init(&z, pages, 0), -EINVAL);
	assert_int_equal(buddy_init(&z, pages, MAX_ORDER_PAGES + 1), -EINVAL);
}

static void test_lazy_carving(void **state)
{
	struct fixture *f = *state;
	uint32_t pfn;

	assert_int_equal(f->z.init_pfn, 0);
	assert_int_equal(buddy_nr_free(&f->z), NPAGES);
	assert_int_equal(buddy_alloc(&f->z, 0, PG_ALLOC, &pfn), 0);
	/* Only one max-order block was carved for one page. */
	assert_int_equal(f->z.init_pfn, MAX_ORDER_PAGES);
	assert_int_equal(buddy_nr_free(&f->z), NPAGES - 1);
	buddy_free(&f->z, pfn, 0);
	assert_int_equal(buddy_nr_free(&f->z), NPAGES);
}

static void test_split_and_merge(void **state)
{
	struct fixture *f = *state;
	uint64_t info[PP_NR_ORDERS];
	uint32_t pfn;

	assert_int_equal(buddy_alloc(&f->z, 0, PG_ALLOC, &pfn), 0);
	buddy_info(&f->z, info);
	/* expand(): one free block of every order below the max remains. */
	for (unsigned o = 0; o < PP_MAX_ORDER; o++)
		assert_int_equal(info[o], 1);
	assert_int_equal(info[PP_MAX_ORDER], NBLOCKS - 1);
	buddy_free(&f->z, pfn, 0);
	buddy_info(&f->z, info);
	for (unsigned o = 0; o < PP_MAX_ORDER; o++)
		assert_int_equal(info[o], 0);
	assert_int_equal(info[PP_MAX_ORDER], NBLOCKS);
}

static void test_alignment_every_order(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[PP_NR_ORDERS];

	for (unsigned o = 0; o <= PP_MAX_ORDER; o++) {
		assert_int_equal(buddy_alloc(&f->z, o, PG_ALLOC, &pfns[o]), 0);
		assert_int_equal(pfns[o] & ((1u << o) - 1), 0);
		assert_int_equal(f->pages[pfns[o]].order, o);
		assert_int_equal(f->pages[pfns[o]].state, PG_ALLOC);
	}
	/* No two blocks overlap. */
	for (unsigned a = 0; a <= PP_MAX_ORDER; a++)
		for (unsigned b = a + 1; b <= PP_MAX_ORDER; b++)
			assert_true(pfns[a] + (1u << a) <= pfns[b] ||
				    pfns[b] + (1u << b) <= pfns[a]);
	for (unsigned o = 0; o <= PP_MAX_ORDER; o++)
		buddy_free(&f->z, pfns[o], o);
	assert_int_equal(buddy_nr_free(&f->z), NPAGES);
	assert_int_equal(f->z.free_area[PP_MAX_ORDER].nr_free + (NPAGES - f->z.init_pfn) /
			 MAX_ORDER_PAGES, NBLOCKS);
}

static void test_bad_order(void **state)
{
	struct fixture *f = *state;
	uint32_t pfn;

	assert_int_equal(buddy_alloc(&f->z, PP_MAX_ORDER + 1, PG_ALLOC, &pfn), -EINVAL);
	assert_int_equal(buddy_nr_free(&f->z), NPAGES);
}

static void test_exhaustion(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[NBLOCKS], pfn;

	for (unsigned i = 0; i < NBLOCKS; i++)
		assert_int_equal(buddy_alloc(&f->z, PP_MAX_ORDER, PG_ALLOC, &pfns[i]), 0);
	assert_int_equal(buddy_nr_free(&f->z), 0);
	for (unsigned o = 0; o <= PP_MAX_ORDER; o++)
		assert_int_equal(buddy_alloc(&f->z, o, PG_ALLOC, &pfn), -ENOMEM);
	buddy_free(&f->z, pfns[2], PP_MAX_ORDER);
	assert_int_equal(buddy_alloc(&f->z, 3, PG_ALLOC, &pfn), 0);
	assert_true(pfn >= pfns[2] && pfn < pfns[2] + MAX_ORDER_PAGES);
}

static void test_bulk(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[NPAGES];
	unsigned got;

	got = buddy_alloc_bulk(&f->z, 0, 100, PG_PCP, pfns);
	assert_int_equal(got, 100);
	for (unsigned i = 0; i < got; i++)
		assert_int_equal(f->pages[pfns[i]].state, PG_PCP);
	buddy_free_bulk(&f->z, pfns, got, 0);
	assert_int_equal(buddy_nr_free(&f->z), NPAGES);
	/* Bulk stops short at exhaustion and reports how many it took. */
	got = buddy_alloc_bulk(&f->z, 9, 100, PG_PCP, pfns);
	assert_int_equal(got, NBLOCKS * 2);
	buddy_free_bulk(&f->z, pfns, got, 9);
	assert_int_equal(buddy_nr_free(&f->z), NPAGES);
}

/* Random single-threaded churn must always coalesce back to whole blocks. */
static void test_random_churn_coalesces(void **state)
{
	struct fixture *f = *state;
	struct { uint32_t pfn; unsigned order; } held[512];
	unsigned n = 0;
	uint64_t info[PP_NR_ORDERS];

	srand(42);
	for (int i = 0; i < 20000; i++) {
		if (n < 512 && (rand() & 1)) {
			unsigned o = (unsigned)rand() % (PP_MAX_ORDER + 1);
			if (buddy_alloc(&f->z, o, PG_ALLOC, &held[n].pfn) == 0)
				held[n++].order = o;
		} else if (n) {
			unsigned k = (unsigned)rand() % n;
			buddy_free(&f->z, held[k].pfn, held[k].order);
			held[k] = held[--n];
		}
	}
	while (n) {
		n--;
		buddy_free(&f->z, held[n].pfn, held[n].order);
	}
	buddy_info(&f->z, info);
	assert_int_equal(info[PP_MAX_ORDER], NBLOCKS);
	for (unsigned o = 0; o < PP_MAX_ORDER; o++)
		assert_int_equal(info[o], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_partial_blocks),
		cmocka_unit_test_setup_teardown(test_lazy_carving, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_and_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alignment_every_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_churn_coalesces, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
