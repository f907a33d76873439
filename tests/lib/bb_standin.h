/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_standin.h - a stand-in daemon for tests of libpagepool against a peer
 * that is not pagepoold: a forked child listening on the fixture's socket
 * (f->sock) that accepts one connection, reads whatever the client sends
 * and answers only what the test's function says - a Welcome, a refusal,
 * a broken answer, or nothing at all.
 *
 * The child never asserts (it leaves with _exit); the test learns how it
 * ended from its exit code (bb_kid_wait).
 */
#ifndef PP_BB_STANDIN_H
#define PP_BB_STANDIN_H

#include <stdint.h>
#include <sys/types.h>

#include "bb_fixture.h"
#include "wire.h"

/* An answer function's word for "close the connection and exit 0". */
#define BB_STANDIN_END		(-1)

/*
 * Frame r (wire_encode) and send it on s in one sendmsg, with the
 * descriptor fd passed along (SCM_RIGHTS) when fd >= 0.  0 or -1.
 */
int bb_standin_send(int s, const wire_response *r, int fd);

/*
 * Send on s the Welcome to request id 1: pool "default" of 1 MiB in 4 KiB
 * pages, its arena a sealed memfd passed along, max_count 64, max_order 8,
 * the default max_frame; Welcome.features, cache_high and cache_batch as
 * given (0: a daemon that offers nothing more).  0 or -1.
 */
int bb_standin_welcome(int s, uint32_t features, uint32_t cache_high, uint32_t cache_batch);

/*
 * Listen on f->sock (an old socket file there removed) and fork the
 * stand-in (a child of the fixture); returns its pid.  The child accepts
 * one connection within 10 s, then reads what comes and after its read
 * number `nread` (0: the first; a request sent whole comes in one read)
 * calls answer(s, nread, arg): 0 reads on, BB_STANDIN_END exits 0, a
 * positive value exits with that code.  It also exits 0 at the client's
 * EOF, and 2..5 when the accept, a poll or a read fails or 10 s have
 * passed in all; so answer's own failure codes should be 6 and up.
 */
pid_t bb_standin_start(struct bb *f, int (*answer)(int s, unsigned nread, int arg), int arg);

#endif
