/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_quickstart.c - a newcomer's first minutes, as README.md tells them.
 *
 * - `make deps-run` (what `make run` installs) neither needs nor installs
 *   clang, valgrind, strace, man-db, cmocka or prometheus (promtool,
 *   node_exporter): with a PATH that has the build tools but none of those
 *   it is satisfied and silent, while
 *   `make deps` (what `make check` installs) on the same PATH names them.
 *   No apt-get is on that PATH, so nothing is ever installed from here.
 * - `make -n run` on an empty build directory builds pagepoold, pagepoolctl
 *   and pp-example, no test and nothing of the test tools, and starts the
 *   daemon as `pagepoold -f -c conf/pagepoold-dev.conf`.
 * - Every `build/...` command of the README's quick start section runs, in
 *   order, against a daemon started that way on conf/pagepoold-dev.conf with
 *   run/ moved to a private temporary directory, and exits 0; then SIGINT
 *   (Ctrl-C) stops the daemon with status 0.
 *
 * Environment (set by `make check-run`): PP_SRCDIR (the source tree),
 * PP_BUILD (its build directory: pagepoolctl, pp-example), PP_MAKE,
 * PAGEPOOLD.  Without PP_SRCDIR and PP_BUILD every test skips.
 */
#include "bb.h"

#define MAKE_TIMEOUT_MS		60000
#define CMD_TIMEOUT_MS		20000

/* Test tools `make run` must not need (command names and package names). */
static const char *const test_only[] = {
	"clang", "valgrind", "strace", "man-db", "cmocka", "libclang-rt", "prometheus",
};

struct qs_run {
	int code;	/* exit code (bb_exit_code), or -ETIMEDOUT */
	char *out;	/* stdout and stderr, interleaved; never NULL */
};

/* PP_SRCDIR and PP_BUILD, or skip. */
static void qs_env(const char **src, const char **build)
{
	*src = getenv("PP_SRCDIR");
	*build = getenv("PP_BUILD");
	if (!*src || !**src || !*build || !**build) {
		print_message("PP_SRCDIR and PP_BUILD are not set (run through make check-run): "
			      "skipping\n");
		skip();
	}
}

/* The absolute path of `name` on the current PATH, or fail. */
static void qs_which(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/')) {
		assert_true(strlen(name) < len);
		strcpy(buf, name);
		return;
	}
	while (path && *path) {
		size_t n = strcspn(path, ":");

		if (n && (size_t)snprintf(buf, len, "%.*s/%s", (int)n, path, name) < len &&
		    access(buf, X_OK) == 0)
			return;
		path += n + (path[n] == ':');
	}
	fail_msg("%s is not on PATH", name);
}

/*
 * Run argv (argv[0] an absolute path) in directory `cwd` with PATH set to
 * `path` (NULL: unchanged) and make's own variables unset, stdin from
 * /dev/null, both outputs into dir/out; past timeout_ms its process group is
 * killed.  Never fails the test itself.
 */
static struct qs_run qs_exec(const char *dir, const char *cwd, const char *const *argv,
			     const char *path, int timeout_ms)
{
	char outp[PATH_MAX], *pathvar = NULL;
	const char *env[] = { "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GNUMAKEFLAGS", "MAKEOVERRIDES",
			      NULL, NULL };
	struct bb_prog p = { .argv = argv, .env = env, .out = outp, .err = outp, .cwd = cwd,
			     .group = true };
	struct qs_run r = { .code = -1 };

	snprintf(outp, sizeof(outp), "%s/out", dir);
	if (path) {
		assert_true(asprintf(&pathvar, "PATH=%s", path) > 0);
		env[5] = pathvar;
	}
	r.code = bb_prog_run(&p, timeout_ms);
	free(pathvar);
	r.out = bb_slurp(outp);
	return r;
}

static void qs_print(const char *what, const struct qs_run *r)
{
	const char *p = r->out;

	print_message("$ %s  (exit %d)\n", what, r->code);
	while (*p) {
		size_t n = strcspn(p, "\n");

		print_message("  | %.*s\n", (int)(n > 300 ? 300 : n), p);
		p += n + (p[n] == '\n');
	}
}

/* `make ARGS...` in the source tree; the output and the exit code. */
static struct qs_run qs_make(struct bb *f, const char *src, const char *path,
			     const char *const *args)
{
	const char *mk = getenv("PP_MAKE");
	char make[PATH_MAX];
	const char *argv[16] = { make, "--no-print-directory" };
	int n = 2;

	qs_which(mk && *mk ? mk : "make", make, sizeof(make));
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	bb_mkdir(f);
	return qs_exec(f->dir, src, argv, path, MAKE_TIMEOUT_MS);
}

