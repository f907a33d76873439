/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_core.c - libFuzzer target for the core allocator (pool, pcp, buddy,
 * drain, isolate, verify), driven without the daemon around it.
 *
 * The input is a pool shape (two bytes: size 4-16 MiB, one or two pcps,
 * drain mode, prefault, pcp tunables) and a sequence of operations:
 * pool_alloc / pool_free / pool_release_all for four owners (three on pcps,
 * one straight on the buddy; frees with bad pfns, tails, another owner's
 * blocks, duplicates, wrong orders, double frees), drains in each mode,
 * pool_set_drain_mode, pool_set_pcp, pool_offline / pool_online of ranges,
 * pool_trim.  The harness keeps a model of what each owner holds and which
 * blocks are isolated or offline, predicts every return code it can (a free
 * of a held block succeeds, a double free is EALREADY and changes nothing,
 * a single-block alloc fails only when nothing suitable is free or cached,
 * offline is EBUSY with exactly the holders the model knows), and after every
 * operation checks pool_verify() with the complete set of live owners, that
 * free buddies are always merged, and the page counts and pcp counters
 * against the model.  Each block handed out gets markers written into its
 * first, middle and last page; they must still be there when the block is
 * freed (nothing punched or zeroed memory someone holds), and POOL_ZERO
 * blocks must read zero there.  At the end everything is released, onlined
 * and drained: every page must be free and merged into whole blocks.  Any
 * disagreement aborts.
 *
 * Single thread.  The thread is a registered QSBR reader, online only
 * inside pcp operations (as a worker is inside a callback) and offline for
 * the admin-side calls, which wait for grace periods.  Workqueue drains reach
 * the "worker" through a kick that runs pcp_service() at once.
 *
 * A fresh pool per input keeps every run reproducible from its input alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "log.h"
#include "pool.h"
#include "rcu.h"

#define NOWNERS		4	/* owner 3 allocates without a pcp (admin style) */
#define MAX_COUNT	1024
#define MAX_OPS		256
#define MAX_FREE	16
#define MARK_MAGIC	0x70706d6bu	/* "ppmk" */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mark {
	uint32_t magic;
	uint32_t owner;
	uint32_t head;
	uint32_t page;
};

struct input {
	const uint8_t *p;
	size_t n;
};

