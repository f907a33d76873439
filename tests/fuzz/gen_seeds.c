/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen_seeds.c - seed corpora for the fuzzers, written by `make fuzz-build`
 * into DIR/fuzz_proto/, DIR/fuzz_core/ and DIR/fuzz_ccache/ (never
 * committed: generated).
 *
 *   gen_seeds DIR
 *
 * fuzz_proto seeds are valid conversations in its input format (see the
 * head of fuzz_proto.c): framed hello/alloc/free/stat requests, every admin
 * request, the harness's control operations (free what was handed out,
 * offline the block it lives in, backpressure, half-close), requests with
 * id 0 (zero-length frames both ways), FEATURE_RUNS (hellos asking for it,
 * Pages answered in runs, frees with runs good and bad, with and without
 * the feature), offers, loans, takes and cancels (hand-offs, shared offers
 * with two takers, cancels, a giver's death with offers open, tokens
 * spoilt and replayed, refusals, quotas, backpressure), plus a few classic
 * framing errors.  fuzz_core seeds are
 * operation sequences in fuzz_core.c's format; fuzz_ccache seeds are
 * operation sequences in fuzz_ccache.c's format (honest pushes and drains,
 * another client's pfns in a region, writes in a grace period, a client
 * stopped inside an operation, garbage, deaths, refused CacheMaps, quotas).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wire.h"

enum { A = 0, B = 1, ADM = 2, CTL = 3 };

/* fuzz_proto control operations (fuzz_proto.c: control()) */
#define C_SHUT(s)		(0 + (s))
#define C_TOGGLE_READ(s)	(2 + (s))
#define C_DECAY			4
#define C_RECONNECT(s)		(5 + (s))
#define C_FREE(s, other, v)	(8 + ((s) | (other) << 1 | (v) << 2))
#define C_ADMIN(src, what)	(32 + ((src) | (what) << 1))
#define C_HELLO(s, pool)	(48 + ((s) << 2 | (pool)))
#define C_BAD_RUNS(s, kind)	(56 + ((s) << 2 | (kind)))
/* fuzz_proto share operations (fuzz_proto.c: share_op): a chunk header of
 * 0x00 (client A) or 0x40 (B), then x and y.  Offers of what the client was
 * last given take the index of 0, 1, 2 or 65 takers; tokens are picked by
 * how (0 the newest offer's, 1 the arg-th newest, 2 flipped, 3 a wrong
 * length, 4 random, 5 the last one again, 6 another connection's newest,
 * 7 another connection's newest open one). */
#define SH_OFFER(shares, keep, form)	(0 | (shares) << 3 | (keep) << 5 | (form) << 6)
#define SH_LOAN(order)			(1 | (order) << 3)
#define SH_TAKE				2
#define SH_CANCEL			3
#define SH_STAT				4
#define SH_DIE				5
#define SH_OFFER_ALL(shares, keep)	(6 | (shares) << 3 | (keep) << 5)
#define SH_FREE_ALL			7
#define Y_ALL			0	/* send_offer: all it was last given */
#define Y_FIRST			1	/* the first block only */
#define Y_TWICE			2	/* the first block listed twice */
#define Y_OTHERS		3	/* with the other client's first block */
/* send_loan's y: count blocks and how (0 a hand-off, 4 one taker, 6 two,
 * 8 two and keep, 9 one and keep, 10 max_offer_shares, 11 one more, 12
 * keep on a hand-off, 13 no count, 14 max_count + 1, 15 beside a pfn) */
#define LOAN(count, how)	(((count) - 1) | (how) << 4)
#define TOK(how, arg)		((how) | (arg) << 3)
/* fuzz_proto setup byte: what the harness's hellos ask for, how its frees
 * carry their blocks (fuzz_proto.c: LLVMFuzzerTestOneInput, free_encode) */
#define S_HELLO_RUNS		(1 << 4)
#define S_HELLO_ALL		(2 << 4)
#define S_HELLO_RUNS_HIGH	(3 << 4)
#define S_FREE_FORM(f)		((f) << 6)
#define F_RUNS			PAGEPOOL__V1__FEATURE__FEATURE_RUNS

struct seed {
	unsigned char buf[16384];
	size_t len;
};

static const char *outdir;
static unsigned nseeds;

static void put(struct seed *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->buf)) {
		fprintf(stderr, "gen_seeds: seed too large\n");
		exit(1);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void put1(struct seed *s, unsigned b)
{
	unsigned char c = (unsigned char)b;

	put(s, &c, 1);
}

/* A chunk of raw bytes for stream k. */
static void chunk(struct seed *s, unsigned k, const void *p, size_t n)
{
	if (n < 32) {
		put1(s, k << 6 | (unsigned)n);
	} else {
		put1(s, k << 6 | 0x20 | (unsigned)(n >> 8));
		put1(s, (unsigned)(n & 0xff));
	}
	put(s, p, n);
}

static void ctl(struct seed *s, unsigned op)
{
	put1(s, CTL << 6 | op);
}

static void msg(struct seed *s, unsigned k, const ProtobufCMessage *m)
{
	uint8_t *buf;
	size_t len;

	if (wire_encode(m, 8191, &buf, &len) < 0) {
		fprintf(stderr, "gen_seeds: cannot encode\n");
		exit(1);
	}
	chunk(s, k, buf, len);
	free(buf);
}

static uint64_t next_id;
static int zero_ids;		/* requests go out with id 0 */

/* Ids count up, or stay 0: a request with id 0 and no body packs to a
 * zero-length frame, and an admin answer with id 0, OK and no body is one. */
static uint64_t seed_id(void)
{
	return zero_ids ? 0 : ++next_id;
}

static void hello_features(struct seed *s, unsigned k, const char *pool, unsigned version,
			   uint32_t features)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Hello h = PAGEPOOL__V1__HELLO__INIT;

	h.version = version;
	h.pool = (char *)pool;
	h.features = features;
	q.id = seed_id();
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_HELLO;
	q.hello = &h;
	msg(s, k, &q.base);
}

static void hello(struct seed *s, unsigned k, const char *pool, unsigned version)
{
	hello_features(s, k, pool, version, 0);
}

static void alloc(struct seed *s, unsigned k, unsigned order, unsigned count, unsigned flags)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Alloc a = PAGEPOOL__V1__ALLOC__INIT;

	a.order = order;
	a.count = count;
	a.flags = flags;
	q.id = seed_id();
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_ALLOC;
	q.alloc = &a;
	msg(s, k, &q.base);
}

static void free_pfns(struct seed *s, unsigned k, const uint32_t *pfns, size_t n)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;

	f.pfns = (uint32_t *)pfns;
	f.n_pfns = n;
	q.id = seed_id();
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	q.free = &f;
	msg(s, k, &q.base);
}

