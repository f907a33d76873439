/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ccache.c - the client cache of libpagepool: per-connection pcplists of
 * blocks of orders 0..PP_CC_ORDERS-1 in a region shared with pagepoold
 * (proto/ccache.h; doc/DESIGN.md, "Pcplists in the client"), so that a
 * pp_alloc or a pp_free that hits them costs neither a system call nor a
 * message.  A list that runs empty is refilled by one Alloc of a batch; a
 * list pushed above its high mark spills a batch in one Free.
 *
 * The daemon may take the lists away at any moment (a remote drain) and
 * never asks: every operation on the region is bracketed by cache_enter()
 * (seq odd, a full fence, `active` read afresh) and cache_leave() (seq
 * even, a release store), and touches list[active] only, so the daemon
 * knows when the set it switched away from is no longer in use.  The
 * region is writable by the daemon: a count or a pfn read from it is
 * checked against the library's own tags before a block is handed out.
 *
 * The tags, one byte per arena page (libpp.h), are what the library knows
 * of the block starting at that page.  A pp_free goes to the cache only
 * when every pfn is a block the library saw c get (so its order is
 * known); anything else goes to the daemon, whose answer is authoritative.
 * A block in the cache is tagged CACHED, and freeing, offering or
 * releasing it again is refused here: it must never reach the daemon,
 * which would free a page the cache still lists.  A CACHED tag may outlive
 * a drain (the daemon took the page back); every way a block comes back to
 * c rewrites its tag, so a stale one only changes which error a wrong pfn
 * gets.  Every function here runs in the thread that owns c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpp.h"

_Static_assert(PP_CC_ORDERS - 1 <= LIBPP_TAG_ORDER, "a cached order fits a tag");
_Static_assert(PP_CC_HIGH_MAX <= PP_CC_CAP, "high fits a list");

/* Enter a cache operation: the set to use, read after the full fence that
 * publishes the odd seq (the daemon's drain fences the other way). */
static inline unsigned cache_enter(struct libpp_cache *cc)
{
	cc->seq++;
	(void)__atomic_exchange_n(&cc->r->seq, cc->seq, __ATOMIC_SEQ_CST);
	/* SEQ_CST, not ACQUIRE: C11 orders a seq_cst store before a later load
	 * only when both are seq_cst (an acquire load could pass the exchange
	 * on AArch64's LDAPR).  On x86 it is the same plain load. */
	return __atomic_load_n(&cc->r->active, __ATOMIC_SEQ_CST) & 1;
}

/* Leave it: everything written to the set is visible before the even seq. */
static inline void cache_leave(struct libpp_cache *cc)
{
	cc->seq++;
	__atomic_store_n(&cc->r->seq, cc->seq, __ATOMIC_RELEASE);
}

static inline uint32_t list_count(const struct pp_cc_list *l)
{
	return __atomic_load_n(&l->count, __ATOMIC_RELAXED);
}

static inline void list_set_count(struct pp_cc_list *l, uint32_t n)
{
	__atomic_store_n(&l->count, n, __ATOMIC_RELAXED);
}

/* The counters the daemon shows: written by this thread only. */
static inline void cache_publish(struct libpp_cache *cc)
{
	__atomic_store_n(&cc->r->hits, cc->hits, __ATOMIC_RELAXED);
	__atomic_store_n(&cc->r->misses, cc->misses, __ATOMIC_RELAXED);
	__atomic_store_n(&cc->r->spills, cc->spills, __ATOMIC_RELAXED);
}

uint32_t libpp_cache_features(void)
{
	const char *s = secure_getenv("PAGEPOOL_CACHE");

	return s && strcmp(s, "0") == 0 ? 0 : PAGEPOOL__V1__FEATURE__FEATURE_CACHE;
}

/*
 * Check and map the region fd of a CacheMapped answer, and make the tag
 * table: 0 with c->cc set up, or -errno with nothing kept.  The fd must be
 * a file sealed against shrinking, at least PP_CC_SIZE long (a shorter one
 * would turn an access into SIGBUS), and the region must say it is one.
 * The caller closes fd.
 */
