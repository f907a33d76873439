/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_proto.c - libFuzzer target for pagepoold's two protocols: arbitrary
 * bytes into the frame decoder and request dispatcher of client connections
 * (conn.c) and admin connections (admin.c), served by a real in-process
 * daemon: a struct daemon built from a real configuration file, real pools,
 * real workers (worker_create: an event base each, no thread; two when the
 * process may use two CPUs, so clients land on different workers and pcps)
 * and the admin module on an event base of its own.  Connections are
 * socketpairs handed over as pagepoold's accept path does
 * (server_accept_client, then the worker's eventfd; admin_accept); the
 * harness holds the peer ends, writes the input into them, and reads and
 * decodes everything the daemon sends.  That daemon, its connections and
 * its event loops are tests/fuzz/fuzzdaemon.c's, shared with fuzz_ccache.
 *
 * Input: one setup byte (bits 0-2: which configuration file a `reload`
 * reads; bit 3: connect client B at once; bits 4-5: what the harness's
 * hellos ask for - nothing, FEATURE_RUNS, every bit, FEATURE_RUNS and an
 * unknown bit; bits 6-7: how its frees carry their blocks - a list, runs,
 * a list then runs, runs of the wrong order), then chunks.  A chunk
 * header's top two bits pick a stream - client A, client B, admin - or a control
 * operation; for a stream the low five bits are a length (bit 5 set: a second
 * byte extends it) and that many bytes follow.  Control operations
 * half-close or reconnect a stream, stop or resume reading a stream's
 * answers (backpressure), run the idle decay, or have the harness send a
 * well-formed request built from what the daemon answered so far (free the
 * pfns it handed out - all, one, twice, another client's, a tail, out of
 * range - offline/online the block they live in, drain, verify, reload,
 * hello, a Free in runs spoilt one way or another).  A chunk header of 0x00
 * (client A) or 0x40 (B), which would be an empty chunk, is a share
 * operation instead, two bytes x and y following (share_op): an Offer of
 * what the client was last given (hand-off or shared, keep, as a list or
 * runs, with a block not its own or listed twice), a loan (an Offer with a
 * count: fresh blocks, offered at once), a Take or a Cancel of a token it
 * picks from the ones the daemon gave (pick_token: known, one byte
 * flipped, the wrong length, random, its last one replayed, another
 * connection's), a stat, the client's death (its connection closes with
 * its offers open), an offer of all its blocks of one order, a free of all
 * it holds.  After each chunk the event loops run, non-blocking, until
 * nothing moves.  tests/fuzz/decode-proto-input.py prints an input.
 *
 * Oracles, each of which aborts:
 *  - every frame the daemon sends decodes; every whole request gets exactly
 *    one answer, in order, echoing its id; a framing error gets one last
 *    answer with id 0 and then the close; the daemon closes a connection
 *    only after a framing error or the client's half-close, and always then;
 *  - the welcome, and only the welcome, brings the arena's descriptor (in
 *    the read that brings its first byte), and grants exactly FEATURE_RUNS
 *    and (in a pool with client caches) FEATURE_CACHE of the features its
 *    hello asked for; a CacheMapped answer likewise brings its region's; Pages hold aligned, distinct
 *    pfns inside the pool, as runs only on a connection granted them, and
 *    then exactly when runs are at most half as long as the list;
 *    Freed and Stat agree with the pages the answers handed out;
 *  - a Free gets the status its shape calls for (unknown fields, before
 *    hello, too many pfns, runs not granted, runs malformed, no blocks);
 *    one that reaches the pool, its blocks counted pfns first and then
 *    runs expanded, succeeds exactly when every block is one this
 *    connection holds (by its own answers) as its own or by reference,
 *    listed once, and frees their pages; else it blames the first block
 *    that is not (one that is not, when the list names a block under an
 *    offer or shared: check_free says why);
 *  - the model of offers (struct moffer, built from the answers alone):
 *    an Offer gets the status its shape calls for, or succeeds exactly
 *    when every block is the client's own, of its order, listed once (else
 *    it blames the first that is not) and the limits allow, with a 16-byte
 *    token never seen before; a loan's blocks are fresh; a Take gets the
 *    offer's blocks in its order (own for a hand-off, by reference for a
 *    shared offer) while it is open and not the taker's, EALREADY once used
 *    up or taken by this connection, ECANCELED, EOWNERDEAD after its
 *    giver's death, EINVAL for the giver or a token of the wrong length,
 *    ENOENT for a token never given or another pool's; a Cancel succeeds
 *    exactly for an open offer of this connection, the blocks nobody took
 *    coming back; Stat's held, refs and my_offered are the model's.  An
 *    answer that raced another stream's (both in flight) is held to what
 *    either order allows;
 *  - an admin `verify` finds every pool ok; a reload of the unchanged file
 *    changes nothing (unless a set-pcp came first: the file's values win);
 *  - after every chunk, the connections open and quiet: pool_verify() with
 *    exactly the connections' owners (the share table checked with them),
 *    free buddies merged, allocated equal to what the clients hold as
 *    their own plus the blocks under hand-off offers plus the shared
 *    blocks, and so the pcps' allocated - freed counters, each uid quota
 *    equal to what its connections are charged; with no answer owed, the
 *    model equal to the daemon: the union of the connections' own blocks,
 *    their references and the open offers is the pool's allocated count,
 *    every open offer and every connection's blocks, references and
 *    offers are the daemon's (check_model);
 *  - once the peers close, every connection goes away and returns every
 *    page: no connection, slot or quota charge is left; with the admin-side
 *    state (offline ranges, tunables, drain mode) put back, every pool
 *    verifies with no owner at all, has every page free and merged into
 *    whole max-order blocks, and no offer open or block shared.
 *
 * One daemon state for the whole process; per input only the connections,
 * the run-time tunables an input may change, the offline ranges and the
 * model of offers are reset (the daemon's ring of closed tokens is not:
 * tokens are random, an input never meets an older input's).  QSBR: this thread is a registered reader, offline except inside
 * worker callbacks (worker_enter/worker_leave), so the admin side may wait
 * for grace periods.  A workqueue drain kicks a worker: the kick runs that
 * worker's event loop at once, which services the request.
 * FUZZ_PROTO_DEBUG=1 turns the daemon's debug log on, and prints every
 * client answer, to follow a reproducer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "daemon.h"
#include "decay.h"
#include "fuzzdaemon.h"
#include "fuzzutil.h"
#include "log.h"
#include "wire.h"
#include "worker.h"

#define die fuzz_die		/* fuzzdaemon.c: every oracle's failure */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ST_A, ST_B, ST_ADMIN, NSTREAMS };
#define NCONFIGS	8
#define MAX_PFNS	1024
#define MAX_WANT	16384
#define F_RUNS		PAGEPOOL__V1__FEATURE__FEATURE_RUNS
#define F_CACHE		PAGEPOOL__V1__FEATURE__FEATURE_CACHE
#define MAX_POOL_PAGES	4096		/* the largest pool of the configurations */

/* What a Free sent calls for, whatever its fate (free_shape, check_free). */
struct free_shape {
	bool unknown;			/* fields the daemon does not know */
	bool over;			/* more pfns than max_count */
	bool runs;			/* runs or a run_order: FEATURE_RUNS only */
	int shape;			/* 0, or the errno its runs call for */
	uint64_t blocks;		/* pfns + blocks of the runs (shape 0) */
	size_t list;			/* shape 0, not over: the byte of the stream's
					 * fq[] where its blocks, runs expanded, start */
};

/* What an Offer sent calls for (offer_shape, check_offer). */
struct offer_shape {
	int pre;			/* 0, or the errno its fields call for before
					 * any block list is read (EPROTO: unknown) */
	size_t npfns;			/* its pfns (bad_index when not about one block) */
	bool runs;			/* runs: FEATURE_RUNS only (EPROTO) */
	int rshape;			/* 0, or the errno its runs call for */
	bool loan;			/* no pfns, no runs: count fresh blocks */
	unsigned order, shares, count;
	bool keep;
	uint64_t blocks;		/* not a loan: pfns + blocks of the runs */
	size_t list;			/* ... in fq[] from this byte (as a Free's) */
};

/* The token of a Take or Cancel sent (tok_shape, check_take, check_cancel). */
struct tok_shape {
	bool unknown;			/* fields the daemon does not know */
	size_t len;			/* its length */
	int idx;			/* the offer it names (mo[]), or -1 */
};

/*
 * An offer some fuzz connection made, as the answers tell it (the model of
 * the share table): made by an Offered answer, taken by Taken answers,
 * closed by a Cancelled answer or the death of its giver's connection.
 * uncertain: an answer that would say what became of it will never be read
 * (its taker or canceller died with the request in flight); the next quiet
 * moment reads its fate from the daemon's table (share_resync).
 */
enum mo_state { MO_OPEN, MO_TAKEN, MO_CANCELLED, MO_GONE };

struct moffer {
	uint8_t tok[SHARE_TOKEN_SIZE];
	struct pool *pool;
	unsigned giver, gen;		/* stream and its connection (stream.gen) */
	uint64_t giver_cid;		/* its client id (Taken.giver); 0: unknown */
	uint32_t *pfns;			/* the blocks, in the giver's order */
	unsigned n, order, shares, taken;
	bool keep, uncertain;
	enum mo_state state;
	uint32_t takers[64];		/* stream << 24 | gen of each taker (shares) */
};

struct stream {
	int peer;			/* our end of the socketpair; -1: none */
	bool admin;
	bool reading;			/* read what the daemon sends (else backpressure) */
	bool shut;			/* we half-closed */
	bool gone;			/* the daemon closed its end */
	uint8_t *out;			/* bytes not yet written to the daemon */
	size_t out_len, out_cap;
	uint8_t *in;			/* bytes read, not yet a whole frame */
	size_t in_len, in_cap;
	bool refused;			/* turned away at accept (max_connections) */
	/* Requests sent and not answered yet, in order (a ring of ids). */
	uint8_t *tx;			/* bytes sent, not yet a whole frame */
	size_t tx_len, tx_cap;
	bool tx_failed;			/* a framing error was sent: nothing after counts */
	bool fail_answered;		/* ... and its last response came */
	uint64_t want[MAX_WANT];
	int want_kind[MAX_WANT];	/* the request's body_case */
	bool want_fail[MAX_WANT];	/* the framing error itself: answered with id 0 */
	bool want_unknown[MAX_WANT];	/* an admin request's fields the daemon does
					 * not know: refused, whatever its body */
	uint32_t want_features[MAX_WANT];	/* a hello's: what it asked for */
	struct free_shape want_free[MAX_WANT];	/* a Free's */
	unsigned want_head, want_tail;
	/* What the daemon told this client. */
	char pool[64];
	uint32_t npages;		/* of the pool joined; 0 before the welcome */
	uint32_t pfns[MAX_PFNS];	/* the last Pages answer */
	unsigned npfns, order;
	uint64_t held;			/* pages: Pages answers minus Freed answers */
	uint32_t features;		/* granted by the welcome */
	/* The blocks this connection holds, from its own answers alone (no one
	 * else frees them): own[pfn] is 1 + the order of a block starting at
	 * pfn, cover[] marks each of its pages. */
	uint8_t own[MAX_POOL_PAGES], cover[MAX_POOL_PAGES];
	uint8_t *fq;			/* the blocks of the Frees in flight, */
	size_t fq_len, fq_cap;		/* as uint32_t: bytes */
	/* Offers, takes and cancels in flight, and the answers that came while
	 * another stream had requests in flight (their order against that
	 * stream's is not known: judged by what may have happened). */
	struct offer_shape want_offer[MAX_WANT];
	struct tok_shape want_tok[MAX_WANT];
	bool want_racy[MAX_WANT];
	/* Blocks held by reference, and under this connection's open offers
	 * (1 + order, by first pfn, as own[]); cover[] marks the pages of all
	 * three kinds. */
	uint8_t ref[MAX_POOL_PAGES], offd[MAX_POOL_PAGES];
	uint64_t refpages;		/* pages held by reference */
	unsigned gen;			/* connections opened on this stream */
	int dfd;			/* the daemon's end of the socketpair */
	bool released;			/* the model let go of this connection */
	/* The welcome's memfd must come with the read of the welcome's first byte. */
	uint64_t rx_seen;		/* bytes received so far */
	uint64_t rx_decoded;		/* bytes of whole frames decoded so far */
	uint64_t fd_from, fd_to;	/* bytes of the read that brought a descriptor */
	bool fd_waiting;		/* ... which no welcome has claimed yet */
};

static struct daemon d;
static struct worker **W;		/* d.workers: one per CPU we may use, at most two */
static unsigned nw;
static struct config base_cfg;
static int base_high[CONFIG_MAX_POOLS], base_batch[CONFIG_MAX_POOLS];
static char tmpdir[64];
static char cfg_path[NCONFIGS][128];
static struct stream st[NSTREAMS];
static uint64_t req_id, moved;
static unsigned cfg_variant;
static bool pcp_set;			/* this input sent a set-pcp */
static uint32_t hello_features;		/* what the harness's hellos ask for */
static unsigned free_form;		/* how the harness's frees carry their blocks */
static enum log_level log_level_run;	/* err; debug with FUZZ_PROTO_DEBUG */
/* The model of the offers (struct moffer), reset for every input. */
static struct moffer *mo;
static unsigned nmo, mo_cap, nuncertain;
static uint8_t last_tok[32];		/* the harness's last Take's or Cancel's token */
static size_t last_tok_len;
static bool have_last_tok;
static uint64_t tok_rng;		/* random tokens (pick_token) */

/*
 * The daemon's offer tokens come from getrandom(2) (conn_share.c), which
 * this target links wrapped (fuzz.mk: -Wl,--wrap=getrandom): its bytes come
 * from a counter instead, never reset, so that no two tokens of a process
 * are alike (the daemon remembers closed ones across inputs) and the same
 * inputs in the same order take the same paths on every run (a token's
 * hash bucket decides how long a chain the daemon walks).
 */
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags)
{
	static uint64_t x = 0x70a3e4c1u;

	(void)flags;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy((uint8_t *)buf + i, &z, len - i < 8 ? len - i : 8);
	}
	return (ssize_t)len;
}