/* The model of one pool. */
static struct {
	struct pool *pool;
	unsigned nworkers;
	uint32_t npages, nblocks;
	struct owner owners[NOWNERS];
	struct pcp *opcp[NOWNERS];
	uint8_t *held;			/* head pfn -> owner index + 1 */
	uint8_t *horder;		/* head pfn -> order */
	uint8_t *cover;			/* every page of a held block -> owner + 1 */
	uint8_t *blk;			/* max block -> 0, BLK_ISOLATED, BLK_OFFLINE */
	uint64_t pages[NOWNERS];
	int drain_mode;
	int high, batch;
	uint32_t *pfns;			/* scratch for pool_alloc */
	unsigned op;			/* operation index, for messages */
} m;

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_core: op %u: ", m.op);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static uint8_t in_byte(struct input *in)
{
	uint8_t b;

	if (in->n == 0)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

static uint16_t in_u16(struct input *in)
{
	uint16_t lo = in_byte(in);

	return (uint16_t)(lo | (uint16_t)in_byte(in) << 8);
}

/* The worker side of a workqueue drain: service the request at once. */
static void core_kick(void *arg)
{
	pp_rcu_online();
	pcp_service(arg);
	pp_rcu_offline();
}

static struct mark *mark_at(uint32_t pfn)
{
	return arena_ptr(&m.pool->arena, pfn);
}

/*
 * Pages of a block that carry a marker: the first, the last and one in the
 * middle.  Punching (trim, offline) works on whole max-order blocks, so it
 * cannot miss a marked page; marking every page would fault in the whole
 * arena on every input.
 */
static bool marked(uint32_t i, uint32_t size)
{
	return i == 0 || i == size - 1 || i == size / 2;
}

static void model_claim(unsigned o, uint32_t pfn, unsigned order, bool zero)
{
	uint32_t size = 1u << order;

	if (pfn >= m.npages || (pfn & (size - 1)) || (uint64_t)pfn + size > m.npages)
		die("alloc returned pfn %u order %u: out of range or misaligned", pfn, order);
	if (m.blk[pfn / MAX_ORDER_PAGES])
		die("alloc returned pfn %u inside an isolated or offline block", pfn);
	for (uint32_t i = 0; i < size; i++)
		if (m.cover[pfn + i])
			die("alloc returned pfn %u order %u overlapping a block owner %u holds",
			    pfn, order, m.cover[pfn + i] - 1);
	for (uint32_t i = 0; i < size; i++) {
		static const uint8_t zeros[sizeof(struct mark)];
		struct mark *mk = mark_at(pfn + i);

		m.cover[pfn + i] = (uint8_t)(o + 1);
		if (!marked(i, size))
			continue;
		if (zero && memcmp(mk, zeros, sizeof(zeros)) != 0)
			die("POOL_ZERO block %u order %u: page %u not zeroed", pfn, order, pfn + i);
		mk->magic = MARK_MAGIC;
		mk->owner = o;
		mk->head = pfn;
		mk->page = pfn + i;
	}
	m.held[pfn] = (uint8_t)(o + 1);
	m.horder[pfn] = (uint8_t)order;
	m.pages[o] += size;
}

static void model_release(unsigned o, uint32_t pfn)
{
	uint32_t size = 1u << m.horder[pfn];

	if (m.held[pfn] != o + 1)
		die("model: releasing pfn %u not held by owner %u", pfn, o);
	for (uint32_t i = 0; i < size; i++) {
		struct mark *mk = mark_at(pfn + i);

		m.cover[pfn + i] = 0;
		if (!marked(i, size))
			continue;
		if (mk->magic != MARK_MAGIC || mk->owner != o || mk->head != pfn ||
		    mk->page != pfn + i)
			die("owner %u's block %u order %u: page %u was overwritten while held "
			    "(magic %#x owner %u head %u)", o, pfn, m.horder[pfn], pfn + i,
			    mk->magic, mk->owner, mk->head);
	}
	m.held[pfn] = 0;
	m.pages[o] -= size;
}

static uint64_t pcp_pages(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < m.pool->npcp; i++)
		n += (uint64_t)m.pool->pcps[i]->lp->count + (uint64_t)m.pool->pcps[i]->drain->count;
	return n;
}

/* Pages of the model's held blocks inside max block b. */
static uint64_t held_in_block(uint32_t b, uint64_t per_owner[NOWNERS])
{
	uint64_t n = 0;

	for (uint32_t pfn = b * MAX_ORDER_PAGES; pfn < (b + 1) * MAX_ORDER_PAGES; pfn++) {
		if (m.cover[pfn]) {
			n++;
			if (per_owner)
				per_owner[m.cover[pfn] - 1]++;
		}
	}
	return n;
}

static void check_all(void)
{
	struct owner *owners[NOWNERS];
	struct pool_counts c;
	uint64_t held = 0, iso = 0, off = 0;
	char err[256];

	for (unsigned o = 0; o < NOWNERS; o++) {
		owners[o] = &m.owners[o];
		if (m.owners[o].pages != m.pages[o])
			die("owner %u counts %lu pages, the model %lu", o,
			    (unsigned long)m.owners[o].pages, (unsigned long)m.pages[o]);
		held += m.pages[o];
	}
	if (pool_verify(m.pool, owners, NOWNERS, err, sizeof(err)) != 0)
		die("pool_verify: %s", err);
	if (!fuzz_buddies_merged(m.pool, err, sizeof(err)))
		die("%s", err);
	for (uint32_t b = 0; b < m.nblocks; b++) {
		if (m.blk[b] == BLK_OFFLINE)
			off += MAX_ORDER_PAGES;
		else if (m.blk[b] == BLK_ISOLATED)
			iso += MAX_ORDER_PAGES - held_in_block(b, NULL);
		if (m.blk[b] != m.pool->zone.blockflags[b])
			die("block %u: flags %#x, the model %#x", b, m.pool->zone.blockflags[b],
			    m.blk[b]);
	}
	/* Every page a pcp handed out and did not take back is held by its owners. */
	for (unsigned i = 0; i < m.pool->npcp; i++) {
		const struct pcp_stats *ps = &m.pool->pcps[i]->stats;
		uint64_t via = 0;

		for (unsigned o = 0; o < NOWNERS; o++)
			if (m.opcp[o] == m.pool->pcps[i])
				via += m.pages[o];
		if (ps->alloc_pages - ps->free_pages != via)
			die("pcp %u: %lu pages allocated - %lu freed, its owners hold %lu", i,
			    (unsigned long)ps->alloc_pages, (unsigned long)ps->free_pages,
			    (unsigned long)via);
	}
	pool_counts(m.pool, &c);
	if (c.total != m.npages || c.allocated != held || c.offline != off || c.isolated != iso)
		die("counts total %lu allocated %lu isolated %lu offline %lu; the model %u %lu "
		    "%lu %lu", (unsigned long)c.total, (unsigned long)c.allocated,
		    (unsigned long)c.isolated, (unsigned long)c.offline, m.npages,
		    (unsigned long)held, (unsigned long)iso, (unsigned long)off);
}

