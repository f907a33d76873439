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
 * decodes everything the daemon sends.
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
 * hello, a Free in runs spoilt one way or another).  After each chunk the
 * event loops run, non-blocking, until nothing moves.  tests/fuzz/decode-proto-input.py prints an input.
 *
 * Oracles, each of which aborts:
 *  - every frame the daemon sends decodes; every whole request gets exactly
 *    one answer, in order, echoing its id; a framing error gets one last
 *    answer with id 0 and then the close; the daemon closes a connection
 *    only after a framing error or the client's half-close, and always then;
 *  - the welcome, and only the welcome, brings the arena's descriptor (in
 *    the read that brings its first byte), and grants exactly FEATURE_RUNS
 *    of the features its hello asked for; Pages hold aligned, distinct
 *    pfns inside the pool, as runs only on a connection granted them, and
 *    then exactly when runs are at most half as long as the list;
 *    Freed and Stat agree with the pages the answers handed out;
 *  - a Free gets the status its shape calls for (unknown fields, before
 *    hello, too many pfns, runs not granted, runs malformed, no blocks);
 *    one that reaches the pool, its blocks counted pfns first and then
 *    runs expanded, succeeds exactly when every block is one this
 *    connection holds (by its own answers), listed once, and frees their
 *    pages; else it blames the first block that is not;
 *  - an admin `verify` finds every pool ok; a reload of the unchanged file
 *    changes nothing (unless a set-pcp came first: the file's values win);
 *  - after every chunk, the connections open and quiet: pool_verify() with
 *    exactly the connections' owners, free buddies merged, each pcp's
 *    allocated - freed counters equal to what its worker's clients hold,
 *    each uid quota equal to what its connections hold;
 *  - once the peers close, every connection goes away and returns every
 *    page: no connection, slot or quota charge is left; with the admin-side
 *    state (offline ranges, tunables, drain mode) put back, every pool
 *    verifies with no owner at all, has every page free and merged into
 *    whole max-order blocks.
 *
 * One daemon state for the whole process; per input only the connections,
 * the run-time tunables an input may change and the offline ranges are
 * reset.  QSBR: this thread is a registered reader, offline except inside
 * worker callbacks (worker_enter/worker_leave), so the admin side may wait
 * for grace periods.  A workqueue drain kicks a worker: the kick runs that
 * worker's event loop at once, which services the request.
 * FUZZ_PROTO_DEBUG=1 turns the daemon's debug log on, to follow a reproducer.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "conn.h"
#include "daemon.h"
#include "decay.h"
#include "fuzzutil.h"
#include "log.h"
#include "rcu.h"
#include "server.h"
#include "wire.h"
#include "worker.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ST_A, ST_B, ST_ADMIN, NSTREAMS };
#define NCONFIGS	8
#define MAX_PFNS	1024
#define MAX_ROUNDS	100000
#define MAX_WANT	16384
#define F_RUNS		PAGEPOOL__V1__FEATURE__FEATURE_RUNS
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
	/* The welcome's memfd must come with the read of the welcome's first byte. */
	uint64_t rx_seen;		/* bytes received so far */
	uint64_t rx_decoded;		/* bytes of whole frames decoded so far */
	uint64_t fd_from, fd_to;	/* bytes of the read that brought a descriptor */
	bool fd_waiting;		/* ... which no welcome has claimed yet */
};

static struct daemon d;
static struct worker *W[2];		/* one per CPU we may use, at most two */
static unsigned nw;
static struct event_base *abase;
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

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz_proto: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
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

/* Up to two CPUs this process may use, as "0" or "0,1" for `workers =`. */
static void worker_cpus(char *buf, size_t len)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		die("sched_getaffinity: %s", strerror(errno));
	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && nw < 2; c++) {
		if (CPU_ISSET(c, &set)) {
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%d", nw ? "," : "", c);
			nw++;
		}
	}
	if (!nw)
		die("no CPU");
}

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
	s->want_tail++;
	if (fail)
		s->tx_failed = true;
	return i;
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
	/* Its blocks in the order bad_index counts them: pfns, then runs. */
	fs->list = s->fq_len;
	buf_add(&s->fq, &s->fq_len, &s->fq_cap, f->pfns, f->n_pfns * sizeof(uint32_t));
	for (size_t i = 0; i < f->n_runs; i += 2)
		for (uint32_t j = 0; j < f->runs[i + 1]; j++) {
			uint32_t pfn = f->runs[i] + (j << f->run_order);

			buf_add(&s->fq, &s->fq_len, &s->fq_cap, &pfn, sizeof(pfn));
		}
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
 * A Pages answer: its blocks (runs expanded after the pfns) become what s
 * was last given.  Runs only where granted, pairs of n >= 1; 1..max_count
 * blocks, aligned, in the pool, none twice; where runs are granted, the
 * answer is in runs exactly when they are at most half as long as the
 * list, and then they are maximal (one form or the other, never both).
 */