static int cache_map(struct pp_client *c, int fd, const Pagepool__V1__CacheMapped *m)
{
	struct libpp_cache *cc = &c->cc;
	struct pp_cc_region *r;
	struct stat st;
	int seals;

	if (fd < 0 || m->size != PP_CC_SIZE || m->version != PP_CC_VERSION || m->high == 0)
		return -EPROTO;
	seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)PP_CC_SIZE ||
	    seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EPROTO;
	r = mmap(NULL, PP_CC_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r == MAP_FAILED)
		return -errno;
	if (r->magic != PP_CC_MAGIC || r->version != PP_CC_VERSION || r->size != PP_CC_SIZE)
		goto fail;
	cc->tag = mmap(NULL, c->npages, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (cc->tag == MAP_FAILED) {
		cc->tag = NULL;
		goto fail;
	}
	for (unsigned k = 0; k < PP_CC_ORDERS; k++) {
		cc->high[k] = pp_cc_high(m->high, k);
		cc->batch[k] = cc->high[k] ? pp_cc_batch(m->batch, m->high, k) : 0;
	}
	cc->seq = 0;
	cc->r = r;
	return 0;
fail:
	munmap(r, PP_CC_SIZE);
	return -EPROTO;
}

int libpp_cache_open(struct pp_client *c, uint32_t high, uint32_t batch)
{
	Pagepool__V1__CacheMap cm = PAGEPOOL__V1__CACHE_MAP__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	int fd = -1, err;

	if (high == 0)
		return 0;
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_CACHE_MAP;
	req.cache_map = &cm;
	err = libpp_call(c, &req, &resp, &fd);
	if (!err)
		err = libpp_expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_CACHE_MAPPED);
	if (!err) {
		/* A region the library cannot use leaves c without a cache:
		 * the daemon finds it empty whenever it looks. */
		(void)cache_map(c, fd, resp->cache_mapped);
		wire_response_free(resp);
	}
	if (fd >= 0)
		close(fd);
	if (err && c->t.broken)
		return err;
	c->t.error[0] = '\0';	/* a refusal is no failure of pp_connect */
	return 0;
}

void libpp_cache_close(struct pp_client *c)
{
	struct libpp_cache *cc = &c->cc;

	if (cc->r)
		munmap(cc->r, PP_CC_SIZE);
	if (cc->tag)
		munmap(cc->tag, c->npages);
	cc->r = NULL;
	cc->tag = NULL;
}

void libpp_cache_tag(struct pp_client *c, const uint32_t *pfns, size_t n, unsigned order,
		     bool owned)
{
	uint8_t *tag = c->cc.tag, v;

	if (!tag)
		return;
	v = owned && order < PP_CC_ORDERS ? (uint8_t)(LIBPP_TAG_OWNED | order) : 0;
	for (size_t i = 0; i < n; i++) {
		tag[pfns[i]] = v;
		/* A page inside a small block may carry a stale tag from a
		 * block it was part of before; larger blocks are left alone. */
		if (order < PP_CC_ORDERS)
			for (uint32_t j = 1; j < 1u << order; j++)
				tag[pfns[i] + j] = 0;
	}
}

void libpp_cache_untag(struct pp_client *c, const uint32_t *pfns, size_t n)
{
	uint8_t *tag = c->cc.tag;

	if (!tag)
		return;
	for (size_t i = 0; i < n; i++)
		if (pfns[i] < c->npages)
			tag[pfns[i]] = 0;
}

/* -EALREADY for the cached block pfn at index i of fn's list. */
static int cache_refuse(struct pp_client *c, const char *fn, uint32_t pfn, unsigned i,
			unsigned *bad_index)
{
	if (bad_index)
		*bad_index = i;
	return libpp_fail(c, -EALREADY, "%s: pfn %u (index %u) is not allocated: it was "
			  "freed already (into this client's cache)", fn, pfn, i);
}

int libpp_cache_check(struct pp_client *c, const char *fn, const uint32_t *pfns, unsigned n,
		      unsigned *bad_index)
{
	const uint8_t *tag = c->cc.tag;

	if (!tag)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (pfns[i] < c->npages && (tag[pfns[i]] & LIBPP_TAG_CACHED))
			return cache_refuse(c, fn, pfns[i], i, bad_index);
	return 0;
}

/* A block of order at p that the cache may hand out: in the arena and
 * tagged as cached with that order (a pfn the region made up is not). */
static inline bool cache_valid(const struct pp_client *c, uint32_t p, unsigned order)
{
	return (uint64_t)p + (1u << order) <= c->npages &&
	       c->cc.tag[p] == (LIBPP_TAG_CACHED | order);
}

