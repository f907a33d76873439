/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libpagepool.c - the client library of pagepoold (see pagepool.h).
 *
 * A struct pp_client is one blocking UNIX stream connection plus the pool's
 * arena, mapped MAP_SHARED once at connect.  Calls are strictly one request,
 * one response: ids start at 1 and increase, and the response must echo the
 * id just sent.  The I/O, framing and id matching are proto/transport.c's;
 * this file checks everything the daemon says before believing it.  The
 * offers (pp_offer, pp_loan, pp_take, pp_cancel) are handoff.c's, the
 * client cache (pp_alloc and pp_free that need no round trip) ccache.c's;
 * what the files share is in libpp.h.
 *
 * A client breaks on any failure that leaves the stream in an unknown state
 * (send/receive error, EOF, timeout, oversized or undecodable frame, wrong
 * id, a response that contradicts its request).  A broken client does no
 * more I/O: its calls return -ECONNRESET, pp_last_error() keeps the reason,
 * and the socket stays open until pp_close(), so pages already allocated
 * stay held (and mapped) until then.  pp_last_error() is the transport's
 * error text, which this file also writes its own failures into.
 *
 * The arena fd is closed as soon as it is mapped: the mapping keeps the
 * memfd alive, and the process is spared one descriptor per client.
 *
 * The library never prints, never exits and never raises SIGPIPE (every send
 * is MSG_NOSIGNAL).  Only the functions of pagepool.h are exported; the
 * objects are built with -fvisibility=hidden.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libpp.h"

#define ERRLEN		TRANSPORT_ERRLEN	/* pp_last_error() text, NUL included */
#define PP_FLAGS	(PP_NOWAIT | PP_ZERO | PP_PARTIAL)

_Static_assert(PP_NOWAIT == PAGEPOOL__V1__ALLOC_FLAG__ALLOC_NOWAIT, "PP_NOWAIT");
_Static_assert(PP_ZERO == PAGEPOOL__V1__ALLOC_FLAG__ALLOC_ZERO, "PP_ZERO");
_Static_assert(PP_PARTIAL == PAGEPOOL__V1__ALLOC_FLAG__ALLOC_PARTIAL, "PP_PARTIAL");

/* pp_last_error(NULL): why this thread's last pp_connect failed. */
static _Thread_local char connect_error[ERRLEN];
static _Thread_local char strerror_buf[128];

/* Text of `err` (> 0) for pp_strerror; the protocol's meanings first. */
#define PP_ERRORS(X)							\
	X(EPERM, "not allowed (pool access or another client's page)")	\
	X(ENOENT, "no such pool (or offer)")				\
	X(EAGAIN, "no cached pages (NOWAIT)")				\
	X(ENOMEM, "pool exhausted (or out of memory)")			\
	X(EBUSY, "resource busy")					\
	X(EINVAL, "invalid argument")					\
	X(E2BIG, "count or message larger than the limit")		\
	X(EPROTO, "protocol error")					\
	X(EPROTONOSUPPORT, "protocol version not supported")		\
	X(EDQUOT, "page (or offer) quota exceeded")			\
	X(EALREADY, "page not allocated (double free?), or offer taken") \
	X(ECANCELED, "the offer was cancelled by its giver")		\
	X(EOWNERDEAD, "the offer's giver disconnected; its pages are gone") \
	X(ENOBUFS, "more blocks than room for them")			\
	X(ESHUTDOWN, "the daemon is shutting down")			\
	X(ECONNRESET, "connection to the daemon lost")			\
	X(EPIPE, "connection to the daemon lost (broken pipe)")	\
	X(ECONNREFUSED, "no daemon listening on the socket")		\
	X(ETIMEDOUT, "the daemon did not answer in time")		\
	X(EACCES, "permission denied on the daemon's socket")		\
	X(ENAMETOOLONG, "socket path or pool name too long")

