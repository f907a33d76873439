/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress-super.c - the stress test's supervisor: starts pagepoold, forks
 * the clients, the producers and consumers and the fault process, kills a
 * random one of the first three kinds every few hundred milliseconds and
 * starts a fresh one in its slot, reaps children through the signalfd,
 * watches their heartbeats, and stops them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress.h"

/* In a fresh child: die with the parent, default signals, nothing blocked. */
static void child_init(struct run *r, pid_t parent)
{
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (r->sigfd >= 0)
		close(r->sigfd);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("JOURNAL_STREAM");
}

pid_t fork_child(struct run *r)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		child_init(r, parent);
	return pid;
}

void spawn_client(struct run *r, unsigned slot)
{
	struct kid *k = &r->kids[slot];
	uint32_t cid = ++r->next_cid;
	pid_t pid = fork_child(r);

	if (pid == 0)
		_exit(slot < r->nclients ? client_main(r, slot, cid)
					 : handoff_main(r, slot - r->nclients, cid));
	if (pid < 0) {
		shared_fail(r->sh, "fork of client %u: %s", cid, strerror(errno));
		return;
	}
	k->pid = pid;
	__atomic_store_n(&r->sh->slot[slot].pid, (int32_t)pid, __ATOMIC_RELEASE);
	k->cid = cid;
	k->killed = false;
	k->last_beat = __atomic_load_n(&r->sh->slot[slot].beat, __ATOMIC_RELAXED);
	k->beat_ms = now_ms();
	ctr_add(r->sh, CTR_spawns, 1);
}

/* Start pagepoold; wait for READY.  0, or -1 with the reason reported. */
int daemon_start(struct run *r)
{
	int p[2], logfd, fl;
	char fdarg[16], buf[16];
	size_t len = 0;
	int64_t deadline = now_ms() + READY_TIMEOUT_MS;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	logfd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		shared_fail(r->sh, "open %s: %s", r->log, strerror(errno));
		return -1;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
	pid = fork_child(r);
	if (pid == 0) {
		fl = fcntl(p[1], F_GETFD);
		if (dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0 ||
		    fcntl(p[1], F_SETFD, fl & ~FD_CLOEXEC) < 0)
			_exit(125);
		execl(r->daemon, r->daemon, "-f", "-c", r->conf, "--ready-fd", fdarg, (char *)NULL);
		dprintf(2, "stress: exec %s: %s\n", r->daemon, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	close(logfd);
	if (pid < 0) {
		close(p[0]);
		shared_fail(r->sh, "fork: %s", strerror(errno));
		return -1;
	}
	r->dpid = pid;
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int left = left_ms(deadline), n;
		ssize_t got;

		n = poll(&pf, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			shared_fail(r->sh, "pagepoold did not write READY within %d ms",
				    READY_TIMEOUT_MS);
			break;
		}
		got = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			shared_fail(r->sh, "pagepoold closed --ready-fd without READY (did it exit?)");
			break;
		}
		len += (size_t)got;
		buf[len] = '\0';
		if (strcmp(buf, "READY\n") == 0) {
			close(p[0]);
			r->ready = true;
			return 0;
		}
		if (strncmp(buf, "READY\n", len) != 0) {
			shared_fail(r->sh, "pagepoold wrote \"%s\" on --ready-fd", buf);
			break;
		}
	}
	close(p[0]);
	return -1;
}

/* A child lost its connection to the daemon: a failure of its own unless
 * the daemon died (decided in lost_verdict, once the daemon is reaped). */
static void child_lost(struct run *r, unsigned slot)
{
	if (r->nlost++ == 0)
		memcpy(r->lost, r->sh->slot[slot].lost, sizeof(r->lost));
	__atomic_store_n(&r->sh->stop, 1, __ATOMIC_RELEASE);
	r->stopping = true;
}

void lost_verdict(struct run *r)
{
	if (r->nlost == 0)
		return;
	if (r->daemon_died)
		printf("stress: %u processes lost their connection when pagepoold died, the first: "
		       "%s\n", r->nlost, r->lost);
	else
		shared_fail(r->sh, "%u processes lost their connection to the daemon, the first: %s",
			    r->nlost, r->lost);
}

