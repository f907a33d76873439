/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ctl_json.c - pagepoolctl's output against recorded fixtures.  The
 * fixtures in tests/fixtures/ctl-json/ were recorded from the pagepoolctl
 * of the monolithic client/pagepoolctl.c (see the README there); this test
 * drives the pagepoolctl under test (next to $PAGEPOOLD) through the same
 * steps against a daemon in the same known state, and compares:
 *
 *  - NAME.json: the --json document, parsed (json-c) on both sides: the same
 *    keys in the same order, the same value types, and the same values except
 *    at the step's volatile paths (uptime, pids, usec, ...), where only the
 *    type is compared;
 *  - NAME.out / NAME.err: stdout / stderr text, byte for byte, for the steps
 *    whose text holds nothing volatile;
 *  - the exit status of every step.
 *
 * A path names a value: keys joined by '.', "[]" for any element of an
 * array ("pools[].resident_bytes").  Strings are compared after the test's
 * temporary directory is replaced by "@DIR@" and its pid (after "pid ") by
 * "@PID@", as the fixtures were written.
 *
 * CTL_JSON_RECORD=DIR writes the fixtures into DIR instead of comparing
 * (the exit statuses are still checked); the fixtures are read from
 * $PP_SRCDIR/tests/fixtures/ctl-json, or tests/fixtures/ctl-json relative to
 * the current directory.
 */
#include <json-c/json.h>
#include <sched.h>

#include "bb.h"

#define CTL_TIMEOUT_MS	10000
#define FIXTURE_DIR	"tests/fixtures/ctl-json"

/* Two pools, two workers pinned to CPUs 0 and 1; no decay, so the pcps hold
 * what the steps leave in them. */
static const char conf_text[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"admin_socket = @DIR@/admin.sock\n"
	"admin_mode = 0600\n"
	"workers = 0,1\n"
	"decay_interval = 0\n"
	"drain_mode = rcu\n"
	"log_level = info\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n"
	"prefault = yes\n"
	"pcp_high = 64\n"
	"pcp_batch = 16\n"
	"\n"
	"[pool small]\n"
	"size = 8M\n"
	"prefault = yes\n"
	"pcp_high = 32\n"
	"pcp_batch = 8\n";

/* What a step compares besides its exit status. */
#define S_JSON	0x1		/* stdout is a JSON document: NAME.json */
#define S_OUT	0x2		/* stdout text: NAME.out */
#define S_ERR	0x4		/* stderr text: NAME.err */

struct step {
	const char *name;
	int code;		/* exit status expected */
	unsigned what;		/* S_* */
	const char *vol;	/* volatile JSON paths, blank-separated; NULL: none */
};

/* ---- fixtures ------------------------------------------------------------- */

static const char *record_dir(void)
{
	const char *d = getenv("CTL_JSON_RECORD");

	return d && d[0] ? d : NULL;
}

static void fixture_path(char *buf, size_t len, const char *name, const char *ext)
{
	const char *src = getenv("PP_SRCDIR");

	if (record_dir())
		snprintf(buf, len, "%s/%s.%s", record_dir(), name, ext);
	else if (src && src[0])
		snprintf(buf, len, "%s/%s/%s.%s", src, FIXTURE_DIR, name, ext);
	else
		snprintf(buf, len, "%s/%s.%s", FIXTURE_DIR, name, ext);
}

/* Replace every `from` in *text by `to` (*text is malloc'd; replaced). */
static void replace_all(char **text, const char *from, const char *to)
{
	size_t flen = strlen(from), tlen = strlen(to), n = 0;
	char *out, *o;

	for (const char *p = strstr(*text, from); p; p = strstr(p + flen, from))
		n++;
	if (n == 0)
		return;
	out = malloc(strlen(*text) + n * tlen + 1);
	assert_non_null(out);
	o = out;
	for (const char *p = *text, *q; ; p = q + flen) {
		q = strstr(p, from);
		if (!q) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tlen);
		o += tlen;
	}
	free(*text);
	*text = out;
}

/* The text as the fixtures hold it: the fixture's directory and our pid
 * replaced by placeholders. */
static void normalise(const struct bb *f, char **text)
{
	char pid[32];

	replace_all(text, f->dir, "@DIR@");
	snprintf(pid, sizeof(pid), "pid %d", (int)getpid());
	replace_all(text, pid, "pid @PID@");
}

