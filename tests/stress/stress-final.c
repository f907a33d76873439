/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress-final.c - the end of a stress run: through the admin socket every
 * pool must give every page back (allocated, isolated and offline 0, free
 * == total after a forced drain) and verify must hold; then the daemon must
 * exit 0 on SIGTERM; then the report.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "stress.h"

static const char *const ctr_names[NCTR] = {
#define X(name, text) #name,
	COUNTERS(X)
#undef X
};

static const char *const ctr_texts[NCTR] = {
#define X(name, text) text,
	COUNTERS(X)
#undef X
};

static const Pagepool__V1__PoolCounts *find_pool(const admin_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->status_info->n_pools; i++)
		if (strcmp(resp->status_info->pools[i]->name, name) == 0)
			return resp->status_info->pools[i];
	return NULL;
}

/* Poll status (paced) until every pool has allocated == 0 and no client is
 * connected, or the deadline.  0, 1 on timeout (*last kept), -errno. */
static int wait_quiet(struct admin *a, int64_t deadline, admin_response **last)
{
	for (;;) {
		admin_response *resp;
		bool quiet;
		int err = admin_status(a, &resp);

		if (err)
			return err;
		quiet = resp->status_info->clients == 0;
		for (size_t i = 0; i < resp->status_info->n_pools; i++)
			quiet = quiet && resp->status_info->pools[i]->allocated == 0;
		if (quiet || now_ms() >= deadline) {
			*last = resp;
			return quiet ? 0 : 1;
		}
		resp_free(resp);
		pace_until(now_ms() + 20);
	}
}

/* Drain (forced, rcu) and read: 0 once every pool's free == total, 1 if
 * not by the deadline (*last kept), -errno. */
static int drain_until_free(struct admin *a, int64_t deadline, admin_response **last)
{
	for (;;) {
		admin_response *resp;
		uint64_t pages;
		bool all = true;
		int err = admin_drain(a, "", "rcu", true, &pages);

		if (!err)
			err = admin_status(a, &resp);
		if (err)
			return err;
		for (size_t i = 0; i < resp->status_info->n_pools; i++)
			all = all && resp->status_info->pools[i]->free ==
				     resp->status_info->pools[i]->total;
		if (all || now_ms() >= deadline) {
			*last = resp;
			return all ? 0 : 1;
		}
		resp_free(resp);
		pace_until(now_ms() + 50);
	}
}

static void report_pools(struct run *r, const admin_response *resp, const char *when, bool fail)
{
	for (size_t i = 0; i < resp->status_info->n_pools; i++) {
		const Pagepool__V1__PoolCounts *p = resp->status_info->pools[i];

		if (fail)
			shared_fail(r->sh, "%s: pool %s: total %" PRIu64 ", free %" PRIu64 ", pcp %"
				    PRIu64 ", allocated %" PRIu64 ", isolated %" PRIu64 ", offline %"
				    PRIu64, when, p->name, p->total, p->free, p->pcp, p->allocated,
				    p->isolated, p->offline);
	}
}

/* A range the fault process left isolated or offline (it was killed in the
 * middle of a cycle, after a failure): online it so the counts can settle. */
static void online_leftovers(struct run *r, struct admin *a)
{
	for (unsigned i = 0; i < NPOOLS; i++) {
		uint64_t v = __atomic_load_n(&r->sh->offrange[i], __ATOMIC_ACQUIRE);
		uint32_t start = (uint32_t)((v >> 8) & 0xffffff) * BLOCK_PAGES;
		uint32_t count = (uint32_t)(v >> 32) * BLOCK_PAGES;
		int err;

		if ((v & 0xff) == OFF_NONE)
			continue;
		err = admin_range(a, true, pool_defs[i].name, start, count);
		printf("stress: the fault process left pages %u..%u of pool %s in state %u; "
		       "online: %s\n", start, start + count - 1, pool_defs[i].name,
		       (unsigned)(v & 0xff), err ? strerror(err < 0 ? -err : err) : "ok");
	}
}

