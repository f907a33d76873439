/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_peer.c - one comparator for bench-peers.sh: the allocator a caller
 * could use instead of a pagepool pcp hit, measured on its own fast path
 * with one 4096-byte object taken and given back per operation.  The file
 * builds one binary per comparator (tests/bench/peers.mk), chosen by one
 * -D flag, because jemalloc and tcmalloc replace malloc for the whole
 * process:
 *
 *   -DPEER_GLIBC      bench_peer_glibc     glibc malloc(4096) + free
 *   -DPEER_JEMALLOC   bench_peer_jemalloc  the same, linked with -ljemalloc
 *   -DPEER_TCMALLOC   bench_peer_tcmalloc  the same, with -ltcmalloc_minimal
 *   -DPEER_DPDK       bench_peer_dpdk      rte_mempool_get + rte_mempool_put
 *                                          on the main lcore's cache
 *
 * Each binary speaks bench_core's interface:
 *
 *   bench_peer_X                     set up, run the pair loop timed
 *                                    (clock_gettime, median of RUNS runs),
 *                                    check the loop took the claimed path,
 *                                    print "info" and "row" lines
 *   bench_peer_X --callgrind CASE N  run exactly N pairs between
 *                                    CALLGRIND_ZERO_STATS and
 *                                    CALLGRIND_DUMP_STATS_AT; prints "ops N"
 *                                    and "count FN... HOW" (which functions
 *                                    of the dump hold the operation)
 *   bench_peer_X --list              the case name and what it measures
 *
 * The allocator calls sit in two noinline functions, peer_get and peer_put,
 * so that the compiler can neither drop a malloc/free pair nor blend the
 * pair into the loop, and so that callgrind can find the operation: for the
 * malloc family it is what peer_get/peer_put call (malloc and free, entry to
 * return, as for pcp_alloc/pcp_free in bench_core); for DPDK, whose get and
 * put are inline functions, it is peer_get/peer_put themselves.
 *
 * Everything comparator-specific is in one block below (peer_open,
 * peer_get, peer_put, peer_snap, peer_check, peer_close and a few
 * constants); the rest of the file is shared, and so are, after the
 * blocks, the malloc family's peer_get, peer_put and peer_close
 * (PEER_MALLOC) and the peer_check of a comparator whose snapshot must not
 * move (PEER_SAME, PEER_MOVED).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif

#define OBJ_SIZE	4096
#define RUNS		7		/* timed runs; the median is kept */
#define ITERS		5000000		/* pairs per timed run */
#define NOINLINE	__attribute__((noinline))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
/* After a call: keeps it out of tail position (and its result observed). */
#define KEEP(p)		__asm__ volatile("" : : "r"(p) : "memory")
#define FENCE()		__asm__ volatile("" : : : "memory")

/* Per-comparator state a check compares before and after the loop. */
struct peer_snap {
	uint64_t a, b, c;
};

/* ------------------------------------------------------------------------ */
#if defined(PEER_DPDK)
/*
 * DPDK rte_mempool with a per-lcore cache.  The EAL runs without hugepages
 * and without shared files (--no-huge --no-shconf: anonymous memory, no
 * /var/run config, no multi-process socket), without PCI scanning or
 * telemetry, quietly, and with one lcore: the CPU this process may run on
 * (bench-peers.sh pins it with taskset -c 0, so "-l 0").  The calling thread
 * is then the main lcore and rte_mempool_get/put use its default cache.
 */
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_version.h>

#define PEER_CASE	"dpdk_mempool"
#define PEER_COUNT	"inclusive"
#define POOL_OBJS	2047		/* 2^q - 1 suits the ring */
#define CACHE_SIZE	256

static const char peer_what[] =
	"rte_mempool_get + rte_mempool_put of one 4096-byte object on the main "
	"lcore's per-lcore cache (cache_size 256, 2047 objects, ring_mp_mc "
	"backend); the cache never runs empty or reaches its flush threshold";

static struct rte_mempool *mp;
static struct rte_mempool_cache *cache;

