/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzzdaemon.c - the in-process pagepoold of fuzz_proto and fuzz_ccache:
 * set-up, connections, the event loops run by hand, and the checks of an
 * emptied daemon that both targets make.  See fuzzdaemon.h.
 */
#include <errno.h>
#include <event2/event.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "decay.h"
#include "fuzzdaemon.h"
#include "log.h"
#include "rcu.h"
#include "server.h"
#include "worker.h"

#define MAX_ROUNDS	100000

static const char *fuzz_name = "fuzz";
static bool fuzz_debug;

void fuzz_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", fuzz_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void fuzzd_init(const char *name, bool debug, char *dir, size_t len)
{
	const char *t = getenv("TMPDIR");

	fuzz_name = name;
	fuzz_debug = debug;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("WATCHDOG_USEC");
	signal(SIGPIPE, SIG_IGN);
	log_init(debug ? LOG_LVL_DEBUG : LOG_LVL_ERR, false);
	/* The sockets' paths must fit sun_path: a short $TMPDIR only. */
	snprintf(dir, len, "%s/pp-fuzz.XXXXXX", t && strlen(t) < 40 ? t : "/tmp");
	if (!mkdtemp(dir))
		fuzz_die("mkdtemp: %s", strerror(errno));
}

unsigned fuzzd_cpus(char *buf, size_t len)
{
	cpu_set_t set;
	unsigned n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		fuzz_die("sched_getaffinity: %s", strerror(errno));
	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++) {
		if (CPU_ISSET(c, &set)) {
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%d", n ? "," : "", c);
			n++;
		}
	}
	if (!n)
		fuzz_die("no CPU");
	return n;
}

/* pcp->kick for workqueue drains: the worker wakes up and services them now. */
static void fuzzd_kick(void *arg)
{
	struct worker *w = arg;
	uint64_t one = 1;

	if (write(w->efd, &one, sizeof(one)) != sizeof(one))
		fuzz_die("eventfd write: %s", strerror(errno));
	event_base_loop(w->base, EVLOOP_NONBLOCK);
}

void fuzzd_start(struct daemon *d, const char *path, unsigned nw, bool admin)
{
	char err[4096];

	d->config_path = path;
	if (config_load(path, &d->cfg, err, sizeof(err)) < 0)
		fuzz_die("config: %s", err);
	log_set_level(fuzz_debug ? LOG_LVL_DEBUG : d->cfg.log_level);
	d->started = daemon_now();
	pthread_mutex_init(&d->quota_lock, NULL);
	d->quotas = calloc(d->cfg.max_connections, sizeof(*d->quotas));
	d->slots = calloc(d->cfg.max_connections, sizeof(*d->slots));
	if (!d->quotas || !d->slots || daemon_pools_create(d) < 0)
		fuzz_die("cannot set up the daemon");

	pp_rcu_register();
	pp_rcu_offline();
	d->nworkers = nw;
	d->workers = calloc(nw, sizeof(*d->workers));
	if (!d->workers)
		fuzz_die("out of memory");
	for (unsigned k = 0; k < nw; k++) {
		d->workers[k] = worker_create(d, k);
		if (!d->workers[k])
			fuzz_die("cannot set up worker %u", k);
		for (unsigned i = 0; i < d->cfg.npools; i++)
			pcp_set_kick(pool_pcp(d->pools[i], k), fuzzd_kick, d->workers[k]);
	}
	if (!admin)
		return;
	d->base = event_base_new();
	if (!d->base)
		fuzz_die("out of memory");
	if (admin_start(d, d->base) < 0 || decay_start(d, d->base) < 0)
		fuzz_die("admin_start or decay_start failed");
}

bool fuzzd_connect(struct daemon *d, bool admin, int sndbuf, int *peer, int *dfd)
{
	uint32_t before = admin ? d->admin_nconns : d->nconns;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_die("socketpair: %s", strerror(errno));
	if (sndbuf > 0)
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	*peer = sv[1];
	*dfd = sv[0];
	if (admin) {
		admin_accept(d, sv[0]);
		return d->admin_nconns != before;
	}
	server_accept_client(d, sv[0]);
	return d->nconns != before;
}

struct conn *fuzzd_conn(const struct daemon *d, int dfd)
{
	for (unsigned k = 0; k < d->nworkers; k++)
		for (struct conn *c = d->workers[k]->conns; c; c = c->next)
			if (c->fd == dfd)
				return c;
	return NULL;
}

