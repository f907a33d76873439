/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress.c - pagepoold under load and faults, for a bounded time.
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
 *  - the fault process, on the admin socket: drains in the three modes
 *    (rcu, workqueue, spinlock; the config starts in drain_mode = spinlock
 *    so all three are legal, and reloads flip it between spinlock and rcu,
 *    which switches the pcps' locking at run time), trims, offline/online
 *    cycles of random max-order-aligned ranges, one per pool at a time and
 *    spread over several steps so the other faults land while a range is
 *    isolated or offline (EBUSY while pages are held: retried, or onlined
 *    to abort), set-pcp, verify, and the read-only calls (status, stats,
 *    buddyinfo, clients).
 *  - this process, the supervisor: kills a random client with SIGKILL every
 *    few hundred milliseconds (a fresh client with a new id takes its slot;
 *    the daemon must reclaim everything the dead one held), reaps children
 *    through a signalfd, and watches every child's heartbeat.
 *
 * At the end the clients are told to stop (most free everything, some just
 * close holding pages), and through the admin socket: every pool must reach
 * allocated 0, isolated 0, offline 0, and after a forced drain free ==
 * total (anything else is a lost page); verify must hold.  The last line is
 * "stress: PASS ... 0 lost pages, 0 bad stamps" or "stress: FAIL ...", after
 * a cmocka-style summary; the exit status is 0 only on PASS.
 *
 * Synchronisation never sleeps: children are reaped through a signalfd,
 * every wait has a deadline, and the only sleeps are pacing to absolute
 * deadlines (clock_nanosleep TIMER_ABSTIME): the fault loop's rhythm, and
 * the final status polls, each bounded by a deadline.  Random
 * choices come from one seed (printed; --seed or $STRESS_SEED to repeat
 * them; timing still varies from run to run).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pagepool.h"
#include "wire.h"

#include "../bench/benchutil.h"	/* now_ns, sleep_until_ns, first_allowed_cpus */

#define MAX_CLIENTS		32
#define DEFAULT_CLIENTS		12
#define DEFAULT_SECONDS		60
#define MAX_ORDER		10
#define BLOCK_PAGES		1024u	/* a max-order block: pools and offline ranges are whole ones */
#define STAMP_BYTES		16
#define NO_PFN			UINT32_MAX
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
#define ADMIN_IO_TIMEOUT_S	30
#define TICK_MS			10	/* supervisor loop */

typedef Pagepool__V1__AdminRequest admin_request;
typedef Pagepool__V1__AdminResponse admin_response;

/* ---- configuration of a run ------------------------------------------------ */

struct pool_def {
	const char *name;
	unsigned size_mb;
	const char *extra;	/* more config lines */
};

/* Clients are spread over the pools: one in six uses "side" (slot_pool). */
static const struct pool_def pool_defs[] = {
	{ "default", 64, "prefault = no\n" },
	{ "side", 8, "prefault = yes\npcp_high = 64\npcp_batch = 16\n" },
};
#define NPOOLS (sizeof(pool_defs) / sizeof(pool_defs[0]))

static const char *const drain_modes[] = { "rcu", "workqueue", "spinlock" };

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
	X(spawns, "clients started")						\
	X(kills, "clients killed with SIGKILL")					\
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

static const char *const ctr_names[NCTR] = {
#define X(name, text) #name,
	COUNTERS(X)
#undef X
};

static const char *const ctr_texts[NCTR] = {
#define X(name, text) text,
	COUNTERS(X)
#undef X
};

/* The range a pool has isolated or offline, packed in one word so a client
 * reads it with one atomic load: state | first block << 8 | blocks << 32. */
enum { OFF_NONE, OFF_ISOLATING, OFF_OFFLINE, OFF_ONLINING };

struct slot_state {
	uint64_t beat;		/* bumped by the child at every operation */
	uint64_t held;		/* pages the client holds (as it believes) */
	char lost[FAIL_LEN];	/* what the child was doing when the daemon went away */
};

/* One MAP_SHARED page set, mapped before any fork. */
struct shared {
	uint64_t ctr[NCTR];
	uint64_t offrange[NPOOLS];
	struct slot_state slot[MAX_CLIENTS + 1];	/* [MAX_CLIENTS]: the fault process */
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
	struct kid kids[MAX_CLIENTS];
	struct kid fault_watch;
	bool daemon_died;	/* ended during the run */
	unsigned nlost;		/* children that lost their connection */
	char lost[FAIL_LEN];	/* the first one's story */
	uint32_t next_cid;
	uint64_t rng;
};

/* ---- small helpers ---------------------------------------------------------- */

static int64_t now_ms(void)
{
	return (int64_t)(now_ns() / 1000000);
}

static int left_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Pace: sleep until the absolute monotonic time `until` (ms). */
static void pace_until(int64_t until)
{
	sleep_until_ns((uint64_t)until * 1000000);
}

/* splitmix64: small, seedable, good enough to pick operations. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rng_below(uint64_t *s, unsigned n)
{
	return n ? (unsigned)(rng_next(s) % n) : 0;
}

static bool rng_pct(uint64_t *s, unsigned pct)
{
	return rng_below(s, 100) < pct;
}

static void ctr_add(struct shared *sh, unsigned i, uint64_t n)
{
	__atomic_fetch_add(&sh->ctr[i], n, __ATOMIC_RELAXED);
}

static uint64_t ctr_get(const struct shared *sh, unsigned i)
{
	return __atomic_load_n(&sh->ctr[i], __ATOMIC_RELAXED);
}

static bool stop_requested(const struct shared *sh)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE) != 0;
}

/*
 * Record a failure (any process): kept in the shared area for the final
 * report (the first FAIL_MAX) and printed at once on stderr with the pid.
 */
static void __attribute__((format(printf, 2, 3)))
shared_fail(struct shared *sh, const char *fmt, ...)
{
	char buf[FAIL_LEN];
	uint32_t i;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	dprintf(2, "stress[%d]: %s\n", (int)getpid(), buf);
	i = __atomic_fetch_add(&sh->nfail, 1, __ATOMIC_ACQ_REL);
	if (i < FAIL_MAX)
		memcpy(sh->fail[i], buf, sizeof(buf));
}

static bool failed(const struct shared *sh)
{
	return __atomic_load_n(&sh->nfail, __ATOMIC_ACQUIRE) != 0;
}

static const char *wait_text(int code, char *buf, size_t n)
{
	if (code == -ETIMEDOUT)
		snprintf(buf, n, "still running (killed)");
	else if (code >= 128)
		snprintf(buf, n, "killed by signal %d (%s)", code - 128, strsignal(code - 128));
	else
		snprintf(buf, n, "exit status %d", code);
	return buf;
}

/* A wait status as one number: the exit code, or 128 + the signal. */
static int wait_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

static int write_file(const char *path, const char *text)
{
	char tmp[192];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	ok = fputs(text, f) >= 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) < 0)
		return -EIO;
	return 0;
}

/*
 * Print the daemon's log on stdout: from the first sanitizer report on when
 * there is one (up to `max` bytes), else its last `max` bytes.
 */
