/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * service.h - the daemon's one door to systemd (libsystemd's sd-daemon API):
 * readiness and status notifications, the watchdog, socket activation and
 * the journal check for log prefixes.
 *
 * Without systemd every call is harmless: notifications go nowhere, the
 * watchdog is off, no sockets are passed.  Callers never test for systemd
 * and nothing outside service.c includes <systemd/sd-daemon.h>.
 */
#ifndef PP_SERVICE_H
#define PP_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

#define SERVICE_MAX_FDS 8

/*
 * Take the sockets systemd passed (LISTEN_FDS/LISTEN_PID; the variables are
 * then unset).  Each must be a listening AF_UNIX stream socket; it is made
 * non-blocking and close-on-exec.  Returns how many were stored in fds[], or
 * -errno with the reason logged (a passed fd of the wrong kind, too many).
 */
int service_listen_fds(int fds[SERVICE_MAX_FDS]);

/* Is `fd` a listening AF_UNIX stream socket bound to `path`? */
bool service_socket_is(int fd, const char *path);

/* READY=1 with a STATUS= line. */
void service_ready(const char *fmt, ...) PRINTF(1, 2);
/* A STATUS= line. */
void service_status(const char *fmt, ...) PRINTF(1, 2);
/* RELOADING=1 (follow it with service_ready()). */
void service_reloading(void);
/* STOPPING=1. */
void service_stopping(void);

/* The watchdog interval systemd asked for, in microseconds; 0: none. */
uint64_t service_watchdog_usec(void);
/* WATCHDOG=1. */
void service_watchdog_ping(void);

/* Is stderr connected to the journal (JOURNAL_STREAM names it)? */
bool service_stderr_is_journal(void);

#endif
