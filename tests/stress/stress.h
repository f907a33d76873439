/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress.h - the parts of the stress test (see stress-main.c for what it
 * does): stress-main.c reads the command line and sets a run up,
 * stress-util.c holds the helpers every process uses and writes the
 * daemon's config, stress-admin.c is the admin client (proto/transport.h),
 * stress-client.c a client process (libpagepool), stress-handoff.c the
 * producers and consumers that hand pages across processes, stress-faults.c
 * the fault process, stress-super.c the supervisor, and stress-final.c the
 * checks and the report at the end.
 */
#ifndef STRESS_H
#define STRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pagepool.h"
#include "transport.h"
#include "wire.h"

#define MAX_CLIENTS		32
#define DEFAULT_CLIENTS		12
/* Producers and consumers (stress-handoff.c): two hand-off pairs and one
 * producer with two consumers of shared offers, after the clients. */
#define HANDOFF_PROCS		7
#define HANDOFF_GROUPS		3
#define HANDOFF_LINKS		4	/* producer-consumer channels */
#define MAX_KIDS		(MAX_CLIENTS + HANDOFF_PROCS)
#define FAULT_SLOT		MAX_KIDS	/* the fault process's slot_state */
#define DEFAULT_SECONDS		60
#define BLOCK_PAGES		1024u	/* a max-order block: pools and offline ranges are whole ones */
#define FAIL_MAX		16	/* failure messages kept */
#define FAIL_LEN		512

/* Exit statuses of the children. */
#define EXIT_FAILED		3	/* a failure, already recorded */
#define EXIT_LOST		4	/* lost the connection to the daemon (slot's lost text) */

/* Deadlines, generous because sanitizer builds of the daemon are slow and
 * the machine is shared. */
#define READY_TIMEOUT_MS	30000
#define STOP_TIMEOUT_MS		30000	/* the daemon after SIGTERM */
#define KIDS_STOP_MS		30000	/* clients and fault process after the stop flag */
#define STALL_MS		30000	/* a child with no progress for this long is stuck */
#define QUIESCE_MS		20000	/* every page back after the last client closed */
#define ADMIN_TIMEOUT_MS	30000	/* one admin round trip */
#define TICK_MS			10	/* supervisor loop */

typedef Pagepool__V1__AdminRequest admin_request;
typedef Pagepool__V1__AdminResponse admin_response;

/* ---- configuration of a run (stress-main.c) ----------------------------------- */

struct pool_def {
	const char *name;
	unsigned size_mb;
	const char *extra;	/* more config lines */
};

/* "default" and "side": clients are spread over the pools, one in six uses
 * "side" (slot_pool in stress-client.c). */
#define NPOOLS			((size_t)2)
extern const struct pool_def pool_defs[NPOOLS];

extern const char *const drain_modes[3];	/* rcu, workqueue, spinlock */

/* ---- counters shared by every process (X-macro: name, text) ----------------- */

#define COUNTERS(X)								\
	X(ops, "client operations")						\
	X(alloc_calls, "pp_alloc calls")					\
	X(pages_alloc, "pages allocated")					\
	X(pages_freed, "pages freed by pp_free")				\
	X(enomem, "ENOMEM answers")						\
	X(eagain, "EAGAIN answers (NOWAIT)")					\
	X(short_partial, "short PARTIAL batches")				\
	X(zero_allocs, "ZERO allocations checked")				\
	X(stamp_checks, "blocks whose stamps were checked")			\
	X(held_checks, "pp_stat held checks")					\
	X(free_probes, "frees with a pfn not held, refused whole")		\
	X(bad_stamps, "pages with a bad stamp")					\
	X(bad_zero, "ZERO pages not zeroed")					\
	X(bad_blocks, "blocks misaligned, outside the arena or overlapping")	\
	X(offline_handouts, "blocks handed out from an offline range")		\
	X(held_mismatch, "pp_stat held != pages the client holds")		\
	X(handoffs, "hand-off offers made (pp_loan, or pp_alloc + pp_offer)")	\
	X(loans, "of all offers, loans (pp_loan)")				\
	X(shared_offers, "shared offers made (two takers)")			\
	X(handoff_takes, "hand-offs taken, checked and freed")		\
	X(shared_takes, "shared takes checked and freed")			\
	X(handoff_pages, "pages taken from another process")			\
	X(offer_cancels, "offers cancelled by their producer (no ack in time)")	\
	X(take_cancelled, "takes answered ECANCELED (cancelled first)")	\
	X(take_forgotten, "takes of cancelled offers answered ENOENT")		\
	X(lost_offers, "lost offers by giver death (EOWNERDEAD/ENOENT)")	\
	X(handoff_unsent, "tokens not sent: the consumer's channel was full")	\
	X(handoff_enomem, "loans and allocs for offers answered ENOMEM")	\
	X(handoff_bad_blocks, "takes answered with other blocks than offered")	\
	X(spawns, "clients started")						\
	X(kills, "clients, producers and consumers killed with SIGKILL")	\
	X(producer_kills, "of which producers")				\
	X(consumer_kills, "of which consumers")				\
	X(killed_pages, "pages held by clients when killed")			\
	X(closed_pages, "pages held by clients that closed without freeing")	\
	X(drain_rcu, "drains, rcu")						\
	X(drain_workqueue, "drains, workqueue")					\
	X(drain_spinlock, "drains, spinlock")					\
	X(spinlock_refused, "spinlock drains refused while drain_mode = rcu")	\
	X(drained_pages, "pages drained")					\
	X(trims, "trims")							\
	X(trimmed_pages, "pages trimmed")					\
	X(offline_cycles, "offline/online cycles (ended by online)")		\
	X(offline_ok, "ranges taken offline")					\
	X(offline_busy, "offline calls answered EBUSY (range left isolated)")	\
	X(offline_aborted, "isolations abandoned by online")			\
	X(set_pcp, "set-pcp calls")						\
	X(reloads, "reloads (drain_mode flipped)")				\
	X(verifies, "verify calls during the run")				\
	X(reads, "status/stats/buddyinfo/clients calls")

