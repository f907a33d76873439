/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_offline.c - pagepoolctl offline and online: take a range of pages out
 * of service (their memory back to the OS) and bring it back.
 *
 * offline retries on one connection while the daemon answers EBUSY (clients
 * still hold pages of the range, which stays isolated meanwhile), showing
 * the holders on stderr, up to --timeout.  Whatever way it ends - done,
 * timed out, interrupted - it says what state the range is left in and how
 * to go on or back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "ctl.h"
#include "transport.h"

#define POLL_MS		150	/* pause between attempts */
#define HOLDERS_SHOWN	10	/* progress: holders listed */

/* The range as done: "CMD: pool P pages A..B STATE", or its JSON. */
static void range_out(struct ctl *c, const struct range *r, const char *state,
		      unsigned attempts)
{
	struct out *o = &c->out;

	out_text(o, "%s: ", c->cmd->name);
	out_str(o, "pool", "pool %s", r->pool);
	out_u64(o, "start", " pages %llu", r->start);
	out_json_u64(o, "count", r->count);
	out_text(o, "..%u", (uint32_t)(r->start + r->count - 1));
	out_str(o, "state", " %s\n", state);
	if (attempts)
		out_json_u64(o, "attempts", attempts);
}

static int cmd_online_run(struct ctl *c, const struct ctl_args *a)
{
	Pagepool__V1__AdminOnlineReq body = PAGEPOOL__V1__ADMIN_ONLINE_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp;
	struct range r;
	int rc;

	rc = parse_range(c, a, &r);
	if (rc)
		return rc;
	body.pool = (char *)r.pool;
	body.start = r.start;
	body.count = r.count;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_ONLINE;
	req.online = &body;
	rc = request_run(c, &req, 0, &resp, NULL);
	if (rc)
		return rc;
	range_out(c, &r, "online", 0);
	request_free(resp);
	return 0;
}

/* ---- offline -------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* SIGINT/SIGTERM while polling: say that the range stays isolated before
 * dying of the signal.  No SA_RESTART, so a pause ends at once. */
static int offline_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static int now_ms(uint64_t *ms)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return -errno;
	*ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	return 0;
}

/* Pause ms milliseconds; false when a stop signal arrived. */
static bool pause_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (!stop_signal && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return !stop_signal;
}

