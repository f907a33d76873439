/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_admin.c - the admin socket of a fixture's daemon (see bb_admin.h).
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bb_admin.h"
#include "bb_rpc.h"
#include "bb_time.h"

#define ST(x)		PAGEPOOL__V1__STATUS__##x
#define ADM(x)		PAGEPOOL__V1__ADMIN_REQUEST__BODY_##x
#define ADR(x)		PAGEPOOL__V1__ADMIN_RESPONSE__BODY_##x

/* Ids from 100: clear of the small ids tests give requests they build by
 * hand on their own connections. */
static uint64_t admin_next_id = 100;

void bb_admin_path(const struct bb *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s/admin.sock", f->dir);
}

struct bb_conn *bb_admin_open(struct bb *f)
{
	char path[160];

	bb_admin_path(f, path, sizeof(path));
	return bb_raw_at(f, path);
}

uint64_t bb_admin_next_id(void)
{
	return admin_next_id++;
}

bb_admin_response *bb_admin_rpc(struct bb_conn *a, bb_admin_request *q)
{
	bb_admin_response *r;
	int ret;

	q->id = bb_admin_next_id();
	ret = bb_admin_call(a, q, &r);
	if (ret)
		print_error("admin request %d: %s\n", (int)q->body_case, strerror(-ret));
	assert_int_equal(ret, 0);
	assert_int_equal(r->id, q->id);
	return r;
}

void bb_admin_free(bb_admin_response *r)
{
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
}

int bb_admin_status_of(struct bb_conn *a, bb_admin_request *q)
{
	bb_admin_response *r = bb_admin_rpc(a, q);
	int st = (int)r->status;

	bb_admin_free(r);
	return st;
}

/* bb_admin_rpc of a question every daemon answers: asserts status OK and
 * an answer of body `body`. */
static bb_admin_response *admin_ask(struct bb_conn *a, bb_admin_request *q, int body)
{
	bb_admin_response *r = bb_admin_rpc(a, q);

	assert_int_equal(r->status, ST(OK));
	assert_int_equal(r->body_case, body);
	return r;
}

void bb_admin_verify(struct bb_conn *a, size_t npools)
{
	Pagepool__V1__AdminVerifyReq v = PAGEPOOL__V1__ADMIN_VERIFY_REQ__INIT;
	bb_admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	bb_admin_response *r;

	v.pool = (char *)"";
	q.body_case = ADM(VERIFY);
	q.verify = &v;
	r = bb_admin_rpc(a, &q);
	if (r->status != ST(OK))
		print_error("verify: %s \"%s\"\n", bb_status_name(r->status), r->error);
	assert_int_equal(r->status, ST(OK));
	assert_int_equal(r->body_case, ADR(VERIFIED));
	if (npools)
		assert_int_equal(r->verified->n_pools, npools);
	else
		assert_true(r->verified->n_pools > 0);
	for (size_t i = 0; i < r->verified->n_pools; i++) {
		const Pagepool__V1__PoolVerify *p = r->verified->pools[i];

		if (!p->ok)
			fail_msg("verify of pool %s: %s", p->name, p->message);
	}
	bb_admin_free(r);
}

void bb_admin_drain_req(bb_admin_request *q, Pagepool__V1__AdminDrainReq *d, const char *pool,
			uint64_t client_id)
{
	pagepool__v1__admin_drain_req__init(d);
	d->pool = (char *)(pool ? pool : "");
	d->clients = true;
	d->client_id = client_id;
	pagepool__v1__admin_request__init(q);
	q->body_case = ADM(DRAIN);
	q->drain = d;
}

int bb_admin_drain_pcps(struct bb_conn *a, const char *pool, const char *mode, bool force)
{
	Pagepool__V1__AdminDrainReq d = PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT;
	bb_admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;

	d.pool = (char *)(pool ? pool : "");
	d.mode = (char *)(mode ? mode : "");
	d.force = force;
	q.body_case = ADM(DRAIN);
	q.drain = &d;
	return bb_admin_status_of(a, &q);
}

int bb_admin_trim(struct bb_conn *a, const char *pool)
{
	Pagepool__V1__AdminTrimReq t = PAGEPOOL__V1__ADMIN_TRIM_REQ__INIT;
	bb_admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;

	t.pool = (char *)(pool ? pool : "");
	q.body_case = ADM(TRIM);
	q.trim = &t;
	return bb_admin_status_of(a, &q);
}

struct bb_admin_drained bb_admin_drained_of(const bb_admin_response *r)
{
	struct bb_admin_drained d;

	memset(&d, 0, sizeof(d));
	d.status = (int)r->status;
	snprintf(d.error, sizeof(d.error), "%s", r->error ? r->error : "");
	d.body = r->body_case == ADR(DRAINED);
	if (d.body) {
		const Pagepool__V1__AdminDrained *x = r->drained;

		snprintf(d.mode, sizeof(d.mode), "%s", x->mode ? x->mode : "");
		d.pages = x->pages;
		d.usec = x->usec;
		d.bad = x->bad;
		d.clients = x->clients;
		d.nstuck = x->n_stuck;
		for (size_t i = 0; i < x->n_stuck && i < BB_ADMIN_MAX_STUCK; i++)
			d.stuck[i] = x->stuck[i];
	}
	return d;
}

struct bb_admin_drained bb_admin_drain_clients(struct bb_conn *a, const char *pool,
					       uint64_t client_id)
{
	Pagepool__V1__AdminDrainReq dq;
	bb_admin_request q;
	bb_admin_response *r;
	struct bb_admin_drained d;
	int64_t t0 = bb_now_ms();

	bb_admin_drain_req(&q, &dq, pool, client_id);
	r = bb_admin_rpc(a, &q);
	d = bb_admin_drained_of(r);
	d.ms = bb_now_ms() - t0;
	bb_admin_free(r);
	return d;
}