/* A Free of pfns[np] then runs[nr] (pairs first, n) of order run_order. */
static void free_runs(struct seed *s, unsigned k, const uint32_t *pfns, size_t np,
		      const uint32_t *runs, size_t nr, uint32_t run_order)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;

	f.pfns = (uint32_t *)pfns;
	f.n_pfns = np;
	f.runs = (uint32_t *)runs;
	f.n_runs = nr;
	f.run_order = run_order;
	q.id = seed_id();
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	q.free = &f;
	msg(s, k, &q.base);
}

static void req_stat(struct seed *s, unsigned k)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Stat t = PAGEPOOL__V1__STAT__INIT;

	q.id = seed_id();
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_STAT;
	q.stat = &t;
	msg(s, k, &q.base);
}

/* A share operation of client k (A or B). */
static void share(struct seed *s, unsigned k, unsigned x, unsigned y)
{
	put1(s, k << 6);
	put1(s, x);
	put1(s, y);
}

/* An Offer of pfns[np] and runs[nr] (step 2^order), or a loan of count. */
static void offer_raw(struct seed *s, unsigned k, const uint32_t *pfns, size_t np,
		      const uint32_t *runs, size_t nr, unsigned order, unsigned shares, int keep,
		      unsigned count)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Offer o = PAGEPOOL__V1__OFFER__INIT;

	o.pfns = (uint32_t *)pfns;
	o.n_pfns = np;
	o.runs = (uint32_t *)runs;
	o.n_runs = nr;
	o.order = order;
	o.shares = shares;
	o.keep = keep;
	o.count = count;
	q.id = seed_id();
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_OFFER;
	q.offer = &o;
	msg(s, k, &q.base);
}

/* A Take (take) or Cancel of a token of its own making. */
static void tok_raw(struct seed *s, unsigned k, int take, const void *tok, size_t len)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Take t = PAGEPOOL__V1__TAKE__INIT;
	Pagepool__V1__Cancel c = PAGEPOOL__V1__CANCEL__INIT;

	q.id = seed_id();
	if (take) {
		t.token.data = (uint8_t *)tok;
		t.token.len = len;
		q.body_case = PAGEPOOL__V1__REQUEST__BODY_TAKE;
		q.take = &t;
	} else {
		c.token.data = (uint8_t *)tok;
		c.token.len = len;
		q.body_case = PAGEPOOL__V1__REQUEST__BODY_CANCEL;
		q.cancel = &c;
	}
	msg(s, k, &q.base);
}

/* Admin requests, one helper for all: fill the body, name its case. */
#define ADMIN(s, field, CASE, init, ...) do {					\
	Pagepool__V1__AdminRequest _q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;	\
	__typeof__(*_q.field) _b = init;					\
	__VA_ARGS__;								\
	_q.id = seed_id();							\
	_q.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_##CASE;		\
	_q.field = &_b;								\
	msg(s, ADM, &_q.base);							\
} while (0)

static void save(const char *target, const char *name, const struct seed *s)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f) != 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	nseeds++;
}

