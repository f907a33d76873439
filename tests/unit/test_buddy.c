/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_buddy.c - the zone on its own: split, merge, alignment, exhaustion,
 * lazy carving, bulk operations, buddyinfo.  Bulk allocation (whole blocks
 * handed out unsplit) and batched frees (runs freed as aligned chunks) are
 * checked against the block-by-block path on twin zones, with a checker of
 * the zone's invariants.
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

/* ---- bulk allocation and batched frees ------------------------------------ */

static struct fixture *zone_new(void)
{
	void *f;

	setup(&f);
	return f;
}

static void zone_del(struct fixture *f)
{
	void *st = f;

	teardown(&st);
}

/*
 * The zone's invariants: its carved part is a partition into aligned blocks
 * whose heads carry a state and whose other pages are PG_NONE; the free
 * lists hold exactly the PG_BUDDY heads, each of its list's order, linked
 * both ways, none in an isolated block; no free block (PG_BUDDY or
 * PG_ISOLATED) has a free buddy of its order (they would have merged); and
 * nr_free and nr_isolated are what the blocks add up to.
 */
static void check_zone(struct zone *z)
{
	uint64_t buddy_pages = 0, isolated_pages = 0, nbuddy = 0, listed = 0;

	assert_true(z->init_pfn <= z->npages && z->init_pfn % MAX_ORDER_PAGES == 0);
	for (uint32_t pfn = 0; pfn < z->init_pfn;) {
		const struct page *p = &z->pages[pfn];
		uint8_t st = page_state(p);
		unsigned o = p->order;

		if (st == PG_NONE || o > PP_MAX_ORDER || (pfn & ((1u << o) - 1)))
			fail_msg("pfn %u: no block head (state %u order %u)", pfn, st, o);
		for (uint32_t q = pfn + 1; q < pfn + (1u << o); q++)
			if (page_state(&z->pages[q]) != PG_NONE)
				fail_msg("pfn %u: state %u inside the order-%u block at %u", q,
					 page_state(&z->pages[q]), o, pfn);
		if (st == PG_BUDDY || st == PG_ISOLATED) {
			const struct page *b = &z->pages[pfn ^ (1u << o)];

			if (o < PP_MAX_ORDER && page_state(b) == st && b->order == o)
				fail_msg("pfn %u: free order-%u block with a free buddy", pfn, o);
			if (st == PG_BUDDY) {
				buddy_pages += 1u << o;
				nbuddy++;
			} else {
				isolated_pages += 1u << o;
			}
		}
		pfn += 1u << o;
	}
	for (unsigned o = 0; o <= PP_MAX_ORDER; o++) {
		const struct free_area *fa = &z->free_area[o];
		uint32_t prev = PFN_NIL;
		uint64_t n = 0;

		for (uint32_t pfn = fa->head; pfn != PFN_NIL; pfn = z->pages[pfn].next) {
			const struct page *p = &z->pages[pfn];

			assert_true(pfn < z->init_pfn);
			assert_int_equal(page_state(p), PG_BUDDY);
			assert_int_equal(p->order, o);
			assert_int_equal(p->prev, prev);
			assert_false(z->blockflags[pfn / MAX_ORDER_PAGES] & BLK_ISOLATED);
			prev = pfn;
			assert_true(++n <= nbuddy);
		}
		assert_int_equal(fa->tail, prev);
		assert_int_equal(fa->nr_free, n);
		listed += n;
	}
	assert_int_equal(listed, nbuddy);
	assert_int_equal(buddy_nr_free(z), buddy_pages + (z->npages - z->init_pfn));
	assert_int_equal(z->nr_isolated, isolated_pages);
}

/* Both zones hold the same blocks, free or not, in the same states (the
 * order within a free list aside). */
