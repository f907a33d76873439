/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_pipe.c - a producer -> consumer pipeline of stamped 4 KiB buffers
 * (order 0) through pagepoold, three ways side by side in one run, with the
 * socket floor between the same two processes measured in the same run:
 *
 *   a. ack-back (the pattern before hand-off): the producer pp_alloc()s a
 *	batch, stamps every page, sends the pfns; the consumer checks every
 *	stamp and acks; the producer pp_free()s the batch.
 *   b. hand-off: the producer pp_loan()s the batch (shares 0: alloc and
 *	offer in one round trip), stamps, sends the 16-byte token; the
 *	consumer takes it, checks and credits the producer; it gives the batch
 *	back with its next take (pp_take_release: the free of the previous
 *	batch rides in the take's round trip) or, before anything else, with
 *	pp_free.
 *   c. shared, two consumers: pp_loan(shares 2), the token to both; each
 *	takes a reference, checks, credits and drops its reference the same
 *	way.
 *
 *   bench_pipe --socket PATH [--quick] [--cpus P,C] [--window W]
 *		[--daemon-pid PID] [--corrupt SEQ]
 *
 * The producer is this process; it forks the two consumers, each with its
 * own pp_client (each pinned before it connects, so the daemon serves it
 * with the worker on its own CPU; the table's note says where each went),
 * and talks to each over a SOCK_SEQPACKET socketpair.  The producer runs on
 * CPU P, both consumers on CPU C.  Each buffer carries a 64-bit sequence
 * number and its pfn in its first and last 16 bytes and a fill derived from
 * both in between; a consumer checks all of it, that each sequence number of
 * the batch appears once, and (b, c) that pp_take answered the batch's
 * size, order 0 and the right kind (owned or shared).  Bad stamps are
 * counted and reported; any of them, or any error from the library, makes
 * the program exit non-zero.  --corrupt SEQ spoils buffer SEQ's fill after
 * stamping, to show that the check works (the run must then fail).
 *
 * Flow control is the same in every mode: at most W batches in flight (W
 * alloc'd or loaned and not yet acked or credited by every consumer of the
 * batch).  A consumer acks or credits right after checking; in (b, c) it
 * holds the batch until its next take releases it, as the producer in (a)
 * frees after the ack.
 *
 * Throughput: per round, for each B in 1, 16, 256 and each mode, a short
 * warm-up and then batches for a fixed time (bounded), timed from the first
 * issue to the last credit; buffers/s per cell is the median over rounds,
 * and hand-off / ack-back the median of the per-round ratios.  Latency: one
 * batch of one buffer in flight; a round trip runs from the producer
 * starting the batch (before pp_alloc / pp_loan) to the producer having
 * heard back from every consumer of it.  The floor is a ping-pong over the
 * same socketpair with consumer 1: a message the size of a hand-off message,
 * answered with a credit.  Floor, a, b and c alternate in rounds;
 * percentiles are over all rounds.
 *
 * At the end every client calls pp_stat: the producer and both consumers
 * must hold nothing (own pages, references, open offers) and the pool must
 * be back to 0 allocated pages, no offer open and nothing shared.  A
 * SIGALRM watchdog bounds the whole run; the consumers die with the
 * producer (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pagepool.h"

#include "benchutil.h"

#define MAX_B		256	/* largest batch */
#define MAX_W		32	/* most batches in flight (max_offers is 64) */
#define NCONS		2	/* consumers */
#define STAT_WAIT_MS	2000	/* pp_stat settling at the end */

enum mode { M_FLOOR, M_ACKBACK, M_HANDOFF, M_SHARED, NMODES };

static const char *const mode_name[NMODES] = {
	[M_FLOOR] = "socket floor",
	[M_ACKBACK] = "a. ack-back",
	[M_HANDOFF] = "b. hand-off",
	[M_SHARED] = "c. shared, 2 consumers",
};

static const unsigned batch_sizes[] = { 1, 16, 256 };
#define NB	(sizeof(batch_sizes) / sizeof(batch_sizes[0]))

/* Producer -> consumer.  Sent as the header plus what the kind needs: n
 * pfns (ack-back) or a token (hand-off, shared, and the floor's ping). */
enum msg_kind { K_CONNECT = 1, K_PING, K_ACKBACK, K_HANDOFF, K_SHARED, K_STOP };

struct pipe_msg {
	uint32_t kind;
	uint32_t n;		/* buffers in the batch */
	uint64_t seq;		/* the first buffer's sequence number */
	union {
		struct pp_token token;
		uint32_t pfns[MAX_B];
	} u;
};
#define MSG_HDR		offsetof(struct pipe_msg, u)

/* Consumer -> producer: a credit is the first CREDIT_SIZE bytes; READY
 * (after connecting) and STAT (at the end) carry the rest. */
struct pipe_reply {
	uint32_t kind;		/* K_CONNECT, K_PING (a credit), K_STOP */
	uint32_t pad;
	uint64_t seq;		/* the credited batch's first sequence number */
	uint64_t worker, held, refs, my_offered, checked, bad;
};
#define CREDIT_SIZE	offsetof(struct pipe_reply, worker)

/* A batch in flight. */
struct slot {
	uint64_t seq, t0;
	uint32_t pfns[MAX_B];
};

struct producer {
	struct pp_client *c;
	size_t words;			/* 64-bit words per page */
	int sock[NCONS];
	pid_t pid[NCONS];
	uint64_t seq;			/* next buffer's sequence number */
	uint64_t corrupt;		/* the buffer to spoil (--corrupt), or UINT64_MAX */
	struct slot ring[MAX_W];
};

/* ---- stamps ------------------------------------------------------------- */

static uint64_t stamp_fill(uint64_t seq, uint32_t pfn)
{
	return (seq * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)pfn << 32 | pfn);
}

static void stamp_write(void *page, size_t words, uint32_t pfn, uint64_t seq)
{
	uint64_t *w = page, fill = stamp_fill(seq, pfn);

	w[0] = seq;
	w[1] = pfn;
	for (size_t i = 2; i < words - 2; i++)
		w[i] = fill;
	w[words - 2] = pfn;
	w[words - 1] = seq;
}

/*
 * Whether `page` (pfn) carries a good stamp of one of the n buffers from
 * sequence number lo, not seen yet in this batch (seen[n], marked here).
 * The page is another process's memory: the sequence number that indexes
 * seen[] is loaded once (volatile) and bounds-checked before use.
 */
static bool stamp_check(const void *page, size_t words, uint32_t pfn, uint64_t lo, unsigned n,
			uint8_t *seen)
{
	const uint64_t *w = page;
	uint64_t seq = *(const volatile uint64_t *)page, fill, acc = 0;

	if (seq < lo || seq - lo >= n || seen[seq - lo])
		return false;
	seen[seq - lo] = 1;
	if (w[1] != pfn || w[words - 2] != pfn || w[words - 1] != seq)
		return false;
	fill = stamp_fill(seq, pfn);
	for (size_t i = 2; i < words - 2; i++)
		acc |= w[i] ^ fill;
	return acc == 0;
}

/* ---- messages ------------------------------------------------------------- */

static void msg_send(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die_err("send to peer", errno);
	if ((size_t)n != len)
		die("send to peer: %zd of %zu bytes", n, len);
}

/* One message into buf (room for len), its size; dies at EOF (the peer
 * died: its own message is already on stderr) or on error. */
static size_t msg_recv(int fd, void *buf, size_t len, const char *peer)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die_err("recv", errno);
	if (n == 0)
		die("%s ended early", peer);
	return (size_t)n;
}

/* ---- consumer -------------------------------------------------------------- */

struct consumer {
	struct pp_client *c;
	int id, fd;
	size_t words;
	uint32_t *pfns;			/* room for max_count (pp_take) */
	uint32_t *prev;			/* the previous batch, released by the next take */
	unsigned nprev;
	uint64_t checked, bad;
	uint8_t seen[MAX_B];
};

static void consumer_check(struct consumer *k, const uint32_t *pfns, unsigned n, uint64_t lo)
{
	memset(k->seen, 0, n);
	for (unsigned i = 0; i < n; i++) {
		const void *page = pp_page(k->c, pfns[i]);

		if (!page)
			die("consumer %d: pfn %u outside the arena", k->id, pfns[i]);
		if (!stamp_check(page, k->words, pfns[i], lo, n, k->seen))
			k->bad++;
		k->checked++;
	}
}

static void consumer_credit(struct consumer *k, uint32_t kind, uint64_t seq)
{
	struct pipe_reply r = { .kind = kind, .seq = seq };

	msg_send(k->fd, &r, CREDIT_SIZE);
}

/* Give back the batch kept for the next take's release (before anything
 * that is not a take, and at the end). */
static void consumer_flush(struct consumer *k)
{
	int err;

	if (!k->nprev)
		return;
	err = pp_free(k->c, k->prev, k->nprev, NULL);
	if (err < 0)
		die("consumer %d: pp_free: %s (%s)", k->id, pp_strerror(err), pp_last_error(k->c));
	k->nprev = 0;
}

/*
 * A hand-off or shared batch: release the previous one and take this one
 * in one round trip (pp_take_release), check it, credit.  The batch is
 * kept until the next take gives it back: a consumer done with a buffer
 * says so in the request it makes anyway.
 */
static void consumer_take(struct consumer *k, const struct pipe_msg *m)
{
	unsigned n, order, flags, bad, want = m->kind == K_SHARED ? PP_TAKEN_SHARED : 0;
	uint32_t *t;
	int err;

	err = pp_take_release(k->c, &m->u.token, k->prev, k->nprev, &bad, k->pfns,
			      pp_info(k->c)->max_count, &n, &order, &flags);
	if (err < 0)
		die("consumer %d: pp_take_release (%u released, bad %u): %s (%s)", k->id,
		    k->nprev, bad, pp_strerror(err), pp_last_error(k->c));
	k->nprev = 0;
	if (n != m->n || order != 0 || flags != want)
		die("consumer %d: pp_take answered %u blocks of order %u, flags %#x; "
		    "expected %u of order 0, flags %#x", k->id, n, order, flags, m->n, want);
	consumer_check(k, k->pfns, n, m->seq);
	consumer_credit(k, K_PING, m->seq);
	t = k->prev;
	k->prev = k->pfns;
	k->pfns = t;
	k->nprev = n;
}

static void consumer_stat(struct consumer *k)
{
	struct pipe_reply r = { .kind = K_STOP };
	struct pp_stat st;
	int err;

	err = pp_stat(k->c, &st);
	if (err < 0)
		die("consumer %d: pp_stat: %s (%s)", k->id, pp_strerror(err), pp_last_error(k->c));
	r.worker = pp_info(k->c)->worker;
	r.held = st.held;
	r.refs = st.refs;
	r.my_offered = st.my_offered;
	r.checked = k->checked;
	r.bad = k->bad;
	msg_send(k->fd, &r, sizeof(r));
}

/* The consumer process: connect when told, then serve messages until STOP. */
static void __attribute__((noreturn)) consumer_main(int id, int fd, int cpu, const char *sock)
{
	static struct pipe_msg m;
	struct consumer k = { .id = id, .fd = fd };
	struct pipe_reply r = { .kind = K_CONNECT };
	size_t len;
	int err;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die_err("prctl", errno);
	if (getppid() == 1)
		die("consumer %d: producer gone", id);
	if (cpu >= 0 && (err = pin_cpu(cpu)) != 0)
		die_err("sched_setaffinity", err);
	for (;;) {
		len = msg_recv(fd, &m, sizeof(m), "producer");
		if (len < MSG_HDR || (m.kind != K_CONNECT && !k.c))
			die("consumer %d: bad message (%zu bytes, kind %u)", id, len, m.kind);
		if ((m.kind == K_ACKBACK && (m.n > MAX_B || len != MSG_HDR + m.n * 4u)) ||
		    ((m.kind == K_HANDOFF || m.kind == K_SHARED || m.kind == K_PING) &&
		     len != MSG_HDR + PP_TOKEN_SIZE))
			die("consumer %d: message of %zu bytes for kind %u", id, len, m.kind);
		switch (m.kind) {
		case K_CONNECT:
			err = pp_connect(sock, NULL, &k.c);
			if (err < 0)
				die("consumer %d: pp_connect %s: %s (%s)", id, sock,
				    pp_strerror(err), pp_last_error(NULL));
			k.words = pp_info(k.c)->page_size / sizeof(uint64_t);
			k.pfns = calloc(pp_info(k.c)->max_count, sizeof(*k.pfns));
			k.prev = calloc(pp_info(k.c)->max_count, sizeof(*k.prev));
			if (!k.pfns || !k.prev)
				die_err("calloc", ENOMEM);
			r.worker = pp_info(k.c)->worker;
			msg_send(fd, &r, sizeof(r));
			break;
		case K_PING:
			consumer_flush(&k);
			consumer_credit(&k, K_PING, m.seq);
			break;
		case K_ACKBACK:
			consumer_flush(&k);
			consumer_check(&k, m.u.pfns, m.n, m.seq);
			consumer_credit(&k, K_PING, m.seq);
			break;
		case K_HANDOFF:
		case K_SHARED:
			consumer_take(&k, &m);
			break;
		case K_STOP:
			consumer_flush(&k);
			consumer_stat(&k);
			pp_close(k.c);
			free(k.pfns);
			free(k.prev);
			_exit(0);
		default:
			die("consumer %d: unknown message kind %u", id, m.kind);
		}
	}
}

/* ---- producer -------------------------------------------------------------- */

/* Start batch s of B buffers in `mode` and send it to its consumer(s). */
static void pipe_issue(struct producer *p, enum mode mode, unsigned B, struct slot *s)
{
	struct pipe_msg m = { .n = B };
	unsigned got = 0;
	size_t len = MSG_HDR + PP_TOKEN_SIZE;
	int err = 0;

	s->t0 = now_ns();
	s->seq = p->seq;
	m.seq = p->seq;
	p->seq += B;
	switch (mode) {
	case M_FLOOR:
		m.kind = K_PING;
		memset(&m.u.token, 0, sizeof(m.u.token));
		msg_send(p->sock[0], &m, len);
		return;
	case M_ACKBACK:
		m.kind = K_ACKBACK;
		err = pp_alloc(p->c, 0, B, 0, s->pfns, &got);
		if (err == 0 && got != B)
			die("pp_alloc(0, %u) gave %u", B, got);
		len = MSG_HDR + B * sizeof(uint32_t);
		break;
	case M_HANDOFF:
	case M_SHARED:
		m.kind = mode == M_HANDOFF ? K_HANDOFF : K_SHARED;
		err = pp_loan(p->c, 0, B, mode == M_HANDOFF ? 0 : NCONS, 0, s->pfns,
			      &m.u.token);
		break;
	default:
		abort();
	}
	if (err < 0)
		die("%s: %s(0, %u): %s (%s)", mode_name[mode],
		    mode == M_ACKBACK ? "pp_alloc" : "pp_loan", B, pp_strerror(err),
		    pp_last_error(p->c));
	for (unsigned i = 0; i < B; i++) {
		void *page = pp_page(p->c, s->pfns[i]);

		if (!page)
			die("pfn %u outside the arena", s->pfns[i]);
		stamp_write(page, p->words, s->pfns[i], s->seq + i);
		if (s->seq + i == p->corrupt)
			((uint64_t *)page)[p->words / 2] ^= 1;
	}
	if (mode == M_ACKBACK)
		memcpy(m.u.pfns, s->pfns, B * sizeof(uint32_t));
	msg_send(p->sock[0], &m, len);
	if (mode == M_SHARED)
		msg_send(p->sock[1], &m, len);
}

/* Wait for every credit of the oldest batch s (consumers answer in order);
 * ack-back then frees it.  Returns when the producer heard back (ns). */
static uint64_t pipe_complete(struct producer *p, enum mode mode, unsigned B, struct slot *s)
{
	struct pipe_reply r;
	uint64_t t1;
	int err;

	for (int k = 0; k < (mode == M_SHARED ? NCONS : 1); k++) {
		size_t len = msg_recv(p->sock[k], &r, sizeof(r), k ? "consumer 2" : "consumer 1");

		if (len != CREDIT_SIZE || r.kind != K_PING || r.seq != s->seq)
			die("consumer %d: unexpected answer (%zu bytes, kind %u, seq %llu, "
			    "expected %llu)", k + 1, len, r.kind, (unsigned long long)r.seq,
			    (unsigned long long)s->seq);
	}
	t1 = now_ns();
	if (mode == M_ACKBACK) {
		err = pp_free(p->c, s->pfns, B, NULL);
		if (err < 0)
			die("ack-back: pp_free: %s (%s)", pp_strerror(err), pp_last_error(p->c));
	}
	return t1;
}

/*
 * Run batches of B in `mode` with at most W in flight, issuing until `max`
 * batches or the instant `deadline` (ns), then draining.  Round trips go to
 * lat[] (room for max) when given.  Returns the batches done.
 */
static uint64_t pipe_loop(struct producer *p, enum mode mode, unsigned B, unsigned W,
			  uint64_t max, uint64_t deadline, uint64_t *lat)
{
	uint64_t head = 0, tail = 0;

	while (tail < head || (head < max && now_ns() < deadline)) {
		if (head - tail < W && head < max && now_ns() < deadline) {
			pipe_issue(p, mode, B, &p->ring[head % W]);
			head++;
		} else {
			struct slot *s = &p->ring[tail % W];
			uint64_t t1 = pipe_complete(p, mode, B, s);

			if (lat)
				lat[tail] = t1 - s->t0;
			tail++;
		}
	}
	return head;
}

/* Fork consumer id (1-based) on `cpu`; p->sock[id - 1] is its socket. */
static void producer_fork(struct producer *p, int id, int cpu, const char *sock)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_err("socketpair", errno);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die_err("fork", errno);
	if (pid == 0) {
		close(sv[0]);
		for (int k = 0; k < id - 1; k++)
			close(p->sock[k]);
		consumer_main(id, sv[1], cpu, sock);
	}
	close(sv[1]);
	p->sock[id - 1] = sv[0];
	p->pid[id - 1] = pid;
}