/* Format into dst (ERRLEN bytes), keeping printable ASCII only. */
static void errtext_vset(char *dst, const char *fmt, va_list ap)
{
	vsnprintf(dst, ERRLEN, fmt, ap);
	for (unsigned char *p = (unsigned char *)dst; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

int libpp_fail(struct pp_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errtext_vset(c->t.error, fmt, ap);
	va_end(ap);
	return err;
}

int libpp_fail_break(struct pp_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errtext_vset(c->t.error, fmt, ap);
	va_end(ap);
	c->t.broken = true;
	return err;
}

/* libpp.h has the contracts of libpp_fail, libpp_fail_break, libpp_call. */
int libpp_call(struct pp_client *c, wire_request *req, wire_response **out, int *fd_out)
{
	ProtobufCMessage *resp;
	int err;

	c->bad_index = UINT32_MAX;
	c->calls++;
	req->id = transport_next_id(&c->t);
	err = transport_call(&c->t, &req->base, &pagepool__v1__response__descriptor, &resp,
			     fd_out);
	if (err && resp) {
		c->bad_index = ((wire_response *)resp)->bad_index;
		wire_response_free((wire_response *)resp);
	}
	if (!err)
		*out = (wire_response *)resp;
	return err;
}

int libpp_expect_body(struct pp_client *c, wire_response *resp, int body_case)
{
	int got = (int)resp->body_case;

	if (got == body_case)
		return 0;
	wire_response_free(resp);
	return libpp_fail_break(c, -EPROTO, "response body %d, expected %d", got, body_case);
}

/* Check the welcome's numbers; they are used as shifts and bounds later. */
static int welcome_check(struct pp_client *c, const Pagepool__V1__Welcome *w,
			 const char *pool)
{
	uint32_t ps = w->page_size;

	if (w->version != WIRE_VERSION)
		return libpp_fail(c, -EPROTONOSUPPORT, "the daemon speaks protocol version %u, "
				  "the library %u", w->version, WIRE_VERSION);
	if (ps == 0 || (ps & (ps - 1)))
		return libpp_fail(c, -EPROTO, "welcome: page size %u", ps);
	if (w->arena_size == 0 || w->arena_size % ps || w->arena_size / ps > (1ULL << 32) ||
	    w->arena_size > SIZE_MAX)
		return libpp_fail(c, -EPROTO, "welcome: arena of %llu bytes, pages of %u",
				  (unsigned long long)w->arena_size, ps);
	if (w->max_count == 0 || w->max_order > 31 || w->max_frame == 0)
		return libpp_fail(c, -EPROTO, "welcome: max_count %u, max_order %u, max_frame %u",
				  w->max_count, w->max_order, w->max_frame);
	if (!w->pool || strlen(w->pool) >= sizeof(c->info.pool) ||
	    (pool[0] && strcmp(pool, w->pool) != 0))
		return libpp_fail(c, -EPROTO, "welcome: joined pool '%.64s', asked for '%s'",
				  w->pool ? w->pool : "", pool);
	return 0;
}

/*
 * Map the arena fd the welcome brought.  The fd must be a memfd sealed
 * against shrinking and at least arena_size long: a shorter file would turn
 * page accesses into SIGBUS.  The caller closes fd.
 */
static int arena_map(struct pp_client *c, int fd, uint64_t size)
{
	struct stat st;
	int seals;

	if (fd < 0)
		return libpp_fail(c, -EPROTO, "welcome without the arena fd");
	if (fstat(fd, &st) < 0)
		return libpp_fail(c, -errno, "fstat arena: %s", strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size < size)
		return libpp_fail(c, -EPROTO, "arena fd of %lld bytes, welcome says %llu",
				  (long long)st.st_size, (unsigned long long)size);
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return libpp_fail(c, -EPROTO, "arena fd is not sealed against shrinking");
	c->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (c->base == MAP_FAILED) {
		c->base = NULL;
		return libpp_fail(c, -errno, "mmap arena: %s", strerror(errno));
	}
	c->map_len = size;
	return 0;
}

static void info_fill(struct pp_client *c, const Pagepool__V1__Welcome *w)
{
	struct pp_info *i = &c->info;

	snprintf(i->pool, sizeof(i->pool), "%s", w->pool);
	i->page_size = w->page_size;
	i->arena_size = w->arena_size;
	i->client_id = w->client_id;
	i->max_count = w->max_count;
	i->max_order = w->max_order;
	i->max_frame = w->max_frame;
	i->quota_pages = w->quota_pages;
	i->worker = w->worker;
	c->t.max_frame = w->max_frame;
	c->npages = w->arena_size / w->page_size;
	c->page_shift = (unsigned)__builtin_ctz(w->page_size);
}

/* The features to ask for: runs, unless $PAGEPOOL_RUNS is "0" (plain lists,
 * as a client from before the feature sends). */
static uint32_t env_features(void)
{
	const char *s = secure_getenv("PAGEPOOL_RUNS");

	return s && strcmp(s, "0") == 0 ? 0 : PAGEPOOL__V1__FEATURE__FEATURE_RUNS;
}

/* Say hello, check the welcome, map the arena, and the cache region when
 * the welcome grants one. */
static int handshake(struct pp_client *c, const char *pool)
{
	Pagepool__V1__Hello hello = PAGEPOOL__V1__HELLO__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	uint32_t cache_high = 0, cache_batch = 0;
	int fd = -1, err;

	hello.version = WIRE_VERSION;
	hello.pool = (char *)pool;
	hello.features = env_features() | libpp_cache_features();
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_HELLO;
	req.hello = &hello;
	err = libpp_call(c, &req, &resp, &fd);
	if (err == -EPROTO && hello.features && !c->t.broken) {
		/* A daemon older than the features field refuses the hello
		 * (unknown fields) and keeps the connection: ask again. */
		hello.features = 0;
		err = libpp_call(c, &req, &resp, &fd);
	}
	if (!err)
		err = libpp_expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_WELCOME);
	if (!err) {
		err = welcome_check(c, resp->welcome, pool);
		if (!err)
			err = arena_map(c, fd, resp->welcome->arena_size);
		if (!err) {
			info_fill(c, resp->welcome);
			c->features = resp->welcome->features & hello.features;
			cache_high = resp->welcome->cache_high;
			cache_batch = resp->welcome->cache_batch;
		}
		wire_response_free(resp);
	}
	if (fd >= 0)
		close(fd);
	if (!err && (c->features & PAGEPOOL__V1__FEATURE__FEATURE_CACHE))
		err = libpp_cache_open(c, cache_high, cache_batch);
	return err;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * pp_connect's bound from $PAGEPOOL_TIMEOUT_MS: *timeout_ms is -1 (block)
 * when it is unset or empty.  Anything but a decimal number of milliseconds
 * up to INT_MAX is -EINVAL: a typo must not turn into "wait forever".
 */
static int env_timeout(struct pp_client *c, int *timeout_ms)
{
	const char *s = secure_getenv("PAGEPOOL_TIMEOUT_MS");
	char *end;
	long v;

	*timeout_ms = -1;
	if (!s || !s[0])
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end || errno || v > INT_MAX)
		return libpp_fail(c, -EINVAL,
				  "PAGEPOOL_TIMEOUT_MS=%.32s: not a number of milliseconds", s);
	*timeout_ms = (int)v;
	return 0;
}

/*
 * Connect, say hello and map the arena, all within timeout_ms when it is
 * not negative: the handshake gets what the connect left of it.  Later
 * calls block until pp_set_timeout() says otherwise.
 */
static int client_open(struct pp_client *c, const char *path, const char *pool,
		       int timeout_ms)
{
	int64_t start = now_ms();
	int err;

	err = transport_connect(&c->t, path, timeout_ms);
	if (err)
		return err;
	if (timeout_ms >= 0) {
		int64_t left = timeout_ms - (now_ms() - start);

		c->t.timeout_ms = left > 0 ? (int)left : 0;
	}
	err = handshake(c, pool);
	c->t.timeout_ms = -1;
	return err;
}

/* NULL or "": $PAGEPOOL_SOCKET when set and not empty, else PP_DEFAULT_SOCKET. */
static const char *socket_default(void)
{
	const char *env = secure_getenv("PAGEPOOL_SOCKET");

	return env && env[0] ? env : PP_DEFAULT_SOCKET;
}

PP_EXPORT int pp_connect(const char *socket_path, const char *pool, struct pp_client **out)
{
	struct pp_client *c;
	int timeout_ms, err;

	connect_error[0] = '\0';
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!socket_path || !socket_path[0])
		socket_path = socket_default();
	if (!pool)
		pool = "";
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(connect_error, ERRLEN, "out of memory");
		return -ENOMEM;
	}
	c->t.fd = -1;
	err = env_timeout(c, &timeout_ms);
	if (!err && strlen(pool) >= sizeof(c->info.pool))
		err = libpp_fail(c, -ENAMETOOLONG, "pool name longer than %zu bytes",
				 sizeof(c->info.pool) - 1);
	if (!err)
		err = client_open(c, socket_path, pool, timeout_ms);
	if (err) {
		memcpy(connect_error, c->t.error, ERRLEN);
		pp_close(c);
		return err;
	}
	*out = c;
	return 0;
}