static void proto_seeds(void)
{
	static const uint32_t pfns4[] = { 0, 1, 2, 3 };
	static const char *const modes[] = { "", "rcu", "workqueue", "spinlock", "bogus" };
	struct seed s;

	/* A client's life: join, allocate, look, free what it got, look again. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	hello(&s, A, "", 1);
	alloc(&s, A, 0, 4, 0);
	req_stat(&s, A);
	ctl(&s, C_FREE(A, 0, 0));
	req_stat(&s, A);
	ctl(&s, C_FREE(A, 0, 0));		/* double free */
	save("fuzz_proto", "client-basic", &s);

	/* Every order, every flag, quotas on the small pool, raw pfns. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	hello(&s, A, "small", 1);
	for (unsigned o = 0; o <= 11; o++)
		alloc(&s, A, o, 1 + o % 3, o & 7);
	alloc(&s, A, 0, 100, 0);		/* over quota */
	alloc(&s, A, 0, 300, 0);		/* over max_count */
	alloc(&s, A, 0, 0, 0);
	free_pfns(&s, A, pfns4, 4);
	ctl(&s, C_FREE(A, 0, 2));		/* listed twice */
	ctl(&s, C_FREE(A, 0, 3));		/* a tail */
	ctl(&s, C_FREE(A, 0, 5));		/* out of range */
	ctl(&s, C_FREE(A, 0, 4));		/* reversed: all of it */
	req_stat(&s, A);
	save("fuzz_proto", "client-orders", &s);

	/* Refusals before and at hello. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	alloc(&s, A, 0, 1, 0);
	req_stat(&s, A);
	hello(&s, A, "nosuch", 1);
	hello(&s, A, "locked", 1);
	hello(&s, A, "", 2);
	hello(&s, A, "default", 1);
	hello(&s, A, "default", 1);		/* already joined */
	save("fuzz_proto", "client-hello", &s);

	/* Two clients: B frees A's pages (EPERM), A frees them, B's own. */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello(&s, A, "", 1);
	hello(&s, B, "", 1);
	alloc(&s, A, 1, 8, 0);
	alloc(&s, B, 2, 3, 2);
	ctl(&s, C_FREE(B, 1, 0));
	ctl(&s, C_FREE(A, 0, 0));
	ctl(&s, C_FREE(B, 0, 1));
	req_stat(&s, B);
	save("fuzz_proto", "two-clients", &s);

	/* max_connections = 2: a reconnect while B is on is turned away (the old
	 * A is not gone yet); the next one gets in. */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello(&s, A, "", 1);
	hello(&s, B, "small", 1);
	alloc(&s, A, 0, 3, 0);
	ctl(&s, C_RECONNECT(A));
	ctl(&s, C_HELLO(A, 1));
	ctl(&s, C_RECONNECT(A));
	ctl(&s, C_HELLO(A, 2));
	alloc(&s, A, 1, 3, 0);
	req_stat(&s, A);
	save("fuzz_proto", "reconnect-refused", &s);

	/* Exhaustion: PARTIAL, NOWAIT, all or nothing. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	hello(&s, A, "", 1);
	alloc(&s, A, 3, 256, 0);
	alloc(&s, A, 0, 1, 1);
	alloc(&s, A, 0, 256, 4);
	alloc(&s, A, 10, 1, 0);
	ctl(&s, C_FREE(A, 0, 0));
	alloc(&s, A, 10, 2, 4);
	save("fuzz_proto", "client-exhaust", &s);

	/* Backpressure: stop reading, pipeline big answers, read again. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	hello(&s, A, "", 1);
	ctl(&s, C_TOGGLE_READ(A));
	for (int i = 0; i < 8; i++) {
		alloc(&s, A, 0, 200, 4);
		req_stat(&s, A);
	}
	ctl(&s, C_TOGGLE_READ(A));
	ctl(&s, C_FREE(A, 0, 0));
	save("fuzz_proto", "client-backpressure", &s);

	/* Half-close with requests in flight. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	hello(&s, A, "", 1);
	alloc(&s, A, 0, 5, 0);
	req_stat(&s, A);
	ctl(&s, C_SHUT(A));
	save("fuzz_proto", "client-halfclose", &s);

	/* A zero-length frame is no framing error: a request with id 0 and no
	 * body, refused before and after hello, on a connection that goes on. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	chunk(&s, A, "\0\0\0\0", 4);
	hello(&s, A, "", 1);
	chunk(&s, A, "\0\0\0\0", 4);
	req_stat(&s, A);
	chunk(&s, ADM, "\0\0\0\0", 4);
	ADMIN(&s, status, STATUS, PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT);
	save("fuzz_proto", "frame-empty", &s);

	/* Every request with id 0, admin first (while no client holds pages,
	 * so the offline succeeds).  Offline, online and set-pcp that succeed
	 * are answered with zero-length frames. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	zero_ids = 1;
	ADMIN(&s, status, STATUS, PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT);
	ADMIN(&s, stats, STATS, PAGEPOOL__V1__ADMIN_STATS_REQ__INIT);
	ADMIN(&s, buddyinfo, BUDDYINFO, PAGEPOOL__V1__ADMIN_BUDDYINFO_REQ__INIT);
	ADMIN(&s, clients, CLIENTS, PAGEPOOL__V1__ADMIN_CLIENTS_REQ__INIT);
	ADMIN(&s, drain, DRAIN, PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT);
	ADMIN(&s, offline, OFFLINE, PAGEPOOL__V1__ADMIN_OFFLINE_REQ__INIT,
	      _b.pool = (char *)"default", _b.start = 1024, _b.count = 1024);
	ADMIN(&s, online, ONLINE, PAGEPOOL__V1__ADMIN_ONLINE_REQ__INIT,
	      _b.pool = (char *)"default", _b.start = 1024, _b.count = 1024);
	ADMIN(&s, trim, TRIM, PAGEPOOL__V1__ADMIN_TRIM_REQ__INIT);
	ADMIN(&s, set_pcp, SET_PCP, PAGEPOOL__V1__ADMIN_SET_PCP_REQ__INIT,
	      _b.pool = (char *)"small", _b.high = 4096, _b.batch = 63);
	ADMIN(&s, verify, VERIFY, PAGEPOOL__V1__ADMIN_VERIFY_REQ__INIT);
	ADMIN(&s, reload, RELOAD, PAGEPOOL__V1__ADMIN_RELOAD_REQ__INIT);
	chunk(&s, ADM, "\0\0\0\0", 4);		/* no body */
	alloc(&s, A, 0, 1, 0);
	hello(&s, A, "", 1);
	alloc(&s, A, 0, 4, 0);
	req_stat(&s, A);
	free_pfns(&s, A, pfns4, 4);
	zero_ids = 0;
	ctl(&s, C_FREE(A, 0, 0));
	req_stat(&s, A);
	ADMIN(&s, status, STATUS, PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT);
	save("fuzz_proto", "id0-all", &s);

	/* Framing errors: too long, a body that does not decode, unknown
	 * fields, a truncated frame. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	chunk(&s, A, "\0\1\0\0xxxx", 8);
	chunk(&s, ADM, "\0\0\x20\0yyyy", 8);
	save("fuzz_proto", "frame-too-long", &s);
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	chunk(&s, A, "\0\0\0\3\x0a\xff\xff", 7);
	chunk(&s, ADM, "\0\0\0\2\xff\x01", 6);
	save("fuzz_proto", "frame-garbage", &s);
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	chunk(&s, A, "\0\0\0\4\x08\x01\x78\x05", 8);		/* id 1, field 15 */
	chunk(&s, ADM, "\0\0\0\4\x08\x01\x12\x00", 8);		/* status */
	chunk(&s, ADM, "\0\0\0\6\x08\x02\x12\x02\x40\x01", 10);	/* status + unknown */
	chunk(&s, A, "\0\0\0\x10\x08", 5);			/* truncated */
	save("fuzz_proto", "frame-unknown", &s);

	/* Every admin request, with each reload configuration. */
	for (unsigned v = 0; v < 8; v++) {
		char name[64];

		memset(&s, 0, sizeof(s));
		put1(&s, v);
		ADMIN(&s, status, STATUS, PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT);
		ADMIN(&s, stats, STATS, PAGEPOOL__V1__ADMIN_STATS_REQ__INIT);
		ADMIN(&s, buddyinfo, BUDDYINFO, PAGEPOOL__V1__ADMIN_BUDDYINFO_REQ__INIT);
		ADMIN(&s, clients, CLIENTS, PAGEPOOL__V1__ADMIN_CLIENTS_REQ__INIT);
		ADMIN(&s, reload, RELOAD, PAGEPOOL__V1__ADMIN_RELOAD_REQ__INIT);
		hello(&s, A, "", 1);
		alloc(&s, A, 0, 16, 0);
		ctl(&s, C_FREE(A, 0, 0));
		ADMIN(&s, drain, DRAIN, PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT,
		      _b.mode = (char *)modes[v % 5], _b.force = v & 1);
		ADMIN(&s, verify, VERIFY, PAGEPOOL__V1__ADMIN_VERIFY_REQ__INIT);
		ADMIN(&s, trim, TRIM, PAGEPOOL__V1__ADMIN_TRIM_REQ__INIT);
		snprintf(name, sizeof(name), "admin-all-%u", v);
		save("fuzz_proto", name, &s);
	}

	/* Offline while a client holds pages there: EBUSY with the holder, then
	 * the client frees and the offline completes; online again. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	hello(&s, A, "", 1);
	alloc(&s, A, 2, 4, 0);
	ctl(&s, C_ADMIN(A, 0));
	ADMIN(&s, clients, CLIENTS, PAGEPOOL__V1__ADMIN_CLIENTS_REQ__INIT);
	alloc(&s, A, 0, 4, 0);
	ctl(&s, C_FREE(A, 0, 0));
	ctl(&s, C_ADMIN(A, 0));
	ADMIN(&s, status, STATUS, PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT);
	ctl(&s, C_ADMIN(A, 6));
	ctl(&s, C_ADMIN(A, 1));
	ctl(&s, C_ADMIN(A, 2));
	ctl(&s, C_ADMIN(A, 3));
	save("fuzz_proto", "admin-offline-busy", &s);

	/* Raw offline/online/set-pcp requests, good and bad. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	ADMIN(&s, offline, OFFLINE, PAGEPOOL__V1__ADMIN_OFFLINE_REQ__INIT,
	      _b.pool = (char *)"default", _b.start = 1024, _b.count = 1024);
	ADMIN(&s, offline, OFFLINE, PAGEPOOL__V1__ADMIN_OFFLINE_REQ__INIT,
	      _b.pool = (char *)"small", _b.start = 1, _b.count = 1024);
	ADMIN(&s, online, ONLINE, PAGEPOOL__V1__ADMIN_ONLINE_REQ__INIT,
	      _b.pool = (char *)"default", _b.start = 0, _b.count = 2048);
	ADMIN(&s, online, ONLINE, PAGEPOOL__V1__ADMIN_ONLINE_REQ__INIT,
	      _b.pool = (char *)"default", _b.start = 1024, _b.count = 1024);
	ADMIN(&s, set_pcp, SET_PCP, PAGEPOOL__V1__ADMIN_SET_PCP_REQ__INIT,
	      _b.pool = (char *)"", _b.high = 0, _b.batch = 1);
	ADMIN(&s, set_pcp, SET_PCP, PAGEPOOL__V1__ADMIN_SET_PCP_REQ__INIT,
	      _b.pool = (char *)"small", _b.high = 4096, _b.batch = 63);
	ADMIN(&s, set_pcp, SET_PCP, PAGEPOOL__V1__ADMIN_SET_PCP_REQ__INIT,
	      _b.pool = (char *)"nosuch", _b.high = 8, _b.batch = 9);
	hello(&s, A, "small", 1);
	alloc(&s, A, 0, 40, 0);
	ctl(&s, C_DECAY);
	ctl(&s, C_FREE(A, 0, 4));
	ctl(&s, C_DECAY);
	ctl(&s, C_DECAY);
	save("fuzz_proto", "admin-ranges", &s);

	/* Workqueue and spinlock drains after a reload switched the mode. */
	for (unsigned v = 1; v <= 2; v++) {
		char name[64];

		memset(&s, 0, sizeof(s));
		put1(&s, v);
		ctl(&s, C_ADMIN(A, 7));
		hello(&s, A, "", 1);
		alloc(&s, A, 0, 30, 0);
		ctl(&s, C_FREE(A, 0, 0));
		ADMIN(&s, drain, DRAIN, PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT,
		      _b.mode = (char *)"");
		ctl(&s, C_ADMIN(A, 5));
		ctl(&s, C_RECONNECT(A));
		ctl(&s, C_HELLO(A, 2));
		snprintf(name, sizeof(name), "reload-drain-%u", v);
		save("fuzz_proto", name, &s);
	}
}

