/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_rpc.c - round-trip latency of pp_alloc(order 0, 1) + pp_free against
 * the transport floor, measured side by side in one run.
 *
 *   bench_rpc --echo-server SOCKET
 *	Accept one UNIX stream connection and answer every frame (4-byte
 *	big-endian length + body, as proto/wire.h) with one frame.  The first
 *	4 bytes of each request body give the body length of the answer (the
 *	rest of the body is padding), so the client chooses sizes equal to
 *	pagepoold's responses.  Single-threaded, blocking.
 *
 *   bench_rpc --daemon SOCKET --echo SOCKET [--iters N] [--cpu C]
 *	Client.  One "pair" is two round trips: against the echo server an
 *	Alloc-sized request answered by a Pages-sized response, then a
 *	Free-sized request answered by a Freed-sized response; against
 *	pagepoold pp_alloc(order 0, count 1) + pp_free of that page.  The sizes
 *	are those of the encoded protobuf messages (pagepool.v1), computed with
 *	the pfn the daemon actually hands out and a request id in the middle of
 *	the range the daemon run uses.  After a warm-up, N pairs per side are
 *	timed in ROUNDS alternating blocks (floor, daemon, floor, ...), each
 *	pair with clock_gettime(CLOCK_MONOTONIC); percentiles are over the
 *	combined samples of all rounds.  Prints a Markdown table.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pagepool.h"
#include "wire.h"

#define BENCH_PROG	"bench_rpc"
#include "benchutil.h"	/* after wire.h: put_be32, packed_request/response */

#define ROUNDS		5
#define WARMUP		2000
#define BUF_SIZE	4096

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static void send_all(int fd, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_err("send", errno);
		}
		off += (size_t)n;
	}
}

/* Buffered reader, like libpagepool's: one recv usually brings a whole frame. */
struct rd {
	int fd;
	uint8_t buf[BUF_SIZE];
	size_t start, end;
};

/* Read one frame body into body (at most cap bytes); its length, or -1 at EOF. */
static long read_frame(struct rd *r, uint8_t *body, size_t cap)
{
	uint8_t hdr[WIRE_HDR];
	size_t want = WIRE_HDR, got = 0;
	uint8_t *dst = hdr;
	int phase = 0;

	for (;;) {
		while (got < want) {
			size_t take;

			if (r->start == r->end) {
				ssize_t n = recv(r->fd, r->buf, sizeof(r->buf), 0);

				if (n < 0) {
					if (errno == EINTR)
						continue;
					die_err("recv", errno);
				}
				if (n == 0)
					return -1;
				r->start = 0;
				r->end = (size_t)n;
			}
			take = r->end - r->start;
			if (take > want - got)
				take = want - got;
			memcpy(dst + got, r->buf + r->start, take);
			r->start += take;
			got += take;
		}
		if (phase == 1)
			return (long)want;
		want = wire_frame_len(hdr);
		if (want > cap)
			die("frame of %zu bytes too large", want);
		dst = body;
		got = 0;
		phase = 1;
	}
}

/* ---- echo server ------------------------------------------------------- */

static int echo_server(const char *path)
{
	struct sockaddr_un sa;
	static uint8_t body[WIRE_MAX_FRAME_DEFAULT], out[WIRE_HDR + WIRE_MAX_FRAME_DEFAULT];
	static struct rd r;
	int lfd, fd;
	long len;

	if (unix_addr(path, &sa) < 0)
		die_err(path, ENAMETOOLONG);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die_err("socket", errno);
	unlink(path);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die_err(path, errno);
	if (listen(lfd, 1) < 0)
		die_err("listen", errno);
	/* Ready: the socket is bound and listening. */
	printf("READY\n");
	fflush(stdout);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		die_err("accept", errno);
	close(lfd);
	unlink(path);
	r.fd = fd;
	while ((len = read_frame(&r, body, sizeof(body))) >= 0) {
		uint32_t rlen = len >= 4 ? wire_frame_len(body) : (uint32_t)len;

		if (rlen > WIRE_MAX_FRAME_DEFAULT)
			rlen = WIRE_MAX_FRAME_DEFAULT;
		put_be32(out, rlen);
		send_all(fd, out, WIRE_HDR + rlen);
	}
	close(fd);
	return 0;
}

