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
 *   max_output = 1048576
 *   admin_socket = PATH            admin_mode = 0600   admin_group = GROUP
 *   decay_interval = 5             seconds; idle pcps are drained remotely
 *   write_timeout = 30             seconds a pending response may make no progress
 *   read_timeout = 30              seconds a started request frame may stay incomplete
 *   default_pool = NAME
 *
 * Every error is reported as "FILE:LINE: what is wrong (what is allowed)".
 */
#ifndef PP_CONFIG_H
#define PP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "drain.h"
#include "log.h"

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
	uint32_t max_output;
	uint32_t write_timeout;		/* seconds without write progress */
	uint32_t read_timeout;		/* seconds a partial frame may wait; 0 never */
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