static void check_pages(struct stream *s, const Pagepool__V1__Pages *p)
{
	uint64_t total = p->n_pfns;
	uint32_t step;
	size_t k = 0;

	if (p->n_runs && !(s->features & F_RUNS))
		die("%s: pages answer with %zu run numbers, runs not granted", stream_name(s),
		    p->n_runs);
	if (p->n_runs % 2)
		die("%s: pages answer with an odd runs list (%zu)", stream_name(s), p->n_runs);
	for (size_t i = 1; i < p->n_runs; i += 2) {
		if (p->runs[i] == 0)
			die("%s: pages answer with an empty run", stream_name(s));
		total += p->runs[i];
	}
	if (p->order > PP_MAX_ORDER || total == 0 || total > d.cfg.max_count || !s->npages)
		die("pages answer: order %u, %zu pfns and %zu run numbers (%lu blocks), pool of %u "
		    "pages", p->order, p->n_pfns, p->n_runs, (unsigned long)total, s->npages);
	step = 1u << p->order;
	for (size_t i = 0; i < p->n_pfns; i++)
		s->pfns[k++] = p->pfns[i];
	for (size_t i = 0; i < p->n_runs; i += 2) {
		for (uint32_t j = 0; j < p->runs[i + 1]; j++) {
			uint64_t pfn = (uint64_t)p->runs[i] + (uint64_t)j * step;

			if (pfn >= s->npages)
				die("pages answer: run %zu (%u, %u) of order %u leaves the pool of %u "
				    "pages", i / 2, p->runs[i], p->runs[i + 1], p->order, s->npages);
			s->pfns[k++] = (uint32_t)pfn;
		}
	}
	for (size_t i = 0; i < k; i++) {
		if (s->pfns[i] >= s->npages || s->npages - s->pfns[i] < step ||
		    s->pfns[i] & (step - 1))
			die("pages answer: pfn %u of order %u in a pool of %u pages", s->pfns[i],
			    p->order, s->npages);
		/* Neither twice nor over a block this connection holds. */
		for (uint32_t j = 0; j < step; j++)
			if (s->cover[s->pfns[i] + j])
				die("%s: pages answer: block %u of order %u over page %u, already "
				    "held", stream_name(s), s->pfns[i], p->order, s->pfns[i] + j);
		memset(&s->cover[s->pfns[i]], 1, step);
		s->own[s->pfns[i]] = (uint8_t)(p->order + 1);
	}
	if (s->features & F_RUNS) {
		size_t len = runs_len(s->pfns, k, step);

		if ((p->n_pfns && p->n_runs) || (p->n_runs ? p->n_runs != len || len > k / 2
							    : len <= k / 2))
			die("%s: pages answer of %zu blocks as %zu pfns and %zu run numbers; "
			    "as runs they take %zu numbers", stream_name(s), k, p->n_pfns,
			    p->n_runs, len);
	}
	s->npfns = (unsigned)k;
	s->order = p->order;
	s->held += total << p->order;
}

/*
 * The answer to a Free of shape fs: the status the shape calls for, with
 * no bad_index; or, for one that reaches the pool (its blocks in
 * s->fq[fs->list]), success when every block is one this connection
 * holds, listed once, freeing exactly their pages (then they are no
 * longer held); or a per-block status blaming the first block that is
 * not such a one.
 */
