/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_ccache.h - raw clients of the client cache protocol (proto/ccache.h)
 * for the black-box tests: hello with FEATURE_CACHE, CacheMap and its memfd
 * mapped shared, Alloc and Free on the wire, and the client's side of the
 * region (enter, leave, push, pop) done by hand, honestly or not.
 *
 * Nothing here asserts: the calls return a status or -errno, so that a
 * forked child (which must leave with _exit, never through cmocka) can be a
 * full client of its own, stopped or killed by the test.  A child hands its
 * state to the test through a struct bb_kid_chan (a SOCK_SEQPACKET pair),
 * and the test maps the child's region through /proc (bb_cc_map_proc).
 */
#ifndef PP_BB_CCACHE_H
#define PP_BB_CCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ccache.h"
#include "bb_conn.h"

/* A raw client of the cache protocol on a connection the caller owns. */
struct bb_cc {
	struct bb_conn *c;
	uint64_t id;			/* the next request id */
	uint64_t client_id;		/* Welcome.client_id */
	uint32_t npages;		/* pages in its pool */
	uint32_t page_size;		/* Welcome.page_size */
	uint32_t features;		/* Welcome.features */
	uint32_t high, batch;		/* Welcome.cache_high, cache_batch */
	uint32_t map_size;		/* CacheMapped.size */
	int memfd;			/* the region's fd (in c->fds[]), or -1 */
	struct pp_cc_region *r;		/* mapped by bb_cc_map, or NULL */
	uint64_t seq;			/* the client's own copy of r->seq */
	char error[200];		/* the last refusal or failure, in words */
};

/*
 * Hello on `c` (connected) to `pool` (NULL: the default) asking for
 * `features`.  The Response status (0: OK, k filled in), or -errno of the
 * round trip (k->error says which).
 */
int bb_cc_hello(struct bb_cc *k, struct bb_conn *c, const char *pool, uint32_t features);

/*
 * CacheMap: the Response status, or -errno.  On OK the memfd that came with
 * the answer is mapped shared, read and write; -EBADMSG when no fd came,
 * when its size, the answer's size or the region's magic, version or size
 * are not what proto/ccache.h says.
 */
int bb_cc_map(struct bb_cc *k);

/* CacheMap sent, its answer's status returned (-errno), nothing mapped;
 * *fds_in: descriptors that came with it. */
int bb_cc_map_raw(struct bb_cc *k, unsigned *fds_in);

/* Unmap the region (k->r NULL); the fd stays with the connection. */
void bb_cc_unmap(struct bb_cc *k);

/*
 * Alloc `count` blocks of `order`: the status (-errno); on OK their first
 * pfns in pfns[count] (and *got, may be NULL: how many came).
 */
int bb_cc_alloc(struct bb_cc *k, uint32_t order, uint32_t count, uint32_t *pfns, size_t *got);

/* Free n blocks: the status (-errno); *pages (may be NULL) on OK. */
int bb_cc_free(struct bb_cc *k, const uint32_t *pfns, size_t n, uint64_t *pages);

/* Stat: the status (-errno); on OK this connection's held pages and the
 * pool's allocated ones (either may be NULL). */
int bb_cc_stat(struct bb_cc *k, uint64_t *held, uint64_t *allocated);

/*
 * The client's rule (ccache.h).  enter: seq odd, a full fence, read
 * `active` (returned, as an index 0 or 1); leave: seq even, a release store.
 */
unsigned bb_cc_enter(struct bb_cc *k);
void bb_cc_leave(struct bb_cc *k);

/* An honest push of pfns[n] on list[active][order] inside one operation:
 * how many fit (PP_CC_CAP bounds a list). */
size_t bb_cc_push(struct bb_cc *k, unsigned order, const uint32_t *pfns, size_t n);

/* An honest pop from list[active][order]: 0 and *pfn, or -ENOENT. */
int bb_cc_pop(struct bb_cc *k, unsigned order, uint32_t *pfn);

/* Blocks in list[set][order] as the region says now. */
uint32_t bb_cc_count(const struct pp_cc_region *r, unsigned set, unsigned order);

/*
 * Map another process's region: its descriptor `fd` opened through
 * /proc/PID/fd (read and write, shared).  The region, or NULL with errno.
 * Unmap with bb_cc_unmap_region.
 */
struct pp_cc_region *bb_cc_map_proc(pid_t pid, int fd);
void bb_cc_unmap_region(struct pp_cc_region *r);

/*
 * A channel between the test and a forked child: fixed-size messages both
 * ways on a SOCK_SEQPACKET pair.  Open it before the fork; each side then
 * closes the other's end (bb_kid_chan_side).
 */
struct bb_kid_chan {
	int fd[2];			/* [0] the test's end, [1] the child's */
};

/* Open the pair; 0 or -errno. */
int bb_kid_chan_open(struct bb_kid_chan *ch);

/* Keep only this side's end (child: true); returns it. */
int bb_kid_chan_side(struct bb_kid_chan *ch, bool child);

/* Close what is left open. */
void bb_kid_chan_close(struct bb_kid_chan *ch);

/* Send one message of len bytes on `fd`: 0 or -errno. */
int bb_kid_send(int fd, const void *msg, size_t len);

/* Receive one message into msg[len] within timeout_ms (< 0: no bound): its
 * length, -ETIMEDOUT, -ECONNRESET (the other end closed), or -errno. */
ssize_t bb_kid_recv(int fd, void *msg, size_t len, int timeout_ms);

#endif