/* The busy report of an EBUSY answer, NULL when it has none. */
static const Pagepool__V1__AdminOffline *busy_of(const admin_response *resp)
{
	return resp->body_case == PAGEPOOL__V1__ADMIN_RESPONSE__BODY_OFFLINE ? resp->offline : NULL;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* The first `max` holders on stderr, then what is left unsaid. */
static void holders_print(const Pagepool__V1__AdminOffline *off, size_t max)
{
	uint64_t listed = 0;
	size_t n = off ? off->n_holders : 0;

	for (size_t i = 0; i < n; i++) {
		const Pagepool__V1__Holder *h = off->holders[i];

		listed = sat_add(listed, h->pages);
		if (i >= max)
			continue;
		if (h->client_id)
			fprintf(stderr, "  client %llu (pid %d, uid %u): %llu pages",
				(unsigned long long)h->client_id, h->pid, h->uid,
				(unsigned long long)h->pages);
		else
			fprintf(stderr, "  a client that is gone: %llu pages",
				(unsigned long long)h->pages);
		if (h->shared_pages)
			fprintf(stderr, " (%llu shared or under offer)",
				(unsigned long long)h->shared_pages);
		fputc('\n', stderr);
	}
	if (n > max)
		fprintf(stderr, "  ... and %zu more holders\n", n - max);
	if (off && listed < off->busy_pages)
		fprintf(stderr, "  (%llu busy pages not attributed to a listed holder)\n",
			(unsigned long long)(off->busy_pages - listed));
}

/* The error document's busy_pages and holders. */
static void holders_json(struct out *o, const Pagepool__V1__AdminOffline *off)
{
	if (off)
		out_json_u64(o, "busy_pages", off->busy_pages);
	else
		out_json_null(o, "busy_pages");
	out_arr_begin(o, "holders");
	for (size_t i = 0; off && i < off->n_holders; i++) {
		const Pagepool__V1__Holder *h = off->holders[i];

		out_obj_begin(o, NULL);
		out_json_u64(o, "client_id", h->client_id);
		out_json_i64(o, "pid", h->pid);
		out_json_u64(o, "uid", h->uid);
		out_json_u64(o, "pages", h->pages);
		out_json_u64(o, "shared_pages", h->shared_pages);
		out_end(o);
	}
	out_end(o);
}

/* Give up on a busy range: who still holds it, and how to go on or back. */
static int offline_give_up(struct ctl *c, const struct range *r, const admin_response *resp,
			   const char *why)
{
	const Pagepool__V1__AdminOffline *off = busy_of(resp);
	char buf[OUT_TEXT_MAX];
	int rc;

	rc = report_status(c, resp);
	holders_json(&c->out, off);
	out_printable(r->pool, buf, sizeof(buf));
	report_prefix(c);
	fprintf(stderr, "%s: %llu pages of pool %s %u..%u still held%s\n", why,
		off ? (unsigned long long)off->busy_pages : 0ULL, buf, r->start,
		(uint32_t)(r->start + r->count - 1), off && off->n_holders ? " by:" : "");
	holders_print(off, SIZE_MAX);
	report_prefix(c);
	fprintf(stderr, "the range stays isolated: run 'pagepoolctl offline %s %u %u' again "
		"to go on, or 'pagepoolctl online %s %u %u' to give it up\n",
		buf, r->start, r->count, buf, r->start, r->count);
	return rc;
}

/* Progress while busy: printed when the number of busy pages changes. */
static void offline_progress(const struct ctl *c, const struct range *r,
			     const admin_response *resp, uint64_t *last_busy,
			     uint64_t waited_ms, uint32_t timeout_s)
{
	const Pagepool__V1__AdminOffline *off = busy_of(resp);
	uint64_t busy = off ? off->busy_pages : UINT64_MAX;
	char buf[OUT_TEXT_MAX];

	if (busy == *last_busy)
		return;
	*last_busy = busy;
	report_prefix(c);
	fprintf(stderr, "pool %s %u..%u: %llu pages busy after %llu.%01llu s, waiting up to %u s%s\n",
		out_printable(r->pool, buf, sizeof(buf)), r->start,
		(uint32_t)(r->start + r->count - 1), off ? (unsigned long long)busy : 0ULL,
		(unsigned long long)(waited_ms / 1000), (unsigned long long)(waited_ms % 1000 / 100),
		timeout_s, off && off->n_holders ? "; held by:" : "");
	holders_print(off, HOLDERS_SHOWN);
}

/* Die of the stop signal after saying what state the range is left in
 * (should the signal not kill, 128 + its number is the exit status). */
static int offline_interrupted(struct ctl *c, const struct range *r)
{
	int sig = stop_signal;
	char buf[OUT_TEXT_MAX];

	out_printable(r->pool, buf, sizeof(buf));
	report_prefix(c);
	fprintf(stderr, "interrupted: pool %s pages %u..%u stay isolated; run 'pagepoolctl "
		"online %s %u %u' to give them up\n", buf, r->start,
		(uint32_t)(r->start + r->count - 1), buf, r->start, r->count);
	out_error(&c->out, c->cmd->name, "pagepoolctl", 128 + sig, NULL, EINTR, "interrupted");
	out_flush(&c->out);
	fflush(stdout);
	signal(sig, SIG_DFL);
	raise(sig);
	return 128 + sig;
}

static int cmd_offline_run(struct ctl *c, const struct ctl_args *a)
{
	Pagepool__V1__AdminOfflineReq body = PAGEPOOL__V1__ADMIN_OFFLINE_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp = NULL;
	uint64_t t0 = 0, now = 0, last_busy = UINT64_MAX - 1;
	struct pp_transport t = { .fd = -1 };
	const char *why = NULL;
	struct range r;
	unsigned attempt;
	int rc, err;

	rc = parse_range(c, a, &r);
	if (rc)
		return rc;
	body.pool = (char *)r.pool;
	body.start = r.start;
	body.count = r.count;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_OFFLINE;
	req.offline = &body;
	err = now_ms(&t0);
	if (!err)
		err = offline_catch_signals();
	if (!err) {
		err = request_connect(c, &t);
		why = t.error;
	}
	for (attempt = 1; !err; attempt++) {
		err = request_call(&t, &req, &resp);
		why = err ? t.error : NULL;
		if (!err)
			err = now_ms(&now);
		if (err)
			break;
		if (resp->status == PAGEPOOL__V1__STATUS__OK) {
			range_out(c, &r, "offline", attempt);
			break;
		}
		if (resp->status != PAGEPOOL__V1__STATUS__EBUSY) {
			rc = report_status(c, resp);
			break;
		}
		if (a->timeout_s == 0 || now - t0 >= (uint64_t)a->timeout_s * 1000) {
			rc = offline_give_up(c, &r, resp, a->timeout_s ? "timed out" : "busy");
			break;
		}
		offline_progress(c, &r, resp, &last_busy, now - t0, a->timeout_s);
		request_free(resp);
		resp = NULL;
		if (!pause_ms(POLL_MS)) {
			rc = offline_interrupted(c, &r);
			break;
		}
	}
	if (err)
		rc = report_errno(c, err, why);
	request_free(resp);
	transport_close(&t);
	return rc;
}

const struct ctl_cmd cmd_offline_entry = {
	"offline", "POOL START COUNT [--timeout SECONDS]",
	"Take pages START..START+COUNT-1 of POOL offline: their memory is returned\n"
	"to the OS and they are never handed out until brought online.  START and\n"
	"COUNT are page numbers (decimal), whole max-order blocks: multiples of\n"
	"1024.  While clients hold pages in the range the daemon answers busy: the\n"
	"range stays isolated (none of its pages is handed out again and the pool's\n"
	"pcplists are off) and pagepoolctl asks again every 150 ms, showing on\n"
	"stderr the busy pages and their holders (client id, pid, uid, pages),\n"
	"until the range is offline or SECONDS have passed (default 10, at most\n"
	"86400; 0: ask once).  Then it lists the holders still holding pages in the\n"
	"range and exits 75; the range stays isolated: run offline again to go on,\n"
	"or online to give up.  On success prints 'offline: pool POOL pages A..B\n"
	"offline'.  JSON: {pool, start, count, state, attempts}; on timeout the\n"
	"error document carries busy_pages and holders.",
	O_TIMEOUT, 3, cmd_offline_run,
};

const struct ctl_cmd cmd_online_entry = {
	"online", "POOL START COUNT",
	"Bring pages START..START+COUNT-1 of POOL back, whether offline or still\n"
	"isolated: its pages become allocatable again (and the pool's pcplists come\n"
	"back on when no range is isolated).  Prints 'online: pool POOL pages A..B\n"
	"online'.  JSON: {pool, start, count, state}.",
	0, 3, cmd_online_run,
};
