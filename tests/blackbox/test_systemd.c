/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_systemd.c - black-box tests of pagepoold as a systemd service,
 * without systemd: a NOTIFY_SOCKET listener of the test's own stands in for
 * the service manager, and systemd-socket-activate for the .socket units.
 *
 *  - READY=1 (with STATUS=) arrives once the socket answers; WATCHDOG=1
 *    pings arrive at half of WATCHDOG_USEC; a worker held stuck online by the
 *    test hook (PAGEPOOLD_TEST_HOOKS=1, SIGUSR1) stops them, and they resume
 *    when it is released (SIGUSR2); SIGHUP brings RELOADING=1 then READY=1;
 *    SIGTERM brings STOPPING=1 and exit 0.
 *  - socket activation: systemd-socket-activate binds both sockets, the
 *    first connection starts the daemon, which serves on the passed fds and
 *    leaves the socket files alone at exit; a passed socket bound to another
 *    path is refused at start-up.
 *  - pagepoolctl config-check and pagepoold --check-config name FILE:LINE;
 *    an indented line is refused as such (not as a key "given twice") and
 *    inline # and ; comments are cut off (not kept in the socket path).
 *
 * Waiting is on the notify socket, inotify or pidfds, each with a deadline;
 * the one place time is measured is the silence of the watchdog while the
 * worker is held (ten ping intervals without a ping).
 */
#include <sys/inotify.h>

#include "bb.h"

#define WD_USEC		200000		/* pings every 100 ms */
#define WD_TICK_MS	(WD_USEC / 2000)

static const char conf_sd[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"workers = auto\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

/* ---- the notify socket ------------------------------------------------- */

struct notify {
	int fd;
	char path[160];
	char env[200];			/* "NOTIFY_SOCKET=path" */
};

static void notify_open(struct bb *f, struct notify *n)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	bb_mkdir(f);
	snprintf(n->path, sizeof(n->path), "%s/notify.sock", f->dir);
	snprintf(n->env, sizeof(n->env), "NOTIFY_SOCKET=%s", n->path);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(n->fd >= 0);
	strcpy(sun.sun_path, n->path);
	assert_int_equal(bind(n->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
}

/* Does a line of the datagram `msg` start with `line`? */
static bool has_line(const char *msg, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = msg; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, line, n) == 0)
			return true;
	return false;
}

/* The next datagram within timeout_ms into buf: true, or false on timeout. */
static bool notify_recv(struct notify *n, char *buf, size_t len, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pf = { .fd = n->fd, .events = POLLIN };
		int r = poll(&pf, 1, bb_left_ms(deadline));
		ssize_t got;

		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r >= 0);
		if (r == 0)
			return false;
		got = recv(n->fd, buf, len - 1, 0);
		assert_true(got >= 0);
		buf[got] = '\0';
		return true;
	}
}

/* Wait for a datagram carrying `line`; asserts it comes within timeout_ms.
 * Earlier datagrams are passed over (counted in *pings when WATCHDOG=1).
 * The datagram is left in buf. */
static void notify_expect(struct bb *f, struct notify *n, const char *line, int timeout_ms,
			  char *buf, size_t len)
{
	int64_t deadline = bb_now_ms() + timeout_ms;

	while (notify_recv(n, buf, len, bb_left_ms(deadline)))
		if (has_line(buf, line))
			return;
	bb_print_tail("pagepoold log", f->log, 4000);
	fail_msg("no %s on NOTIFY_SOCKET within %d ms", line, timeout_ms);
}

/* Start the daemon (argv prefix `prefix`, extra env) without --ready-fd:
 * readiness comes over the notify socket. */
static void start_notified(struct bb *f, const char *tmpl, const char *const *prefix,
			   const char *const *env)
{
	struct bb_opts o = { .prefix = prefix, .env = env, .no_ready_fd = true };

	bb_start_opts(f, tmpl, &o);
}

/* ---- tests ----------------------------------------------------------------- */