enum {
#define X(name, text) CTR_##name,
	COUNTERS(X)
#undef X
	NCTR
};

/* The range a pool has isolated or offline, packed in one word so a client
 * reads it with one atomic load: state | first block << 8 | blocks << 32. */
enum { OFF_NONE, OFF_ISOLATING, OFF_OFFLINE, OFF_ONLINING };

struct slot_state {
	uint64_t beat;		/* bumped by the child at every operation */
	uint64_t held;		/* pages the client holds (as it believes) */
	int32_t pid;		/* the child in the slot now (set by the supervisor) */
	int32_t killed_pid;	/* the last pid of this slot the supervisor killed */
	char lost[FAIL_LEN];	/* what the child was doing when the daemon went away */
};

/* One MAP_SHARED page set, mapped before any fork. */
struct shared {
	uint64_t ctr[NCTR];
	uint64_t offrange[NPOOLS];
	struct slot_state slot[MAX_KIDS + 1];	/* [FAULT_SLOT]: the fault process */
	uint64_t hseq[HANDOFF_GROUPS];		/* a group's last offer sequence number */
	uint64_t cancel_hi[HANDOFF_GROUPS];	/* the highest it cancelled (or is about to) */
	uint32_t stop;
	uint32_t nfail;
	char fail[FAIL_MAX][FAIL_LEN];
};

struct kid {
	pid_t pid;		/* 0: slot empty */
	uint32_t cid;		/* stamp id of the client in the slot */
	bool killed;		/* we sent SIGKILL */
	uint64_t last_beat;
	int64_t beat_ms;	/* when last_beat last changed */
};

struct run {
	const char *daemon;
	char dir[64];
	char conf[128];
	char sock[128];
	char asock[128];
	char log[128];
	char workers[64];
	uint64_t seed;
	unsigned seconds;
	unsigned nclients;
	unsigned nkids;		/* clients, then the HANDOFF_PROCS */
	int links[HANDOFF_LINKS][2];	/* socketpairs: [0] producer's end, [1] consumer's */
	bool keep;
	uint32_t page_size;
	struct shared *sh;
	int sigfd;
	pid_t dpid;		/* the daemon, 0 once reaped */
	bool ready;		/* it said READY */
	int dcode;		/* its exit code (wait_code) once reaped */
	bool stopping_daemon;
	pid_t fault_pid;
	bool stopping;		/* the stop flag is up: exits are expected */
	bool interrupted;
	struct kid kids[MAX_KIDS];
	struct kid fault_watch;
	bool daemon_died;	/* ended during the run */
	unsigned nlost;		/* children that lost their connection */
	char lost[FAIL_LEN];	/* the first one's story */
	uint32_t next_cid;
	uint64_t rng;
};

/* ---- helpers of every process (stress-util.c) ---------------------------------- */

int64_t now_ms(void);
/* Milliseconds until deadline (0 when past, at most INT_MAX). */
int left_ms(int64_t deadline);
/* Pace: sleep until the absolute monotonic time `until` (ms). */
void pace_until(int64_t until);

/* splitmix64: small, seedable, good enough to pick operations. */
uint64_t rng_next(uint64_t *s);
unsigned rng_below(uint64_t *s, unsigned n);
bool rng_pct(uint64_t *s, unsigned pct);

void ctr_add(struct shared *sh, unsigned i, uint64_t n);
uint64_t ctr_get(const struct shared *sh, unsigned i);
bool stop_requested(const struct shared *sh);

/*
 * Record a failure (any process): kept in the shared area for the final
 * report (the first FAIL_MAX) and printed at once on stderr with the pid.
 */
