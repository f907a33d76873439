/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * audit.c - the audit lines of admin actions (see audit.h).  Each line is
 * built whole in a buffer from the request and its answer, after the
 * request ran, and printed once through a rate limit shared by every
 * admin: the handlers themselves stay silent about success, so an action
 * leaves exactly one line however many internal steps or retries it took.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "log.h"

/* A line under construction; appends past the end are dropped. */
struct line {
	char buf[900];
	size_t len;
};

__attribute__((format(printf, 2, 3)))
static void add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= sizeof(l->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < sizeof(l->buf) - l->len ? (size_t)n : sizeof(l->buf) - 1 - l->len;
}

/* "pool NAME" or "all pools"; the name is peer bytes until a pool matched. */
static void add_pool(struct line *l, const char *name)
{
	char clean[64];

	if (!*name) {
		add(l, "all pools");
		return;
	}
	log_sanitize(clean, sizeof(clean), name, strlen(name));
	add(l, "pool %s", clean);
}

/* Text that may span lines (a refused reload) as one line. */
static void add_flat(struct line *l, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			add(l, p[1] ? "; " : "");
		else
			add(l, "%c", *p);
	}
}

/* ": ok", or the refusal as "STATUS, text". */
static bool add_status(struct line *l, const struct admin_reply *rp)
{
	if (rp->r.status == PAGEPOOL__V1__STATUS__OK) {
		add(l, ": ok");
		return true;
	}
	add(l, ": %s, ", wire_status_name(rp->r.status));
	add_flat(l, rp->r.error ? rp->r.error : "");
	return false;
}

static void add_drain(struct line *l, const Pagepool__V1__AdminDrainReq *q,
		      const struct admin_reply *rp)
{
	const Pagepool__V1__AdminDrained *dr = rp->r.drained;

	if (q->client_id)
		add(l, "drain --client %lu ", (unsigned long)q->client_id);
	else
		add(l, q->clients ? "drain --clients " : "drain ");
	add_pool(l, q->pool);
	if (*q->mode)
		add(l, " mode %.16s", q->mode);
	if (q->force)
		add(l, " force");
	if (!add_status(l, rp) || rp->r.body_case != PAGEPOOL__V1__ADMIN_RESPONSE__BODY_DRAINED)
		return;
	if (q->clients || q->client_id)
		add(l, ", %lu pages from %u clients, %zu stuck, %lu bad entries",
		    (unsigned long)dr->pages, dr->clients, dr->n_stuck, (unsigned long)dr->bad);
	else
		add(l, ", %lu pages (%s) in %lu us", (unsigned long)dr->pages, dr->mode,
		    (unsigned long)dr->usec);
}

static void add_range(struct line *l, const char *verb, const char *pool, uint32_t start,
		      uint32_t count, const struct admin_reply *rp)
{
	const Pagepool__V1__AdminOffline *off = rp->r.offline;

	add(l, "%s ", verb);
	add_pool(l, pool);
	add(l, " %u..%lu", start, (unsigned long)start + count - 1);
	if (rp->r.body_case == PAGEPOOL__V1__ADMIN_RESPONSE__BODY_OFFLINE && off)
		add(l, ": %s, %lu pages held by %zu client%s", wire_status_name(rp->r.status),
		    (unsigned long)off->busy_pages, off->n_holders, off->n_holders == 1 ? "" : "s");
	else
		add_status(l, rp);
}

static void add_verify(struct line *l, const Pagepool__V1__AdminVerifyReq *q,
		       const struct admin_reply *rp)
{
	const Pagepool__V1__AdminVerified *v = rp->r.verified;
	size_t bad = 0;

	add(l, "verify ");
	add_pool(l, q->pool);
	if (rp->r.status != PAGEPOOL__V1__STATUS__OK || !v) {
		add_status(l, rp);
		return;
	}
	for (size_t i = 0; i < v->n_pools; i++)
		bad += !v->pools[i]->ok;
	if (!bad) {
		add(l, ": ok, %zu pool%s", v->n_pools, v->n_pools == 1 ? "" : "s");
		return;
	}
	add(l, ": FAILED");
	for (size_t i = 0; i < v->n_pools; i++)
		if (!v->pools[i]->ok)
			add(l, ", pool %s: %s", v->pools[i]->name, v->pools[i]->message);
}

