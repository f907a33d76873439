/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - see log.h.  One fprintf per line so lines from different threads
 * do not interleave.  The rate limiter keeps each cause's window in one
 * word so that threads logging the same cause agree on it without a lock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"

static enum log_level log_level = LOG_LVL_INFO;
static bool log_journal;

void log_init(enum log_level level, bool journal)
{
	log_level = level;
	log_journal = journal;
}

void log_set_level(enum log_level level) { __atomic_store_n(&log_level, level, __ATOMIC_RELAXED); }
enum log_level log_get_level(void) { return __atomic_load_n(&log_level, __ATOMIC_RELAXED); }

static int64_t log_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t (*log_wallclock)(void) = log_realtime_ms;

void log_set_wallclock(int64_t (*now_ms)(void))
{
	__atomic_store_n(&log_wallclock, now_ms ? now_ms : log_realtime_ms, __ATOMIC_RELAXED);
}

bool log_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	/* "DEV:INO" of the journal stream; stderr may have been redirected
	 * since, and then plain lines are right. */
	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

size_t log_timestamp(char *buf, size_t len, int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	long off;
	struct tm tm;
	size_t n;

	if (!localtime_r(&secs, &tm) || !(n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)))
		return 0;
	off = tm.tm_gmtoff / 60;
	n += (size_t)snprintf(buf + n, len - n, ".%03d%c%02ld:%02ld", (int)(ms % 1000),
			      off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	return n < len ? n : 0;
}

/*
 * The journal stamps each line itself and reads the "<N>" prefix as its
 * priority; anywhere else (a file, a terminal, a test's pipe) the line
 * carries its own wall-clock time, in the local zone with its offset so
 * that lines from hosts in different zones still compare.
 */
static void log_vemit(enum log_level lvl, int errnum, const char *fmt, va_list ap)
{
	char msg[1024], stamp[LOG_TIMESTAMP_MAX];
	if (lvl > log_get_level())
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal) {
		fprintf(stderr, "<%d>%s%s%s\n", lvl, msg, errnum ? ": " : "",
			errnum ? strerror(errnum) : "");
		return;
	}
	if (!log_timestamp(stamp, sizeof(stamp),
			   __atomic_load_n(&log_wallclock, __ATOMIC_RELAXED)()))
		strcpy(stamp, "-");
	fprintf(stderr, "%s pagepoold: %s%s%s\n", stamp, msg, errnum ? ": " : "",
		errnum ? strerror(errnum) : "");
}

#define LOG_FN(name, lvl, with_errno)					\
	void name(const char *fmt, ...)					\
	{								\
		int saved = errno;					\
		va_list ap;						\
		va_start(ap, fmt);					\
		log_vemit(lvl, with_errno ? saved : 0, fmt, ap);	\
		va_end(ap);						\
		errno = saved;						\
	}
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)

/* Format and print one line at lvl, the level already checked. */
static void log_emit(enum log_level lvl, int errnum, const char *fmt, ...) PRINTF(3, 4);
static void log_emit(enum log_level lvl, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit(lvl, errnum, fmt, ap);
	va_end(ap);
}

/* ---- rate limiting ---- */

#define RL_COUNT_BITS	24
#define RL_COUNT_MAX	((UINT64_C(1) << RL_COUNT_BITS) - 1)
#define RL_TIME_MASK	((UINT64_C(1) << (64 - RL_COUNT_BITS)) - 1)

static int64_t log_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t (*log_clock)(void) = log_monotonic_ms;
/* States that have suppressed a line: the ones log_ratelimit_flush() visits. */
static struct log_ratelimit *log_rl_list;

void log_set_clock(int64_t (*now_ms)(void))
{
	__atomic_store_n(&log_clock, now_ms ? now_ms : log_monotonic_ms, __ATOMIC_RELAXED);
}

static int64_t log_now_ms(void)
{
	return __atomic_load_n(&log_clock, __ATOMIC_RELAXED)();
}

/* Has the window that started at `start` (40-bit ms) ended at now? */
static bool rl_expired(const struct log_ratelimit *rl, uint64_t start, int64_t now_ms)
{
	return (((uint64_t)now_ms - start) & RL_TIME_MASK) >= rl->interval_ms;
}