/*
 * Pop one block of order: true and *pfn, or false (a miss) when the active
 * list is empty.  An entry that fails cache_valid() is dropped and counts
 * as a miss.  The hot path of pp_alloc: one locked instruction, no call.
 */
static inline bool cache_pop1(struct pp_client *c, unsigned order, uint32_t *pfn)
{
	struct libpp_cache *cc = &c->cc;
	struct pp_cc_list *l = &cc->r->list[cache_enter(cc)][order];
	uint32_t n = list_count(l), p = 0;
	bool ok = false;

	if (n - 1 < PP_CC_CAP) {	/* 1..PP_CC_CAP */
		p = __atomic_load_n(&l->pfn[n - 1], __ATOMIC_RELAXED);
		ok = cache_valid(c, p, order);
		list_set_count(l, n - 1);
	}
	cache_leave(cc);
	if (!ok)
		return false;
	cc->tag[p] = (uint8_t)(LIBPP_TAG_OWNED | order);
	*pfn = p;
	return true;
}

/*
 * Pop count blocks of order into pfns[]: count, or 0 (nothing taken) when
 * the active list holds fewer good ones.  Entries that fail cache_valid()
 * are dropped on the way.
 */
static unsigned cache_pop(struct pp_client *c, unsigned order, unsigned count, uint32_t *pfns)
{
	struct libpp_cache *cc = &c->cc;
	struct pp_cc_list *l = &cc->r->list[cache_enter(cc)][order];
	uint32_t n = list_count(l);
	unsigned got = 0;

	if (n <= PP_CC_CAP) {
		while (got < count && n > 0) {
			uint32_t p = __atomic_load_n(&l->pfn[--n], __ATOMIC_RELAXED);

			if (cache_valid(c, p, order))
				pfns[got++] = p;
		}
		if (got < count) {	/* too few: put the good ones back */
			while (got > 0)
				l->pfn[n++] = pfns[--got];
		}
		list_set_count(l, n);
	}
	cache_leave(cc);
	for (unsigned i = 0; i < got; i++)
		cc->tag[pfns[i]] = (uint8_t)(LIBPP_TAG_OWNED | order);
	return got;
}

/*
 * Push the blocks b[0..n) of order (tagged OWNED) onto the active list,
 * b[0] on top, as many as fit under high: that number, their tags CACHED.
 */
static unsigned cache_push(struct pp_client *c, unsigned order, const uint32_t *b, unsigned n)
{
	struct libpp_cache *cc = &c->cc;
	struct pp_cc_list *l = &cc->r->list[cache_enter(cc)][order];
	uint32_t cnt = list_count(l);
	unsigned fit = 0;

	if (cnt <= cc->high[order]) {
		fit = cc->high[order] - cnt < n ? cc->high[order] - cnt : n;
		for (unsigned i = fit; i > 0; i--) {
			l->pfn[cnt++] = b[i - 1];
			cc->tag[b[i - 1]] = (uint8_t)(LIBPP_TAG_CACHED | order);
		}
		list_set_count(l, cnt);
	}
	cache_leave(cc);
	return fit;
}

/* Give the blocks b[0..n) back in one Free (a spill).  The caller's call
 * has succeeded already: a failure here (the daemon cannot refuse its own
 * blocks; a broken connection shows at the next call) leaves them held
 * until pp_close, untagged. */
static void cache_spill(struct pp_client *c, const uint32_t *b, unsigned n)
{
	c->cc.spills++;
	cache_publish(&c->cc);
	(void)libpp_free_rpc(c, b, n, NULL);
	libpp_cache_untag(c, b, n);
}

static void cache_zero(struct pp_client *c, const uint32_t *pfns, unsigned n, unsigned order)
{
	for (unsigned i = 0; i < n; i++)
		memset(pp_page(c, pfns[i]), 0, (size_t)c->info.page_size << order);
}

/*
 * Take up to max good blocks off the top of the active list of order k
 * into buf[] (tagged OWNED): how many.  Bad entries are dropped.
 */