/* A child ended: account for it, respawn a killed client. */
static void child_ended(struct run *r, pid_t pid, int status)
{
	int code = wait_code(status);
	char how[64];

	wait_text(code, how, sizeof(how));
	if (pid == r->dpid) {
		r->dpid = 0;
		r->dcode = code;
		if (!r->stopping_daemon) {
			r->daemon_died = true;
			shared_fail(r->sh, "pagepoold ended during the run: %s", how);
		}
		return;
	}
	if (pid == r->fault_pid) {
		r->fault_pid = 0;
		if (code == EXIT_LOST)
			child_lost(r, FAULT_SLOT);
		else if (!r->stopping || code != 0)
			shared_fail(r->sh, "fault process (pid %d) ended: %s", (int)pid, how);
		return;
	}
	for (unsigned s = 0; s < r->nkids; s++) {
		struct kid *k = &r->kids[s];

		if (k->pid != pid)
			continue;
		k->pid = 0;
		if (k->killed && code == 128 + SIGKILL) {
			if (!r->stopping && !failed(r->sh))
				spawn_client(r, s);
		} else if (code == EXIT_LOST) {
			child_lost(r, s);
		} else if (!r->stopping || code != 0) {
			shared_fail(r->sh, "client %u (slot %u, pid %d) ended: %s", k->cid, s,
				    (int)pid, how);
		}
		return;
	}
}

static void reap(struct run *r)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		child_ended(r, pid, status);
}

/* Wait for a signal (SIGCHLD, SIGINT, SIGTERM) up to `deadline`, then reap. */
void wait_signals(struct run *r, int64_t deadline)
{
	struct pollfd pf = { .fd = r->sigfd, .events = POLLIN };
	struct signalfd_siginfo si;

	if (poll(&pf, 1, left_ms(deadline)) > 0) {
		while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if ((si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) && !r->interrupted) {
				r->interrupted = true;
				shared_fail(r->sh, "interrupted by signal %u", si.ssi_signo);
			}
		}
	}
	reap(r);
}

/* SIGKILL the child in slot s, noting whom first: a consumer that meets the
 * offers of a dead producer asks (stress-handoff.c take_explained). */
static int kill_kid(struct run *r, unsigned s)
{
	__atomic_store_n(&r->sh->slot[s].killed_pid, (int32_t)r->kids[s].pid, __ATOMIC_RELEASE);
	return kill(r->kids[s].pid, SIGKILL);
}

static void kill_one(struct run *r)
{
	unsigned live[MAX_KIDS], n = 0, s;

	for (s = 0; s < r->nkids; s++)
		if (r->kids[s].pid > 0 && !r->kids[s].killed)
			live[n++] = s;
	if (n == 0)
		return;
	s = live[rng_below(&r->rng, n)];
	if (kill_kid(r, s) == 0) {
		r->kids[s].killed = true;
		ctr_add(r->sh, CTR_kills, 1);
		if (s >= r->nclients)
			ctr_add(r->sh, handoff_roles[s - r->nclients].producer ? CTR_producer_kills
									   : CTR_consumer_kills, 1);
		ctr_add(r->sh, CTR_killed_pages,
			__atomic_load_n(&r->sh->slot[s].held, __ATOMIC_RELAXED));
	}
}

/* A child whose heartbeat has not moved for STALL_MS is stuck. */
static void watch_one(struct run *r, struct kid *k, unsigned slot, const char *who)
{
	uint64_t beat = __atomic_load_n(&r->sh->slot[slot].beat, __ATOMIC_RELAXED);
	int64_t now = now_ms();

	if (k->pid <= 0 || k->killed)
		return;
	if (beat != k->last_beat) {
		k->last_beat = beat;
		k->beat_ms = now;
	} else if (now - k->beat_ms > STALL_MS) {
		shared_fail(r->sh, "%s (pid %d) made no progress for %d ms (stuck in a call to the "
			    "daemon?)", who, (int)k->pid, STALL_MS);
		k->beat_ms = now;
	}
}