/* One status read: the counts of `pool` (asserts it is listed). */
static struct bb_admin_counts pool_counts_once(struct bb_conn *a, const char *pool)
{
	Pagepool__V1__AdminStatusReq sq = PAGEPOOL__V1__ADMIN_STATUS_REQ__INIT;
	bb_admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	bb_admin_response *r;
	struct bb_admin_counts c;
	bool found = false;

	memset(&c, 0, sizeof(c));
	q.body_case = ADM(STATUS);
	q.status = &sq;
	r = admin_ask(a, &q, ADR(STATUS_INFO));
	for (size_t i = 0; i < r->status_info->n_pools; i++) {
		const Pagepool__V1__PoolCounts *p = r->status_info->pools[i];

		if (strcmp(p->name, pool) != 0)
			continue;
		c.total = p->total;
		c.free = p->free;
		c.pcp = p->pcp;
		c.allocated = p->allocated;
		c.isolated = p->isolated;
		c.offline = p->offline;
		c.cached = p->cached;
		found = true;
	}
	bb_admin_free(r);
	if (!found)
		fail_msg("pool %s not in the admin status", pool);
	return c;
}

static bool counts_add_up(const struct bb_admin_counts *c)
{
	return c->total == c->free + c->pcp + c->allocated + c->isolated + c->offline;
}

struct bb_admin_counts bb_admin_pool_counts(struct bb_conn *a, const char *pool)
{
	struct bb_admin_counts c = pool_counts_once(a, pool);

	for (int i = 1; i < BB_ADMIN_COUNTS_TRIES && !counts_add_up(&c); i++) {
		poll(NULL, 0, 1);
		c = pool_counts_once(a, pool);
	}
	assert_int_equal(c.total, c.free + c.pcp + c.allocated + c.isolated + c.offline);
	return c;
}

struct bb_admin_counts bb_admin_settle(struct bb_conn *a, const char *pool, uint64_t allocated,
				       int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	struct bb_admin_counts c;

	for (;;) {
		c = bb_admin_pool_counts(a, pool);
		if (c.allocated == allocated || !bb_left_ms(deadline))
			break;
		poll(NULL, 0, 1);
	}
	if (c.allocated != allocated)
		print_error("pool %s: allocated %llu after %d ms, expected %llu\n", pool,
			    (unsigned long long)c.allocated, timeout_ms,
			    (unsigned long long)allocated);
	assert_int_equal(c.allocated, allocated);
	return c;
}

struct bb_admin_client bb_admin_client_find(struct bb_conn *a, uint64_t id)
{
	Pagepool__V1__AdminClientsReq cq = PAGEPOOL__V1__ADMIN_CLIENTS_REQ__INIT;
	bb_admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	bb_admin_response *r;
	struct bb_admin_client in;

	memset(&in, 0, sizeof(in));
	q.body_case = ADM(CLIENTS);
	q.clients = &cq;
	r = admin_ask(a, &q, ADR(CLIENTS));
	for (size_t i = 0; i < r->clients->n_clients; i++) {
		const Pagepool__V1__ClientInfo *ci = r->clients->clients[i];

		if (ci->id != id)
			continue;
		in.found = true;
		in.pid = ci->pid;
		in.pages = ci->pages;
		in.ref_pages = ci->ref_pages;
		in.offered_pages = ci->offered_pages;
		in.offers = ci->offers;
		in.cached = ci->cached;
		in.drains = ci->cache_drains;
		in.errors = ci->cache_errors;
		in.stuck = ci->cache_stuck;
	}
	bb_admin_free(r);
	return in;
}

struct bb_admin_client bb_admin_client_info(struct bb_conn *a, uint64_t id)
{
	struct bb_admin_client in = bb_admin_client_find(a, id);

	if (!in.found)
		fail_msg("client %llu not in admin clients", (unsigned long long)id);
	return in;
}

void bb_admin_client_gone(struct bb_conn *a, uint64_t id, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;

	while (bb_admin_client_find(a, id).found) {
		if (!bb_left_ms(deadline))
			fail_msg("client %llu still listed %d ms after it died",
				 (unsigned long long)id, timeout_ms);
		poll(NULL, 0, 1);
	}
}

bb_admin_response *bb_admin_range(struct bb_conn *a, bool off, const char *pool,
				  uint32_t start, uint32_t count)
{
	Pagepool__V1__AdminOfflineReq oq = PAGEPOOL__V1__ADMIN_OFFLINE_REQ__INIT;
	Pagepool__V1__AdminOnlineReq nq = PAGEPOOL__V1__ADMIN_ONLINE_REQ__INIT;
	bb_admin_request q = PAGEPOOL__V1__ADMIN_REQUEST__INIT;

	if (off) {
		oq.pool = (char *)pool;
		oq.start = start;
		oq.count = count;
		q.body_case = ADM(OFFLINE);
		q.offline = &oq;
	} else {
		nq.pool = (char *)pool;
		nq.start = start;
		nq.count = count;
		q.body_case = ADM(ONLINE);
		q.online = &nq;
	}
	return bb_admin_rpc(a, &q);
}

void bb_admin_range_ok(struct bb_conn *a, bool off, const char *pool, uint32_t start,
		       uint32_t count)
{
	bb_admin_response *r = bb_admin_range(a, off, pool, start, count);

	if (r->status != ST(OK))
		print_error("%s of %s [%u, +%u): %s \"%s\"\n", off ? "offline" : "online", pool,
			    start, count, bb_status_name(r->status), r->error);
	assert_int_equal(r->status, ST(OK));
	bb_admin_free(r);
}