/* Tell consumer id to connect; the worker that serves it. */
static unsigned producer_connect_consumer(struct producer *p, int id)
{
	struct pipe_msg m = { .kind = K_CONNECT };
	struct pipe_reply r;
	size_t len;

	msg_send(p->sock[id - 1], &m, MSG_HDR);
	len = msg_recv(p->sock[id - 1], &r, sizeof(r), id == 1 ? "consumer 1" : "consumer 2");
	if (len != sizeof(r) || r.kind != K_CONNECT)
		die("consumer %d: bad READY (%zu bytes)", id, len);
	return (unsigned)r.worker;
}

/*
 * The end-of-run check: stop both consumers (each reports its pp_stat and
 * stamp counts), then the producer's own pp_stat until the pool is back to
 * 0 allocated pages (bounded: STAT_WAIT_MS).  Any holding: die.  Stamp
 * totals into *checked and *bad.
 */
static void producer_finish(struct producer *p, uint64_t *checked, uint64_t *bad,
			    char *line, size_t len)
{
	struct pipe_msg m = { .kind = K_STOP };
	struct pipe_reply r[NCONS];
	struct pp_stat st;
	uint64_t until = now_ns() + STAT_WAIT_MS * 1000000ull;
	int err, status;

	*checked = *bad = 0;
	for (int k = 0; k < NCONS; k++) {
		msg_send(p->sock[k], &m, MSG_HDR);
		if (msg_recv(p->sock[k], &r[k], sizeof(r[k]), "consumer") != sizeof(r[k]) ||
		    r[k].kind != K_STOP)
			die("consumer %d: bad STAT answer", k + 1);
		if (r[k].held || r[k].refs || r[k].my_offered)
			die("consumer %d still holds %llu pages, %llu by reference, %llu under offer",
			    k + 1, (unsigned long long)r[k].held, (unsigned long long)r[k].refs,
			    (unsigned long long)r[k].my_offered);
		*checked += r[k].checked;
		*bad += r[k].bad;
		if (waitpid(p->pid[k], &status, 0) != p->pid[k] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			die("consumer %d did not exit cleanly (status %#x)", k + 1, status);
	}
	for (;;) {
		err = pp_stat(p->c, &st);
		if (err < 0)
			die("pp_stat: %s (%s)", pp_strerror(err), pp_last_error(p->c));
		if (st.allocated == 0 && st.offered == 0 && st.offers == 0 && st.shared == 0)
			break;
		if (now_ns() > until)
			break;
		sleep_until_ns(now_ns() + 1000000);
	}
	if (st.held || st.refs || st.my_offered || st.allocated || st.offered || st.offers ||
	    st.shared)
		die("at the end: producer holds %llu pages (%llu by reference, %llu under offer); "
		    "pool allocated %llu, offered %llu, offers %llu, shared %llu",
		    (unsigned long long)st.held, (unsigned long long)st.refs,
		    (unsigned long long)st.my_offered, (unsigned long long)st.allocated,
		    (unsigned long long)st.offered, (unsigned long long)st.offers,
		    (unsigned long long)st.shared);
	snprintf(line, len, "producer, consumer 1 and consumer 2 each hold 0 pages, 0 references, "
		 "0 under offer; pool: %llu pages, %llu allocated, 0 offered, 0 open offers, "
		 "0 shared", (unsigned long long)st.total, (unsigned long long)st.allocated);
}

/* ---- the run -------------------------------------------------------------- */

struct config {
	const char *sock;
	int cpu_p, cpu_c, quick;
	unsigned window, rounds, lat_per_round;
	uint64_t cell_ns;
	pid_t daemon_pid;
	uint64_t corrupt;
};

struct results {
	double rate[NMODES][NB][8];	/* buffers/s per round (rounds <= 8) */
	uint64_t *lat[NMODES];		/* B = 1 round trips, ns */
	unsigned worker[1 + NCONS];
	uint64_t total_bufs[NMODES];
};

static void run_throughput(struct producer *p, const struct config *cf, struct results *res,
			   unsigned round)
{
	for (unsigned b = 0; b < NB; b++) {
		for (int mode = M_ACKBACK; mode < NMODES; mode++) {
			unsigned B = batch_sizes[b];
			uint64_t t0, n;

			pipe_loop(p, mode, B, cf->window, 2 * cf->window, UINT64_MAX, NULL);
			t0 = now_ns();
			n = pipe_loop(p, mode, B, cf->window, UINT64_MAX, t0 + cf->cell_ns, NULL);
			res->rate[mode][b][round] = (double)(n * B) * 1e9 / (double)(now_ns() - t0);
			res->total_bufs[mode] += (n + 2 * cf->window) * B;
		}
	}
}

static void run_latency(struct producer *p, const struct config *cf, struct results *res,
			unsigned round)
{
	for (int mode = M_FLOOR; mode < NMODES; mode++) {
		uint64_t *v = res->lat[mode] + (size_t)round * cf->lat_per_round;

		if (round == 0)
			pipe_loop(p, mode, 1, 1, 200, UINT64_MAX, NULL);
		pipe_loop(p, mode, 1, 1, cf->lat_per_round, UINT64_MAX, v);
		if (mode != M_FLOOR)
			res->total_bufs[mode] += cf->lat_per_round + (round == 0 ? 200 : 0);
	}
}

static double med_of(double *v, unsigned n)
{
	double tmp[8];

	memcpy(tmp, v, n * sizeof(*v));
	return median(tmp, n, NULL, NULL);
}

static void report(const struct config *cf, struct results *res, uint64_t checked, uint64_t bad,
		   const char *endline, uint32_t page_size)
{
	size_t nl = (size_t)cf->rounds * cf->lat_per_round;
	double pc[NMODES][2], ratio[8];
	char wk[512] = "?";

	printf("| mode (buffers/s, %u-byte buffers) | B=1 | B=16 | B=256 |\n", page_size);
	printf("| --- | ---: | ---: | ---: |\n");
	for (int mode = M_ACKBACK; mode < NMODES; mode++) {
		printf("| %s |", mode_name[mode]);
		for (unsigned b = 0; b < NB; b++)
			printf(" %.0f |", med_of(res->rate[mode][b], cf->rounds));
		printf("\n");
	}
	for (int mode = M_HANDOFF; mode < NMODES; mode++) {
		printf("| ratio %s / ack-back |", mode == M_HANDOFF ? "hand-off" : "shared");
		for (unsigned b = 0; b < NB; b++) {
			for (unsigned r = 0; r < cf->rounds; r++)
				ratio[r] = res->rate[mode][b][r] / res->rate[M_ACKBACK][b][r];
			printf(" %.2fx |", median(ratio, cf->rounds, NULL, NULL));
		}
		printf("\n");
	}
	printf("\n| one-buffer round trip (B=1) | p50 us | p99 us | p50 / floor | p99 / floor |\n");
	printf("| --- | ---: | ---: | ---: | ---: |\n");
	for (int mode = M_FLOOR; mode < NMODES; mode++) {
		qsort(res->lat[mode], nl, sizeof(uint64_t), cmp_u64);
		pc[mode][0] = pct_us(res->lat[mode], nl, 0.50);
		pc[mode][1] = pct_us(res->lat[mode], nl, 0.99);
		printf("| %s%s | %.2f | %.2f | %.2fx | %.2fx |\n", mode_name[mode],
		       mode == M_FLOOR ? ": socketpair ping-pong, producer <-> consumer 1" : "",
		       pc[mode][0], pc[mode][1], pc[mode][0] / pc[M_FLOOR][0],
		       pc[mode][1] / pc[M_FLOOR][1]);
	}
	printf("\n");
	print_machine();
	if (cf->daemon_pid > 0)
		daemon_cpus(cf->daemon_pid, NULL, wk, sizeof(wk));
	printf("Pinning: producer on CPU %d, consumers 1 and 2 on CPU %d; pagepoold %s; "
	       "connections served by worker %u (producer), %u (consumer 1), %u (consumer 2)\n",
	       cf->cpu_p, cf->cpu_c, wk, res->worker[0], res->worker[1], res->worker[2]);
	printf("Samples: window %u batches in flight; throughput: %u rounds of %llu ms per cell "
	       "after %u warm-up batches, median over rounds (ratios: median of per-round "
	       "ratios); round trips: %zu per side after 200 warm-up, in %u alternating rounds "
	       "(floor, a, b, c), nearest-rank percentiles" BENCH_OPTIMIZED("") "\n",
	       cf->window, cf->rounds, (unsigned long long)(cf->cell_ns / 1000000),
	       2 * cf->window, nl, cf->rounds);
	printf("Socket messages: floor ping and hand-off/shared batch %zu bytes, ack-back batch "
	       "%zu + 4 per pfn, ack/credit %zu (SOCK_SEQPACKET socketpair)\n",
	       MSG_HDR + PP_TOKEN_SIZE, MSG_HDR, CREDIT_SIZE);
	printf("Stamps: %llu buffer checks by the consumers (a %llu, b %llu, c %llu x 2), "
	       "%llu bad\n", (unsigned long long)checked,
	       (unsigned long long)res->total_bufs[M_ACKBACK],
	       (unsigned long long)res->total_bufs[M_HANDOFF],
	       (unsigned long long)res->total_bufs[M_SHARED], (unsigned long long)bad);
	printf("End (pp_stat): %s\n", endline);
}

static void on_alarm(int sig)
{
	static const char msg[] = "bench_pipe: timed out (watchdog)\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_pipe --socket PATH [--quick] [--cpus P,C] [--window W]\n"
		"                  [--daemon-pid PID] [--corrupt SEQ]\n");
	exit(2);
}

