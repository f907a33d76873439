/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.c - listening socket and accept loop on the admin thread (see
 * server.h).  Accept failures from descriptor exhaustion pause accepting for
 * a moment instead of spinning; a full daemon (max_connections) closes the
 * newcomer at once.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "refuse.h"
#include "server.h"
#include "worker.h"

/* A socket file nobody answers on is stale; one that answers is a live daemon. */
static int server_unlink_stale(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sun.sun_path, path);
	/* Non-blocking: a wedged daemon with a full backlog must not hang us. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? errno : 0;
	close(fd);
	if (r != ECONNREFUSED)
		return r == 0 || r == EAGAIN ? -EADDRINUSE : -r;
	return unlink(path) < 0 ? -errno : 0;
}

int server_listen(struct server *s, struct daemon *d, const char *path, unsigned mode,
		  gid_t gid, void (*on_accept)(struct daemon *d, int fd))
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, r;

	memset(s, 0, sizeof(*s));
	s->d = d;
	s->path = path;
	s->fd = -1;
	s->on_accept = on_accept;
	r = server_unlink_stale(path);
	if (r < 0) {
		log_warnx("%s: %s", path, r == -EADDRINUSE ? "another pagepoold is listening"
				: r == -EEXIST ? "exists and is not a socket" : strerror(-r));
		return r;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sun.sun_path, path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, mode) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
	    listen(fd, 128) < 0) {
		r = -errno;
		log_warn("%s", path);
		close(fd);
		return r;
	}
	s->fd = fd;
	return 0;
}

void server_adopt(struct server *s, struct daemon *d, const char *path, int fd,
		  void (*on_accept)(struct daemon *d, int fd))
{
	memset(s, 0, sizeof(*s));
	s->d = d;
	s->path = path;
	s->fd = fd;
	s->adopted = true;
	s->on_accept = on_accept;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void server_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	event_add(s->ev_accept, NULL);
}

/* The peer's uid, for a refusal's words; -1 if unknown. */
static int server_peer_uid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? (int)cred.uid : -1;
}

/*
 * Admission is conn_new()'s slot (daemon_slot_get): one check, under the
 * lock that teardown releases it under, so a full daemon is never mistaken
 * for one out of memory.  A newcomer turned away is told why (refuse_client).
 */
void server_accept_client(struct daemon *d, int fd)
{
	struct conn *c;
	int ret = conn_new(d, fd, &c);

	if (ret == -EBUSY) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "connection refused: max_connections (%u) reached",
			     d->cfg.max_connections);
		refuse_client(fd, EBUSY, "too many connections: max_connections (%u) reached",
			      d->cfg.max_connections);
		COUNTER_ADD(d->mx.conns[MX_CONN_refused_max_connections], 1);
		return;
	}
	if (ret == -EUSERS) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;
		uint32_t limit = tunables_get(d)->max_connections_per_uid;
		int uid = server_peer_uid(fd);

		log_warnx_rl(&rl, "connection refused: uid %d has max_connections_per_uid (%u) "
			     "open", uid, limit);
		refuse_client(fd, EBUSY, "too many connections: uid %d has max_connections_per_uid "
			      "(%u) open", uid, limit);
		COUNTER_ADD(d->mx.conns[MX_CONN_refused_per_uid], 1);
		return;
	}
	if (ret < 0) {
		static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

		log_warnx_rl(&rl, "connection dropped: out of memory");
		refuse_client(fd, ENOMEM, "the daemon is out of memory");
		return;
	}
	COUNTER_ADD(d->mx.conns[MX_CONN_accepted], 1);
	workers_dispatch(d, c);
}

static void server_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct server *s = arg;

	/* Bounded: take what is queued now, then let the loop breathe. */
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				struct timeval tv = { 0, 100 * 1000 };

				/* Once per episode, not every 100 ms. */
				if (!s->backoff_since) {
					log_warn("accept on %s; pausing accepts, retrying every "
						 "100 ms", s->path);
					s->backoff_since = now_ms();
				}
				event_del(s->ev_accept);
				evtimer_add(s->ev_backoff, &tv);
			} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				static struct log_ratelimit rl = LOG_RATELIMIT_DEFAULT;

				log_warn_rl(&rl, "accept");
			}
			return;
		}
		if (s->backoff_since) {
			log_warnx("%s: accepting again after %lld ms", s->path,
				  (long long)(now_ms() - s->backoff_since));
			s->backoff_since = 0;
		}
		s->on_accept(s->d, fd);
	}
}

int server_start(struct server *s, struct event_base *base)
{
	s->ev_accept = event_new(base, s->fd, EV_READ | EV_PERSIST, server_accept_cb, s);
	s->ev_backoff = evtimer_new(base, server_backoff_cb, s);
	if (!s->ev_accept || !s->ev_backoff || event_add(s->ev_accept, NULL) < 0)
		return -ENOMEM;
	return 0;
}

void server_stop(struct server *s)
{
	if (s->ev_accept)
		event_free(s->ev_accept);
	if (s->ev_backoff)
		event_free(s->ev_backoff);
	s->ev_accept = s->ev_backoff = NULL;
	if (s->fd >= 0) {
		close(s->fd);
		if (!s->adopted)
			unlink(s->path);
		s->fd = -1;
	}
}
