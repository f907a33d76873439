/*
 * log.c - see log.h.  One fprintf per line so lines from different threads
 * do not interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int log_level_parse(const char *s, enum log_level *level)
{
	static const struct { const char *name; enum log_level lvl; } names[] = {
		{ "err", LOG_LVL_ERR }, { "error", LOG_LVL_ERR }, { "warning", LOG_LVL_WARN },
		{ "warn", LOG_LVL_WARN }, { "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*level = names[i].lvl;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERR: return "err";
	case LOG_LVL_WARN: return "warning";
	case LOG_LVL_INFO: return "info";
	case LOG_LVL_DEBUG: return "debug";
	}
	return "unknown";
}

static void log_vemit(enum log_level lvl, int errnum, const char *fmt, va_list ap)
{
	char msg[1024];
	if (lvl > log_get_level())
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal)
		fprintf(stderr, "<%d>%s%s%s\n", lvl, msg, errnum ? ": " : "",
			errnum ? strerror(errnum) : "");
	else
		fprintf(stderr, "pagepoold: %s%s%s\n", msg, errnum ? ": " : "",
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