static void assert_zones_equal(struct zone *a, struct zone *b)
{
	uint64_t ia[PP_NR_ORDERS], ib[PP_NR_ORDERS];

	assert_int_equal(a->init_pfn, b->init_pfn);
	assert_int_equal(buddy_nr_free(a), buddy_nr_free(b));
	assert_int_equal(a->nr_isolated, b->nr_isolated);
	buddy_info(a, ia);
	buddy_info(b, ib);
	assert_memory_equal(ia, ib, sizeof(ia));
	for (uint32_t pfn = 0; pfn < a->npages; pfn++) {
		const struct page *p = &a->pages[pfn], *q = &b->pages[pfn];

		if (page_state(p) != page_state(q) ||
		    (page_state(p) != PG_NONE && (p->order != q->order || p->flags != q->flags ||
						  page_owner(p) != page_owner(q))))
			fail_msg("pfn %u: state %u/%u order %u/%u flags %u/%u", pfn,
				 page_state(p), page_state(q), p->order, q->order, p->flags,
				 q->flags);
	}
}

/* buddyinfo after `taken_pages` were taken from the low end of a fresh
 * zone: the untouched max-order blocks, and what is left of the last one
 * split into its binary decomposition (1000 pages taken leave 24 = 16 + 8:
 * one block of order 4 and one of order 3). */
static void check_bulk_info(struct zone *z, uint64_t taken_pages)
{
	uint64_t info[PP_NR_ORDERS], rem = taken_pages % MAX_ORDER_PAGES;
	uint64_t left = rem ? MAX_ORDER_PAGES - rem : 0;

	buddy_info(z, info);
	for (unsigned o = 0; o < PP_MAX_ORDER; o++)
		assert_int_equal(info[o], (left >> o) & 1);
	assert_int_equal(info[PP_MAX_ORDER], NBLOCKS - taken_pages / MAX_ORDER_PAGES - !!rem);
}

/* From a fresh zone, bulk hands out the lowest blocks in ascending order,
 * each head PG_PCP of the order asked, takes exactly what it returns from
 * nr_free, and leaves the rest of a split block in the free lists. */
static void test_bulk_alloc_whole_blocks(void **state)
{
	static const unsigned ns[] = { 0, 1, 3, 512, 1000, 1024, 1025, 3000, NPAGES + 5 };
	static const unsigned ords[] = { 0, 2, PP_MAX_ORDER };
	static uint32_t pfns[NPAGES + 8];

	for (size_t k = 0; k < ARRAY_SIZE(ords); k++)
		for (size_t j = 0; j < ARRAY_SIZE(ns); j++) {
			struct fixture *f = zone_new();
			unsigned order = ords[k], cap = NPAGES >> order;
			unsigned want = ns[j] < cap ? ns[j] : cap, got;

			got = buddy_alloc_bulk(&f->z, order, ns[j], PG_PCP, pfns);
			assert_int_equal(got, want);
			for (unsigned i = 0; i < got; i++) {
				const struct page *p = &f->pages[pfns[i]];

				assert_int_equal(pfns[i], i << order);
				assert_int_equal(page_state(p), PG_PCP);
				assert_int_equal(p->order, order);
				assert_int_equal(p->flags, 0);
				assert_int_equal(page_owner(p), 0);
			}
			assert_int_equal(buddy_nr_free(&f->z), NPAGES - ((uint64_t)got << order));
			check_bulk_info(&f->z, (uint64_t)got << order);
			check_zone(&f->z);
			/* Exhausted: nothing more of any order. */
			if (got == cap)
				assert_int_equal(buddy_alloc_bulk(&f->z, 0, 1, PG_PCP, pfns + got), 0);
			buddy_free_bulk(&f->z, pfns, got, order);
			check_bulk_info(&f->z, 0);
			check_zone(&f->z);
			zone_del(f);
		}
}

static void test_bulk_alloc_bad_order(void **state)
{
	struct fixture *f = *state;
	uint32_t pfn;

	assert_int_equal(buddy_alloc_bulk(&f->z, PP_MAX_ORDER + 1, 1, PG_PCP, &pfn), 0);
	assert_int_equal(buddy_nr_free(&f->z), NPAGES);
	assert_int_equal(f->z.init_pfn, 0);
}

/* Ranges freed, page by page, into a zone taken whole: free blocks of every
 * order, and odd pages among them. */
static const struct { uint32_t start, len; } holes[] = {
	{ 0, 1 }, { 2, 2 }, { 5, 1 }, { 8, 8 }, { 24, 8 }, { 100, 100 }, { 255, 1 },
	{ 512, 256 }, { 1024 + 512, 512 }, { 2048 + 3, 1000 }, { 3500, 17 }, { 4000, 96 },
};