/* Can one block of `order` be had for owner o, and how? 0, -EAGAIN, -ENOMEM. */
static int predict_one(unsigned o, unsigned order, unsigned flags)
{
	struct pcp *pcp = m.opcp[o];
	struct zone *z = &m.pool->zone;
	bool cached = false, buddy = z->init_pfn < z->npages;

	if (pcp && order <= PCP_MAX_ORDER && pcp->high != 0)
		cached = pcp->lp->lists[order].n > 0;
	for (unsigned k = order; k <= PP_MAX_ORDER; k++)
		buddy |= z->free_area[k].nr_free > 0;
	if (flags & POOL_NOWAIT)
		return cached ? 0 : -EAGAIN;
	return cached || buddy ? 0 : -ENOMEM;
}

static void op_alloc(struct input *in)
{
	unsigned o = in_byte(in) % NOWNERS, order = in_byte(in) % 12, c = in_byte(in);
	unsigned flags = in_byte(in) & 7, count = c & 0x80 ? (c & 0x7f) * 8 : c % 40, got = 99;
	int expect = order > PP_MAX_ORDER ? -EINVAL : predict_one(o, order, flags);
	uint64_t before = m.pages[o];
	int ret;

	if (count == 0)
		expect = -EINVAL;
	if (count > MAX_COUNT)
		count = MAX_COUNT;
	if (m.opcp[o])
		pp_rcu_online();
	ret = pool_alloc(m.pool, m.opcp[o], &m.owners[o], order, count, flags, m.pfns, &got);
	if (m.opcp[o])
		pp_rcu_offline();
	if (ret < 0) {
		/* All or nothing: a later block may fail where the first would not. */
		bool later = expect == 0 && count > 1 && !(flags & POOL_PARTIAL) &&
			     (ret == -ENOMEM || (ret == -EAGAIN && (flags & POOL_NOWAIT)));

		if (ret != expect && !later)
			die("alloc owner %u order %u count %u flags %#x: %d, expected %d", o, order,
			    count, flags, ret, expect);
		if (got != 0 || m.owners[o].pages != before)
			die("failed alloc left %u blocks / %lu pages with the owner (had %lu)", got,
			    (unsigned long)m.owners[o].pages, (unsigned long)before);
		return;
	}
	if (expect != 0)
		die("alloc owner %u order %u count %u flags %#x: succeeded, expected %d", o, order,
		    count, flags, expect);
	if (got == 0 || got > count || (got < count && !(flags & POOL_PARTIAL)))
		die("alloc owner %u order %u count %u flags %#x: got %u", o, order, count, flags,
		    got);
	for (unsigned i = 0; i < got; i++)
		model_claim(o, m.pfns[i], order, flags & POOL_ZERO);
}

/* Some held head of owner o (the k-th found from a pseudo-random start), or PFN_NIL. */
static uint32_t pick_held(unsigned o, unsigned k)
{
	uint32_t start = (uint32_t)k * 2654435761u % m.npages;

	for (uint32_t i = 0; i < m.npages; i++) {
		uint32_t pfn = (start + i) % m.npages;

		if (m.held[pfn] == o + 1)
			return pfn;
	}
	return PFN_NIL;
}