static void buf_add(uint8_t **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (*len + n > *cap) {
		size_t c = *cap ? *cap : 4096;

		while (c < *len + n)
			c *= 2;
		*buf = realloc(*buf, c);
		if (!*buf)
			die("out of memory");
		*cap = c;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
}

/* ---- configuration files ---- */

/*
 * The running configuration (variant 0) and what `reload` may find instead:
 * 1, 2, 6 change run-time tunables, 3 and 7 need a restart, 4 is invalid,
 * 5 does not exist.  Small limits keep the edges near: max_connections = 2
 * turns away a reconnect made while the other client is on (its predecessor
 * not gone yet) and fills the quota table with two (pool, uid) pairs;
 * max_output = 8192 makes backpressure a few answers away.
 */
static void config_write(unsigned v, const char *path, const char *cpus)
{
	FILE *f;

	if (v == 5)
		return;
	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "[daemon]\n"
		"socket = %s/pagepool.sock\n"
		"admin_socket = %s/admin.sock\n"
		"workers = %s\n"
		"log_level = err\n"
		"drain_mode = %s\n"
		"max_frame = 4096\n"
		"max_count = %d\n"
		"max_connections = 2\n"
		"max_output = 8192\n"
		"decay_interval = %d\n"
		"write_timeout = %d\n",
		tmpdir, tmpdir, cpus, v == 1 ? "spinlock" : v == 2 ? "workqueue" : "rcu",
		v == 7 ? 128 : 256, v == 6 ? 1 : 0, v == 1 ? 60 : 30);
	if (v == 4)
		fprintf(f, "no_such_key = 1\n");
	fprintf(f, "\n[pool default]\nsize = %s\n%s\n", v == 3 ? "12M" : "8M",
		v == 1 ? "pcp_high = 0" : v == 2 ? "pcp_high = 4096\npcp_batch = 63" : "");
	fprintf(f, "\n[pool small]\nsize = 4M\n%s\nquota_pages = %d\nquota_uid_pages = %d\n",
		v == 6 ? "pcp_high = 1\npcp_batch = 1" : "", v == 2 ? 0 : 64, v == 2 ? 8 : 100);
	fprintf(f, "\n[pool locked]\nsize = 4M\ngroups = nogroup\n");
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

static void cleanup(void)
{
	for (unsigned v = 0; v < NCONFIGS; v++)
		unlink(cfg_path[v]);
	rmdir(tmpdir);
}

/* ---- streams ---- */

static struct pool *pool_named(const char *name)
{
	for (unsigned i = 0; i < d.cfg.npools; i++)
		if (strcmp(d.pools[i]->name, name) == 0)
			return d.pools[i];
	return NULL;
}

static const char *stream_name(const struct stream *s)
{
	static const char *const names[NSTREAMS] = { "client A", "client B", "admin" };

	return names[s - st];
}

/*
 * A frame the harness sent: a request wants an answer echoing its id (a
 * zero-length frame is a request too: id 0, no body); a framing error (above
 * max_frame, or not decoding) wants one last answer with id 0, after which
 * nothing more is read.
 */
static unsigned want_push(struct stream *s, uint64_t id, int kind, bool fail)
{
	unsigned i = s->want_tail % MAX_WANT;

	if (s->want_tail - s->want_head == MAX_WANT)
		die("%s: too many requests in flight", stream_name(s));
	s->want[i] = id;
	s->want_kind[i] = kind;
	s->want_fail[i] = fail;
	s->want_unknown[i] = false;
	s->want_features[i] = 0;
	memset(&s->want_free[i], 0, sizeof(s->want_free[i]));
	memset(&s->want_offer[i], 0, sizeof(s->want_offer[i]));
	s->want_tok[i].idx = -1;
	s->want_racy[i] = false;
	s->want_tail++;
	if (fail)
		s->tx_failed = true;
	return i;
}

/*
 * Append the blocks of a request to s->fq in the order bad_index counts
 * them: pfns, then each run (first, n) of 2^run_order steps expanded.
 * Returns the byte where they start.  The shape was checked first.
 */
static size_t fq_add(struct stream *s, const uint32_t *pfns, size_t npfns, const uint32_t *runs,
		     size_t nruns, unsigned run_order)
{
	size_t at = s->fq_len;

	buf_add(&s->fq, &s->fq_len, &s->fq_cap, pfns, npfns * sizeof(uint32_t));
	for (size_t i = 0; i + 1 < nruns; i += 2)
		for (uint32_t j = 0; j < runs[i + 1]; j++) {
			uint32_t pfn = runs[i] + (j << run_order);

			buf_add(&s->fq, &s->fq_len, &s->fq_cap, &pfn, sizeof(pfn));
		}
	return at;
}

/*
 * The shape of a Free as conn_req.c's handle_free and conn_free_list must
 * judge it, before any block is looked at: pfns above max_count, then
 * (with runs or a run_order) an odd runs list or a run_order above
 * PP_MAX_ORDER, then run by run an empty one or one past 2^32 (EINVAL) or
 * one that takes the blocks above max_count (E2BIG); none at all is EINVAL.
 */
static void free_shape(struct stream *s, const Pagepool__V1__Request *q, struct free_shape *fs)
{
	const Pagepool__V1__Free *f = q->free;
	uint64_t total = f->n_pfns;

	fs->unknown = wire_has_unknown_fields(&q->base);
	fs->over = f->n_pfns > d.cfg.max_count;
	fs->runs = f->n_runs || f->run_order;
	fs->shape = 0;
	if (fs->runs && (f->n_runs % 2 || f->run_order > PP_MAX_ORDER))
		fs->shape = EINVAL;
	for (size_t i = 0; fs->runs && !fs->shape && i < f->n_runs; i += 2) {
		uint64_t first = f->runs[i], n = f->runs[i + 1];

		if (n == 0 || first + ((n - 1) << f->run_order) > UINT32_MAX)
			fs->shape = EINVAL;
		else if ((total += n) > d.cfg.max_count)
			fs->shape = E2BIG;
	}
	if (!fs->shape && total == 0)
		fs->shape = EINVAL;
	fs->blocks = total;
	if (fs->shape || fs->over)
		return;
	fs->list = fq_add(s, f->pfns, f->n_pfns, f->runs, f->n_runs, f->run_order);
}

/*
 * The shape of an Offer as conn_share.c's conn_offer must judge it, in its
 * order, before any block is looked at (pagepool.proto, Offer): an order
 * above PP_MAX_ORDER, shares above max_offer_shares, keep without shares,
 * a loan (no pfns, no runs) without a count or a count beside blocks
 * (EINVAL); more pfns than max_count, or a loan of more blocks (E2BIG);
 * then its runs, whose step is the blocks' order, judged as a Free's are
 * (EPROTO without FEATURE_RUNS, which the answer knows; an odd list, an
 * empty run or one past 2^32: EINVAL; past max_count: E2BIG).  A list of
 * pfns alone needs no feature, whatever its order.
 */
static void offer_shape(struct stream *s, const Pagepool__V1__Request *q, struct offer_shape *os)
{
	const Pagepool__V1__Offer *of = q->offer;
	uint64_t total = of->n_pfns;

	os->loan = of->n_pfns == 0 && of->n_runs == 0;
	os->order = of->order;
	os->shares = of->shares;
	os->keep = of->keep;
	os->count = of->count;
	os->runs = of->n_runs != 0;
	os->npfns = of->n_pfns;
	if (wire_has_unknown_fields(&q->base))
		os->pre = EPROTO;
	else if (of->order > PP_MAX_ORDER || of->shares > d.cfg.max_offer_shares ||
		 (of->keep && !of->shares) || os->loan != (of->count != 0))
		os->pre = EINVAL;
	else if (of->n_pfns > d.cfg.max_count || (os->loan && of->count > d.cfg.max_count))
		os->pre = E2BIG;
	if (os->pre || os->loan)
		return;
	if (of->n_runs % 2)
		os->rshape = EINVAL;
	for (size_t i = 0; !os->rshape && i < of->n_runs; i += 2) {
		uint64_t first = of->runs[i], n = of->runs[i + 1];

		if (n == 0 || first + ((n - 1) << of->order) > UINT32_MAX)
			os->rshape = EINVAL;
		else if ((total += n) > d.cfg.max_count)
			os->rshape = E2BIG;
	}
	os->blocks = total;
	if (!os->rshape)
		os->list = fq_add(s, of->pfns, of->n_pfns, of->runs, of->n_runs, of->order);
}

/* The offer of the model whose token is tok[0..len), or -1. */
static int mo_find(const uint8_t *tok, size_t len)
{
	if (len != SHARE_TOKEN_SIZE)
		return -1;
	for (unsigned i = 0; i < nmo; i++)
		if (memcmp(mo[i].tok, tok, SHARE_TOKEN_SIZE) == 0)
			return (int)i;
	return -1;
}

/* A Take's or Cancel's token: its length and the offer it names. */
static void tok_shape(const Pagepool__V1__Request *q, const ProtobufCBinaryData *tok,
		      struct tok_shape *ts)
{
	ts->unknown = wire_has_unknown_fields(&q->base);
	ts->len = tok->len;
	ts->idx = mo_find(tok->data, tok->len);
}

static void tx_parse(struct stream *s)
{
	uint32_t max = s->admin ? 4096 : d.cfg.max_frame;	/* admin.c: ADMIN_MAX_FRAME */
	size_t off = 0;

	while (!s->tx_failed && s->tx_len - off >= WIRE_HDR) {
		uint32_t len = wire_frame_len(s->tx + off);
		ProtobufCMessage *m;

		if (len > max) {
			want_push(s, 0, 0, true);
			break;
		}
		if (s->tx_len - off - WIRE_HDR < len)
			break;
		m = protobuf_c_message_unpack(s->admin ? &pagepool__v1__admin_request__descriptor
					      : &pagepool__v1__request__descriptor, NULL, len,
					      s->tx + off + WIRE_HDR);
		if (m && s->admin) {
			const Pagepool__V1__AdminRequest *q = (const Pagepool__V1__AdminRequest *)m;

			/* set-pcp is undone by a reload of the file: see check_admin_frame */
			if (q->body_case == PAGEPOOL__V1__ADMIN_REQUEST__BODY_SET_PCP)
				pcp_set = true;
			s->want_unknown[want_push(s, q->id, (int)q->body_case, false)] =
				wire_has_unknown_fields(m);
		} else if (m) {
			const Pagepool__V1__Request *q = (const Pagepool__V1__Request *)m;
			unsigned i = want_push(s, q->id, (int)q->body_case, false);

			if (q->body_case == PAGEPOOL__V1__REQUEST__BODY_HELLO)
				s->want_features[i] = q->hello->features;
			else if (q->body_case == PAGEPOOL__V1__REQUEST__BODY_FREE)
				free_shape(s, q, &s->want_free[i]);
			else if (q->body_case == PAGEPOOL__V1__REQUEST__BODY_OFFER)
				offer_shape(s, q, &s->want_offer[i]);
			else if (q->body_case == PAGEPOOL__V1__REQUEST__BODY_TAKE)
				tok_shape(q, &q->take->token, &s->want_tok[i]);
			else if (q->body_case == PAGEPOOL__V1__REQUEST__BODY_CANCEL)
				tok_shape(q, &q->cancel->token, &s->want_tok[i]);
		} else {
			want_push(s, 0, 0, true);
		}
		if (m)
			protobuf_c_message_free_unpacked(m, NULL);
		off += WIRE_HDR + len;
	}
	memmove(s->tx, s->tx + off, s->tx_len - off);
	s->tx_len -= off;
}

/* An answer came: it must be the next one owed, echoing its request's id.
 * Returns the request's body_case (0 for a framing error); *slot (may be
 * NULL) its place in the ring, valid until the next request is sent. */
static int want_pop(struct stream *s, uint64_t id, int status, unsigned *slot)
{
	unsigned i = s->want_head % MAX_WANT;

	if (s->want_head == s->want_tail)
		die("%s: an answer (id %lu, status %d) nobody asked for", stream_name(s),
		    (unsigned long)id, status);
	if (s->fail_answered)
		die("%s: an answer after the framing error's last word", stream_name(s));
	if (s->want_fail[i]) {
		if (id != 0 || (status != EPROTO && status != E2BIG))
			die("%s: framing error answered with id %lu status %d", stream_name(s),
			    (unsigned long)id, status);
		s->fail_answered = true;
	} else if (id != s->want[i]) {
		die("%s: answer for id %lu, the next request owed is id %lu", stream_name(s),
		    (unsigned long)id, (unsigned long)s->want[i]);
	}
	s->want_head++;
	if (slot)
		*slot = i;
	return s->want_fail[i] ? 0 : s->want_kind[i];
}

/* OK answers carry the body their request calls for; errors carry none. */
static void check_client_body(const struct stream *s, int kind, const Pagepool__V1__Response *r)
{
	int want;

	switch (kind) {
	case PAGEPOOL__V1__REQUEST__BODY_HELLO: want = PAGEPOOL__V1__RESPONSE__BODY_WELCOME; break;
	case PAGEPOOL__V1__REQUEST__BODY_ALLOC: want = PAGEPOOL__V1__RESPONSE__BODY_PAGES; break;
	case PAGEPOOL__V1__REQUEST__BODY_FREE: want = PAGEPOOL__V1__RESPONSE__BODY_FREED; break;
	case PAGEPOOL__V1__REQUEST__BODY_STAT: want = PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT; break;
	case PAGEPOOL__V1__REQUEST__BODY_OFFER: want = PAGEPOOL__V1__RESPONSE__BODY_OFFERED; break;
	case PAGEPOOL__V1__REQUEST__BODY_TAKE: want = PAGEPOOL__V1__RESPONSE__BODY_TAKEN; break;
	case PAGEPOOL__V1__REQUEST__BODY_CANCEL: want = PAGEPOOL__V1__RESPONSE__BODY_CANCELLED; break;
	case PAGEPOOL__V1__REQUEST__BODY_CACHE_MAP: want = PAGEPOOL__V1__RESPONSE__BODY_CACHE_MAPPED; break;
	default: want = -1;		/* no body, or a framing error: only an error will do */
	}
	if (r->status == 0 ? (int)r->body_case != want
			   : r->body_case != PAGEPOOL__V1__RESPONSE__BODY__NOT_SET)
		die("%s: request kind %d answered with status %d and body %d", stream_name(s), kind,
		    r->status, r->body_case);
}

/* How many run numbers (two a run) blocks p[0..n) make, a run going on
 * while the next block is `step` pages on (conn_req.c conn_pages_runs). */
static size_t runs_len(const uint32_t *p, size_t n, uint32_t step)
{
	size_t k = 0;

	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && p[j] == p[j - 1] + step)
			j++;
		k += 2;
		i = j;
	}
	return k;
}

