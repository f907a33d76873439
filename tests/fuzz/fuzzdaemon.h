/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzzdaemon.h - the in-process pagepoold of the fuzz targets that talk to
 * a daemon (fuzz_proto.c, fuzz_ccache.c): a struct daemon built from a real
 * configuration file, real pools, real workers without threads
 * (worker_create: an event base each) on up to two CPUs, and optionally the
 * admin module and the idle decay on an event base of their own (d->base).
 * Connections are socketpairs handed over as pagepoold's accept path does;
 * the harness holds the peer ends and runs the event loops by hand,
 * non-blocking, until nothing moves.  QSBR: the calling thread is a
 * registered reader, offline except inside worker callbacks
 * (worker_enter/worker_leave), so the admin side may wait for grace periods.
 * Everything here runs on the target's one thread; every failure aborts
 * through fuzz_die().
 */
#ifndef PP_FUZZDAEMON_H
#define PP_FUZZDAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "daemon.h"

/* Print "NAME: " (fuzzd_init's name), the message and a newline to stderr,
 * and abort: how every oracle of a target fails. */
__attribute__((noreturn, format(printf, 1, 2)))
void fuzz_die(const char *fmt, ...);

/*
 * Start-up common to the targets, first thing in LLVMFuzzerInitialize:
 * name prefixes fuzz_die()'s lines; systemd's variables go (no
 * notifications, no passed sockets), SIGPIPE is ignored, the log starts at
 * err (debug: at debug, and it stays there, see fuzzd_start); dir (len
 * bytes) receives a fresh private directory, $TMPDIR/pp-fuzz.XXXXXX, for
 * the configuration files and sockets.
 */
void fuzzd_init(const char *name, bool debug, char *dir, size_t len);

/* Up to two CPUs this process may use, as "0" or "0,1" for `workers =`
 * into buf; returns how many (the workers fuzzd_start should create). */
unsigned fuzzd_cpus(char *buf, size_t len);

/*
 * Build the daemon d (zeroed) from the configuration file at path, which
 * must name nw workers (fuzzd_cpus): its pools, quota table and slots, and
 * nw workers without a thread (d->workers), whose pcps' kicks run the
 * worker's event loop at once (a workqueue drain is serviced there and
 * then).  The log level becomes the file's, or debug.  The calling thread
 * becomes a QSBR reader, offline.  admin: the admin module and the idle
 * decay too, on a new event base (d->base) that fuzzd_pump runs.
 */
void fuzzd_start(struct daemon *d, const char *path, unsigned nw, bool admin);

/*
 * A new connection, as the daemon's accept path makes one: a socketpair
 * whose daemon end (*dfd) goes to server_accept_client (admin:
 * admin_accept) and whose other end (*peer) is the harness's; both
 * non-blocking.  sndbuf > 0: the daemon end's SO_SNDBUF.  Returns false
 * when the daemon turned it away (its limit of connections): it closed its
 * end then, and the peer reads EOF.
 */
bool fuzzd_connect(struct daemon *d, bool admin, int sndbuf, int *peer, int *dfd);

/* The client connection whose daemon end is dfd, or NULL (closed). */
struct conn *fuzzd_conn(const struct daemon *d, int dfd);

/*
 * Run the daemon until a whole round moves nothing: each round send()
 * (may be NULL) writes what the harness owes the daemon, every worker's
 * event loop and d->base's run, non-blocking, then recv() reads what the
 * daemon sent.  Both count the bytes they move in *moved (EOF counts too);
 * a round is quiet when *moved and the workers' callbacks did not change.
 * Aborts after 100,000 rounds: the daemon keeps busy on its own.
 */
void fuzzd_pump(struct daemon *d, const uint64_t *moved, void (*send)(void),
		void (*recv)(void));

/* Every uid quota in use counts exactly what its connections are charged. */
void fuzzd_check_quotas(const struct daemon *d);

/* Every peer closed: no connection, queued connection, slot or quota
 * charge is left (the connections left are printed first). */
void fuzzd_check_closed(const struct daemon *d);

/* pool, quiet with no client at all: it verifies with no owner, every page
 * is free (none on a pcp, allocated, isolated or offline) and merged into
 * whole max-order blocks. */
void fuzzd_check_pool_empty(struct pool *pool);

#endif