static struct fixture *zone_with_holes(void)
{
	struct fixture *f = zone_new();
	static uint32_t pfns[NPAGES];

	assert_int_equal(buddy_alloc_bulk(&f->z, 0, NPAGES, PG_ALLOC, pfns), NPAGES);
	for (size_t h = 0; h < ARRAY_SIZE(holes); h++)
		for (uint32_t pfn = holes[h].start; pfn < holes[h].start + holes[h].len; pfn++)
			buddy_free(&f->z, pfn, 0);
	check_zone(&f->z);
	return f;
}

/*
 * From a fragmented zone, bulk takes the same blocks, in the same order, as
 * that many buddy_alloc_locked() calls, and leaves the same free blocks;
 * within each free block it takes, its blocks come ascending and
 * consecutive.
 */
static void test_bulk_alloc_fragmented_same_as_one_by_one(void **state)
{
	static const unsigned ns[] = { 1, 2, 3, 5, 17, 64, 200, 700, 1500, 2000, 5000 };
	static uint32_t bulk[NPAGES], one[NPAGES];

	for (unsigned order = 0; order <= 3; order++)
		for (size_t j = 0; j < ARRAY_SIZE(ns); j++) {
			struct fixture *a = zone_with_holes(), *b = zone_with_holes();
			uint64_t before = buddy_nr_free(&a->z);
			unsigned got, n1 = 0;

			got = buddy_alloc_bulk(&a->z, order, ns[j], PG_PCP, bulk);
			buddy_lock(&b->z);
			while (n1 < ns[j] && buddy_alloc_locked(&b->z, order, PG_PCP, &one[n1]) == 0)
				n1++;
			buddy_unlock(&b->z);
			assert_int_equal(got, n1);
			assert_memory_equal(bulk, one, got * sizeof(*bulk));
			assert_int_equal(buddy_nr_free(&a->z), before - ((uint64_t)got << order));
			for (unsigned i = 0; i < got; i++) {
				assert_int_equal(bulk[i] & ((1u << order) - 1), 0);
				assert_int_equal(page_state(&a->pages[bulk[i]]), PG_PCP);
				assert_int_equal(a->pages[bulk[i]].order, order);
			}
			check_zone(&a->z);
			assert_zones_equal(&a->z, &b->z);
			zone_del(a);
			zone_del(b);
		}
}

struct blk {
	uint32_t pfn;
	unsigned order;
};

/* Take the whole zone, in blocks of the orders of `pattern` in turn (order
 * 0 for what they leave), and list the blocks by pfn. */
static struct fixture *zone_taken(const unsigned *pattern, size_t plen, struct blk *blks,
				  size_t *nblk)
{
	struct fixture *f = zone_new();
	uint32_t pfn;
	size_t i = 0;

	while (buddy_alloc(&f->z, pattern[i % plen], PG_ALLOC, &pfn) == 0)
		i++;
	while (buddy_alloc(&f->z, 0, PG_ALLOC, &pfn) == 0)
		i++;
	assert_int_equal(buddy_nr_free(&f->z), 0);
	*nblk = 0;
	for (pfn = 0; pfn < NPAGES; pfn += 1u << f->pages[pfn].order) {
		assert_int_equal(page_state(&f->pages[pfn]), PG_ALLOC);
		blks[*nblk].pfn = pfn;
		blks[(*nblk)++].order = f->pages[pfn].order;
	}
	return f;
}

/*
 * Free blks[seq[0..n)] into a zone taken with `pattern` in two ways: through
 * one buddy_batch (flushed every `flush_every` blocks, 0: only at the end)
 * and block by block with buddy_free_locked; `isolate` (a max-order block
 * number, or -1) is isolated in both first.  The zones must end the same.
 */