/*
 * An answer's blocks (Pages, a loan's Offered, Taken) into out[] (room for
 * max_count): pfns, then runs expanded.  Runs only where granted, pairs of
 * n >= 1; 1..max_count blocks, aligned, in the pool; where runs are
 * granted, the answer is in runs exactly when they are at most half as
 * long as the list, and then they are maximal (one form or the other,
 * never both).  Returns how many.
 */
static size_t blocks_expand(const struct stream *s, const char *what, const uint32_t *pfns,
			    size_t npfns, const uint32_t *runs, size_t nruns, unsigned order,
			    uint32_t *out)
{
	uint64_t total = npfns;
	uint32_t step;
	size_t k = 0;

	if (nruns && !(s->features & F_RUNS))
		die("%s: %s answer with %zu run numbers, runs not granted", stream_name(s), what,
		    nruns);
	if (nruns % 2)
		die("%s: %s answer with an odd runs list (%zu)", stream_name(s), what, nruns);
	for (size_t i = 1; i < nruns; i += 2) {
		if (runs[i] == 0)
			die("%s: %s answer with an empty run", stream_name(s), what);
		total += runs[i];
	}
	if (order > PP_MAX_ORDER || total == 0 || total > d.cfg.max_count || !s->npages)
		die("%s: %s answer: order %u, %zu pfns and %zu run numbers (%lu blocks), pool of %u "
		    "pages", stream_name(s), what, order, npfns, nruns, (unsigned long)total,
		    s->npages);
	step = 1u << order;
	for (size_t i = 0; i < npfns; i++)
		out[k++] = pfns[i];
	for (size_t i = 0; i < nruns; i += 2) {
		for (uint32_t j = 0; j < runs[i + 1]; j++) {
			uint64_t pfn = (uint64_t)runs[i] + (uint64_t)j * step;

			if (pfn >= s->npages)
				die("%s: %s answer: run %zu (%u, %u) of order %u leaves the pool of %u "
				    "pages", stream_name(s), what, i / 2, runs[i], runs[i + 1], order,
				    s->npages);
			out[k++] = (uint32_t)pfn;
		}
	}
	for (size_t i = 0; i < k; i++)
		if (out[i] >= s->npages || s->npages - out[i] < step || out[i] & (step - 1))
			die("%s: %s answer: pfn %u of order %u in a pool of %u pages", stream_name(s),
			    what, out[i], order, s->npages);
	if (s->features & F_RUNS) {
		size_t len = runs_len(out, k, step);

		if ((npfns && nruns) || (nruns ? nruns != len || len > k / 2 : len <= k / 2))
			die("%s: %s answer of %zu blocks as %zu pfns and %zu run numbers; as runs "
			    "they take %zu numbers", stream_name(s), what, k, npfns, nruns, len);
	}
	return k;
}

/* ---- the model of offers, takes and shared blocks ---- */

static bool stream_dying(const struct stream *s)
{
	return s->peer >= 0 && !s->gone && !s->released && (s->shut || s->tx_failed);
}

/* Does another client stream have requests in flight? */
static bool others_in_flight(const struct stream *s)
{
	for (unsigned k = ST_A; k <= ST_B; k++)
		if (&st[k] != s && st[k].peer >= 0 && !st[k].refused &&
		    st[k].want_head != st[k].want_tail)
			return true;
	return false;
}

/* What the other client streams have in flight may be answered on either
 * side of what s just saw. */
static void others_racy(const struct stream *s)
{
	for (unsigned k = ST_A; k <= ST_B; k++)
		for (unsigned i = st[k].want_head; &st[k] != s && i != st[k].want_tail; i++)
			st[k].want_racy[i % MAX_WANT] = true;
}

/* The connection of s (found by the daemon's end of its socketpair), or NULL. */
static struct conn *stream_conn(const struct stream *s)
{
	return s->peer < 0 || s->refused ? NULL : fuzzd_conn(&d, s->dfd);
}

/* Pages of the block at pfn in cover[]: held as s's own, by reference, or
 * under its open offer. */
static void cover_refresh(struct stream *s, uint32_t pfn, unsigned order)
{
	memset(&s->cover[pfn], s->own[pfn] || s->ref[pfn] || s->offd[pfn], 1u << order);
}

/* Is the model's offer of's giver the connection now on stream g? */
static bool mo_gives(const struct moffer *of, const struct stream *g)
{
	return &st[of->giver] == g && of->gen == g->gen && !g->released;
}

static bool mo_taken_by(const struct moffer *of, const struct stream *s)
{
	uint32_t id = (uint32_t)(s - st) << 24 | (s->gen & 0xffffff);

	for (unsigned i = 0; i < of->taken && i < 64; i++)
		if (of->takers[i] == id)
			return true;
	return false;
}

static void mo_uncertain(struct moffer *of)
{
	if (!of->uncertain)
		nuncertain++;
	of->uncertain = true;
}

/* The offer closes: its blocks leave its giver's offers (if the giver's
 * connection is still the one that made it). */
static void mo_close(struct moffer *of, enum mo_state why)
{
	struct stream *g = &st[of->giver];
	bool was_open = of->state == MO_OPEN;

	of->state = why;
	if (!was_open || !mo_gives(of, g))
		return;
	for (unsigned j = 0; j < of->n; j++) {
		g->offd[of->pfns[j]] = 0;
		cover_refresh(g, of->pfns[j], of->order);
	}
}

/* A new open offer of s (an Offered answer): its blocks are under it, and
 * with keep s also holds a reference to each. */
static void mo_add(struct stream *s, const ProtobufCBinaryData *tok, const uint32_t *pfns,
		   size_t n, unsigned order, unsigned shares, bool keep)
{
	const struct conn *c = stream_conn(s);
	struct moffer *of;

	if (nmo == mo_cap) {
		mo_cap = mo_cap ? mo_cap * 2 : 64;
		mo = realloc(mo, mo_cap * sizeof(*mo));
		if (!mo)
			die("out of memory");
	}
	of = &mo[nmo++];
	memset(of, 0, sizeof(*of));
	memcpy(of->tok, tok->data, SHARE_TOKEN_SIZE);
	of->pool = pool_named(s->pool);
	of->giver = (unsigned)(s - st);
	of->gen = s->gen;
	of->giver_cid = c ? c->id : 0;
	of->pfns = malloc(n * sizeof(*pfns));
	if (!of->pfns)
		die("out of memory");
	memcpy(of->pfns, pfns, n * sizeof(*pfns));
	of->n = (unsigned)n;
	of->order = order;
	of->shares = shares;
	of->keep = keep;
	of->state = MO_OPEN;
	for (size_t j = 0; j < n; j++) {
		s->offd[pfns[j]] = (uint8_t)(order + 1);
		if (keep) {
			s->ref[pfns[j]] = (uint8_t)(order + 1);
			s->refpages += 1u << order;
		}
		cover_refresh(s, pfns[j], order);
	}
}

static void mo_reset(void)
{
	for (unsigned i = 0; i < nmo; i++)
		free(mo[i].pfns);
	nmo = nuncertain = 0;
	have_last_tok = false;
}

/* Open offers of the connection on s, and their pages. */
static unsigned mo_open_of(const struct stream *s, uint64_t *pages)
{
	unsigned n = 0;

	*pages = 0;
	for (unsigned i = 0; i < nmo; i++)
		if (mo[i].state == MO_OPEN && mo_gives(&mo[i], s)) {
			n++;
			*pages += (uint64_t)mo[i].n << mo[i].order;
		}
	return n;
}

/* Pools with page quotas (config_write: "small"): an Alloc, a loan, a keep
 * or a Take there may be answered EDQUOT. */
static bool pool_quotas(const struct stream *s)
{
	return strcmp(s->pool, "small") == 0;
}

/* Is block pfn, to the model, under an offer or shared (so that a Free
 * naming it goes through share_free, which blames in two passes)? */
static bool mo_share_space(uint32_t pfn)
{
	for (unsigned k = ST_A; k <= ST_B; k++)
		if (pfn < MAX_POOL_PAGES && (st[k].ref[pfn] || st[k].offd[pfn]))
			return true;
	return false;
}

/*
 * The connection on s is gone (we closed it, or the daemon did after a
 * framing error or our half-close): what it held goes back, its open offers
 * close (a take then hears EOWNERDEAD).  A Take or Cancel whose answer will
 * never be read leaves its offer's fate unknown until the next quiet
 * moment (share_resync); what the other streams have in flight may have
 * met the death on either side.
 */
static void stream_release(struct stream *s)
{
	if (s->admin || s->released)
		return;
	for (unsigned i = s->want_head; i != s->want_tail; i++) {
		unsigned j = i % MAX_WANT;

		if ((s->want_kind[j] == PAGEPOOL__V1__REQUEST__BODY_TAKE ||
		     s->want_kind[j] == PAGEPOOL__V1__REQUEST__BODY_CANCEL) && s->want_tok[j].idx >= 0)
			mo_uncertain(&mo[s->want_tok[j].idx]);
	}
	others_racy(s);
	for (unsigned i = 0; i < nmo; i++)
		if (mo[i].state == MO_OPEN && mo_gives(&mo[i], s))
			mo_close(&mo[i], MO_GONE);
	s->released = true;
	s->held = s->refpages = 0;
	memset(s->own, 0, sizeof(s->own));
	memset(s->ref, 0, sizeof(s->ref));
	memset(s->offd, 0, sizeof(s->offd));
	memset(s->cover, 0, sizeof(s->cover));
}

/* ---- the daemon's share table, read at quiet moments ---- */

static struct share_offer *daemon_offer(struct pool *pool, const uint8_t *tok)
{
	struct share *sh = &pool->share;
	uint64_t t[2];

	memcpy(t, tok, sizeof(t));
	for (uint32_t i = 0; i < sh->noffer_slots; i++)
		if (sh->offers[i].giver && sh->offers[i].tok[0] == t[0] && sh->offers[i].tok[1] == t[1])
			return &sh->offers[i];
	return NULL;
}

/* Why the daemon remembers offer tok closed (enum share_closed), or
 * SHARE_OPEN when its ring has forgotten it. */
static enum share_closed daemon_tomb(struct pool *pool, const uint8_t *tok)
{
	struct share *sh = &pool->share;
	uint64_t t[2];

	memcpy(t, tok, sizeof(t));
	for (unsigned i = 0; i < SHARE_TOMBSTONES; i++)
		if (sh->tombs[i].why != SHARE_OPEN && sh->tombs[i].tok[0] == t[0] &&
		    sh->tombs[i].tok[1] == t[1])
			return (enum share_closed)sh->tombs[i].why;
	return SHARE_OPEN;
}

