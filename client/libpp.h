/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libpp.h - what the files of libpagepool share and nothing outside it
 * sees (not installed): the client structure, the one round trip, how a
 * failure is recorded, and block lists both ways (pfns as runs, runs as
 * pfns).  libpagepool.c holds these and the connection's life;
 * handoff.c the offers.  The names are libpp_* because the static library
 * must claim no short global names in a program's namespace; the shared
 * library exports none of them (-fvisibility=hidden).
 *
 * Every function here takes a client that one thread uses at a time, as
 * every call of pagepool.h does.
 */
#ifndef PP_LIBPP_H
#define PP_LIBPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pagepool.h"
#include "transport.h"
#include "wire.h"

#define PP_EXPORT	__attribute__((visibility("default")))

/* Most numbers in a runs list the library sends (pairs: half as many runs). */
#define LIBPP_RUNS_MAX	256

struct pp_client {
	struct pp_transport t;	/* the connection; t.error is pp_last_error() */
	uint32_t bad_index;	/* bad_index of the last failed response */
	uint8_t *base;		/* the arena mapping, map_len bytes */
	size_t map_len;
	uint64_t npages;
	unsigned page_shift;
	struct pp_info info;
	uint32_t features;	/* Feature bits the welcome granted */
};

/* Record why a call failed (for pp_last_error) and return err. */
int libpp_fail(struct pp_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same, and break the client: the stream can no longer be trusted. */
int libpp_fail_break(struct pp_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * One round trip: send req (its id is assigned here), receive its response.
 * 0 with *out set (free it with wire_response_free) when the daemon
 * answered OK; -status (with the daemon's text in pp_last_error and its
 * bad_index in c->bad_index) when it refused; other -errno when the
 * exchange failed.  fd_out, when given, receives an fd that came with the
 * response (the caller closes it).
 */
int libpp_call(struct pp_client *c, wire_request *req, wire_response **out, int *fd_out);

/* 0 when resp carries the body its request asked for; else resp is freed,
 * the client broken and -EPROTO returned. */
int libpp_expect_body(struct pp_client *c, wire_response *resp, int body_case);

/*
 * pfns[] (n blocks) as runs of blocks 2^order pages apart, in the same
 * order (so an index the daemon blames counts as the caller's does): true
 * with runs[] (room for LIBPP_RUNS_MAX) and *nruns when that is less than
 * half the list, false when the plain list is as short.
 */
bool libpp_runs_pack(const uint32_t *pfns, unsigned n, unsigned order, uint32_t *runs,
		     size_t *nruns);

/*
 * How many blocks an answer's list and runs (first, n pairs) name: *total.
 * 0, or -EPROTO with the client broken for runs the client did not ask for
 * (no FEATURE_RUNS), an odd runs list or an empty run.  `what` names the
 * request in the error text ("alloc", "take", ...).
 */
int libpp_blocks_count(struct pp_client *c, const char *what, size_t n_pfns,
		       const uint32_t *runs, size_t n_runs, uint64_t *total);

/*
 * An answer's blocks of 2^order pages (order <= 31), pfns then runs
 * expanded, into out[] (room for the total libpp_blocks_count gave), each
 * checked to lie in the arena: 0 and *n, or -EPROTO (client broken).
 */
int libpp_blocks_expand(struct pp_client *c, const char *what, const uint32_t *pfns,
			size_t n_pfns, const uint32_t *runs, size_t n_runs, unsigned order,
			uint32_t *out, size_t *n);

#endif
