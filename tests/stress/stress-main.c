/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress-main.c - the stress test: pagepoold under load and faults, for a
 * bounded time.
 *
 * The program starts its own pagepoold (the binary named on the command line
 * or by $PAGEPOOLD) in a mkdtemp directory with a config it writes: two
 * workers, a 64 MiB pool "default" and an 8 MiB pool "side", a client and an
 * admin socket.  It waits for "READY" on --ready-fd and, however the run
 * ends, stops the daemon with SIGTERM and requires exit status 0.
 *
 * Processes, all forked from this one and all dying with it
 * (PR_SET_PDEATHSIG):
 *  - clients (12 by default, each its own connection): allocate and free
 *    random orders (mostly small) and counts, sometimes with NOWAIT, ZERO or
 *    PARTIAL.  Every page a client holds carries a stamp (client id, pfn,
 *    sequence number) in its first and last 16 bytes (the whole page for
 *    blocks of order 0 and 1), written through pp_page() and checked before
 *    the block is freed: a mismatch means the page was handed to, or written
 *    by, someone else while this client held it (a "bad stamp").  A client
 *    also checks that every block it gets is aligned, inside the arena, not
 *    overlapping one it holds, not inside a range the fault process has
 *    taken offline, zeroed when ZERO was asked, and that the daemon's count
 *    of the pages it holds (pp_stat held) matches its own.  Now and then it
 *    appends to a free a pfn it freed earlier and does not hold: the daemon
 *    must refuse the whole call and free none of the rest.  ENOMEM and
 *    EAGAIN are normal under pressure.
 *  - producers and consumers (stress-handoff.c), in pool "default": two
 *    pairs hand stamped pages across processes (the producer loans blocks
 *    with pp_loan, or allocates and offers them with pp_offer, stamps every
 *    page with its group, sequence number, pfn and a checksum over the
 *    page, and passes the token over a socketpair; the consumer takes them
 *    with pp_take, checks it got the blocks offered and every stamp, frees
 *    them and acknowledges), and one producer offers each batch shared to
 *    two consumers (shares = 2, sometimes keeping a reference itself).
 *    Offers nobody acknowledged in time are cancelled, and what comes back
 *    is checked and freed.  They are killed like the clients: a consumer
 *    whose producer died hears EOWNERDEAD (or ENOENT) for the tokens left
 *    in its channel - counted as lost offers by giver death, never as lost
 *    pages - and what a killed consumer took goes back to the pool.
 *  - the fault process, on the admin socket: drains in the three modes
 *    (rcu, workqueue, spinlock; the config starts in drain_mode = spinlock
 *    so all three are legal, and reloads flip it between spinlock and rcu,
 *    which switches the pcps' locking at run time), trims, offline/online
 *    cycles of random max-order-aligned ranges, one per pool at a time and
 *    spread over several steps so the other faults land while a range is
 *    isolated or offline (EBUSY while pages are held: retried, or onlined
 *    to abort), set-pcp, verify, and the read-only calls (status, stats,
 *    buddyinfo, clients).
 *  - this process, the supervisor: kills a random client, producer or
 *    consumer with SIGKILL every few hundred milliseconds (a fresh one with
 *    a new id takes its slot; the daemon must reclaim everything the dead
 *    one held), reaps children through a signalfd, and watches every
 *    child's heartbeat.
 *
 * At the end the clients are told to stop (most free everything, some just
 * close holding pages), and through the admin socket: every pool must reach
 * allocated 0, isolated 0, offline 0, and after a forced drain free ==
 * total (anything else is a lost page); verify must hold.  The last line is
 * "stress: PASS ... 0 lost pages, 0 bad stamps" or "stress: FAIL ...", after
 * a cmocka-style summary and a line of hand-off counters ("stress:
 * handoffs ..."); the exit status is 0 only on PASS.
 *
 * Synchronisation never sleeps: children are reaped through a signalfd,
 * every wait has a deadline, and the only sleeps are pacing to absolute
 * deadlines (clock_nanosleep TIMER_ABSTIME): the fault loop's rhythm, and
 * the final status polls, each bounded by a deadline.  Random
 * choices come from one seed (printed; --seed or $STRESS_SEED to repeat
 * them; timing still varies from run to run).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

/* The pools of every run (conf_write puts them in the config). */
const struct pool_def pool_defs[NPOOLS] = {
	{ "default", 64, "prefault = no\n" },
	{ "side", 8, "prefault = yes\npcp_high = 64\npcp_batch = 16\n" },
};

const char *const drain_modes[3] = { "rcu", "workqueue", "spinlock" };

static void usage(void)
{
	fprintf(stderr,
		"usage: stress [--time SECONDS] [--seed N] [--clients N] [--keep] [PAGEPOOLD]\n"
		"  PAGEPOOLD      the daemon binary (default: $PAGEPOOLD)\n"
		"  --time S       run for S seconds (default: $STRESS_TIME or %d)\n"
		"  --seed N       seed of the random choices (default: $STRESS_SEED or random)\n"
		"  --clients N    client processes, 2..%d (default: $STRESS_CLIENTS or %d)\n"
		"  --keep         keep the temporary directory (always kept on failure)\n",
		DEFAULT_SECONDS, MAX_CLIENTS, DEFAULT_CLIENTS);
	exit(64);
}

static unsigned long long parse_num(const char *s, unsigned long long min, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "stress: bad number \"%s\" (%llu..%llu)\n", s, min, max);
		usage();
	}
	return v;
}

