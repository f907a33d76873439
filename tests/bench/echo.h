/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * echo.h - the transport floor of bench_rpc and bench_load: an echo server
 * that answers pagepool Requests the way pagepoold does in shape and size
 * (Alloc -> Pages, Free -> Freed, the same ids and pfns) with no allocator
 * behind it, and the client that drives it.  Both ends go through
 * proto/transport.h, the one request loop libpagepool is built on, so the
 * floor pays the same framing, encoding and decoding as a pp_alloc round
 * trip and nothing else.
 *
 * The server comes in two kinds (echo_serve()): blocking, the floor of a
 * thread that serves one connection, and event-driven, which waits in
 * epoll_wait() before each receive like a worker serving many connections.
 *
 * The server has no pages: it answers an Alloc of n pages with the first n
 * pfns it was last given by Frees (a Free of k pfns overwrites the first k
 * it keeps), so a benchmark first frees to it the pfns pagepoold handed out
 * for the same batch, and every later alloc + free pair carries the same
 * pfns, hence the same frame sizes, as against pagepoold.  Errors end the
 * program (die()): these are benchmarks.
 */
#ifndef BENCH_ECHO_H
#define BENCH_ECHO_H

#include <stddef.h>
#include <stdint.h>

#include "transport.h"

/* Connecting is bounded; calls then block, as a pp_client's do by default
 * (a deadline would cost a poll() per send and receive). */
#define ECHO_CONNECT_MS	30000

struct echo {
	struct pp_transport t;
};

/*
 * `bench_rpc --echo-server PATH [--epoll]`: listen on PATH, print "READY"
 * on stdout once listening, serve one connection until it closes.  Returns
 * 0.  Blocking (use_epoll 0), a request costs 2 system calls: recvmsg and
 * send.  Event-driven (use_epoll 1), the server first waits in
 * epoll_wait() for the connection whenever the transport holds no unread
 * bytes, as a server multiplexing many connections on one thread must:
 * epoll_wait, a receive, a send: the 3 calls pagepoold's workers make.
 */
int echo_serve(const char *path, int use_epoll);

/* Connect the client to the echo server at `path`. */
void echo_connect(struct echo *e, const char *path);
void echo_close(struct echo *e);

/* An Alloc(order 0, count) round trip: the pfns answered into pfns[] (room
 * for count), their number into *got. */
void echo_alloc(struct echo *e, unsigned count, uint32_t *pfns, unsigned *got);

/* A Free of pfns[n] round trip (also how the server learns its pfns). */
void echo_free(struct echo *e, const uint32_t *pfns, unsigned n);

/* Encoded body size of request `id`: Alloc(order 0, count batch), or Free
 * of the batch pages pfns[]; and of pagepoold's answer to it: Pages (order
 * 0, pfns[]) or Freed. */
size_t echo_request_size(uint64_t id, unsigned batch, const uint32_t *pfns, int is_alloc);
size_t echo_response_size(uint64_t id, unsigned batch, const uint32_t *pfns, int is_alloc);

#endif /* BENCH_ECHO_H */