/*
 * With every client gone: allocated 0, isolated 0 and offline 0 in every
 * pool, free == total after a forced drain, and verify holds.
 */
void final_checks(struct run *r, struct final *fin)
{
	struct admin a;
	admin_response *resp = NULL;
	char msg[FAIL_LEN - 64];
	int err;

	if (r->dpid <= 0 || !r->ready)
		return;
	err = admin_open(&a, r->asock);
	if (err) {
		shared_fail(r->sh, "final checks: admin connect: %s", a.why);
		return;
	}
	online_leftovers(r, &a);
	err = wait_quiet(&a, now_ms() + QUIESCE_MS, &resp);
	if (err < 0)
		goto io_fail;
	if (err == 1)
		report_pools(r, resp, "pages still allocated (or clients connected) "
			     "after every client ended", true);
	for (size_t i = 0; i < NPOOLS; i++) {
		const Pagepool__V1__PoolCounts *p = find_pool(resp, pool_defs[i].name);

		if (!p) {
			shared_fail(r->sh, "final checks: pool %s missing from status",
				    pool_defs[i].name);
		} else if (p->isolated || p->offline) {
			shared_fail(r->sh, "final checks: pool %s has %" PRIu64 " isolated and %"
				    PRIu64 " offline pages after every range was onlined",
				    p->name, p->isolated, p->offline);
		}
	}
	resp_free(resp);
	resp = NULL;
	err = drain_until_free(&a, now_ms() + 10000, &resp);
	if (err < 0)
		goto io_fail;
	fin->checked = true;
	for (size_t i = 0; i < resp->status_info->n_pools; i++) {
		const Pagepool__V1__PoolCounts *p = resp->status_info->pools[i];

		fin->total += p->total;
		fin->lost += p->total - (p->free < p->total ? p->free : p->total);
	}
	if (err == 1)
		report_pools(r, resp, "lost pages: free != total after a forced drain", true);
	resp_free(resp);
	err = admin_verify(&a, msg, sizeof(msg));
	if (err == 1)
		shared_fail(r->sh, "final verify: %s", msg);
	else if (err)
		goto io_fail;
	admin_close(&a);
	return;
io_fail:
	shared_fail(r->sh, "final checks: admin call failed: %s (%s)",
		    err < 0 ? strerror(-err) : strerror(err), a.why);
	admin_close(&a);
}

/* SIGTERM, then wait (bounded) for the daemon; it must exit 0. */
void daemon_stop(struct run *r)
{
	int64_t deadline = now_ms() + STOP_TIMEOUT_MS;
	char how[64];

	if (r->dpid <= 0)
		return;
	r->stopping_daemon = true;
	kill(r->dpid, SIGTERM);
	while (r->dpid > 0 && now_ms() < deadline)
		wait_signals(r, deadline);
	if (r->dpid > 0) {
		shared_fail(r->sh, "pagepoold did not exit within %d ms of SIGTERM (killed)",
			    STOP_TIMEOUT_MS);
		kill(r->dpid, SIGKILL);
		deadline = now_ms() + 5000;
		while (r->dpid > 0 && now_ms() < deadline)
			wait_signals(r, deadline);
		return;
	}
	if (r->dcode != 0)
		shared_fail(r->sh, "pagepoold %s after SIGTERM (expected exit status 0)",
			    wait_text(r->dcode, how, sizeof(how)));
}

/* "1234567" -> "1.23M" for the summary line. */
static const char *human(uint64_t v, char *buf, size_t n)
{
	if (v >= 10000000)
		snprintf(buf, n, "%.1fM", (double)v / 1e6);
	else if (v >= 100000)
		snprintf(buf, n, "%.0fk", (double)v / 1e3);
	else
		snprintf(buf, n, "%" PRIu64, v);
	return buf;
}