static void watchdog(struct run *r)
{
	char who[48];

	for (unsigned s = 0; s < r->nkids; s++) {
		snprintf(who, sizeof(who), "%s %u (slot %u)", s < r->nclients ? "client" :
			 handoff_roles[s - r->nclients].producer ? "producer" : "consumer",
			 r->kids[s].cid, s);
		watch_one(r, &r->kids[s], s, who);
	}
	r->fault_watch.pid = r->fault_pid;
	watch_one(r, &r->fault_watch, FAULT_SLOT, "the fault process");
}

/* The run proper: until the time is up, a failure, or an interrupt. */
void supervise(struct run *r)
{
	int64_t t0 = now_ms(), end = t0 + (int64_t)r->seconds * 1000, tick = t0;
	int64_t next_kill = t0 + 100 + rng_below(&r->rng, 500);

	while (!failed(r->sh) && !r->stopping && now_ms() < end) {
		tick += TICK_MS;
		wait_signals(r, tick);
		if (now_ms() >= next_kill) {
			kill_one(r);
			next_kill = now_ms() + 100 + rng_below(&r->rng, 600);
		}
		watchdog(r);
		if (now_ms() > tick + 1000)
			tick = now_ms();	/* fell behind (loaded machine): do not catch up */
	}
}

static bool kids_running(const struct run *r)
{
	if (r->fault_pid > 0)
		return true;
	for (unsigned s = 0; s < r->nkids; s++)
		if (r->kids[s].pid > 0)
			return true;
	return false;
}

/* Say which children are still running (a slow stop, on a loaded machine
 * or against a slow daemon, is worth knowing about). */
static void note_running(const struct run *r, int64_t ms)
{
	printf("stress: still running %.1f s after the stop flag:", (double)ms / 1000.0);
	if (r->fault_pid > 0)
		printf(" fault process (pid %d, %" PRIu64 " steps)", (int)r->fault_pid,
		       __atomic_load_n(&r->sh->slot[FAULT_SLOT].beat, __ATOMIC_RELAXED));
	for (unsigned s = 0; s < r->nkids; s++)
		if (r->kids[s].pid > 0)
			printf(" client %u (pid %d, %" PRIu64 " ops, %" PRIu64 " pages held)",
			       r->kids[s].cid, (int)r->kids[s].pid,
			       __atomic_load_n(&r->sh->slot[s].beat, __ATOMIC_RELAXED),
			       __atomic_load_n(&r->sh->slot[s].held, __ATOMIC_RELAXED));
	printf("\n");
	fflush(stdout);
}

/* Raise the stop flag and wait (bounded) for the clients and the fault
 * process; kill what is left past the deadline. */
void stop_kids(struct run *r)
{
	int64_t t0 = now_ms(), deadline = t0 + KIDS_STOP_MS, next_note = t0 + 5000;

	r->stopping = true;
	__atomic_store_n(&r->sh->stop, 1, __ATOMIC_RELEASE);
	while (kids_running(r) && now_ms() < deadline) {
		wait_signals(r, next_note < deadline ? next_note : deadline);
		if (now_ms() >= next_note && kids_running(r)) {
			note_running(r, now_ms() - t0);
			next_note += 5000;
		}
	}
	if (!kids_running(r))
		return;
	if (r->fault_pid > 0) {
		shared_fail(r->sh, "the fault process did not stop within %d ms (killed)",
			    KIDS_STOP_MS);
		kill(r->fault_pid, SIGKILL);
	}
	for (unsigned s = 0; s < r->nkids; s++) {
		if (r->kids[s].pid <= 0)
			continue;
		shared_fail(r->sh, "%s %u did not stop within %d ms (killed)",
			    s < r->nclients ? "client" : "producer or consumer", r->kids[s].cid,
			    KIDS_STOP_MS);
		r->kids[s].killed = true;
		kill_kid(r, s);
	}
	deadline = now_ms() + 5000;
	while (kids_running(r) && now_ms() < deadline)
		wait_signals(r, deadline);
}