static void print_log(const struct run *r, size_t max)
{
	static const char *const marks[] = { "Sanitizer", "runtime error:" };
	int fd = open(r->log, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	char *buf = NULL, *from = NULL;
	size_t len = 0;
	bool sanitizer;

	if (fd < 0 || fstat(fd, &sb) < 0 || !(buf = malloc((size_t)sb.st_size + 1)))
		goto out;
	while (len < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)sb.st_size - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		char *m = strstr(buf, marks[i]);

		if (m && (!from || m < from))
			from = m;
	}
	sanitizer = from != NULL;
	if (from) {
		while (from > buf && from[-1] != '\n')
			from--;
	} else {
		from = len > max ? buf + len - max : buf;
	}
	if ((size_t)(buf + len - from) > max)
		buf[from - buf + (ptrdiff_t)max] = '\0';
	printf("---- pagepoold log %s (%zu bytes), %s ----\n%s%s---- end of log ----\n",
	       r->log, len, sanitizer ? "from the first sanitizer report" :
	       from > buf ? "its end" : "all of it", from,
	       *from && from[strlen(from) - 1] == '\n' ? "" : "\n");
out:
	free(buf);
	if (fd >= 0)
		close(fd);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* ---- the daemon's configuration ------------------------------------------------ */

/* The first two CPUs this process may run on, as "a,b" (one if that is all). */
static void pick_workers(struct run *r)
{
	int cpus[2], n = first_allowed_cpus(cpus, 2);

	r->workers[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(r->workers + strlen(r->workers), sizeof(r->workers) - strlen(r->workers),
			 "%s%d", i ? "," : "", cpus[i]);
	if (n == 0)
		snprintf(r->workers, sizeof(r->workers), "auto");
}

/* Write (atomically: temporary file + rename) the config with `mode`. */
static int conf_write(const struct run *r, const char *mode)
{
	char text[2048];
	size_t len;

	len = (size_t)snprintf(text, sizeof(text),
		"# written by tests/stress/stress.c\n"
		"[daemon]\n"
		"socket = %s\n"
		"socket_mode = 0600\n"
		"admin_socket = %s\n"
		"admin_mode = 0600\n"
		"workers = %s\n"
		"drain_mode = %s\n"
		"decay_interval = 1\n"
		"log_level = info\n"
		"max_connections = 256\n",
		r->sock, r->asock, r->workers, mode);
	for (size_t i = 0; i < NPOOLS && len < sizeof(text); i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"\n[pool %s]\nsize = %uM\ngroups =\n%s",
					pool_defs[i].name, pool_defs[i].size_mb, pool_defs[i].extra);
	if (len >= sizeof(text))
		return -E2BIG;
	return write_file(r->conf, text);
}

/* ---- the admin socket -------------------------------------------------------------- */

struct admin {
	int fd;
	uint64_t next_id;
	char why[256];
};

/* Connect with send/receive timeouts.  0 or -errno (a->why says more). */
static int admin_open(struct admin *a, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = ADMIN_IO_TIMEOUT_S };
	int r;

	a->next_id = 1;
	a->why[0] = '\0';
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (setsockopt(a->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(a->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	do
		r = connect(a->fd, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		r = -errno;
		snprintf(a->why, sizeof(a->why), "connect %s: %s", path, strerror(-r));
		close(a->fd);
		a->fd = -1;
		return r;
	}
	return 0;
}

static void admin_close(struct admin *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

static int admin_io(struct admin *a, bool send_dir, uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = send_dir ? send(a->fd, buf, len, MSG_NOSIGNAL) : recv(a->fd, buf, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			snprintf(a->why, sizeof(a->why), "no progress within %d s",
				 ADMIN_IO_TIMEOUT_S);
			return -ETIMEDOUT;
		}
		if (n < 0) {
			snprintf(a->why, sizeof(a->why), "%s: %s", send_dir ? "send" : "recv",
				 strerror(errno));
			return -errno;
		}
		if (n == 0) {
			snprintf(a->why, sizeof(a->why), "the daemon closed the admin connection");
			return -ECONNRESET;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * One admin round trip.  0 with *out (any status; free with
 * pagepool__v1__admin_response__free_unpacked), or -errno with a->why when
 * the exchange failed: that is always a failure of the run.
 */
static int admin_call(struct admin *a, admin_request *req, admin_response **out)
{
	uint8_t hdr[WIRE_HDR], *buf;
	size_t len;
	uint32_t flen;
	int err;

	*out = NULL;
	req->id = a->next_id++;
	err = wire_encode(&req->base, WIRE_MAX_FRAME_DEFAULT, &buf, &len);
	if (err) {
		snprintf(a->why, sizeof(a->why), "encode: %s", strerror(-err));
		return err;
	}
	err = admin_io(a, true, buf, len);
	free(buf);
	if (!err)
		err = admin_io(a, false, hdr, sizeof(hdr));
	if (err)
		return err;
	flen = wire_frame_len(hdr);
	if (wire_check_len(flen, 16u << 20)) {
		snprintf(a->why, sizeof(a->why), "response frame of %u bytes", flen);
		return -EPROTO;
	}
	/* A zero-length frame is a valid empty answer: no body bytes to read. */
	buf = flen ? malloc(flen) : NULL;
	if (flen && !buf)
		return -ENOMEM;
	err = admin_io(a, false, buf, flen);
	if (!err) {
		*out = (admin_response *)wire_unpack(&pagepool__v1__admin_response__descriptor,
						     buf, flen);
		if (!*out) {
			snprintf(a->why, sizeof(a->why), "undecodable response");
			err = -EPROTO;
		} else if ((*out)->id != req->id) {
			snprintf(a->why, sizeof(a->why), "response id %" PRIu64 " to request %" PRIu64,
				 (*out)->id, req->id);
			pagepool__v1__admin_response__free_unpacked(*out, NULL);
			*out = NULL;
			err = -EPROTO;
		}
	}
	free(buf);
	return err;
}

static void resp_free(admin_response *resp)
{
	if (resp)
		pagepool__v1__admin_response__free_unpacked(resp, NULL);
}

/*
 * A call whose answer matters only by its status: the status (0 OK, or the
 * errno the daemon answered) with the daemon's text in a->why, or -errno
 * when the exchange failed.  *out keeps the response when out is not NULL.
 */
static int admin_status_of(struct admin *a, admin_request *req, admin_response **out)
{
	admin_response *resp;
	int err = admin_call(a, req, &resp);

	if (err)
		return err;
	err = (int)resp->status;
	if (err)
		snprintf(a->why, sizeof(a->why), "%s", resp->error ? resp->error : "");
	if (out)
		*out = resp;
	else
		resp_free(resp);
	return err;
}

/* Empty-bodied requests (status, stats, buddyinfo, clients, reload): every
 * empty message has the same layout, so one body serves, typed by `desc`. */
static int admin_empty(struct admin *a, int req_case, const ProtobufCMessageDescriptor *desc,
		       admin_response **out)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	ProtobufCMessage body;

	protobuf_c_message_init(desc, &body);
	req.body_case = (Pagepool__V1__AdminRequest__BodyCase)req_case;
	req.status = (Pagepool__V1__AdminStatusReq *)&body;
	return admin_status_of(a, &req, out);
}

static int admin_status(struct admin *a, admin_response **out)
{
	int err = admin_empty(a, PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS,
			      &pagepool__v1__admin_status_req__descriptor, out);

	if (err > 0)
		resp_free(*out);
	if (err == 0 && (*out)->body_case != PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATUS_INFO) {
		resp_free(*out);
		snprintf(a->why, sizeof(a->why), "status answer without AdminStatus");
		return -EPROTO;
	}
	return err;
}

static int admin_drain(struct admin *a, const char *pool, const char *mode, bool force,
		       uint64_t *pages)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminDrainReq d = PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT;
	admin_response *resp = NULL;
	int err;

	d.pool = (char *)pool;
	d.mode = (char *)mode;
	d.force = force;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_DRAIN;
	req.drain = &d;
	err = admin_status_of(a, &req, &resp);
	*pages = 0;
	if (err == 0 && resp->body_case == PAGEPOOL__V1__ADMIN_RESPONSE__BODY_DRAINED)
		*pages = resp->drained->pages;
	if (err >= 0)
		resp_free(resp);
	return err;
}

/* offline (online = false) or online of [start, start + count) in `pool`. */
static int admin_range(struct admin *a, bool online, const char *pool, uint32_t start,
		       uint32_t count)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminOfflineReq off = PAGEPOOL__V1__ADMIN_OFFLINE_REQ__INIT;
	Pagepool__V1__AdminOnlineReq on = PAGEPOOL__V1__ADMIN_ONLINE_REQ__INIT;

	if (online) {
		on.pool = (char *)pool;
		on.start = start;
		on.count = count;
		req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_ONLINE;
		req.online = &on;
	} else {
		off.pool = (char *)pool;
		off.start = start;
		off.count = count;
		req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_OFFLINE;
		req.offline = &off;
	}
	return admin_status_of(a, &req, NULL);
}

static int admin_trim(struct admin *a, const char *pool, uint64_t *pages)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminTrimReq t = PAGEPOOL__V1__ADMIN_TRIM_REQ__INIT;
	admin_response *resp = NULL;
	int err;

	t.pool = (char *)pool;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_TRIM;
	req.trim = &t;
	err = admin_status_of(a, &req, &resp);
	*pages = err == 0 && resp->body_case == PAGEPOOL__V1__ADMIN_RESPONSE__BODY_TRIMMED
		 ? resp->trimmed->pages : 0;
	if (err >= 0)
		resp_free(resp);
	return err;
}

static int admin_set_pcp(struct admin *a, const char *pool, uint32_t high, uint32_t batch)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminSetPcpReq s = PAGEPOOL__V1__ADMIN_SET_PCP_REQ__INIT;

	s.pool = (char *)pool;
	s.high = high;
	s.batch = batch;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_SET_PCP;
	req.set_pcp = &s;
	return admin_status_of(a, &req, NULL);
}

/*
 * verify every pool: 0 when all hold; 1 with the broken pools' messages in
 * msg when one does not; -errno (or the daemon's errno) when the call fails.
 */
static int admin_verify(struct admin *a, char *msg, size_t n)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminVerifyReq v = PAGEPOOL__V1__ADMIN_VERIFY_REQ__INIT;
	admin_response *resp = NULL;
	int err;

	msg[0] = '\0';
	v.pool = (char *)"";
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_VERIFY;
	req.verify = &v;
	err = admin_status_of(a, &req, &resp);
	if (err != 0) {
		if (err > 0)
			resp_free(resp);
		return err;
	}
	if (resp->body_case != PAGEPOOL__V1__ADMIN_RESPONSE__BODY_VERIFIED ||
	    resp->verified->n_pools != NPOOLS) {
		snprintf(msg, n, "verify answered without a result for each of the %zu pools",
			 NPOOLS);
		err = 1;
	} else {
		for (size_t i = 0; i < resp->verified->n_pools; i++) {
			const Pagepool__V1__PoolVerify *pv = resp->verified->pools[i];

			if (pv->ok)
				continue;
			snprintf(msg + strlen(msg), n - strlen(msg), "pool %s: %s; ", pv->name,
				 pv->message);
			err = 1;
		}
	}
	resp_free(resp);
	return err;
}

/* ---- clients ------------------------------------------------------------------------ */

struct stamp {
	uint32_t cid;
	uint32_t pfn;
	uint64_t seq;
};
_Static_assert(sizeof(struct stamp) == STAMP_BYTES, "stamp size");

struct blk {
	uint32_t pfn;
	uint32_t order;
	uint64_t seq;
};

struct client {
	struct run *r;
	struct shared *sh;
	unsigned slot;
	uint32_t cid;
	unsigned pool;
	struct pp_client *pc;
	uint64_t rng;
	uint32_t page_size;
	uint64_t npages;
	uint32_t max_count;
	uint64_t budget;	/* most pages held at once */
	uint64_t held;		/* pages held now */
	struct blk *blk;
	unsigned nblk, maxblk;
	uint64_t *map;		/* one bit per arena page: held by this client */
	uint64_t seq;
	uint64_t nops;
	uint32_t probe_pfn;	/* freed by this client earlier (NO_PFN: none yet) */
	uint32_t pfns[65536 + 1];
};

/* Leave after a failure that makes going on pointless. */
static void __attribute__((noreturn)) client_die(struct client *c)
{
	_exit(EXIT_FAILED);
}

static bool map_test(const struct client *c, uint32_t pfn)
{
	return c->map[pfn / 64] >> (pfn % 64) & 1;
}

static void map_set(struct client *c, uint32_t pfn, unsigned order, bool on)
{
	for (uint32_t p = pfn; p < pfn + (1u << order); p++) {
		if (on)
			c->map[p / 64] |= 1ull << (p % 64);
		else
			c->map[p / 64] &= ~(1ull << (p % 64));
	}
}

/* 70% order 0..1, a long tail up to 10. */
static unsigned pick_order(uint64_t *rng)
{
	static const unsigned cumul[MAX_ORDER + 1] = { 45, 60, 70, 78, 84, 89, 92, 94, 96, 98, 100 };
	unsigned x = rng_below(rng, 100), o = 0;

	while (o < MAX_ORDER && x >= cumul[o])
		o++;
	return o;
}

static void stamp_write(const struct client *c, const struct blk *b)
{
	for (uint32_t i = 0; i < (1u << b->order); i++) {
		uint8_t *p = pp_page(c->pc, b->pfn + i);
		struct stamp st = { .cid = c->cid, .pfn = b->pfn + i, .seq = b->seq };

		if (b->order <= 1) {
			for (uint32_t off = 0; off < c->page_size; off += STAMP_BYTES)
				memcpy(p + off, &st, STAMP_BYTES);
		} else {
			memcpy(p, &st, STAMP_BYTES);
			memcpy(p + c->page_size - STAMP_BYTES, &st, STAMP_BYTES);
		}
	}
}

/* Compare one stamp slot; on a mismatch record it (the first per block). */
static bool stamp_ok(struct client *c, const struct blk *b, uint32_t pfn, uint32_t off,
		     bool *reported)
{
	const uint8_t *p = (const uint8_t *)pp_page(c->pc, pfn) + off;
	struct stamp want = { .cid = c->cid, .pfn = pfn, .seq = b->seq }, got;

	if (memcmp(p, &want, STAMP_BYTES) == 0)
		return true;
	if (!*reported) {
		memcpy(&got, p, STAMP_BYTES);
		shared_fail(c->sh, "bad stamp: client %u (pid %d, pool %s) holds block %u order %u "
			    "(seq %" PRIu64 "); page %u offset %u reads client %u pfn %u seq %" PRIu64,
			    c->cid, (int)getpid(), pool_defs[c->pool].name, b->pfn, b->order, b->seq,
			    pfn, off, got.cid, got.pfn, got.seq);
		*reported = true;
	}
	return false;
}

/* Check every stamp of block b; counts bad pages. */
static void stamp_check(struct client *c, const struct blk *b)
{
	bool reported = false;
	uint64_t bad = 0;

	for (uint32_t i = 0; i < (1u << b->order); i++) {
		uint32_t pfn = b->pfn + i;
		bool ok = true;

		if (b->order <= 1) {
			for (uint32_t off = 0; off < c->page_size; off += STAMP_BYTES)
				ok = stamp_ok(c, b, pfn, off, &reported) && ok;
		} else {
			ok = stamp_ok(c, b, pfn, 0, &reported);
			ok = stamp_ok(c, b, pfn, c->page_size - STAMP_BYTES, &reported) && ok;
		}
		bad += !ok;
	}
	ctr_add(c->sh, CTR_stamp_checks, 1);
	if (bad)
		ctr_add(c->sh, CTR_bad_stamps, bad);
}

static bool bytes_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* A ZERO block: whole pages for small blocks and the first page, the stamp
 * slots of the others. */
static void zero_check(struct client *c, uint32_t pfn, unsigned order)
{
	for (uint32_t i = 0; i < (1u << order); i++) {
		const uint8_t *p = pp_page(c->pc, pfn + i);
		bool ok = order <= 1 || i == 0
			  ? bytes_zero(p, c->page_size)
			  : bytes_zero(p, STAMP_BYTES) &&
			    bytes_zero(p + c->page_size - STAMP_BYTES, STAMP_BYTES);

		if (!ok) {
			ctr_add(c->sh, CTR_bad_zero, 1);
			shared_fail(c->sh, "client %u: block %u order %u allocated with ZERO, page %u "
				    "is not zero", c->cid, pfn, order, pfn + i);
			return;
		}
	}
	ctr_add(c->sh, CTR_zero_allocs, 1);
}

/* Is [pfn, pfn + 2^order) inside the range the fault process has offline? */
static bool in_offline_range(const struct client *c, uint32_t pfn, unsigned order)
{
	uint64_t v = __atomic_load_n(&c->sh->offrange[c->pool], __ATOMIC_ACQUIRE);
	uint64_t start = ((v >> 8) & 0xffffff) * BLOCK_PAGES, count = (v >> 32) * BLOCK_PAGES;

	if ((v & 0xff) != OFF_OFFLINE)
		return false;
	return pfn < start + count && pfn + (1u << order) > start;
}

/* Take a new block: validate it, check ZERO, stamp it, remember it. */
static void client_take(struct client *c, uint32_t pfn, unsigned order, unsigned flags)
{
	struct blk *b;

	if (pfn % (1u << order) || (uint64_t)pfn + (1u << order) > c->npages) {
		ctr_add(c->sh, CTR_bad_blocks, 1);
		shared_fail(c->sh, "client %u: got block %u of order %u: misaligned or outside the "
			    "arena of %" PRIu64 " pages", c->cid, pfn, order, c->npages);
		client_die(c);
	}
	for (uint32_t p = pfn; p < pfn + (1u << order); p++) {
		if (map_test(c, p)) {
			ctr_add(c->sh, CTR_bad_blocks, 1);
			shared_fail(c->sh, "client %u: got block %u order %u, but page %u is in a "
				    "block it already holds", c->cid, pfn, order, p);
			client_die(c);
		}
	}
	if (in_offline_range(c, pfn, order)) {
		ctr_add(c->sh, CTR_offline_handouts, 1);
		shared_fail(c->sh, "client %u: got block %u order %u inside the offline range of "
			    "pool %s", c->cid, pfn, order, pool_defs[c->pool].name);
	}
	if (flags & PP_ZERO)
		zero_check(c, pfn, order);
	if (c->nblk == c->maxblk) {
		shared_fail(c->sh, "client %u: more than %u blocks held", c->cid, c->maxblk);
		client_die(c);
	}
	b = &c->blk[c->nblk++];
	b->pfn = pfn;
	b->order = order;
	b->seq = ++c->seq;
	map_set(c, pfn, order, true);
	stamp_write(c, b);
	c->held += 1u << order;
}

/* A call failed.  A lost connection is told apart (the supervisor decides
 * whether it is a failure: not when the daemon died, which is one already). */
static void __attribute__((noreturn)) client_call_failed(struct client *c, const char *what, int rc)
{
	char msg[FAIL_LEN];

	snprintf(msg, sizeof(msg), "client %u (pid %d, pool %s): %s = %d (%s): %s", c->cid,
		 (int)getpid(), pool_defs[c->pool].name, what, rc, pp_strerror(rc),
		 pp_last_error(c->pc));
	if (rc == -ECONNRESET || rc == -EPIPE) {
		memcpy(c->sh->slot[c->slot].lost, msg, sizeof(msg));
		_exit(EXIT_LOST);
	}
	shared_fail(c->sh, "%s", msg);
	client_die(c);
}

/* The daemon's count of this connection's pages must be ours. */
static void client_check_held(struct client *c)
{
	struct pp_stat st;
	int rc = pp_stat(c->pc, &st);

	ctr_add(c->sh, CTR_ops, 1);
	if (rc != 0)
		client_call_failed(c, "pp_stat", rc);
	ctr_add(c->sh, CTR_held_checks, 1);
	if (st.held != c->held) {
		ctr_add(c->sh, CTR_held_mismatch, 1);
		shared_fail(c->sh, "client %u: pp_stat says it holds %" PRIu64 " pages, it holds %"
			    PRIu64, c->cid, st.held, c->held);
		client_die(c);
	}
}

/*
 * Now and then the n blocks about to be freed go first with one pfn this
 * client freed earlier and does not hold now appended: the daemon must
 * refuse the whole call, naming that pfn (EALREADY if it is free, EPERM if
 * another client holds it, EINVAL if it is offline or inside someone's
 * block), and free none of the others, which the held check confirms.
 */
static void client_probe_free(struct client *c, unsigned n)
{
	unsigned bad = UINT_MAX;
	int rc;

	if (map_test(c, c->probe_pfn))
		return;		/* allocated to this client again since */
	for (unsigned i = 0; i < n; i++)
		if (c->pfns[i] == c->probe_pfn)
			return;	/* the same: it is in this batch */
	c->pfns[n] = c->probe_pfn;
	rc = pp_free(c->pc, c->pfns, n + 1, &bad);
	ctr_add(c->sh, CTR_ops, 1);
	if (rc == -ECONNRESET || rc == -EPIPE)
		client_call_failed(c, "pp_free with a pfn not held", rc);
	if ((rc != -EALREADY && rc != -EPERM && rc != -EINVAL) || bad != n) {
		shared_fail(c->sh, "client %u: pp_free of %u held blocks plus pfn %u, which it does "
			    "not hold, = %d (%s) with bad index %u; expected EALREADY, EPERM or EINVAL "
			    "at index %u: %s", c->cid, n, c->probe_pfn, rc, pp_strerror(rc), bad, n,
			    pp_last_error(c->pc));
		client_die(c);
	}
	ctr_add(c->sh, CTR_free_probes, 1);
	client_check_held(c);
}

/* Free up to k random held blocks in one call, checking their stamps. */
static void client_free(struct client *c, unsigned k)
{
	unsigned n = 0, bad = 0;
	uint64_t pages = 0;
	char what[64];
	int rc;

	if (k > c->max_count)
		k = c->max_count;
	while (n < k && c->nblk) {
		unsigned i = rng_below(&c->rng, c->nblk);
		struct blk b = c->blk[i];

		c->blk[i] = c->blk[--c->nblk];
		stamp_check(c, &b);
		map_set(c, b.pfn, b.order, false);
		c->pfns[n++] = b.pfn;
		pages += 1u << b.order;
	}
	if (n == 0)
		return;
	if (c->probe_pfn != NO_PFN && n < c->max_count && rng_pct(&c->rng, 3))
		client_probe_free(c, n);
	rc = pp_free(c->pc, c->pfns, n, &bad);
	ctr_add(c->sh, CTR_ops, 1);
	if (rc != 0) {
		snprintf(what, sizeof(what), "pp_free(%u blocks) (bad index %u, pfn %u)", n, bad,
			 bad < n ? c->pfns[bad] : 0);
		client_call_failed(c, what, rc);
	}
	c->held -= pages;
	c->probe_pfn = c->pfns[rng_below(&c->rng, n)];
	ctr_add(c->sh, CTR_pages_freed, pages);
}

static void client_alloc(struct client *c)
{
	unsigned order = pick_order(&c->rng);
	uint64_t room = c->budget - c->held;
	unsigned maxc, count, flags = 0, got = 0;
	char what[80];
	int rc;

	if ((room >> order) == 0) {
		client_free(c, 1 + rng_below(&c->rng, 16));
		return;
	}
	maxc = (unsigned)((room >> order) < 64 ? (room >> order) : 64);
	if (order >= 7 && maxc > 2)
		maxc = 2;
	if (order == 0 && rng_pct(&c->rng, 2))	/* now and then a batch of max_count */
		maxc = (unsigned)(room < c->max_count ? room : c->max_count);
	/* Small counts more often than large ones. */
	count = 1 + rng_below(&c->rng, 1 + rng_below(&c->rng, maxc));
	if (rng_pct(&c->rng, 10))
		flags |= PP_NOWAIT;
	if (rng_pct(&c->rng, 15))
		flags |= PP_ZERO;
	if (rng_pct(&c->rng, 30))
		flags |= PP_PARTIAL;
	rc = pp_alloc(c->pc, order, count, flags, c->pfns, &got);
	ctr_add(c->sh, CTR_ops, 1);
	ctr_add(c->sh, CTR_alloc_calls, 1);
	snprintf(what, sizeof(what), "pp_alloc(order %u, count %u, flags %#x)", order, count,
		 flags);
	if (rc == -ENOMEM) {
		ctr_add(c->sh, CTR_enomem, 1);
		return;
	}
	if (rc == -EAGAIN && (flags & PP_NOWAIT)) {
		ctr_add(c->sh, CTR_eagain, 1);
		return;
	}
	if (rc != 0)
		client_call_failed(c, what, rc);
	if (got == 0 || got > count || (got != count && !(flags & PP_PARTIAL))) {
		shared_fail(c->sh, "client %u: %s succeeded with %u blocks", c->cid, what, got);
		client_die(c);
	}
	if (got < count)
		ctr_add(c->sh, CTR_short_partial, 1);
	for (unsigned i = 0; i < got; i++)
		client_take(c, c->pfns[i], order, flags);
	ctr_add(c->sh, CTR_pages_alloc, (uint64_t)got << order);
}

/* Progress, for the supervisor's watchdog and its kill accounting. */
static void client_beat(struct client *c)
{
	__atomic_store_n(&c->sh->slot[c->slot].held, c->held, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->sh->slot[c->slot].beat, 1, __ATOMIC_RELAXED);
}

static void client_step(struct client *c)
{
	unsigned x = rng_below(&c->rng, 100);

	if (c->nblk && x < 40)
		client_free(c, rng_pct(&c->rng, 3) ? c->nblk : 1 + rng_below(&c->rng, 24));
	else if (c->nblk && x < 43)
		stamp_check(c, &c->blk[rng_below(&c->rng, c->nblk)]);	/* a long-held one */
	else
		client_alloc(c);
	if (++c->nops % 64 == 0)
		client_check_held(c);
	client_beat(c);
}

/* The end of a client that was not killed: free everything (checking each
 * stamp and that the daemon agrees it then holds nothing), or now and then
 * just close and let the daemon reclaim. */
static void client_finish(struct client *c)
{
	if (rng_pct(&c->rng, 30)) {
		ctr_add(c->sh, CTR_closed_pages, c->held);
	} else {
		while (c->nblk) {
			client_free(c, c->max_count);
			client_beat(c);
		}
		client_check_held(c);
	}
	pp_close(c->pc);
}

/* The pool of the clients in `slot`: "side" for slots 5, 11, ... (the last
 * slot when there are fewer than 6), else "default". */
static unsigned slot_pool(const struct run *r, unsigned slot)
{
	return slot % 6 == 5 || (r->nclients < 6 && slot == r->nclients - 1);
}

/* A client process: slot, stamp id `cid`.  Returns the exit status. */
static int client_main(struct run *r, unsigned slot, uint32_t cid)
{
	static struct client cl;
	struct client *c = &cl;
	const struct pp_info *info;
	unsigned npool = 0;
	int rc;

	c->r = r;
	c->sh = r->sh;
	c->slot = slot;
	c->cid = cid;
	c->pool = slot_pool(r, slot);
	c->rng = r->seed ^ ((uint64_t)cid * 0x2545f4914f6cdd1dull);
	c->probe_pfn = NO_PFN;
	rc = pp_connect(r->sock, pool_defs[c->pool].name, &c->pc);
	if (rc != 0) {
		shared_fail(c->sh, "client %u: pp_connect(%s, %s) = %d (%s): %s", cid, r->sock,
			    pool_defs[c->pool].name, rc, pp_strerror(rc), pp_last_error(NULL));
		return EXIT_FAILED;
	}
	info = pp_info(c->pc);
	c->page_size = info->page_size;
	c->npages = info->arena_size / info->page_size;
	c->max_count = info->max_count < 65536 ? info->max_count : 65536;
	/* Together the clients of a pool ask for about 1.5 times its pages. */
	for (unsigned s = 0; s < r->nclients; s++)
		npool += slot_pool(r, s) == c->pool;
	c->budget = c->npages * 3 / 2 / (npool ? npool : 1);
	if (c->budget < BLOCK_PAGES + 64)
		c->budget = BLOCK_PAGES + 64;
	c->maxblk = (unsigned)c->budget + 1;
	c->blk = calloc(c->maxblk, sizeof(*c->blk));
	c->map = calloc((c->npages + 63) / 64, sizeof(*c->map));
	if (!c->blk || !c->map) {
		shared_fail(c->sh, "client %u: out of memory", cid);
		return EXIT_FAILED;
	}
	while (!stop_requested(c->sh))
		client_step(c);
	client_finish(c);
	return 0;
}

/* ---- the fault process ------------------------------------------------------------- */

/* A pool's range in its offline/online cycle. */
struct fault_range {
	unsigned state;			/* OFF_NONE, OFF_ISOLATING (EBUSY so far), OFF_OFFLINE */
	uint32_t start, count;		/* pages */
	unsigned tries;			/* offline calls so far */
};

struct fault {
	struct run *r;
	struct shared *sh;
	struct admin a;
	uint64_t rng;
	const char *cfg_mode;		/* drain_mode in the config file now */
	uint64_t total[NPOOLS];		/* pages per pool */
	int64_t last_reload;
	struct fault_range range[NPOOLS];
};

static void __attribute__((noreturn)) fault_die(struct fault *f, const char *what, int err)
{
	char msg[FAIL_LEN];

	snprintf(msg, sizeof(msg), "fault: %s: %s (%s)", what,
		 err < 0 ? strerror(-err) : strerror(err), f->a.why);
	if (err == -ECONNRESET || err == -EPIPE) {
		memcpy(f->sh->slot[MAX_CLIENTS].lost, msg, sizeof(msg));
		_exit(EXIT_LOST);
	}
	shared_fail(f->sh, "%s", msg);
	_exit(EXIT_FAILED);
}

static const char *fault_pool_arg(struct fault *f)
{
	unsigned x = rng_below(&f->rng, 4);

	return x < 2 ? "" : pool_defs[x - 2].name;
}

static void fault_drain(struct fault *f)
{
	unsigned m = rng_below(&f->rng, 3);
	bool force = rng_pct(&f->rng, 25);
	bool refused_ok = m == 2 && strcmp(f->cfg_mode, "spinlock") != 0;
	uint64_t pages;
	int err = admin_drain(&f->a, fault_pool_arg(f), drain_modes[m], force, &pages);

	if (err == EINVAL && refused_ok) {
		ctr_add(f->sh, CTR_spinlock_refused, 1);
		return;
	}
	if (err)
		fault_die(f, drain_modes[m], err);
	if (refused_ok)
		shared_fail(f->sh, "fault: a spinlock drain succeeded with drain_mode = %s",
			    f->cfg_mode);
	ctr_add(f->sh, CTR_drain_rcu + m, 1);
	ctr_add(f->sh, CTR_drained_pages, pages);
}

static void fault_trim(struct fault *f)
{
	uint64_t pages;
	int err = admin_trim(&f->a, fault_pool_arg(f), &pages);

	if (err)
		fault_die(f, "trim", err);
	ctr_add(f->sh, CTR_trims, 1);
	ctr_add(f->sh, CTR_trimmed_pages, pages);
}

static void offrange_publish(struct fault *f, unsigned pool, unsigned state, uint32_t start,
			     uint32_t count)
{
	uint64_t v = state | (uint64_t)(start / BLOCK_PAGES) << 8 |
		     (uint64_t)(count / BLOCK_PAGES) << 32;

	__atomic_store_n(&f->sh->offrange[pool], v, __ATOMIC_RELEASE);
}

/* Online the pool's range (ending an offline, or abandoning an isolation
 * still busy); must succeed. */
static void fault_online(struct fault *f, unsigned pool)
{
	struct fault_range *fr = &f->range[pool];
	char what[96];
	int err;

	snprintf(what, sizeof(what), "online %s %u %u (after %s)", pool_defs[pool].name,
		 fr->start, fr->count, fr->state == OFF_OFFLINE ? "offline" : "EBUSY");
	if (fr->state == OFF_ISOLATING)
		ctr_add(f->sh, CTR_offline_aborted, 1);
	offrange_publish(f, pool, OFF_ONLINING, fr->start, fr->count);
	err = admin_range(&f->a, true, pool_defs[pool].name, fr->start, fr->count);
	if (err)
		fault_die(f, what, err);
	offrange_publish(f, pool, OFF_NONE, 0, 0);
	fr->state = OFF_NONE;
	ctr_add(f->sh, CTR_offline_cycles, 1);
}

/* (Re)try to take the pool's range offline: OK -> offline, EBUSY -> stays
 * isolated (pages in it are still held). */
static void fault_offline(struct fault *f, unsigned pool)
{
	struct fault_range *fr = &f->range[pool];
	char what[96];
	int err;

	snprintf(what, sizeof(what), "offline %s %u %u", pool_defs[pool].name, fr->start,
		 fr->count);
	fr->tries++;
	err = admin_range(&f->a, false, pool_defs[pool].name, fr->start, fr->count);
	if (err == EBUSY) {
		ctr_add(f->sh, CTR_offline_busy, 1);
		return;
	}
	if (err)
		fault_die(f, what, err);
	ctr_add(f->sh, CTR_offline_ok, 1);
	fr->state = OFF_OFFLINE;
	offrange_publish(f, pool, OFF_OFFLINE, fr->start, fr->count);
}

/*
 * One step of a pool's offline/online cycle, so that every other fault
 * (drains, trims, set-pcp, reloads, verify, kills) also lands while a range
 * is isolated or offline: start on 1..2 random max-order blocks; while
 * EBUSY retry, or give up by onlining; once offline, online again.
 */
static void fault_offline_step(struct fault *f)
{
	unsigned pool = rng_pct(&f->rng, 70) ? 0 : 1;
	struct fault_range *fr = &f->range[pool];
	uint32_t blocks = (uint32_t)(f->total[pool] / BLOCK_PAGES), n;

	switch (fr->state) {
	case OFF_NONE:
		n = 1 + rng_below(&f->rng, blocks < 2 ? blocks : 2);
		fr->start = rng_below(&f->rng, blocks - n + 1) * BLOCK_PAGES;
		fr->count = n * BLOCK_PAGES;
		fr->tries = 0;
		fr->state = OFF_ISOLATING;
		offrange_publish(f, pool, OFF_ISOLATING, fr->start, fr->count);
		fault_offline(f, pool);
		break;
	case OFF_ISOLATING:
		if (fr->tries >= 8 || rng_pct(&f->rng, 30))
			fault_online(f, pool);
		else
			fault_offline(f, pool);
		break;
	default:
		fault_online(f, pool);
		break;
	}
}

/* At the end: nothing left isolated or offline. */
static void fault_online_all(struct fault *f)
{
	for (unsigned pool = 0; pool < NPOOLS; pool++)
		if (f->range[pool].state != OFF_NONE)
			fault_online(f, pool);
}

static void fault_set_pcp(struct fault *f)
{
	static const uint32_t highs[] = { 0, 8, 32, 64, 192, 512 };
	uint32_t high = highs[rng_below(&f->rng, sizeof(highs) / sizeof(highs[0]))];
	uint32_t batch = 1 + rng_below(&f->rng, high && high < 63 ? high : 63);
	int err = admin_set_pcp(&f->a, fault_pool_arg(f), high, batch);

	if (err)
		fault_die(f, "set-pcp", err);
	ctr_add(f->sh, CTR_set_pcp, 1);
}

/* Flip drain_mode between spinlock and rcu in the file, then reload. */
static void fault_reload(struct fault *f)
{
	const char *mode = strcmp(f->cfg_mode, "spinlock") == 0 ? "rcu" : "spinlock";
	int err = conf_write(f->r, mode);

	if (err)
		fault_die(f, "rewriting the config", err);
	err = admin_empty(&f->a, PAGEPOOL__V1__ADMIN_REQUEST__BODY_RELOAD,
			  &pagepool__v1__admin_reload_req__descriptor, NULL);
	if (err)
		fault_die(f, "reload", err);
	f->cfg_mode = mode;
	f->last_reload = now_ms();
	ctr_add(f->sh, CTR_reloads, 1);
}

static void fault_verify(struct fault *f)
{
	char msg[FAIL_LEN - 64];
	int err = admin_verify(&f->a, msg, sizeof(msg));

	if (err == 1)
		shared_fail(f->sh, "verify during the run: %s", msg);
	else if (err)
		fault_die(f, "verify", err);
	ctr_add(f->sh, CTR_verifies, 1);
}

static void fault_read(struct fault *f)
{
	static const struct {
		int req_case;
		const ProtobufCMessageDescriptor *desc;
	} reads[] = {
		{ PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS, &pagepool__v1__admin_status_req__descriptor },
		{ PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATS, &pagepool__v1__admin_stats_req__descriptor },
		{ PAGEPOOL__V1__ADMIN_REQUEST__BODY_BUDDYINFO,
		  &pagepool__v1__admin_buddyinfo_req__descriptor },
		{ PAGEPOOL__V1__ADMIN_REQUEST__BODY_CLIENTS,
		  &pagepool__v1__admin_clients_req__descriptor },
	};
	unsigned i = rng_below(&f->rng, 4);
	int err = admin_empty(&f->a, reads[i].req_case, reads[i].desc, NULL);

	if (err)
		fault_die(f, "status/stats/buddyinfo/clients", err);
	ctr_add(f->sh, CTR_reads, 1);
}

static void fault_step(struct fault *f)
{
	unsigned x = rng_below(&f->rng, 100);

	if (x < 40)
		fault_drain(f);
	else if (x < 48)
		fault_trim(f);
	else if (x < 68)
		fault_offline_step(f);
	else if (x < 75)
		fault_set_pcp(f);
	else if (x < 80)
		fault_verify(f);
	else if (x < 84 && now_ms() - f->last_reload >= 1500)
		fault_reload(f);
	else
		fault_read(f);
}

static int fault_main(struct run *r)
{
	static struct fault fl;
	struct fault *f = &fl;
	admin_response *resp = NULL;
	int err;

	f->r = r;
	f->sh = r->sh;
	f->rng = r->seed ^ 0xfa017fa017fa017ull;
	f->cfg_mode = "spinlock";
	f->last_reload = now_ms();
	err = admin_open(&f->a, r->asock);
	if (err)
		fault_die(f, "admin connect", err);
	err = admin_status(&f->a, &resp);
	if (err)
		fault_die(f, "status", err);
	for (size_t i = 0; i < NPOOLS; i++) {
		for (size_t j = 0; j < resp->status_info->n_pools; j++)
			if (strcmp(resp->status_info->pools[j]->name, pool_defs[i].name) == 0)
				f->total[i] = resp->status_info->pools[j]->total;
		if (f->total[i] < BLOCK_PAGES) {
			shared_fail(f->sh, "fault: pool %s has %" PRIu64 " pages", pool_defs[i].name,
				    f->total[i]);
			return EXIT_FAILED;
		}
	}
	resp_free(resp);
	while (!stop_requested(f->sh)) {
		int64_t next = now_ms() + 3 + rng_below(&f->rng, 20);

		fault_step(f);
		__atomic_fetch_add(&f->sh->slot[MAX_CLIENTS].beat, 1, __ATOMIC_RELAXED);
		pace_until(next);
	}
	fault_online_all(f);
	admin_close(&f->a);
	return 0;
}

/* ---- the supervisor ------------------------------------------------------------------ */

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

static pid_t fork_child(struct run *r)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		child_init(r, parent);
	return pid;
}