void report(struct run *r, const struct final *fin, double secs)
{
	struct shared *sh = r->sh;
	uint64_t bad = ctr_get(sh, CTR_bad_stamps);
	uint32_t nfail = __atomic_load_n(&sh->nfail, __ATOMIC_ACQUIRE);
	bool ok = nfail == 0;
	char b1[24], b2[24], b3[24], lost[32];

	printf("stress: counters\n");
	for (unsigned i = 0; i < NCTR; i++)
		printf("  %-18s %12" PRIu64 "  %s\n", ctr_names[i], ctr_get(sh, i), ctr_texts[i]);
	if (!ok) {
		printf("stress: %u failure%s:\n", nfail, nfail == 1 ? "" : "s");
		for (uint32_t i = 0; i < nfail && i < FAIL_MAX; i++)
			printf("  - %s\n", sh->fail[i]);
		if (nfail > FAIL_MAX)
			printf("  - ... and %u more\n", nfail - FAIL_MAX);
		print_log(r, 12000);
		printf("stress: reproduce with: %s --time %u --seed %#" PRIx64 " --clients %u %s\n",
		       program_invocation_name, r->seconds, r->seed, r->nclients, r->daemon);
		printf("stress: kept %s (config, sockets, pagepoold.log)\n", r->dir);
	}
	if (fin->checked)
		snprintf(lost, sizeof(lost), "%" PRIu64 " lost pages", fin->lost);
	else
		snprintf(lost, sizeof(lost), "lost pages unknown");
	printf("stress: handoffs %" PRIu64 " made / %" PRIu64 " taken, shared %" PRIu64
	       " made / %" PRIu64 " takes, %s pages handed over, %" PRIu64 " cancelled by "
	       "their producer, %" PRIu64 " lost offers by giver death, %" PRIu64 " bad "
	       "blocks\n", ctr_get(sh, CTR_handoffs), ctr_get(sh, CTR_handoff_takes),
	       ctr_get(sh, CTR_shared_offers), ctr_get(sh, CTR_shared_takes),
	       human(ctr_get(sh, CTR_handoff_pages), b1, sizeof(b1)),
	       ctr_get(sh, CTR_offer_cancels), ctr_get(sh, CTR_lost_offers),
	       ctr_get(sh, CTR_handoff_bad_blocks));
	printf("[==========] stress: 1 test(s) run.\n");
	if (ok)
		printf("[  PASSED  ] 1 test(s).\n");
	else
		printf("[  FAILED  ] 1 test(s), listed below:\n[  FAILED  ] stress\n");
	printf("stress: %s in %.1f s (seed %#" PRIx64 "): %u clients, %" PRIu64 " kills, "
	       "%s ops, %s pages allocated / %s freed, drains rcu %" PRIu64 " workqueue %" PRIu64
	       " spinlock %" PRIu64 ", %" PRIu64 " offline cycles (%" PRIu64 " offline, %" PRIu64
	       " busy), %" PRIu64 " trims, %" PRIu64 " reloads, %" PRIu64 " hand-offs + %" PRIu64
	       " shared takes, %" PRIu64 " lost offers by giver death, %s, %" PRIu64
	       " bad stamps\n",
	       ok ? "PASS" : "FAIL", secs, r->seed, r->nclients, ctr_get(sh, CTR_kills),
	       human(ctr_get(sh, CTR_ops), b1, sizeof(b1)),
	       human(ctr_get(sh, CTR_pages_alloc), b2, sizeof(b2)),
	       human(ctr_get(sh, CTR_pages_freed), b3, sizeof(b3)),
	       ctr_get(sh, CTR_drain_rcu), ctr_get(sh, CTR_drain_workqueue),
	       ctr_get(sh, CTR_drain_spinlock), ctr_get(sh, CTR_offline_cycles),
	       ctr_get(sh, CTR_offline_ok), ctr_get(sh, CTR_offline_busy), ctr_get(sh, CTR_trims),
	       ctr_get(sh, CTR_reloads), ctr_get(sh, CTR_handoff_takes),
	       ctr_get(sh, CTR_shared_takes), ctr_get(sh, CTR_lost_offers), lost, bad);
	fflush(stdout);
}

void phase(const struct run *r, int64_t t0, const char *what)
{
	printf("stress: %6.2f s: %s\n", (double)(now_ms() - t0) / 1000.0, what);
	fflush(stdout);
}