static int peer_open(char *note, size_t len)
{
	char lcore[16], eal[256] = "";
	char *argv[] = {
		"bench_peer_dpdk", "--no-huge", "--no-shconf", "-l", lcore, "-m", "64",
		"--no-pci", "--no-telemetry", "--log-level=lib.eal:error",
		"--log-level=lib.mempool:error", NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1, cpu = 0;
	void *obj;
	int ret;

	/* The first CPU this process may run on is the EAL's only lcore. */
	first_allowed_cpus(&cpu, 1);
	snprintf(lcore, sizeof(lcore), "%d", cpu);
	/* Spelled out before rte_eal_init, which may reorder argv. */
	for (int i = 1; i < argc; i++)
		snprintf(eal + strlen(eal), sizeof(eal) - strlen(eal), "%s%s", i > 1 ? " " : "",
			 argv[i]);
	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		return -rte_errno;
	mp = rte_mempool_create("bench_peer", POOL_OBJS, OBJ_SIZE, CACHE_SIZE, 0, NULL,
				NULL, NULL, NULL, SOCKET_ID_ANY, 0);
	if (!mp)
		return -rte_errno;
	if (rte_lcore_id() != rte_get_main_lcore())
		return -EINVAL;
	cache = rte_mempool_default_cache(mp, rte_lcore_id());
	if (!cache)
		return -ENOENT;
	/* The first get finds the cache empty: it takes cache_size + 1 objects
	 * from the ring and hands one out; the put brings the cache to
	 * cache_size + 1, far from empty and from flushthresh. */
	if (rte_mempool_get(mp, &obj) < 0)
		return -ENOMEM;
	rte_mempool_put(mp, obj);
	snprintf(note, len, "%s; EAL args: %s; lcore %u is the main lcore; %s backend; the "
		 "cache holds %u objects (size %u, flushed above %u)", rte_version(), eal,
		 rte_lcore_id(), rte_mempool_get_ops(mp->ops_index)->name, cache->len,
		 cache->size, cache->flushthresh);
	return 0;
}

static NOINLINE void *peer_get(void)
{
	void *obj;

	if (unlikely(rte_mempool_get(mp, &obj) != 0))
		return NULL;
	return obj;
}

static NOINLINE void peer_put(void *obj)
{
	rte_mempool_put(mp, obj);
}

static void peer_snap(struct peer_snap *s)
{
	s->a = cache->len;
	s->c = rte_mempool_avail_count(mp);	/* ring + every lcore cache */
	s->b = s->c - s->a;			/* ring: ours is the only lcore */
}

/* With one object per call, a get from a non-empty cache and a put below
 * flushthresh never touch the ring: the cache length and the ring count
 * are where they were, and so is every miss-free pair in between (a miss
 * would refill the cache to cache_size, a flush would empty it). */
static int peer_check(const struct peer_snap *s0, uint64_t pairs, char *why, size_t len)
{
	struct peer_snap s;

	peer_snap(&s);
	if (s.a == s0->a && s.b == s0->b && s.c == s0->c && s.a >= 1 &&
	    s.a < cache->flushthresh)
		return snprintf(why, len, "cache hit every time: cache len %" PRIu64 " and ring "
				"count %" PRIu64 " unchanged over %" PRIu64 " pairs", s.a, s.b,
				pairs), 0;
	snprintf(why, len, "left the cache: cache len %" PRIu64 " -> %" PRIu64 ", ring %"
		 PRIu64 " -> %" PRIu64, s0->a, s.a, s0->b, s.b);
	return -1;
}

static void peer_close(void)
{
	rte_mempool_free(mp);
	rte_eal_cleanup();
}

/* ------------------------------------------------------------------------ */
#elif defined(PEER_JEMALLOC)
/*
 * jemalloc, linked into the binary so that malloc and free are its own;
 * 4096 bytes is a small size class served by the thread cache (tcache).
 */
#include <stdbool.h>

#include <jemalloc/jemalloc.h>

#define PEER_CASE	"jemalloc"
#define PEER_MALLOC	1
#define PEER_COUNT	"callees"

static const char peer_what[] =
	"malloc(4096) + free through jemalloc (linked with -ljemalloc, which "
	"replaces malloc): a small size class served from the thread cache";

static uint64_t je_u64(const char *name)
{
	uint64_t v = 0;
	size_t sz = sizeof(v);

	if (mallctl(name, &v, &sz, NULL, 0) != 0)
		return 0;
	return v;
}

static int peer_open(char *note, size_t len)
{
	const char *version = "?";
	size_t sz = sizeof(version);
	bool tcache = false;
	size_t bsz = sizeof(tcache);

	if (mallctl("version", &version, &sz, NULL, 0) != 0)
		return -ENOSYS;
	if (mallctl("thread.tcache.enabled", &tcache, &bsz, NULL, 0) != 0 || !tcache)
		return -ENOENT;
	snprintf(note, len, "jemalloc %s, thread cache enabled", version);
	return 0;
}

static void peer_snap(struct peer_snap *s)
{
	s->a = je_u64("thread.allocated");
	s->b = je_u64("thread.deallocated");
	s->c = 0;
}

/* jemalloc's own per-thread byte counters must have moved by exactly the
 * loop's bytes: malloc and free really were jemalloc's. */
static int peer_check(const struct peer_snap *s0, uint64_t pairs, char *why, size_t len)
{
	struct peer_snap s;
	uint64_t want = pairs * OBJ_SIZE;

	peer_snap(&s);
	if (s.a - s0->a == want && s.b - s0->b == want)
		return snprintf(why, len, "jemalloc's thread.allocated/deallocated moved by "
				"exactly %" PRIu64 " pairs x 4096 B", pairs), 0;
	snprintf(why, len, "thread.allocated moved by %" PRIu64 ", expected %" PRIu64,
		 s.a - s0->a, want);
	return -1;
}

/* ------------------------------------------------------------------------ */
#elif defined(PEER_TCMALLOC)
/*
 * gperftools tcmalloc (the minimal build, no profiler), linked so that
 * malloc and free are its own; 4096 bytes is a small size class served by
 * the per-thread cache.
 */
#include <gperftools/malloc_extension_c.h>
#include <gperftools/tcmalloc.h>

#define PEER_CASE	"tcmalloc"
#define PEER_MALLOC	1
#define PEER_COUNT	"callees"
/* peer_check: every pair gave its object back and the heap did not grow. */
#define PEER_SAME	"tcmalloc's allocated bytes and heap size"
#define PEER_MOVED	"tcmalloc heap moved: allocated %" PRIu64 " -> %" PRIu64 ", heap %" \
			PRIu64 " -> %" PRIu64

static const char peer_what[] =
	"malloc(4096) + free through gperftools tcmalloc (linked with "
	"-ltcmalloc_minimal, which replaces malloc): a small size class served "
	"from the per-thread cache";

static uint64_t tc_prop(const char *name)
{
	size_t v = 0;

	if (!MallocExtension_GetNumericProperty(name, &v))
		return 0;
	return v;
}

/* tcmalloc's heap must grow by one object while one malloc'ed object is
 * held: malloc really is tcmalloc's. */
static int peer_open(char *note, size_t len)
{
	int major, minor;
	const char *patch, *version = tc_version(&major, &minor, &patch);
	uint64_t before = tc_prop("generic.current_allocated_bytes"), after;
	void *p = malloc(OBJ_SIZE);

	KEEP(p);
	after = tc_prop("generic.current_allocated_bytes");
	free(p);
	if (after - before != OBJ_SIZE)
		return -ENOENT;
	snprintf(note, len, "%s", version);
	return 0;
}

static void peer_snap(struct peer_snap *s)
{
	s->a = tc_prop("generic.current_allocated_bytes");
	s->b = tc_prop("generic.heap_size");
	s->c = 0;
}

/* ------------------------------------------------------------------------ */
#elif defined(PEER_GLIBC)
/*
 * glibc malloc.  4096 bytes is above the tcache limit (1032 bytes by
 * default), so each pair goes through _int_malloc/_int_free on the main
 * arena; the freed chunk borders the top chunk and merges back into it.
 */
#include <gnu/libc-version.h>
#include <malloc.h>

#define PEER_CASE	"glibc"
#define PEER_MALLOC	1
#define PEER_COUNT	"callees"
/* peer_check: every pair gave its chunk back, the arena neither grew nor shrank. */
#define PEER_SAME	"main arena in use and size"
#define PEER_MOVED	"arena moved: in use %" PRIu64 " -> %" PRIu64 ", size %" PRIu64 " -> %" \
			PRIu64

static const char peer_what[] =
	"malloc(4096) + free through glibc's allocator (single thread, main "
	"arena; 4096 B is above the default tcache limit of 1032 B)";

static int peer_open(char *note, size_t len)
{
	snprintf(note, len, "glibc %s", gnu_get_libc_version());
	return 0;
}

static void peer_snap(struct peer_snap *s)
{
	struct mallinfo2 mi = mallinfo2();

	s->a = mi.uordblks;	/* bytes in use */
	s->b = mi.arena;	/* bytes of the main arena */
	s->c = 0;
}

#else
#error "build with one of -DPEER_GLIBC -DPEER_JEMALLOC -DPEER_TCMALLOC -DPEER_DPDK"
#endif

#ifdef PEER_MALLOC
/* The malloc family: the operation is the malloc and free these call. */
static NOINLINE void *peer_get(void)
{
	void *p = malloc(OBJ_SIZE);

	KEEP(p);
	return p;
}

static NOINLINE void peer_put(void *obj)
{
	free(obj);
	FENCE();
}

static void peer_close(void)
{
}
#endif

#ifdef PEER_SAME
/* Both counters of the snapshot (a, b) are where they were before the loop:
 * PEER_SAME names them, PEER_MOVED reports them (a before, after, b before,
 * after) when they are not. */
static int peer_check(const struct peer_snap *s0, uint64_t pairs, char *why, size_t len)
{
	struct peer_snap s;

	peer_snap(&s);
	if (s.a == s0->a && s.b == s0->b)
		return snprintf(why, len, PEER_SAME " unchanged over %" PRIu64 " pairs", pairs), 0;
	snprintf(why, len, PEER_MOVED, s0->a, s.a, s0->b, s.b);
	return -1;
}
#endif
/* ------------------------------------------------------------------------ */
/* Shared: the loop, timing, output, callgrind mode.                         */

static void loop(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		void *obj = peer_get();

		if (unlikely(!obj))
			die_err("get", ENOMEM);
		peer_put(obj);
	}
}