/* ---- comparing JSON documents --------------------------------------------- */

/* Exactly one JSON document and nothing but blanks after it; NULL (with a
 * message) otherwise. */
static struct json_object *parse_doc(const char *text, const char *what)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *doc;
	size_t len = strlen(text), end;

	assert_non_null(tok);
	doc = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!doc || json_tokener_get_error(tok) != json_tokener_success) {
		print_error("%s: not a JSON document (%s):\n%.2000s\n", what,
			    json_tokener_error_desc(json_tokener_get_error(tok)), text);
		json_object_put(doc);
		doc = NULL;
	} else if (text[end + strspn(text + end, " \t\r\n")] != '\0') {
		print_error("%s: more after the JSON document: %.200s\n", what, text + end);
		json_object_put(doc);
		doc = NULL;
	}
	json_tokener_free(tok);
	return doc;
}

/* Is `path` one of the blank-separated paths in `vol`? */
static bool is_volatile(const char *vol, const char *path)
{
	size_t n = strlen(path);

	for (const char *p = vol; p && *p; ) {
		size_t k = strcspn(p, " ");

		if (k == n && strncmp(p, path, n) == 0)
			return true;
		p += k + strspn(p + k, " ");
	}
	return false;
}

static const char *type_name(struct json_object *o)
{
	return json_type_to_name(json_object_get_type(o));
}

/*
 * Compare `got` with the fixture's `want` at `path`: print every difference
 * (with the path) and return how many there are.
 */
static unsigned json_diff(const struct bb *f, const char *vol, const char *path,
			  struct json_object *want, struct json_object *got)
{
	enum json_type t = json_object_get_type(want);
	char sub[512];
	unsigned bad = 0;

	if (t != json_object_get_type(got)) {
		print_error("  %s: %s in the fixture, %s now\n", path[0] ? path : "(document)",
			    type_name(want), type_name(got));
		return 1;
	}
	if (is_volatile(vol, path))
		return 0;
	switch (t) {
	case json_type_object: {
		struct json_object_iterator w = json_object_iter_begin(want);
		struct json_object_iterator we = json_object_iter_end(want);
		struct json_object_iterator g = json_object_iter_begin(got);
		struct json_object_iterator ge = json_object_iter_end(got);

		/* Keys in the same order: the writer's order is part of the output. */
		while (!json_object_iter_equal(&w, &we) || !json_object_iter_equal(&g, &ge)) {
			const char *wk = json_object_iter_equal(&w, &we) ? NULL :
					 json_object_iter_peek_name(&w);
			const char *gk = json_object_iter_equal(&g, &ge) ? NULL :
					 json_object_iter_peek_name(&g);

			if (!wk || !gk || strcmp(wk, gk) != 0) {
				print_error("  %s: key %s%s%s in the fixture, %s%s%s now\n",
					    path[0] ? path : "(document)", wk ? "\"" : "",
					    wk ? wk : "none", wk ? "\"" : "", gk ? "\"" : "",
					    gk ? gk : "none", gk ? "\"" : "");
				return bad + 1;
			}
			snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", wk);
			bad += json_diff(f, vol, sub, json_object_iter_peek_value(&w),
					 json_object_iter_peek_value(&g));
			json_object_iter_next(&w);
			json_object_iter_next(&g);
		}
		return bad;
	}
	case json_type_array: {
		size_t n = json_object_array_length(want);

		if (n != json_object_array_length(got)) {
			print_error("  %s: %zu elements in the fixture, %zu now\n", path, n,
				    json_object_array_length(got));
			return 1;
		}
		snprintf(sub, sizeof(sub), "%s[]", path);
		for (size_t i = 0; i < n; i++)
			bad += json_diff(f, vol, sub, json_object_array_get_idx(want, i),
					 json_object_array_get_idx(got, i));
		return bad;
	}
	case json_type_string: {
		char *g = strdup(json_object_get_string(got));

		assert_non_null(g);
		normalise(f, &g);
		if (strcmp(json_object_get_string(want), g) != 0) {
			print_error("  %s: \"%s\" in the fixture, \"%s\" now\n", path,
				    json_object_get_string(want), g);
			bad = 1;
		}
		free(g);
		return bad;
	}
	case json_type_null:
		return 0;
	default:
		/* Numbers and booleans: their canonical JSON text. */
		if (strcmp(json_object_to_json_string(want), json_object_to_json_string(got)) != 0) {
			print_error("  %s: %s in the fixture, %s now\n", path,
				    json_object_to_json_string(want), json_object_to_json_string(got));
			return 1;
		}
		return 0;
	}
}