static void spawn_client(struct run *r, unsigned slot)
{
	struct kid *k = &r->kids[slot];
	uint32_t cid = ++r->next_cid;
	pid_t pid = fork_child(r);

	if (pid == 0)
		_exit(client_main(r, slot, cid));
	if (pid < 0) {
		shared_fail(r->sh, "fork of client %u: %s", cid, strerror(errno));
		return;
	}
	k->pid = pid;
	k->cid = cid;
	k->killed = false;
	k->last_beat = __atomic_load_n(&r->sh->slot[slot].beat, __ATOMIC_RELAXED);
	k->beat_ms = now_ms();
	ctr_add(r->sh, CTR_spawns, 1);
}

/* Start pagepoold; wait for READY.  0, or -1 with the reason reported. */
static int daemon_start(struct run *r)
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

static void lost_verdict(struct run *r)
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
			child_lost(r, MAX_CLIENTS);
		else if (!r->stopping || code != 0)
			shared_fail(r->sh, "fault process (pid %d) ended: %s", (int)pid, how);
		return;
	}
	for (unsigned s = 0; s < r->nclients; s++) {
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
static void wait_signals(struct run *r, int64_t deadline)
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

static void kill_one(struct run *r)
{
	unsigned live[MAX_CLIENTS], n = 0, s;

	for (s = 0; s < r->nclients; s++)
		if (r->kids[s].pid > 0 && !r->kids[s].killed)
			live[n++] = s;
	if (n == 0)
		return;
	s = live[rng_below(&r->rng, n)];
	if (kill(r->kids[s].pid, SIGKILL) == 0) {
		r->kids[s].killed = true;
		ctr_add(r->sh, CTR_kills, 1);
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

	for (unsigned s = 0; s < r->nclients; s++) {
		snprintf(who, sizeof(who), "client %u (slot %u)", r->kids[s].cid, s);
		watch_one(r, &r->kids[s], s, who);
	}
	r->fault_watch.pid = r->fault_pid;
	watch_one(r, &r->fault_watch, MAX_CLIENTS, "the fault process");
}

/* The run proper: until the time is up, a failure, or an interrupt. */
static void supervise(struct run *r)
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
	for (unsigned s = 0; s < r->nclients; s++)
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
		       __atomic_load_n(&r->sh->slot[MAX_CLIENTS].beat, __ATOMIC_RELAXED));
	for (unsigned s = 0; s < r->nclients; s++)
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
static void stop_kids(struct run *r)
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
	for (unsigned s = 0; s < r->nclients; s++) {
		if (r->kids[s].pid <= 0)
			continue;
		shared_fail(r->sh, "client %u did not stop within %d ms (killed)", r->kids[s].cid,
			    KIDS_STOP_MS);
		r->kids[s].killed = true;
		kill(r->kids[s].pid, SIGKILL);
	}
	deadline = now_ms() + 5000;
	while (kids_running(r) && now_ms() < deadline)
		wait_signals(r, deadline);
}