/* The code pool_free must give for pfn at this point of the list. */
static int expect_free_one(unsigned o, uint32_t pfn, int order, const uint32_t *list,
			   unsigned idx)
{
	if (pfn >= m.npages)
		return -EINVAL;
	if (m.held[pfn]) {
		if (m.held[pfn] != o + 1)
			return -EPERM;
		if (order >= 0 && m.horder[pfn] != order)
			return -EINVAL;
		for (unsigned i = 0; i < idx; i++)
			if (list[i] == pfn)
				return -EINVAL;
		return 0;
	}
	if (m.cover[pfn])
		return -EINVAL;		/* a tail of someone's block */
	if (m.blk[pfn / MAX_ORDER_PAGES] == BLK_OFFLINE)
		return -EINVAL;
	return -EALREADY;
}

static void op_free(struct input *in)
{
	unsigned o = in_byte(in) % NOWNERS, n = 1 + in_byte(in) % 8, kind = in_byte(in) % 10;
	unsigned pos = in_byte(in), bad = 999, nl = 0;
	uint32_t list[MAX_FREE], arg = in_u16(in);
	int order = -1, expect = 0, ret;
	unsigned expect_bad = 0;
	uint64_t before[NOWNERS];

	for (unsigned i = 0; i < n; i++) {
		uint32_t pfn = pick_held(o, in_byte(in));

		if (pfn == PFN_NIL)
			break;
		list[nl++] = pfn;
	}
	pos = nl ? pos % (nl + 1) : 0;
	if (kind != 0 && nl < MAX_FREE) {
		uint32_t extra;

		switch (kind) {
		case 1: extra = nl ? list[arg % nl] : arg % m.npages; break;	/* listed twice */
		case 2: extra = m.npages + arg; break;				/* out of range */
		case 3: extra = nl ? list[arg % nl] + 1 + arg % 7 : arg % m.npages; break;
		case 4: extra = pick_held((o + 1 + arg % (NOWNERS - 1)) % NOWNERS, arg); break;
		case 5: extra = (uint32_t)(arg * 7u) % m.npages; break;	/* anything */
		case 6: extra = (arg % m.nblocks) * MAX_ORDER_PAGES + (arg >> 8); break;
		case 7: order = (int)(arg % 12); extra = PFN_NIL; break;	/* an order */
		case 8: order = nl ? m.horder[list[0]] : 0; extra = PFN_NIL; break;
		default: extra = PFN_NIL - (arg & 1); break;
		}
		if (kind < 7 || kind == 9) {
			if (extra == PFN_NIL && kind == 4)
				extra = arg % m.npages;
			memmove(&list[pos + 1], &list[pos], (nl - pos) * sizeof(list[0]));
			list[pos] = extra;
			nl++;
		}
	}
	if (nl == 0) {
		list[0] = arg % m.npages;
		nl = 1;
	}
	for (unsigned i = 0; i < nl && expect == 0; i++) {
		expect = expect_free_one(o, list[i], order, list, i);
		expect_bad = i;
	}
	memcpy(before, m.pages, sizeof(before));
	if (m.opcp[o])
		pp_rcu_online();
	ret = pool_free(m.pool, m.opcp[o], &m.owners[o], list, nl, order, &bad);
	if (m.opcp[o])
		pp_rcu_offline();
	if (ret != expect || (ret < 0 && bad != expect_bad))
		die("free owner %u of %u pfns (first %u, order %d): %d at index %u, expected %d at %u",
		    o, nl, list[0], order, ret, bad, expect, expect_bad);
	if (ret < 0) {
		for (unsigned k = 0; k < NOWNERS; k++)
			if (m.owners[k].pages != before[k])
				die("failed free changed owner %u's pages", k);
		return;
	}
	for (unsigned i = 0; i < nl; i++)
		model_release(o, list[i]);
}

