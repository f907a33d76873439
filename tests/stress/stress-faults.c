/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress-faults.c - the fault process of the stress test, on the admin
 * socket: drains in the three modes, trims, offline/online cycles spread
 * over several steps, set-pcp, reloads that flip drain_mode, verify, and
 * the read-only calls, at a paced random rhythm.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stress.h"

/* A pool's range in its offline/online cycle. */
struct fault_range {
	unsigned state;			/* OFF_NONE, OFF_ISOLATING (EBUSY so far), OFF_OFFLINE */
	uint32_t start, count;		/* pages */
	unsigned tries;			/* offline calls so far */
};

struct fault {
	struct run *r;
	struct shared *sh;
	struct admin a;
	uint64_t rng;
	const char *cfg_mode;		/* drain_mode in the config file now */
	uint64_t total[NPOOLS];		/* pages per pool */
	int64_t last_reload;
	struct fault_range range[NPOOLS];
};

static void __attribute__((noreturn)) fault_die(struct fault *f, const char *what, int err)
{
	char msg[FAIL_LEN];

	snprintf(msg, sizeof(msg), "fault: %s: %s (%s)", what,
		 err < 0 ? strerror(-err) : strerror(err), f->a.why);
	if (err == -ECONNRESET || err == -EPIPE) {
		memcpy(f->sh->slot[FAULT_SLOT].lost, msg, sizeof(msg));
		_exit(EXIT_LOST);
	}
	shared_fail(f->sh, "%s", msg);
	_exit(EXIT_FAILED);
}

static const char *fault_pool_arg(struct fault *f)
{
	unsigned x = rng_below(&f->rng, 4);

	return x < 2 ? "" : pool_defs[x - 2].name;
}

static void fault_drain(struct fault *f)
{
	unsigned m = rng_below(&f->rng, 3);
	bool force = rng_pct(&f->rng, 25);
	bool refused_ok = m == 2 && strcmp(f->cfg_mode, "spinlock") != 0;
	uint64_t pages;
	int err = admin_drain(&f->a, fault_pool_arg(f), drain_modes[m], force, &pages);

	if (err == EINVAL && refused_ok) {
		ctr_add(f->sh, CTR_spinlock_refused, 1);
		return;
	}
	if (err)
		fault_die(f, drain_modes[m], err);
	if (refused_ok)
		shared_fail(f->sh, "fault: a spinlock drain succeeded with drain_mode = %s",
			    f->cfg_mode);
	ctr_add(f->sh, CTR_drain_rcu + m, 1);
	ctr_add(f->sh, CTR_drained_pages, pages);
}

static void fault_trim(struct fault *f)
{
	uint64_t pages;
	int err = admin_trim(&f->a, fault_pool_arg(f), &pages);

	if (err)
		fault_die(f, "trim", err);
	ctr_add(f->sh, CTR_trims, 1);
	ctr_add(f->sh, CTR_trimmed_pages, pages);
}

static void offrange_publish(struct fault *f, unsigned pool, unsigned state, uint32_t start,
			     uint32_t count)
{
	uint64_t v = state | (uint64_t)(start / BLOCK_PAGES) << 8 |
		     (uint64_t)(count / BLOCK_PAGES) << 32;

	__atomic_store_n(&f->sh->offrange[pool], v, __ATOMIC_RELEASE);
}

/* Online the pool's range (ending an offline, or abandoning an isolation
 * still busy); must succeed. */
static void fault_online(struct fault *f, unsigned pool)
{
	struct fault_range *fr = &f->range[pool];
	char what[96];
	int err;

	snprintf(what, sizeof(what), "online %s %u %u (after %s)", pool_defs[pool].name,
		 fr->start, fr->count, fr->state == OFF_OFFLINE ? "offline" : "EBUSY");
	if (fr->state == OFF_ISOLATING)
		ctr_add(f->sh, CTR_offline_aborted, 1);
	offrange_publish(f, pool, OFF_ONLINING, fr->start, fr->count);
	err = admin_range(&f->a, true, pool_defs[pool].name, fr->start, fr->count);
	if (err)
		fault_die(f, what, err);
	offrange_publish(f, pool, OFF_NONE, 0, 0);
	fr->state = OFF_NONE;
	ctr_add(f->sh, CTR_offline_cycles, 1);
}

/* (Re)try to take the pool's range offline: OK -> offline, EBUSY -> stays
 * isolated (pages in it are still held). */
static void fault_offline(struct fault *f, unsigned pool)
{
	struct fault_range *fr = &f->range[pool];
	char what[96];
	int err;

	snprintf(what, sizeof(what), "offline %s %u %u", pool_defs[pool].name, fr->start,
		 fr->count);
	fr->tries++;
	err = admin_range(&f->a, false, pool_defs[pool].name, fr->start, fr->count);
	if (err == EBUSY) {
		ctr_add(f->sh, CTR_offline_busy, 1);
		return;
	}
	if (err)
		fault_die(f, what, err);
	ctr_add(f->sh, CTR_offline_ok, 1);
	fr->state = OFF_OFFLINE;
	offrange_publish(f, pool, OFF_OFFLINE, fr->start, fr->count);
}

/*
 * One step of a pool's offline/online cycle, so that every other fault
 * (drains, trims, set-pcp, reloads, verify, kills) also lands while a range
 * is isolated or offline: start on 1..2 random max-order blocks; while
 * EBUSY retry, or give up by onlining; once offline, online again.
 */
