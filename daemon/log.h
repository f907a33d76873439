/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - the daemon's small log API, in the OpenBSD style.
 *
 * log_warn() appends strerror(errno); log_warnx() does not.  Lines go to
 * stderr; under systemd (log_init with journal = true) each line carries an
 * sd-daemon "<N>" priority prefix that journald understands and no time
 * (journald adds its own); anywhere else each line starts with an ISO 8601
 * local time with milliseconds and offset (2026-12-07T14:45:01.123+00:00),
 * then "pagepoold: ".  The level is
 * checked before anything is formatted.  fatal()/fatalx() exit and are for
 * main() and start-up only, never for peer input.
 */
#ifndef PP_LOG_H
#define PP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"		/* enum log_level, log_level_name/parse */

void log_init(enum log_level level, bool journal);
void log_set_level(enum log_level level);

/* Is stderr the journal's stream (JOURNAL_STREAM names its device and
 * inode)?  What main() passes log_init as `journal`. */
bool log_stderr_is_journal(void);

/* ms since the epoch as 2026-12-07T14:45:01.123+00:00 (local time) into
 * buf[len]: its length, 0 if it did not fit. */
#define LOG_TIMESTAMP_MAX	32
size_t log_timestamp(char *buf, size_t len, int64_t ms);

/* Tests: the wall clock of the timestamps in ms since the epoch (NULL:
 * CLOCK_REALTIME). */
void log_set_wallclock(int64_t (*now_ms)(void));
enum log_level log_get_level(void);

#define PRINTF(a, b) __attribute__((format(printf, a, b)))
void log_warn(const char *fmt, ...) PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PRINTF(1, 2);
void log_info(const char *fmt, ...) PRINTF(1, 2);
void log_debug(const char *fmt, ...) PRINTF(1, 2);
void fatal(const char *fmt, ...) PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) PRINTF(1, 2) __attribute__((noreturn));

/*
 * Rate-limited lines, for every line a peer can cause at will (refused
 * connects, framing errors, peers that die mid-frame): the kernel's
 * ratelimit_state / printk_ratelimited() in small.  One state per cause,
 * i.e. per call site, declared static next to the call:
 *
 *	static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
 *	log_info_rl(&rl, "%s: %s; closing", c->name, what);
 *
 * Within each window of `interval` seconds, opened by the first line of the
 * cause after the previous window ended, at most `burst` lines of that
 * cause are printed and the rest are counted.  The first line of a later
 * window is preceded, at the same level, by
 *
 *	rate limit: N similar messages suppressed (at most B per I s): "<format>"
 *
 * naming the cause by its format string.  So that count is not lost when a
 * flood simply stops, log_ratelimit_flush() prints the summary of every
 * cause whose window has ended; one thread calls it from a periodic timer.
 *
 * Any thread may log through a state (workers and the admin thread share
 * the causes): the window start and its line count are one 64-bit word
 * updated by compare-and-swap, no lock.  The level is checked first, so a
 * filtered-out line costs neither the atomic nor any formatting.  Defaults
 * (LOG_RATELIMIT_DEFAULT): 10 lines per 5 s per cause.  Interval 0 turns the
 * limit off; burst is at least 1.  A window counts at most 2^24 - 1 lines.
 */
#define LOG_RATELIMIT_INTERVAL	5	/* seconds */
#define LOG_RATELIMIT_BURST	10

struct log_ratelimit {
	uint32_t interval_ms;
	uint32_t burst;
	/* Window start (CLOCK_MONOTONIC ms, low 40 bits) << 24 | lines of
	 * the cause in that window, printed (the first `burst`) and
	 * suppressed (the rest). */
	uint64_t state;
	/* Set once, at the first suppression, for log_ratelimit_flush(). */
	int listed;
	enum log_level level;
	const char *cause;
	struct log_ratelimit *next;
};

#define LOG_RATELIMIT_INIT(interval_s, burst_)				\
	{ .interval_ms = (interval_s) * 1000u, .burst = (burst_) }
#define LOG_RATELIMIT_DEFAULT LOG_RATELIMIT_INIT(LOG_RATELIMIT_INTERVAL, LOG_RATELIMIT_BURST)

/* The calls: log_warn, log_warnx and log_info through the state rl. */
#define log_warn_rl(rl, ...)	log_ratelimited((rl), LOG_LVL_WARN, true, __VA_ARGS__)
#define log_warnx_rl(rl, ...)	log_ratelimited((rl), LOG_LVL_WARN, false, __VA_ARGS__)
#define log_info_rl(rl, ...)	log_ratelimited((rl), LOG_LVL_INFO, false, __VA_ARGS__)
void log_ratelimited(struct log_ratelimit *rl, enum log_level level, bool with_errno,
		     const char *fmt, ...) PRINTF(4, 5);

/*
 * The limiter itself, at time now_ms: true if this line may be printed.
 * Counts the line in rl's current window, or opens a new window; then
 * *missed is how many lines the window that ended suppressed (0 otherwise),
 * for the caller to report before its line.  Any thread.
 */
bool log_ratelimit_check(struct log_ratelimit *rl, int64_t now_ms, uint64_t *missed);

/* Print the pending summary of every cause whose window has ended.  Any one
 * thread, periodically (the admin thread's service tick). */
void log_ratelimit_flush(void);

/* Tests: the clock of the limiter in ms (NULL: CLOCK_MONOTONIC).  Set it
 * before any thread logs. */
void log_set_clock(int64_t (*now_ms)(void));

/* Copy peer bytes into dst as printable ASCII (others as \xNN), NUL-terminated. */
void log_sanitize(char *dst, size_t dstlen, const void *src, size_t srclen);

#endif
