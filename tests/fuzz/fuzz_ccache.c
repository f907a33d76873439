/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_ccache.c - libFuzzer target for the daemon's side of client caches
 * (daemon/clientcache.c): a hostile client writes anything into its cache
 * region, between and during remote drains, and the daemon must never
 * crash, never free a page that client does not own (above all none of
 * another client's), and keep its books straight.
 *
 * The daemon is in-process, fuzz_proto.c's (fuzzdaemon.c: a real
 * configuration file, real pools, real workers without threads; socketpairs
 * handed over by server_accept_client): two clients, A (hostile) and B
 * (honest), join one pool with client_cache_high > 0 through real hellos
 * asking FEATURE_CACHE, and each sends CacheMap; the CacheMapped answer
 * brings the region's memfd, which the harness maps shared as libpagepool
 * would.  Every request is a synchronous call: sent alone, the event loops
 * run until nothing moves, and its answer must have come.  The remote drain
 * is driven by hand, through the two halves a worker runs
 * (clientcache.h ccache_begin and ccache_finish), so the input decides what
 * the region holds at the switch, in the grace period and at the flush.
 *
 * Input: one setup byte (bit 0: the pool - "default", high 64 / batch 16,
 * or "small", high 511 / batch 511 with a page quota), then operations, each
 * a byte (low nibble: the operation; high nibble x: its argument) and the
 * bytes it reads (0 past the end).  "Set s" is relative to the daemon's
 * active set (0: the one the client should use, 1: the spare, which the
 * daemon owns after a switch); c is client A (x & 1 == 0) or B.
 *    0 WRITE    A's region: x + 1 bytes at offset le16 % PP_CC_SIZE
 *    1 FIELD    A's region: x < 8 list count [x >> 2 set][x & 3] = le32;
 *               8 seq += 1; 9 seq = le64; 10 active = le32; 11 seq -= 1;
 *               12-15 list[active set][x & 3].pfn[byte % CAP] = le32
 *    2 PUT      A's list [x & 1 set][x >> 1 & 3] gets one more entry: the
 *               byte-th block held by A (bit 3 clear) or by B (set)
 *    3 FILL     A's list [x & 1 set][x >> 1 & 3] = byte entries, blocks of A
 *               (bit 3 clear) or of A and B in turn (set), cycling
 *    4 PUSH     c, order x >> 1 & 3: an honest push (enter, push a block of
 *               that order c holds and has not listed, leave; bit 3: stay
 *               inside the operation, seq odd)
 *    5 POP      c, order x >> 1 & 3: an honest pop (the block goes to c's
 *               user, still c's); bit 3: stay inside
 *    6 BEGIN    ccache_begin(c)          7 FINISH   ccache_finish(c)
 *    8 ALLOC    c, order x >> 1 (0..7), count byte % 32 + 1
 *    9 FREE     c, x >> 1 & 7: one block (byte), all, a spill of byte % 16
 *               entries popped off its active list of order byte >> 4 & 3,
 *               one block twice, one of the other client's, a block + 1, a
 *               raw pfn (le16), every other block
 *   10 STAT     c: Stat.held is the model's
 *   11 DIE      c: its connection closes (its pages come back)
 *   12 CONNECT  c (reconnecting): x >> 1 & 3: hello with FEATURE_CACHE and
 *               CacheMap; hello without it, CacheMap refused EPERM;
 *               CacheMap twice (EALREADY); CacheMap before hello (EPROTO)
 *   13 CYCLE    ccache_begin(c) then ccache_finish(c)
 *   14 COPY     A's region: list [x & 1 set][x >> 1 & 3] := list [byte & 1
 *               set][byte >> 1 & 3] (the same pfns under another order)
 *   15 SEQ      c: x >> 1 & 1 clear: enter (seq made odd), set: leave (even)
 *               - a client stopped inside an operation, and let go
 *
 * Oracles, each of which aborts:
 *  - every answer decodes, echoes its request's id and carries what its
 *    request calls for; the welcome grants FEATURE_CACHE exactly when asked
 *    (with the pool's high and batch), CacheMapped brings a sealed memfd of
 *    PP_CC_SIZE bytes whose region says magic, version, size, active 0;
 *  - Pages hold distinct aligned blocks inside the pool that neither
 *    client holds (by the model); a Free succeeds exactly when every block
 *    is the client's, listed once, freeing their pages; Stat.held is the
 *    model's;
 *  - the drain, against a model of it kept from proto/ccache.h alone:
 *    ccache_begin switches exactly when no switch waits (the spare's counts
 *    0, `active` the new set, seq remembered); ccache_finish flushes exactly
 *    when the seq remembered was even or seq has moved, and then frees
 *    exactly the distinct pfns of the old set (read just before, counts
 *    clamped to PP_CC_CAP) that the client holds with the list's order,
 *    counts every other entry (and a count above the cap) as bad, and
 *    leaves the old set's counts 0;
 *  - after every operation: per client, the daemon's page count, every
 *    block of the model (state, owner, order), the region's drains and the
 *    connection's drain, error and flushed counters and its copy of the
 *    active set are the model's; pool_verify() with the connections' owners,
 *    free buddies merged, allocated equal to what the clients hold (the
 *    pcps' counters too), uid quotas equal to their connections' charges;
 *  - at the end both clients close: no connection, slot or quota charge
 *    left, and once the pcps are drained every pool verifies with no owner,
 *    every page free and merged.
 *
 * FUZZ_CCACHE_DEBUG=1 prints every operation and the daemon's debug log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ccache.h"
#include "clientcache.h"
#include "config.h"
#include "conn.h"
#include "daemon.h"
#include "fuzzdaemon.h"
#include "fuzzutil.h"
#include "log.h"
#include "share.h"
#include "wire.h"
#include "worker.h"

#define die fuzz_die		/* fuzzdaemon.c: every oracle's failure */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PAGES	1024		/* pages of the largest pool */
#define MAX_COUNT	256		/* the configuration's max_count */
#define F_CACHE		PAGEPOOL__V1__FEATURE__FEATURE_CACHE
#define NONE		UINT32_MAX

enum { CL_A, CL_B, NCLIENTS };

struct client {
	const char *name;
	int peer, dfd;			/* our end and the daemon's; -1: none */
	bool up;			/* connected and joined */
	uint8_t in[65536];		/* bytes read, not yet a whole frame */
	size_t in_len;
	int fd_in;			/* a descriptor received, not claimed; -1 */
	uint32_t npages;		/* of the pool joined */
	uint64_t held;			/* pages, by the answers and the drains */
	uint8_t own[MAX_PAGES];		/* 1 + order of each block held, by first pfn */
	struct pp_cc_region *r;		/* its region, mapped; NULL: none */
	/* The model of the daemon's side of the region (clientcache.h). */
	uint32_t active;
	bool waiting;
	uint64_t seq_seen, drains, errors, flushed;
};

static struct daemon d;
static struct worker **W;		/* d.workers */
static unsigned nw;
static char tmpdir[64], cfg_path[128];
static struct client cl[NCLIENTS];
static struct pool *pool;		/* the pool this input's clients join */
static const char *pool_name;
static uint64_t req_id, moved;
static bool debug;
static const uint8_t *in_data;		/* the input, and where its reading is */
static size_t in_size, in_pos;

static unsigned get8(void)
{
	return in_pos < in_size ? in_data[in_pos++] : 0;
}

static uint64_t get_le(unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)get8() << (8 * i);
	return v;
}

/* ---- the daemon ---- */

/* Two pools of 1,024 pages with client caches; "small" at the cap, with a
 * quota that an input reaches in a few allocations. */
static void config_write(const char *path, const char *cpus)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "[daemon]\nsocket = %s/pagepool.sock\nadmin_socket = %s/admin.sock\n"
		"workers = %s\nlog_level = err\nmax_count = %d\nmax_connections = 4\n"
		"decay_interval = 0\n\n"
		"[pool default]\nsize = 4M\nclient_cache_high = 64\nclient_cache_batch = 16\n\n"
		"[pool small]\nsize = 4M\nquota_pages = 300\nclient_cache_high = 511\n"
		"client_cache_batch = 511\n", tmpdir, tmpdir, cpus, MAX_COUNT);
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