struct final {
	bool checked;		/* the admin checks ran */
	uint64_t lost;		/* pages neither free nor accounted for */
	uint64_t total;
};

static const Pagepool__V1__PoolCounts *find_pool(const admin_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->status_info->n_pools; i++)
		if (strcmp(resp->status_info->pools[i]->name, name) == 0)
			return resp->status_info->pools[i];
	return NULL;
}

/* Poll status (paced) until every pool has allocated == 0 and no client is
 * connected, or the deadline.  0, 1 on timeout (*last kept), -errno. */
static int wait_quiet(struct admin *a, int64_t deadline, admin_response **last)
{
	for (;;) {
		admin_response *resp;
		bool quiet;
		int err = admin_status(a, &resp);

		if (err)
			return err;
		quiet = resp->status_info->clients == 0;
		for (size_t i = 0; i < resp->status_info->n_pools; i++)
			quiet = quiet && resp->status_info->pools[i]->allocated == 0;
		if (quiet || now_ms() >= deadline) {
			*last = resp;
			return quiet ? 0 : 1;
		}
		resp_free(resp);
		pace_until(now_ms() + 20);
	}
}

/* Drain (forced, rcu) and read: 0 once every pool's free == total, 1 if
 * not by the deadline (*last kept), -errno. */
static int drain_until_free(struct admin *a, int64_t deadline, admin_response **last)
{
	for (;;) {
		admin_response *resp;
		uint64_t pages;
		bool all = true;
		int err = admin_drain(a, "", "rcu", true, &pages);

		if (!err)
			err = admin_status(a, &resp);
		if (err)
			return err;
		for (size_t i = 0; i < resp->status_info->n_pools; i++)
			all = all && resp->status_info->pools[i]->free ==
				     resp->status_info->pools[i]->total;
		if (all || now_ms() >= deadline) {
			*last = resp;
			return all ? 0 : 1;
		}
		resp_free(resp);
		pace_until(now_ms() + 50);
	}
}