/* ---- the answers ---- */

/*
 * A Pages answer: its blocks become what s was last given, its own.  None
 * over a block this connection holds (unless the answer raced another
 * stream's, or an offer's fate is unknown: a block s gave away may be back).
 */
static void check_pages(struct stream *s, const Pagepool__V1__Pages *p, bool racy)
{
	size_t k = blocks_expand(s, "pages", p->pfns, p->n_pfns, p->runs, p->n_runs, p->order,
				 s->pfns);
	uint32_t step = 1u << p->order;

	for (size_t i = 0; i < k; i++) {
		for (uint32_t j = 0; j < step && !racy && !nuncertain; j++)
			if (s->cover[s->pfns[i] + j])
				die("%s: pages answer: block %u of order %u over page %u, already "
				    "held", stream_name(s), s->pfns[i], p->order, s->pfns[i] + j);
		s->own[s->pfns[i]] = (uint8_t)(p->order + 1);
		cover_refresh(s, s->pfns[i], p->order);
	}
	s->npfns = (unsigned)k;
	s->order = p->order;
	s->held += (uint64_t)k << p->order;
}

/*
 * The answer to a Free of shape fs: the status the shape calls for, with
 * no bad_index; or, for one that reaches the pool (its blocks in
 * s->fq[fs->list]), success when every block is one this connection holds
 * as its own or by reference, listed once, freeing exactly their pages
 * (then they are no longer held); or a per-block status (EBUSY: under its
 * open offer) naming a block that is not such a one: the first, unless a
 * block of the list is under an offer or shared (share_free checks those
 * after the others), or the answer raced another stream's.
 */
static void check_free(struct stream *s, const struct free_shape *fs,
		       const Pagepool__V1__Response *r, bool racy)
{
	static uint8_t seen[MAX_POOL_PAGES];
	const uint32_t *list;
	uint64_t own = 0, refs = 0;
	size_t first, i;
	bool strict = !racy && !nuncertain && !stream_dying(&st[ST_A]) && !stream_dying(&st[ST_B]);
	int want = -1;

	if (fs->unknown || !s->npages)
		want = EPROTO;
	else if (fs->over)
		want = E2BIG;
	else if (fs->runs && !(s->features & F_RUNS))
		want = EPROTO;
	else if (fs->shape)
		want = fs->shape;
	if (want >= 0) {
		if ((int)r->status != want || r->bad_index)
			die("%s: free (%s%s%s, shape %d) answered status %d bad_index %u \"%s\", "
			    "expected status %d", stream_name(s), fs->unknown ? "unknown fields, " : "",
			    fs->over ? "too many pfns, " : "", fs->runs ? "runs" : "no runs",
			    fs->shape, r->status, r->bad_index, r->error, want);
		return;
	}
	list = (const uint32_t *)(s->fq + fs->list);
	if (r->status != 0 && ((r->status != EINVAL && r->status != EALREADY &&
				r->status != EPERM && r->status != EBUSY) ||
			       r->bad_index >= fs->blocks))
		die("%s: free of %lu blocks answered status %d (\"%s\") bad_index %u",
		    stream_name(s), (unsigned long)fs->blocks, r->status, r->error, r->bad_index);
	/* The first block that is not s's to free: not held, or listed again. */
	for (first = fs->blocks, i = 0; i < fs->blocks; i++) {
		uint32_t b = list[i];

		if (b < s->npages && mo_share_space(b))
			strict = false;
		if (first == fs->blocks && (b >= s->npages || seen[b] || (!s->own[b] && !s->ref[b])))
			first = i;
		if (b < s->npages)
			seen[b] = 1;
	}
	for (i = 0; i < fs->blocks; i++)
		if (list[i] < s->npages)
			seen[list[i]] = 0;
	if (first == fs->blocks && r->status != 0)
		die("%s: free of %lu blocks it holds, each listed once, answered %d \"%s\" "
		    "(bad_index %u)", stream_name(s), (unsigned long)fs->blocks, r->status, r->error,
		    r->bad_index);
	if (first < fs->blocks) {
		uint32_t b = list[r->bad_index];
		bool bad = b >= s->npages || (!s->own[b] && !s->ref[b]);

		if (r->status == 0)
			die("%s: free freed block %zu, pfn %u, which it does not hold (or lists "
			    "twice)", stream_name(s), first, list[first]);
		for (i = 0; i < r->bad_index && !bad; i++)
			bad = list[i] == b;
		if (strict ? r->bad_index != first : !bad)
			die("%s: free (status %d \"%s\") blamed block %u, pfn %u, %s; the first it "
			    "may not free is block %zu, pfn %u", stream_name(s), r->status, r->error,
			    r->bad_index, b, bad ? "which it may not free" : "which it holds",
			    first, list[first]);
		return;
	}
	for (i = 0; i < fs->blocks; i++) {
		uint32_t b = list[i];
		unsigned o = (s->own[b] ? s->own[b] : s->ref[b]) - 1u;

		if (s->own[b])
			own += 1ull << o;
		else
			refs += 1ull << o;
		s->own[b] = s->ref[b] = 0;
		cover_refresh(s, b, o);
	}
	if (r->freed->pages != own + refs)
		die("%s: free of %lu blocks holding %lu pages (%lu by reference) answered freed %lu",
		    stream_name(s), (unsigned long)fs->blocks, (unsigned long)(own + refs),
		    (unsigned long)refs, (unsigned long)r->freed->pages);
	s->held -= own;
	s->refpages -= refs;
}

/* The token of an Offered answer: 16 bytes. */
static void check_token(const struct stream *s, const Pagepool__V1__Offered *od)
{
	if (od->token.len != SHARE_TOKEN_SIZE || !od->token.data)
		die("%s: offered with a token of %zu bytes", stream_name(s), od->token.len);
	if (mo_find(od->token.data, od->token.len) >= 0)
		die("%s: offered with a token the daemon gave before", stream_name(s));
}

/*
 * An offer refused EDQUOT, or not: it must be when the connection has
 * max_offers open (unless the answer raced, or an offer's fate is
 * unknown); it may be in a pool with quotas when it asks for pages (a loan,
 * keep's references).
 */
static void check_offer_quota(const struct stream *s, const Pagepool__V1__Response *r,
			      bool charged, bool racy)
{
	uint64_t pages;
	bool full = mo_open_of(s, &pages) >= d.cfg.max_offers;

	if (racy || nuncertain)
		return;
	if (full && r->status != EDQUOT)
		die("%s: offer with %u offers open (max_offers) answered %d \"%s\"", stream_name(s),
		    d.cfg.max_offers, r->status, r->error);
	if (!full && r->status == EDQUOT && !(charged && pool_quotas(s)))
		die("%s: offer answered EDQUOT \"%s\" with %u of %u offers open, no quota asked",
		    stream_name(s), r->error, mo_open_of(s, &pages), d.cfg.max_offers);
}

/* A loan: count fresh blocks, under the new offer at once. */
static void check_loan(struct stream *s, const struct offer_shape *os,
		       const Pagepool__V1__Response *r, bool racy)
{
	const Pagepool__V1__Offered *od = r->offered;
	size_t k;

	check_offer_quota(s, r, true, racy);
	if ((r->status == ENOMEM || r->status == EDQUOT) &&
	    (r->bad_index == 0 || (r->status == EDQUOT && r->bad_index == os->count)))
		return;
	if (r->status != 0)
		die("%s: loan of %u order-%u blocks answered %d \"%s\"", stream_name(s), os->count,
		    os->order, r->status, r->error);
	check_token(s, od);
	k = blocks_expand(s, "loan", od->pfns, od->n_pfns, od->runs, od->n_runs, os->order,
			  s->pfns);
	if (k != os->count || od->pages != (uint64_t)k << os->order)
		die("%s: loan of %u order-%u blocks answered %zu blocks, %lu pages", stream_name(s),
		    os->count, os->order, k, (unsigned long)od->pages);
	for (size_t i = 0; i < k && !racy && !nuncertain; i++)
		for (uint32_t j = 0; j < 1u << os->order; j++)
			if (s->cover[s->pfns[i] + j])
				die("%s: loan answer: block %u of order %u over page %u, already held",
				    stream_name(s), s->pfns[i], os->order, s->pfns[i] + j);
	mo_add(s, &od->token, s->pfns, k, os->order, os->shares, os->keep);
	s->npfns = (unsigned)k;
	s->order = os->order;
}

/*
 * The answer to an Offer of shape os: the status its shape calls for, with
 * no bad_index; a loan (check_loan); or, for blocks it names (in
 * s->fq[os->list]), success when every one is s's own, of the offer's
 * order, listed once (and the offer limits allow), else a per-block status
 * naming the first that is not (offer_check goes through them in order).
 * The contract (pagepool.h) says EINVAL for every such block; the daemon
 * tells them apart as a Free does (EALREADY, EPERM, EBUSY under its open
 * offer), which is let pass here.
 */
static void check_offer(struct stream *s, const struct offer_shape *os,
			const Pagepool__V1__Response *r, bool racy)
{
	static uint8_t seen[MAX_POOL_PAGES];
	const Pagepool__V1__Offered *od = r->offered;
	const uint32_t *list;
	size_t first, i;
	int want = -1;

	if (os->pre == EPROTO || !s->npages)
		want = EPROTO;
	else if (os->pre)
		want = os->pre;
	else if (os->runs && !(s->features & F_RUNS))
		want = EPROTO;
	else if (os->rshape)
		want = os->rshape;
	if (want >= 0) {
		/* Not about one block: bad_index is the number of pfns (pagepool.h),
		 * unless the request never reached the offer code. */
		uint32_t bad = os->pre == EPROTO || !s->npages ? 0 : (uint32_t)os->npfns;

		if ((int)r->status != want || r->bad_index != bad)
			die("%s: offer (order %u, shares %u, keep %d, %s%s) answered status %d "
			    "bad_index %u \"%s\", expected status %d bad_index %u", stream_name(s),
			    os->order, os->shares, os->keep, os->loan ? "a loan" : "blocks",
			    os->runs ? " with runs" : "", r->status, r->bad_index, r->error, want, bad);
		return;
	}
	if (os->loan) {
		check_loan(s, os, r, racy);
		return;
	}
	list = (const uint32_t *)(s->fq + os->list);
	for (first = os->blocks, i = 0; i < os->blocks; i++) {
		uint32_t b = list[i];

		if (first == os->blocks &&
		    (b >= s->npages || seen[b] || s->own[b] != os->order + 1))
			first = i;
		if (b < s->npages)
			seen[b] = 1;
	}
	for (i = 0; i < os->blocks; i++)
		if (list[i] < s->npages)
			seen[list[i]] = 0;
	if (first < os->blocks) {
		if ((r->status != EINVAL && r->status != EALREADY && r->status != EPERM &&
		     r->status != EBUSY) || r->bad_index != first)
			die("%s: offer of %lu order-%u blocks answered %d \"%s\" bad_index %u; block "
			    "%zu (pfn %u) is the first not its own of that order, listed once",
			    stream_name(s), (unsigned long)os->blocks, os->order, r->status, r->error,
			    r->bad_index, first, list[first]);
		return;
	}
	check_offer_quota(s, r, os->keep, racy);
	if (r->status == EDQUOT && r->bad_index == os->blocks)
		return;
	if (r->status != 0)
		die("%s: offer of %lu of its own order-%u blocks answered %d \"%s\" (bad_index %u)",
		    stream_name(s), (unsigned long)os->blocks, os->order, r->status, r->error,
		    r->bad_index);
	check_token(s, od);
	if (od->pages != os->blocks << os->order || od->n_pfns || od->n_runs)
		die("%s: offer of %lu order-%u blocks answered %lu pages, %zu pfns, %zu run "
		    "numbers", stream_name(s), (unsigned long)os->blocks, os->order,
		    (unsigned long)od->pages, od->n_pfns, od->n_runs);
	for (i = 0; i < os->blocks; i++)
		s->own[list[i]] = 0;
	s->held -= os->blocks << os->order;
	mo_add(s, &od->token, list, os->blocks, os->order, os->shares, os->keep);
}

/* Take and Cancel refused by their shape: 0, or the status it calls for. */
static int tok_want(const struct stream *s, const struct tok_shape *ts)
{
	if (ts->unknown || !s->npages)
		return EPROTO;
	return ts->len != SHARE_TOKEN_SIZE ? EINVAL : 0;
}

/* What a Take of offer of by s hears, to the model (-1: the blocks, or
 * EDQUOT in a pool with quotas). */
static int take_want(const struct stream *s, const struct moffer *of)
{
	if (!of || of->pool != pool_named(s->pool))
		return ENOENT;
	switch (of->state) {
	case MO_TAKEN:
		return EALREADY;
	case MO_CANCELLED:
		return ECANCELED;
	case MO_GONE:
		return EOWNERDEAD;
	default:
		if (mo_gives(of, s))
			return EINVAL;
		return of->shares && mo_taken_by(of, s) ? EALREADY : -1;
	}
}

/* A Taken answer: the offer's blocks, in its order, as s's own (a
 * hand-off, which closes it) or by reference. */