static void parse_args(struct run *r, int argc, char **argv)
{
	const char *env;

	r->daemon = getenv("PAGEPOOLD");
	r->seconds = DEFAULT_SECONDS;
	r->nclients = DEFAULT_CLIENTS;
	if ((env = getenv("STRESS_TIME")) && *env)
		r->seconds = (unsigned)parse_num(env, 1, 86400);
	if ((env = getenv("STRESS_CLIENTS")) && *env)
		r->nclients = (unsigned)parse_num(env, 2, MAX_CLIENTS);
	if ((env = getenv("STRESS_SEED")) && *env)
		r->seed = parse_num(env, 0, UINT64_MAX);
	else
		r->seed = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid() << 16 ^
			  (uint64_t)now_ms();
	r->keep = getenv("STRESS_KEEP") && *getenv("STRESS_KEEP");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--time") == 0 && i + 1 < argc)
			r->seconds = (unsigned)parse_num(argv[++i], 1, 86400);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			r->seed = parse_num(argv[++i], 0, UINT64_MAX);
		else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc)
			r->nclients = (unsigned)parse_num(argv[++i], 2, MAX_CLIENTS);
		else if (strcmp(argv[i], "--keep") == 0)
			r->keep = true;
		else if (argv[i][0] == '-')
			usage();
		else
			r->daemon = argv[i];
	}
	if (!r->daemon || !*r->daemon) {
		fprintf(stderr, "stress: name the pagepoold binary (argument or $PAGEPOOLD)\n");
		usage();
	}
	if (access(r->daemon, X_OK) != 0) {
		fprintf(stderr, "stress: %s: not an executable: %s\n", r->daemon, strerror(errno));
		exit(64);
	}
}

/* The directory, the config, the shared area, the signalfd.  0 or -1. */
static int setup(struct run *r)
{
	const char *tmp = getenv("TMPDIR");
	sigset_t set;

	snprintf(r->dir, sizeof(r->dir), "%s/ppstress-XXXXXX",
		 tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	if (!mkdtemp(r->dir)) {
		fprintf(stderr, "stress: mkdtemp %s: %s\n", r->dir, strerror(errno));
		return -1;
	}
	snprintf(r->conf, sizeof(r->conf), "%s/pagepoold.conf", r->dir);
	snprintf(r->sock, sizeof(r->sock), "%s/pp.sock", r->dir);
	snprintf(r->asock, sizeof(r->asock), "%s/admin.sock", r->dir);
	snprintf(r->log, sizeof(r->log), "%s/pagepoold.log", r->dir);
	r->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	pick_workers(r);
	r->sh = mmap(NULL, sizeof(*r->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	if (r->sh == MAP_FAILED) {
		fprintf(stderr, "stress: mmap: %s\n", strerror(errno));
		return -1;
	}
	/* The producers' channels outlive any one producer or consumer: this
	 * process keeps both ends, the children inherit them. */
	for (unsigned l = 0; l < HANDOFF_LINKS; l++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r->links[l]) < 0) {
			fprintf(stderr, "stress: socketpair: %s\n", strerror(errno));
			return -1;
		}
	}
	if (conf_write(r, "spinlock") < 0) {
		fprintf(stderr, "stress: writing %s failed\n", r->conf);
		return -1;
	}
	/* Default dispositions first: a signal ignored on entry (a background
	 * job of a non-interactive shell ignores SIGINT) would never reach the
	 * signalfd. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	r->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sigfd < 0) {
		fprintf(stderr, "stress: signalfd: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct run run;
	struct run *r = &run;
	struct final fin = { 0 };
	int64_t t0;
	bool ok;

	r->sigfd = -1;
	parse_args(r, argc, argv);
	r->nkids = r->nclients + HANDOFF_PROCS;
	if (setup(r) < 0)
		return 1;
	r->rng = r->seed;
	printf("stress: seed %#" PRIx64 ", %u s, %u clients and %u producers/consumers, workers "
	       "%s, pools default 64M + side 8M, daemon %s, dir %s\n", r->seed, r->seconds,
	       r->nclients, HANDOFF_PROCS, r->workers, r->daemon, r->dir);
	fflush(stdout);
	t0 = now_ms();
	if (daemon_start(r) == 0) {
		pid_t pid;

		phase(r, t0, "pagepoold ready, starting the clients");
		pid = fork_child(r);

		if (pid == 0)
			_exit(fault_main(r));
		if (pid < 0)
			shared_fail(r->sh, "fork: %s", strerror(errno));
		r->fault_pid = pid > 0 ? pid : 0;
		r->fault_watch.beat_ms = now_ms();
		for (unsigned s = 0; s < r->nkids && !failed(r->sh); s++)
			spawn_client(r, s);
		supervise(r);
	}
	phase(r, t0, "stopping the clients and the fault process");
	stop_kids(r);
	phase(r, t0, "final checks");
	final_checks(r, &fin);
	phase(r, t0, "stopping pagepoold");
	daemon_stop(r);
	lost_verdict(r);
	phase(r, t0, "done");
	ok = !failed(r->sh);
	report(r, &fin, (double)(now_ms() - t0) / 1000.0);
	if (ok && !r->keep)
		remove_dir(r->dir);
	else if (ok)
		printf("stress: kept %s\n", r->dir);
	return ok ? 0 : 1;
}