static void open_or_die(char *note, size_t len)
{
	int ret = peer_open(note, len);

	if (ret < 0)
		die_err("set-up of " PEER_CASE, ret);
}

/* Timed mode: "info" and "row" lines as bench_core prints them. */
static int run_timed(void)
{
	char note[256], why[256];
	double s[RUNS];
	struct peer_snap snap;

	open_or_die(note, sizeof(note));
	loop(ITERS / 10);		/* warm caches and branch predictors */
	peer_snap(&snap);
	for (unsigned r = 0; r < RUNS; r++) {
		uint64_t t0 = now_ns();

		loop(ITERS);
		s[r] = (double)(now_ns() - t0) / ITERS;
	}
	if (peer_check(&snap, (uint64_t)RUNS * ITERS, why, sizeof(why)) < 0) {
		fprintf(stderr, "bench_peer: %s took another path: %s\n", PEER_CASE, why);
		return 1;
	}
	qsort(s, RUNS, sizeof(*s), cmp_double);
	printf("info\t%s; compiler %s%s\n", note, BENCH_COMPILER, BENCH_OPTIMIZED(""));
	printf("row\t%s\t%.*f ns\truns %.2f..%.2f ns; %s\n", PEER_CASE, s[RUNS / 2] < 10 ? 2 : 1,
	       s[RUNS / 2], s[0], s[RUNS - 1], why);
	fprintf(stderr, "%-16s %8.2f ns/op (runs %.2f..%.2f), %d iterations\n", PEER_CASE,
		s[RUNS / 2], s[0], s[RUNS - 1], ITERS);
	peer_close();
	return 0;
}

static int run_callgrind(const char *name, uint64_t n)
{
#ifdef HAVE_CALLGRIND
	char note[256];

	if (strcmp(name, PEER_CASE) != 0) {
		fprintf(stderr, "bench_peer: unknown case %s (see --list)\n", name);
		return 2;
	}
	open_or_die(note, sizeof(note));
	loop(16);			/* first-touch and lazy work out of the window */
	CALLGRIND_ZERO_STATS;
	loop(n);
	CALLGRIND_DUMP_STATS_AT(PEER_CASE);
	printf("ops %" PRIu64 "\ncount peer_get peer_put %s\n", n, PEER_COUNT);
	peer_close();
	return 0;
#else
	fprintf(stderr, "bench_peer: built without <valgrind/callgrind.h> (apt-get install "
		"valgrind)\n");
	return 2;
#endif
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		printf("%s\t%s\n", PEER_CASE, peer_what);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "--callgrind") == 0)
		return run_callgrind(argv[2], strtoull(argv[3], NULL, 10));
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--list | --callgrind CASE ITERS]\n", argv[0]);
		return 2;
	}
	return run_timed();
}