static void take_apply(struct stream *s, struct moffer *of, const Pagepool__V1__Taken *tk)
{
	size_t k = blocks_expand(s, "taken", tk->pfns, tk->n_pfns, tk->runs, tk->n_runs,
				 tk->order, s->pfns);

	if (k != of->n || tk->order != of->order ||
	    memcmp(s->pfns, of->pfns, k * sizeof(uint32_t)) != 0)
		die("%s: taken: %zu order-%u blocks from pfn %u; the offer has %u order-%u blocks "
		    "from pfn %u", stream_name(s), k, tk->order, s->pfns[0], of->n, of->order,
		    of->pfns[0]);
	if (tk->shared != (of->shares != 0) || (of->giver_cid && tk->giver != of->giver_cid))
		die("%s: taken: shared %d giver %lu; the offer: shares %u, giver %lu",
		    stream_name(s), tk->shared, (unsigned long)tk->giver, of->shares,
		    (unsigned long)of->giver_cid);
	for (size_t j = 0; j < k; j++) {
		if (of->shares)
			s->ref[of->pfns[j]] = (uint8_t)(of->order + 1);
		else
			s->own[of->pfns[j]] = (uint8_t)(of->order + 1);
		cover_refresh(s, of->pfns[j], of->order);
	}
	if (of->shares) {
		s->refpages += (uint64_t)k << of->order;
		if (of->taken < 64)
			of->takers[of->taken] = (uint32_t)(s - st) << 24 | (s->gen & 0xffffff);
		if (++of->taken >= of->shares)
			mo_close(of, MO_TAKEN);
	} else {
		s->held += (uint64_t)k << of->order;
		mo_close(of, MO_TAKEN);
	}
	s->npfns = (unsigned)k;
	s->order = of->order;
}

/*
 * The answer to a Take: the status its shape calls for; for a token the
 * model never saw (random, spoilt, another pool's), ENOENT; else what the
 * offer's state calls for (take_want), or - when the answer raced another
 * stream's, the offer's fate is unknown or its giver is dying - any of the
 * answers a take may get (for the giver's own take, EINVAL too).  A token the daemon's ring of closed offers has
 * forgotten is ENOENT.
 */
static void check_take(struct stream *s, const struct tok_shape *ts,
		       const Pagepool__V1__Response *r, bool racy)
{
	struct moffer *of = ts->idx >= 0 ? &mo[ts->idx] : NULL;
	int want = tok_want(s, ts);
	bool lenient;

	if (want) {
		if ((int)r->status != want)
			die("%s: take (token of %zu bytes) answered %d \"%s\", expected %d",
			    stream_name(s), ts->len, r->status, r->error, want);
		return;
	}
	want = take_want(s, of);
	if (want == ENOENT) {
		if (r->status != ENOENT)
			die("%s: take of a token %s answered %d \"%s\"", stream_name(s),
			    of ? "of another pool" : "never given", r->status, r->error);
		return;
	}
	lenient = racy || of->uncertain ||
		  (mo_gives(of, &st[of->giver]) && stream_dying(&st[of->giver]));
	if (r->status == 0) {
		if (mo_gives(of, s) || (of->shares && mo_taken_by(of, s)))
			die("%s: took %s", stream_name(s), mo_gives(of, s) ? "its own offer" :
			    "a shared offer it took before");
		if (want != -1 && !lenient)
			die("%s: took an offer whose take should hear %d", stream_name(s), want);
		take_apply(s, of, r->taken);
		return;
	}
	if ((int)r->status == want || (r->status == EDQUOT && pool_quotas(s)))
		return;
	if (r->status == ENOENT && of->state != MO_OPEN &&
	    daemon_tomb(of->pool, of->tok) == SHARE_OPEN)
		return;		/* the ring forgot it */
	/* Racing, the daemon may have served the take before or after the
	 * offer closed: its giver hears EINVAL (its own offer, still open)
	 * as well as how it closed. */
	if (lenient && (r->status == EALREADY || r->status == ECANCELED ||
			r->status == EOWNERDEAD || (r->status == EINVAL && mo_gives(of, s))))
		return;
	die("%s: take of an offer (state %d, shares %u, taken %u) answered %d \"%s\", expected %d",
	    stream_name(s), of->state, of->shares, of->taken, r->status, r->error, want);
}

/*
 * The answer to a Cancel: the status its shape calls for; success exactly
 * for an open offer of this connection: taken by nobody, its blocks come
 * back as s's own (returned, keep's references go), else its pin goes
 * (released); ENOENT for anything else.
 */
static void check_cancel(struct stream *s, const struct tok_shape *ts,
			 const Pagepool__V1__Response *r, bool racy)
{
	struct moffer *of = ts->idx >= 0 ? &mo[ts->idx] : NULL;
	const Pagepool__V1__Cancelled *cd = r->cancelled;
	bool mine = of && mo_gives(of, s);
	int want = tok_want(s, ts);
	uint64_t pages;

	if (want) {
		if ((int)r->status != want)
			die("%s: cancel (token of %zu bytes) answered %d \"%s\", expected %d",
			    stream_name(s), ts->len, r->status, r->error, want);
		return;
	}
	if (r->status != 0) {
		if (r->status != ENOENT ||
		    (mine && of->state == MO_OPEN && !racy && !of->uncertain))
			die("%s: cancel of %s answered %d \"%s\"", stream_name(s),
			    mine && of->state == MO_OPEN ? "its open offer" : "no open offer of its own",
			    r->status, r->error);
		return;
	}
	if (!mine || (of->state != MO_OPEN && !racy && !of->uncertain))
		die("%s: cancelled %s", stream_name(s), mine ? "a closed offer" :
		    "an offer that is not its own");
	pages = (uint64_t)of->n << of->order;
	if (!racy && !of->uncertain ? cd->takers != of->taken ||
				      cd->returned != (of->taken ? 0 : pages) ||
				      cd->released != (of->taken ? pages : 0)
				    : !((cd->takers == 0 && cd->returned == pages && !cd->released) ||
					(cd->takers && !cd->returned && cd->released == pages)))
		die("%s: cancel of an offer of %lu pages taken %u times answered returned %lu "
		    "released %lu takers %u", stream_name(s), (unsigned long)pages, of->taken,
		    (unsigned long)cd->returned, (unsigned long)cd->released, cd->takers);
	mo_close(of, MO_CANCELLED);
	if (!cd->returned)
		return;
	/* keep: the references s still holds go (it may have freed some). */
	for (unsigned j = 0; j < of->n; j++) {
		s->own[of->pfns[j]] = (uint8_t)(of->order + 1);
		if (of->keep && s->ref[of->pfns[j]]) {
			s->ref[of->pfns[j]] = 0;
			s->refpages -= 1u << of->order;
		}
		cover_refresh(s, of->pfns[j], of->order);
	}
	s->held += pages;
}

static void check_client_frame(struct stream *s, const uint8_t *body, uint32_t len)
{
	Pagepool__V1__Response *r = pagepool__v1__response__unpack(NULL, len, body);
	unsigned slot = 0;
	bool racy;
	int kind;

	if (!r)
		die("%s: the daemon sent a frame of %u bytes that does not decode",
		    stream_name(s), len);
	kind = want_pop(s, r->id, r->status, &slot);
	if (log_level_run == LOG_LVL_DEBUG)
		fprintf(stderr, "fuzz_proto: %s: request %lu (kind %d) answered %d%s%s\n",
			stream_name(s), (unsigned long)r->id, kind, r->status, *r->error ? ": " : "",
			r->error);
	check_client_body(s, kind, r);
	/* Another stream's requests in flight may have been served on either
	 * side of this one. */
	racy = s->want_racy[slot] || others_in_flight(s);
	if (others_in_flight(s))
		others_racy(s);
	if (kind == PAGEPOOL__V1__REQUEST__BODY_FREE)
		check_free(s, &s->want_free[slot], r, racy);
	else if (kind == PAGEPOOL__V1__REQUEST__BODY_OFFER)
		check_offer(s, &s->want_offer[slot], r, racy);
	else if (kind == PAGEPOOL__V1__REQUEST__BODY_TAKE)
		check_take(s, &s->want_tok[slot], r, racy);
	else if (kind == PAGEPOOL__V1__REQUEST__BODY_CANCEL)
		check_cancel(s, &s->want_tok[slot], r, racy);
	if (s->want_head == s->want_tail)
		s->fq_len = 0;		/* no Free or Offer in flight */
	/* A CacheMap's answer brings the cache region's memfd, as the welcome
	 * brings the arena's (the harness maps neither: clients here never
	 * cache, so a drain of their regions has nothing to free). */
	if (r->body_case == PAGEPOOL__V1__RESPONSE__BODY_CACHE_MAPPED) {
		if (!s->fd_waiting || s->rx_decoded < s->fd_from || s->rx_decoded >= s->fd_to ||
		    !(s->features & F_CACHE))
			die("%s: CacheMapped (byte %lu) without its descriptor, or not granted",
			    stream_name(s), (unsigned long)s->rx_decoded);
		s->fd_waiting = false;
	}
	if (r->body_case == PAGEPOOL__V1__RESPONSE__BODY_WELCOME) {
		const Pagepool__V1__Welcome *w = r->welcome;
		struct pool *pool = pool_named(w->pool);
		int pidx = config_pool_index(&d.cfg, w->pool);
		uint32_t known = F_RUNS | (pidx >= 0 && d.cfg.pools[pidx].cache_high ? F_CACHE : 0);

		/* s->rx_decoded is where this frame starts; the read that brought the
		 * descriptor may also have brought frames before it, never after. */
		if (!s->fd_waiting || s->rx_decoded < s->fd_from || s->rx_decoded >= s->fd_to)
			die("%s: the welcome (byte %lu) came without the arena's descriptor%s",
			    stream_name(s), (unsigned long)s->rx_decoded,
			    s->fd_waiting ? " (it came with other bytes)" : "");
		s->fd_waiting = false;

		if (!pool || w->arena_size != pool->arena.size ||
		    w->page_size != pool->arena.page_size || w->max_count != d.cfg.max_count)
			die("welcome to pool \"%s\" does not describe it", w->pool);
		if (pool->npages > MAX_POOL_PAGES)
			die("pool %s: %u pages, more than the harness tracks", w->pool,
			    pool->npages);
		/* Of the features asked for, exactly those this daemon knows (the
		 * cache only in a pool that caches). */
		if (w->features != (s->want_features[slot] & known))
			die("%s: hello asking features %#x granted %#x", stream_name(s),
			    s->want_features[slot], w->features);
		snprintf(s->pool, sizeof(s->pool), "%s", w->pool);
		s->npages = pool->npages;
		s->held = s->refpages = 0;
		s->features = w->features;
	}
	if (r->body_case == PAGEPOOL__V1__RESPONSE__BODY_PAGES) {
		check_pages(s, r->pages, racy);
	} else if (r->body_case == PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT) {
		const Pagepool__V1__PoolStat *ps = r->pool_stat;
		uint64_t offered;

		/* Answered in order, so exactly what this client was given back
		 * (what it has under offer, unless another stream's take raced). */
		mo_open_of(s, &offered);
		if (ps->held != s->held || ps->refs != s->refpages || strcmp(ps->pool, s->pool) != 0 ||
		    (!racy && !nuncertain && ps->my_offered != offered))
			die("%s: stat says %lu pages held, %lu by reference, %lu under offer in pool "
			    "%s; the answers say %lu, %lu, %lu in %s", stream_name(s),
			    (unsigned long)ps->held, (unsigned long)ps->refs,
			    (unsigned long)ps->my_offered, ps->pool, (unsigned long)s->held,
			    (unsigned long)s->refpages, (unsigned long)offered, s->pool);
		if (ps->free + ps->pcp + ps->allocated + ps->isolated + ps->offline != ps->total ||
		    ps->allocated < ps->held + ps->refs || ps->shared > ps->allocated ||
		    ps->offered > ps->allocated || ps->my_offered > ps->offered ||
		    (ps->offered && !ps->offers) || (!ps->offered && ps->offers))
			die("%s: stat of pool %s: total %lu free %lu pcp %lu allocated %lu isolated %lu "
			    "offline %lu held %lu refs %lu shared %lu offered %lu (%lu offers, %lu "
			    "its own)", stream_name(s), ps->pool,
			    (unsigned long)ps->total, (unsigned long)ps->free, (unsigned long)ps->pcp,
			    (unsigned long)ps->allocated, (unsigned long)ps->isolated,
			    (unsigned long)ps->offline, (unsigned long)ps->held, (unsigned long)ps->refs,
			    (unsigned long)ps->shared, (unsigned long)ps->offered,
			    (unsigned long)ps->offers, (unsigned long)ps->my_offered);
	}
	pagepool__v1__response__free_unpacked(r, NULL);
}

