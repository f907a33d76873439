/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reload.c - SIGHUP and `pagepoolctl reload` (see reload.h).  The new file
 * is parsed into a scratch config, compared with the running one, and only
 * then applied: what workers read is published as one struct tunables by
 * RCU (tunables.h); pcp high/batch, drain mode and log level go through
 * their own modules.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "decay.h"
#include "log.h"
#include "reload.h"
#include "service.h"
#include "tunables.h"

__attribute__((format(printf, 2, 3)))
static void change(struct reload_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->nchanges == RELOAD_MAX_CHANGES)
		return;
	va_start(ap, fmt);
	vsnprintf(r->changes[r->nchanges++], sizeof(r->changes[0]), fmt, ap);
	va_end(ap);
}

/* What cannot change without a restart; the first difference, or NULL. */
static const char *reload_needs_restart(const struct config *a, const struct config *b)
{
	if (strcmp(a->socket, b->socket) || a->socket_mode != b->socket_mode ||
	    a->socket_gid != b->socket_gid)
		return "socket";
	if (strcmp(a->admin_socket, b->admin_socket) || a->admin_mode != b->admin_mode ||
	    a->admin_gid != b->admin_gid)
		return "admin socket";
	if (a->ncpus != b->ncpus || memcmp(a->cpus, b->cpus, a->ncpus * sizeof(a->cpus[0])))
		return "workers";
	if (a->max_frame != b->max_frame || a->max_count != b->max_count ||
	    a->max_connections != b->max_connections || a->max_output != b->max_output)
		return "max_frame, max_count, max_connections or max_output";
	if (a->max_offers != b->max_offers || a->max_offers_per_uid != b->max_offers_per_uid ||
	    a->max_offer_shares != b->max_offer_shares)
		return "max_offers, max_offers_per_uid or max_offer_shares";
	if (a->cache_grace_ms != b->cache_grace_ms)
		return "client_cache_grace_ms";
	if (strcmp(a->default_pool, b->default_pool))
		return "default_pool";
	if (a->npools != b->npools)
		return "the set of pools";
	for (unsigned i = 0; i < a->npools; i++) {
		const struct pool_conf *p = &a->pools[i], *q = &b->pools[i];

		if (strcmp(p->name, q->name))
			return "the set of pools";
		if (p->size != q->size || p->prefault != q->prefault)
			return "a pool's size or prefault";
		if (p->cache_high != q->cache_high || p->cache_batch != q->cache_batch)
			return "a pool's client_cache_high or client_cache_batch";
		if (p->ngroups != q->ngroups ||
		    memcmp(p->groups, q->groups, p->ngroups * sizeof(p->groups[0])))
			return "a pool's groups";
	}
	return NULL;
}

static void reload_pools(struct daemon *d, const struct config *n, struct reload_result *r)
{
	for (unsigned i = 0; i < n->npools; i++) {
		struct pool_conf *cur = &d->cfg.pools[i];
		const struct pool_conf *nw = &n->pools[i];
		struct pool *pool = d->pools[i];
		int high = nw->high, batch = nw->batch;

		if (batch < 0)
			batch = pcp_default_batch(pool->npages);
		if (high < 0)
			high = pool_default_high(pool->npages, pool->npcp, batch);
		if (high != pool->high || batch != pool->batch) {
			change(r, "pool %s: pcp high %d batch %d (was %d/%d)", nw->name, high, batch,
			       pool->high, pool->batch);
			pool_set_pcp(pool, high, batch);
		}
		cur->high = nw->high;
		cur->batch = nw->batch;
		if (cur->quota_pages != nw->quota_pages || cur->quota_uid_pages != nw->quota_uid_pages) {
			change(r, "pool %s: quota_pages %lu quota_uid_pages %lu", nw->name,
			       (unsigned long)nw->quota_pages, (unsigned long)nw->quota_uid_pages);
			cur->quota_pages = nw->quota_pages;
			cur->quota_uid_pages = nw->quota_uid_pages;
		}
	}
}

static int reload_apply(struct daemon *d, struct reload_result *r)
{
	static struct config n;
	const char *what;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = config_load(d->config_path, &n, r->error, sizeof(r->error));
	if (ret < 0) {
		size_t len = strlen(r->error);

		while (len && r->error[len - 1] == '\n')
			r->error[--len] = '\0';
		return ret;
	}
	what = reload_needs_restart(&d->cfg, &n);
	if (what) {
		snprintf(r->error, sizeof(r->error), "%s: changing %s needs a restart; "
			 "nothing was applied", d->config_path, what);
		return -EINVAL;
	}
	/* Workers see every run-time change at once, as one set; it copies
	 * only run-time values, and the rest of n equals the running config. */
	ret = tunables_publish(d, &n);
	if (ret < 0) {
		snprintf(r->error, sizeof(r->error), "out of memory; nothing was applied");
		return ret;
	}
	if (n.log_level != d->cfg.log_level) {
		change(r, "log_level %s", log_level_name(n.log_level));
		d->cfg.log_level = n.log_level;
		log_set_level(n.log_level);
	}
#define X(name, fmt)						\
	if (n.name != d->cfg.name) {					\
		change(r, #name " " fmt, n.name);			\
		d->cfg.name = n.name;					\
	}
	TUNABLES_U32(X)
#undef X
	if (n.drain_mode != d->cfg.drain_mode) {
		change(r, "drain_mode %s", drain_mode_name(n.drain_mode));
		for (unsigned i = 0; i < d->cfg.npools; i++)
			pool_set_drain_mode(d->pools[i], n.drain_mode);
		WRITE_ONCE(d->cfg.drain_mode, n.drain_mode);
	}
	if (n.decay_interval != d->cfg.decay_interval) {
		change(r, "decay_interval %u s", n.decay_interval);
		d->cfg.decay_interval = n.decay_interval;
		decay_rearm(d);
	}
	/* The changes are logged by the caller, in its one audit line. */
	reload_pools(d, &n, r);
	return 0;
}

int reload_config(struct daemon *d, struct reload_result *r)
{
	int ret;

	service_reloading();
	ret = reload_apply(d, r);
	/* READY=1 ends the reload either way: a refused file leaves the old
	 * configuration serving. */
	if (ret < 0)
		service_ready("serving; last reload refused: %.160s", r->error);
	else
		service_ready("serving; reload applied %u change%s", r->nchanges,
			      r->nchanges == 1 ? "" : "s");
	return ret;
}
