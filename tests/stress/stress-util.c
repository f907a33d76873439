/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress-util.c - what every process of the stress test uses: the clock and
 * pacing, the seeded random choices, the shared counters and failure list,
 * wait statuses, the daemon's log and config, the run directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"	/* now_ns, sleep_until_ns, first_allowed_cpus */
#include "stress.h"

/* ---- small helpers ---------------------------------------------------------- */

int64_t now_ms(void)
{
	return (int64_t)(now_ns() / 1000000);
}

int left_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Pace: sleep until the absolute monotonic time `until` (ms). */
void pace_until(int64_t until)
{
	sleep_until_ns((uint64_t)until * 1000000);
}

/* splitmix64: small, seedable, good enough to pick operations. */
uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

unsigned rng_below(uint64_t *s, unsigned n)
{
	return n ? (unsigned)(rng_next(s) % n) : 0;
}

bool rng_pct(uint64_t *s, unsigned pct)
{
	return rng_below(s, 100) < pct;
}

void ctr_add(struct shared *sh, unsigned i, uint64_t n)
{
	__atomic_fetch_add(&sh->ctr[i], n, __ATOMIC_RELAXED);
}

uint64_t ctr_get(const struct shared *sh, unsigned i)
{
	return __atomic_load_n(&sh->ctr[i], __ATOMIC_RELAXED);
}

bool stop_requested(const struct shared *sh)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE) != 0;
}

void shared_fail(struct shared *sh, const char *fmt, ...)
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

bool failed(const struct shared *sh)
{
	return __atomic_load_n(&sh->nfail, __ATOMIC_ACQUIRE) != 0;
}

const char *wait_text(int code, char *buf, size_t n)
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
int wait_code(int status)
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
void print_log(const struct run *r, size_t max)
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

void remove_dir(const char *dir)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- the daemon's configuration ------------------------------------------------ */

/* The first two CPUs this process may run on, as "a,b" (one if that is all). */
void pick_workers(struct run *r)
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
int conf_write(const struct run *r, const char *mode)
{
	char text[2048];
	size_t len;

	len = (size_t)snprintf(text, sizeof(text),
		"# written by tests/stress/stress-util.c\n"
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
