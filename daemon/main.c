/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - pagepoold: start-up, the admin thread's event loop, and clean
 * shutdown.  Start-up may fatal(); after READY nothing here exits except on
 * SIGTERM/SIGINT, which stop accepting, close every connection (every page
 * goes back to its pool) and exit 0.
 *
 * Under systemd (service.h): sockets may be passed (socket activation),
 * READY=1 follows the sockets and the workers, a tick on the admin thread
 * refreshes STATUS= and pings the watchdog only while every worker makes
 * progress or idles, and STOPPING=1 announces a shutdown.
 */
#include <errno.h>
#include <malloc.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "audit.h"
#include "config.h"
#include "daemon.h"
#include "decay.h"
#include "log.h"
#include "reclaim.h"
#include "reload.h"
#include "server.h"
#include "service.h"
#include "worker.h"


static void usage(FILE *f)
{
	fprintf(f,
		"usage: pagepoold [-fd] [-c FILE] [--ready-fd N] [--check-config]\n"
		"       pagepoold -V | -h\n"
		"  -c, --config FILE   configuration (default /etc/pagepool/pagepoold.conf)\n"
		"  -f, --foreground    stay in the foreground (the daemon never forks; accepted\n"
		"                      for compatibility)\n"
		"  -d, --debug         log at debug level\n"
		"      --ready-fd N    write \"READY\\n\" to fd N once serving, then close it\n"
		"      --check-config  validate the configuration and exit (0 if valid)\n"
		"  -V, --version       print the version and exit\n"
		"  -h, --help          print this text and exit\n");
}