static void report_pools(struct run *r, const admin_response *resp, const char *when, bool fail)
{
	for (size_t i = 0; i < resp->status_info->n_pools; i++) {
		const Pagepool__V1__PoolCounts *p = resp->status_info->pools[i];

		if (fail)
			shared_fail(r->sh, "%s: pool %s: total %" PRIu64 ", free %" PRIu64 ", pcp %"
				    PRIu64 ", allocated %" PRIu64 ", isolated %" PRIu64 ", offline %"
				    PRIu64, when, p->name, p->total, p->free, p->pcp, p->allocated,
				    p->isolated, p->offline);
	}
}

/* A range the fault process left isolated or offline (it was killed in the
 * middle of a cycle, after a failure): online it so the counts can settle. */
static void online_leftovers(struct run *r, struct admin *a)
{
	for (unsigned i = 0; i < NPOOLS; i++) {
		uint64_t v = __atomic_load_n(&r->sh->offrange[i], __ATOMIC_ACQUIRE);
		uint32_t start = (uint32_t)((v >> 8) & 0xffffff) * BLOCK_PAGES;
		uint32_t count = (uint32_t)(v >> 32) * BLOCK_PAGES;
		int err;

		if ((v & 0xff) == OFF_NONE)
			continue;
		err = admin_range(a, true, pool_defs[i].name, start, count);
		printf("stress: the fault process left pages %u..%u of pool %s in state %u; "
		       "online: %s\n", start, start + count - 1, pool_defs[i].name,
		       (unsigned)(v & 0xff), err ? strerror(err < 0 ? -err : err) : "ok");
	}
}