static void cleanup(void)
{
	unlink(cfg_path);
	rmdir(tmpdir);
}

/* Read what the daemon sent to c; descriptors wait in c->fd_in. */
static void client_recv(struct client *c)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))];

	while (c->peer >= 0) {
		struct iovec iov = { c->in + c->in_len, sizeof(c->in) - c->in_len };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				      .msg_controllen = sizeof(cbuf) };
		ssize_t n;

		if (iov.iov_len == 0)
			die("%s: more than %zu bytes of answers unread", c->name, sizeof(c->in));
		n = recvmsg(c->peer, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		for (struct cmsghdr *h = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; h;
		     h = CMSG_NXTHDR(&msg, h)) {
			if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
				continue;
			if (h->cmsg_len != CMSG_LEN(sizeof(int)) || c->fd_in >= 0)
				die("%s: descriptors passed: %zu bytes, one unclaimed: %d", c->name,
				    (size_t)h->cmsg_len, c->fd_in >= 0);
			memcpy(&c->fd_in, CMSG_DATA(h), sizeof(int));
		}
		if (n <= 0)
			die("%s: the daemon closed a connection that did nothing wrong", c->name);
		c->in_len += (size_t)n;
		moved += (uint64_t)n;
	}
}

static void clients_recv(void)
{
	for (unsigned i = 0; i < NCLIENTS; i++)
		client_recv(&cl[i]);
}

/* The event loops, until a whole round moves nothing (fuzzd_pump). */
static void pump(void)
{
	fuzzd_pump(&d, &moved, NULL, clients_recv);
}

static struct conn *client_conn(const struct client *c)
{
	return c->peer < 0 ? NULL : fuzzd_conn(&d, c->dfd);
}