/* Fail if `text` mentions any of the test-only tools. */
static void assert_no_test_tools(const char *what, const char *text)
{
	for (size_t i = 0; i < sizeof(test_only) / sizeof(test_only[0]); i++)
		if (strstr(text, test_only[i]))
			fail_msg("%s mentions %s, which only the tests need", what, test_only[i]);
}

/*
 * make deps-run on a PATH with the build tools only is satisfied (exit 0,
 * nothing missing, nothing installed); make deps on the same PATH is not,
 * and names the test tools: so they are in the test scope only.
 */
static void test_deps_run_scope(void **state)
{
	static const char *const tools[] = { "pkg-config", "protoc-c", "cc", "id" };
	static const char *const absent[] = { "clang", "valgrind", "strace", "man", "apt-get" };
	static const char *const run_args[] = { "deps-run", NULL };
	static const char *const test_args[] = { "deps", NULL };
	struct bb *f = *state;
	const char *src, *build;
	char bin[128], target[PATH_MAX], link[192];
	struct qs_run r;

	qs_env(&src, &build);
	bb_mkdir(f);
	snprintf(bin, sizeof(bin), "%s/bin", f->dir);
	assert_int_equal(mkdir(bin, 0755), 0);
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		qs_which(tools[i], target, sizeof(target));
		snprintf(link, sizeof(link), "%s/%s", bin, tools[i]);
		assert_int_equal(symlink(target, link), 0);
	}
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		snprintf(link, sizeof(link), "%s/%s", bin, absent[i]);
		assert_int_not_equal(access(link, F_OK), 0);
	}

	r = qs_make(f, src, bin, run_args);
	qs_print("PATH=<build tools only> make deps-run", &r);
	if (r.code != 0 || r.out[0])
		fail_msg("make deps-run is not satisfied by the build tools alone (exit %d)",
			 r.code);
	free(r.out);

	r = qs_make(f, src, bin, test_args);
	qs_print("PATH=<build tools only> make deps", &r);
	if (r.code == 0)
		fail_msg("make deps passed without clang, valgrind or strace on PATH: the "
			 "test scope lost them");
	for (size_t i = 0; i < 3; i++)
		if (!strstr(r.out, test_only[i]))
			fail_msg("make deps does not name %s as missing", test_only[i]);
	free(r.out);
}

/*
 * make -n run on an empty build directory: it builds pagepoold, pagepoolctl
 * and pp-example, nothing of the tests, and starts the daemon on the dev
 * configuration in the foreground.
 */
static void test_run_builds_quickstart(void **state)
{
	static const char *const bins[] = { "pagepoold", "pagepoolctl", "pp-example" };
	struct bb *f = *state;
	const char *src, *build;
	char bargs[PATH_MAX], want[PATH_MAX + 64];
	const char *args[] = { "-n", "run", bargs, NULL };
	struct qs_run r;

	qs_env(&src, &build);
	bb_mkdir(f);
	snprintf(bargs, sizeof(bargs), "BUILD=%s/build", f->dir);
	r = qs_make(f, src, NULL, args);
	if (r.code != 0) {
		qs_print("make -n run BUILD=<empty>", &r);
		fail_msg("make -n run failed (exit %d)", r.code);
	}
	print_message("make -n run BUILD=<empty>: %zu bytes of commands\n", strlen(r.out));
	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		snprintf(want, sizeof(want), "-o %s/build/%s ", f->dir, bins[i]);
		if (!strstr(r.out, want)) {
			qs_print("make -n run BUILD=<empty>", &r);
			fail_msg("make run does not build %s (no \"-o .../%s\" above)", bins[i],
				 bins[i]);
		}
		print_message("  builds %s\n", bins[i]);
	}
	snprintf(want, sizeof(want), "\n%s/build/pagepoold -f -c conf/pagepoold-dev.conf\n",
		 f->dir);
	if (!strstr(r.out, want)) {
		qs_print("make -n run BUILD=<empty>", &r);
		fail_msg("make run does not start \"pagepoold -f -c conf/pagepoold-dev.conf\"");
	}
	assert_no_test_tools("make -n run", r.out);
	snprintf(want, sizeof(want), "%s/build/tests/", f->dir);
	if (strstr(r.out, want))
		fail_msg("make run builds tests (%s...)", want);
	free(r.out);
}