/* FEATURE_RUNS: hellos, Pages in runs, frees with runs good and bad. */
static void runs_seeds(void)
{
	static const uint32_t pfns4[] = { 0, 1, 2, 3 };
	struct seed s;

	/* A asks for runs, B for every bit (granted: runs alone); both take
	 * batches that come back as runs, or as lists when runs are no
	 * shorter, and free them as runs, pfns then runs, and lists. */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello_features(&s, A, "", 1, F_RUNS);
	hello_features(&s, B, "", 1, 0xffffffffu);
	alloc(&s, A, 0, 200, 0);
	alloc(&s, B, 2, 20, 0);
	alloc(&s, A, 3, 3, 0);
	req_stat(&s, A);
	free_runs(&s, A, NULL, 0, (const uint32_t[]){ 0, 8 }, 2, 3);
	free_runs(&s, A, NULL, 0, (const uint32_t[]){ 0, 8 }, 2, 3);	/* again: EALREADY */
	alloc(&s, A, 0, 256, 4);
	free_runs(&s, A, pfns4, 2, (const uint32_t[]){ 2, 2, 4, 60 }, 4, 0);
	free_runs(&s, B, NULL, 0, (const uint32_t[]){ 0, 4 }, 2, 0);	/* A's: EPERM */
	ctl(&s, C_FREE(A, 0, 4));
	ctl(&s, C_FREE(B, 0, 0));
	req_stat(&s, B);
	save("fuzz_proto", "runs-basic", &s);

	/* Runs refused: without the feature, and malformed with it. */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello(&s, A, "small", 1);
	hello_features(&s, B, "small", 1, F_RUNS);
	alloc(&s, A, 0, 16, 0);
	alloc(&s, B, 0, 16, 0);
	free_runs(&s, A, NULL, 0, (const uint32_t[]){ 0, 4 }, 2, 0);	/* EPROTO */
	free_runs(&s, A, pfns4, 1, NULL, 0, 2);				/* EPROTO */
	free_runs(&s, B, NULL, 0, (const uint32_t[]){ 0, 4, 8 }, 3, 0);	/* odd */
	free_runs(&s, B, NULL, 0, (const uint32_t[]){ 0, 0 }, 2, 0);	/* empty run */
	free_runs(&s, B, NULL, 0, (const uint32_t[]){ 0, 1 }, 2, 11);	/* run_order */
	free_runs(&s, B, pfns4, 1, (const uint32_t[]){ 0xffffffffu, 2 }, 2, 0);
	free_runs(&s, B, pfns4, 1, (const uint32_t[]){ 0xfffffc00u, 2 }, 2, 10);
	free_runs(&s, B, NULL, 0, (const uint32_t[]){ 0, 0xffffffffu }, 2, 0);	/* E2BIG */
	free_runs(&s, B, pfns4, 4, (const uint32_t[]){ 0, 253 }, 2, 0);	/* 257 */
	free_runs(&s, B, NULL, 0, NULL, 0, 3);				/* no blocks */
	for (unsigned k = 0; k < 4; k++) {
		ctl(&s, C_BAD_RUNS(A, k));
		ctl(&s, C_BAD_RUNS(B, k));
		ctl(&s, C_BAD_RUNS(B, k));
	}
	req_stat(&s, A);
	req_stat(&s, B);
	save("fuzz_proto", "runs-refused", &s);

	/* The harness's own hellos asking for runs (or every bit, or runs and
	 * an unknown bit), its frees in each form. */
	for (unsigned form = 0; form < 4; form++) {
		static const unsigned asks[] = { S_HELLO_RUNS, S_HELLO_ALL, S_HELLO_RUNS_HIGH,
						 S_HELLO_RUNS };
		char name[64];

		memset(&s, 0, sizeof(s));
		put1(&s, asks[form] | S_FREE_FORM(form));
		ctl(&s, C_HELLO(A, 1));
		ctl(&s, C_HELLO(B, 1));
		alloc(&s, A, 0, 100, 0);
		alloc(&s, B, 1, 40, 0);
		ctl(&s, C_FREE(A, 0, 2));		/* listed twice */
		ctl(&s, C_FREE(A, 0, 3));		/* a tail */
		ctl(&s, C_FREE(B, 1, 0));		/* A's */
		ctl(&s, C_FREE(A, 0, 4));		/* reversed: all of it */
		ctl(&s, C_FREE(B, 0, 5));		/* out of range */
		ctl(&s, C_FREE(B, 0, 0));
		alloc(&s, A, 2, 64, 0);
		ctl(&s, C_BAD_RUNS(A, 0));
		ctl(&s, C_FREE(A, 0, 0));
		snprintf(name, sizeof(name), "runs-form-%u", form);
		save("fuzz_proto", name, &s);
	}
}