static unsigned cache_grab(struct pp_client *c, unsigned k, uint32_t *buf, unsigned max)
{
	struct libpp_cache *cc = &c->cc;
	struct pp_cc_list *l = &cc->r->list[cache_enter(cc)][k];
	uint32_t n = list_count(l);
	unsigned got = 0;

	if (n <= PP_CC_CAP) {
		while (got < max && n > 0) {
			uint32_t p = __atomic_load_n(&l->pfn[--n], __ATOMIC_RELAXED);

			if (cache_valid(c, p, k))
				buf[got++] = p;
		}
		list_set_count(l, n);
	}
	cache_leave(cc);
	for (unsigned i = 0; i < got; i++)
		cc->tag[buf[i]] = (uint8_t)(LIBPP_TAG_OWNED | k);
	return got;
}

/*
 * Give every block in the cache back, a Free per max_count blocks: true
 * when there were any.  The cache's blocks count against c's quota, and a
 * request refused for the quota must not be refused for them.
 */
bool libpp_cache_give_back(struct pp_client *c)
{
	uint32_t buf[PP_CC_CAP];
	unsigned max = c->info.max_count < PP_CC_CAP ? c->info.max_count : PP_CC_CAP, n;
	bool any = false;

	for (unsigned k = 0; k < PP_CC_ORDERS && !c->t.broken; k++)
		while (!c->t.broken && (n = cache_grab(c, k, buf, max)) > 0) {
			cache_spill(c, buf, n);
			any = true;
		}
	return any;
}

/* The round trip of a pp_alloc the cache did not serve, asked again once
 * without the cache's blocks when they made it exceed c's quota; c owns
 * what it gets. */
static int __attribute__((noinline)) cache_alloc_plain(struct pp_client *c, unsigned order,
						       unsigned count, unsigned flags,
						       uint32_t *pfns, unsigned *got)
{
	size_t n = 0;
	int err;

	err = libpp_alloc_rpc(c, order, count, flags, pfns, &n);
	if (err == -EDQUOT && c->cc.r && libpp_cache_give_back(c))
		err = libpp_alloc_rpc(c, order, count, flags, pfns, &n);
	if (err)
		return err;
	libpp_cache_tag(c, pfns, n, order, true);
	if (got)
		*got = (unsigned)n;
	return 0;
}

/*
 * A miss of a one-block pp_alloc: one Alloc of a batch (PP_PARTIAL, the
 * caller's NOWAIT; zeroing is the library's, for the caller's block only),
 * one block into *pfn, the rest into the list.  When the refill fails, the
 * caller's own request is made as it was, uncached, so that it gets the
 * daemon's true answer (a batch may fail where one block would not).
 */
static int __attribute__((noinline)) cache_refill(struct pp_client *c, unsigned order,
						  unsigned flags, uint32_t *pfn)
{
	struct libpp_cache *cc = &c->cc;
	uint32_t buf[PP_CC_CAP];
	unsigned want = cc->batch[order], pushed;
	size_t n = 0;
	int err;

	if (want > c->info.max_count)
		want = c->info.max_count;
	cc->misses++;
	cache_publish(cc);
	err = libpp_alloc_rpc(c, order, want, PP_PARTIAL | (flags & PP_NOWAIT), buf, &n);
	/* PARTIAL: ENOMEM or EAGAIN means not one block, which a request of
	 * one would not get either; only the quota counts the whole batch. */
	if (err)
		return c->t.broken || err != -EDQUOT ? err :
		       cache_alloc_plain(c, order, 1, flags, pfn, NULL);
	libpp_cache_tag(c, buf, n, order, true);
	*pfn = buf[0];
	if (n > 1) {
		pushed = cache_push(c, order, buf + 1, (unsigned)n - 1);
		if (pushed < n - 1)
			cache_spill(c, buf + 1 + pushed, (unsigned)n - 1 - pushed);
	}
	if (flags & PP_ZERO)
		cache_zero(c, pfn, 1, order);
	return 0;
}

/* More than one block: a hit only when the list holds them all. */
static int __attribute__((noinline)) cache_alloc_many(struct pp_client *c, unsigned order,
						      unsigned count, unsigned flags,
						      uint32_t *pfns, unsigned *got)
{
	struct libpp_cache *cc = &c->cc;

	if (count > cc->high[order] || !cache_pop(c, order, count, pfns))
		return cache_alloc_plain(c, order, count, flags, pfns, got);
	cc->hits++;
	__atomic_store_n(&cc->r->hits, cc->hits, __ATOMIC_RELAXED);
	if (flags & PP_ZERO)
		cache_zero(c, pfns, count, order);
	if (got)
		*got = count;
	return 0;
}