static void op_release(struct input *in)
{
	unsigned o = in_byte(in) % NOWNERS;
	uint64_t want = m.pages[o], got;

	for (uint32_t pfn = 0; pfn < m.npages; pfn++)
		if (m.held[pfn] == o + 1)
			model_release(o, pfn);
	if (m.opcp[o])
		pp_rcu_online();
	got = pool_release_all(m.pool, m.opcp[o], &m.owners[o]);
	if (m.opcp[o])
		pp_rcu_offline();
	if (got != want || m.owners[o].pages != 0 || m.owners[o].head != PFN_NIL)
		die("release_all owner %u: %lu pages, the model %lu", o, (unsigned long)got,
		    (unsigned long)want);
}

static void op_drain(struct input *in)
{
	int mode = (int)(in_byte(in) % 4) - 1;	/* -1: the pool's default */
	unsigned flags = in_byte(in) & 1 ? DRAIN_FORCE : 0;
	int eff = mode < 0 ? m.drain_mode : mode;
	uint64_t cached = pcp_pages(), drained = 12345;
	int ret = pool_drain(m.pool, mode, flags, &drained);
	int expect = eff == DRAIN_SPINLOCK && m.drain_mode != DRAIN_SPINLOCK ? -EINVAL : 0;

	if (ret != expect)
		die("drain mode %d (pool %d) flags %u: %d, expected %d", mode, m.drain_mode, flags,
		    ret, expect);
	if (ret == 0 && (drained != cached || pcp_pages() != 0))
		die("drain mode %d: %lu pages drained of %lu cached, %lu left", eff,
		    (unsigned long)drained, (unsigned long)cached, (unsigned long)pcp_pages());
}

static void op_set_mode(struct input *in)
{
	unsigned mode = in_byte(in) % 4;
	int ret = pool_set_drain_mode(m.pool, (enum drain_mode)mode);

	if (ret != (mode < DRAIN_NR_MODES ? 0 : -EINVAL))
		die("set_drain_mode %u: %d", mode, ret);
	if (ret == 0)
		m.drain_mode = (int)mode;
}

static void op_set_pcp(struct input *in)
{
	int high = in_u16(in) % 4200, batch = in_byte(in) % 70, ret;
	bool ok = high <= PCP_HIGH_MAX && batch >= 1 && batch <= PCP_BATCH_MAX;

	if (in_byte(in) & 1) {		/* mostly sane values */
		high %= 64;
		batch = 1 + batch % (high ? high : 1);
		ok = true;
	}
	ret = pool_set_pcp(m.pool, high, batch);
	if (ret != (ok ? 0 : -EINVAL))
		die("set_pcp %d/%d: %d", high, batch, ret);
	if (ret == 0) {
		m.high = high;
		m.batch = batch;
	}
	for (unsigned i = 0; i < m.pool->npcp; i++) {
		int want = 0;

		for (uint32_t b = 0; b < m.nblocks; b++)
			if (m.blk[b] == BLK_ISOLATED)
				want = -1;
		if (m.pool->pcps[i]->high != (want ? 0 : m.high) || m.pool->pcps[i]->batch != m.batch)
			die("pcp %u: high %d batch %d, expected %d/%d", i, m.pool->pcps[i]->high,
			    m.pool->pcps[i]->batch, want ? 0 : m.high, m.batch);
	}
}

/* A range from the input: mostly whole blocks inside the pool. */
static void pick_range(struct input *in, uint32_t *start, uint32_t *count)
{
	uint8_t a = in_byte(in), b = in_byte(in), c = in_byte(in);

	*start = (a % (m.nblocks + 1)) * MAX_ORDER_PAGES;
	*count = (b % (m.nblocks + 1)) * MAX_ORDER_PAGES;
	if (c & 1)
		*start += c >> 1;
	if (c & 0x80)
		*count = c * 1000u;
}

static bool range_ok(uint32_t start, uint32_t count)
{
	return count && start % MAX_ORDER_PAGES == 0 && count % MAX_ORDER_PAGES == 0 &&
	       (uint64_t)start + count <= m.npages;
}