PP_EXPORT void pp_close(struct pp_client *c)
{
	if (!c)
		return;
	libpp_cache_close(c);
	if (c->base)
		munmap(c->base, c->map_len);
	transport_close(&c->t);
	free(c);
}

PP_EXPORT int pp_set_timeout(struct pp_client *c, int timeout_ms)
{
	if (!c)
		return -EINVAL;
	c->t.timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;
	return 0;
}

PP_EXPORT const struct pp_info *pp_info(const struct pp_client *c)
{
	return c ? &c->info : NULL;
}

int libpp_blocks_count(struct pp_client *c, const char *what, size_t n_pfns,
		       const uint32_t *runs, size_t n_runs, uint64_t *total)
{
	uint64_t sum = n_pfns;

	if (n_runs && !(c->features & PAGEPOOL__V1__FEATURE__FEATURE_RUNS))
		return libpp_fail_break(c, -EPROTO, "%s answered with runs it was not asked for",
					what);
	if (n_runs % 2)
		return libpp_fail_break(c, -EPROTO, "%s answered with an odd runs list", what);
	for (size_t i = 1; i < n_runs; i += 2) {
		if (runs[i] == 0)
			return libpp_fail_break(c, -EPROTO, "%s answered with an empty run", what);
		sum += runs[i];
	}
	*total = sum;
	return 0;
}