/*
 * With every client gone: allocated 0, isolated 0 and offline 0 in every
 * pool, free == total after a forced drain, and verify holds.
 */
static void final_checks(struct run *r, struct final *fin)
{
	struct admin a;
	admin_response *resp = NULL;
	char msg[FAIL_LEN - 64];
	int err;

	if (r->dpid <= 0 || !r->ready)
		return;
	err = admin_open(&a, r->asock);
	if (err) {
		shared_fail(r->sh, "final checks: admin connect: %s", a.why);
		return;
	}
	online_leftovers(r, &a);
	err = wait_quiet(&a, now_ms() + QUIESCE_MS, &resp);
	if (err < 0)
		goto io_fail;
	if (err == 1)
		report_pools(r, resp, "pages still allocated (or clients connected) "
			     "after every client ended", true);
	for (size_t i = 0; i < NPOOLS; i++) {
		const Pagepool__V1__PoolCounts *p = find_pool(resp, pool_defs[i].name);

		if (!p) {
			shared_fail(r->sh, "final checks: pool %s missing from status",
				    pool_defs[i].name);
		} else if (p->isolated || p->offline) {
			shared_fail(r->sh, "final checks: pool %s has %" PRIu64 " isolated and %"
				    PRIu64 " offline pages after every range was onlined",
				    p->name, p->isolated, p->offline);
		}
	}
	resp_free(resp);
	resp = NULL;
	err = drain_until_free(&a, now_ms() + 10000, &resp);
	if (err < 0)
		goto io_fail;
	fin->checked = true;
	for (size_t i = 0; i < resp->status_info->n_pools; i++) {
		const Pagepool__V1__PoolCounts *p = resp->status_info->pools[i];

		fin->total += p->total;
		fin->lost += p->total - (p->free < p->total ? p->free : p->total);
	}
	if (err == 1)
		report_pools(r, resp, "lost pages: free != total after a forced drain", true);
	resp_free(resp);
	err = admin_verify(&a, msg, sizeof(msg));
	if (err == 1)
		shared_fail(r->sh, "final verify: %s", msg);
	else if (err)
		goto io_fail;
	admin_close(&a);
	return;
io_fail:
	shared_fail(r->sh, "final checks: admin call failed: %s (%s)",
		    err < 0 ? strerror(-err) : strerror(err), a.why);
	admin_close(&a);
}