static void check_batch_free(const unsigned *pattern, size_t plen, const size_t *seq, size_t n,
			     unsigned flush_every, int isolate)
{
	static struct blk blks[NPAGES], blks2[NPAGES];
	size_t nblk, nblk2;
	struct fixture *a = zone_taken(pattern, plen, blks, &nblk);
	struct fixture *b = zone_taken(pattern, plen, blks2, &nblk2);
	struct buddy_batch batch = { 0 };
	uint64_t isolated = 0;

	assert_int_equal(nblk, nblk2);
	if (isolate >= 0) {
		/* Nothing in it is free: isolating is setting the flag. */
		a->z.blockflags[isolate] = b->z.blockflags[isolate] = BLK_ISOLATED;
		a->z.nr_isolated_blocks++;
		b->z.nr_isolated_blocks++;
	}
	buddy_lock(&a->z);
	for (size_t i = 0; i < n; i++) {
		assert_true(seq[i] < nblk);
		if (isolate >= 0 && blks[seq[i]].pfn / MAX_ORDER_PAGES == (uint32_t)isolate)
			isolated += 1u << blks[seq[i]].order;
		buddy_batch_add_locked(&a->z, &batch, blks[seq[i]].pfn, blks[seq[i]].order);
		if (flush_every && (i + 1) % flush_every == 0)
			buddy_batch_flush_locked(&a->z, &batch);
	}
	buddy_batch_flush_locked(&a->z, &batch);
	assert_int_equal(batch.n, 0);
	buddy_unlock(&a->z);
	buddy_lock(&b->z);
	for (size_t i = 0; i < n; i++)
		buddy_free_locked(&b->z, blks[seq[i]].pfn, blks[seq[i]].order);
	buddy_unlock(&b->z);
	check_zone(&b->z);
	check_zone(&a->z);
	assert_int_equal(a->z.nr_isolated, isolated);
	assert_zones_equal(&a->z, &b->z);
	zone_del(a);
	zone_del(b);
}

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Block orders to take the zone in: order 0 only, order 1 only, and a mix
 * with order-1 and order-2 blocks among order-0 ones. */
static const unsigned pat_0[] = { 0 };
static const unsigned pat_1[] = { 1 };
static const unsigned pat_mix[] = { 0, 0, 1, 0, 0, 0, 2, 1, 0, 1, 0, 0, 0, 0, 1 };

/* The sequences in which a batch frees blocks: ascending, descending,
 * evens then odds, a fixed shuffle, runs with every 5th block held back
 * (then the rest descending), a descending stretch between ascending ones,
 * half of a shuffle; each with one flush at the end and with a flush every
 * 37 blocks; each with nothing isolated and with block 1 isolated. */
static void test_batch_free_same_as_one_by_one(void **state)
{
	static const struct { const unsigned *p; size_t n; } pats[] = {
		{ pat_0, ARRAY_SIZE(pat_0) }, { pat_1, ARRAY_SIZE(pat_1) },
		{ pat_mix, ARRAY_SIZE(pat_mix) },
	};
	static struct blk blks[NPAGES];
	static size_t seq[NPAGES];

	for (size_t p = 0; p < ARRAY_SIZE(pats); p++) {
		size_t nblk, n;
		struct fixture *f = zone_taken(pats[p].p, pats[p].n, blks, &nblk);

		zone_del(f);
		for (unsigned kind = 0; kind < 7; kind++) {
			uint32_t x = 0x9e3779b9u;

			n = 0;
			switch (kind) {
			case 0:
				for (size_t i = 0; i < nblk; i++)
					seq[n++] = i;
				break;
			case 1:
				for (size_t i = nblk; i-- > 0;)
					seq[n++] = i;
				break;
			case 2:
				for (size_t i = 0; i < nblk; i += 2)
					seq[n++] = i;
				for (size_t i = 1; i < nblk; i += 2)
					seq[n++] = i;
				break;
			case 3:
			case 6:
				for (size_t i = 0; i < nblk; i++)
					seq[n++] = i;
				for (size_t i = nblk - 1; i > 0; i--) {
					size_t j = xorshift(&x) % (i + 1), t = seq[i];

					seq[i] = seq[j];
					seq[j] = t;
				}
				if (kind == 6)
					n = nblk / 2;
				break;
			case 4:
				for (size_t i = 0; i < nblk; i++)
					if (i % 5 != 3)
						seq[n++] = i;
				break;
			case 5:
				for (size_t i = 0; i < nblk / 4; i++)
					seq[n++] = i;
				for (size_t i = nblk / 2; i-- > nblk / 4;)
					seq[n++] = i;
				for (size_t i = nblk / 2; i < nblk; i++)
					seq[n++] = i;
				break;
			}
			for (int iso = -1; iso <= 1; iso += 2) {
				check_batch_free(pats[p].p, pats[p].n, seq, n, 0, iso);
				check_batch_free(pats[p].p, pats[p].n, seq, n, 37, iso);
			}
			if (kind == 4) {
				/* Then the held-back blocks, descending. */
				for (size_t i = nblk; i-- > 0;)
					if (i % 5 == 3)
						seq[n++] = i;
				check_batch_free(pats[p].p, pats[p].n, seq, n, 0, -1);
				check_batch_free(pats[p].p, pats[p].n, seq, n, 0, 1);
			}
		}
	}
}