static void check_free(struct stream *s, const struct free_shape *fs,
		       const Pagepool__V1__Response *r)
{
	const uint32_t *list;
	uint8_t ord[MAX_PFNS];
	uint64_t pages = 0;
	size_t i, n;
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
				r->status != EPERM) || r->bad_index >= fs->blocks))
		die("%s: free of %lu blocks answered status %d (\"%s\") bad_index %u",
		    stream_name(s), (unsigned long)fs->blocks, r->status, r->error, r->bad_index);
	/* The blocks that passed: held here, each once (own[] is cleared on
	 * the way, so a second listing finds nothing; put back if it failed). */
	n = r->status == 0 ? fs->blocks : r->bad_index;
	for (i = 0; i < n; i++) {
		if (list[i] >= s->npages || !s->own[list[i]])
			die("%s: free %s block %zu, pfn %u, which it does not hold (or lists "
			    "twice)", stream_name(s), r->status ? "got past" : "freed", i, list[i]);
		ord[i] = s->own[list[i]];
		pages += 1ull << (ord[i] - 1);
		s->own[list[i]] = 0;
	}
	if (r->status != 0 && list[n] < s->npages && s->own[list[n]])
		die("%s: free (status %d \"%s\") blamed block %zu, pfn %u, which it holds "
		    "and lists once", stream_name(s), r->status, r->error, n, list[n]);
	if (r->status == 0 && r->freed->pages != pages)
		die("%s: free of %zu blocks holding %lu pages answered freed %lu", stream_name(s),
		    n, (unsigned long)pages, (unsigned long)r->freed->pages);
	for (i = 0; i < n; i++) {
		if (r->status == 0)
			memset(&s->cover[list[i]], 0, 1u << (ord[i] - 1));
		else
			s->own[list[i]] = ord[i];
	}
}

static void check_client_frame(struct stream *s, const uint8_t *body, uint32_t len)
{
	Pagepool__V1__Response *r = pagepool__v1__response__unpack(NULL, len, body);
	unsigned slot = 0;
	int kind;

	if (!r)
		die("%s: the daemon sent a frame of %u bytes that does not decode",
		    stream_name(s), len);
	kind = want_pop(s, r->id, r->status, &slot);
	check_client_body(s, kind, r);
	if (kind == PAGEPOOL__V1__REQUEST__BODY_FREE)
		check_free(s, &s->want_free[slot], r);
	if (s->want_head == s->want_tail)
		s->fq_len = 0;		/* no Free in flight */
	if (r->body_case == PAGEPOOL__V1__RESPONSE__BODY_WELCOME) {
		const Pagepool__V1__Welcome *w = r->welcome;
		struct pool *pool = pool_named(w->pool);

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
		/* Of the features asked for, exactly those this daemon knows. */
		if (w->features != (s->want_features[slot] & F_RUNS))
			die("%s: hello asking features %#x granted %#x", stream_name(s),
			    s->want_features[slot], w->features);
		snprintf(s->pool, sizeof(s->pool), "%s", w->pool);
		s->npages = pool->npages;
		s->held = 0;
		s->features = w->features;
	}
	if (r->body_case == PAGEPOOL__V1__RESPONSE__BODY_PAGES) {
		check_pages(s, r->pages);
	} else if (r->body_case == PAGEPOOL__V1__RESPONSE__BODY_FREED) {
		if (r->freed->pages == 0 || r->freed->pages > s->held)
			die("%s: freed %lu pages, holding %lu", stream_name(s),
			    (unsigned long)r->freed->pages, (unsigned long)s->held);
		s->held -= r->freed->pages;
	} else if (r->body_case == PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT) {
		const Pagepool__V1__PoolStat *ps = r->pool_stat;

		/* Answered in order, so exactly what this client was given back. */
		if (ps->held != s->held || strcmp(ps->pool, s->pool) != 0)
			die("%s: stat says %lu pages held in pool %s; the answers say %lu in %s",
			    stream_name(s), (unsigned long)ps->held, ps->pool,
			    (unsigned long)s->held, s->pool);
		if (ps->free + ps->pcp + ps->allocated + ps->isolated + ps->offline != ps->total ||
		    ps->allocated < ps->held)
			die("%s: stat of pool %s: total %lu free %lu pcp %lu allocated %lu isolated %lu "
			    "offline %lu held %lu", stream_name(s), ps->pool,
			    (unsigned long)ps->total, (unsigned long)ps->free, (unsigned long)ps->pcp,
			    (unsigned long)ps->allocated, (unsigned long)ps->isolated,
			    (unsigned long)ps->offline, (unsigned long)ps->held);
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
	if (s->peer >= 0)
		close(s->peer);
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
	int sv[2], small = 4096;

	stream_close(s);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	/* A small send buffer on the daemon's side makes backpressure cheap to reach. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	s->peer = sv[1];
	if (s->admin) {
		unsigned before = d.admin_nconns;

		admin_accept(&d, sv[0]);
		s->refused = d.admin_nconns == before;
	} else {
		uint32_t before = d.nconns;

		server_accept_client(&d, sv[0]);
		s->refused = d.nconns == before;
	}
}

/* ---- running the daemon ---- */

static uint64_t worker_loops(void)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < nw; k++)
		n += W[k]->loops;
	return n;
}