/* ---- running pagepoolctl -------------------------------------------------- */

/*
 * Run pagepoolctl ARGS in the fixture's directory (so that relative file
 * operands stay the same from run to run), stdout and stderr into *out and
 * *err (normalised; free them).  Returns the exit code.
 */
static int ctl_run(struct bb *f, const char *const *args, char **out, char **err)
{
	static const char *const env[] = { "PAGEPOOL_ADMIN_SOCKET", NULL };
	char opath[200], epath[200];
	const char *argv[32];
	int n = 0, code;

	snprintf(opath, sizeof(opath), "%s/ctl.out", f->dir);
	snprintf(epath, sizeof(epath), "%s/ctl.err", f->dir);
	argv[n++] = bb_ctl_path_or_skip();
	while (*args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	code = bb_kid_wait(f, bb_kid_spawn(f, &(struct bb_prog){ .argv = argv, .env = env,
								 .out = opath, .err = epath,
								 .cwd = f->dir }),
			   CTL_TIMEOUT_MS);
	*out = bb_slurp(opath);
	*err = bb_slurp(epath);
	normalise(f, out);
	normalise(f, err);
	return code;
}

static void write_fixture(const char *name, const char *ext, const char *text)
{
	char path[PATH_MAX];

	fixture_path(path, sizeof(path), name, ext);
	bb_write_file(path, text);
}

/* The fixture NAME.EXT; fails the test when it is missing. */
static char *read_fixture(const char *name, const char *ext)
{
	char path[PATH_MAX];

	fixture_path(path, sizeof(path), name, ext);
	if (access(path, R_OK) != 0)
		fail_msg("fixture %s: %s", path, strerror(errno));
	return bb_slurp(path);
}

/* Compare one text output with its fixture; the number of differences. */
static unsigned text_diff(const struct step *s, const char *ext, const char *got)
{
	char *want = read_fixture(s->name, ext);
	unsigned bad = strcmp(want, got) != 0;

	if (bad)
		print_error("%s.%s differs:\n--- fixture\n%s--- now\n%s---\n", s->name, ext, want,
			    got);
	free(want);
	return bad;
}

static unsigned doc_diff(const struct bb *f, const struct step *s, const char *got)
{
	char *wtext = read_fixture(s->name, "json");
	struct json_object *want = parse_doc(wtext, "fixture"), *doc = parse_doc(got, s->name);
	unsigned bad;

	assert_non_null(want);
	if (!doc) {
		bad = 1;
	} else {
		bad = json_diff(f, s->vol, "", want, doc);
		if (bad)
			print_error("%s.json: %u difference(s); now:\n%.4000s\n", s->name, bad, got);
	}
	json_object_put(want);
	json_object_put(doc);
	free(wtext);
	return bad;
}

/* Run one step: pagepoolctl -s ADMIN_SOCKET ARGS (sock NULL: none given). */
static void step_run(struct bb *f, const struct step *s, const char *sock,
		     const char *const *args)
{
	const char *argv[32];
	char *out, *err, asock[200];
	unsigned bad = 0;
	int n = 0, code;

	if (sock) {
		snprintf(asock, sizeof(asock), "%s", sock);
		argv[n++] = "-s";
		argv[n++] = asock;
	}
	while (*args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	code = ctl_run(f, argv, &out, &err);
	if (code != s->code) {
		print_error("%s: exit %d, expected %d\nstdout: %.2000s\nstderr: %.2000s\n", s->name,
			    code, s->code, out, err);
		bad++;
	}
	if (record_dir()) {
		if (s->what & S_JSON)
			write_fixture(s->name, "json", out);
		if (s->what & S_OUT)
			write_fixture(s->name, "out", out);
		if (s->what & S_ERR)
			write_fixture(s->name, "err", err);
	} else {
		if (s->what & S_JSON)
			bad += doc_diff(f, s, out);
		if (s->what & S_OUT)
			bad += text_diff(s, "out", out);
		if (s->what & S_ERR)
			bad += text_diff(s, "err", err);
	}
	free(out);
	free(err);
	if (bad)
		fail_msg("pagepoolctl %s: %u difference(s) from the fixtures", s->name, bad);
}

/* STEP(f, name, code, what, volatile paths, args...) against the daemon. */
#define STEP(f, name, code, what, vol, ...)						\
	do {										\
		const struct step s_ = { name, code, what, vol };			\
		char sock_[160];							\
											\
		snprintf(sock_, sizeof(sock_), "%s/admin.sock", (f)->dir);		\
		step_run(f, &s_, sock_, (const char *const[]){ __VA_ARGS__, NULL });	\
	} while (0)

/* The same without -s: the socket is the default one or given in args. */
#define STEP_NOSOCK(f, name, code, what, vol, ...)					\
	do {										\
		const struct step s_ = { name, code, what, vol };			\
											\
		step_run(f, &s_, NULL, (const char *const[]){ __VA_ARGS__, NULL });	\
	} while (0)

/* ---- the daemon's known state ---------------------------------------------- */

/* Replace `from` with `to` in the daemon's config file. */
static void conf_edit(struct bb *f, const char *from, const char *to)
{
	char *text = bb_slurp(f->conf);

	assert_non_null(strstr(text, from));
	replace_all(&text, from, to);
	bb_write_file(f->conf, text);
	free(text);
}

/* A client of `pool` that must be served by `worker` (the daemon hands a
 * new connection to the worker with the fewest, ties in turn). */
static struct pp_client *client_on(struct bb *f, const char *pool, uint32_t worker)
{
	struct pp_client *c = bb_client(f, pool);

	if (pp_info(c)->worker != worker)
		fail_msg("client of pool %s on worker %u, expected %u", pool, pp_info(c)->worker,
			 worker);
	return c;
}

/* Allocate `nalloc` single pages and free all but `keep`: the worker's pcp
 * is left holding pages. */
static void fill_pcp(struct pp_client *c, unsigned nalloc, unsigned keep)
{
	uint32_t pfns[256];
	unsigned got;

	assert_true(nalloc <= 256 && keep <= nalloc);
	bb_assert_rc(c, pp_alloc(c, 0, nalloc, 0, pfns, &got), 0);
	assert_int_equal(got, nalloc);
	if (keep < nalloc)
		bb_assert_rc(c, pp_free(c, pfns + keep, nalloc - keep, NULL), 0);
}

#define V_STATUS	"version uptime_s"
#define V_STATS		"workers[].wakeups workers[].loops"
#define V_CLIENTS	"clients[].pid clients[].uid"
#define V_HOLDERS	"error.holders[].pid error.holders[].uid"

/* ---- the tests -------------------------------------------------------------- */

/*
 * Every command that asks the daemon, in the same order and state as the
 * recording: four clients (two per pool, one per worker) holding pages and
 * leaving pages in their workers' pcps; then drains, trims, set-pcp,
 * offline (busy with a holder, then done) and online, verify, reload, and
 * the daemon's refusals.
 */
static void test_daemon_commands(void **state)
{
	struct bb *f = *state;
	struct pp_client *a, *b, *c, *d;
	uint32_t blk;
	unsigned got;
	char s_blk[16];

	bb_ctl_path_or_skip();
	bb_need_cpus_0_1();
	bb_start(f, conf_text);
	a = client_on(f, "default", 0);
	b = client_on(f, "default", 1);
	c = client_on(f, "small", 0);
	d = client_on(f, "small", 1);
	fill_pcp(a, 100, 10);
	fill_pcp(b, 60, 20);
	fill_pcp(c, 40, 5);
	fill_pcp(d, 30, 30);	/* holds them all: an empty pcp */

	STEP(f, "status", 0, S_JSON, V_STATUS, "--json", "status");
	STEP(f, "stats", 0, S_JSON, V_STATS, "--json", "stats");
	STEP(f, "buddyinfo", 0, S_JSON, NULL, "--json", "buddyinfo");
	STEP(f, "buddyinfo-text", 0, S_OUT | S_ERR, NULL, "buddyinfo");
	STEP(f, "pcp", 0, S_JSON, NULL, "--json", "pcp");
	STEP(f, "pcp-text", 0, S_OUT | S_ERR, NULL, "pcp");
	STEP(f, "clients", 0, S_JSON, V_CLIENTS, "--json", "clients");
	STEP(f, "verify", 0, S_JSON, NULL, "--json", "verify");
	STEP(f, "verify-text", 0, S_OUT | S_ERR, NULL, "verify");

	STEP(f, "drain-small", 0, S_JSON, "usec", "--json", "drain", "--pool", "small",
	     "--mode", "workqueue");
	STEP(f, "drain", 0, S_JSON, "usec", "--json", "drain", "--force");
	STEP(f, "trim-default", 0, S_JSON | S_OUT, NULL, "--json", "trim", "--pool", "default");
	STEP(f, "trim-text", 0, S_OUT | S_ERR, NULL, "trim");
	STEP(f, "set-pcp-small", 0, S_JSON, NULL, "--json", "set-pcp", "--pool", "small",
	     "--high", "16", "--batch", "4");
	STEP(f, "set-pcp-text", 0, S_OUT | S_ERR, NULL, "set-pcp", "--high", "128",
	     "--batch", "32");
	STEP(f, "set-pcp-refused", 65, S_JSON | S_ERR, NULL, "--json", "set-pcp", "--high",
	     "5000", "--batch", "1");
	STEP(f, "pcp-after-set", 0, S_JSON, NULL, "--json", "pcp");

	/* A client holds a max-order block: offline is refused while it does. */
	bb_assert_rc(a, pp_alloc(a, 10, 1, 0, &blk, &got), 0);
	assert_int_equal(got, 1);
	snprintf(s_blk, sizeof(s_blk), "%u", blk);
	STEP(f, "offline-busy", 75, S_JSON | S_ERR, V_HOLDERS, "--json", "offline", "default",
	     s_blk, "1024", "--timeout", "0");
	STEP(f, "offline-busy-text", 75, S_ERR, NULL, "offline", "default", s_blk, "1024",
	     "--timeout", "0");
	bb_assert_rc(a, pp_free(a, &blk, 1, NULL), 0);
	STEP(f, "offline", 0, S_JSON, NULL, "--json", "offline", "default", s_blk, "1024",
	     "--timeout", "5");
	STEP(f, "status-offline", 0, S_JSON, V_STATUS, "--json", "status");
	STEP(f, "online", 0, S_JSON, NULL, "--json", "online", "default", s_blk, "1024");
	STEP(f, "offline-text", 0, S_OUT | S_ERR, NULL, "offline", "default", s_blk, "1024");
	STEP(f, "online-text", 0, S_OUT | S_ERR, NULL, "online", "default", s_blk, "1024");
	STEP(f, "offline-nopool", 65, S_JSON | S_ERR, NULL, "--json", "offline", "nope", "0",
	     "1024");
	STEP(f, "verify-nopool", 65, S_JSON | S_ERR, NULL, "--json", "verify", "--pool", "nope");
	STEP(f, "drain-nopool", 65, S_JSON | S_ERR, NULL, "--json", "drain", "--pool", "nope");

	/* reload: a change, no change, a change that needs a restart, an
	 * invalid file. */
	conf_edit(f, "pcp_high = 64\npcp_batch = 16", "pcp_high = 96\npcp_batch = 24");
	STEP(f, "reload", 0, S_JSON, NULL, "--json", "reload");
	STEP(f, "reload-none", 0, S_JSON, NULL, "--json", "reload");
	STEP(f, "reload-none-text", 0, S_OUT | S_ERR, NULL, "reload");
	conf_edit(f, "size = 8M", "size = 12M");
	STEP(f, "reload-restart", 65, S_JSON | S_ERR, NULL, "--json", "reload");
	conf_edit(f, "size = 12M", "size = 8M");
	conf_edit(f, "pcp_batch = 8", "pcp_batch = 99");
	STEP(f, "reload-invalid", 65, S_JSON | S_ERR, NULL, "--json", "reload");
	STEP(f, "reload-invalid-text", 65, S_OUT | S_ERR, NULL, "reload");
	/* The daemon quotes the file's bytes: invalid UTF-8 must not make
	 * invalid JSON (U+FFFD), nor reach a terminal (?). */
	conf_edit(f, "pcp_batch = 99", "pcp_batch = 9\xff\xe2\x80\xa8x");
	STEP(f, "reload-utf8", 65, S_JSON | S_ERR, NULL, "--json", "reload");

	/* The counters after all of it, and the clients still there. */
	STEP(f, "stats-end", 0, S_JSON, V_STATS, "--json", "stats");
	STEP(f, "status-end", 0, S_JSON, V_STATUS, "--json", "status");
	STEP(f, "clients-end", 0, S_JSON, V_CLIENTS, "--json", "clients");
}

/* Commands that need no daemon: config-check, usage errors, an unreachable
 * socket. */
static void test_local_commands(void **state)
{
	static const char ok_conf[] =
		"[daemon]\nsocket = /run/x.sock\nworkers = 1\n\n[pool default]\nsize = 4M\n";
	static const char bad_conf[] =
		"[daemon]\nsocket = /run/x.sock\nworkers = 1\nsocket_mode = 0999\n\n"
		"[pool default]\nsize = 4Q\npcp_high = 99999\n";
	struct bb *f = *state;
	char path[200];

	bb_ctl_path_or_skip();
	bb_mkdir(f);
	snprintf(path, sizeof(path), "%s/ok.conf", f->dir);
	bb_write_file(path, ok_conf);
	snprintf(path, sizeof(path), "%s/bad.conf", f->dir);
	bb_write_file(path, bad_conf);

	STEP_NOSOCK(f, "config-check-ok", 0, S_JSON | S_ERR, NULL, "--json", "config-check",
		    "ok.conf");
	STEP_NOSOCK(f, "config-check-ok-text", 0, S_OUT | S_ERR, NULL, "config-check",
		    "ok.conf");
	STEP_NOSOCK(f, "config-check-bad", 65, S_JSON | S_ERR, NULL, "--json", "config-check",
		    "bad.conf");
	STEP_NOSOCK(f, "config-check-bad-text", 65, S_OUT | S_ERR, NULL, "config-check",
		    "bad.conf");
	STEP_NOSOCK(f, "config-check-missing", 65, S_JSON | S_ERR, NULL, "--json",
		    "config-check", "missing.conf");

	STEP_NOSOCK(f, "unreachable", 69, S_JSON | S_ERR, NULL, "-s", "nosuch.sock", "--json",
		    "status");
	STEP_NOSOCK(f, "unreachable-text", 69, S_OUT | S_ERR, NULL, "-s", "nosuch.sock",
		    "drain");
	STEP_NOSOCK(f, "usage-unknown-command", 64, S_JSON | S_ERR, NULL, "--json",
		    "frobnicate");
	STEP_NOSOCK(f, "usage-no-command", 64, S_JSON | S_ERR, NULL, "--json");
	STEP_NOSOCK(f, "usage-bad-number", 64, S_JSON | S_ERR, NULL, "-s", "x.sock", "offline",
		    "default", "abc", "1024", "--json");
	STEP_NOSOCK(f, "usage-missing-operand", 64, S_JSON | S_ERR, NULL, "-s", "x.sock",
		    "--json", "online", "default");
	STEP_NOSOCK(f, "usage-extra-operand", 64, S_JSON | S_ERR, NULL, "-s", "x.sock",
		    "--json", "status", "now");
	STEP_NOSOCK(f, "usage-stray-option", 64, S_JSON | S_ERR, NULL, "-s", "x.sock",
		    "--json", "trim", "--mode", "rcu");
	STEP_NOSOCK(f, "usage-bad-mode", 64, S_JSON | S_ERR, NULL, "-s", "x.sock", "--json",
		    "drain", "--mode", "lazy");
	STEP_NOSOCK(f, "usage-set-pcp", 64, S_JSON | S_ERR, NULL, "-s", "x.sock", "--json",
		    "set-pcp", "--high", "10");
	STEP_NOSOCK(f, "usage-range", 64, S_JSON | S_ERR, NULL, "-s", "x.sock", "--json",
		    "offline", "default", "4294967295", "2");
	STEP_NOSOCK(f, "usage-unknown-option", 64, S_JSON | S_ERR, NULL, "-s", "x.sock",
		    "--json", "status", "--frob");
	STEP_NOSOCK(f, "usage-empty-pool", 64, S_JSON | S_ERR, NULL, "-s", "x.sock", "--json",
		    "verify", "--pool", "");
	STEP_NOSOCK(f, "usage-text", 64, S_OUT | S_ERR, NULL, "-s", "x.sock", "drain", "-x");
	STEP_NOSOCK(f, "help-drain", 0, S_OUT | S_ERR, NULL, "help", "drain");
	STEP_NOSOCK(f, "help", 0, S_OUT | S_ERR, NULL, "--help");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_daemon_commands),
		bb_test(test_local_commands),
	};

	return cmocka_run_group_tests_name("blackbox pagepoolctl output fixtures", tests, NULL,
					   NULL);
}