static void check_admin_frame(struct stream *s, const uint8_t *body, uint32_t len)
{
	Pagepool__V1__AdminResponse *r = pagepool__v1__admin_response__unpack(NULL, len, body);
	unsigned slot = 0;
	int kind;

	if (!r)
		die("admin: the daemon sent a frame of %u bytes that does not decode", len);
	kind = want_pop(s, r->id, r->status, &slot);
	if (r->body_case == PAGEPOOL__V1__ADMIN_RESPONSE__BODY_VERIFIED)
		for (size_t i = 0; i < r->verified->n_pools; i++)
			if (!r->verified->pools[i]->ok)
				die("admin verify: pool %s: %s", r->verified->pools[i]->name,
				    r->verified->pools[i]->message);
	if (r->body_case == PAGEPOOL__V1__ADMIN_RESPONSE__BODY_RELOADED && cfg_variant == 0 &&
	    !pcp_set && r->reloaded->n_changes != 0)
		die("reload of the unchanged configuration changed %zu things, first: %s",
		    r->reloaded->n_changes, r->reloaded->changes[0]);
	if (kind == PAGEPOOL__V1__ADMIN_REQUEST__BODY_RELOAD && cfg_variant == 0 && r->status != 0 &&
	    !s->want_unknown[slot])
		die("reload of the unchanged configuration refused: %s", r->error);
	pagepool__v1__admin_response__free_unpacked(r, NULL);
}

/* A stream turned away at accept is told why: one answer, id 0, EBUSY
 * (both sockets' answers start with id = 1, status = 2), then EOF. */
static void check_refusal(struct stream *s, const uint8_t *body, uint32_t len)
{
	Pagepool__V1__Response *r = pagepool__v1__response__unpack(NULL, len, body);

	if (!r || r->id != 0 || r->status != EBUSY || s->fail_answered)
		die("%s: turned away at accept, but answered %s", stream_name(s),
		    r ? "something other than one EBUSY" : "a frame that does not decode");
	s->fail_answered = true;
	pagepool__v1__response__free_unpacked(r, NULL);
}

/* Take whole frames off s->in. */
static void stream_decode(struct stream *s)
{
	size_t off = 0;

	while (s->in_len - off >= WIRE_HDR) {
		uint32_t len = wire_frame_len(s->in + off);

		/* Length 0 is an empty answer (id 0, OK, no body): it decodes. */
		if (len > (16u << 20))
			die("stream %d: the daemon framed %u bytes", (int)(s - st), len);
		if (s->in_len - off - WIRE_HDR < len)
			break;
		if (s->refused)
			check_refusal(s, s->in + off + WIRE_HDR, len);
		else if (s->admin)
			check_admin_frame(s, s->in + off + WIRE_HDR, len);
		else
			check_client_frame(s, s->in + off + WIRE_HDR, len);
		off += WIRE_HDR + len;
		s->rx_decoded += WIRE_HDR + len;
	}
	memmove(s->in, s->in + off, s->in_len - off);
	s->in_len -= off;
}

/* Read what the daemon sent; descriptors (the welcome's memfd) are closed. */
static void stream_recv(struct stream *s)
{
	uint8_t buf[16384];
	char cbuf[CMSG_SPACE(8 * sizeof(int))];

	if (s->peer < 0 || !s->reading || s->gone)
		return;
	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				      .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(s->peer, &msg, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* On failure msg_controllen is left as it was: no descriptors. */
		for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; c;
		     c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (s->admin || nfds != 1 || s->fd_waiting)
				die("%s: %zu descriptors passed%s", stream_name(s), nfds,
				    s->fd_waiting ? " before the last one was claimed" : "");
			for (size_t k = 0; k < nfds; k++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
				close(fd);
			}
			s->fd_waiting = true;
			s->fd_from = s->rx_seen;
			s->fd_to = s->rx_seen + (uint64_t)(n > 0 ? n : 0);
		}
		if (n <= 0) {		/* EOF, or ECONNRESET */
			s->gone = true;
			stream_release(s);
			moved++;
			return;
		}
		moved += (uint64_t)n;
		s->rx_seen += (uint64_t)n;
		buf_add(&s->in, &s->in_len, &s->in_cap, buf, (size_t)n);
		stream_decode(s);
	}
}

static void stream_send(struct stream *s)
{
	while (s->peer >= 0 && s->out_len) {
		ssize_t n = send(s->peer, s->out, s->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {		/* EPIPE: the daemon is gone; drop the rest */
			s->out_len = 0;
			return;
		}
		if (!s->tx_failed) {
			buf_add(&s->tx, &s->tx_len, &s->tx_cap, s->out, (size_t)n);
			tx_parse(s);
		}
		memmove(s->out, s->out + n, s->out_len - (size_t)n);
		s->out_len -= (size_t)n;
		moved += (uint64_t)n;
	}
}

static void stream_close(struct stream *s)
{
	if (s->peer >= 0) {
		stream_release(s);
		close(s->peer);
	}
	s->peer = -1;
	s->out_len = s->in_len = s->tx_len = 0;
	s->want_head = s->want_tail = 0;
	s->tx_failed = s->fail_answered = s->refused = false;
	s->npages = 0;
	s->npfns = 0;
	s->held = 0;
	s->features = 0;
	memset(s->own, 0, sizeof(s->own));
	memset(s->cover, 0, sizeof(s->cover));
	s->fq_len = 0;
	s->rx_seen = s->rx_decoded = 0;
	s->fd_waiting = false;
	s->pool[0] = '\0';
	s->shut = s->gone = false;
	s->reading = true;
}

static void stream_open(struct stream *s)
{
	stream_close(s);
	/* A small send buffer on the daemon's side makes backpressure cheap to reach. */
	s->refused = !fuzzd_connect(&d, s->admin, 4096, &s->peer, &s->dfd);
	s->gen++;
	s->released = false;
}

/* ---- running the daemon ---- */

static void streams_send(void)
{
	for (unsigned i = 0; i < NSTREAMS; i++)
		stream_send(&st[i]);
}

static void streams_recv(void)
{
	for (unsigned i = 0; i < NSTREAMS; i++)
		stream_recv(&st[i]);
}

/* The event loops and the peers, until a whole round moves nothing: no byte
 * in or out of a peer, no worker callback (fuzzd_pump). */
static void pump(void)
{
	fuzzd_pump(&d, &moved, streams_send, streams_recv);
}

/* ---- requests the harness builds from what it was told ---- */

static void send_msg(struct stream *s, const ProtobufCMessage *m)
{
	uint8_t *buf;
	size_t len;

	if (wire_encode(m, UINT32_MAX, &buf, &len) < 0)
		die("wire_encode");
	buf_add(&s->out, &s->out_len, &s->out_cap, buf, len);
	free(buf);
}

static void send_hello(struct stream *s, unsigned which)
{
	static const char *const names[] = { "", "default", "small", "locked" };
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Hello h = PAGEPOOL__V1__HELLO__INIT;

	h.version = WIRE_VERSION;
	h.pool = (char *)names[which % 4];
	h.features = hello_features;
	q.id = ++req_id;
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_HELLO;
	q.hello = &h;
	send_msg(s, &q.base);
}

/*
 * pfns[0..n) of blocks of `order` into f the way `form` says: 0 the list;
 * 1 runs (maximal, of stride 2^order, in the list's order); 2 the first
 * half as pfns, the rest as runs; 3 runs whose run_order is not the
 * blocks' (order ^ 1: other pages, or above max_order).  runs[] has room
 * for 2n.
 */
static void free_encode(Pagepool__V1__Free *f, uint32_t *pfns, size_t n, unsigned order,
			uint32_t *runs, unsigned form)
{
	size_t skip = form == 2 ? n / 2 : 0, k = 0;
	uint32_t step = 1u << order;

	f->pfns = pfns;
	f->n_pfns = n;
	if (form == 0)
		return;
	for (size_t i = skip; i < n;) {
		size_t j = i + 1;

		while (j < n && pfns[j - 1] <= UINT32_MAX - step && pfns[j] == pfns[j - 1] + step)
			j++;
		runs[k++] = pfns[i];
		runs[k++] = (uint32_t)(j - i);
		i = j;
	}
	f->n_pfns = skip;
	f->runs = runs;
	f->n_runs = k;
	f->run_order = form == 3 ? order ^ 1 : order;
}

/* Free what `src` was last given, through `s`, in one of six shapes
 * (encoded as free_form says). */
static void send_free(struct stream *s, const struct stream *src, unsigned variant)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;
	uint32_t pfns[MAX_PFNS + 1], runs[2 * MAX_PFNS + 2];
	size_t n = src->npfns;

	memcpy(pfns, src->pfns, n * sizeof(uint32_t));
	if (n == 0)
		pfns[n++] = 0;
	switch (variant) {
	case 1: n = 1; break;					/* the first only */
	case 2: pfns[n++] = pfns[0]; break;			/* listed twice */
	case 3: pfns[0] += 1; break;				/* a tail or a neighbour */
	case 4:							/* reversed */
		for (size_t i = 0; i < n / 2; i++) {
			uint32_t t = pfns[i];

			pfns[i] = pfns[n - 1 - i];
			pfns[n - 1 - i] = t;
		}
		break;
	case 5: pfns[n++] = src->npages ? src->npages : 1u << 20; break;	/* out of range */
	}
	free_encode(&f, pfns, n, src->order, runs, free_form);
	q.id = ++req_id;
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	q.free = &f;
	send_msg(s, &q.base);
}

/*
 * A Free through s of what s was last given, as runs, then spoilt in one
 * of four ways (two each, by the request id's parity): 0 an odd runs list,
 * or no runs but a run_order (fine where runs are granted); 1 an empty run
 * after the others, or run_order 11; 2 a run past 2^32, or one that ends
 * exactly there (out of the pool); 3 a run of 2^32 - 1 blocks, or one that
 * takes the blocks past max_count.
 */
static void send_bad_runs(struct stream *s, unsigned kind)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;
	uint32_t pfns[MAX_PFNS + 1], runs[2 * MAX_PFNS + 4];
	size_t n = s->npfns;
	bool odd;

	memcpy(pfns, s->pfns, n * sizeof(uint32_t));
	if (n == 0)
		pfns[n++] = 0;
	q.id = ++req_id;
	odd = q.id & 1;
	free_encode(&f, pfns, n, s->order, runs, 1);
	switch (kind) {
	case 0:
		if (odd) {
			f.n_runs = 0;
			f.pfns = pfns;
			f.n_pfns = n;
		} else {
			runs[f.n_runs++] = pfns[0];
		}
		break;
	case 1:
		if (odd) {
			f.run_order = PP_MAX_ORDER + 1;
		} else {
			runs[f.n_runs++] = pfns[0];
			runs[f.n_runs++] = 0;
		}
		break;
	case 2:
		runs[f.n_runs++] = odd ? UINT32_MAX - (1u << s->order) + 1 : UINT32_MAX;
		runs[f.n_runs++] = 2 - odd;
		break;
	default:
		runs[f.n_runs++] = odd ? pfns[0] : 0;
		runs[f.n_runs++] = odd ? d.cfg.max_count : UINT32_MAX;
		break;
	}
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	q.free = &f;
	send_msg(s, &q.base);
}

/* An admin request about the block `src`'s last pfn lives in. */
static void send_admin(const struct stream *src, unsigned what)
{
	Pagepool__V1__AdminRequest q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminOfflineReq off = PAGEPOOL__V1__ADMIN_OFFLINE_REQ__INIT;
	Pagepool__V1__AdminOnlineReq on = PAGEPOOL__V1__ADMIN_ONLINE_REQ__INIT;
	Pagepool__V1__AdminDrainReq dr = PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT;
	Pagepool__V1__AdminVerifyReq v = PAGEPOOL__V1__ADMIN_VERIFY_REQ__INIT;
	Pagepool__V1__AdminReloadReq rl = PAGEPOOL__V1__ADMIN_RELOAD_REQ__INIT;
	char *pool = (char *)(src->pool[0] ? src->pool : "default");
	uint32_t block = src->npfns ? src->pfns[0] / MAX_ORDER_PAGES * MAX_ORDER_PAGES : 0;
	uint32_t all = src->npages ? src->npages : 2048;

	q.id = ++req_id;
	switch (what) {
	case 0: case 2:
		off.pool = pool;
		off.start = what ? 0 : block;
		off.count = what ? all : MAX_ORDER_PAGES;
		q.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_OFFLINE;
		q.offline = &off;
		break;
	case 1: case 3:
		on.pool = pool;
		on.start = what == 3 ? 0 : block;
		on.count = what == 3 ? all : MAX_ORDER_PAGES;
		q.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_ONLINE;
		q.online = &on;
		break;
	case 4: case 5:
		dr.pool = pool;
		dr.mode = (char *)(what == 4 ? "rcu" : "workqueue");
		q.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_DRAIN;
		q.drain = &dr;
		break;
	case 6:
		v.pool = (char *)"";
		q.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_VERIFY;
		q.verify = &v;
		break;
	default:
		q.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_RELOAD;
		q.reload = &rl;
		break;
	}
	if (st[ST_ADMIN].peer < 0)
		stream_open(&st[ST_ADMIN]);
	send_msg(&st[ST_ADMIN], &q.base);
}

/* ---- offers, takes and cancels the harness builds from what it was told ---- */

/*
 * A token for a Take or Cancel through s, into tok (32 bytes of room),
 * picked by y: bits 0-2 say how - 0 the newest offer's, 1 the (y >> 3)th
 * newest, 2 the newest with one byte flipped, 3 one of the wrong length (0,
 * 15, 17 or 32 bytes), 4 a random one, 5 the harness's last token again (a
 * replay), 6 the newest of another connection's offers, 7 the newest open
 * one of another connection.  With no offer made yet: 16 zero bytes.
 * Returns its length.
 */