int libpp_cache_alloc(struct pp_client *c, unsigned order, unsigned count, unsigned flags,
		      uint32_t *pfns, unsigned *got)
{
	struct libpp_cache *cc = &c->cc;
	int err;

	/* An order whose high is 0 is not cached. */
	if (!cc->r || order >= PP_CC_ORDERS || !cc->high[order] || c->t.broken)
		return cache_alloc_plain(c, order, count, flags, pfns, got);
	if (count > 1)
		return cache_alloc_many(c, order, count, flags, pfns, got);
	if (cache_pop1(c, order, pfns)) {
		cc->hits++;
		__atomic_store_n(&cc->r->hits, cc->hits, __ATOMIC_RELAXED);
		if (flags & PP_ZERO)
			cache_zero(c, pfns, 1, order);
	} else {
		err = cache_refill(c, order, flags, pfns);
		if (err)
			return err;
	}
	if (got)
		*got = 1;
	return 0;
}

/*
 * The round trip of a pp_free the cache did not take (no pfn of it is
 * cached).  A refusal frees nothing and leaves the tags true; after a
 * success, or a broken connection (freed or not, unknown), the library no
 * longer counts the blocks as c's: a later free of one asks the daemon.
 */
static int __attribute__((noinline)) cache_free_plain(struct pp_client *c, const uint32_t *pfns,
						      unsigned n, unsigned *bad_index)
{
	int err = libpp_free_rpc(c, pfns, n, bad_index);

	if (!err || c->t.broken)
		libpp_cache_untag(c, pfns, n);
	return err;
}

/* Clear the MARK of pfns[0..n), all of them marked by this pp_free. */
static void cache_unmark(struct pp_client *c, const uint32_t *pfns, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		c->cc.tag[pfns[i]] &= (uint8_t)~LIBPP_TAG_MARK;
}

/*
 * The list l of order k went above high with the push of its cnt-th
 * block, inside the operation: take a batch of its coldest blocks (the
 * bottom), leave, and give them back in one Free.
 */
static int __attribute__((noinline)) cache_put1_spill(struct pp_client *c,
						      struct pp_cc_list *l, uint32_t cnt,
						      unsigned k)
{
	struct libpp_cache *cc = &c->cc;
	uint32_t spill[PP_CC_CAP];
	unsigned nspill = cc->batch[k] < c->info.max_count ? cc->batch[k] : c->info.max_count;

	memcpy(spill, l->pfn, nspill * sizeof(*spill));
	memmove(l->pfn, l->pfn + nspill, (cnt - nspill) * sizeof(*spill));
	list_set_count(l, cnt - nspill);
	cache_leave(cc);
	for (unsigned i = 0; i < nspill; i++)
		cc->tag[spill[i]] = (uint8_t)(LIBPP_TAG_OWNED | k);
	cache_spill(c, spill, nspill);
	return 0;
}

/*
 * Push the one block *pfn of order k (tagged OWNED) onto the active list,
 * or free it by the round trip when the list is not in a state to take
 * it.  The hot path of pp_free.
 */
static inline int cache_put1(struct pp_client *c, const uint32_t *pfn, unsigned k,
			     unsigned *bad_index)
{
	struct libpp_cache *cc = &c->cc;
	struct pp_cc_list *l = &cc->r->list[cache_enter(cc)][k];
	uint32_t cnt = list_count(l), p = *pfn;

	if (cnt > cc->high[k] || cnt >= PP_CC_CAP) {
		cache_leave(cc);
		return cache_free_plain(c, pfn, 1, bad_index);
	}
	l->pfn[cnt++] = p;
	cc->tag[p] = (uint8_t)(LIBPP_TAG_CACHED | k);
	if (cnt > cc->high[k])
		return cache_put1_spill(c, l, cnt, k);
	list_set_count(l, cnt);
	cache_leave(cc);
	return 0;
}

/*
 * Push the n marked blocks of pfns[] (add[k] of order k) when they all fit
 * under their lists' high marks: true; else the marks are cleared, nothing
 * is pushed and false returned.
 */