/* "reload: N changes: a; b" / "no changes" / "refused: why". */
static void add_reload(struct line *l, bool ok, size_t n, char *const *changes,
		       const char *error)
{
	add(l, "reload: ");
	if (!ok) {
		add(l, "refused, running configuration kept: ");
		add_flat(l, error);
		return;
	}
	if (n == 0)
		add(l, "no changes");
	else
		add(l, "%zu change%s: ", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		add(l, "%s%s", i ? "; " : "", changes[i]);
}

void audit_before(struct daemon *d, const Pagepool__V1__AdminRequest *q,
		  struct audit_before *b)
{
	struct line l = { .buf = "", .len = 0 };

	if (q->body_case != PAGEPOOL__V1__ADMIN_REQUEST__BODY_SET_PCP)
		return;
	for (unsigned i = 0; i < d->cfg.npools; i++) {
		const struct pool *p = d->pools[i];

		if (!*q->set_pcp->pool)
			add(&l, "%s%s %d/%d", l.len ? ", " : "", p->name, p->high, p->batch);
		else if (strcmp(q->set_pcp->pool, p->name) == 0)
			add(&l, "%d/%d", p->high, p->batch);
	}
	l.len = l.len < sizeof(b->was) ? l.len : sizeof(b->was) - 1;
	memcpy(b->was, l.buf, l.len);
	b->was[l.len] = '\0';
}

void audit_admin(const struct admin_peer *peer,
		 const Pagepool__V1__AdminRequest *q, const struct admin_reply *rp,
		 const struct audit_before *b)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(LOG_RATELIMIT_INTERVAL, AUDIT_BURST);
	static struct log_ratelimit warn_rl =
		LOG_RATELIMIT_INIT(LOG_RATELIMIT_INTERVAL, AUDIT_BURST);
	const Pagepool__V1__AdminReloaded *rd = rp->r.reloaded;
	struct line l = { .len = 0 };
	bool ok = rp->r.status == PAGEPOOL__V1__STATUS__OK;

	switch (q->body_case) {
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_DRAIN:
		add_drain(&l, q->drain, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_OFFLINE:
		add_range(&l, "offline", q->offline->pool, q->offline->start, q->offline->count,
			  rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_ONLINE:
		add_range(&l, "online", q->online->pool, q->online->start, q->online->count, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_TRIM:
		add(&l, "trim ");
		add_pool(&l, q->trim->pool);
		if (add_status(&l, rp) && rp->r.trimmed)
			add(&l, ", %lu pages released", (unsigned long)rp->r.trimmed->pages);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_SET_PCP:
		add(&l, "set-pcp ");
		add_pool(&l, q->set_pcp->pool);
		add(&l, " high %u batch %u", q->set_pcp->high, q->set_pcp->batch);
		if (ok)
			add(&l, " (was %s)", b->was);
		else
			add_status(&l, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_VERIFY:
		add_verify(&l, q->verify, rp);
		break;
	case PAGEPOOL__V1__ADMIN_REQUEST__BODY_RELOAD:
		add_reload(&l, ok, ok && rd ? rd->n_changes : 0, ok && rd ? rd->changes : NULL,
			   rp->r.error ? rp->r.error : "");
		break;
	default:
		return;		/* read-only, or refused before it named an action */
	}
	if (q->body_case == PAGEPOOL__V1__ADMIN_REQUEST__BODY_RELOAD && !ok)
		log_warnx_rl(&warn_rl, "admin uid %d pid %d: %s", peer->uid, peer->pid, l.buf);
	else
		log_info_rl(&rl, "admin uid %d pid %d: %s", peer->uid, peer->pid, l.buf);
}

void audit_signal_reload(int ret, const struct reload_result *r)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(LOG_RATELIMIT_INTERVAL, AUDIT_BURST);
	static struct log_ratelimit warn_rl =
		LOG_RATELIMIT_INIT(LOG_RATELIMIT_INTERVAL, AUDIT_BURST);
	char *changes[RELOAD_MAX_CHANGES] = { NULL };
	struct line l = { .len = 0 };
	unsigned n = ret < 0 ? 0 : r->nchanges;

	for (unsigned i = 0; i < n && i < RELOAD_MAX_CHANGES; i++)
		changes[i] = (char *)r->changes[i];
	add_reload(&l, ret == 0, n, changes, r->error);
	if (ret < 0)
		log_warnx_rl(&warn_rl, "signal SIGHUP: %s", l.buf);
	else
		log_info_rl(&rl, "signal SIGHUP: %s", l.buf);
}