/* SIGTERM, then wait (bounded) for the daemon; it must exit 0. */
static void daemon_stop(struct run *r)
{
	int64_t deadline = now_ms() + STOP_TIMEOUT_MS;
	char how[64];

	if (r->dpid <= 0)
		return;
	r->stopping_daemon = true;
	kill(r->dpid, SIGTERM);
	while (r->dpid > 0 && now_ms() < deadline)
		wait_signals(r, deadline);
	if (r->dpid > 0) {
		shared_fail(r->sh, "pagepoold did not exit within %d ms of SIGTERM (killed)",
			    STOP_TIMEOUT_MS);
		kill(r->dpid, SIGKILL);
		deadline = now_ms() + 5000;
		while (r->dpid > 0 && now_ms() < deadline)
			wait_signals(r, deadline);
		return;
	}
	if (r->dcode != 0)
		shared_fail(r->sh, "pagepoold %s after SIGTERM (expected exit status 0)",
			    wait_text(r->dcode, how, sizeof(how)));
}

/* "1234567" -> "1.23M" for the summary line. */
static const char *human(uint64_t v, char *buf, size_t n)
{
	if (v >= 10000000)
		snprintf(buf, n, "%.1fM", (double)v / 1e6);
	else if (v >= 100000)
		snprintf(buf, n, "%.0fk", (double)v / 1e3);
	else
		snprintf(buf, n, "%" PRIu64, v);
	return buf;
}