static bool cache_put(struct pp_client *c, const uint32_t *pfns, unsigned n,
		      const unsigned *add)
{
	struct libpp_cache *cc = &c->cc;
	struct pp_cc_list *set = cc->r->list[cache_enter(cc)];
	uint32_t cnt[PP_CC_ORDERS];

	for (unsigned k = 0; k < PP_CC_ORDERS; k++) {
		cnt[k] = list_count(&set[k]);
		if (add[k] && (cnt[k] > cc->high[k] || cnt[k] + add[k] > cc->high[k])) {
			cache_leave(cc);
			cache_unmark(c, pfns, n);
			return false;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned k = cc->tag[pfns[i]] & LIBPP_TAG_ORDER;

		set[k].pfn[cnt[k]++] = pfns[i];
		cc->tag[pfns[i]] = (uint8_t)(LIBPP_TAG_CACHED | k);
	}
	for (unsigned k = 0; k < PP_CC_ORDERS; k++)
		if (add[k])
			list_set_count(&set[k], cnt[k]);
	cache_leave(cc);
	return true;
}

/* pp_free of more than one block: every pfn checked (a cached one is
 * refused), duplicates found by marking the tags. */
static int __attribute__((noinline)) cache_free_many(struct pp_client *c, const uint32_t *pfns,
						     unsigned n, unsigned *bad_index)
{
	struct libpp_cache *cc = &c->cc;
	unsigned add[PP_CC_ORDERS] = { 0 }, marked = 0;
	bool fast = !c->t.broken;

	for (unsigned i = 0; i < n; i++) {
		uint32_t p = pfns[i];
		uint8_t t;

		if (p >= c->npages) {
			fast = false;
			continue;
		}
		t = cc->tag[p];
		if (t & LIBPP_TAG_CACHED) {
			cache_unmark(c, pfns, marked);
			return cache_refuse(c, "pp_free", p, i, bad_index);
		}
		if (!fast)
			continue;
		/* Owned, seen once so far, of a cached order: the cache's. */
		if ((t & (LIBPP_TAG_OWNED | LIBPP_TAG_MARK)) != LIBPP_TAG_OWNED ||
		    (t & LIBPP_TAG_ORDER) >= PP_CC_ORDERS || !cc->high[t & LIBPP_TAG_ORDER]) {
			fast = false;
			continue;
		}
		cc->tag[p] = t | LIBPP_TAG_MARK;
		add[t & LIBPP_TAG_ORDER]++;
		marked = i + 1;
	}
	if (!fast) {
		cache_unmark(c, pfns, marked);
		return cache_free_plain(c, pfns, n, bad_index);
	}
	if (cache_put(c, pfns, n, add))
		return 0;
	return cache_free_plain(c, pfns, n, bad_index);
}

int libpp_cache_free(struct pp_client *c, const uint32_t *pfns, unsigned n,
		     unsigned *bad_index)
{
	struct libpp_cache *cc = &c->cc;
	uint32_t p = pfns[0];
	unsigned k;
	uint8_t t;

	if (!cc->r)
		return cache_free_plain(c, pfns, n, bad_index);
	if (n > 1)
		return cache_free_many(c, pfns, n, bad_index);
	if (p >= c->npages)
		return cache_free_plain(c, pfns, n, bad_index);
	t = cc->tag[p];
	if (t & LIBPP_TAG_CACHED)
		return cache_refuse(c, "pp_free", p, 0, bad_index);
	k = t & LIBPP_TAG_ORDER;
	if ((t & (LIBPP_TAG_OWNED | LIBPP_TAG_MARK)) != LIBPP_TAG_OWNED || k >= PP_CC_ORDERS ||
	    !cc->high[k] || c->t.broken)
		return cache_free_plain(c, pfns, n, bad_index);
	return cache_put1(c, pfns, k, bad_index);
}

void libpp_cache_stat(const struct pp_client *c, struct pp_stat *st)
{
	const struct libpp_cache *cc = &c->cc;
	uint64_t pages = 0;

	st->cache_hits = cc->hits;
	st->cache_misses = cc->misses;
	st->cache_spills = cc->spills;
	if (!cc->r)
		return;
	for (unsigned s = 0; s < 2; s++)
		for (unsigned k = 0; k < PP_CC_ORDERS; k++) {
			uint32_t n = list_count(&cc->r->list[s][k]);

			pages += (uint64_t)(n > PP_CC_CAP ? PP_CC_CAP : n) << k;
		}
	st->cached = pages;
	st->cache_drains = __atomic_load_n(&cc->r->drains, __ATOMIC_RELAXED);
}