void __attribute__((format(printf, 2, 3))) shared_fail(struct shared *sh, const char *fmt, ...);
bool failed(const struct shared *sh);

/* A wait status as one number: the exit code, or 128 + the signal. */
int wait_code(int status);
/* That number in words, into buf. */
const char *wait_text(int code, char *buf, size_t n);

/* The daemon's log on stdout: from the first sanitizer report on when there
 * is one (up to `max` bytes), else its last `max` bytes. */
void print_log(const struct run *r, size_t max);
/* Remove the run's directory. */
void remove_dir(const char *dir);

/* The first two CPUs this process may run on, as "a,b", into r->workers. */
void pick_workers(struct run *r);
/* Write (atomically: temporary file + rename) the config with drain_mode
 * `mode`.  0 or -errno. */
int conf_write(const struct run *r, const char *mode);

/* ---- the admin socket (stress-admin.c) ------------------------------------------ */

/* An admin connection; why says what went wrong, in words. */
struct admin {
	struct pp_transport t;
	char why[256];
};

/* Connect.  0 or -errno (a->why says more). */
int admin_open(struct admin *a, const char *path);
void admin_close(struct admin *a);
void resp_free(admin_response *resp);

/*
 * The calls below return 0 when the daemon answered OK, the errno it
 * answered otherwise (a positive number, its text in a->why), or -errno
 * when the exchange failed (a->why says how): that is always a failure of
 * the run.
 */
/* An empty-bodied request (status, stats, buddyinfo, clients, reload) of
 * `req_case` whose body is a `desc` message; *out (if out) keeps the answer. */
int admin_empty(struct admin *a, int req_case, const ProtobufCMessageDescriptor *desc,
		admin_response **out);
/* status, whose answer (kept in *out when 0) must carry AdminStatus. */
int admin_status(struct admin *a, admin_response **out);
int admin_drain(struct admin *a, const char *pool, const char *mode, bool force,
		uint64_t *pages);
/* offline (online = false) or online of [start, start + count) in `pool`. */
int admin_range(struct admin *a, bool online, const char *pool, uint32_t start, uint32_t count);
int admin_trim(struct admin *a, const char *pool, uint64_t *pages);
int admin_set_pcp(struct admin *a, const char *pool, uint32_t high, uint32_t batch);
/* verify every pool: 0 when all hold; 1 with the broken pools' messages in
 * msg when one does not; else as above. */
int admin_verify(struct admin *a, char *msg, size_t n);

/* ---- the processes ------------------------------------------------------------- */

/* A client process (stress-client.c): slot, stamp id `cid`.  Returns the
 * exit status. */
int client_main(struct run *r, unsigned slot, uint32_t cid);

/* Producers and consumers (stress-handoff.c): what each one is. */
struct handoff_role {
	bool producer;
	unsigned group;
	unsigned links[2];	/* its channels (a producer of shared offers has two) */
	unsigned nlinks;
};
extern const struct handoff_role handoff_roles[HANDOFF_PROCS];

/* Producer or consumer number idx (slot nclients + idx), stamp id cid.
 * Returns the exit status. */
int handoff_main(struct run *r, unsigned idx, uint32_t cid);

/* The fault process (stress-faults.c).  Returns the exit status. */
int fault_main(struct run *r);

/* ---- the supervisor (stress-super.c) -------------------------------------------- */

/* fork() a child that dies with this process; its pid, 0 in it, -1. */
pid_t fork_child(struct run *r);
/* Fork the client, producer or consumer of `slot`, with a new stamp id. */
void spawn_client(struct run *r, unsigned slot);
/* Start pagepoold; wait for READY.  0, or -1 with the reason reported. */
int daemon_start(struct run *r);
/* Wait for a signal (SIGCHLD, SIGINT, SIGTERM) up to `deadline`, then reap. */
void wait_signals(struct run *r, int64_t deadline);
/* The run proper: until the time is up, a failure, or an interrupt. */
void supervise(struct run *r);
/* Raise the stop flag and wait (bounded) for the clients and the fault
 * process; kill what is left past the deadline. */
void stop_kids(struct run *r);
/* Children that lost their connection: a failure unless the daemon died. */
void lost_verdict(struct run *r);

/* ---- the end (stress-final.c) --------------------------------------------------- */

struct final {
	bool checked;		/* the admin checks ran */
	uint64_t lost;		/* pages neither free nor accounted for */
	uint64_t total;
};

/* With every client gone: every page back, nothing isolated or offline,
 * verify holds. */
void final_checks(struct run *r, struct final *fin);
/* SIGTERM, then wait (bounded) for the daemon; it must exit 0. */
void daemon_stop(struct run *r);
/* The counters, the failures, the cmocka-style summary and the last line. */
void report(struct run *r, const struct final *fin, double secs);
void phase(const struct run *r, int64_t t0, const char *what);

#endif /* STRESS_H */