/* Offers, loans, takes and cancels (fuzz_proto.c: share_op). */
static void share_seeds(void)
{
	static const uint32_t pfns4[] = { 0, 1, 2, 3 };
	static const uint8_t junk[16] = "0123456789abcdef";
	struct seed s;

	/* A hand-off: A offers what it got, B takes it (A cannot, nor B
	 * again), offers it back, A takes it and frees it; B's replay of A's
	 * token hears EALREADY, and nobody can cancel a closed offer. */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello(&s, A, "", 1);
	hello(&s, B, "", 1);
	alloc(&s, A, 1, 4, 0);
	share(&s, A, SH_OFFER(0, 0, 0), Y_ALL);
	share(&s, A, SH_STAT, 0);
	share(&s, A, SH_TAKE, TOK(0, 0));			/* its own: EINVAL */
	share(&s, B, SH_TAKE, TOK(0, 0));
	share(&s, B, SH_STAT, 0);
	share(&s, B, SH_TAKE, TOK(5, 0));			/* again: EALREADY */
	share(&s, B, SH_OFFER(0, 0, 0), Y_ALL);
	share(&s, A, SH_TAKE, TOK(0, 0));
	share(&s, A, SH_STAT, 0);
	ctl(&s, C_FREE(A, 0, 0));
	share(&s, B, SH_TAKE, TOK(5, 0));			/* A's token: EALREADY */
	share(&s, B, SH_CANCEL, TOK(0, 0));			/* closed: ENOENT */
	share(&s, A, SH_STAT, 0);
	save("fuzz_proto", "share-handoff", &s);

	/* A shared offer, two takers: B takes (not twice), dies, comes back
	 * as a new client and takes again, which closes the offer; each
	 * reference is dropped with a free.  With keep A holds one too, frees
	 * it while the offer is open, and cancels after one take. */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello(&s, A, "", 1);
	hello(&s, B, "", 1);
	share(&s, A, SH_LOAN(0), LOAN(4, 6));
	share(&s, B, SH_TAKE, TOK(0, 0));
	share(&s, B, SH_TAKE, TOK(0, 0));			/* twice: EALREADY */
	share(&s, B, SH_STAT, 0);
	share(&s, B, SH_DIE, 0);
	ctl(&s, C_HELLO(B, 1));
	share(&s, B, SH_TAKE, TOK(0, 0));
	share(&s, B, SH_OFFER(0, 0, 0), Y_ALL);			/* shared: refused */
	ctl(&s, C_FREE(B, 0, 1));				/* one reference */
	share(&s, B, SH_STAT, 0);
	share(&s, A, SH_LOAN(1), LOAN(3, 8));
	share(&s, A, SH_STAT, 0);
	share(&s, B, SH_TAKE, TOK(0, 0));
	share(&s, A, SH_CANCEL, TOK(0, 0));			/* taken: released */
	share(&s, A, SH_FREE_ALL, 0);				/* its references */
	share(&s, B, SH_FREE_ALL, 0);
	share(&s, A, SH_STAT, 0);
	save("fuzz_proto", "share-two-takers", &s);

	/* Cancel: nobody took it (the blocks come back; a take then hears
	 * ECANCELED), or one of two takers did (the pin goes). */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello(&s, A, "", 1);
	hello(&s, B, "", 1);
	share(&s, A, SH_LOAN(2), LOAN(3, 0));
	share(&s, A, SH_CANCEL, TOK(0, 0));
	share(&s, A, SH_CANCEL, TOK(5, 0));			/* again: ENOENT */
	share(&s, B, SH_TAKE, TOK(0, 0));			/* ECANCELED */
	share(&s, A, SH_STAT, 0);
	share(&s, A, SH_OFFER(2, 0, 0), Y_ALL);
	share(&s, B, SH_TAKE, TOK(0, 0));
	share(&s, B, SH_CANCEL, TOK(0, 0));			/* not its own: ENOENT */
	share(&s, A, SH_CANCEL, TOK(0, 0));
	share(&s, B, SH_STAT, 0);
	share(&s, B, SH_FREE_ALL, 0);
	share(&s, A, SH_LOAN(0), LOAN(2, 9));			/* one taker, keep */
	share(&s, A, SH_CANCEL, TOK(0, 0));			/* back, keep's reference gone */
	share(&s, A, SH_FREE_ALL, 0);
	save("fuzz_proto", "share-cancel", &s);

	/* The giver dies with offers open: a take hears EOWNERDEAD, the
	 * blocks go back to the pool, a shared block taken before stays
	 * with its taker. */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello(&s, A, "", 1);
	hello(&s, B, "", 1);
	share(&s, A, SH_LOAN(0), LOAN(5, 0));
	share(&s, A, SH_LOAN(3), LOAN(2, 8));
	share(&s, B, SH_TAKE, TOK(0, 0));
	share(&s, A, SH_DIE, 0);
	share(&s, B, SH_TAKE, TOK(1, 1));			/* EOWNERDEAD */
	share(&s, B, SH_TAKE, TOK(0, 0));			/* EALREADY (it did) */
	share(&s, B, SH_STAT, 0);
	ctl(&s, C_HELLO(A, 1));
	share(&s, A, SH_TAKE, TOK(6, 0));			/* EOWNERDEAD */
	share(&s, B, SH_FREE_ALL, 0);
	ctl(&s, C_ADMIN(B, 6));					/* verify */
	share(&s, B, SH_LOAN(1), LOAN(2, 6));
	ctl(&s, C_SHUT(B));					/* dying, then gone */
	share(&s, A, SH_TAKE, TOK(0, 0));
	save("fuzz_proto", "share-death", &s);

	/* Tokens: flipped, of a wrong length, random, replayed, raw garbage,
	 * another pool's. */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello(&s, A, "", 1);
	hello(&s, B, "small", 1);
	share(&s, A, SH_LOAN(0), LOAN(2, 0));
	share(&s, B, SH_TAKE, TOK(0, 0));			/* another pool: ENOENT */
	ctl(&s, C_RECONNECT(B));
	ctl(&s, C_HELLO(B, 1));
	for (unsigned arg = 0; arg < 32; arg += 5)
		share(&s, B, SH_TAKE, TOK(2, arg));
	for (unsigned arg = 0; arg < 4; arg++) {
		share(&s, B, SH_TAKE, TOK(3, arg));
		share(&s, A, SH_CANCEL, TOK(3, arg));
	}
	share(&s, B, SH_TAKE, TOK(4, 9));
	share(&s, A, SH_CANCEL, TOK(4, 9));
	share(&s, B, SH_TAKE, TOK(0, 0));
	share(&s, B, SH_TAKE, TOK(5, 0));
	share(&s, A, SH_CANCEL, TOK(5, 0));
	tok_raw(&s, B, 1, junk, 16);
	tok_raw(&s, B, 1, junk, 3);
	tok_raw(&s, A, 0, junk, 16);
	tok_raw(&s, A, 0, NULL, 0);
	share(&s, B, SH_FREE_ALL, 0);
	save("fuzz_proto", "share-tokens", &s);

	/* Offers refused: blocks not its own (another's, listed twice, of
	 * another order, under its open offer), shares above the limit, keep
	 * on a hand-off, loans without a count, too large, beside a pfn; a
	 * free of blocks under offer (EBUSY for the giver, EPERM for another). */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello(&s, A, "", 1);
	hello(&s, B, "", 1);
	alloc(&s, A, 2, 3, 0);
	alloc(&s, B, 0, 2, 0);
	share(&s, A, SH_OFFER(0, 0, 0), Y_OTHERS);
	share(&s, A, SH_OFFER(0, 0, 0), Y_TWICE);
	share(&s, A, SH_OFFER(0, 0, 3), Y_ALL);
	share(&s, A, SH_OFFER(3, 0, 0), Y_ALL);
	share(&s, A, SH_OFFER(1, 1, 0), Y_FIRST);
	share(&s, A, SH_OFFER(0, 0, 0), Y_ALL);			/* under offer: EBUSY */
	ctl(&s, C_FREE(A, 0, 0));				/* EBUSY */
	ctl(&s, C_FREE(B, 1, 0));				/* EPERM */
	share(&s, A, SH_FREE_ALL, 0);
	for (unsigned how = 10; how < 16; how++)
		share(&s, B, SH_LOAN(how & 7), LOAN(2, how));
	share(&s, B, SH_OFFER_ALL(0, 0), 0);
	share(&s, B, SH_STAT, 0);
	offer_raw(&s, B, NULL, 0, NULL, 0, 11, 0, 0, 1);	/* order 11 */
	offer_raw(&s, B, pfns4, 4, NULL, 0, 0, 0, 0, 4);	/* count beside pfns */
	offer_raw(&s, B, NULL, 0, NULL, 0, 0, 0, 0, 0);		/* nothing */
	save("fuzz_proto", "share-refused", &s);

	/* FEATURE_RUNS: offers as runs, loans and takes answered in runs,
	 * runs refused without the feature and malformed with it. */
	memset(&s, 0, sizeof(s));
	put1(&s, 8 | S_HELLO_RUNS);
	ctl(&s, C_HELLO(A, 1));
	ctl(&s, C_HELLO(B, 1));
	alloc(&s, A, 2, 40, 0);
	share(&s, A, SH_OFFER(0, 0, 1), Y_ALL);
	share(&s, B, SH_TAKE, TOK(0, 0));
	share(&s, B, SH_OFFER(2, 1, 2), Y_ALL);
	share(&s, A, SH_TAKE, TOK(0, 0));
	share(&s, A, SH_LOAN(0), LOAN(16, 4));
	share(&s, B, SH_TAKE, TOK(0, 0));
	offer_raw(&s, B, NULL, 0, (const uint32_t[]){ 0, 3 }, 3, 0, 0, 0, 0);	/* odd */
	offer_raw(&s, B, NULL, 0, (const uint32_t[]){ 0, 0 }, 2, 0, 0, 0, 0);	/* empty run */
	offer_raw(&s, B, NULL, 0, (const uint32_t[]){ 0xfffffc00u, 2 }, 2, 10, 0, 0, 0);
	offer_raw(&s, B, NULL, 0, (const uint32_t[]){ 0, 300 }, 2, 0, 0, 0, 0);	/* E2BIG */
	share(&s, A, SH_FREE_ALL, 0);
	share(&s, B, SH_FREE_ALL, 0);
	save("fuzz_proto", "share-runs", &s);

	/* Quotas (pool small: 64 pages a connection), then max_offers (64 open
	 * offers a connection, in pool default). */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello(&s, A, "small", 1);
	hello(&s, B, "small", 1);
	share(&s, A, SH_LOAN(3), LOAN(16, 0));			/* 128 pages: EDQUOT */
	share(&s, A, SH_LOAN(3), LOAN(6, 9));
	share(&s, B, SH_LOAN(3), LOAN(6, 0));
	share(&s, A, SH_TAKE, TOK(0, 0));			/* EDQUOT */
	share(&s, B, SH_TAKE, TOK(1, 1));
	share(&s, A, SH_DIE, 0);
	ctl(&s, C_HELLO(A, 1));					/* pool default */
	for (unsigned i = 0; i < 66; i++)
		share(&s, A, SH_LOAN(0), LOAN(1, 0));
	share(&s, A, SH_STAT, 0);
	share(&s, B, SH_TAKE, TOK(0, 0));
	share(&s, A, SH_LOAN(0), LOAN(1, 0));
	save("fuzz_proto", "share-limits", &s);

	/* Backpressure: B stops reading with takes and frees in flight while
	 * A cancels, offers again and dies; then B reads. */
	memset(&s, 0, sizeof(s));
	put1(&s, 8);
	hello(&s, A, "", 1);
	hello(&s, B, "", 1);
	share(&s, A, SH_LOAN(0), LOAN(8, 6));
	share(&s, A, SH_LOAN(1), LOAN(4, 0));
	ctl(&s, C_TOGGLE_READ(B));
	for (int i = 0; i < 40; i++)
		share(&s, B, SH_TAKE, TOK(4, 1));
	share(&s, B, SH_TAKE, TOK(1, 1));
	share(&s, B, SH_TAKE, TOK(0, 0));
	share(&s, A, SH_CANCEL, TOK(1, 1));
	share(&s, A, SH_CANCEL, TOK(0, 0));
	share(&s, B, SH_FREE_ALL, 0);
	share(&s, A, SH_DIE, 0);
	ctl(&s, C_TOGGLE_READ(B));
	share(&s, B, SH_STAT, 0);
	save("fuzz_proto", "share-backpressure", &s);
}