int libpp_blocks_expand(struct pp_client *c, const char *what, const uint32_t *pfns,
			size_t n_pfns, const uint32_t *runs, size_t n_runs, unsigned order,
			uint32_t *out, size_t *n)
{
	size_t k = 0;

	for (size_t i = 0; i < n_pfns; i++)
		out[k++] = pfns[i];
	for (size_t i = 0; i < n_runs; i += 2)
		for (uint64_t j = 0, pfn = runs[i]; j < runs[i + 1]; j++, pfn += 1u << order)
			out[k++] = pfn > UINT32_MAX ? UINT32_MAX : (uint32_t)pfn;
	for (size_t i = 0; i < k; i++)
		if ((uint64_t)out[i] + (1ULL << order) > c->npages)
			return libpp_fail_break(c, -EPROTO, "%s answered pfn %u outside the arena "
						"(%llu pages)", what, out[i],
						(unsigned long long)c->npages);
	*n = k;
	return 0;
}

/*
 * The Pages answer to an Alloc of count blocks of order, into pfns[] (room
 * for count): its list, or its runs expanded (FEATURE_RUNS), each block
 * checked to lie in the arena.  0 and *n, or -EPROTO (the connection is
 * broken: its answers can no longer be trusted).
 */
static int pages_take(struct pp_client *c, const Pagepool__V1__Pages *p, unsigned order,
		      unsigned count, unsigned flags, uint32_t *pfns, size_t *n)
{
	uint64_t total;
	int err;

	err = libpp_blocks_count(c, "alloc", p->n_pfns, p->runs, p->n_runs, &total);
	if (err)
		return err;
	if (p->order != order || total == 0 || total > count ||
	    (total < count && !(flags & PP_PARTIAL)))
		return libpp_fail_break(c, -EPROTO, "alloc of %u order-%u blocks answered with "
					"%llu of order %u", count, order,
					(unsigned long long)total, p->order);
	return libpp_blocks_expand(c, "alloc", p->pfns, p->n_pfns, p->runs, p->n_runs, order,
				   pfns, n);
}