static void parse_args(int argc, char **argv, struct config *cf)
{
	int cpus[2], n = first_allowed_cpus(cpus, 2);

	*cf = (struct config){ .window = 8, .corrupt = UINT64_MAX,
			       .cpu_p = n > 0 ? cpus[0] : -1,
			       .cpu_c = n > 1 ? cpus[1] : n > 0 ? cpus[0] : -1 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--quick") == 0) {
			cf->quick = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(a, "--socket") == 0)
			cf->sock = argv[++i];
		else if (strcmp(a, "--cpus") == 0) {
			if (sscanf(argv[++i], "%d,%d", &cf->cpu_p, &cf->cpu_c) != 2)
				usage();
		} else if (strcmp(a, "--window") == 0)
			cf->window = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--daemon-pid") == 0)
			cf->daemon_pid = (pid_t)atoi(argv[++i]);
		else if (strcmp(a, "--corrupt") == 0)
			cf->corrupt = strtoull(argv[++i], NULL, 10);
		else
			usage();
	}
	if (!cf->sock || cf->window < 1 || cf->window > MAX_W)
		usage();
	cf->rounds = cf->quick ? 3 : 5;
	cf->cell_ns = (cf->quick ? 100 : 600) * 1000000ull;
	cf->lat_per_round = cf->quick ? 500 : 2000;
}