/* READY=1 after the socket answers, with STATUS=; STATUS= follows clients. */
static void test_notify_ready(void **state)
{
	struct bb *f = *state;
	struct notify n;
	const char *env[] = { n.env, NULL };
	char buf[1024];
	struct pp_client *c;
	uint32_t pfn;
	unsigned got;

	notify_open(f, &n);
	start_notified(f, conf_sd, NULL, env);
	notify_expect(f, &n, "READY=1", BB_READY_TIMEOUT_MS, buf, sizeof(buf));
	print_message("first READY datagram: %s\n", buf);
	assert_non_null(strstr(buf, "STATUS=serving on "));
	/* READY means serving: a client is answered at once. */
	c = bb_client(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &pfn, &got), 0);
	assert_int_equal(got, 1);
	/* No watchdog asked for: the tick refreshes STATUS= only. */
	notify_expect(f, &n, "STATUS=serving 1 client on", 10000, buf,
		      sizeof(buf));
	assert_false(has_line(buf, "WATCHDOG=1"));
	bb_stop_ok(f, SIGTERM);
	close(n.fd);
}

/* Watchdog pings while workers progress, none while one is stuck online,
 * again once it is released; RELOADING=1/READY=1 on SIGHUP; STOPPING=1. */
static void test_watchdog(void **state)
{
	struct bb *f = *state;
	struct notify n;
	char wd[32];
	const char *env[] = { n.env, wd, "PAGEPOOLD_TEST_HOOKS=1", NULL };
	char buf[1024];
	int64_t t0, last = 0, t_stall;
	unsigned before = 0, after = 0;
	struct pp_client *c;
	char *log;

	snprintf(wd, sizeof(wd), "WATCHDOG_USEC=%d", WD_USEC);
	notify_open(f, &n);
	start_notified(f, conf_sd, NULL, env);
	notify_expect(f, &n, "READY=1", BB_READY_TIMEOUT_MS, buf, sizeof(buf));
	c = bb_client(f, NULL);

	/* Pings, at about every WD_TICK_MS. */
	t0 = bb_now_ms();
	for (unsigned i = 0; i < 5; i++)
		notify_expect(f, &n, "WATCHDOG=1", 20 * WD_TICK_MS, buf, sizeof(buf));
	print_message("5 watchdog pings in %lld ms (interval %d ms)\n",
		      (long long)(bb_now_ms() - t0), WD_TICK_MS);

	/* Hold worker 0 online inside a callback. */
	assert_int_equal(kill(f->pid, SIGUSR1), 0);
	t_stall = bb_now_ms();
	/* A ping already decided may still come, and one more tick may see the
	 * worker's entry into the stall as progress; after that, silence. */
	while (notify_recv(&n, buf, sizeof(buf), 10 * WD_TICK_MS)) {
		if (has_line(buf, "WATCHDOG=1")) {
			before++;
			last = bb_now_ms();
		}
		if (bb_now_ms() - t_stall > 60 * WD_TICK_MS)
			fail_msg("watchdog pings kept coming %d ms after a worker was stuck",
				 60 * WD_TICK_MS);
	}
	print_message("worker stuck: %u ping(s) in the first %lld ms, then none for %d ms\n",
		      before, (long long)(last ? last - t_stall : 0), 10 * WD_TICK_MS);
	assert_true(before <= 2);
	log = bb_slurp(f->log);
	assert_non_null(strstr(log, "not pinging the watchdog"));
	free(log);

	/* Released: pings resume. */
	assert_int_equal(kill(f->pid, SIGUSR2), 0);
	notify_expect(f, &n, "WATCHDOG=1", 20 * WD_TICK_MS, buf, sizeof(buf));
	after++;
	print_message("worker released: pings resumed\n");
	/* One warning for the whole stuck episode, one when it ends. */
	log = bb_slurp(f->log);
	assert_non_null(strstr(log, "makes progress again"));
	assert_null(strstr(strstr(log, "not pinging the watchdog") + 1, "not pinging the watchdog"));
	free(log);
	{
		struct pp_stat st = bb_stat(c);

		bb_assert_total(&st);
	}

	/* A reload is bracketed by RELOADING=1 and READY=1. */
	assert_int_equal(kill(f->pid, SIGHUP), 0);
	notify_expect(f, &n, "RELOADING=1", 5000, buf, sizeof(buf));
	assert_non_null(strstr(buf, "MONOTONIC_USEC="));
	notify_expect(f, &n, "READY=1", 5000, buf, sizeof(buf));
	print_message("SIGHUP: RELOADING=1, then %s\n", buf);

	/* SIGTERM: STOPPING=1, exit 0. */
	assert_int_equal(kill(f->pid, SIGTERM), 0);
	notify_expect(f, &n, "STOPPING=1", 5000, buf, sizeof(buf));
	bb_stop_ok(f, SIGTERM);
	close(n.fd);
	assert_int_equal(after, 1);
}