int libpp_alloc_rpc(struct pp_client *c, unsigned order, unsigned count, unsigned flags,
		    uint32_t *pfns, size_t *n)
{
	Pagepool__V1__Alloc alloc = PAGEPOOL__V1__ALLOC__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	int err;

	*n = 0;
	alloc.order = order;
	alloc.count = count;
	alloc.flags = flags;
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_ALLOC;
	req.alloc = &alloc;
	err = libpp_call(c, &req, &resp, NULL);
	if (!err)
		err = libpp_expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
	if (err)
		return err;
	err = pages_take(c, resp->pages, order, count, flags, pfns, n);
	wire_response_free(resp);
	return err;
}

/* The cache (ccache.c) serves it, or makes the round trip. */
PP_EXPORT int pp_alloc(struct pp_client *c, unsigned order, unsigned count, unsigned flags,
		       uint32_t *pfns, unsigned *got)
{
	if (got)
		*got = 0;
	if (!c)
		return -EINVAL;
	if (!pfns || count == 0 || (flags & ~PP_FLAGS))
		return libpp_fail(c, -EINVAL, "pp_alloc: %s", !pfns ? "pfns is NULL" :
				  count == 0 ? "count 0" : "unknown flags");
	if (order > c->info.max_order)
		return libpp_fail(c, -EINVAL, "pp_alloc: order %u above max_order %u", order,
				  c->info.max_order);
	if (count > c->info.max_count)
		return libpp_fail(c, -E2BIG, "pp_alloc: count %u above max_count %u", count,
				  c->info.max_count);
	return libpp_cache_alloc(c, order, count, flags, pfns, got);
}

bool libpp_runs_pack(const uint32_t *pfns, unsigned n, unsigned order, uint32_t *runs,
		     size_t *nruns)
{
	size_t k = 0;

	if (n < 4)
		return false;
	for (unsigned i = 0; i < n;) {
		unsigned j = i + 1;

		while (j < n && pfns[j - 1] <= UINT32_MAX - (1u << order) &&
		       pfns[j] == pfns[j - 1] + (1u << order))
			j++;
		if (k + 2 > LIBPP_RUNS_MAX || k + 2 > n / 2)
			return false;
		runs[k++] = pfns[i];
		runs[k++] = j - i;
		i = j;
	}
	*nruns = k;
	return true;
}

/*
 * pfns[] as runs (libpp_runs_pack), with the stride of the first two pfns
 * when it is a power of two up to max_order pages (else 1): true and
 * runs[], *nruns, *run_order when that is shorter than the list.
 */
static bool free_runs(const uint32_t *pfns, unsigned n, unsigned max_order, uint32_t *runs,
		      size_t *nruns, unsigned *run_order)
{
	uint32_t d = n > 1 ? pfns[1] - pfns[0] : 0;
	unsigned o = d && !(d & (d - 1)) ? (unsigned)__builtin_ctz(d) : 0;

	if (o > max_order)
		o = 0;
	if (!libpp_runs_pack(pfns, n, o, runs, nruns))
		return false;
	*run_order = o;
	return true;
}

/*
 * *bad_index is always written when given: the index of the pfn the daemon
 * blamed, or n when the failure is not about one pfn.  Only the per-pfn
 * statuses carry an index: proto3 cannot tell "index 0" from "no index".
 */