/* ---- client ------------------------------------------------------------ */

struct sizes {
	size_t alloc_req, pages_resp, free_req, freed_resp;	/* bodies */
};

static void daemon_pair(struct pp_client *c, uint32_t *pfn_out)
{
	uint32_t pfn;
	unsigned got;
	int err;

	err = pp_alloc(c, 0, 1, 0, &pfn, &got);
	if (err < 0 || got != 1)
		die("pp_alloc: %s (%s)", pp_strerror(err), pp_last_error(c));
	err = pp_free(c, &pfn, 1, NULL);
	if (err < 0)
		die("pp_free: %s (%s)", pp_strerror(err), pp_last_error(c));
	if (pfn_out)
		*pfn_out = pfn;
}

struct echo {
	struct rd r;
	uint8_t alloc_frame[WIRE_HDR + 64], free_frame[WIRE_HDR + 64];
	size_t alloc_len, free_len;
	uint8_t body[WIRE_MAX_FRAME_DEFAULT];
};

static void make_frame(uint8_t *frame, size_t body_len, size_t reply_len)
{
	memset(frame, 0, WIRE_HDR + body_len);
	put_be32(frame, (uint32_t)body_len);
	put_be32(frame + WIRE_HDR, (uint32_t)reply_len);
}

static void echo_pair(struct echo *e)
{
	send_all(e->r.fd, e->alloc_frame, e->alloc_len);
	if (read_frame(&e->r, e->body, sizeof(e->body)) < 0)
		die_err("echo server", ECONNRESET);
	send_all(e->r.fd, e->free_frame, e->free_len);
	if (read_frame(&e->r, e->body, sizeof(e->body)) < 0)
		die_err("echo server", ECONNRESET);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_rpc --echo-server SOCKET\n"
		"       bench_rpc --daemon SOCKET --echo SOCKET [--iters N] [--cpu C]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dsock = NULL, *esock = NULL;
	static struct echo e;
	struct sockaddr_un sa;
	struct pp_client *c;
	uint64_t *floor_ns, *daemon_ns;
	size_t iters = 20000, per_round, nf = 0, nd = 0, i;
	int cpu = -1, err, round;
	uint32_t pfn = 0;
	struct sizes sz;
	char self_cpus[128], echo_cpus[128], wk_cpus[512], tmp[32];
	pid_t dpid;
	uint64_t mid_id;
	double fl[3], dm[3];

	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i];

		if (i + 1 >= (size_t)argc)
			usage();
		if (strcmp(a, "--echo-server") == 0)
			return echo_server(argv[i + 1]);
		else if (strcmp(a, "--daemon") == 0)
			dsock = argv[++i];
		else if (strcmp(a, "--echo") == 0)
			esock = argv[++i];
		else if (strcmp(a, "--iters") == 0)
			iters = strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--cpu") == 0)
			cpu = atoi(argv[++i]);
		else
			usage();
	}
	if (!dsock || !esock || iters < ROUNDS)
		usage();
	per_round = iters / ROUNDS;
	iters = per_round * ROUNDS;

	if (cpu >= 0 && (err = pin_cpu(cpu)) != 0)
		die_err("sched_setaffinity", err);

	err = pp_connect(dsock, NULL, &c);
	if (err < 0) {
		fprintf(stderr, "bench_rpc: pp_connect %s: %s (%s)\n", dsock, pp_strerror(err),
			pp_last_error(NULL));
		return 1;
	}
	/* Warm the daemon up first: its pcp then hands out the same page. */
	for (i = 0; i < WARMUP; i++)
		daemon_pair(c, &pfn);

	/* The daemon's ids run from 1 to about 2 * (2 * WARMUP + iters). */
	mid_id = 2 * WARMUP + iters;
	sz.alloc_req = packed_request(mid_id, 1, &pfn, 1);
	sz.pages_resp = packed_response(mid_id, 1, &pfn, 1);
	sz.free_req = packed_request(mid_id + 1, 1, &pfn, 0);
	sz.freed_resp = packed_response(mid_id + 1, 1, &pfn, 0);
	if (sz.alloc_req < 4 || sz.free_req < 4 || sz.alloc_req > 64 || sz.free_req > 64) {
		fprintf(stderr, "bench_rpc: unexpected request sizes\n");
		return 1;
	}
	make_frame(e.alloc_frame, sz.alloc_req, sz.pages_resp);
	e.alloc_len = WIRE_HDR + sz.alloc_req;
	make_frame(e.free_frame, sz.free_req, sz.freed_resp);
	e.free_len = WIRE_HDR + sz.free_req;

	if (unix_addr(esock, &sa) < 0)
		die_err(esock, ENAMETOOLONG);
	e.r.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (e.r.fd < 0)
		die_err("socket", errno);
	if (connect(e.r.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die_err(esock, errno);
	for (i = 0; i < WARMUP; i++)
		echo_pair(&e);

	floor_ns = calloc(iters, sizeof(*floor_ns));
	daemon_ns = calloc(iters, sizeof(*daemon_ns));
	if (!floor_ns || !daemon_ns)
		die_err("calloc", ENOMEM);

	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < per_round; i++) {
			uint64_t t0 = now_ns();

			echo_pair(&e);
			floor_ns[nf++] = now_ns() - t0;
		}
		for (i = 0; i < per_round; i++) {
			uint64_t t0 = now_ns();

			daemon_pair(c, NULL);
			daemon_ns[nd++] = now_ns() - t0;
		}
	}

	/* Who ran where. */
	snprintf(tmp, sizeof(tmp), "%d", (int)getpid());
	task_cpus(tmp, self_cpus, sizeof(self_cpus));
	snprintf(tmp, sizeof(tmp), "%d", (int)peer_pid(e.r.fd));
	task_cpus(tmp, echo_cpus, sizeof(echo_cpus));
	dpid = -1;
	{
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd >= 0 && unix_addr(dsock, &sa) == 0 &&
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			dpid = peer_pid(fd);
		if (fd >= 0)
			close(fd);
	}
	if (dpid > 0)
		daemon_cpus(dpid, NULL, wk_cpus, sizeof(wk_cpus));
	else
		snprintf(wk_cpus, sizeof(wk_cpus), "?");

	qsort(floor_ns, nf, sizeof(*floor_ns), cmp_u64);
	qsort(daemon_ns, nd, sizeof(*daemon_ns), cmp_u64);
	fl[0] = pct_us(floor_ns, nf, 0.50);
	fl[1] = pct_us(floor_ns, nf, 0.99);
	fl[2] = pct_us(floor_ns, nf, 0.999);
	dm[0] = pct_us(daemon_ns, nd, 0.50);
	dm[1] = pct_us(daemon_ns, nd, 0.99);
	dm[2] = pct_us(daemon_ns, nd, 0.999);

	printf("| case (one pair = 2 round trips) | p50 us | p99 us | p999 us |\n");
	printf("| --- | --- | --- | --- |\n");
	printf("| transport floor: echo server, same framing and sizes | %.2f | %.2f | %.2f |\n",
	       fl[0], fl[1], fl[2]);
	printf("| pagepoold: pp_alloc(order 0, 1) + pp_free | %.2f | %.2f | %.2f |\n",
	       dm[0], dm[1], dm[2]);
	printf("| ratio daemon / floor | %.2fx | %.2fx | %.2fx |\n",
	       dm[0] / fl[0], dm[1] / fl[1], dm[2] / fl[2]);
	printf("\n");
	print_machine();
	printf("Pinning: client on CPU %s; echo server on CPU %s; pagepoold %s\n",
	       self_cpus, echo_cpus, wk_cpus);
	printf("Samples: %zu pairs per side after %d warm-up pairs, in %d alternating rounds "
	       "of %zu (floor, then daemon); percentiles over all rounds (nearest rank)\n",
	       iters, WARMUP, ROUNDS, per_round);
	printf("Frame bodies (bytes, + 4-byte header): Alloc %zu -> Pages %zu, "
	       "Free %zu -> Freed %zu\n",
	       sz.alloc_req, sz.pages_resp, sz.free_req, sz.freed_resp);

	free(floor_ns);
	free(daemon_ns);
	close(e.r.fd);
	pp_close(c);
	return 0;
}