/* conf/pagepoold-dev.conf with "run/" turned into "@DIR@/" for bb_start. */
static char *dev_conf_template(const char *src)
{
	char path[PATH_MAX];
	char *text, *out, *o;
	const char *p;

	snprintf(path, sizeof(path), "%s/conf/pagepoold-dev.conf", src);
	text = bb_slurp(path);
	assert_true(strstr(text, "socket = run/pagepool.sock\n") != NULL);
	out = calloc(1, strlen(text) * 2 + 1);
	assert_non_null(out);
	for (p = text, o = out; *p;) {
		if (strncmp(p, "run/", 4) == 0 && (p == text || p[-1] == ' ')) {
			o += sprintf(o, "@DIR@/");
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	free(text);
	return out;
}

/* The README's "## Quick start" section (malloc'd), or fail. */
static char *readme_quickstart(const char *src)
{
	char path[PATH_MAX];
	char *text, *start, *end, *sec;

	snprintf(path, sizeof(path), "%s/README.md", src);
	text = bb_slurp(path);
	start = strstr(text, "\n## Quick start");
	if (!start) {
		free(text);
		fail_msg("README.md has no \"## Quick start\" section");
		return NULL;
	}
	end = strstr(start + 1, "\n## ");
	sec = strndup(start, end ? (size_t)(end - start) : strlen(start));
	free(text);
	assert_non_null(sec);
	return sec;
}

/*
 * Every line of a ```sh block of the quick start that starts with "build/",
 * in order: argv split on blanks, "#" comments dropped, "build/" -> the
 * build directory, "run/" -> the daemon's directory.  Runs each (exit 0 or
 * fail) and counts them.
 */
static unsigned run_quickstart_commands(struct bb *f, const char *src, const char *build,
					const char *sec, bool *saw_example, bool *saw_ctl)
{
	unsigned ran = 0;
	bool in_sh = false;

	for (const char *line = sec; *line;) {
		size_t n = strcspn(line, "\n");
		char buf[1024], words[8][PATH_MAX], shown[1024];
		const char *argv[9];
		char *tok, *save = NULL, *hash;
		unsigned argc = 0;
		struct qs_run r;

		assert_true(n < sizeof(buf));
		memcpy(buf, line, n);
		buf[n] = '\0';
		line += n + (line[n] == '\n');
		if (strncmp(buf, "```", 3) == 0) {
			in_sh = !in_sh && strcmp(buf, "```sh") == 0;
			continue;
		}
		if (!in_sh || strncmp(buf, "build/", 6) != 0)
			continue;
		if ((hash = strchr(buf, '#')))
			*hash = '\0';
		snprintf(shown, sizeof(shown), "%s", buf);
		for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
			assert_true(argc < 8);
			if (strncmp(tok, "build/", 6) == 0)
				snprintf(words[argc], PATH_MAX, "%s/%s", build, tok + 6);
			else if (strncmp(tok, "run/", 4) == 0)
				snprintf(words[argc], PATH_MAX, "%s/%s", f->dir, tok + 4);
			else
				snprintf(words[argc], PATH_MAX, "%s", tok);
			argv[argc] = words[argc];
			argc++;
		}
		argv[argc] = NULL;
		*saw_example |= strstr(shown, "build/pp-example ") != NULL;
		*saw_ctl |= strstr(shown, "build/pagepoolctl ") != NULL;
		r = qs_exec(f->dir, src, argv, NULL, CMD_TIMEOUT_MS);
		qs_print(shown, &r);
		if (r.code != 0)
			fail_msg("the quick start's \"%s\" failed (exit %d)", shown, r.code);
		free(r.out);
		ran++;
	}
	return ran;
}

/*
 * The quick start's next commands against a daemon started as make run
 * starts it, then Ctrl-C.
 */
static void test_quickstart_commands(void **state)
{
	struct bb *f = *state;
	const char *src, *build;
	bool saw_example = false, saw_ctl = false;
	char *tmpl, *sec;
	unsigned ran;

	qs_env(&src, &build);
	bb_daemon_path();
	tmpl = dev_conf_template(src);
	sec = readme_quickstart(src);
	bb_start(f, tmpl);
	free(tmpl);
	ran = run_quickstart_commands(f, src, build, sec, &saw_example, &saw_ctl);
	free(sec);
	print_message("ran %u quick start command(s)\n", ran);
	if (!saw_example || !saw_ctl)
		fail_msg("the quick start no longer runs %s", !saw_example ? "build/pp-example"
									   : "build/pagepoolctl");
	bb_stop_ok(f, SIGINT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		bb_test(test_deps_run_scope),
		bb_test(test_run_builds_quickstart),
		bb_test(test_quickstart_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
