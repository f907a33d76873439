/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tunables.c - the run-time tunables, published by RCU (see tunables.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "daemon.h"
#include "tunables.h"

static struct tunables *tunables_new(const struct config *cfg)
{
	struct tunables *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
#define X(name, fmt) t->name = cfg->name;
	TUNABLES_U32(X)
#undef X
	for (unsigned i = 0; i < cfg->npools; i++) {
		t->pools[i].quota_pages = cfg->pools[i].quota_pages;
		t->pools[i].quota_uid_pages = cfg->pools[i].quota_uid_pages;
	}
	return t;
}

int tunables_init(struct daemon *d)
{
	d->tun = tunables_new(&d->cfg);
	return d->tun ? 0 : -ENOMEM;
}

void tunables_free(struct daemon *d)
{
	free(d->tun);
	d->tun = NULL;
}

int tunables_publish(struct daemon *d, const struct config *cfg)
{
	struct tunables *t = tunables_new(cfg), *old;

	if (!t)
		return -ENOMEM;
	old = pp_rcu_xchg_pointer(&d->tun, t);
	/* After this no worker still reads the old set. */
	pp_synchronize_rcu();
	free(old);
	return 0;
}