static void fault_offline_step(struct fault *f)
{
	unsigned pool = rng_pct(&f->rng, 70) ? 0 : 1;
	struct fault_range *fr = &f->range[pool];
	uint32_t blocks = (uint32_t)(f->total[pool] / BLOCK_PAGES), n;

	switch (fr->state) {
	case OFF_NONE:
		n = 1 + rng_below(&f->rng, blocks < 2 ? blocks : 2);
		fr->start = rng_below(&f->rng, blocks - n + 1) * BLOCK_PAGES;
		fr->count = n * BLOCK_PAGES;
		fr->tries = 0;
		fr->state = OFF_ISOLATING;
		offrange_publish(f, pool, OFF_ISOLATING, fr->start, fr->count);
		fault_offline(f, pool);
		break;
	case OFF_ISOLATING:
		if (fr->tries >= 8 || rng_pct(&f->rng, 30))
			fault_online(f, pool);
		else
			fault_offline(f, pool);
		break;
	default:
		fault_online(f, pool);
		break;
	}
}

/* At the end: nothing left isolated or offline. */
static void fault_online_all(struct fault *f)
{
	for (unsigned pool = 0; pool < NPOOLS; pool++)
		if (f->range[pool].state != OFF_NONE)
			fault_online(f, pool);
}

static void fault_set_pcp(struct fault *f)
{
	static const uint32_t highs[] = { 0, 8, 32, 64, 192, 512 };
	uint32_t high = highs[rng_below(&f->rng, sizeof(highs) / sizeof(highs[0]))];
	uint32_t batch = 1 + rng_below(&f->rng, high && high < 63 ? high : 63);
	int err = admin_set_pcp(&f->a, fault_pool_arg(f), high, batch);

	if (err)
		fault_die(f, "set-pcp", err);
	ctr_add(f->sh, CTR_set_pcp, 1);
}

/* Flip drain_mode between spinlock and rcu in the file, then reload. */
static void fault_reload(struct fault *f)
{
	const char *mode = strcmp(f->cfg_mode, "spinlock") == 0 ? "rcu" : "spinlock";
	int err = conf_write(f->r, mode);

	if (err)
		fault_die(f, "rewriting the config", err);
	err = admin_empty(&f->a, PAGEPOOL__V1__ADMIN_REQUEST__BODY_RELOAD,
			  &pagepool__v1__admin_reload_req__descriptor, NULL);
	if (err)
		fault_die(f, "reload", err);
	f->cfg_mode = mode;
	f->last_reload = now_ms();
	ctr_add(f->sh, CTR_reloads, 1);
}

static void fault_verify(struct fault *f)
{
	char msg[FAIL_LEN - 64];
	int err = admin_verify(&f->a, msg, sizeof(msg));

	if (err == 1)
		shared_fail(f->sh, "verify during the run: %s", msg);
	else if (err)
		fault_die(f, "verify", err);
	ctr_add(f->sh, CTR_verifies, 1);
}

static void fault_read(struct fault *f)
{
	static const struct {
		int req_case;
		const ProtobufCMessageDescriptor *desc;
	} reads[] = {
		{ PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS, &pagepool__v1__admin_status_req__descriptor },
		{ PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATS, &pagepool__v1__admin_stats_req__descriptor },
		{ PAGEPOOL__V1__ADMIN_REQUEST__BODY_BUDDYINFO,
		  &pagepool__v1__admin_buddyinfo_req__descriptor },
		{ PAGEPOOL__V1__ADMIN_REQUEST__BODY_CLIENTS,
		  &pagepool__v1__admin_clients_req__descriptor },
	};
	unsigned i = rng_below(&f->rng, 4);
	int err = admin_empty(&f->a, reads[i].req_case, reads[i].desc, NULL);

	if (err)
		fault_die(f, "status/stats/buddyinfo/clients", err);
	ctr_add(f->sh, CTR_reads, 1);
}

static void fault_step(struct fault *f)
{
	unsigned x = rng_below(&f->rng, 100);

	if (x < 40)
		fault_drain(f);
	else if (x < 48)
		fault_trim(f);
	else if (x < 68)
		fault_offline_step(f);
	else if (x < 75)
		fault_set_pcp(f);
	else if (x < 80)
		fault_verify(f);
	else if (x < 84 && now_ms() - f->last_reload >= 1500)
		fault_reload(f);
	else
		fault_read(f);
}

int fault_main(struct run *r)
{
	static struct fault fl;
	struct fault *f = &fl;
	admin_response *resp = NULL;
	int err;

	f->r = r;
	f->sh = r->sh;
	f->rng = r->seed ^ 0xfa017fa017fa017ull;
	f->cfg_mode = "spinlock";
	f->last_reload = now_ms();
	err = admin_open(&f->a, r->asock);
	if (err)
		fault_die(f, "admin connect", err);
	err = admin_status(&f->a, &resp);
	if (err)
		fault_die(f, "status", err);
	for (size_t i = 0; i < NPOOLS; i++) {
		for (size_t j = 0; j < resp->status_info->n_pools; j++)
			if (strcmp(resp->status_info->pools[j]->name, pool_defs[i].name) == 0)
				f->total[i] = resp->status_info->pools[j]->total;
		if (f->total[i] < BLOCK_PAGES) {
			shared_fail(f->sh, "fault: pool %s has %" PRIu64 " pages", pool_defs[i].name,
				    f->total[i]);
			return EXIT_FAILED;
		}
	}
	resp_free(resp);
	while (!stop_requested(f->sh)) {
		int64_t next = now_ms() + 3 + rng_below(&f->rng, 20);

		fault_step(f);
		__atomic_fetch_add(&f->sh->slot[FAULT_SLOT].beat, 1, __ATOMIC_RELAXED);
		pace_until(next);
	}
	fault_online_all(f);
	admin_close(&f->a);
	return 0;
}