/*
 * One request on c, alone: its answer must come (and nothing else), echo
 * its id and carry the body `want` on success (none on failure).  The
 * caller frees the answer.
 */
static Pagepool__V1__Response *rpc(struct client *c, Pagepool__V1__Request *q, int want)
{
	Pagepool__V1__Response *r;
	uint8_t *buf;
	size_t len, off = 0;
	uint32_t flen;

	q->id = ++req_id;
	if (wire_encode(&q->base, UINT32_MAX, &buf, &len) < 0)
		die("wire_encode");
	while (off < len) {
		ssize_t n = send(c->peer, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			pump();
			continue;
		}
		if (n <= 0)
			die("%s: send: %s", c->name, strerror(errno));
		off += (size_t)n;
	}
	free(buf);
	pump();
	if (c->in_len < WIRE_HDR || c->in_len - WIRE_HDR < (flen = wire_frame_len(c->in)))
		die("%s: request %lu (body %d) not answered", c->name, (unsigned long)q->id,
		    q->body_case);
	if (c->in_len != WIRE_HDR + flen)
		die("%s: %zu bytes more than one answer", c->name, c->in_len - WIRE_HDR - flen);
	r = pagepool__v1__response__unpack(NULL, flen, c->in + WIRE_HDR);
	c->in_len = 0;
	if (!r)
		die("%s: an answer of %u bytes that does not decode", c->name, flen);
	if (r->id != q->id)
		die("%s: answer for id %lu to request %lu", c->name, (unsigned long)r->id,
		    (unsigned long)q->id);
	if (r->status == 0 ? (int)r->body_case != want
			   : r->body_case != PAGEPOOL__V1__RESPONSE__BODY__NOT_SET)
		die("%s: request body %d answered status %d (%s) with body %d", c->name,
		    q->body_case, r->status, r->error, r->body_case);
	if (debug)
		fprintf(stderr, "fuzz_ccache:   %s: request %d: status %d %s\n", c->name,
			q->body_case, r->status, r->error);
	return r;
}

/* The descriptor an answer brought (or -1), claimed. */
static int take_fd(struct client *c)
{
	int fd = c->fd_in;

	c->fd_in = -1;
	return fd;
}

/* ---- clients ---- */

static void client_reset(struct client *c)
{
	if (c->r)
		munmap(c->r, PP_CC_SIZE);
	c->r = NULL;
	c->up = false;
	c->held = 0;
	c->in_len = 0;
	memset(c->own, 0, sizeof(c->own));
	c->active = 0;
	c->waiting = false;
	c->seq_seen = c->drains = c->errors = c->flushed = 0;
	if (c->fd_in >= 0)
		close(c->fd_in);
	c->fd_in = -1;
}

/* c's connection closes; the daemon's side goes with it. */
static void client_close(struct client *c)
{
	if (c->peer < 0)
		return;
	close(c->peer);
	c->peer = -1;
	pump();
	client_reset(c);
}

static void send_hello(struct client *c, uint32_t features)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Hello h = PAGEPOOL__V1__HELLO__INIT;
	Pagepool__V1__Response *r;
	const struct pool_conf *pc = &d.cfg.pools[config_pool_index(&d.cfg, pool_name)];
	const Pagepool__V1__Welcome *w;
	int fd;

	h.version = WIRE_VERSION;
	h.pool = (char *)pool_name;
	h.features = features;
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_HELLO;
	q.hello = &h;
	r = rpc(c, &q, PAGEPOOL__V1__RESPONSE__BODY_WELCOME);
	fd = take_fd(c);
	if (r->status != 0 || fd < 0)
		die("%s: hello answered %d (%s), descriptor %d", c->name, r->status, r->error, fd);
	close(fd);
	w = r->welcome;
	if (w->features != (features & F_CACHE) || strcmp(w->pool, pool_name) != 0 ||
	    w->cache_high != (features & F_CACHE ? pc->cache_high : 0) ||
	    w->cache_batch != (features & F_CACHE ? pc->cache_batch : 0) ||
	    w->arena_size != (uint64_t)pool->npages * w->page_size)
		die("%s: welcome to %s: features %#x (asked %#x), cache high %u batch %u (pool: %u, "
		    "%u)", c->name, w->pool, w->features, features, w->cache_high, w->cache_batch,
		    pc->cache_high, pc->cache_batch);
	c->npages = pool->npages;
	c->up = true;
	pagepool__v1__response__free_unpacked(r, NULL);
}

/* CacheMap on c: `want` the status it calls for; on success map the region
 * the answer brings and check it. */
