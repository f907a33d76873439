/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * load-admin.c - bench_load's admin client: the worker layout and pcps of
 * a pool, client counts and drains, one blocking round trip each through
 * proto/transport.h.  Anything but the expected answer ends the program.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "load.h"

#define ADMIN_CONNECT_MS	30000

/* Calls block, as they always did here: a deadline would add a poll() to
 * every round trip the drain tables time. */
void admin_open(struct admin *a, const char *path)
{
	if (transport_connect(&a->t, path, ADMIN_CONNECT_MS) < 0)
		die("admin socket %s: %s", path, a->t.error);
	a->t.timeout_ms = -1;
	a->t.max_frame = MAX_RESP;
}

/* Send req, return the decoded response; dies unless it is OK and carries
 * `body`.  Free with pagepool__v1__admin_response__free_unpacked. */
static admin_response *admin_call(struct admin *a, admin_request *req, int body)
{
	ProtobufCMessage *out = NULL;
	admin_response *resp;
	int err;

	req->id = transport_next_id(&a->t);
	err = transport_call(&a->t, &req->base, &pagepool__v1__admin_response__descriptor, &out,
			     NULL);
	if (err < 0 && out)
		die("admin request refused: %s (%s)", wire_status_name(-err), a->t.error);
	if (err < 0)
		die("admin request: %s", a->t.error);
	resp = (admin_response *)out;
	if ((int)resp->body_case != body)
		die("unexpected admin response (id %llu, body %d)",
		    (unsigned long long)resp->id, (int)resp->body_case);
	return resp;
}

unsigned admin_clients(struct admin *a)
{
	Pagepool__V1__AdminStatusReq q = PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp;
	unsigned n;

	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS;
	req.status = &q;
	resp = admin_call(a, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATUS_INFO);
	n = resp->status_info->clients;
	pagepool__v1__admin_response__free_unpacked(resp, NULL);
	return n;
}

/* Worker CPUs and connection counts, and the pcps of `pool`. */
void admin_view(struct admin *a, const char *pool, struct daemon_view *v)
{
	Pagepool__V1__AdminStatsReq q = PAGEPOOL__V1__ADMIN_STATS_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminStats *st;
	admin_response *resp;

	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATS;
	req.stats = &q;
	resp = admin_call(a, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATS);
	st = resp->stats;
	memset(v, 0, sizeof(*v));
	if (st->n_workers == 0 || st->n_workers > MAX_WORKERS)
		die("daemon reports %zu workers", st->n_workers);
	v->nworkers = (unsigned)st->n_workers;
	for (size_t i = 0; i < st->n_workers; i++) {
		unsigned w = st->workers[i]->worker;

		if (w >= v->nworkers)
			die("daemon reports worker %u of %u", w, v->nworkers);
		v->cpu[w] = st->workers[i]->cpu;
		v->conns[w] = st->workers[i]->connections;
	}
	for (size_t i = 0; i < st->n_pcps; i++) {
		const Pagepool__V1__PcpStats *p = st->pcps[i];

		if (strcmp(p->pool, pool) != 0 || p->worker >= v->nworkers)
			continue;
		v->pcp[p->worker].count = p->count;
		v->pcp[p->worker].high = p->high;
		v->pcp[p->worker].batch = p->batch;
	}
	pagepool__v1__admin_response__free_unpacked(resp, NULL);
}

/* Drain `pool` in the daemon's configured mode. */
void admin_drain(struct admin *a, const char *pool, int force, struct drain_rec *rec)
{
	Pagepool__V1__AdminDrainReq q = PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp;
	uint64_t t0 = now_ns();

	q.pool = (char *)pool;
	q.force = force;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_DRAIN;
	req.drain = &q;
	resp = admin_call(a, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_DRAINED);
	rec->rtt_ns = now_ns() - t0;
	rec->usec = resp->drained->usec;
	rec->pages = resp->drained->pages;
	pagepool__v1__admin_response__free_unpacked(resp, NULL);
}

/* Wait until the daemon counts exactly `n` client connections (closing is
 * asynchronous: the worker sees EOF later). */
void admin_wait_clients(struct admin *a, unsigned n)
{
	uint64_t give_up = now_ns() + 5000000000u;

	while (admin_clients(a) != n) {
		if (now_ns() > give_up)
			die("the daemon still counts other than %u clients after 5 s", n);
		usleep(200);
	}
}

void drain_set_push(struct drain_set *s, const struct drain_rec *r)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = *r;
}