/* Wait (inotify, bounded) until dir/name exists. */
static void wait_for_file(const char *dir, const char *name, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	char path[PATH_MAX];
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	assert_true(in >= 0);
	assert_true(inotify_add_watch(in, dir, IN_CREATE | IN_MOVED_TO) >= 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	while (access(path, F_OK) != 0) {
		struct pollfd pf = { .fd = in, .events = POLLIN };
		char ev[4096];

		if (poll(&pf, 1, bb_left_ms(deadline)) == 0)
			fail_msg("%s did not appear within %d ms", path, timeout_ms);
		while (read(in, ev, sizeof(ev)) > 0)
			;
	}
	close(in);
}

/* Run a command (at most 10 s); its exit code, its output in out
 * (NUL-terminated, cut at len - 1 bytes). */
static int run_cmd(struct bb *f, const char *const *argv, char *out, size_t len)
{
	char path[200], *text;
	struct bb_prog p = { .argv = argv, .out = path, .err = path };
	int code;

	bb_mkdir(f);
	snprintf(path, sizeof(path), "%s/cmd.out", f->dir);
	code = bb_prog_run(&p, 10000);
	assert_int_not_equal(code, -ETIMEDOUT);
	text = bb_slurp(path);
	snprintf(out, len, "%s", text);
	free(text);
	return code;
}

/* systemd-socket-activate binds both sockets and starts the daemon at the
 * first connection; the daemon serves on them and leaves them at exit. */
static void test_socket_activation(void **state)
{
	struct bb *f = *state;
	struct notify n;
	const char *env[] = { n.env, NULL };
	char admin[200], out[8192], buf[1024];
	const char *prefix[] = { "systemd-socket-activate", "-l", f->sock, "-l", admin,
				 "-E", "NOTIFY_SOCKET", NULL };
	struct bb_conn *raw;
	bb_response *w;
	struct pp_client *c;
	uint32_t pfn;
	unsigned got;
	char *log;
	struct stat st;

	if (!bb_on_path("systemd-socket-activate")) {
		print_message("systemd-socket-activate is not installed: skipping\n");
		skip();
	}
	notify_open(f, &n);
	snprintf(admin, sizeof(admin), "%s/admin.sock", f->dir);
	start_notified(f, conf_sd, prefix, env);
	wait_for_file(f->dir, "admin.sock", BB_READY_TIMEOUT_MS);

	/* The first connection starts pagepoold; it is served once it is up. */
	raw = bb_raw(f);
	notify_expect(f, &n, "READY=1", BB_READY_TIMEOUT_MS, buf, sizeof(buf));
	w = bb_raw_hello(raw, 1, NULL);
	bb_resp_free(w);
	c = bb_client(f, NULL);
	bb_assert_rc(c, pp_alloc(c, 0, 1, 0, &pfn, &got), 0);
	bb_assert_rc(c, pp_free(c, &pfn, 1, NULL), 0);

	/* The admin socket was passed too. */
	{
		const char *argv[] = { bb_ctl_path(), "-s", admin, "status", NULL };
		int rc = run_cmd(f, argv, out, sizeof(out));

		if (rc != 0)
			print_error("pagepoolctl status: %d\n%s\n", rc, out);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "default"));
	}
	log = bb_slurp(f->log);
	if (!strstr(log, "socket activation: fd 3 is") || !strstr(log, "socket activation: fd 4 is"))
		bb_print_tail("pagepoold log", f->log, 4000);
	assert_non_null(strstr(log, "socket activation: fd 3 is"));
	assert_non_null(strstr(log, "socket activation: fd 4 is"));
	free(log);

	bb_stop_ok(f, SIGTERM);
	/* Passed sockets belong to the service manager: not unlinked. */
	assert_int_equal(stat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(stat(admin, &st), 0);
	close(n.fd);
}