/*
 * The event loops and the peers, until a whole round moves nothing: no byte
 * in or out of a peer, no worker callback.  (An admin callback always
 * answers, or reads a partial frame and waits, so bytes cover it.)  Each
 * event_base_loop(EVLOOP_NONBLOCK) itself runs until its base has nothing
 * active.
 */
static void pump(void)
{
	bool idle = false;

	for (unsigned round = 0; !idle; round++) {
		uint64_t before = moved, loops = worker_loops();

		if (round == MAX_ROUNDS)
			die("no quiescence after %u rounds: the daemon keeps busy on its own",
			    MAX_ROUNDS);
		for (unsigned i = 0; i < NSTREAMS; i++)
			stream_send(&st[i]);
		for (unsigned k = 0; k < nw; k++)
			event_base_loop(W[k]->base, EVLOOP_NONBLOCK);
		event_base_loop(abase, EVLOOP_NONBLOCK);
		for (unsigned i = 0; i < NSTREAMS; i++)
			stream_recv(&st[i]);
		idle = moved == before && loops == worker_loops();
	}
}

/* pcp->kick for workqueue drains: the worker wakes up and services them now. */
static void harness_kick(void *arg)
{
	struct worker *w = arg;
	uint64_t one = 1;

	if (write(w->efd, &one, sizeof(one)) != sizeof(one))
		die("eventfd write: %s", strerror(errno));
	event_base_loop(w->base, EVLOOP_NONBLOCK);
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
	/* A pcp's allocated - freed counters: what its worker's clients hold. */
	for (unsigned i = 0; i < d.cfg.npools; i++) {
		for (unsigned k = 0; k < nw; k++) {
			const struct pcp_stats *ps = &pool_pcp(d.pools[i], k)->stats;
			uint64_t held = 0;

			for (struct conn *c = W[k]->conns; c; c = c->next)
				if (c->pool == d.pools[i])
					held += c->owner.pages;
			if (ps->alloc_pages - ps->free_pages != held)
				die("pool %s worker %u: pcp counted %lu pages allocated - %lu freed, "
				    "its clients hold %lu", d.pools[i]->name, k,
				    (unsigned long)ps->alloc_pages, (unsigned long)ps->free_pages,
				    (unsigned long)held);
		}
	}
	for (uint32_t q = 0; q < d.cfg.max_connections; q++) {
		struct uid_quota *uq = &d.quotas[q];
		uint64_t held = 0;

		if (!uq->refs)
			continue;
		for (unsigned k = 0; k < nw; k++)
			for (struct conn *c = W[k]->conns; c; c = c->next)
				if (c->uq == uq)
					held += c->owner.pages;
		if (held != uq->pages)
			die("pool %s uid %d: the quota counts %lu pages, its connections hold %lu",
			    d.pools[uq->pool]->name, (int)uq->uid, (unsigned long)uq->pages,
			    (unsigned long)held);
	}
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

/* The peers are gone: so must every connection be. */
static void check_closed(void)
{
	bool left = d.nconns || d.admin_nconns;

	for (unsigned k = 0; k < nw; k++) {
		left |= W[k]->conns || W[k]->queue || W[k]->nconns;
		for (struct conn *c = W[k]->conns; c; c = c->next)
			fprintf(stderr, "fuzz_proto: left: %s: pool %s, closing %d, paused %d, "
				"eof %d, reading %s, %zu bytes in, %zu bytes out\n", c->name,
				c->pool ? c->pool->name : "-", c->closing, c->paused, c->eof,
				c->reading ? "on" : "off", c->in_len - c->in_off, c->out_queued);
	}
	if (left)
		die("peers closed, but %u client connections and %u admin connections remain",
		    d.nconns, d.admin_nconns);
	for (uint32_t i = 0; i < d.cfg.max_connections; i++) {
		if (d.slots[i])
			die("slot %u still taken", i);
		if (d.quotas[i].refs || d.quotas[i].pages)
			die("pool %s uid %d: quota entry left with %u refs, %lu pages",
			    d.pools[d.quotas[i].pool]->name, (int)d.quotas[i].uid,
			    d.quotas[i].refs, (unsigned long)d.quotas[i].pages);
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

static void check_quiet(void)
{
	struct owner *none[1] = { NULL };
	char err[256];

	for (unsigned i = 0; i < d.cfg.npools; i++) {
		struct pool *pool = d.pools[i];
		uint64_t counts[PP_NR_ORDERS];
		struct pool_counts c;

		if (pool_verify(pool, none, 0, err, sizeof(err)) != 0)
			die("pool %s, every client gone: pool_verify: %s", pool->name, err);
		pool_counts(pool, &c);
		if (c.free != c.total || c.pcp || c.allocated || c.isolated || c.offline)
			die("pool %s, every client gone: total %lu free %lu pcp %lu allocated %lu "
			    "isolated %lu offline %lu", pool->name, (unsigned long)c.total,
			    (unsigned long)c.free, (unsigned long)c.pcp, (unsigned long)c.allocated,
			    (unsigned long)c.isolated, (unsigned long)c.offline);
		buddy_info(&pool->zone, counts);
		for (unsigned o = 0; o < PP_MAX_ORDER; o++)
			if (counts[o])
				die("pool %s: every page is free but %lu order-%u blocks did not "
				    "merge", pool->name, (unsigned long)counts[o], o);
	}
}

/* ---- libFuzzer ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("TMPDIR");
	char err[4096], cpus[32];

	/* Nothing of systemd's: notifications and passed sockets stay off. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("WATCHDOG_USEC");
	signal(SIGPIPE, SIG_IGN);
	log_init(LOG_LVL_ERR, false);
	snprintf(tmpdir, sizeof(tmpdir), "%s/pp-fuzz.XXXXXX", t && strlen(t) < 40 ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		die("mkdtemp: %s", strerror(errno));
	worker_cpus(cpus, sizeof(cpus));
	for (unsigned v = 0; v < NCONFIGS; v++) {
		snprintf(cfg_path[v], sizeof(cfg_path[v]), "%s/pagepoold-%u.conf", tmpdir, v);
		config_write(v, cfg_path[v], cpus);
	}
	atexit(cleanup);

	d.config_path = cfg_path[0];
	if (config_load(cfg_path[0], &d.cfg, err, sizeof(err)) < 0)
		die("config: %s", err);
	/* FUZZ_PROTO_DEBUG=1: the daemon's debug log, to follow a reproducer
	 * (d.cfg keeps the file's level, so a reload does not count it). */
	log_level_run = getenv("FUZZ_PROTO_DEBUG") ? LOG_LVL_DEBUG : d.cfg.log_level;
	log_set_level(log_level_run);
	base_cfg = d.cfg;
	d.started = daemon_now();
	pthread_mutex_init(&d.quota_lock, NULL);
	d.quotas = calloc(d.cfg.max_connections, sizeof(*d.quotas));
	d.slots = calloc(d.cfg.max_connections, sizeof(*d.slots));
	if (!d.quotas || !d.slots || daemon_pools_create(&d) < 0)
		die("cannot set up the daemon");

	pp_rcu_register();
	pp_rcu_offline();
	d.nworkers = nw;
	d.workers = calloc(nw, sizeof(*d.workers));
	abase = event_base_new();
	if (!d.workers || !abase)
		die("out of memory");
	for (unsigned k = 0; k < nw; k++) {
		W[k] = d.workers[k] = worker_create(&d, k);
		if (!W[k])
			die("cannot set up worker %u", k);
		for (unsigned i = 0; i < d.cfg.npools; i++)
			pcp_set_kick(pool_pcp(d.pools[i], k), harness_kick, W[k]);
	}
	d.base = abase;
	if (admin_start(&d, abase) < 0 || decay_start(&d, abase) < 0)
		die("admin_start or decay_start failed");
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
	check_closed();
	restore();
	check_quiet();
	return 0;
}
