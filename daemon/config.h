/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.h - pagepoold.conf: an INI file read with inih, validated strictly.
 *
 *   [daemon]                       [pool NAME]   (one or more)
 *   socket = PATH      (required)  size = 64M         K/M/G/T, whole 4 MiB blocks
 *   socket_mode = 0660             prefault = no
 *   socket_group = GROUP           groups = g1,g2     empty: any local user
 *   workers = auto | 0-3,5         pcp_high = auto | 0..4096
 *   drain_mode = rcu               pcp_batch = auto | 1..63
 *   log_level = info               quota_pages = 0    per connection, 0 = none
 *   max_frame = 65536              quota_uid_pages = 0   per uid, 0 = none
 *   max_count = 1024
 *   max_connections = 1024
 *   max_offers = 64                open offers per connection (0: no offers)
 *   max_offers_per_uid = 1024      open offers per uid and pool (0: no limit)
 *   max_offer_shares = 64          most takers of one shared offer
 *   max_connections_per_uid = max(max_connections / 4, 256)   0 = no limit
 *   max_output = 1048576
 *   max_output_per_uid = 4M        answers queued for all connections of a uid
 *   min_drain_rate = 16K           bytes/s a client with answers queued must take
 *   hello_timeout = 10             seconds a new connection may take to say hello
 *   admin_socket = PATH            admin_mode = 0600   admin_group = GROUP
 *   decay_interval = 5             seconds; idle pcps are drained remotely
 *   client_cache_grace_ms = 100    [pool] client_cache_high = 64 (0..511 pages, 0 = off)
 *                                  [pool] client_cache_batch = auto (1..511, <= high)
 *   admin_idle_timeout = 60        seconds an admin connection may sit idle
 *   write_timeout = 30             seconds: the drain-rule window (below)
 *   read_timeout = 30              seconds a started request frame may stay incomplete
 *   default_pool = NAME
 *
 * Every error is reported as "FILE:LINE: what is wrong (what is allowed)".
 *
 * Line syntax, decided by config.c itself before inih sees a line, so it
 * does not depend on the options libinih was built with:
 *  - Comments: a line whose first non-blank is # or ; is a comment, and a
 *    # or ; preceded by a blank starts a comment at the end of any line.
 *    Accepted rather than refused because `; ...` after a value was always
 *    accepted (inih strips it) and documented; `# ...` used to stay in the
 *    value silently ("socket = /x.sock # client" listened on a path with the
 *    comment in it), and now means the same as `;`.  The price: no value may
 *    contain a blank followed by # or ; - none of the keys needs one.
 *  - Indentation: a key or section line that starts with blanks is refused
 *    ("indented line"), because inih would take it as a continuation of the
 *    previous value (then reported as that key "given twice") or, at the top
 *    of a section, as a key: two meanings for one layout.
 *
 * The drain rule (slow readers): every write_timeout seconds while a client
 * connection has answers queued, the daemon checks what the client took
 * since the previous check.  It must have taken at least the smaller of
 * what was queued at that check and min_drain_rate * write_timeout bytes
 * (and at least one byte); otherwise it is disconnected.  A client that
 * reads nothing is thus gone within two write_timeouts of its queue
 * starting to grow, and one that reads a trickle cannot hold its queue (and
 * its slot) for ever.  min_drain_rate = 0 asks only for some progress.
 *
 * The per-uid output budget: answers queued on a connection are charged to
 * its uid.  While the uid's total is above max_output_per_uid, each of its
 * connections that has answers of its own queued stops taking requests
 * (backpressure) until its own queue has drained; a connection with nothing
 * queued may always take one more request, so no connection waits on
 * another's reader.
 */
#ifndef PP_CONFIG_H
#define PP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "names.h"

#define CONFIG_MAX_POOLS	16
#define CONFIG_MAX_GROUPS	16
#define CONFIG_MAX_CPUS		256
#define CONFIG_PATH_MAX		108	/* sun_path */

struct pool_conf {
	char name[64];
	uint64_t size;
	bool prefault;
	int high, batch;		/* -1: auto */
	unsigned ngroups;
	gid_t groups[CONFIG_MAX_GROUPS];
	uint64_t quota_pages;		/* per connection; 0 = unlimited */
	uint64_t quota_uid_pages;	/* per uid; 0 = unlimited */
	uint32_t cache_high;		/* client_cache_high: pages; 0 = no client caches */
	uint32_t cache_batch;		/* client_cache_batch: pages */
	int line;			/* where the section starts */
	int size_line;			/* where size was given (0: not given) */
};

struct config {
	char socket[CONFIG_PATH_MAX];
	unsigned socket_mode;
	gid_t socket_gid;		/* (gid_t)-1: leave as is */
	char admin_socket[CONFIG_PATH_MAX];	/* "" : no admin socket */
	unsigned admin_mode;
	gid_t admin_gid;		/* (gid_t)-1: root (and our own uid) only */
	uint32_t decay_interval;	/* seconds; 0: no idle decay */
	unsigned ncpus;
	int cpus[CONFIG_MAX_CPUS];	/* worker i pinned to cpus[i] */
	enum drain_mode drain_mode;
	enum log_level log_level;
	uint32_t max_frame;
	uint32_t max_count;
	uint32_t max_connections;
	uint32_t max_connections_per_uid;	/* 0: no per-uid limit */
	uint32_t max_offers;		/* open offers per connection */
	uint32_t max_offers_per_uid;	/* per (pool, uid); 0: no limit */
	uint32_t max_offer_shares;	/* most takers of one offer */
	uint32_t max_output;
	uint32_t max_output_per_uid;	/* bytes queued for one uid; 0: no budget */
	uint32_t min_drain_rate;	/* bytes/s, the drain rule; 0: any progress */
	uint32_t hello_timeout;		/* seconds to say hello; 0 never */
	uint32_t admin_idle_timeout;	/* seconds an admin connection may idle */
	uint32_t write_timeout;		/* seconds: the drain rule's window */
	uint32_t read_timeout;		/* seconds a partial frame may wait; 0 never */
	uint32_t cache_grace_ms;	/* client_cache_grace_ms: longest wait for a
					 * client inside a cache operation */
	char default_pool[64];
	unsigned npools;
	struct pool_conf pools[CONFIG_MAX_POOLS];
};

/*
 * Read and validate `path`.  Returns 0, or -EINVAL after writing every
 * problem found (one line each, "path:line: ...") to `err` (NUL-terminated,
 * truncated to errlen), or -errno when the file cannot be read.
 */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* Index of the pool called `name` ("" or NULL: the default pool), or -1. */
int config_pool_index(const struct config *cfg, const char *name);

#endif