/* A passed socket bound to neither configured path: refused at start-up. */
static void test_socket_activation_wrong_path(void **state)
{
	struct bb *f = *state;
	char other[200];
	const char *prefix[] = { "systemd-socket-activate", "-l", other, NULL };
	char *log;
	int fd, code;

	if (!bb_on_path("systemd-socket-activate")) {
		print_message("systemd-socket-activate is not installed: skipping\n");
		skip();
	}
	bb_mkdir(f);
	snprintf(other, sizeof(other), "%s/other.sock", f->dir);
	start_notified(f, conf_sd, prefix, NULL);
	wait_for_file(f->dir, "other.sock", BB_READY_TIMEOUT_MS);
	fd = bb_socket_connect(other);
	assert_true(fd >= 0);
	code = bb_reap(f->pid, BB_STOP_TIMEOUT_MS);
	f->pid = 0;
	close(fd);
	log = bb_slurp(f->log);
	print_message("exit %d: %s", code, strstr(log, "pagepoold") ? strstr(log, "pagepoold") : log);
	assert_int_equal(code, 1);
	assert_non_null(strstr(log, "is not bound to socket ("));
	assert_non_null(strstr(log, "ListenStream="));
	free(log);
}

/* pagepoolctl config-check and pagepoold --check-config: FILE:LINE. */
static void test_config_check(void **state)
{
	struct bb *f = *state;
	char out[8192], want[300];
	const char *ctl = bb_ctl_path();
	int rc;

	bb_write_config(f, "[daemon]\nsocket = @SOCKET@\n\n[pool default]\nsize = 16M\n"
			   "pcp_high = 10\npcp_batch = 20\nbogus = 1\n");
	{
		const char *argv[] = { ctl, "config-check", f->conf, NULL };

		rc = run_cmd(f, argv, out, sizeof(out));
		print_message("pagepoolctl config-check -> %d:\n%s", rc, out);
		assert_int_equal(rc, 65);
		snprintf(want, sizeof(want), "%s:8: unknown key \"bogus\" in [pool default]", f->conf);
		assert_non_null(strstr(out, want));
		snprintf(want, sizeof(want), "%s:5: [pool default] pcp_batch 20 is above pcp_high 10",
			 f->conf);
		assert_non_null(strstr(out, want));
	}
	{
		const char *argv[] = { bb_daemon_path(), "--check-config", "-c", f->conf, NULL };

		rc = run_cmd(f, argv, out, sizeof(out));
		assert_int_equal(rc, 1);
		assert_non_null(strstr(out, want));
	}
	{
		const char *argv[] = { ctl, "--json", "config-check", f->conf, NULL };

		rc = run_cmd(f, argv, out, sizeof(out));
		assert_int_equal(rc, 65);
		assert_non_null(strstr(out, "\"ok\": false"));
	}
	bb_write_config(f, conf_sd);
	{
		const char *argv[] = { ctl, "config-check", f->conf, NULL };

		rc = run_cmd(f, argv, out, sizeof(out));
		assert_int_equal(rc, 0);
		snprintf(want, sizeof(want), "%s: ok", f->conf);
		assert_non_null(strstr(out, want));
	}
	{
		const char *argv[] = { bb_daemon_path(), "--check-config", "-c", f->conf, NULL };

		assert_int_equal(run_cmd(f, argv, out, sizeof(out)), 0);
	}
}

