/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.c - read pagepoold.conf with inih and validate every value
 * strictly (chrony-style): numbers are whole and in range, names exist, and
 * each mistake is reported as "FILE:LINE: what is wrong (what is allowed)".
 * All problems are collected, not just the first.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buddy.h"
#include "ccache.h"
#include "config.h"
#include "pcp.h"

struct parse {
	const char *path;
	FILE *f;
	int line;
	struct config *cfg;
	char *err;
	size_t errlen, used;
	int nerr;
	char cur_section[64];
	unsigned nseen;
	struct { char key[160]; int line; } seen[256];
};

__attribute__((format(printf, 3, 4)))
static void perr(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	p->nerr++;
	if (p->used + 1 >= p->errlen)
		return;
	n = snprintf(p->err + p->used, p->errlen - p->used, "%s:%d: ", p->path, line);
	if (n > 0)
		p->used += (size_t)n;
	if (p->used + 1 >= p->errlen) {
		p->used = p->errlen - 1;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(p->err + p->used, p->errlen - p->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->used += (size_t)n;
	if (p->used + 2 < p->errlen) {
		p->err[p->used++] = '\n';
		p->err[p->used] = '\0';
	} else {
		p->used = p->errlen - 1;
	}
}

/* A whole decimal number in [min, max]. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A byte size with an optional K/M/G/T suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_mode(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '7')
		return -EINVAL;
	v = strtoul(s, &end, 8);
	if (*end || v > 0777)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int parse_group(const char *name, gid_t *gid)
{
	char buf[4096];
	struct group gr, *res = NULL;

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return -ENOENT;
	*gid = res->gr_gid;
	return 0;
}

/* "auto" (every CPU this process may run on) or "0-3,5". */
static int parse_cpus(struct parse *p, const char *s, struct config *cfg)
{
	cpu_set_t allowed;
	char buf[256], *save = NULL, *tok;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return -errno;
	cfg->ncpus = 0;
	if (strcmp(s, "auto") == 0) {
		for (int c = 0; c < CPU_SETSIZE && cfg->ncpus < CONFIG_MAX_CPUS; c++)
			if (CPU_ISSET(c, &allowed))
				cfg->cpus[cfg->ncpus++] = c;
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t lo, hi;
		char *dash = strchr(tok, '-');

		if (dash)
			*dash = '\0';
		if (parse_u64(tok, 0, CPU_SETSIZE - 1, &lo) < 0 ||
		    parse_u64(dash ? dash + 1 : tok, lo, CPU_SETSIZE - 1, &hi) < 0)
			return -EINVAL;
		for (uint64_t c = lo; c <= hi; c++) {
			if (!CPU_ISSET(c, &allowed)) {
				perr(p, p->line, "workers: CPU %lu is not available to this process",
				     (unsigned long)c);
				return -EEXIST;
			}
			for (unsigned i = 0; i < cfg->ncpus; i++)
				if (cfg->cpus[i] == (int)c)
					return -EINVAL;
			if (cfg->ncpus == CONFIG_MAX_CPUS)
				return -EINVAL;
			cfg->cpus[cfg->ncpus++] = (int)c;
		}
	}
	return cfg->ncpus ? 0 : -EINVAL;
}

#define BAD(what) perr(p, p->line, "%s = \"%s\": " what, name, value)

static void daemon_key(struct parse *p, const char *name, const char *value)
{
	struct config *cfg = p->cfg;
	uint64_t v;
	int r;

	if (strcmp(name, "socket") == 0) {
		if (!*value || strlen(value) >= sizeof(cfg->socket))
			BAD("not a usable socket path (1..107 bytes)");
		else
			strcpy(cfg->socket, value);
	} else if (strcmp(name, "socket_mode") == 0) {
		if (parse_mode(value, &cfg->socket_mode) < 0)
			BAD("not an octal file mode (0000..0777)");
	} else if (strcmp(name, "socket_group") == 0) {
		if (*value && parse_group(value, &cfg->socket_gid) < 0)
			BAD("no such group");
	} else if (strcmp(name, "workers") == 0) {
		r = parse_cpus(p, value, cfg);
		if (r < 0 && r != -EEXIST)
			BAD("not a CPU list (\"auto\", or CPU numbers and ranges like 0-3,5)");
	} else if (strcmp(name, "drain_mode") == 0) {
		if (drain_mode_parse(value, &cfg->drain_mode) < 0)
			BAD("unknown drain mode (rcu, workqueue, spinlock)");
	} else if (strcmp(name, "log_level") == 0) {
		if (log_level_parse(value, &cfg->log_level) < 0)
			BAD("unknown log level (err, warning, info, debug)");
	} else if (strcmp(name, "max_frame") == 0) {
		if (parse_u64(value, 256, 16u << 20, &v) < 0)
			BAD("out of range (256..16777216 bytes)");
		else
			cfg->max_frame = (uint32_t)v;
	} else if (strcmp(name, "max_count") == 0) {
		if (parse_u64(value, 1, 65536, &v) < 0)
			BAD("out of range (1..65536 blocks)");
		else
			cfg->max_count = (uint32_t)v;
	} else if (strcmp(name, "max_offers") == 0) {
		if (parse_u64(value, 0, 65536, &v) < 0)
			BAD("out of range (0..65536 open offers per connection)");
		else
			cfg->max_offers = (uint32_t)v;
	} else if (strcmp(name, "max_offers_per_uid") == 0) {
		if (parse_u64(value, 0, 1u << 20, &v) < 0)
			BAD("out of range (0..1048576 open offers per uid, 0 = no limit)");
		else
			cfg->max_offers_per_uid = (uint32_t)v;
	} else if (strcmp(name, "max_offer_shares") == 0) {
		if (parse_u64(value, 1, 65536, &v) < 0)
			BAD("out of range (1..65536 takers)");
		else
			cfg->max_offer_shares = (uint32_t)v;
	} else if (strcmp(name, "client_cache_grace_ms") == 0) {
		if (parse_u64(value, 1, 10000, &v) < 0)
			BAD("out of range (1..10000 ms)");
		else
			cfg->cache_grace_ms = (uint32_t)v;
	} else if (strcmp(name, "max_connections") == 0) {
		if (parse_u64(value, 1, 1000000, &v) < 0)
			BAD("out of range (1..1000000)");
		else
			cfg->max_connections = (uint32_t)v;
	} else if (strcmp(name, "max_output") == 0) {
		if (parse_size(value, &v) < 0 || v < 4096 || v > (1u << 30))
			BAD("out of range (4K..1G bytes)");
		else
			cfg->max_output = (uint32_t)v;
	} else if (strcmp(name, "max_connections_per_uid") == 0) {
		if (parse_u64(value, 0, 1000000, &v) < 0)
			BAD("out of range (0 = no limit, or 1..1000000)");
		else
			cfg->max_connections_per_uid = (uint32_t)v;
	} else if (strcmp(name, "max_output_per_uid") == 0) {
		if (parse_size(value, &v) < 0 || (v && v < 4096) || v > (1u << 30))
			BAD("out of range (0 = no budget, or 4K..1G bytes)");
		else
			cfg->max_output_per_uid = (uint32_t)v;
	} else if (strcmp(name, "min_drain_rate") == 0) {
		if (parse_size(value, &v) < 0 || v > (1u << 30))
			BAD("out of range (0..1G bytes per second)");
		else
			cfg->min_drain_rate = (uint32_t)v;
	} else if (strcmp(name, "hello_timeout") == 0) {
		if (parse_u64(value, 0, 3600, &v) < 0)
			BAD("out of range (0 = never, or 1..3600 seconds)");
		else
			cfg->hello_timeout = (uint32_t)v;
	} else if (strcmp(name, "admin_idle_timeout") == 0) {
		if (parse_u64(value, 1, 3600, &v) < 0)
			BAD("out of range (1..3600 seconds)");
		else
			cfg->admin_idle_timeout = (uint32_t)v;
	} else if (strcmp(name, "admin_socket") == 0) {
		/* Empty: no admin socket, as when the key is absent. */
		if (strlen(value) >= sizeof(cfg->admin_socket))
			BAD("not a usable socket path (empty = none, or 1..107 bytes)");
		else
			strcpy(cfg->admin_socket, value);
	} else if (strcmp(name, "admin_mode") == 0) {
		/* The daemon re-checks every admin peer's credentials, so a wider
		 * mode only lets more users be told no. */
		if (parse_mode(value, &cfg->admin_mode) < 0)
			BAD("not an octal file mode (0000..0777)");
	} else if (strcmp(name, "admin_group") == 0) {
		if (*value && parse_group(value, &cfg->admin_gid) < 0)
			BAD("no such group");
	} else if (strcmp(name, "decay_interval") == 0) {
		if (parse_u64(value, 0, 3600, &v) < 0)
			BAD("out of range (0 = off, or 1..3600 seconds)");
		else
			cfg->decay_interval = (uint32_t)v;
	} else if (strcmp(name, "write_timeout") == 0) {
		if (parse_u64(value, 1, 3600, &v) < 0)
			BAD("out of range (1..3600 seconds)");
		else
			cfg->write_timeout = (uint32_t)v;
	} else if (strcmp(name, "read_timeout") == 0) {
		if (parse_u64(value, 0, 3600, &v) < 0)
			BAD("out of range (0 = never, or 1..3600 seconds)");
		else
			cfg->read_timeout = (uint32_t)v;
	} else if (strcmp(name, "default_pool") == 0) {
		if (!*value || strlen(value) >= sizeof(cfg->default_pool))
			BAD("not a pool name (1..63 bytes)");
		else
			strcpy(cfg->default_pool, value);
	} else {
		perr(p, p->line, "unknown key \"%s\" in [daemon] (socket, socket_mode, "
		     "socket_group, workers, drain_mode, log_level, max_frame, max_count, "
		     "max_connections, max_connections_per_uid, max_output, max_output_per_uid, "
		     "max_offers, max_offers_per_uid, max_offer_shares, client_cache_grace_ms, "
		     "min_drain_rate, hello_timeout, write_timeout, read_timeout, admin_socket, "
		     "admin_mode, admin_group, admin_idle_timeout, decay_interval, default_pool)",
		     name);
	}
}

static int parse_groups(struct parse *p, struct pool_conf *pc, const char *value)
{
	char buf[1024], *save = NULL, *tok;

	pc->ngroups = 0;
	if (strlen(value) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, value);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (pc->ngroups == CONFIG_MAX_GROUPS)
			return -E2BIG;
		if (parse_group(tok, &pc->groups[pc->ngroups]) < 0) {
			perr(p, p->line, "groups: no such group \"%s\"", tok);
			continue;
		}
		pc->ngroups++;
	}
	return 0;
}

/* "auto" (-1) or a number in [min, max]. */
static int parse_auto(const char *value, int min, int max, int *out)
{
	uint64_t v;

	if (strcmp(value, "auto") == 0) {
		*out = -1;
		return 0;
	}
	if (parse_u64(value, (uint64_t)min, (uint64_t)max, &v) < 0)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static void pool_key(struct parse *p, struct pool_conf *pc, const char *name, const char *value)
{
	uint64_t v;

	if (strcmp(name, "size") == 0) {
		pc->size_line = p->line;
		if (parse_size(value, &pc->size) < 0)
			BAD("not a size (a number with an optional K, M, G or T suffix)");
	} else if (strcmp(name, "prefault") == 0) {
		if (parse_bool(value, &pc->prefault) < 0)
			BAD("not a boolean (yes or no)");
	} else if (strcmp(name, "groups") == 0) {
		if (parse_groups(p, pc, value) < 0)
			BAD("not a list of at most 16 group names");
	} else if (strcmp(name, "pcp_high") == 0) {
		if (parse_auto(value, 0, PCP_HIGH_MAX, &pc->high) < 0)
			BAD("out of range (auto, or 0..4096 pages)");
	} else if (strcmp(name, "pcp_batch") == 0) {
		if (parse_auto(value, 1, PCP_BATCH_MAX, &pc->batch) < 0)
			BAD("out of range (auto, or 1..63 pages)");
	} else if (strcmp(name, "quota_pages") == 0) {
		if (parse_u64(value, 0, UINT32_MAX, &pc->quota_pages) < 0)
			BAD("out of range (0 = unlimited, or a page count)");
	} else if (strcmp(name, "quota_uid_pages") == 0) {
		if (parse_u64(value, 0, UINT32_MAX, &pc->quota_uid_pages) < 0)
			BAD("out of range (0 = unlimited, or a page count)");
	} else if (strcmp(name, "client_cache_high") == 0) {
		if (parse_u64(value, 0, PP_CC_HIGH_MAX, &v) < 0)
			BAD("out of range (0 = no client caches, or 1..511 pages)");
		else
			pc->cache_high = (uint32_t)v;
	} else if (strcmp(name, "client_cache_batch") == 0) {
		if (parse_u64(value, 1, PP_CC_HIGH_MAX, &v) < 0)
			BAD("out of range (1..511 pages)");
		else
			pc->cache_batch = (uint32_t)v;
	} else {
		perr(p, p->line, "unknown key \"%s\" in [pool %s] (size, prefault, groups, "
		     "pcp_high, pcp_batch, quota_pages, quota_uid_pages, client_cache_high, "
		     "client_cache_batch)", name, pc->name);
	}
}

static struct pool_conf *pool_section(struct parse *p, const char *section)
{
	const char *name = section + 5;
	struct config *cfg = p->cfg;
	struct pool_conf *pc;
	int i = config_pool_index(cfg, name);

	if (i >= 0 && *name)
		return &cfg->pools[i];
	if (!*name || strlen(name) >= sizeof(pc->name) || strchr(name, ' ')) {
		perr(p, p->line, "[%s]: a pool needs a name of 1..63 bytes without spaces", section);
		return NULL;
	}
	if (cfg->npools == CONFIG_MAX_POOLS) {
		perr(p, p->line, "[%s]: too many pools (at most %d)", section, CONFIG_MAX_POOLS);
		return NULL;
	}
	pc = &cfg->pools[cfg->npools++];
	memset(pc, 0, sizeof(*pc));
	strcpy(pc->name, name);
	pc->high = pc->batch = -1;
	pc->cache_high = 64;
	pc->cache_batch = 0;		/* auto: config_check() */
	pc->line = p->line;
	return pc;
}

/* A key given twice in one section, or a section opened twice: both are
 * mistakes a human would not see (the last one would silently win). */
static bool config_duplicate(struct parse *p, const char *section, const char *name)
{
	char key[160];

	if (strcmp(section, p->cur_section) != 0) {
		for (unsigned i = 0; i < p->nseen; i++) {
			if (strncmp(p->seen[i].key, section, strlen(section)) == 0 &&
			    p->seen[i].key[strlen(section)] == '\t') {
				perr(p, p->line, "section [%s] appears again (first at line %d)",
				     section, p->seen[i].line);
				break;
			}
		}
		snprintf(p->cur_section, sizeof(p->cur_section), "%s", section);
	}
	snprintf(key, sizeof(key), "%s\t%s", section, name);
	for (unsigned i = 0; i < p->nseen; i++) {
		if (strcmp(p->seen[i].key, key) == 0) {
			perr(p, p->line, "%s given twice in [%s] (first at line %d)", name, section,
			     p->seen[i].line);
			return true;
		}
	}
	if (p->nseen < ARRAY_SIZE(p->seen)) {
		snprintf(p->seen[p->nseen].key, sizeof(p->seen[0].key), "%s", key);
		p->seen[p->nseen++].line = p->line;
	}
	return false;
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	struct pool_conf *pc;

	/* inih keeps 49 bytes of a section name: a longer one was cut. */
	if (strlen(section) >= 49) {
		perr(p, p->line, "section name longer than 48 bytes");
		return 1;
	}
	if (config_duplicate(p, section, name))
		return 1;

	if (strcmp(section, "daemon") == 0) {
		daemon_key(p, name, value);
	} else if (strncmp(section, "pool ", 5) == 0) {
		pc = pool_section(p, section);
		if (pc)
			pool_key(p, pc, name, value);
	} else {
		perr(p, p->line, "unknown section [%s] ([daemon] or [pool NAME])", section);
	}
	return 1;	/* keep going: report every problem */
}

/*
 * Settle on the raw line what inih would get wrong (config.h: "Line
 * syntax"), so the rules do not hang on the options libinih was built with:
 *  - an indented line is refused for what it is, and blanked.  Left to
 *    inih (multi-line mode) it would be appended to the previous key's
 *    value - reported as that key "given twice" - or, first in its section,
 *    be taken as a key without a word;
 *  - a # or ; after a blank starts an inline comment, cut off here.
 *    Debian's libinih cuts only ";", which left "# ..." in the value.
 * Blank lines and comment lines (indented or not) pass untouched.
 */
static void config_line(struct parse *p, char *line)
{
	char *s = line;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s || *s == '#' || *s == ';')
		return;
	if (s != line) {
		perr(p, p->line, "indented line (continuation lines are not supported: remove "
		     "the leading blanks)");
		line[0] = '\0';
		return;
	}
	for (s = line + 1; *s; s++) {
		if ((*s == '#' || *s == ';') && isspace((unsigned char)s[-1])) {
			*s = '\0';
			break;
		}
	}
}

/* inih reader that counts lines, so handlers know where they are, and
 * refuses lines longer than inih's buffer instead of letting it split them. */
static char *config_reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char *r = fgets(str, num, p->f);
	size_t len;
	int ch;

	if (!r)
		return NULL;
	p->line++;
	len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(p->f)) {
		perr(p, p->line, "line longer than %d bytes", num - 2);
		while ((ch = fgetc(p->f)) != EOF && ch != '\n')
			;
		str[0] = '\0';
	}
	config_line(p, str);
	return r;
}