static size_t pick_token(const struct stream *s, unsigned y, uint8_t *tok)
{
	static const size_t wrong[] = { 0, 15, 17, 32 };
	unsigned how = y & 7, arg = y >> 3;
	const struct moffer *of = nmo ? &mo[nmo - 1] : NULL;
	size_t len = SHARE_TOKEN_SIZE;

	if (how == 5 && have_last_tok) {
		memcpy(tok, last_tok, last_tok_len);
		return last_tok_len;
	}
	if (how == 1 && nmo)
		of = &mo[nmo - 1 - arg % nmo];
	for (unsigned i = nmo; (how == 6 || how == 7) && i-- > 0;) {
		if (!mo_gives(&mo[i], s) && (how == 6 || mo[i].state == MO_OPEN)) {
			of = &mo[i];
			break;
		}
	}
	memset(tok, 0, 32);
	if (how == 4) {
		for (unsigned i = 0; i < 2; i++) {
			uint64_t z = (tok_rng += 0x9e3779b97f4a7c15ull) ^ arg;

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			z ^= z >> 31;
			memcpy(tok + 8 * i, &z, sizeof(z));
		}
	} else if (of) {
		memcpy(tok, of->tok, SHARE_TOKEN_SIZE);
		memcpy(tok + SHARE_TOKEN_SIZE, of->tok, SHARE_TOKEN_SIZE);
	}
	if (how == 2)
		tok[arg & 15] ^= (uint8_t)(arg & 16 ? 0x80 : 0x01);
	if (how == 3)
		len = wrong[arg & 3];
	return len;
}

/* A Take (take) or Cancel of the token y picks, through s. */
static void send_tok(struct stream *s, bool take, unsigned y)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Take t = PAGEPOOL__V1__TAKE__INIT;
	Pagepool__V1__Cancel c = PAGEPOOL__V1__CANCEL__INIT;
	uint8_t tok[32];
	size_t len = pick_token(s, y, tok);

	memcpy(last_tok, tok, len);
	last_tok_len = len;
	have_last_tok = true;
	q.id = ++req_id;
	if (take) {
		t.token.data = tok;
		t.token.len = len;
		q.body_case = PAGEPOOL__V1__REQUEST__BODY_TAKE;
		q.take = &t;
	} else {
		c.token.data = tok;
		c.token.len = len;
		q.body_case = PAGEPOOL__V1__REQUEST__BODY_CANCEL;
		q.cancel = &c;
	}
	send_msg(s, &q.base);
}

/* An Offer of n blocks of `order` in `form` (free_encode's: 3 names
 * another order), with shares and keep. */
static void send_offer_blocks(struct stream *s, uint32_t *pfns, size_t n, unsigned order,
			      unsigned form, unsigned shares, bool keep)
{
	static uint32_t runs[2 * MAX_PFNS + 4];
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Offer of = PAGEPOOL__V1__OFFER__INIT;
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;

	free_encode(&f, pfns, n, order, runs, form);
	of.pfns = f.pfns;
	of.n_pfns = f.n_pfns;
	of.runs = f.runs;
	of.n_runs = f.n_runs;
	of.order = form ? f.run_order : order;
	of.shares = shares;
	of.keep = keep;
	q.id = ++req_id;
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_OFFER;
	q.offer = &of;
	send_msg(s, &q.base);
}

static const unsigned offer_shares[4] = { 0, 1, 2, 65 };	/* 65: above max_offer_shares */

/*
 * Offer what s was last given (x bits 3-4: 0, 1, 2 or 65 takers; bit 5:
 * keep; bits 6-7: the form, free_encode's), y bits 0-1: all of it, the
 * first block only, the first listed twice, or with the other client's
 * first block after it.
 */
static void send_offer(struct stream *s, unsigned x, unsigned y)
{
	const struct stream *o = &st[s == &st[ST_A] ? ST_B : ST_A];
	uint32_t pfns[MAX_PFNS + 2];
	size_t n = s->npfns;

	memcpy(pfns, s->pfns, n * sizeof(uint32_t));
	if (n == 0)
		pfns[n++] = 0;
	switch (y & 3) {
	case 1: n = 1; break;
	case 2: pfns[n++] = pfns[0]; break;
	case 3: pfns[n++] = o->npfns ? o->pfns[0] : 0; break;
	}
	send_offer_blocks(s, pfns, n, s->order, x >> 6, offer_shares[x >> 3 & 3], x >> 5 & 1);
}

/* Offer every block of the order s was last given that s holds as its own
 * (x as send_offer's, the list form). */
static void send_offer_all(struct stream *s, unsigned x)
{
	uint32_t pfns[MAX_PFNS];
	size_t n = 0;

	for (uint32_t p = 0; p < MAX_POOL_PAGES && n < MAX_PFNS; p++)
		if (s->own[p] == s->order + 1)
			pfns[n++] = p;
	if (n == 0)
		pfns[n++] = 0;
	send_offer_blocks(s, pfns, n, s->order, 0, offer_shares[x >> 3 & 3], x >> 5 & 1);
}

/*
 * A loan through s of 1 + (y & 15) blocks of order x bits 3-5; y >> 4
 * picks the rest: 0-3 a hand-off, 4-5 one taker, 6-7 two, 8 two and keep,
 * 9 one and keep, 10 max_offer_shares takers, 11 one more (EINVAL), 12 keep
 * on a hand-off (EINVAL), 13 no count (nothing to offer: EINVAL), 14
 * max_count + 1 blocks (E2BIG), 15 a count beside a pfn (EINVAL).
 */
static void send_loan(struct stream *s, unsigned x, unsigned y)
{
	static const uint8_t shares[16] = { 0, 0, 0, 0, 1, 1, 2, 2, 2, 1, 64, 65, 0, 0, 0, 0 };
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Offer of = PAGEPOOL__V1__OFFER__INIT;
	unsigned how = y >> 4;
	uint32_t pfn = s->npfns ? s->pfns[0] : 0;

	of.order = x >> 3 & 7;
	of.count = 1 + (y & 15);
	of.shares = shares[how];
	of.keep = how == 8 || how == 9 || how == 12;
	if (how == 13)
		of.count = 0;
	else if (how == 14)
		of.count = d.cfg.max_count + 1;
	if (how == 15) {
		of.pfns = &pfn;
		of.n_pfns = 1;
	}
	q.id = ++req_id;
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_OFFER;
	q.offer = &of;
	send_msg(s, &q.base);
}

/* Free everything s holds as its own or by reference, in one list. */
static void send_free_all(struct stream *s)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;
	uint32_t pfns[MAX_PFNS];
	size_t n = 0;

	for (uint32_t p = 0; p < MAX_POOL_PAGES && n < MAX_PFNS; p++)
		if (s->own[p] || s->ref[p])
			pfns[n++] = p;
	if (n == 0)
		pfns[n++] = 0;
	f.pfns = pfns;
	f.n_pfns = n;
	q.id = ++req_id;
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	q.free = &f;
	send_msg(s, &q.base);
}

static void send_stat(struct stream *s)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Stat t = PAGEPOOL__V1__STAT__INIT;

	q.id = ++req_id;
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_STAT;
	q.stat = &t;
	send_msg(s, &q.base);
}

/*
 * A share operation of client s (chunk header 0x00 for A, 0x40 for B, then
 * x and y): x bits 0-2 pick 0 offer what it was last given, 1 a loan, 2 a
 * take, 3 a cancel, 4 a stat, 5 its death (the connection closes at once,
 * its offers open or not; the stream connects again with its next chunk),
 * 6 offer all its blocks of one order, 7 free all it holds; the rest of x
 * and y say how (see each sender).
 */
static void share_op(struct stream *s, unsigned x, unsigned y)
{
	if ((x & 7) == 5) {
		stream_close(s);
		return;
	}
	if (s->peer < 0 || s->shut)
		return;
	switch (x & 7) {
	case 0: send_offer(s, x, y); break;
	case 1: send_loan(s, x, y); break;
	case 2: send_tok(s, true, y); break;
	case 3: send_tok(s, false, y); break;
	case 4: send_stat(s); break;
	case 6: send_offer_all(s, x); break;
	default: send_free_all(s); break;
	}
}

static void control(unsigned op)
{
	struct stream *a = &st[ST_A], *b = &st[ST_B];

	if (op < 2) {				/* half-close A or B */
		struct stream *s = op ? b : a;

		if (s->peer >= 0 && !s->shut) {
			stream_send(s);
			shutdown(s->peer, SHUT_WR);
			s->shut = true;
			s->out_len = 0;
		}
	} else if (op < 4) {			/* stop / resume reading A or B */
		st[op - 2].reading = !st[op - 2].reading;
	} else if (op == 4) {
		decay_tick(&d);
	} else if (op < 8) {			/* reconnect A, B or admin */
		stream_open(&st[op - 5]);
	} else if (op < 32) {			/* free what A or B was given */
		unsigned v = op - 8;
		struct stream *s = v & 1 ? b : a, *src = (v >> 1) & 1 ? (v & 1 ? a : b) : s;

		if (s->peer >= 0 && !s->shut)
			send_free(s, src, (v >> 2) % 6);
	} else if (op < 48) {			/* admin request about A's or B's pages */
		unsigned v = op - 32;

		send_admin(v & 1 ? b : a, v >> 1);
	} else if (op < 56) {			/* hello from A or B */
		struct stream *s = op & 4 ? b : a;

		if (s->peer < 0)
			stream_open(s);
		if (!s->shut)
			send_hello(s, op & 3);
	} else {				/* malformed runs from A or B */
		struct stream *s = op & 4 ? b : a;

		if (s->peer >= 0 && !s->shut)
			send_bad_runs(s, op & 3);
	}
}

/* ---- oracles ---- */

/* ---- the share table against the model ---- */

/*
 * The daemon's own accounting of a pool, whenever the loops are quiet: what
 * is allocated is what its clients hold as their own, plus the blocks under
 * hand-off offers, plus the shared blocks; the pcps' allocated - freed
 * counters add up to the same (a block given away is freed through its
 * taker's pcp, so per worker they no longer match).
 */
static void check_union(struct pool *pool)
{
	struct share *sh = &pool->share;
	uint64_t own = 0, handoff = 0, pcp = 0;
	struct pool_counts pc;

	for (unsigned k = 0; k < nw; k++) {
		const struct pcp_stats *ps = &pool_pcp(pool, k)->stats;

		pcp += ps->alloc_pages - ps->free_pages;
		for (struct conn *c = W[k]->conns; c; c = c->next)
			if (c->pool == pool)
				own += c->owner.pages;
	}
	for (uint32_t i = 0; i < sh->noffer_slots; i++)
		if (sh->offers[i].giver && !sh->offers[i].shares)
			handoff += (uint64_t)sh->offers[i].n << sh->offers[i].order;
	pool_counts(pool, &pc);
	if (pc.allocated != own + handoff + sh->shared_pages || pcp != pc.allocated)
		die("pool %s: %lu pages allocated (the pcps count %lu); its clients hold %lu as "
		    "their own, %lu are under hand-off offers, %lu shared", pool->name,
		    (unsigned long)pc.allocated, (unsigned long)pcp, (unsigned long)own,
		    (unsigned long)handoff, (unsigned long)sh->shared_pages);
}

/* No answer owed on a client stream, nobody dying, and the daemon's
 * connections exactly the streams': the model can be held to the daemon. */
static bool model_quiet(void)
{
	unsigned nconns = 0, nstreams = 0;

	for (unsigned k = ST_A; k <= ST_B; k++) {
		const struct stream *s = &st[k];

		if (s->peer < 0 || s->refused || s->released)
			continue;
		if (s->want_head != s->want_tail || s->shut || s->tx_failed || !stream_conn(s))
			return false;
		nstreams++;
	}
	for (unsigned k = 0; k < nw; k++)
		for (struct conn *c = W[k]->conns; c; c = c->next)
			nconns++;
	return nconns == nstreams;
}

/* Offers whose fate the model lost (their taker or canceller died with the
 * request in flight) take it from the daemon's table. */
static void share_resync(void)
{
	for (unsigned i = 0; i < nmo && nuncertain; i++) {
		struct moffer *of = &mo[i];
		const struct share_offer *so;
		enum mo_state why;

		if (!of->uncertain)
			continue;
		of->uncertain = false;
		nuncertain--;
		so = daemon_offer(of->pool, of->tok);
		if (so) {
			if (of->state != MO_OPEN)
				die("an offer closed (%d) to the model is open in the daemon", of->state);
			of->taken = so->taken;
			continue;
		}
		switch (daemon_tomb(of->pool, of->tok)) {
		case SHARE_TAKEN: why = MO_TAKEN; break;
		case SHARE_CANCELLED: why = MO_CANCELLED; break;
		default: why = MO_GONE; break;
		}
		if (of->state == MO_OPEN)
			mo_close(of, why);
		else
			of->state = why;
	}
}

/* The first index from i on below n where a[] is not 0 (n if none), eight
 * bytes at a time: the model's maps are mostly empty, and these walks run
 * after every chunk. */