struct opts {
	const char *config;
	int ready_fd;
	bool debug;
	bool check;
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	o->config = "/etc/pagepool/pagepoold.conf";
	o->ready_fd = -1;
	while ((ch = getopt_long(argc, argv, "c:fdVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'f': break;
		case 'd': o->debug = true; break;
		case 'k': o->check = true; break;
		case 'r': {
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			/* An fd that is not open now would be reused by the first
			 * memfd or socket, and then written to and closed. */
			if (!*optarg || *end || errno || v < 0 || v > INT_MAX ||
			    fcntl((int)v, F_SETFD, FD_CLOEXEC) < 0) {
				fprintf(stderr, "pagepoold: --ready-fd %s: not an open file descriptor\n",
					optarg);
				exit(2);
			}
			o->ready_fd = (int)v;
			break;
		}
		case 'V': printf("pagepoold %s\n", PAGEPOOLD_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (sig == SIGHUP) {
		static struct reload_result r;

		audit_signal_reload(reload_config(d, &r), &r);
		return;
	}
	log_info("%s: shutting down", strsignal((int)sig));
	service_stopping();
	event_base_loopbreak(d->base);
}

/* Test hook (PAGEPOOLD_TEST_HOOKS=1): SIGUSR1 holds worker 0 stuck online,
 * SIGUSR2 lets it go. */
static void test_hook_cb(evutil_socket_t sig, short what, void *arg)
{
	workers_test_stall(arg, sig == SIGUSR1);
}

struct service_tick {
	struct daemon *d;
	struct event *ev;
	bool watchdog;
	unsigned last_clients;
};

/* Admin thread: the watchdog ping and the STATUS= line.  A stuck admin
 * thread (a grace period held up by a worker stuck online) skips the ping
 * as surely as workers_progressing() does. */
static void service_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service_tick *t = arg;
	unsigned clients = __atomic_load_n(&t->d->nconns, __ATOMIC_RELAXED);

	/* A flood that stopped still gets its "N suppressed" line. */
	log_ratelimit_flush();
	if (t->watchdog && workers_progressing(t->d))
		service_watchdog_ping();
	if (clients != t->last_clients) {
		service_status("serving %u client%s on %u workers, %u pools", clients,
			       clients == 1 ? "" : "s", t->d->nworkers, t->d->cfg.npools);
		t->last_clients = clients;
	}
}

static void service_tick_start(struct service_tick *t, struct daemon *d)
{
	uint64_t wd = service_watchdog_usec();
	/* Twice per watchdog interval, as sd_watchdog_enabled(3) advises. */
	uint64_t us = wd ? wd / 2 : 5000000;
	struct timeval tv = { (time_t)(us / 1000000), (suseconds_t)(us % 1000000) };

	t->d = d;
	t->watchdog = wd != 0;
	t->ev = event_new(d->base, -1, EV_PERSIST, service_tick_cb, t);
	if (!t->ev || event_add(t->ev, &tv) < 0)
		fatalx("cannot start the service timer");
	if (wd)
		log_info("watchdog: %llu ms, pinging every %llu ms while every worker progresses",
			 (unsigned long long)wd / 1000, (unsigned long long)us / 1000);
}

/*
 * Bind the client and admin sockets, or adopt the ones systemd passed: each
 * passed socket must be bound to the configured `socket` or `admin_socket`
 * path; a configured socket that was not passed is bound here.
 */
static void sockets_open(struct daemon *d, struct server *srv, struct server *asrv)
{
	int fds[SERVICE_MAX_FDS];
	int n = service_listen_fds(fds);
	bool have = false, have_admin = false;

	if (n < 0)
		fatalx("socket activation failed");
	for (int i = 0; i < n; i++) {
		if (!have && service_socket_is(fds[i], d->cfg.socket)) {
			server_adopt(srv, d, d->cfg.socket, fds[i], server_accept_client);
			log_info("socket activation: fd %d is %s", fds[i], d->cfg.socket);
			have = true;
		} else if (!have_admin && d->cfg.admin_socket[0] &&
			   service_socket_is(fds[i], d->cfg.admin_socket)) {
			server_adopt(asrv, d, d->cfg.admin_socket, fds[i], admin_accept);
			log_info("socket activation: fd %d is %s", fds[i], d->cfg.admin_socket);
			have_admin = true;
		} else {
			fatalx("socket activation: fd %d is not bound to socket (%s)%s%s%s: the "
			       ".socket unit's ListenStream= and %s disagree", fds[i],
			       d->cfg.socket, d->cfg.admin_socket[0] ? " or admin_socket (" : "",
			       d->cfg.admin_socket, d->cfg.admin_socket[0] ? ")" : "",
			       d->config_path);
		}
	}
	if (!have && server_listen(srv, d, d->cfg.socket, d->cfg.socket_mode, d->cfg.socket_gid,
				   server_accept_client) < 0)
		fatalx("cannot listen on %s", d->cfg.socket);
	if (d->cfg.admin_socket[0] && !have_admin &&
	    server_listen(asrv, d, d->cfg.admin_socket, d->cfg.admin_mode, d->cfg.admin_gid,
			  admin_accept) < 0)
		fatalx("cannot listen on %s", d->cfg.admin_socket);
}

static void notify_ready(int fd)
{
	if (fd < 0)
		return;
	if (write(fd, "READY\n", 6) != 6)
		log_warn("--ready-fd %d", fd);
	close(fd);
}

/* A configuration pagepoold refuses to start with (or that --check-config,
 * ExecStartPre, refuses): each line of err on stderr, ended by a newline,
 * and at error priority when stderr is the journal ("<3>": without it
 * journald files the lines at the stream's default, info). */
static void print_config_error(const char *err)
{
	const char *prefix = service_stderr_is_journal() ? "<3>" : "";

	while (*err) {
		size_t len = strcspn(err, "\n");

		fprintf(stderr, "%s%.*s\n", prefix, (int)len, err);
		err += len + (err[len] == '\n');
	}
}

int main(int argc, char **argv)
{
	static struct daemon d;
	struct opts o = { 0 };
	struct event_base *base;
	struct event *sigs[5] = { NULL };
	static const int signums[5] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };
	const char *hooks = getenv("PAGEPOOLD_TEST_HOOKS");
	int nsigs = hooks && strcmp(hooks, "1") == 0 ? 5 : 3;
	struct server srv, asrv = { .fd = -1 };
	static struct service_tick tick;
	char err[8192];

	/* One malloc arena for every thread.  malloc_trim (daemon_trim) gives
	 * back the free top of the main arena only; a worker's own arena kept
	 * what a burst of connections left at its top (RssAnon 2.4x idle after
	 * 1,000 pipelining connections closed, 1.1x with one arena).  Requests
	 * allocate little, mostly from the per-thread tcache, which takes no
	 * arena lock. */
	mallopt(M_ARENA_MAX, 1);
	parse_args(argc, argv, &o);
	log_init(LOG_LVL_INFO, service_stderr_is_journal());
	d.config_path = o.config;
	if (config_load(o.config, &d.cfg, err, sizeof(err)) < 0) {
		print_config_error(err);
		return 1;
	}
	if (o.check) {
		printf("%s: ok\n", o.config);
		return 0;
	}
	log_set_level(o.debug ? LOG_LVL_DEBUG : d.cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	d.started = daemon_now();
	pthread_mutex_init(&d.quota_lock, NULL);
	d.quotas = calloc(d.cfg.max_connections, sizeof(*d.quotas));
	d.slots = calloc(d.cfg.max_connections, sizeof(*d.slots));
	if (!d.quotas || !d.slots)
		fatalx("out of memory");
	if (daemon_pools_create(&d) < 0)
		fatalx("cannot create the pools");
	sockets_open(&d, &srv, &asrv);
	if (workers_start(&d) < 0)
		fatalx("cannot start workers");
	base = d.base = event_base_new();
	if (!base || server_start(&srv, base) < 0 || admin_start(&d, base) < 0 ||
	    decay_start(&d, base) < 0 || reclaim_start(&d, base) < 0 ||
	    (asrv.fd >= 0 && server_start(&asrv, base) < 0))
		fatalx("cannot set up the event loop");
	for (int i = 0; i < nsigs; i++) {
		sigs[i] = evsignal_new(base, signums[i], i < 3 ? signal_cb : test_hook_cb, &d);
		if (!sigs[i] || event_add(sigs[i], NULL) < 0)
			fatalx("cannot handle signals");
	}
	service_tick_start(&tick, &d);
	log_info("pagepoold %s: listening on %s%s%s, %u workers, %u pools, drain mode %s",
		 PAGEPOOLD_VERSION, d.cfg.socket, asrv.fd >= 0 ? ", admin " : "",
		 asrv.fd >= 0 ? d.cfg.admin_socket : "", d.nworkers, d.cfg.npools,
		 drain_mode_name(d.cfg.drain_mode));
	notify_ready(o.ready_fd);
	service_ready("serving on %s: %u workers, %u pools", d.cfg.socket, d.nworkers,
		      d.cfg.npools);

	event_base_dispatch(base);

	server_stop(&srv);
	server_stop(&asrv);
	admin_stop(&d);
	decay_stop();
	workers_stop(&d);
	reclaim_stop();
	for (int i = 0; i < nsigs; i++)
		event_free(sigs[i]);
	event_free(tick.ev);
	event_base_free(base);
	daemon_pools_destroy(&d);
	free(d.quotas);
	free(d.slots);
	pthread_mutex_destroy(&d.quota_lock);
	log_info("stopped");
	return 0;
}