/* fuzz_core: shape, tunables, then operations (fuzz_core.c: the switch). */
enum { OP_ALLOC = 0, OP_FREE = 3, OP_RELEASE = 5, OP_DRAIN = 6, OP_MODE = 7,
       OP_PCP = 8, OP_OFFLINE = 9, OP_ONLINE = 10, OP_TRIM = 11 };

static void core_seeds(void)
{
	struct seed s;

	for (unsigned shape = 0; shape < 64; shape += 7) {
		char name[64];

		memset(&s, 0, sizeof(s));
		put1(&s, shape);
		put1(&s, shape % 8);
		for (unsigned o = 0; o < 4; o++) {
			/* alloc: owner, order, count, flags */
			put(&s, (unsigned char[]){ OP_ALLOC, o, o * 3 % 11, 3 + o, o == 2 ? 6 : 0 }, 5);
			put(&s, (unsigned char[]){ OP_ALLOC, o, 0, 20, 0 }, 5);
		}
		/* free: owner, n, kind, pos, arg (2), picks... */
		for (unsigned k = 0; k < 10; k++)
			put(&s, (unsigned char[]){ OP_FREE, k % 4, 2, k, 1, k, 0, k, k + 1, k + 2 }, 10);
		put(&s, (unsigned char[]){ OP_DRAIN, shape % 4, 1 }, 3);
		put(&s, (unsigned char[]){ OP_OFFLINE, 0, 1, 0 }, 4);
		put(&s, (unsigned char[]){ OP_FREE, 0, 7, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 }, 15);
		put(&s, (unsigned char[]){ OP_OFFLINE, 0, 1, 0 }, 4);
		put(&s, (unsigned char[]){ OP_PCP, 8, 0, 4, 0 }, 5);
		put(&s, (unsigned char[]){ OP_MODE, 2 }, 2);
		put(&s, (unsigned char[]){ OP_DRAIN, 3, 0 }, 3);
		put(&s, (unsigned char[]){ OP_ONLINE, 0, 1, 0 }, 4);
		put(&s, (unsigned char[]){ OP_RELEASE, 1 }, 2);
		put(&s, (unsigned char[]){ OP_TRIM }, 1);
		put(&s, (unsigned char[]){ OP_ALLOC, 3, 10, 0x82, 4 }, 5);
		put(&s, (unsigned char[]){ OP_RELEASE, 3 }, 2);
		put(&s, (unsigned char[]){ OP_TRIM }, 1);
		snprintf(name, sizeof(name), "core-%02u", shape);
		save("fuzz_core", name, &s);
	}
}