static void op_offline(struct input *in)
{
	struct pool_holder h[NOWNERS + 2];
	uint64_t per[NOWNERS] = { 0 }, busy = 77, want_busy = 0;
	uint32_t start, count, b0, nb;
	unsigned nh = 99, all_off = 0, all_iso = 0, none = 0;
	int ret, expect;

	pick_range(in, &start, &count);
	b0 = start / MAX_ORDER_PAGES;
	nb = count / MAX_ORDER_PAGES;
	if (range_ok(start, count)) {
		for (uint32_t b = b0; b < b0 + nb; b++) {
			all_off += m.blk[b] == BLK_OFFLINE;
			all_iso += m.blk[b] == BLK_ISOLATED;
			none += m.blk[b] == 0;
		}
		if (all_off == nb) {
			expect = 0;
		} else if (all_iso == nb || none == nb) {
			for (uint32_t b = b0; b < b0 + nb; b++)
				want_busy += held_in_block(b, per);
			expect = want_busy ? -EBUSY : 0;
		} else {
			expect = -EINVAL;
		}
	} else {
		expect = -EINVAL;
	}
	ret = pool_offline(m.pool, start, count, h, NOWNERS + 2, &nh, &busy);
	if (ret != expect)
		die("offline %u+%u: %d, expected %d", start, count, ret, expect);
	if (ret == -EINVAL)
		return;
	if (ret == -EBUSY) {
		unsigned want_nh = 0;

		for (unsigned o = 0; o < NOWNERS; o++)
			want_nh += per[o] != 0;
		if (busy != want_busy || nh != want_nh)
			die("offline %u+%u: busy %lu with %u holders, the model %lu with %u", start,
			    count, (unsigned long)busy, nh, (unsigned long)want_busy, want_nh);
		for (unsigned i = 0; i < nh; i++)
			if (h[i].owner < 1 || h[i].owner > NOWNERS || per[h[i].owner - 1] != h[i].pages)
				die("offline %u+%u: holder %u with %lu pages disagrees with the model",
				    start, count, h[i].owner, (unsigned long)h[i].pages);
		for (uint32_t b = b0; b < b0 + nb; b++)
			m.blk[b] = BLK_ISOLATED;
		return;
	}
	if (busy != 0 || nh != 0)
		die("offline %u+%u succeeded with busy %lu, %u holders", start, count,
		    (unsigned long)busy, nh);
	for (uint32_t b = b0; b < b0 + nb; b++)
		m.blk[b] = BLK_OFFLINE;
}

static void op_online(struct input *in)
{
	uint32_t start, count;
	int expect = 0, ret;

	pick_range(in, &start, &count);
	if (!range_ok(start, count))
		expect = -EINVAL;
	else
		for (uint32_t b = start / MAX_ORDER_PAGES; b < (start + count) / MAX_ORDER_PAGES; b++)
			if (m.blk[b] == 0)
				expect = -EINVAL;
	ret = pool_online(m.pool, start, count);
	if (ret != expect)
		die("online %u+%u: %d, expected %d", start, count, ret, expect);
	if (ret == 0)
		memset(&m.blk[start / MAX_ORDER_PAGES], 0, count / MAX_ORDER_PAGES);
}

static void op_trim(void)
{
	uint64_t pages = 0;
	int ret = pool_trim(m.pool, &pages);

	if (ret != 0)
		die("trim: %d", ret);
	ret = pool_trim(m.pool, &pages);
	if (ret != 0 || pages != 0)
		die("second trim in a row: %d, %lu pages (expected nothing left to punch)", ret,
		    (unsigned long)pages);
}

static const int tunables[8][2] = {
	{ -1, -1 }, { 0, 1 }, { 1, 1 }, { 8, 4 }, { 63, 63 }, { 4096, 63 }, { 6, 3 }, { 2, 1 },
};