/* Worker callbacks run so far (worker.c counts them). */
static uint64_t worker_loops(const struct daemon *d)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < d->nworkers; k++)
		n += d->workers[k]->loops;
	return n;
}

/*
 * (An admin callback always answers, or reads a partial frame and waits,
 * so bytes cover it.)  Each event_base_loop(EVLOOP_NONBLOCK) itself runs
 * until its base has nothing active.
 */
void fuzzd_pump(struct daemon *d, const uint64_t *moved, void (*send)(void),
		void (*recv)(void))
{
	bool idle = false;

	for (unsigned round = 0; !idle; round++) {
		uint64_t before = *moved, loops = worker_loops(d);

		if (round == MAX_ROUNDS)
			fuzz_die("no quiescence after %u rounds: the daemon keeps busy on its own",
				 MAX_ROUNDS);
		if (send)
			send();
		for (unsigned k = 0; k < d->nworkers; k++)
			event_base_loop(d->workers[k]->base, EVLOOP_NONBLOCK);
		if (d->base)
			event_base_loop(d->base, EVLOOP_NONBLOCK);
		recv();
		idle = *moved == before && loops == worker_loops(d);
	}
}

void fuzzd_check_quotas(const struct daemon *d)
{
	for (uint32_t q = 0; q < d->cfg.max_connections; q++) {
		const struct uid_quota *uq = &d->quotas[q];
		uint64_t held = 0;

		if (!uq->refs)
			continue;
		for (unsigned k = 0; k < d->nworkers; k++)
			for (struct conn *c = d->workers[k]->conns; c; c = c->next)
				if (c->uq == uq)
					held += share_charged(&c->owner);
		if (held != uq->pages)
			fuzz_die("pool %s uid %d: the quota counts %lu pages, its connections are "
				 "charged %lu", d->pools[uq->pool]->name, (int)uq->uid,
				 (unsigned long)uq->pages, (unsigned long)held);
	}
}

void fuzzd_check_closed(const struct daemon *d)
{
	bool left = d->nconns || d->admin_nconns;

	for (unsigned k = 0; k < d->nworkers; k++) {
		const struct worker *w = d->workers[k];

		left |= w->conns || w->queue || w->nconns;
		for (struct conn *c = w->conns; c; c = c->next)
			fprintf(stderr, "%s: left: %s: pool %s, closing %d, paused %d, eof %d, "
				"reading %s, %zu bytes in, %zu bytes out\n", fuzz_name, c->name,
				c->pool ? c->pool->name : "-", c->closing, c->paused, c->eof,
				c->reading ? "on" : "off", c->in_len - c->in_off, c->out_queued);
	}
	if (left)
		fuzz_die("peers closed, but %u client connections and %u admin connections remain",
			 d->nconns, d->admin_nconns);
	for (uint32_t i = 0; i < d->cfg.max_connections; i++) {
		if (d->slots[i])
			fuzz_die("slot %u still taken", i);
		if (d->quotas[i].refs || d->quotas[i].pages)
			fuzz_die("pool %s uid %d: quota entry left with %u refs, %lu pages",
				 d->pools[d->quotas[i].pool]->name, (int)d->quotas[i].uid,
				 d->quotas[i].refs, (unsigned long)d->quotas[i].pages);
	}
}

void fuzzd_check_pool_empty(struct pool *pool)
{
	struct owner *none[1] = { NULL };
	uint64_t counts[PP_NR_ORDERS];
	struct pool_counts c;
	char err[256];

	if (pool_verify(pool, none, 0, err, sizeof(err)) != 0)
		fuzz_die("pool %s, every client gone: pool_verify: %s", pool->name, err);
	pool_counts(pool, &c);
	if (c.free != c.total || c.pcp || c.allocated || c.isolated || c.offline)
		fuzz_die("pool %s, every client gone: total %lu free %lu pcp %lu allocated %lu "
			 "isolated %lu offline %lu", pool->name, (unsigned long)c.total,
			 (unsigned long)c.free, (unsigned long)c.pcp, (unsigned long)c.allocated,
			 (unsigned long)c.isolated, (unsigned long)c.offline);
	buddy_info(&pool->zone, counts);
	for (unsigned o = 0; o < PP_MAX_ORDER; o++)
		if (counts[o])
			fuzz_die("pool %s: every page is free but %lu order-%u blocks did not "
				 "merge", pool->name, (unsigned long)counts[o], o);
}