int main(int argc, char **argv)
{
	static struct producer p;
	static struct results res;
	struct config cf;
	uint64_t checked, bad;
	char endline[512];
	int err;

	parse_args(argc, argv, &cf);
	signal(SIGALRM, on_alarm);
	alarm(cf.quick ? 60 : 170);
	if (cf.cpu_p >= 0 && (err = pin_cpu(cf.cpu_p)) != 0)
		die_err("sched_setaffinity", err);
	p.corrupt = cf.corrupt;
	/* Consumers first (they connect when told), so the producer connects
	 * first and the daemon's dispatch is the same every run. */
	for (int k = 1; k <= NCONS; k++)
		producer_fork(&p, k, cf.cpu_c, cf.sock);
	err = pp_connect(cf.sock, NULL, &p.c);
	if (err < 0)
		die("pp_connect %s: %s (%s)", cf.sock, pp_strerror(err), pp_last_error(NULL));
	if (pp_info(p.c)->max_count < MAX_B)
		die("the daemon's max_count %u is below %d", pp_info(p.c)->max_count, MAX_B);
	p.words = pp_info(p.c)->page_size / sizeof(uint64_t);
	res.worker[0] = pp_info(p.c)->worker;
	for (int k = 1; k <= NCONS; k++)
		res.worker[k] = producer_connect_consumer(&p, k);
	for (int mode = M_FLOOR; mode < NMODES; mode++) {
		res.lat[mode] = calloc((size_t)cf.rounds * cf.lat_per_round, sizeof(uint64_t));
		if (!res.lat[mode])
			die_err("calloc", ENOMEM);
	}

	for (unsigned r = 0; r < cf.rounds; r++) {
		run_latency(&p, &cf, &res, r);
		run_throughput(&p, &cf, &res, r);
	}
	producer_finish(&p, &checked, &bad, endline, sizeof(endline));
	if (checked != res.total_bufs[M_ACKBACK] + res.total_bufs[M_HANDOFF] +
	    NCONS * res.total_bufs[M_SHARED])
		die("the consumers checked %llu buffers, not every one sent",
		    (unsigned long long)checked);
	report(&cf, &res, checked, bad, endline, pp_info(p.c)->page_size);
	fflush(stdout);
	pp_close(p.c);
	for (int mode = M_FLOOR; mode < NMODES; mode++)
		free(res.lat[mode]);
	if (bad) {
		fprintf(stderr, "bench_pipe: %llu bad stamps\n", (unsigned long long)bad);
		return 1;
	}
	return 0;
}