bool log_ratelimit_check(struct log_ratelimit *rl, int64_t now_ms, uint64_t *missed)
{
	uint64_t old = __atomic_load_n(&rl->state, __ATOMIC_RELAXED), nw, count;

	*missed = 0;
	if (rl->interval_ms == 0)
		return true;
	do {
		if (rl_expired(rl, old >> RL_COUNT_BITS, now_ms))
			nw = ((uint64_t)now_ms & RL_TIME_MASK) << RL_COUNT_BITS | 1;
		else if ((old & RL_COUNT_MAX) == RL_COUNT_MAX)
			return false;		/* saturated: the summary says "at least" */
		else
			nw = old + 1;
	} while (!__atomic_compare_exchange_n(&rl->state, &old, nw, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	count = old & RL_COUNT_MAX;
	if ((nw & RL_COUNT_MAX) == 1 && count > rl->burst)
		*missed = count - rl->burst;
	return (nw & RL_COUNT_MAX) <= rl->burst;
}

static void rl_summary(const struct log_ratelimit *rl, enum log_level lvl, const char *cause,
		       uint64_t missed)
{
	log_emit(lvl, 0, "rate limit: %s%llu similar messages suppressed (at most %u per %u s): "
		 "\"%s\"", missed == RL_COUNT_MAX - rl->burst ? "at least " : "",
		 (unsigned long long)missed, rl->burst, rl->interval_ms / 1000, cause);
}

/* Put rl on the flush list, once; the first thread to get here names it. */
static void rl_list(struct log_ratelimit *rl, enum log_level lvl, const char *fmt)
{
	if (__atomic_load_n(&rl->listed, __ATOMIC_RELAXED) ||
	    __atomic_exchange_n(&rl->listed, 1, __ATOMIC_RELAXED))
		return;
	rl->level = lvl;
	rl->cause = fmt;
	rl->next = __atomic_load_n(&log_rl_list, __ATOMIC_RELAXED);
	/* Release: a flusher that sees rl sees its level, cause and next. */
	while (!__atomic_compare_exchange_n(&log_rl_list, &rl->next, rl, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
}

void log_ratelimited(struct log_ratelimit *rl, enum log_level lvl, bool with_errno,
		     const char *fmt, ...)
{
	int saved = errno;
	uint64_t missed;
	bool print;
	va_list ap;

	if (lvl > log_get_level())
		return;
	print = log_ratelimit_check(rl, log_now_ms(), &missed);
	if (missed)
		rl_summary(rl, lvl, fmt, missed);
	if (!print) {
		rl_list(rl, lvl, fmt);
		errno = saved;
		return;
	}
	va_start(ap, fmt);
	log_vemit(lvl, with_errno ? saved : 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

/*
 * A cause whose window ended with lines suppressed: take the count by
 * resetting it (the window stays ended, so the next line opens a new one
 * without a second summary) and print it.  Races with log_ratelimited() on
 * the same word: whoever swaps it reports the count, once.
 */
void log_ratelimit_flush(void)
{
	int64_t now = log_now_ms();

	for (struct log_ratelimit *rl = __atomic_load_n(&log_rl_list, __ATOMIC_ACQUIRE); rl;
	     rl = rl->next) {
		uint64_t old = __atomic_load_n(&rl->state, __ATOMIC_RELAXED), count;
		bool take;

		if (rl->level > log_get_level())
			continue;	/* kept for when the level allows it */
		do {
			count = old & RL_COUNT_MAX;
			take = count > rl->burst && rl_expired(rl, old >> RL_COUNT_BITS, now);
		} while (take && !__atomic_compare_exchange_n(&rl->state, &old, old & ~RL_COUNT_MAX,
							      true, __ATOMIC_RELAXED,
							      __ATOMIC_RELAXED));
		if (take)
			rl_summary(rl, rl->level, rl->cause, count - rl->burst);
	}
}

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_LVL_ERR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_LVL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void log_sanitize(char *dst, size_t dstlen, const void *src, size_t srclen)
{
	const unsigned char *s = src;
	size_t o = 0;
	if (dstlen == 0)
		return;
	for (size_t i = 0; i < srclen && o + 5 < dstlen; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			dst[o++] = (char)s[i];
		else
			o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", s[i]);
	}
	dst[o] = '\0';
}
