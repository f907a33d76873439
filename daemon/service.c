/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * service.c - see service.h.  A thin layer over sd-daemon(3): sd_notify,
 * sd_watchdog_enabled, sd_listen_fds and sd_is_socket*.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "service.h"

int service_listen_fds(int fds[SERVICE_MAX_FDS])
{
	int n = sd_listen_fds(1);

	if (n < 0) {
		log_warnx("LISTEN_FDS: %s", strerror(-n));
		return n;
	}
	if (n > SERVICE_MAX_FDS) {
		log_warnx("systemd passed %d sockets; at most %d (client and admin) are used",
			  n, SERVICE_MAX_FDS);
		return -E2BIG;
	}
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		int flags;

		if (sd_is_socket(fd, AF_UNIX, SOCK_STREAM, 1) <= 0) {
			log_warnx("socket activation: fd %d is not a listening AF_UNIX stream "
				  "socket (check ListenStream= in the .socket unit)", fd);
			return -ENOTSOCK;
		}
		flags = fcntl(fd, F_GETFL);
		if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			int r = -errno;

			log_warn("socket activation: fd %d", fd);
			return r;
		}
		fds[i] = fd;
	}
	return n;
}

bool service_socket_is(int fd, const char *path)
{
	return sd_is_socket_unix(fd, SOCK_STREAM, 1, path, 0) > 0;
}

static void service_notify_status(const char *prefix, const char *fmt, va_list ap)
{
	char status[256];

	vsnprintf(status, sizeof(status), fmt, ap);
	sd_notifyf(0, "%sSTATUS=%s", prefix, status);
}

void service_ready(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	service_notify_status("READY=1\n", fmt, ap);
	va_end(ap);
}

void service_status(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	service_notify_status("", fmt, ap);
	va_end(ap);
}

void service_reloading(void)
{
	struct timespec ts;

	/* MONOTONIC_USEC lets Type=notify-reload (systemd >= 253) match the
	 * READY=1 that ends the reload with this request. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the configuration",
		   (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}

void service_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: closing connections");
}

uint64_t service_watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

void service_watchdog_ping(void)
{
	sd_notify(0, "WATCHDOG=1");
}

bool service_stderr_is_journal(void)
{
	return log_stderr_is_journal();
}