static void pool_setup(uint8_t shape, uint8_t tun)
{
	unsigned blocks = 1 + (shape & 3);
	bool prefault = (shape & 0x60) == 0x60;	/* a quarter: fallocate costs */
	struct pool_config cfg = {
		.name = "fuzz", .nworkers = 1 + ((shape >> 2) & 1),
		.drain_mode = (enum drain_mode)(((shape >> 3) & 3) % DRAIN_NR_MODES),
		.high = tunables[tun & 7][0], .batch = tunables[tun & 7][1],
	};
	int ret;

	if (prefault)
		blocks = 1;		/* fallocate costs: keep prefaulted pools small */
	cfg.prefault = prefault;
	cfg.size = (uint64_t)blocks * MAX_ORDER_PAGES * (uint64_t)sysconf(_SC_PAGESIZE);
	memset(&m, 0, sizeof(m));
	ret = pool_create(&cfg, &m.pool);
	if (ret < 0)
		die("pool_create: %d", ret);
	m.nworkers = cfg.nworkers;
	m.npages = m.pool->npages;
	m.nblocks = m.npages / MAX_ORDER_PAGES;
	m.drain_mode = cfg.drain_mode;
	m.high = m.pool->high;
	m.batch = m.pool->batch;
	m.held = calloc(m.npages, 1);
	m.horder = calloc(m.npages, 1);
	m.cover = calloc(m.npages, 1);
	m.blk = calloc(m.nblocks, 1);
	m.pfns = calloc(MAX_COUNT, sizeof(uint32_t));
	if (!m.held || !m.horder || !m.cover || !m.blk || !m.pfns)
		die("out of memory");
	for (unsigned i = 0; i < m.pool->npcp; i++)
		pcp_set_kick(m.pool->pcps[i], core_kick, m.pool->pcps[i]);
	for (unsigned o = 0; o < NOWNERS; o++) {
		owner_init(&m.owners[o], o + 1);
		m.opcp[o] = o == NOWNERS - 1 ? NULL : m.pool->pcps[o % m.nworkers];
	}
}

/* Everything back: every page must be free again and merged into whole blocks. */
static void pool_teardown(void)
{
	struct pool_counts c;
	uint64_t counts[PP_NR_ORDERS];
	char err[256];

	m.op = MAX_OPS + 1;
	for (unsigned o = 0; o < NOWNERS; o++) {
		uint8_t b = (uint8_t)o;
		struct input in = { &b, 1 };

		op_release(&in);
	}
	for (uint32_t b = 0; b < m.nblocks; b++)
		if (m.blk[b] && pool_online(m.pool, b * MAX_ORDER_PAGES, MAX_ORDER_PAGES) != 0)
			die("teardown: online of block %u failed", b);
	memset(m.blk, 0, m.nblocks);
	if (pool_drain(m.pool, DRAIN_RCU, DRAIN_FORCE, NULL) != 0)
		die("teardown: drain failed");
	check_all();
	pool_counts(m.pool, &c);
	if (c.free != c.total || c.pcp != 0)
		die("teardown: %lu of %lu pages free, %lu cached", (unsigned long)c.free,
		    (unsigned long)c.total, (unsigned long)c.pcp);
	buddy_info(&m.pool->zone, counts);
	for (unsigned o = 0; o < PP_MAX_ORDER; o++)
		if (counts[o])
			die("teardown: every page is free but %lu order-%u blocks did not merge",
			    (unsigned long)counts[o], o);
	if (pool_verify(m.pool, NULL, 0, err, sizeof(err)) != 0)
		die("teardown: pool_verify: %s", err);
	pool_destroy(m.pool);
	free(m.held);
	free(m.horder);
	free(m.cover);
	free(m.blk);
	free(m.pfns);
	m.pool = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LVL_ERR, false);
	pp_rcu_register();
	pp_rcu_offline();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t shape = in_byte(&in), tun = in_byte(&in);

	pool_setup(shape, tun);
	check_all();
	for (m.op = 0; in.n > 0 && m.op < MAX_OPS; m.op++) {
		switch (in_byte(&in) % 12) {
		case 0: case 1: case 2: op_alloc(&in); break;
		case 3: case 4: op_free(&in); break;
		case 5: op_release(&in); break;
		case 6: op_drain(&in); break;
		case 7: op_set_mode(&in); break;
		case 8: op_set_pcp(&in); break;
		case 9: op_offline(&in); break;
		case 10: op_online(&in); break;
		case 11: op_trim(); break;
		}
		check_all();
	}
	pool_teardown();
	return 0;
}
