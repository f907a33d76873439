/*
 * log.h - the daemon's small log API, in the OpenBSD style.
 *
 * log_warn() appends strerror(errno); log_warnx() does not.  Lines go to
 * stderr; under systemd (log_init with journal = true) each line carries an
 * sd-daemon "<N>" priority prefix that journald understands.  The level is
 * checked before anything is formatted.  fatal()/fatalx() exit and are for
 * main() and start-up only, never for peer input.
 */
#ifndef PP_LOG_H
#define PP_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

void log_init(enum log_level level, bool journal);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "err", "warning", "info", "debug" -> level.  0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *level);
const char *log_level_name(enum log_level level);

#define PRINTF(a, b) __attribute__((format(printf, a, b)))
void log_warn(const char *fmt, ...) PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PRINTF(1, 2);
void log_info(const char *fmt, ...) PRINTF(1, 2);
void log_debug(const char *fmt, ...) PRINTF(1, 2);
void fatal(const char *fmt, ...) PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) PRINTF(1, 2) __attribute__((noreturn));

/* Copy peer bytes into dst as printable ASCII (others as \xNN), NUL-terminated. */
void log_sanitize(char *dst, size_t dstlen, const void *src, size_t srclen);

#endif
