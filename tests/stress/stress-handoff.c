/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress-handoff.c - the processes of the stress test whose pages change
 * hands: producers and consumers in groups (handoff_roles[]).  A producer
 * loans blocks (pp_loan) or allocates and offers them (pp_alloc, then
 * pp_offer), stamps every page (group, sequence number, pfn, a checksum
 * over the page) and passes the token with the blocks it expects to its
 * consumer over a SOCK_SEQPACKET socketpair the supervisor made before any
 * fork (and keeps open, so a dead peer's replacement finds the channel with
 * what was in flight).  The consumer takes them (pp_take), checks it got
 * exactly those blocks and every stamp, frees them and acknowledges.  In
 * the shared group the producer offers each batch to two consumers at once
 * (shares = 2), sometimes keeping a reference of its own (PP_OFFER_KEEP).
 *
 * A producer cancels an offer not acknowledged within CANCEL_MS (its
 * consumer was killed with the token, or is slow): the blocks nobody took
 * come back and are checked and freed.  Before it cancels it raises its
 * group's cancel mark, so a consumer may tell a cancelled offer
 * (ECANCELED, or ENOENT once the daemon's ring forgot it) from a daemon
 * that lost one.  The supervisor kills producers and consumers like any
 * client and notes whom it killed: a consumer meeting the tokens of a
 * killed producer (EOWNERDEAD, or ENOENT once forgotten) counts a lost
 * offer by giver death, never a lost page; what a killed consumer took the
 * daemon reclaims, which the final checks see.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stress.h"

#define HMAGIC		0x68616e64u	/* "hand" */
#define HMAX_BLOCKS	8		/* blocks in one offer */
#define HMAX_ORDER	3
#define WINDOW		8		/* offers a producer has open at most */
#define CANCEL_MS	400		/* unacknowledged for this long: cancelled */
#define POLL_MS		20

/* Who is who: the processes after the clients, in this order. */
const struct handoff_role handoff_roles[HANDOFF_PROCS] = {
	{ .producer = true, .group = 0, .links = { 0 }, .nlinks = 1 },
	{ .producer = false, .group = 0, .links = { 0 }, .nlinks = 1 },
	{ .producer = true, .group = 1, .links = { 1 }, .nlinks = 1 },
	{ .producer = false, .group = 1, .links = { 1 }, .nlinks = 1 },
	{ .producer = true, .group = 2, .links = { 2, 3 }, .nlinks = 2 },
	{ .producer = false, .group = 2, .links = { 2 }, .nlinks = 1 },
	{ .producer = false, .group = 2, .links = { 3 }, .nlinks = 1 },
};

/* The shares of each group's offers: two hand-off pairs, one shared group. */
static const unsigned group_shares[HANDOFF_GROUPS] = { 0, 0, 2 };

/* Producer -> consumer: a token and what it stands for. */
struct hmsg {
	uint32_t magic;
	uint32_t group;
	int32_t pid;			/* the producer's */
	uint32_t order, n;
	uint64_t seq;
	uint32_t pfns[HMAX_BLOCKS];
	struct pp_token tok;
};

/* Consumer -> producer: seq was dealt with (result: pp_take's). */
struct hack {
	uint64_t seq;
	int32_t result;
};

/* The stamp at the head of every page; the rest of the page is filler
 * from (group, seq, pfn), and sum covers it all but the sum itself. */
struct hstamp {
	uint32_t group;
	uint32_t pfn;
	uint64_t seq;
	uint64_t sum;
};

struct hout {				/* an offer a producer has open */
	uint64_t seq;
	int64_t sent_ms;
	unsigned acks;			/* still owed */
	unsigned order, n;
	bool keep;
	uint32_t pfns[HMAX_BLOCKS];
	struct pp_token tok;
};

struct hproc {
	struct run *r;
	struct shared *sh;
	unsigned slot;
	const struct handoff_role *role;
	uint32_t cid;
	struct pp_client *pc;
	uint32_t page_size;
	uint64_t rng;
	int fd;				/* a consumer's end of its link */
	struct hout out[WINDOW];
	unsigned nout;
};

/* ---- stamps -------------------------------------------------------------------- */

static uint64_t fill_word(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* FNV-1a over the page after the sum field. */
static uint64_t page_sum(const uint8_t *p, uint32_t size)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = offsetof(struct hstamp, sum) + 8; i < size; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	for (uint32_t i = 0; i < offsetof(struct hstamp, sum); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void stamp_page(struct hproc *h, uint32_t pfn, uint64_t seq)
{
	uint8_t *p = pp_page(h->pc, pfn);
	struct hstamp st = { .group = h->role->group, .pfn = pfn, .seq = seq };
	uint64_t x = (uint64_t)h->role->group << 56 ^ seq << 20 ^ pfn;

	for (uint32_t off = sizeof(st); off + 8 <= h->page_size; off += 8) {
		uint64_t w = fill_word(&x);

		memcpy(p + off, &w, 8);
	}
	memcpy(p, &st, sizeof(st));
	st.sum = page_sum(p, h->page_size);
	memcpy(p, &st, sizeof(st));
}

/* Check the stamps of n blocks of order; counts the bad pages (the first
 * reported). */
static void stamp_check_blocks(struct hproc *h, const uint32_t *pfns, unsigned n,
			       unsigned order, uint64_t seq, const char *who)
{
	uint64_t bad = 0;

	for (unsigned b = 0; b < n; b++) {
		for (uint32_t i = 0; i < (1u << order); i++) {
			uint32_t pfn = pfns[b] + i;
			const uint8_t *p = pp_page(h->pc, pfn);
			struct hstamp st;

			memcpy(&st, p, sizeof(st));
			if (st.group == h->role->group && st.pfn == pfn && st.seq == seq &&
			    st.sum == page_sum(p, h->page_size))
				continue;
			if (bad++ == 0)
				shared_fail(h->sh, "bad stamp: %s %u (group %u) holds page %u of offer "
					    "seq %" PRIu64 "; it reads group %u pfn %u seq %" PRIu64
					    " sum %s", who, h->cid, h->role->group, pfn, seq, st.group,
					    st.pfn, st.seq, st.sum == page_sum(p, h->page_size) ?
					    "ok" : "wrong");
		}
	}
	ctr_add(h->sh, CTR_stamp_checks, n);
	if (bad)
		ctr_add(h->sh, CTR_bad_stamps, bad);
}

/* ---- both ---------------------------------------------------------------------- */

static void __attribute__((noreturn)) hfail(struct hproc *h, const char *what, int rc)
{
	char msg[FAIL_LEN];

	snprintf(msg, sizeof(msg), "%s %u (pid %d, group %u): %s = %d (%s): %s",
		 h->role->producer ? "producer" : "consumer", h->cid, (int)getpid(),
		 h->role->group, what, rc, pp_strerror(rc), pp_last_error(h->pc));
	if (rc == -ECONNRESET || rc == -EPIPE) {
		memcpy(h->sh->slot[h->slot].lost, msg, sizeof(msg));
		_exit(EXIT_LOST);
	}
	shared_fail(h->sh, "%s", msg);
	_exit(EXIT_FAILED);
}

static void hbeat(struct hproc *h)
{
	__atomic_fetch_add(&h->sh->slot[h->slot].beat, 1, __ATOMIC_RELAXED);
}

/* The slot of the producer of group g. */
static unsigned producer_slot(const struct run *r, unsigned g)
{
	for (unsigned i = 0; i < HANDOFF_PROCS; i++)
		if (handoff_roles[i].producer && handoff_roles[i].group == g)
			return r->nclients + i;
	return 0;
}

/* ---- producer ------------------------------------------------------------------ */

/* An offer is done with (acknowledged by all, or cancelled): what the
 * producer still holds of it - its blocks back from a cancel, or keep's
 * references - is checked and freed. */
static void out_retire(struct hproc *h, unsigned i, bool own)
{
	struct hout *o = &h->out[i];

	if (own || o->keep) {
		unsigned bad = 0;
		int rc;

		stamp_check_blocks(h, o->pfns, o->n, o->order, o->seq, "producer");
		rc = pp_free(h->pc, o->pfns, o->n, &bad);
		ctr_add(h->sh, CTR_ops, 1);
		if (rc != 0)
			hfail(h, own ? "pp_free of blocks back from a cancel" :
				       "pp_free of keep's references", rc);
	}
	h->out[i] = h->out[--h->nout];
}

/* Cancel offer i (unacknowledged too long, or the end). */
static void out_cancel(struct hproc *h, unsigned i)
{
	struct hout *o = &h->out[i];
	uint64_t *mark = &h->sh->cancel_hi[h->role->group];
	uint64_t returned = 0;
	int rc;

	/* The mark first: a consumer may hear ECANCELED before pp_cancel returns. */
	if (__atomic_load_n(mark, __ATOMIC_ACQUIRE) < o->seq)
		__atomic_store_n(mark, o->seq, __ATOMIC_RELEASE);
	rc = pp_cancel(h->pc, &o->tok, &returned);
	ctr_add(h->sh, CTR_ops, 1);
	if (rc == 0) {
		ctr_add(h->sh, CTR_offer_cancels, 1);
		if (returned && returned != (uint64_t)o->n << o->order)
			hfail(h, "pp_cancel returned a part of the offer", -EPROTO);
		out_retire(h, i, returned != 0);
	} else if (rc == -ENOENT) {
		out_retire(h, i, false);	/* taken by all; the acks are late or lost */
	} else {
		hfail(h, "pp_cancel", rc);
	}
}

/* Send the token of o to every consumer of the group.  A full channel (the
 * consumer is gone, or slow) leaves the offer to the cancel. */
static void out_send(struct hproc *h, const struct hout *o)
{
	struct hmsg m = { .magic = HMAGIC, .group = h->role->group, .pid = (int32_t)getpid(),
			  .order = o->order, .n = o->n, .seq = o->seq, .tok = o->tok };

	memcpy(m.pfns, o->pfns, sizeof(m.pfns));
	for (unsigned l = 0; l < h->role->nlinks; l++)
		if (send(h->r->links[h->role->links[l]][0], &m, sizeof(m),
			 MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(m))
			ctr_add(h->sh, CTR_handoff_unsent, 1);
}

/* One new offer: a loan, or blocks allocated, stamped, then offered. */
static void producer_offer(struct hproc *h)
{
	struct hout *o = &h->out[h->nout];
	unsigned shares = group_shares[h->role->group], flags, got = 0, bad = 0;
	bool loan = rng_pct(&h->rng, 50);
	int rc;

	memset(o, 0, sizeof(*o));
	o->order = rng_below(&h->rng, HMAX_ORDER + 1);
	o->n = 1 + rng_below(&h->rng, HMAX_BLOCKS >> (o->order > 1 ? o->order - 1 : 0));
	o->keep = shares && rng_pct(&h->rng, 30);
	o->seq = __atomic_add_fetch(&h->sh->hseq[h->role->group], 1, __ATOMIC_RELAXED);
	flags = o->keep ? PP_OFFER_KEEP : 0;
	if (loan) {
		rc = pp_loan(h->pc, o->order, o->n, shares, flags, o->pfns, &o->tok);
		ctr_add(h->sh, CTR_ops, 1);
		if (rc == -ENOMEM) {
			ctr_add(h->sh, CTR_handoff_enomem, 1);
			return;
		}
		if (rc != 0)
			hfail(h, "pp_loan", rc);
		/* Nobody can take them before the token is sent. */
		for (unsigned b = 0; b < o->n; b++)
			for (uint32_t i = 0; i < (1u << o->order); i++)
				stamp_page(h, o->pfns[b] + i, o->seq);
		ctr_add(h->sh, CTR_loans, 1);
	} else {
		rc = pp_alloc(h->pc, o->order, o->n, 0, o->pfns, &got);
		ctr_add(h->sh, CTR_ops, 1);
		if (rc == -ENOMEM) {
			ctr_add(h->sh, CTR_handoff_enomem, 1);
			return;
		}
		if (rc != 0 || got != o->n)
			hfail(h, "pp_alloc for an offer", rc ? rc : -EPROTO);
		for (unsigned b = 0; b < o->n; b++)
			for (uint32_t i = 0; i < (1u << o->order); i++)
				stamp_page(h, o->pfns[b] + i, o->seq);
		rc = pp_offer(h->pc, o->order, o->pfns, o->n, shares, flags, &o->tok, &bad);
		ctr_add(h->sh, CTR_ops, 1);
		if (rc != 0)
			hfail(h, "pp_offer of blocks it allocated", rc);
	}
	ctr_add(h->sh, shares ? CTR_shared_offers : CTR_handoffs, 1);
	o->acks = h->role->nlinks;
	o->sent_ms = now_ms();
	h->nout++;
	out_send(h, o);
}

/* Acknowledgements waiting on the links. */
static void producer_acks(struct hproc *h)
{
	for (unsigned l = 0; l < h->role->nlinks; l++) {
		struct hack a;

		while (recv(h->r->links[h->role->links[l]][0], &a, sizeof(a), MSG_DONTWAIT) ==
		       (ssize_t)sizeof(a)) {
			for (unsigned i = 0; i < h->nout; i++) {
				if (h->out[i].seq != a.seq)
					continue;
				if (--h->out[i].acks == 0)
					out_retire(h, i, false);
				break;
			}
		}
	}
}

static void producer_main(struct hproc *h)
{
	struct pollfd pf[2];

	for (unsigned l = 0; l < h->role->nlinks; l++) {
		pf[l].fd = h->r->links[h->role->links[l]][0];
		pf[l].events = POLLIN;
	}
	while (!stop_requested(h->sh)) {
		int64_t now = now_ms();

		producer_acks(h);
		for (unsigned i = 0; i < h->nout;)
			if (now - h->out[i].sent_ms >= CANCEL_MS)
				out_cancel(h, i);	/* moves the last one to i */
			else
				i++;
		if (h->nout < WINDOW)
			producer_offer(h);
		else
			poll(pf, h->role->nlinks, POLL_MS);
		hbeat(h);
	}
	producer_acks(h);
	while (h->nout)
		out_cancel(h, h->nout - 1);
}

/* ---- consumer ------------------------------------------------------------------ */

/* Is an error of a take explained?  EOWNERDEAD: its producer was killed
 * (the last one killed in its slot, or one since replaced: a producer is
 * replaced only once killed); ECANCELED: its producer cancelled it; ENOENT:
 * either, once the daemon's ring of closed offers forgot it. */
static bool take_explained(struct hproc *h, const struct hmsg *m, int rc)
{
	const struct slot_state *ps = &h->sh->slot[producer_slot(h->r, m->group)];
	bool killed = __atomic_load_n(&ps->killed_pid, __ATOMIC_ACQUIRE) == m->pid ||
		      __atomic_load_n(&ps->pid, __ATOMIC_ACQUIRE) != m->pid;
	bool cancelled = m->seq <= __atomic_load_n(&h->sh->cancel_hi[m->group], __ATOMIC_ACQUIRE);

	if ((rc == -EOWNERDEAD || rc == -ENOENT) && killed) {
		ctr_add(h->sh, CTR_lost_offers, 1);
		return true;
	}
	if (rc == -ECANCELED && cancelled) {
		ctr_add(h->sh, CTR_take_cancelled, 1);
		return true;
	}
	if (rc == -ENOENT && cancelled) {
		ctr_add(h->sh, CTR_take_forgotten, 1);
		return true;
	}
	return false;
}

static void consumer_take(struct hproc *h, const struct hmsg *m)
{
	uint32_t pfns[HMAX_BLOCKS];
	unsigned n = 0, order = 0, flags = 0, bad = 0;
	bool shared = group_shares[m->group] != 0;
	struct hack a = { .seq = m->seq };
	char what[96];
	int rc;

	rc = pp_take(h->pc, &m->tok, pfns, HMAX_BLOCKS, &n, &order, &flags);
	ctr_add(h->sh, CTR_ops, 1);
	a.result = rc;
	if (rc == 0) {
		if (n != m->n || order != m->order || memcmp(pfns, m->pfns, n * sizeof(*pfns)) ||
		    !(flags & PP_TAKEN_SHARED) != !shared) {
			ctr_add(h->sh, CTR_handoff_bad_blocks, 1);
			shared_fail(h->sh, "consumer %u (group %u): took offer seq %" PRIu64 " of %u "
				    "order-%u blocks from pfn %u, shared %d; got %u order-%u blocks from "
				    "pfn %u, flags %#x", h->cid, m->group, m->seq, m->n, m->order,
				    m->pfns[0], shared, n, order, n ? pfns[0] : 0, flags);
			_exit(EXIT_FAILED);
		}
		stamp_check_blocks(h, pfns, n, order, m->seq, "consumer");
		rc = pp_free(h->pc, pfns, n, &bad);
		ctr_add(h->sh, CTR_ops, 1);
		if (rc != 0)
			hfail(h, shared ? "pp_free of shared references" : "pp_free of taken blocks", rc);
		ctr_add(h->sh, shared ? CTR_shared_takes : CTR_handoff_takes, 1);
		ctr_add(h->sh, CTR_handoff_pages, (uint64_t)n << order);
	} else if (!take_explained(h, m, rc)) {
		snprintf(what, sizeof(what), "pp_take of offer seq %" PRIu64 " (producer pid %d)",
			 m->seq, (int)m->pid);
		hfail(h, what, rc);
	}
	send(h->fd, &a, sizeof(a), MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void consumer_main(struct hproc *h)
{
	struct pollfd pf = { .fd = h->fd, .events = POLLIN };

	while (!stop_requested(h->sh)) {
		struct hmsg m;
		ssize_t got;

		hbeat(h);
		if (poll(&pf, 1, POLL_MS) <= 0)
			continue;
		got = recv(h->fd, &m, sizeof(m), MSG_DONTWAIT);
		if (got < 0)
			continue;
		if (got != (ssize_t)sizeof(m) || m.magic != HMAGIC || m.group != h->role->group ||
		    m.n == 0 || m.n > HMAX_BLOCKS) {
			shared_fail(h->sh, "consumer %u: a message of %zd bytes from its producer "
				    "makes no sense", h->cid, got);
			_exit(EXIT_FAILED);
		}
		consumer_take(h, &m);
		/* Paced (0-3 ms a take), so that its producer's window is mostly
		 * full of tokens in the channel, which a kill of the producer
		 * leaves behind. */
		pace_until(now_ms() + rng_below(&h->rng, 4));
	}
}

/* A producer or consumer process: handoff index idx (slot nclients + idx),
 * stamp id cid.  Returns the exit status. */
int handoff_main(struct run *r, unsigned idx, uint32_t cid)
{
	static struct hproc hp;
	struct hproc *h = &hp;
	const struct pp_info *info;
	int rc;

	h->r = r;
	h->sh = r->sh;
	h->slot = r->nclients + idx;
	h->role = &handoff_roles[idx];
	h->cid = cid;
	h->rng = r->seed ^ 0x4a4d0ffull ^ ((uint64_t)cid * 0x2545f4914f6cdd1dull);
	h->fd = h->role->producer ? -1 : r->links[h->role->links[0]][1];
	rc = pp_connect(r->sock, pool_defs[0].name, &h->pc);
	if (rc != 0) {
		shared_fail(h->sh, "%s %u: pp_connect = %d (%s): %s",
			    h->role->producer ? "producer" : "consumer", cid, rc, pp_strerror(rc),
			    pp_last_error(NULL));
		return EXIT_FAILED;
	}
	info = pp_info(h->pc);
	h->page_size = info->page_size;
	if (h->role->producer)
		producer_main(h);
	else
		consumer_main(h);
	pp_close(h->pc);
	return 0;
}