static void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket_mode = 0660;
	cfg->socket_gid = (gid_t)-1;
	cfg->admin_mode = 0600;
	cfg->admin_gid = (gid_t)-1;
	cfg->decay_interval = 5;
	cfg->drain_mode = DRAIN_RCU;
	cfg->log_level = LOG_LVL_INFO;
	cfg->read_timeout = 30;
	cfg->max_frame = 64 * 1024;
	cfg->max_count = 1024;
	cfg->max_connections = 1024;
	cfg->max_offers = 64;
	cfg->max_offers_per_uid = 1024;
	cfg->max_offer_shares = 64;
	cfg->max_connections_per_uid = UINT32_MAX;	/* config_check(): a quarter */
	cfg->max_output = 1u << 20;
	cfg->max_output_per_uid = 4u << 20;
	cfg->min_drain_rate = 16u << 10;
	cfg->hello_timeout = 10;
	cfg->admin_idle_timeout = 60;
	cfg->cache_grace_ms = 100;
}

static void config_check(struct parse *p)
{
	struct config *cfg = p->cfg;
	uint64_t block = (uint64_t)sysconf(_SC_PAGESIZE) * MAX_ORDER_PAGES;

	if (!cfg->socket[0])
		perr(p, p->line, "[daemon] socket is required");
	if (cfg->admin_socket[0] && strcmp(cfg->admin_socket, cfg->socket) == 0)
		perr(p, p->line, "admin_socket must differ from socket");
	if (cfg->npools == 0)
		perr(p, p->line, "no pool defined (add a [pool NAME] section with a size)");
	if (cfg->default_pool[0] && config_pool_index(cfg, cfg->default_pool) < 0)
		perr(p, p->line, "default_pool \"%s\" is not a defined pool", cfg->default_pool);
	/* Every block id must fit a frame: ~5 bytes per pfn plus framing. */
	if ((uint64_t)cfg->max_count * 6 + 64 > cfg->max_frame)
		perr(p, p->line, "max_count %u does not fit max_frame %u (needs ~6 bytes a block)",
		     cfg->max_count, cfg->max_frame);
	/* Backpressure pauses a connection at max_output / 2: one full response
	 * must fit below that. */
	if ((uint64_t)cfg->max_output < 2 * ((uint64_t)cfg->max_count * 6 + 64))
		perr(p, p->line, "max_output %u too small for max_count %u (needs at least %lu)",
		     cfg->max_output, cfg->max_count,
		     (unsigned long)(2 * ((uint64_t)cfg->max_count * 6 + 64)));
	if (cfg->write_timeout == 0)
		cfg->write_timeout = 30;
	/* Unless the file says otherwise, one uid may take a quarter of the
	 * slots, or 256 of them (all of a small daemon's), whichever is more. */
	if (cfg->max_connections_per_uid == UINT32_MAX)
		cfg->max_connections_per_uid = cfg->max_connections / 4 > 256 ?
			cfg->max_connections / 4 :
			cfg->max_connections < 256 ? cfg->max_connections : 256;
	for (unsigned i = 0; i < cfg->npools; i++) {
		struct pool_conf *pc = &cfg->pools[i];

		if (pc->size == 0 || pc->size % block)
			perr(p, pc->size_line ? pc->size_line : pc->line, "[pool %s] size must be a positive multiple of %lu MiB",
			     pc->name, (unsigned long)(block >> 20));
		else if (pc->size / (block / MAX_ORDER_PAGES) >= UINT32_MAX)
			perr(p, pc->line, "[pool %s] size too large (at most 2^32 - 1 pages)", pc->name);
		if (pc->cache_batch == 0)	/* a quarter of high, at most 16 */
			pc->cache_batch = pc->cache_high / 4 > 16 ? 16 :
					  pc->cache_high / 4 ? pc->cache_high / 4 : 1;
		if (pc->cache_high && pc->cache_batch > pc->cache_high)
			perr(p, pc->line, "[pool %s] client_cache_batch %u is above client_cache_high %u",
			     pc->name, pc->cache_batch, pc->cache_high);
		if (pc->high > 0 && pc->batch > pc->high)
			perr(p, pc->line, "[pool %s] pcp_batch %d is above pcp_high %d", pc->name,
			     pc->batch, pc->high);
	}
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct parse p = { .path = path, .cfg = cfg, .err = err, .errlen = errlen };
	int r;

	if (errlen)
		err[0] = '\0';
	config_defaults(cfg);
	if (parse_cpus(&p, "auto", cfg) < 0)
		return -errno;
	p.f = fopen(path, "re");
	if (!p.f) {
		r = -errno;
		snprintf(err, errlen, "%s: %s\n", path, strerror(-r));
		return r;
	}
	r = ini_parse_stream(config_reader, &p, config_handler, &p);
	fclose(p.f);
	if (r > 0)
		perr(&p, r, "syntax error (expected [section], key = value, or a # comment)");
	else if (r < 0)
		perr(&p, p.line, "cannot parse (out of memory?)");
	config_check(&p);
	return p.nerr ? -EINVAL : 0;
}

int config_pool_index(const struct config *cfg, const char *name)
{
	if (!name || !*name)
		name = cfg->default_pool[0] ? cfg->default_pool : cfg->pools[0].name;
	for (unsigned i = 0; i < cfg->npools; i++)
		if (strcmp(cfg->pools[i].name, name) == 0)
			return (int)i;
	return -1;
}