/* fuzz_ccache: a setup byte, then operations (fuzz_ccache.c: op_run): a
 * byte, operation | argument << 4, and the bytes it reads. */
enum { CC_WRITE, CC_FIELD, CC_PUT, CC_FILL, CC_PUSH, CC_POP, CC_BEGIN, CC_FINISH, CC_ALLOC,
       CC_FREE, CC_STAT, CC_DIE, CC_CONNECT, CC_CYCLE, CC_COPY, CC_SEQ };
#define CA	0			/* client A, the hostile one */
#define CB	1			/* client B */
#define CC_ORD(c, order)	((c) | (order) << 1)	/* client and order */
#define CC_STAY			8	/* push, pop: stay inside the operation */
#define CC_LIST(rel, order)	((rel) | (order) << 1)	/* A's list: 0 active set, 1 spare */
#define CC_MIXED		8	/* put, fill: B's blocks too */
#define CC_FREE_V(c, v)		((c) | (v) << 1)	/* free: one, all, spill, twice, other's,
							 * +1, raw, every other */
#define CC_LEAVE(c)		((c) | 2)		/* seq: leave (else enter) */

static void cc(struct seed *s, unsigned op, unsigned x)
{
	put1(s, op | x << 4);
}

static void cc1(struct seed *s, unsigned op, unsigned x, unsigned arg)
{
	cc(s, op, x);
	put1(s, arg);
}

/* Both clients take blocks of orders 0..3 (8 each; 4 of order 3 in the
 * quota pool) and push two of each order. */
static void cc_stock(struct seed *s)
{
	for (unsigned c = CA; c <= CB; c++) {
		for (unsigned o = 0; o < 4; o++)
			cc1(s, CC_ALLOC, CC_ORD(c, o), o == 3 ? 3 : 7);
		for (unsigned o = 0; o < 4; o++)
			for (unsigned i = 0; i < 2; i++)
				cc1(s, CC_PUSH, CC_ORD(c, o), i);
	}
}