static void report(struct run *r, const struct final *fin, double secs)
{
	struct shared *sh = r->sh;
	uint64_t bad = ctr_get(sh, CTR_bad_stamps);
	uint32_t nfail = __atomic_load_n(&sh->nfail, __ATOMIC_ACQUIRE);
	bool ok = nfail == 0;
	char b1[24], b2[24], b3[24], lost[32];

	printf("stress: counters\n");
	for (unsigned i = 0; i < NCTR; i++)
		printf("  %-18s %12" PRIu64 "  %s\n", ctr_names[i], ctr_get(sh, i), ctr_texts[i]);
	if (!ok) {
		printf("stress: %u failure%s:\n", nfail, nfail == 1 ? "" : "s");
		for (uint32_t i = 0; i < nfail && i < FAIL_MAX; i++)
			printf("  - %s\n", sh->fail[i]);
		if (nfail > FAIL_MAX)
			printf("  - ... and %u more\n", nfail - FAIL_MAX);
		print_log(r, 12000);
		printf("stress: reproduce with: %s --time %u --seed %#" PRIx64 " --clients %u %s\n",
		       program_invocation_name, r->seconds, r->seed, r->nclients, r->daemon);
		printf("stress: kept %s (config, sockets, pagepoold.log)\n", r->dir);
	}
	if (fin->checked)
		snprintf(lost, sizeof(lost), "%" PRIu64 " lost pages", fin->lost);
	else
		snprintf(lost, sizeof(lost), "lost pages unknown");
	printf("[==========] stress: 1 test(s) run.\n");
	if (ok)
		printf("[  PASSED  ] 1 test(s).\n");
	else
		printf("[  FAILED  ] 1 test(s), listed below:\n[  FAILED  ] stress\n");
	printf("stress: %s in %.1f s (seed %#" PRIx64 "): %u clients, %" PRIu64 " kills, "
	       "%s ops, %s pages allocated / %s freed, drains rcu %" PRIu64 " workqueue %" PRIu64
	       " spinlock %" PRIu64 ", %" PRIu64 " offline cycles (%" PRIu64 " offline, %" PRIu64
	       " busy), %" PRIu64 " trims, %" PRIu64 " reloads, %s, %" PRIu64 " bad stamps\n",
	       ok ? "PASS" : "FAIL", secs, r->seed, r->nclients, ctr_get(sh, CTR_kills),
	       human(ctr_get(sh, CTR_ops), b1, sizeof(b1)),
	       human(ctr_get(sh, CTR_pages_alloc), b2, sizeof(b2)),
	       human(ctr_get(sh, CTR_pages_freed), b3, sizeof(b3)),
	       ctr_get(sh, CTR_drain_rcu), ctr_get(sh, CTR_drain_workqueue),
	       ctr_get(sh, CTR_drain_spinlock), ctr_get(sh, CTR_offline_cycles),
	       ctr_get(sh, CTR_offline_ok), ctr_get(sh, CTR_offline_busy), ctr_get(sh, CTR_trims),
	       ctr_get(sh, CTR_reloads), lost, bad);
	fflush(stdout);
}

static void phase(const struct run *r, int64_t t0, const char *what)
{
	printf("stress: %6.2f s: %s\n", (double)(now_ms() - t0) / 1000.0, what);
	fflush(stdout);
}

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
	if (setup(r) < 0)
		return 1;
	r->rng = r->seed;
	printf("stress: seed %#" PRIx64 ", %u s, %u clients, workers %s, pools default 64M + "
	       "side 8M, daemon %s, dir %s\n", r->seed, r->seconds, r->nclients, r->workers,
	       r->daemon, r->dir);
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
		for (unsigned s = 0; s < r->nclients && !failed(r->sh); s++)
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
		nftw(r->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	else if (ok)
		printf("stress: kept %s\n", r->dir);
	return ok ? 0 : 1;
}