int libpp_free_rpc(struct pp_client *c, const uint32_t *pfns, unsigned n, unsigned *bad_index)
{
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	uint32_t runs[LIBPP_RUNS_MAX];
	size_t nruns = 0;
	unsigned run_order = 0;
	int err;

	if (bad_index)
		*bad_index = n;

	if ((c->features & PAGEPOOL__V1__FEATURE__FEATURE_RUNS) &&
	    free_runs(pfns, n, c->info.max_order, runs, &nruns, &run_order)) {
		f.runs = runs;
		f.n_runs = nruns;
		f.run_order = run_order;
	} else {
		f.n_pfns = n;
		f.pfns = (uint32_t *)pfns;	/* only read by the packer */
	}
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	req.free = &f;
	err = libpp_call(c, &req, &resp, NULL);
	if (err) {
		/* EBUSY: a block under this client's open offer (pp_offer). */
		if (bad_index && c->bad_index < n && (err == -EINVAL || err == -EPERM ||
						      err == -EALREADY || err == -EBUSY))
			*bad_index = c->bad_index;
		return err;
	}
	err = libpp_expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_FREED);
	if (!err)
		wire_response_free(resp);
	return err;
}

/* The cache (ccache.c) takes the blocks, refuses one it holds (freed
 * already), or makes the round trip. */
PP_EXPORT int pp_free(struct pp_client *c, const uint32_t *pfns, unsigned n,
		      unsigned *bad_index)
{
	if (bad_index)
		*bad_index = n;
	if (!c)
		return -EINVAL;
	if (!pfns || n == 0)
		return libpp_fail(c, -EINVAL, "pp_free: %s", !pfns ? "pfns is NULL" : "n is 0");
	if (n > c->info.max_count)
		return libpp_fail(c, -E2BIG, "pp_free: %u pfns, max_count %u", n,
				  c->info.max_count);
	return libpp_cache_free(c, pfns, n, bad_index);
}

PP_EXPORT int pp_stat(struct pp_client *c, struct pp_stat *st)
{
	Pagepool__V1__Stat stat = PAGEPOOL__V1__STAT__INIT;
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	wire_response *resp;
	const Pagepool__V1__PoolStat *ps;
	int err;

	if (!c)
		return -EINVAL;
	if (!st)
		return libpp_fail(c, -EINVAL, "pp_stat: st is NULL");
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_STAT;
	req.stat = &stat;
	err = libpp_call(c, &req, &resp, NULL);
	if (!err)
		err = libpp_expect_body(c, resp, PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT);
	if (err)
		return err;
	ps = resp->pool_stat;
	*st = (struct pp_stat){
		.total = ps->total, .free = ps->free, .pcp = ps->pcp,
		.allocated = ps->allocated, .isolated = ps->isolated,
		.offline = ps->offline, .held = ps->held,
		.shared = ps->shared, .offered = ps->offered, .offers = ps->offers,
		.refs = ps->refs, .my_offered = ps->my_offered,
		.calls = c->calls,
	};
	wire_response_free(resp);
	libpp_cache_stat(c, st);
	return 0;
}

PP_EXPORT void *pp_page(const struct pp_client *c, uint32_t pfn)
{
	if (!c || !c->base || pfn >= c->npages)
		return NULL;
	return c->base + ((size_t)pfn << c->page_shift);
}

/* The C library's text for err, into this thread's buffer when needed. */
static const char *libc_strerror(int err)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(err, strerror_buf, sizeof(strerror_buf));	/* GNU */
#else
	if (strerror_r(err, strerror_buf, sizeof(strerror_buf)) != 0)	/* XSI */
		snprintf(strerror_buf, sizeof(strerror_buf), "error %d", err);
	return strerror_buf;
#endif
}

PP_EXPORT const char *pp_strerror(int err)
{
	long e = err < 0 ? -(long)err : err;

	switch (e) {
	case 0:
		return "success";
#define X(num, text) case num: return text;
	PP_ERRORS(X)
#undef X
	}
	if (e > INT_MAX)
		return "unknown error";
	return libc_strerror((int)e);
}

PP_EXPORT const char *pp_last_error(const struct pp_client *c)
{
	return c ? c->t.error : connect_error;
}