static void ccache_seeds(void)
{
	struct seed s;

	/* Honest clients: pushes, drains, a push between the halves of one. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	cc_stock(&s);
	cc(&s, CC_CYCLE, CA);
	cc(&s, CC_CYCLE, CB);
	cc(&s, CC_STAT, CA);
	cc(&s, CC_STAT, CB);
	cc1(&s, CC_PUSH, CC_ORD(CA, 0), 3);
	cc(&s, CC_BEGIN, CA);
	cc1(&s, CC_PUSH, CC_ORD(CA, 0), 4);
	cc1(&s, CC_POP, CC_ORD(CA, 0), 0);
	cc1(&s, CC_PUSH, CC_ORD(CA, 1), 4);
	cc(&s, CC_FINISH, CA);
	cc(&s, CC_CYCLE, CA);
	save("fuzz_ccache", "cc-honest", &s);

	/* A lists B's blocks, and its own under the wrong order. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	cc_stock(&s);
	cc1(&s, CC_FILL, CC_LIST(0, 0) | CC_MIXED, 40);
	cc1(&s, CC_PUT, CC_LIST(0, 1) | CC_MIXED, 2);
	cc1(&s, CC_PUT, CC_LIST(0, 1) | CC_MIXED, 9);
	cc(&s, CC_CYCLE, CA);
	cc(&s, CC_STAT, CB);
	cc1(&s, CC_FILL, CC_LIST(0, 2), 30);
	cc1(&s, CC_COPY, CC_LIST(0, 3), CC_LIST(0, 2));
	cc(&s, CC_CYCLE, CA);
	cc(&s, CC_CYCLE, CB);
	save("fuzz_ccache", "cc-steal", &s);

	/* Writes into the old set during its grace period, and to the counts. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	cc_stock(&s);
	cc(&s, CC_BEGIN, CA);
	cc1(&s, CC_FILL, CC_LIST(1, 0) | CC_MIXED, 30);
	cc(&s, CC_FIELD, 4 | 1);			/* old set, order 1: count */
	put(&s, (unsigned char[]){ 0x00, 0x02, 0, 0 }, 4);
	cc(&s, CC_FINISH, CA);
	cc1(&s, CC_PUSH, CC_ORD(CA, 2), 0);
	cc(&s, CC_BEGIN, CA);
	cc(&s, CC_WRITE, 15);
	put(&s, (unsigned char[]){ 0x80, 0 }, 2);
	for (unsigned i = 0; i < 16; i++)
		put1(&s, i * 7);
	cc(&s, CC_FINISH, CA);
	save("fuzz_ccache", "cc-grace-write", &s);

	/* Clients stopped inside an operation: the drain waits, then flushes. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	cc_stock(&s);
	cc1(&s, CC_PUSH, CC_ORD(CA, 0) | CC_STAY, 5);
	cc(&s, CC_BEGIN, CA);
	cc(&s, CC_FINISH, CA);
	cc1(&s, CC_PUSH, CC_ORD(CA, 0), 6);
	cc(&s, CC_FINISH, CA);
	cc(&s, CC_SEQ, CB);
	cc(&s, CC_BEGIN, CB);
	cc(&s, CC_FINISH, CB);
	cc(&s, CC_SEQ, CC_LEAVE(CB));
	cc(&s, CC_FINISH, CB);
	cc(&s, CC_FIELD, 8);				/* A: seq + 1 */
	cc(&s, CC_BEGIN, CA);
	cc(&s, CC_FIELD, 11);				/* seq - 1: back where it was */
	cc(&s, CC_FINISH, CA);
	cc(&s, CC_FIELD, 8);
	cc(&s, CC_FIELD, 8);
	cc(&s, CC_FINISH, CA);
	save("fuzz_ccache", "cc-stuck", &s);

	/* Garbage: counts past the cap, pfns out of range, active and seq. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	cc_stock(&s);
	cc(&s, CC_FIELD, 0);
	put(&s, (unsigned char[]){ 0xff, 0xff, 0xff, 0xff }, 4);
	cc(&s, CC_FIELD, 1);
	put(&s, (unsigned char[]){ 0x00, 0x02, 0, 0 }, 4);
	cc(&s, CC_FIELD, 12 | 2);
	put(&s, (unsigned char[]){ 0, 0xff, 0xff, 0xff, 0xff }, 5);
	cc(&s, CC_FIELD, 12 | 3);
	put(&s, (unsigned char[]){ 1, 0xff, 0x03, 0, 0 }, 5);
	cc(&s, CC_FIELD, 10);
	put(&s, (unsigned char[]){ 7, 0, 0, 0 }, 4);
	cc1(&s, CC_PUSH, CC_ORD(CA, 1), 5);
	cc(&s, CC_CYCLE, CA);
	cc(&s, CC_FIELD, 9);
	put(&s, (unsigned char[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 8);
	cc(&s, CC_CYCLE, CA);
	cc(&s, CC_CYCLE, CA);
	save("fuzz_ccache", "cc-garbage", &s);

	/* Deaths in the middle of a drain; reconnects. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	cc_stock(&s);
	cc(&s, CC_BEGIN, CA);
	cc(&s, CC_DIE, CA);
	cc(&s, CC_CONNECT, CA);
	cc1(&s, CC_ALLOC, CC_ORD(CA, 0), 15);
	cc1(&s, CC_PUSH, CC_ORD(CA, 0), 1);
	cc(&s, CC_SEQ, CB);
	cc(&s, CC_BEGIN, CB);
	cc(&s, CC_DIE, CB);
	cc(&s, CC_CONNECT, CB | 3 << 1);
	cc1(&s, CC_ALLOC, CC_ORD(CB, 1), 3);
	cc1(&s, CC_FILL, CC_LIST(0, 0) | CC_MIXED, 20);
	cc(&s, CC_CYCLE, CA);
	cc(&s, CC_CYCLE, CB);
	save("fuzz_ccache", "cc-death", &s);

	/* CacheMap refused (no feature), twice, before the hello. */
	memset(&s, 0, sizeof(s));
	put1(&s, 0);
	cc(&s, CC_CONNECT, CA | 1 << 1);
	cc1(&s, CC_ALLOC, CC_ORD(CA, 0), 3);
	cc(&s, CC_CYCLE, CA);
	cc1(&s, CC_FREE, CC_FREE_V(CA, 1), 0);
	cc(&s, CC_CONNECT, CA | 2 << 1);
	cc(&s, CC_CONNECT, CB | 3 << 1);
	cc_stock(&s);
	cc(&s, CC_CYCLE, CA);
	save("fuzz_ccache", "cc-connect", &s);

	/* The quota pool: refills refused, frees of every kind with cached blocks. */
	memset(&s, 0, sizeof(s));
	put1(&s, 1);
	cc_stock(&s);
	cc1(&s, CC_ALLOC, CC_ORD(CA, 3), 31);
	cc1(&s, CC_ALLOC, CC_ORD(CB, 0), 31);
	cc1(&s, CC_FREE, CC_FREE_V(CA, 0), 0);		/* a block it also listed */
	cc1(&s, CC_FREE, CC_FREE_V(CA, 2), 0x02);	/* a spill of 2 order-0 entries */
	cc1(&s, CC_FREE, CC_FREE_V(CA, 3), 1);
	cc1(&s, CC_FREE, CC_FREE_V(CA, 4), 1);
	cc1(&s, CC_FREE, CC_FREE_V(CA, 5), 1);
	cc(&s, CC_FREE, CC_FREE_V(CA, 6));
	put(&s, (unsigned char[]){ 0xff, 0x03 }, 2);
	cc(&s, CC_CYCLE, CA);
	cc1(&s, CC_FREE, CC_FREE_V(CB, 7), 0);
	cc(&s, CC_CYCLE, CB);
	cc1(&s, CC_FREE, CC_FREE_V(CA, 1), 0);
	save("fuzz_ccache", "cc-quota", &s);
}

static void mkdir_p(const char *a, const char *b)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s%s", a, b ? "/" : "", b ? b : "");
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "gen_seeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds DIR\n");
		return 2;
	}
	outdir = argv[1];
	mkdir_p(outdir, NULL);
	mkdir_p(outdir, "fuzz_proto");
	mkdir_p(outdir, "fuzz_core");
	mkdir_p(outdir, "fuzz_ccache");
	proto_seeds();
	runs_seeds();
	share_seeds();
	core_seeds();
	ccache_seeds();
	printf("gen_seeds: %u seeds in %s\n", nseeds, outdir);
	return 0;
}