static uint32_t next_set(const uint8_t *a, uint32_t i, uint32_t n)
{
	while (i < n) {
		uint64_t w;

		if (i % 8 == 0 && n - i >= 8) {
			memcpy(&w, a + i, sizeof(w));
			if (!w) {
				i += 8;
				continue;
			}
		}
		if (a[i])
			return i;
		i++;
	}
	return n;
}

/* One connection: its own blocks, references and offers are the daemon's. */
static void check_model_stream(const struct stream *s)
{
	const struct conn *c = stream_conn(s);
	const struct share *sh;
	unsigned nref = 0, mref = 0, noff;
	uint64_t offered;

	if (!c || !c->pool || s->released)
		return;
	sh = &c->pool->share;
	noff = mo_open_of(s, &offered);
	if (c->owner.pages != s->held || c->owner.ref_pages != s->refpages ||
	    c->owner.offered_pages != offered || c->owner.noffers != noff)
		die("%s: the daemon counts %lu pages own, %lu by reference, %u offers of %lu pages; "
		    "the model %lu, %lu, %u of %lu", stream_name(s), (unsigned long)c->owner.pages,
		    (unsigned long)c->owner.ref_pages, c->owner.noffers,
		    (unsigned long)c->owner.offered_pages, (unsigned long)s->held,
		    (unsigned long)s->refpages, noff, (unsigned long)offered);
	for (uint32_t p = next_set(s->ref, 0, s->npages); p < s->npages;
	     p = next_set(s->ref, p + 1, s->npages))
		mref++;
	for (uint32_t p = next_set(s->own, 0, s->npages); p < s->npages;
	     p = next_set(s->own, p + 1, s->npages)) {
		const struct page *pg = &c->pool->pages[p];

		if (page_state(pg) != PG_ALLOC || page_owner(pg) != c->owner.id ||
		    pg->order != s->own[p] - 1u)
			die("%s: holds block %u of order %u; the daemon's descriptor says state %u "
			    "owner %#x order %u", stream_name(s), p, s->own[p] - 1u, page_state(pg),
			    page_owner(pg), pg->order);
	}
	for (uint32_t r = c->owner.ref_head; r != SHARE_NIL; r = sh->refs[r].hnext) {
		const struct share_ent *e = &sh->ents[sh->refs[r].ent];

		if (++nref > mref || e->pfn >= s->npages || s->ref[e->pfn] != e->order + 1u)
			die("%s: the daemon has its reference to block %u of order %u, the model "
			    "%s", stream_name(s), e->pfn, e->order,
			    nref > mref ? "fewer references" : "not that one");
	}
	if (nref != mref)
		die("%s: the daemon has %u references of it, the model %u", stream_name(s), nref,
		    mref);
}

/*
 * At a quiet moment: the model against the daemon.  Every open offer of
 * the model is the daemon's, with the same giver, blocks, takers and
 * takes, and the daemon has no other; in every pool what is allocated is
 * the union of what the connections hold as their own, the shared blocks
 * (referenced by a connection, or pinned by an open shared offer) and the
 * blocks under open hand-off offers; per connection its own blocks,
 * references and offers are the daemon's.
 */
static void check_model(void)
{
	static uint32_t mark[MAX_POOL_PAGES], epoch;	/* mark[p] == epoch: counted */

	share_resync();
	for (unsigned i = 0; i < d.cfg.npools; i++) {
		struct pool *pool = d.pools[i];
		const struct share *sh = &pool->share;
		uint64_t own = 0, handoff = 0, shared = 0, offered = 0, open = 0;
		struct pool_counts pc;

		epoch++;
		for (unsigned k = ST_A; k <= ST_B; k++) {
			const struct stream *s = &st[k];

			if (s->peer < 0 || s->released || pool_named(s->pool) != pool)
				continue;
			own += s->held;
			for (uint32_t p = next_set(s->ref, 0, s->npages); p < s->npages;
			     p = next_set(s->ref, p + 1, s->npages))
				if (mark[p] != epoch) {
					mark[p] = epoch;
					shared += 1u << (s->ref[p] - 1);
				}
		}
		for (unsigned j = 0; j < nmo; j++) {
			const struct moffer *of = &mo[j];
			const struct share_offer *so;
			const struct conn *g;
			uint64_t pages = (uint64_t)of->n << of->order;

			if (of->pool != pool || of->state != MO_OPEN)
				continue;
			so = daemon_offer(pool, of->tok);
			g = stream_conn(&st[of->giver]);
			if (!so || !g || so->giver != &g->owner || so->n != of->n ||
			    so->order != of->order || so->shares != of->shares || so->keep != of->keep ||
			    so->taken != of->taken ||
			    memcmp(so->pfns, of->pfns, of->n * sizeof(uint32_t)) != 0)
				die("pool %s: the model's open offer %u (%s, %u order-%u blocks from pfn %u, "
				    "shares %u, taken %u) is %s in the daemon", pool->name, j,
				    stream_name(&st[of->giver]), of->n, of->order, of->pfns[0], of->shares,
				    of->taken, so ? "another" : "not open");
			open++;
			offered += pages;
			if (!of->shares)
				handoff += pages;
			for (unsigned b = 0; of->shares && b < of->n; b++)
				if (mark[of->pfns[b]] != epoch) {
					mark[of->pfns[b]] = epoch;
					shared += 1u << of->order;
				}
		}
		pool_counts(pool, &pc);
		if (pc.allocated != own + handoff + shared || sh->offers_open != open ||
		    sh->offered_pages != offered || sh->shared_pages != shared)
			die("pool %s: %lu pages allocated, %lu open offers of %lu pages, %lu shared; "
			    "the model: %lu own + %lu under hand-off offers + %lu shared, %lu offers "
			    "of %lu pages", pool->name, (unsigned long)pc.allocated,
			    (unsigned long)sh->offers_open, (unsigned long)sh->offered_pages,
			    (unsigned long)sh->shared_pages, (unsigned long)own, (unsigned long)handoff,
			    (unsigned long)shared, (unsigned long)open, (unsigned long)offered);
	}
	for (unsigned k = ST_A; k <= ST_B; k++)
		check_model_stream(&st[k]);
}


/*
 * Connections open and quiet: the owners the pools see are exactly theirs.
 * all = false (after each chunk): only the pools someone has joined.
 */
static void check_live(bool all)
{
	struct owner *owners[8];
	char err[256];

	for (unsigned i = 0; i < d.cfg.npools; i++) {
		unsigned n = 0;

		for (unsigned k = 0; k < nw; k++) {
			for (struct conn *c = W[k]->conns; c; c = c->next) {
				if (c->pool != d.pools[i])
					continue;
				if (n == sizeof(owners) / sizeof(owners[0]))
					die("more connections than max_connections");
				owners[n++] = &c->owner;
			}
		}
		if ((all || n) && pool_verify(d.pools[i], owners, n, err, sizeof(err)) != 0)
			die("pool %s, %u clients connected: pool_verify: %s", d.pools[i]->name, n,
			    err);
		if ((all || n) && !fuzz_buddies_merged(d.pools[i], err, sizeof(err)))
			die("pool %s: %s", d.pools[i]->name, err);
	}
	/* Allocated: what the clients hold as their own, under hand-off offers
	 * and shared (the pcps count it too); the model agrees when quiet. */
	for (unsigned i = 0; i < d.cfg.npools; i++)
		check_union(d.pools[i]);
	if (model_quiet())
		check_model();
	fuzzd_check_quotas(&d);
}

/*
 * Quiet, everything read: every whole request got its answer; the daemon
 * closed a connection only after a framing error's last word or our
 * half-close, and always did after those.
 */
static void check_answers(void)
{
	for (unsigned k = 0; k < NSTREAMS; k++) {
		struct stream *s = &st[k];

		if (s->peer < 0 || s->refused)
			continue;
		if (s->want_head != s->want_tail)
			die("%s: %u requests never answered (next owed: id %lu%s)%s", stream_name(s),
			    s->want_tail - s->want_head,
			    (unsigned long)s->want[s->want_head % MAX_WANT],
			    s->want_fail[s->want_head % MAX_WANT] ? ", a framing error" : "",
			    s->gone ? "; the daemon closed the connection" : "");
		if (s->fd_waiting)
			die("%s: a descriptor no welcome claimed", stream_name(s));
		if (s->gone && !s->fail_answered && !s->shut)
			die("%s: the daemon closed a connection that did nothing wrong",
			    stream_name(s));
		if (!s->gone && (s->fail_answered || s->shut))
			die("%s: still open after %s", stream_name(s),
			    s->shut ? "the client half-closed and got its answers"
				    : "a framing error");
	}
}

/* Put back what an input may change besides connections. */
static void restore(void)
{
	d.cfg = base_cfg;
	log_set_level(log_level_run);
	decay_rearm(&d);
	for (unsigned i = 0; i < d.cfg.npools; i++) {
		struct pool *pool = d.pools[i];

		pool_set_drain_mode(pool, base_cfg.drain_mode);
		pool_set_pcp(pool, base_high[i], base_batch[i]);
		for (uint32_t b = 0; b < pool->npages / MAX_ORDER_PAGES; b++)
			if (pool->zone.blockflags[b] &&
			    pool_online(pool, b * MAX_ORDER_PAGES, MAX_ORDER_PAGES) < 0)
				die("pool %s: block %u will not come back online", pool->name, b);
		if (pool_drain(pool, DRAIN_RCU, 0, NULL) < 0)
			die("pool %s: drain failed", pool->name);
	}
	/* Idle decay compares against the counters of its last tick: make that now. */
	decay_tick(&d);
	d.next_client_id = 0;
}

/* Every client gone, the admin-side state put back: every pool empty,
 * no offer open or block shared. */
static void check_quiet(void)
{
	for (unsigned i = 0; i < d.cfg.npools; i++) {
		struct pool *pool = d.pools[i];

		fuzzd_check_pool_empty(pool);
		if (pool->share.offers_open || pool->share.offered_pages || pool->share.shared_pages)
			die("pool %s, every client gone: %lu offers of %lu pages open, %lu pages "
			    "shared", pool->name, (unsigned long)pool->share.offers_open,
			    (unsigned long)pool->share.offered_pages,
			    (unsigned long)pool->share.shared_pages);
	}
}

/* ---- libFuzzer ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char cpus[32];

	/* FUZZ_PROTO_DEBUG=1: the daemon's debug log, to follow a reproducer. */
	fuzzd_init("fuzz_proto", getenv("FUZZ_PROTO_DEBUG") != NULL, tmpdir, sizeof(tmpdir));
	nw = fuzzd_cpus(cpus, sizeof(cpus));
	for (unsigned v = 0; v < NCONFIGS; v++) {
		snprintf(cfg_path[v], sizeof(cfg_path[v]), "%s/pagepoold-%u.conf", tmpdir, v);
		config_write(v, cfg_path[v], cpus);
	}
	atexit(cleanup);

	fuzzd_start(&d, cfg_path[0], nw, true);
	W = d.workers;
	/* The level restore() puts back: d.cfg keeps the file's, so a reload
	 * does not count FUZZ_PROTO_DEBUG's. */
	log_level_run = log_get_level();
	base_cfg = d.cfg;
	for (unsigned i = 0; i < d.cfg.npools; i++) {
		base_high[i] = d.pools[i]->high;
		base_batch[i] = d.pools[i]->batch;
	}
	st[ST_A].peer = st[ST_B].peer = st[ST_ADMIN].peer = -1;
	st[ST_ADMIN].admin = true;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i = 1;

	if (size == 0)
		return 0;
	cfg_variant = data[0] & 7;
	hello_features = (uint32_t[]){ 0, F_RUNS, UINT32_MAX, F_RUNS | 0x80000000u }
			 [data[0] >> 4 & 3];
	free_form = data[0] >> 6;
	pcp_set = false;
	d.config_path = cfg_path[cfg_variant];
	mo_reset();
	tok_rng = 0;
	stream_open(&st[ST_A]);
	stream_open(&st[ST_ADMIN]);
	if (data[0] & 8)
		stream_open(&st[ST_B]);
	pump();
	while (i < size) {
		uint8_t h = data[i++];
		unsigned kind = h >> 6;
		size_t len = h & 0x1f;

		if (kind == 3) {
			control(h & 0x3f);
		} else if (kind < ST_ADMIN && (h & 0x3f) == 0) {
			unsigned x = i < size ? data[i++] : 0;

			share_op(&st[kind], x, i < size ? data[i++] : 0);
		} else {
			struct stream *s = &st[kind];

			if (h & 0x20)
				len = len << 8 | (i < size ? data[i++] : 0);
			if (len > size - i)
				len = size - i;
			if (s->peer < 0)
				stream_open(s);
			if (!s->shut)
				buf_add(&s->out, &s->out_len, &s->out_cap, data + i, len);
			i += len;
		}
		pump();
		check_live(false);
	}
	/* Read everything that is owed, then check with the connections open. */
	for (unsigned k = 0; k < NSTREAMS; k++)
		st[k].reading = true;
	pump();
	check_answers();
	check_live(true);
	for (unsigned k = 0; k < NSTREAMS; k++)
		stream_close(&st[k]);
	pump();
	fuzzd_check_closed(&d);
	restore();
	check_quiet();
	return 0;
}