/* One run of consecutive blocks of one order, ascending or descending,
 * from every start and of every length near an alignment edge, the rest of
 * the zone held: freed as the aligned chunks it makes up, no more. */
static void test_batch_free_runs(void **state)
{
	static const uint32_t starts[] = {
		0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 100, 511, 512, 513, 1000, 1023, 1024, 1025,
		2047, 2048, 3071,
	};
	static const uint32_t lens[] = {
		1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 511, 512, 513, 1023, 1024, 1025,
		2048, 3000, 4096,
	};
	static const unsigned pats[] = { 0, 1, 3 };
	static size_t seq[NPAGES];

	for (size_t p = 0; p < ARRAY_SIZE(pats); p++) {
		uint32_t nblk = NPAGES >> pats[p];

		for (size_t s = 0; s < ARRAY_SIZE(starts); s++)
			for (size_t l = 0; l < ARRAY_SIZE(lens); l++) {
				uint32_t start = starts[s], len = lens[l];

				if (start + len > nblk)
					continue;
				for (uint32_t i = 0; i < len; i++)
					seq[i] = start + i;
				check_batch_free(&pats[p], 1, seq, len, 0, -1);
				for (uint32_t i = 0; i < len; i++)
					seq[i] = start + len - 1 - i;
				check_batch_free(&pats[p], 1, seq, len, 0, -1);
			}
	}
}

/* buddy_free_bulk, which frees through a batch: the same as block by block
 * for one order, in each direction and shuffled. */
static void test_free_bulk_same_as_one_by_one(void **state)
{
	static uint32_t pfns[NPAGES];

	for (unsigned order = 0; order <= 2; order++)
		for (unsigned kind = 0; kind < 3; kind++) {
			struct fixture *a = zone_new(), *b = zone_new();
			unsigned n = NPAGES >> order, keep = 0;
			uint32_t x = 12345;

			assert_int_equal(buddy_alloc_bulk(&a->z, order, n, PG_PCP, pfns), n);
			assert_int_equal(buddy_alloc_bulk(&b->z, order, n, PG_PCP, pfns), n);
			if (kind == 1)
				for (unsigned i = 0; i < n / 2; i++) {
					uint32_t t = pfns[i];

					pfns[i] = pfns[n - 1 - i];
					pfns[n - 1 - i] = t;
				}
			if (kind == 2)
				for (unsigned i = n - 1; i > 0; i--) {
					uint32_t j = xorshift(&x) % (i + 1), t = pfns[i];

					pfns[i] = pfns[j];
					pfns[j] = t;
				}
			/* All but the last tenth: a partly free zone. */
			keep = n / 10;
			buddy_free_bulk(&a->z, pfns, n - keep, order);
			for (unsigned i = 0; i < n - keep; i++)
				buddy_free(&b->z, pfns[i], order);
			check_zone(&a->z);
			assert_zones_equal(&a->z, &b->z);
			zone_del(a);
			zone_del(b);
		}
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
		cmocka_unit_test(test_bulk_alloc_whole_blocks),
		cmocka_unit_test_setup_teardown(test_bulk_alloc_bad_order, setup, teardown),
		cmocka_unit_test(test_bulk_alloc_fragmented_same_as_one_by_one),
		cmocka_unit_test(test_batch_free_same_as_one_by_one),
		cmocka_unit_test(test_batch_free_runs),
		cmocka_unit_test(test_free_bulk_same_as_one_by_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