/*
 * The config file's two line-syntax traps (config.h, "Line syntax"), through
 * both checkers: FILE:LINE and the real cause, never "given twice".
 * `text` must exit `code` from pagepoolctl config-check (65 invalid, 0 ok;
 * pagepoold --check-config: 1, 0) and, when `want` is set, say
 * "FILE:LINE: want" in both.
 */
static void config_expect(struct bb *f, const char *text, int code, int line, const char *want)
{
	char out[8192], msg[400];
	const char *ctl_argv[] = { bb_ctl_path(), "config-check", f->conf, NULL };
	const char *pd_argv[] = { bb_daemon_path(), "--check-config", "-c", f->conf, NULL };
	int rc;

	bb_write_config(f, text);
	snprintf(msg, sizeof(msg), "%s:%d: %s", f->conf, line, want ? want : "");
	rc = run_cmd(f, ctl_argv, out, sizeof(out));
	if (rc != code || (want && !strstr(out, msg)) || strstr(out, "given twice"))
		print_error("pagepoolctl config-check -> %d (expected %d, \"%s\"):\n%s\n", rc, code,
			    msg, out);
	assert_int_equal(rc, code);
	assert_null(strstr(out, "given twice"));
	if (want)
		assert_non_null(strstr(out, msg));
	rc = run_cmd(f, pd_argv, out, sizeof(out));
	if (rc != (code ? 1 : 0) || (want && !strstr(out, msg)))
		print_error("pagepoold --check-config -> %d:\n%s\n", rc, out);
	assert_int_equal(rc, code ? 1 : 0);
	assert_null(strstr(out, "given twice"));
	if (want)
		assert_non_null(strstr(out, msg));
}

static void test_config_line_traps(void **state)
{
	struct bb *f = *state;
	static const char indented[] = "indented line (continuation lines are not supported";
	static const char conf_comments[] =
		"# inline comments: a # or ; after a blank, on any line\n"
		"[daemon]  ; the daemon\n"
		"socket = @SOCKET@ # client socket\n"
		"workers = auto\t; every CPU\n"
		"socket_group = # none: the daemon's own\n"
		"  # an indented comment line is still a comment\n"
		"\n"
		"[pool default] # the only pool\n"
		"size = 16M ; four blocks\n";
	char commented[300];
	struct pp_client *c;

	/* An indented key after another: was "workers given twice"-style noise
	 * about the previous key; now the real cause, at its line. */
	config_expect(f, "[daemon]\nsocket = @SOCKET@\n  workers = auto\n\n"
		      "[pool default]\nsize = 16M\n", 65, 3, indented);
	/* Indented at the top of a section: was taken silently. */
	config_expect(f, "[daemon]\nsocket = @SOCKET@\n\n[pool default]\n\tsize = 16M\n"
		      "prefault = no\n", 65, 5, indented);
	/* An indented section header. */
	config_expect(f, "[daemon]\nsocket = @SOCKET@\n  [pool default]\nsize = 16M\n",
		      65, 3, indented);

	/* Inline comments are cut off, # like ;, so the daemon listens on the
	 * configured path, not on one with the comment in it. */
	config_expect(f, conf_comments, 0, 0, NULL);
	bb_start(f, conf_comments);
	c = bb_client(f, NULL);
	assert_int_equal(pp_info(c)->arena_size, 16u << 20);
	snprintf(commented, sizeof(commented), "%s # client socket", f->sock);
	assert_int_equal(access(commented, F_OK), -1);
	/* A # or ; not after a blank is part of the value. */
	config_expect(f, "[daemon]\nsocket = @SOCKET@\n\n[pool default]\nsize = 16M#x\n", 65, 5,
		      "size = \"16M#x\": not a size");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notify_ready, bb_setup, bb_teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, bb_setup, bb_teardown),
		cmocka_unit_test_setup_teardown(test_socket_activation, bb_setup, bb_teardown),
		cmocka_unit_test_setup_teardown(test_socket_activation_wrong_path, bb_setup,
						bb_teardown),
		cmocka_unit_test_setup_teardown(test_config_check, bb_setup, bb_teardown),
		cmocka_unit_test_setup_teardown(test_config_line_traps, bb_setup, bb_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