static void send_cache_map(struct client *c, int want)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__CacheMap m = PAGEPOOL__V1__CACHE_MAP__INIT;
	const struct pool_conf *pc = &d.cfg.pools[config_pool_index(&d.cfg, pool_name)];
	Pagepool__V1__Response *r;
	struct pp_cc_region *reg;
	struct stat sb;
	int fd, seals;

	q.body_case = PAGEPOOL__V1__REQUEST__BODY_CACHE_MAP;
	q.cache_map = &m;
	r = rpc(c, &q, PAGEPOOL__V1__RESPONSE__BODY_CACHE_MAPPED);
	fd = take_fd(c);
	if ((int)r->status != want || (fd >= 0) != (want == 0))
		die("%s: CacheMap answered %d (%s) with descriptor %d, expected %d", c->name,
		    r->status, r->error, fd, want);
	if (want) {
		pagepool__v1__response__free_unpacked(r, NULL);
		return;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (r->cache_mapped->size != PP_CC_SIZE || r->cache_mapped->version != PP_CC_VERSION ||
	    r->cache_mapped->high != pc->cache_high || r->cache_mapped->batch != pc->cache_batch ||
	    fstat(fd, &sb) < 0 || (size_t)sb.st_size != PP_CC_SIZE || seals < 0 ||
	    (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW))
		die("%s: CacheMapped size %u version %u high %u batch %u; the memfd %ld bytes, "
		    "seals %#x", c->name, r->cache_mapped->size, r->cache_mapped->version,
		    r->cache_mapped->high, r->cache_mapped->batch, (long)sb.st_size, seals);
	pagepool__v1__response__free_unpacked(r, NULL);
	reg = mmap(NULL, PP_CC_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (reg == MAP_FAILED)
		die("%s: mmap of the region: %s", c->name, strerror(errno));
	if (reg->magic != PP_CC_MAGIC || reg->version != PP_CC_VERSION ||
	    reg->size != PP_CC_SIZE || reg->active != 0 || reg->seq || reg->drains)
		die("%s: a new region says magic %#x version %u size %u active %u", c->name,
		    reg->magic, reg->version, reg->size, reg->active);
	for (unsigned s = 0; s < 2; s++)
		for (unsigned k = 0; k < PP_CC_ORDERS; k++)
			if (reg->list[s][k].count)
				die("%s: a new region with list %u/%u not empty", c->name, s, k);
	c->r = reg;
}

/*
 * (Re)connect c and join the pool: variant 0 hello with FEATURE_CACHE and
 * CacheMap; 1 without the feature (CacheMap refused EPERM, no region); 2
 * CacheMap twice (the second EALREADY); 3 CacheMap before the hello
 * (EPROTO), then as 0.
 */
static void client_open(struct client *c, unsigned variant)
{
	client_close(c);
	if (!fuzzd_connect(&d, false, 0, &c->peer, &c->dfd))
		die("%s: connection refused", c->name);
	pump();
	if (variant == 3)
		send_cache_map(c, EPROTO);
	send_hello(c, variant == 1 ? 0 : F_CACHE);
	send_cache_map(c, variant == 1 ? EPERM : 0);
	if (variant == 2)
		send_cache_map(c, EALREADY);
}

/* The n-th (mod how many) block c holds, of `order` (-1: any), not marked
 * in skip[] (may be NULL); NONE when there is none. */
static uint32_t nth_block(const struct client *c, unsigned n, int order, const uint8_t *skip)
{
	uint32_t count = 0, p;

	for (int pass = 0; pass < 2; pass++) {
		uint32_t i = 0;

		for (p = 0; p < c->npages; p++) {
			if (!c->own[p] || (order >= 0 && c->own[p] != order + 1) || (skip && skip[p]))
				continue;
			if (pass == 1 && i == n % count)
				return p;
			i++;
		}
		count = i;
		if (!count)
			return NONE;
	}
	return NONE;
}

/* The set the client's next operation uses: `rel` 0 the daemon's active
 * set, 1 the other. */
static struct pp_cc_list *list_of(struct client *c, unsigned rel, unsigned order)
{
	return &c->r->list[(c->active ^ rel) & 1][order];
}

static uint32_t clamp(uint32_t n)
{
	return n > PP_CC_CAP ? PP_CC_CAP : n;
}

/* ---- requests ---- */

/* Alloc of count blocks of `order` by c: Pages, or ENOMEM / EDQUOT. */
static void op_alloc(struct client *c, unsigned order, unsigned count)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Alloc a = PAGEPOOL__V1__ALLOC__INIT;
	Pagepool__V1__Response *r;
	const Pagepool__V1__Pages *pg;
	uint32_t step = 1u << order;

	a.order = order;
	a.count = count;
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_ALLOC;
	q.alloc = &a;
	r = rpc(c, &q, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
	if (r->status) {
		if (r->status != ENOMEM && r->status != EDQUOT)
			die("%s: alloc of %u order-%u blocks answered %d (%s)", c->name, count, order,
			    r->status, r->error);
		pagepool__v1__response__free_unpacked(r, NULL);
		return;
	}
	pg = r->pages;
	if (pg->order != order || pg->n_pfns != count || pg->n_runs)
		die("%s: alloc of %u order-%u blocks got %zu of order %u (%zu run numbers)", c->name,
		    count, order, pg->n_pfns, pg->order, pg->n_runs);
	for (size_t i = 0; i < pg->n_pfns; i++) {
		uint32_t p = pg->pfns[i];

		if (p >= c->npages || c->npages - p < step || (p & (step - 1)))
			die("%s: given pfn %u of order %u", c->name, p, order);
		for (unsigned k = 0; k < NCLIENTS; k++)
			for (uint32_t j = 0; j < step; j++) {
				uint32_t b = p + j;

				/* Any block of the model that covers page b. */
				for (unsigned o = 0; o <= 7; o++) {
					uint32_t head = b & ~((1u << o) - 1);

					if (cl[k].up && cl[k].own[head] == o + 1)
						die("%s: given block %u of order %u over page %u, "
						    "held by %s as block %u of order %u", c->name, p,
						    order, b, cl[k].name, head, o);
				}
			}
		c->own[p] = (uint8_t)(order + 1);
	}
	c->held += (uint64_t)count << order;
	pagepool__v1__response__free_unpacked(r, NULL);
}

/* Free of pfns[0..n) by c: succeeds exactly when each is a block c holds,
 * listed once, freeing their pages; fails freeing nothing otherwise. */
static void op_free_list(struct client *c, const uint32_t *pfns, size_t n)
{
	static uint8_t seen[MAX_PAGES];
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;
	Pagepool__V1__Response *r;
	uint64_t pages = 0;
	bool ok = n > 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t p = pfns[i];

		if (p >= c->npages || !c->own[p] || seen[p])
			ok = false;
		else
			pages += 1ull << (c->own[p] - 1);
		if (p < c->npages)
			seen[p] = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (pfns[i] < c->npages)
			seen[pfns[i]] = 0;
	f.pfns = (uint32_t *)pfns;
	f.n_pfns = n;
	q.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	q.free = &f;
	r = rpc(c, &q, PAGEPOOL__V1__RESPONSE__BODY_FREED);
	if (ok ? r->status != 0 || r->freed->pages != pages
	       : r->status != EINVAL && r->status != EALREADY && r->status != EPERM)
		die("%s: free of %zu blocks (%s, %lu pages) answered %d (%s) freed %lu", c->name, n,
		    ok ? "all its own" : "not all its own", (unsigned long)pages, r->status, r->error,
		    r->status ? 0ul : (unsigned long)r->freed->pages);
	if (ok) {
		for (size_t i = 0; i < n; i++)
			c->own[pfns[i]] = 0;
		c->held -= pages;
	}
	pagepool__v1__response__free_unpacked(r, NULL);
}

static void op_stat(struct client *c)
{
	Pagepool__V1__Request q = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Stat s = PAGEPOOL__V1__STAT__INIT;
	Pagepool__V1__Response *r;

	q.body_case = PAGEPOOL__V1__REQUEST__BODY_STAT;
	q.stat = &s;
	r = rpc(c, &q, PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT);
	if (r->status || r->pool_stat->held != c->held)
		die("%s: stat answered %d, held %lu; the model %lu", c->name, r->status,
		    r->status ? 0ul : (unsigned long)r->pool_stat->held, (unsigned long)c->held);
	pagepool__v1__response__free_unpacked(r, NULL);
}

/* ---- the client's side of the region, honest ---- */

static void cc_enter(struct client *c)
{
	uint64_t s = __atomic_load_n(&c->r->seq, __ATOMIC_RELAXED);

	if (!(s & 1))		/* odd: still inside the operation it stayed in */
		__atomic_store_n(&c->r->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void cc_leave(struct client *c, bool stay)
{
	uint64_t s = __atomic_load_n(&c->r->seq, __ATOMIC_RELAXED);

	if (!stay && (s & 1))
		__atomic_store_n(&c->r->seq, s + 1, __ATOMIC_RELEASE);
}

/* An honest push: a block of `order` c holds and has listed nowhere. */
static void op_push(struct client *c, unsigned order, bool stay, unsigned pick)
{
	static uint8_t listed[MAX_PAGES];
	struct pp_cc_list *l;
	uint32_t p, n;

	memset(listed, 0, sizeof(listed));
	for (unsigned s = 0; s < 2; s++)
		for (unsigned k = 0; k < PP_CC_ORDERS; k++) {
			const struct pp_cc_list *x = &c->r->list[s][k];

			for (uint32_t i = 0; i < clamp(x->count); i++)
				if (x->pfn[i] < MAX_PAGES)
					listed[x->pfn[i]] = 1;
		}
	p = nth_block(c, pick, (int)order, listed);
	cc_enter(c);
	l = &c->r->list[__atomic_load_n(&c->r->active, __ATOMIC_RELAXED) & 1][order];
	n = l->count;
	if (p != NONE && n < PP_CC_CAP) {
		l->pfn[n] = p;
		__atomic_store_n(&l->count, n + 1, __ATOMIC_RELEASE);
	}
	cc_leave(c, stay);
}

/* An honest pop of up to `want` entries of `order` into out[] (may be
 * NULL); how many. */
static size_t op_pop(struct client *c, unsigned order, bool stay, size_t want, uint32_t *out)
{
	struct pp_cc_list *l;
	uint32_t n;
	size_t got = 0;

	cc_enter(c);
	l = &c->r->list[__atomic_load_n(&c->r->active, __ATOMIC_RELAXED) & 1][order];
	n = l->count;
	if (n <= PP_CC_CAP) {
		while (n && got < want) {
			n--;
			if (out)
				out[got] = l->pfn[n];
			got++;
		}
		__atomic_store_n(&l->count, n, __ATOMIC_RELEASE);
	}
	cc_leave(c, stay);
	return got;
}

/* ---- the drain, by hand, against the model ---- */

static void op_begin(struct client *c)
{
	struct conn *x = client_conn(c);

	worker_enter(x->w);
	ccache_begin(x);
	worker_leave(x->w);
	if (!c->r || c->waiting)
		return;
	c->active ^= 1;
	c->waiting = true;
	c->seq_seen = c->r->seq;
	for (unsigned k = 0; k < PP_CC_ORDERS; k++)
		if (c->r->list[c->active][k].count)
			die("%s: switched to set %u with list %u not emptied", c->name, c->active, k);
	if (c->r->active != c->active)
		die("%s: switched, region active %u; the model %u", c->name, c->r->active,
		    c->active);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void op_finish(struct client *c)
{
	static uint32_t buf[PP_CC_ORDERS][PP_CC_CAP];
	uint32_t n[PP_CC_ORDERS], old = c->active ^ 1;
	struct conn *x = client_conn(c);
	struct ccache_result res = { 0 };
	uint64_t pages = 0, bad = 0;
	bool flush = c->r && c->waiting && (!(c->seq_seen & 1) || c->r->seq != c->seq_seen);
	int ret;

	/* What the old set holds now is what the daemon will read. */
	for (unsigned k = 0; flush && k < PP_CC_ORDERS; k++) {
		const struct pp_cc_list *l = &c->r->list[old][k];
		uint32_t good = 0;

		n[k] = clamp(l->count);
		bad += l->count > PP_CC_CAP;
		memcpy(buf[k], l->pfn, n[k] * sizeof(uint32_t));
		qsort(buf[k], n[k], sizeof(uint32_t), cmp_u32);
		for (uint32_t i = 0; i < n[k]; i++) {
			uint32_t p = buf[k][i];

			if ((i && p == buf[k][i - 1]) || p >= c->npages || c->own[p] != k + 1)
				continue;
			buf[k][good++] = p;
			pages += 1ull << k;
		}
		bad += n[k] - good;
		n[k] = good;
	}
	worker_enter(x->w);
	ret = ccache_finish(x, &res);
	worker_leave(x->w);
	if (ret != flush)
		die("%s: ccache_finish returned %d; the model says %d (waiting %d, seq seen %lu, "
		    "seq %lu)", c->name, ret, flush, c->waiting, (unsigned long)c->seq_seen,
		    c->r ? (unsigned long)c->r->seq : 0ul);
	if (!flush) {
		if (res.pages || res.bad || res.clients)
			die("%s: no flush, but %lu pages, %lu bad", c->name, (unsigned long)res.pages,
			    (unsigned long)res.bad);
		return;
	}
	if (res.pages != pages || res.bad != bad || res.clients != 1)
		die("%s: flush freed %lu pages, %lu bad entries, %u clients; the model %lu, %lu, 1",
		    c->name, (unsigned long)res.pages, (unsigned long)res.bad, res.clients,
		    (unsigned long)pages, (unsigned long)bad);
	for (unsigned k = 0; k < PP_CC_ORDERS; k++) {
		if (c->r->list[old][k].count)
			die("%s: flushed, but the old list %u/%u holds %u", c->name, old, k,
			    c->r->list[old][k].count);
		for (uint32_t i = 0; i < n[k]; i++)
			c->own[buf[k][i]] = 0;
	}
	c->held -= pages;
	c->waiting = false;
	c->drains++;
	c->errors += bad;
	c->flushed += pages;
	if (c->r->drains != c->drains)
		die("%s: the region counts %lu drains; the model %lu", c->name,
		    (unsigned long)c->r->drains, (unsigned long)c->drains);
	op_stat(c);
}

/* ---- operations ---- */

static void op_free(struct client *c, unsigned variant)
{
	static uint32_t pfns[MAX_COUNT + 1];
	struct client *o = &cl[c == &cl[CL_A] ? CL_B : CL_A];
	unsigned b = get8();
	size_t n = 0;
	uint32_t p;

	switch (variant) {
	case 1: case 7:					/* all, every other */
		for (p = 0, b = 0; p < c->npages && n < MAX_COUNT; p++)
			if (c->own[p] && (variant == 1 || b++ % 2 == 0))
				pfns[n++] = p;
		break;
	case 2:						/* a spill of its active list */
		if (c->r)
			n = op_pop(c, b >> 4 & 3, false, b % 16, pfns);
		break;
	case 6:						/* a raw pfn */
		pfns[n++] = (uint32_t)(b | get8() << 8);
		break;
	default:
		p = nth_block(variant == 4 ? o : c, b, -1, NULL);
		if (p == NONE)
			p = b;
		pfns[n++] = variant == 5 ? p + 1 : p;
		if (variant == 3)
			pfns[n++] = p;
		break;
	}
	if (n)
		op_free_list(c, pfns, n);
}

/* A's list [set][order] := `count` blocks of A, or of A and B in turn. */
static void op_fill(struct client *a, unsigned rel, unsigned order, bool mixed, unsigned count)
{
	struct pp_cc_list *l = list_of(a, rel, order);

	for (unsigned i = 0; i < count; i++) {
		struct client *src = mixed && (i & 1) ? &cl[CL_B] : a;
		uint32_t p = nth_block(src, i / (mixed ? 2 : 1), -1, NULL);

		l->pfn[i] = p == NONE ? i : p;
	}
	l->count = count;
}

static void op_field(struct client *a, unsigned x)
{
	struct pp_cc_region *r = a->r;

	if (x < 8) {
		list_of(a, x >> 2, x & 3)->count = (uint32_t)get_le(4);
	} else if (x == 8) {
		r->seq++;
	} else if (x == 9) {
		r->seq = get_le(8);
	} else if (x == 10) {
		r->active = (uint32_t)get_le(4);
	} else if (x == 11) {
		r->seq--;
	} else {
		unsigned i = get8() % PP_CC_CAP;

		list_of(a, 0, x & 3)->pfn[i] = (uint32_t)get_le(4);
	}
}

static void op_write(struct client *a, unsigned len)
{
	size_t off = get_le(2) % PP_CC_SIZE;

	for (unsigned i = 0; i < len; i++) {
		unsigned v = get8();

		if (off + i < PP_CC_SIZE)
			((uint8_t *)a->r)[off + i] = (uint8_t)v;
	}
}

static const char *const op_names[16] = {
	"write", "field", "put", "fill", "push", "pop", "begin", "finish", "alloc", "free",
	"stat", "die", "connect", "cycle", "copy", "seq",
};

static void op_run(unsigned op, unsigned x)
{
	struct client *a = &cl[CL_A], *c = &cl[x & 1];
	bool region = a->up && a->r;

	if (debug)
		fprintf(stderr, "fuzz_ccache: %s %#x (at byte %zu)\n", op_names[op], x, in_pos - 1);
	switch (op) {
	case 0:
		if (region)
			op_write(a, x + 1);
		break;
	case 1:
		if (region)
			op_field(a, x);
		break;
	case 2: {
		unsigned b = get8();
		struct pp_cc_list *l;
		uint32_t p;

		if (!region)
			break;
		l = list_of(a, x & 1, x >> 1 & 3);
		p = nth_block(&cl[x & 8 ? CL_B : CL_A], b, -1, NULL);
		l->pfn[clamp(l->count) % PP_CC_CAP] = p == NONE ? b : p;
		if (l->count < PP_CC_CAP)
			l->count++;
		break;
	}
	case 3: {
		unsigned count = get8();

		if (region)
			op_fill(a, x & 1, x >> 1 & 3, x & 8, count);
		break;
	}
	case 4: case 5: {
		unsigned b = get8();

		if (!c->up || !c->r)
			break;
		if (op == 4)
			op_push(c, x >> 1 & 3, x & 8, b);
		else
			op_pop(c, x >> 1 & 3, x & 8, 1, NULL);
		break;
	}
	case 6: case 7: case 13:
		if (!c->up)
			break;
		if (op != 7)
			op_begin(c);
		if (op != 6)
			op_finish(c);
		break;
	case 8: {
		unsigned count = get8() % 32 + 1;

		if (c->up)
			op_alloc(c, x >> 1, count);
		break;
	}
	case 9:
		if (c->up)
			op_free(c, x >> 1 & 7);
		break;
	case 10:
		if (c->up)
			op_stat(c);
		break;
	case 11:
		client_close(c);
		break;
	case 12:
		client_open(c, x >> 1 & 3);
		break;
	case 14: {
		unsigned b = get8();

		if (region)
			*list_of(a, x & 1, x >> 1 & 3) = *list_of(a, b & 1, b >> 1 & 3);
		break;
	}
	default:
		if (c->up && c->r) {
			if (x & 2)
				cc_leave(c, false);
			else
				cc_enter(c);
		}
		break;
	}
}

/* ---- oracles ---- */

/* c's blocks, page count and drain counters are the daemon's. */
static void check_client(const struct client *c)
{
	const struct conn *x = client_conn(c);
	const struct ccache *cc;

	if (!c->up)
		return;
	if (!x || x->pool != pool)
		die("%s: no connection in pool %s", c->name, pool->name);
	if (x->owner.pages != c->held || x->owner.ref_pages || x->owner.noffers)
		die("%s: the daemon counts %lu pages held; the model %lu", c->name,
		    (unsigned long)x->owner.pages, (unsigned long)c->held);
	for (uint32_t p = 0; p < c->npages; p++) {
		const struct page *pg = &pool->pages[p];

		if (c->own[p] && (page_state(pg) != PG_ALLOC || page_owner(pg) != x->owner.id ||
				  pg->order != c->own[p] - 1u))
			die("%s: holds block %u of order %u; the daemon's descriptor says state %u "
			    "owner %#x order %u", c->name, p, c->own[p] - 1u, page_state(pg),
			    page_owner(pg), pg->order);
	}
	cc = x->cc;
	if (!c->r) {
		if (cc)
			die("%s: a cache region the client never got", c->name);
		return;
	}
	if (!cc || cc->active != c->active || cc->waiting != c->waiting ||
	    cc->drains != c->drains || cc->errors != c->errors ||
	    cc->flushed != c->flushed)
		die("%s: the daemon's cache: active %u waiting %d, %lu drains, %lu errors, %lu pages "
		    "flushed; the model %u %d, %lu, %lu, %lu", c->name, cc ? cc->active : 9,
		    cc ? cc->waiting : 0, cc ? (unsigned long)cc->drains : 0ul,
		    cc ? (unsigned long)cc->errors : 0ul, cc ? (unsigned long)cc->flushed : 0ul,
		    c->active, c->waiting, (unsigned long)c->drains, (unsigned long)c->errors,
		    (unsigned long)c->flushed);
}

/* After every operation: the pool, the clients, the quotas. */
static void check_live(void)
{
	struct owner *owners[NCLIENTS + 2];
	uint64_t held = 0, pcp = 0;
	struct pool_counts pc;
	unsigned n = 0;
	char err[256];

	for (unsigned k = 0; k < nw; k++) {
		const struct pcp_stats *ps = &pool_pcp(pool, k)->stats;

		pcp += ps->alloc_pages - ps->free_pages;
		for (struct conn *x = W[k]->conns; x; x = x->next) {
			if (x->pool != pool)
				continue;
			if (n == NCLIENTS)
				die("more connections in pool %s than clients", pool->name);
			owners[n++] = &x->owner;
		}
	}
	if (pool_verify(pool, owners, n, err, sizeof(err)) != 0)
		die("pool %s, %u clients: pool_verify: %s", pool->name, n, err);
	if (!fuzz_buddies_merged(pool, err, sizeof(err)))
		die("pool %s: %s", pool->name, err);
	for (unsigned i = 0; i < NCLIENTS; i++) {
		check_client(&cl[i]);
		if (cl[i].up)
			held += cl[i].held;
	}
	pool_counts(pool, &pc);
	if (pc.allocated != held || pcp != held)
		die("pool %s: %lu pages allocated (the pcps count %lu); the clients hold %lu",
		    pool->name, (unsigned long)pc.allocated, (unsigned long)pcp,
		    (unsigned long)held);
	fuzzd_check_quotas(&d);
}

/* Every client gone: no connection, slot or charge left; with the pcps
 * drained, every page free and merged. */
static void check_quiet(void)
{
	fuzzd_check_closed(&d);
	for (unsigned i = 0; i < d.cfg.npools; i++) {
		struct pool *p = d.pools[i];

		if (pool_drain(p, DRAIN_RCU, 0, NULL) < 0)
			die("pool %s: drain failed", p->name);
		fuzzd_check_pool_empty(p);
	}
	d.next_client_id = 0;
}

/* ---- libFuzzer ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char cpus[32];

	debug = getenv("FUZZ_CCACHE_DEBUG") != NULL;
	fuzzd_init("fuzz_ccache", debug, tmpdir, sizeof(tmpdir));
	nw = fuzzd_cpus(cpus, sizeof(cpus));
	snprintf(cfg_path, sizeof(cfg_path), "%s/pagepoold.conf", tmpdir);
	config_write(cfg_path, cpus);
	atexit(cleanup);

	fuzzd_start(&d, cfg_path, nw, false);
	W = d.workers;
	for (unsigned i = 0; i < d.cfg.npools; i++)
		if (d.pools[i]->npages > MAX_PAGES)
			die("pool %s: %u pages, more than the harness tracks", d.pools[i]->name,
			    d.pools[i]->npages);
	cl[CL_A].name = "client A";
	cl[CL_B].name = "client B";
	for (unsigned i = 0; i < NCLIENTS; i++) {
		cl[i].peer = -1;
		cl[i].fd_in = -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	in_data = data;
	in_size = size;
	in_pos = 1;
	pool_name = data[0] & 1 ? "small" : "default";
	pool = d.pools[config_pool_index(&d.cfg, pool_name)];
	client_open(&cl[CL_A], 0);
	client_open(&cl[CL_B], 0);
	check_live();
	while (in_pos < in_size) {
		unsigned h = get8();

		op_run(h & 15, h >> 4);
		check_live();
	}
	for (unsigned i = 0; i < NCLIENTS; i++)
		if (cl[i].up)
			op_stat(&cl[i]);
	for (unsigned i = 0; i < NCLIENTS; i++)
		client_close(&cl[i]);
	check_quiet();
	return 0;
}
