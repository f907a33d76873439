/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_install.c - `make install` end to end, into a DESTDIR under mkdtemp:
 * the files with their modes, the library's symlinks and soname; the
 * installed pkg-config file builds client/example.c against the installed
 * header and shared library, which then runs against a live pagepoold; the
 * installed units pass `systemd-analyze verify` and rate SAFE with
 * `systemd-analyze security --offline=true`; the sysusers.d and tmpfiles.d
 * entries make the user and /run/pagepool in a scratch root; the man pages
 * render without a warning; a second install keeps an edited configuration
 * and uninstall removes everything else; and every system call the installed
 * daemon makes while it serves is inside the unit's sandbox.  The staged
 * pagepool.pc resolves under `pkg-config --define-prefix` (its directories
 * follow ${prefix}), and every artefact reports the one version `make
 * version` prints: pagepoold and pagepoolctl --version, the .pc, the man
 * pages' .TH lines, the library's file name and soname.
 *
 * Environment (set by `make check-run`): PP_SRCDIR (the source tree),
 * PP_BUILD (the build directory installed from: nothing is rebuilt when it
 * is up to date), PP_MAKE, PP_CC, PP_SAN and PP_SANFLAGS (a sanitizer
 * build's library links only with the same flags), PAGEPOOLD (the daemon the
 * example runs against).  Without PP_SRCDIR and PP_BUILD every test skips.
 * BB_KEEP=1 keeps the temporary directory.
 */
#include <elf.h>

#include "bb.h"

#define MAKE_TIMEOUT_MS		120000	/* a make that has to rebuild the daemon */
#define TOOL_TIMEOUT_MS		20000
#define EXPOSURE		"Overall exposure level for pagepoold.service: "
#define METRICS_EXPOSURE	"Overall exposure level for pagepool-metrics.service: "

/* ---- running commands ------------------------------------------------------ */

struct run {
	int code;	/* exit code (bb_exit_code), or -ETIMEDOUT */
	char *out;	/* stdout, NUL-terminated, never NULL */
	char *err;	/* stderr */
};

/* The whole test's scratch space, shared by the tests of this file. */
static struct {
	bool ready;		/* PP_SRCDIR and PP_BUILD given, dir made */
	const char *src, *build;
	char dir[64];		/* mkdtemp */
	char dest[128];		/* DESTDIR of the main install */
	int installed;		/* 0 not yet, 1 done, -1 failed */
	char version[32];	/* `make version`, "" until asked */
	char soversion[32];	/* its first number: the soname's */
} ti;

static void ti_path(char *buf, size_t len, const char *fmt, const char *a, const char *b)
{
	int n = snprintf(buf, len, fmt, a, b);

	assert_true(n > 0 && (size_t)n < len);
}

/* Print text line by line (print_message truncates long messages). */
static void print_text(const char *indent, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		print_message("%s%.*s\n", indent, (int)(n > 500 ? 500 : n), text);
		text += n;
		if (*text == '\n')
			text++;
	}
}

static void run_print(const char *const *argv, const struct run *r)
{
	char line[1024] = "";

	for (const char *const *a = argv; *a && strlen(line) + 2 < sizeof(line); a++) {
		strncat(line, *a, sizeof(line) - strlen(line) - 2);
		strcat(line, " ");
	}
	print_message("$ %s\n", line);
	print_text("  | ", r->out);
	print_text("  ! ", r->err);
	if (r->code == -ETIMEDOUT)
		print_message("  (killed: still running after its deadline)\n");
	else
		print_message("  (exit %d)\n", r->code);
}

/*
 * Run argv[0] (searched on PATH) with stdin from /dev/null, the environment
 * changed by `env` (NULL-terminated, may be NULL: "NAME=VALUE" sets, "NAME"
 * unsets), and wait at most timeout_ms; past it its whole process group is
 * killed.  Both outputs come back whole.  Never fails the test itself.
 */
static struct run run_env(const char *const *argv, const char *const *env, int timeout_ms)
{
	struct run r = { .code = -1 };
	char outp[PATH_MAX], errp[PATH_MAX];
	struct bb_prog p = { .argv = argv, .env = env, .out = outp, .err = errp, .group = true };

	ti_path(outp, sizeof(outp), "%s/%s", ti.dir, "run.out");
	ti_path(errp, sizeof(errp), "%s/%s", ti.dir, "run.err");
	r.code = bb_prog_run(&p, timeout_ms);
	r.out = bb_slurp(outp);
	r.err = bb_slurp(errp);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* run_env() that must exit 0: otherwise the command and its output are
 * printed and the test fails naming `what`. */
static struct run run_ok(const char *what, const char *const *argv, const char *const *env,
			 int timeout_ms)
{
	struct run r = run_env(argv, env, timeout_ms);

	if (r.code != 0) {
		run_print(argv, &r);
		fail_msg("%s failed (%s %d)", what, r.code == -ETIMEDOUT ? "timed out," : "exit",
			 r.code);
	}
	return r;
}

/* `make TARGET` in the source tree on the build directory under test.  The
 * make that runs this test must not leak its flags (jobserver, overrides). */
static struct run make_run_var(const char *target, const char *destdir, const char *prefix,
			       const char *var)
{
	static const char *const env[] = { "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GNUMAKEFLAGS",
					   NULL };
	const char *cc = getenv("PP_CC"), *san = getenv("PP_SAN"), *mk = getenv("PP_MAKE");
	char a_dest[PATH_MAX], a_prefix[PATH_MAX], a_build[PATH_MAX], a_cc[256], a_san[128];
	const char *argv[16];
	int n = 0;

	ti_path(a_prefix, sizeof(a_prefix), "%s%s", "PREFIX=", prefix);
	ti_path(a_build, sizeof(a_build), "%s%s", "BUILD=", ti.build);
	ti_path(a_cc, sizeof(a_cc), "%s%s", "CC=", cc && *cc ? cc : "cc");
	ti_path(a_san, sizeof(a_san), "%s%s", "SAN=", san ? san : "");
	argv[n++] = mk && *mk ? mk : "make";
	argv[n++] = "-C";
	argv[n++] = ti.src;
	argv[n++] = "--no-print-directory";
	argv[n++] = target;
	argv[n++] = a_prefix;
	argv[n++] = a_build;
	argv[n++] = a_cc;
	argv[n++] = a_san;
	argv[n++] = "LDCONFIG=true";	/* never touch the host's linker cache */
	if (var)
		argv[n++] = var;
	if (destdir) {
		ti_path(a_dest, sizeof(a_dest), "%s%s", "DESTDIR=", destdir);
		argv[n++] = a_dest;
	}
	argv[n] = NULL;
	{
		int64_t t0 = bb_now_ms();
		struct run r = run_env(argv, env, MAKE_TIMEOUT_MS);

		print_message("make %s%s%s PREFIX=%s: %lld ms\n", target, destdir ? " DESTDIR=" : "",
			      destdir ? destdir : "", prefix, (long long)(bb_now_ms() - t0));
		if (r.code != 0) {
			run_print(argv, &r);
			fail_msg("make %s failed (%s %d)", target,
				 r.code == -ETIMEDOUT ? "timed out," : "exit", r.code);
		}
		return r;
	}
}

static struct run make_run(const char *target, const char *destdir, const char *prefix)
{
	return make_run_var(target, destdir, prefix, NULL);
}

/* Skip unless make check-run told us where the tree and the build are. */
static void ti_need(void)
{
	if (!ti.ready) {
		print_message("PP_SRCDIR and PP_BUILD are not set (run through make check-run): "
			      "skipping\n");
		skip();
	}
}

/* The main install (DESTDIR=ti.dest PREFIX=/usr), done once for all tests. */
static void ti_install(void)
{
	struct run r;

	ti_need();
	if (ti.installed > 0)
		return;
	if (ti.installed < 0)
		fail_msg("make install failed earlier (see test_install_files)");
	ti.installed = -1;
	r = make_run("install", ti.dest, "/usr");
	run_free(&r);
	ti.installed = 1;
}

/* The one version, as `make version` says it, in ti.version and its first
 * number in ti.soversion. */
static void ti_version(void)
{
	struct run r;
	size_t n;

	ti_need();
	if (ti.version[0])
		return;
	r = make_run("version", NULL, "/usr");
	n = strcspn(r.out, "\n");
	if (n == 0 || n >= sizeof(ti.version) || strspn(r.out, "0123456789.") != n ||
	    r.out[0] == '.' || r.out[n - 1] == '.')
		fail_msg("make version printed \"%s\": expected one version like 1.2 or 1.2.3",
			 r.out);
	memcpy(ti.version, r.out, n);
	ti.version[n] = '\0';
	n = strcspn(ti.version, ".");
	memcpy(ti.soversion, ti.version, n);
	ti.soversion[n] = '\0';
	print_message("make version: %s (soname major %s)\n", ti.version, ti.soversion);
	run_free(&r);
}

/* ---- files ----------------------------------------------------------------- */

/* A whole file, binary; NULL if it cannot be read. */
static uint8_t *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (buf = malloc((size_t)st.st_size + 1)) != NULL) {
		while (got < (size_t)st.st_size) {
			ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got != (size_t)st.st_size) {
			free(buf);
			buf = NULL;
		}
	}
	close(fd);
	*len = got;
	return buf;
}

/*
 * The strings of every dynamic entry tagged `tag` (DT_SONAME, DT_NEEDED) of
 * the ELF64 file at path, each followed by a space, in a malloc'd string
 * ("" when there are none); NULL when it is not a well-formed ELF64 file of
 * this machine's byte order with a dynamic section.  Read from the section
 * headers, every offset checked against the file's size.
 */
static char *elf_dyn_strings(const char *path, int64_t tag)
{
	static const uint8_t data = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB
								      : ELFDATA2MSB;
	size_t len, slen = 0;
	uint8_t *img = read_all(path, &len);
	char *res = NULL;
	Elf64_Ehdr eh;

	if (!img || len < sizeof(eh))
		goto out;
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != data || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shoff > len || (len - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum)
		goto out;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh, str;

		memcpy(&sh, img + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_DYNAMIC || sh.sh_link >= eh.e_shnum ||
		    sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)
			continue;
		memcpy(&str, img + eh.e_shoff + sh.sh_link * sizeof(str), sizeof(str));
		if (str.sh_offset > len || str.sh_size > len - str.sh_offset)
			continue;
		res = calloc(1, 1);
		for (size_t k = 0; res && k < sh.sh_size / sizeof(Elf64_Dyn); k++) {
			Elf64_Dyn d;
			const char *s;
			size_t n;
			char *nr;

			memcpy(&d, img + sh.sh_offset + k * sizeof(d), sizeof(d));
			if (d.d_tag == DT_NULL)
				break;
			if (d.d_tag != tag || d.d_un.d_val >= str.sh_size)
				continue;
			s = (const char *)img + str.sh_offset + d.d_un.d_val;
			n = strnlen(s, str.sh_size - d.d_un.d_val);
			nr = realloc(res, slen + n + 2);
			if (!nr)
				break;
			res = nr;
			memcpy(res + slen, s, n);
			slen += n;
			res[slen++] = ' ';
			res[slen] = '\0';
		}
		break;
	}
out:
	free(img);
	return res;
}

/* What must be installed, relative to DESTDIR with PREFIX=/usr. */
struct want {
	const char *path;
	char type;		/* 'f' file, 'l' symlink, 'd' directory */
	mode_t mode;		/* 'f' and 'd' */
	const char *link;	/* 'l': the target; 'f': a file it must equal, under
				 * the source tree unless it starts with '/' */
};

static const struct want installed_files[] = {
	{ "etc/pagepool", 'd', 0755, NULL },
	{ "etc/pagepool/pagepoold.conf", 'f', 0644, "conf/pagepoold.conf" },
	{ "usr/bin/pagepoolctl", 'f', 0755, NULL },
	{ "usr/include/pagepool.h", 'f', 0644, "client/pagepool.h" },
	{ "usr/lib/libpagepool.a", 'f', 0644, NULL },
	{ "usr/lib/pkgconfig/pagepool.pc", 'f', 0644, NULL },
	{ "usr/lib/systemd/system/pagepool-metrics.service", 'f', 0644, NULL },
	{ "usr/lib/systemd/system/pagepool-metrics.timer", 'f', 0644,
	  "systemd/pagepool-metrics.timer" },
	{ "usr/lib/systemd/system/pagepoold-admin.socket", 'f', 0644,
	  "systemd/pagepoold-admin.socket" },
	{ "usr/lib/systemd/system/pagepoold.service", 'f', 0644, NULL },
	{ "usr/lib/systemd/system/pagepoold.socket", 'f', 0644, "systemd/pagepoold.socket" },
	{ "usr/lib/sysusers.d/pagepool.conf", 'f', 0644, "systemd/pagepool.sysusers" },
	{ "usr/lib/tmpfiles.d/pagepool.conf", 'f', 0644, "systemd/pagepool.tmpfiles" },
	{ "usr/sbin/pagepoold", 'f', 0755, NULL },
};

/* The shared library's three names for ti.version (ti_version() first):
 * libpagepool.so -> .so.MAJOR -> .so.VERSION, the real file. */
static char lib_names[3][64], lib_links[2][64];
static struct want lib_files[3];

static void lib_files_init(void)
{
	snprintf(lib_names[0], sizeof(lib_names[0]), "usr/lib/libpagepool.so");
	snprintf(lib_names[1], sizeof(lib_names[1]), "usr/lib/libpagepool.so.%s", ti.soversion);
	snprintf(lib_names[2], sizeof(lib_names[2]), "usr/lib/libpagepool.so.%s", ti.version);
	snprintf(lib_links[0], sizeof(lib_links[0]), "libpagepool.so.%s", ti.soversion);
	snprintf(lib_links[1], sizeof(lib_links[1]), "libpagepool.so.%s", ti.version);
	lib_files[0] = (struct want){ lib_names[0], 'l', 0, lib_links[0] };
	lib_files[1] = (struct want){ lib_names[1], 'l', 0, lib_links[1] };
	lib_files[2] = (struct want){ lib_names[2], 'f', 0644, NULL };
}

/* The man pages: source, where installed, and the title line they render. */
static const struct {
	const char *src, *inst, *title;
} man_pages[] = {
	{ "daemon/pagepoold.8", "usr/share/man/man8/pagepoold.8", "PAGEPOOLD(8)" },
	{ "conf/pagepoold.conf.5", "usr/share/man/man5/pagepoold.conf.5", "PAGEPOOLD.CONF(5)" },
	{ "client/pagepoolctl.8", "usr/share/man/man8/pagepoolctl.8", "PAGEPOOLCTL(8)" },
	{ "client/libpagepool.3", "usr/share/man/man3/libpagepool.3", "LIBPAGEPOOL(3)" },
};

/* Does the file at a equal the file at b, byte for byte? */
static bool same_file(const char *a, const char *b)
{
	size_t la, lb;
	uint8_t *pa = read_all(a, &la), *pb = read_all(b, &lb);
	bool same = pa && pb && la == lb && memcmp(pa, pb, la) == 0;

	free(pa);
	free(pb);
	return same;
}

/* Every non-directory under a tree, relative to it, sorted.  (nftw has no
 * user pointer, hence the statics.) */
static char *walk_found[256];
static unsigned walk_n;
static size_t walk_root_len;

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag != FTW_D && flag != FTW_DP && walk_n < 256 && strlen(path) > walk_root_len)
		walk_found[walk_n++] = strdup(path + walk_root_len + 1);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned walk_tree(const char *root)
{
	for (unsigned i = 0; i < walk_n; i++)
		free(walk_found[i]);
	walk_n = 0;
	walk_root_len = strlen(root);
	nftw(root, walk_one, 16, FTW_PHYS);
	qsort(walk_found, walk_n, sizeof(walk_found[0]), cmp_str);
	return walk_n;
}

/* Check one expected entry under root; prints it, returns false if wrong. */
static bool check_want(const char *root, const struct want *w)
{
	char path[PATH_MAX], src[PATH_MAX], target[PATH_MAX];
	struct stat st;
	ssize_t n;

	ti_path(path, sizeof(path), "%s/%s", root, w->path);
	if (lstat(path, &st) != 0) {
		print_error("  MISSING %s\n", w->path);
		return false;
	}
	switch (w->type) {
	case 'l':
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		print_message("  link %s -> %s\n", w->path, target);
		if (!S_ISLNK(st.st_mode) || strcmp(target, w->link) != 0) {
			print_error("  WRONG %s: expected a symlink to %s\n", w->path, w->link);
			return false;
		}
		return true;
	case 'd':
	case 'f':
		print_message("  %04o %s\n", (unsigned)(st.st_mode & 07777), w->path);
		if ((w->type == 'd' ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) ||
		    (st.st_mode & 07777) != w->mode) {
			print_error("  WRONG %s: expected a %s with mode %04o\n", w->path,
				    w->type == 'd' ? "directory" : "regular file", (unsigned)w->mode);
			return false;
		}
		if (w->link) {
			if (w->link[0] == '/')
				ti_path(src, sizeof(src), "%s%s", w->link, "");
			else
				ti_path(src, sizeof(src), "%s/%s", ti.src, w->link);
			if (!same_file(path, src)) {
				print_error("  WRONG %s: differs from %s\n", w->path, w->link);
				return false;
			}
		}
		return true;
	}
	return false;
}

/* Assert that `text` contains `needle`, naming the file it came from. */
static void assert_has(const char *what, const char *text, const char *needle)
{
	if (!strstr(text, needle)) {
		print_text("  | ", text);
		fail_msg("%s does not contain \"%s\"", what, needle);
	}
}

/* The first @NAME@ (capitals and '_') left in text, or NULL. */
static const char *placeholder(const char *text)
{
	for (const char *p = strchr(text, '@'); p; p = strchr(p + 1, '@')) {
		size_t n = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");

		if (n && p[1 + n] == '@')
			return p;
	}
	return NULL;
}

/* ---- tests ----------------------------------------------------------------- */

/*
 * make install DESTDIR=... PREFIX=/usr: exactly the expected files, modes and
 * symlinks (man pages aside), copies equal to their sources (the man pages
 * to the build's rendered copies), paths rendered for /usr (pagepool.pc's
 * relative to ${prefix}), the soname libpagepool.so.MAJOR, and the
 * installed daemon runs.
 */
static void test_install_files(void **state)
{
	char path[PATH_MAX], want_soname[80];
	unsigned bad = 0;
	char *text, *soname;
	const char *ph;

	ti_install();
	ti_version();
	lib_files_init();
	print_message("installed into %s:\n", ti.dest);
	for (size_t i = 0; i < sizeof(installed_files) / sizeof(installed_files[0]); i++)
		bad += !check_want(ti.dest, &installed_files[i]);
	for (size_t i = 0; i < 3; i++)
		bad += !check_want(ti.dest, &lib_files[i]);
	/* Nothing else, but the man pages that exist by now. */
	walk_tree(ti.dest);
	for (unsigned i = 0; i < walk_n; i++) {
		const char *p = walk_found[i];
		bool known = false;

		for (size_t k = 0; k < sizeof(installed_files) / sizeof(installed_files[0]); k++)
			known |= strcmp(p, installed_files[k].path) == 0;
		for (size_t k = 0; k < 3; k++)
			known |= strcmp(p, lib_files[k].path) == 0;
		for (size_t k = 0; k < sizeof(man_pages) / sizeof(man_pages[0]); k++) {
			if (strcmp(p, man_pages[k].inst) == 0) {
				char built[PATH_MAX];
				struct want w = { p, 'f', 0644, built };

				/* The build's copy, rendered with the version. */
				ti_path(built, sizeof(built), "%s/man/%s", ti.build,
					strrchr(man_pages[k].src, '/') + 1);
				bad += !check_want(ti.dest, &w);
				known = true;
			}
		}
		if (!known) {
			print_error("  EXTRA %s (not expected to be installed)\n", p);
			bad++;
		}
	}
	if (bad)
		fail_msg("%u installed file(s) missing or wrong (listed above)", bad);

	ti_path(path, sizeof(path), "%s/%s", ti.dest, "usr/lib/pkgconfig/pagepool.pc");
	text = bb_slurp(path);
	assert_has("pagepool.pc", text, "\nprefix=/usr\n");
	assert_has("pagepool.pc", text, "\nexec_prefix=${prefix}\n");
	assert_has("pagepool.pc", text, "\nlibdir=${exec_prefix}/lib\n");
	assert_has("pagepool.pc", text, "\nincludedir=${prefix}/include\n");
	if ((ph = placeholder(text)))
		fail_msg("pagepool.pc still has a placeholder: %.40s", ph);
	free(text);

	ti_path(path, sizeof(path), "%s/%s", ti.dest, "usr/lib/systemd/system/pagepoold.service");
	text = bb_slurp(path);
	assert_has("pagepoold.service", text,
		   "\nExecStart=/usr/sbin/pagepoold -f -c /etc/pagepool/pagepoold.conf\n");
	assert_has("pagepoold.service", text,
		   "\nExecStartPre=/usr/sbin/pagepoold --check-config -c "
		   "/etc/pagepool/pagepoold.conf\n");
	if ((ph = placeholder(text)))
		fail_msg("pagepoold.service still has a placeholder: %.40s", ph);
	free(text);

	ti_path(path, sizeof(path), "%s/%s", ti.dest,
		"usr/lib/systemd/system/pagepool-metrics.service");
	text = bb_slurp(path);
	assert_has("pagepool-metrics.service", text, "'exec /usr/bin/pagepoolctl metrics > ");
	if ((ph = placeholder(text)))
		fail_msg("pagepool-metrics.service still has a placeholder: %.40s", ph);
	free(text);

	ti_path(path, sizeof(path), "%s/%s", ti.dest, lib_files[2].path);
	soname = elf_dyn_strings(path, DT_SONAME);
	if (!soname) {
		fail_msg("%s: not an ELF64 shared object with a dynamic section", path);
		return;	/* not reached; tells the compiler so */
	}
	print_message("soname of %s: %s\n", lib_files[2].path, soname);
	ti_path(want_soname, sizeof(want_soname), "%s%s ", lib_links[0], "");
	assert_string_equal(soname, want_soname);
	free(soname);

	/* The installed daemon starts (its libraries resolve). */
	ti_path(path, sizeof(path), "%s/%s", ti.dest, "usr/sbin/pagepoold");
	{
		const char *argv[] = { path, "--version", NULL };
		struct run r = run_ok("installed pagepoold --version", argv, NULL, TOOL_TIMEOUT_MS);

		assert_has("pagepoold --version", r.out, "pagepoold ");
		run_free(&r);
	}
}

static const char conf_example[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = auto\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n";

/*
 * The installed pagepool.pc (found through PKG_CONFIG_LIBDIR, rebased with
 * PKG_CONFIG_SYSROOT_DIR) compiles and links client/example.c against the
 * installed header and shared library: NEEDED libpagepool.so.MAJOR, resolved
 * to the installed copy; then the program passes against a live daemon.
 */
static void test_pkgconfig_example(void **state)
{
	struct bb *f = *state;
	const char *sanflags = getenv("PP_SANFLAGS"), *cc = getenv("PP_CC");
	char pcdir[PATH_MAX], sysroot_env[PATH_MAX], libdir_env[PATH_MAX * 2], libpath_env[PATH_MAX];
	char exe[PATH_MAX], cmd[PATH_MAX * 4], want[PATH_MAX * 2], soname[64];
	char *needed, *pc_path, *nl;
	struct run r;

	ti_install();
	ti_version();
	snprintf(soname, sizeof(soname), "libpagepool.so.%s", ti.soversion);
	{
		const char *argv[] = { "pkg-config", "--variable", "pc_path", "pkg-config", NULL };

		r = run_ok("pkg-config --variable pc_path pkg-config", argv, NULL, TOOL_TIMEOUT_MS);
		pc_path = strdup(r.out);
		run_free(&r);
		assert_non_null(pc_path);
		if ((nl = strchr(pc_path, '\n')))
			*nl = '\0';
	}
	/* The system's directories stay searchable for Requires.private
	 * (libprotobuf-c); the install's comes first. */
	ti_path(pcdir, sizeof(pcdir), "%s/%s", ti.dest, "usr/lib/pkgconfig");
	ti_path(sysroot_env, sizeof(sysroot_env), "%s%s", "PKG_CONFIG_SYSROOT_DIR=", ti.dest);
	snprintf(libdir_env, sizeof(libdir_env), "PKG_CONFIG_LIBDIR=%s:%s", pcdir, pc_path);
	free(pc_path);
	{
		const char *env[] = { sysroot_env, libdir_env, "PKG_CONFIG_PATH", NULL };
		const char *ver[] = { "pkg-config", "--modversion", "pagepool", NULL };
		const char *flags[] = { "pkg-config", "--cflags", "--libs", "pagepool", NULL };

		r = run_ok("pkg-config --modversion pagepool", ver, env, TOOL_TIMEOUT_MS);
		snprintf(want, sizeof(want), "%s\n", ti.version);
		assert_string_equal(r.out, want);
		run_free(&r);
		r = run_ok("pkg-config --cflags --libs pagepool", flags, env, TOOL_TIMEOUT_MS);
		print_message("pkg-config --cflags --libs pagepool: %s", r.out);
		snprintf(want, sizeof(want), "-I%s/usr/include", ti.dest);
		assert_has("pkg-config --cflags", r.out, want);
		snprintf(want, sizeof(want), "-L%s/usr/lib", ti.dest);
		assert_has("pkg-config --libs", r.out, want);
		assert_has("pkg-config --libs", r.out, "-lpagepool");
		run_free(&r);
	}

	/* Compile and link, with the build's sanitizer flags if any. */
	ti_path(exe, sizeof(exe), "%s/%s", ti.dir, "pp-example");
	snprintf(cmd, sizeof(cmd),
		 "%s %s -Wall -Werror $(pkg-config --cflags pagepool) '%s/client/example.c' "
		 "-o '%s' $(pkg-config --libs pagepool)",
		 cc && *cc ? cc : "cc", sanflags ? sanflags : "", ti.src, exe);
	{
		const char *env[] = { sysroot_env, libdir_env, "PKG_CONFIG_PATH", NULL };
		const char *argv[] = { "/bin/sh", "-c", cmd, NULL };

		r = run_ok("compiling client/example.c against the install", argv, env,
			   MAKE_TIMEOUT_MS);
		run_free(&r);
	}
	needed = elf_dyn_strings(exe, DT_NEEDED);
	if (!needed) {
		fail_msg("%s: not an ELF64 executable with a dynamic section", exe);
		return;
	}
	print_message("NEEDED of the example: %s\n", needed);
	snprintf(want, sizeof(want), "%s ", soname);
	if (!strstr(needed, want))
		fail_msg("the example does not need %s (NEEDED: %s)", soname, needed);
	free(needed);

	/* The dynamic linker resolves it to the installed copy. */
	ti_path(libpath_env, sizeof(libpath_env), "%s%s/usr/lib", "LD_LIBRARY_PATH=", ti.dest);
	{
		const char *env[] = { libpath_env, "LD_TRACE_LOADED_OBJECTS=1", NULL };
		const char *argv[] = { exe, NULL };

		r = run_ok("listing the example's libraries (ldd)", argv, env, TOOL_TIMEOUT_MS);
		snprintf(want, sizeof(want), "%s => %s/usr/lib/%s ", soname, ti.dest, soname);
		assert_has("the example's resolved libraries", r.out, want);
		run_free(&r);
	}

	if (!getenv("PAGEPOOLD") || !*getenv("PAGEPOOLD")) {
		print_message("PAGEPOOLD is not set: the example was built but not run\n");
		return;
	}
	bb_start(f, conf_example);
	{
		const char *env[] = { libpath_env, NULL };
		const char *argv[] = { exe, f->sock, NULL };

		r = run_ok("the example, linked against the installed library", argv, env,
			   TOOL_TIMEOUT_MS);
		print_text("  example: ", r.out);
		run_free(&r);
	}
}

/* `pkg-config ARGS... pagepool` with the .pc directory pcdir searched first
 * (the system's after it, for Requires.private) and no sysroot; its stdout. */
static char *pc_query(const char *pcdir, const char *a1, const char *a2, const char *a3)
{
	const char *pvar[] = { "pkg-config", "--variable", "pc_path", "pkg-config", NULL };
	char libdir_env[PATH_MAX * 2], *out, *nl;
	const char *args[] = { a1, a2, a3 };
	const char *argv[8] = { "pkg-config" };
	int n = 1;
	struct run r;

	r = run_ok("pkg-config --variable pc_path pkg-config", pvar, NULL, TOOL_TIMEOUT_MS);
	if ((nl = strchr(r.out, '\n')))
		*nl = '\0';
	snprintf(libdir_env, sizeof(libdir_env), "PKG_CONFIG_LIBDIR=%s:%s", pcdir, r.out);
	run_free(&r);
	for (size_t i = 0; i < 3; i++)
		if (args[i])
			argv[n++] = args[i];
	argv[n++] = "pagepool";
	argv[n] = NULL;
	{
		const char *env[] = { libdir_env, "PKG_CONFIG_PATH", "PKG_CONFIG_SYSROOT_DIR",
				      NULL };

		r = run_ok("pkg-config on the staged pagepool.pc", argv, env, TOOL_TIMEOUT_MS);
	}
	print_message("pkg-config %s%s%s%s: %s", a1, a2 ? " " : "", a2 ? a2 : "",
		      a3 ? " ..." : "", r.out);
	out = r.out;
	free(r.err);
	return out;
}

/* The pagepool.pc of an install into dest with one more make variable:
 * its text (malloc'd). */
static char *pc_of_install(const char *name, const char *prefix, const char *var,
			   const char *pc_rel)
{
	char dest[PATH_MAX], path[PATH_MAX];
	struct run r;

	ti_path(dest, sizeof(dest), "%s/%s", ti.dir, name);
	r = make_run_var("install", dest, prefix, var);
	run_free(&r);
	ti_path(path, sizeof(path), "%s/%s", dest, pc_rel);
	if (access(path, R_OK) != 0)
		fail_msg("make install %s put no pagepool.pc at %s", var, pc_rel);
	return bb_slurp(path);
}

/*
 * The staged pagepool.pc is relocatable: `pkg-config --define-prefix` finds
 * prefix from where the file lies (DESTDIR/usr/lib/pkgconfig -> DESTDIR/usr)
 * and libdir and includedir follow it, so a staged tree (or one moved
 * elsewhere) is usable as it is; without --define-prefix the paths are the
 * installed ones.  A multiarch LIBDIR under PREFIX stays relative to
 * ${exec_prefix}; a LIBDIR outside PREFIX stays absolute.
 */
static void test_pkgconfig_define_prefix(void **state)
{
	char pcdir[PATH_MAX], want[PATH_MAX];
	char *out, *text;

	ti_install();
	ti_path(pcdir, sizeof(pcdir), "%s/%s", ti.dest, "usr/lib/pkgconfig");

	out = pc_query(pcdir, "--define-prefix", "--variable=prefix", NULL);
	snprintf(want, sizeof(want), "%s/usr\n", ti.dest);
	assert_string_equal(out, want);
	free(out);
	out = pc_query(pcdir, "--define-prefix", "--variable=libdir", NULL);
	snprintf(want, sizeof(want), "%s/usr/lib\n", ti.dest);
	assert_string_equal(out, want);
	free(out);
	out = pc_query(pcdir, "--define-prefix", "--variable=includedir", NULL);
	snprintf(want, sizeof(want), "%s/usr/include\n", ti.dest);
	assert_string_equal(out, want);
	free(out);
	out = pc_query(pcdir, "--define-prefix", "--cflags", "--libs");
	snprintf(want, sizeof(want), "-I%s/usr/include ", ti.dest);
	assert_has("pkg-config --define-prefix --cflags", out, want);
	snprintf(want, sizeof(want), "-L%s/usr/lib ", ti.dest);
	assert_has("pkg-config --define-prefix --libs", out, want);
	free(out);
	out = pc_query(pcdir, "--dont-define-prefix", "--variable=libdir", NULL);
	assert_string_equal(out, "/usr/lib\n");
	free(out);

	text = pc_of_install("dest-multiarch", "/usr", "LIBDIR=/usr/lib/x86_64-linux-gnu",
			     "usr/lib/x86_64-linux-gnu/pkgconfig/pagepool.pc");
	assert_has("pagepool.pc (LIBDIR=/usr/lib/x86_64-linux-gnu)", text,
		   "\nlibdir=${exec_prefix}/lib/x86_64-linux-gnu\n");
	assert_has("pagepool.pc (LIBDIR=/usr/lib/x86_64-linux-gnu)", text,
		   "\nincludedir=${prefix}/include\n");
	free(text);
	text = pc_of_install("dest-outside", "/opt/pagepool", "LIBDIR=/usr/lib/pagepool",
			     "usr/lib/pagepool/pkgconfig/pagepool.pc");
	assert_has("pagepool.pc (LIBDIR outside PREFIX)", text, "\nprefix=/opt/pagepool\n");
	assert_has("pagepool.pc (LIBDIR outside PREFIX)", text, "\nlibdir=/usr/lib/pagepool\n");
	assert_has("pagepool.pc (LIBDIR outside PREFIX)", text,
		   "\nincludedir=${prefix}/include\n");
	free(text);
}

/* The version field of the first .TH line of a man page: the text between
 * the quotes of its fourth argument, in buf ("" if there is none). */
static void man_th_source(const char *text, char *buf, size_t len)
{
	const char *th = strncmp(text, ".TH ", 4) == 0 ? text : strstr(text, "\n.TH ");
	const char *q1, *q2;

	buf[0] = '\0';
	if (!th)
		return;
	q1 = strchr(th + 1, '"');
	q2 = q1 ? strchr(q1 + 1, '"') : NULL;
	if (!q2 || memchr(th + 1, '\n', (size_t)(q2 - th - 1)) || (size_t)(q2 - q1) > len)
		return;
	memcpy(buf, q1 + 1, (size_t)(q2 - q1 - 1));
	buf[q2 - q1 - 1] = '\0';
}

/*
 * One version everywhere: `make version` (the Makefile's VERSION) is what
 * the installed pagepoold --version and pagepoolctl --version print, the
 * installed pagepool.pc's Version:, the "pagepool VERSION" of every
 * installed man page's .TH line, the installed library's file name
 * (libpagepool.so.VERSION), and its soname's number (VERSION's first).
 */
static void test_one_version(void **state)
{
	char path[PATH_MAX], want[128], got[128];
	char *text, *soname;
	unsigned checked = 0;
	struct run r;

	ti_install();
	ti_version();
	ti_path(path, sizeof(path), "%s/%s", ti.dest, "usr/sbin/pagepoold");
	{
		const char *argv[] = { path, "--version", NULL };

		r = run_ok("installed pagepoold --version", argv, NULL, TOOL_TIMEOUT_MS);
		snprintf(want, sizeof(want), "pagepoold %s\n", ti.version);
		print_message("pagepoold --version: %s", r.out);
		assert_string_equal(r.out, want);
		run_free(&r);
	}
	ti_path(path, sizeof(path), "%s/%s", ti.dest, "usr/bin/pagepoolctl");
	{
		const char *argv[] = { path, "--version", NULL };
		size_t n;

		r = run_ok("installed pagepoolctl --version", argv, NULL, TOOL_TIMEOUT_MS);
		snprintf(want, sizeof(want), "pagepoolctl %s", ti.version);
		n = strlen(want);
		print_message("pagepoolctl --version: %s", r.out);
		if (strncmp(r.out, want, n) != 0 || (r.out[n] != ' ' && r.out[n] != '\n'))
			fail_msg("pagepoolctl --version says \"%.*s\", not \"%s\"",
				 (int)strcspn(r.out, "\n"), r.out, want);
		run_free(&r);
	}
	ti_path(path, sizeof(path), "%s/%s", ti.dest, "usr/lib/pkgconfig/pagepool.pc");
	text = bb_slurp(path);
	snprintf(want, sizeof(want), "\nVersion: %s\n", ti.version);
	assert_has("the installed pagepool.pc", text, want);
	print_message("pagepool.pc: Version: %s\n", ti.version);
	free(text);

	snprintf(want, sizeof(want), "pagepool %s", ti.version);
	for (size_t i = 0; i < sizeof(man_pages) / sizeof(man_pages[0]); i++) {
		const char *ph;

		ti_path(path, sizeof(path), "%s/%s", ti.dest, man_pages[i].inst);
		if (access(path, R_OK) != 0)
			fail_msg("%s was not installed", man_pages[i].inst);
		text = bb_slurp(path);
		man_th_source(text, got, sizeof(got));
		print_message("%s: .TH ... \"%s\"\n", man_pages[i].inst, got);
		if (strcmp(got, want) != 0)
			fail_msg("%s says \"%s\" on its .TH line, not \"%s\"", man_pages[i].inst,
				 got, want);
		if ((ph = placeholder(text)))
			fail_msg("%s still has a placeholder: %.40s", man_pages[i].inst, ph);
		free(text);
		checked++;
	}
	assert_int_equal(checked, sizeof(man_pages) / sizeof(man_pages[0]));

	ti_path(path, sizeof(path), "%s/usr/lib/libpagepool.so.%s", ti.dest, ti.version);
	soname = elf_dyn_strings(path, DT_SONAME);
	if (!soname) {
		fail_msg("%s: missing, or not an ELF64 shared object", path);
		return;
	}
	snprintf(want, sizeof(want), "libpagepool.so.%s ", ti.soversion);
	print_message("usr/lib/libpagepool.so.%s: soname %s\n", ti.version, soname);
	assert_string_equal(soname, want);
	free(soname);
}

/* The man pages Documentation= of the units names. */
static bool unit_man_pages_installed(const char *mandir)
{
	static const char *const pages[] = { "man8/pagepoold.8", "man5/pagepoold.conf.5",
					     "man8/pagepoolctl.8" };
	char path[PATH_MAX];
	bool all = true;

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		ti_path(path, sizeof(path), "%s/%s", mandir, pages[i]);
		if (access(path, R_OK) != 0) {
			print_message("%s not installed (not written yet?)\n", pages[i]);
			all = false;
		}
	}
	return all;
}

/*
 * `systemd-analyze verify` checks that every Exec binary exists, so it runs
 * on units installed with real paths (PREFIX=<tmp>/prefix, no DESTDIR): with
 * --root= it would look for /bin/kill and sysinit.target inside the root as
 * well.  MANPATH points at the installed man pages, so Documentation= is
 * checked too.  `security` needs no binary and rates the DESTDIR's unit,
 * the one a PREFIX=/usr package ships.
 */
static void test_systemd_analyze(void **state)
{
	char prefix[PATH_MAX], unitdir[PATH_MAX], units[5][PATH_MAX], mandir[PATH_MAX];
	char manpath_env[PATH_MAX], unit[PATH_MAX];
	unsigned tenths = 0, frac = 0;
	char level[16] = "";
	const char *line, *bol, *p;
	struct run r;
	bool man;

	ti_need();
	if (!bb_on_path("systemd-analyze")) {
		print_message("systemd-analyze is not installed: skipping\n");
		skip();
	}
	ti_install();
	ti_path(prefix, sizeof(prefix), "%s/%s", ti.dir, "prefix");
	r = make_run("install", NULL, prefix);
	run_free(&r);
	ti_path(unitdir, sizeof(unitdir), "%s/%s", prefix, "lib/systemd/system");
	ti_path(units[0], sizeof(units[0]), "%s/%s", unitdir, "pagepoold.service");
	ti_path(units[1], sizeof(units[1]), "%s/%s", unitdir, "pagepoold.socket");
	ti_path(units[2], sizeof(units[2]), "%s/%s", unitdir, "pagepoold-admin.socket");
	ti_path(units[3], sizeof(units[3]), "%s/%s", unitdir, "pagepool-metrics.service");
	ti_path(units[4], sizeof(units[4]), "%s/%s", unitdir, "pagepool-metrics.timer");
	ti_path(mandir, sizeof(mandir), "%s/%s", prefix, "share/man");
	ti_path(manpath_env, sizeof(manpath_env), "%s%s", "MANPATH=", mandir);
	man = unit_man_pages_installed(mandir);
	if (!man)
		print_message("so Documentation= is not checked (--man=no)\n");
	{
		const char *env[] = { manpath_env, "SYSTEMD_COLORS=0", "SYSTEMD_PAGER", NULL };
		const char *argv[] = { "systemd-analyze", "verify", man ? "--man=yes" : "--man=no",
				       units[0], units[1], units[2], units[3], units[4], NULL };

		r = run_env(argv, env, TOOL_TIMEOUT_MS);
		run_print(argv, &r);
		if (r.code != 0 || r.out[0] || r.err[0])
			fail_msg("systemd-analyze verify is not clean (exit %d, output above)",
				 r.code);
		run_free(&r);
	}

	ti_path(unit, sizeof(unit), "%s/%s", ti.dest, "usr/lib/systemd/system/pagepoold.service");
	{
		const char *env[] = { "SYSTEMD_COLORS=0", "SYSTEMD_PAGER", NULL };
		const char *argv[] = { "systemd-analyze", "security", "--offline=true", "--no-pager",
				       unit, NULL };

		r = run_ok("systemd-analyze security --offline=true", argv, env, TOOL_TIMEOUT_MS);
	}
	line = strstr(r.out, EXPOSURE);
	if (!line) {
		print_text("  | ", r.out);
		fail_msg("no \"Overall exposure level\" line in systemd-analyze security's output");
	}
	/* What still counts against it, then the verdict. */
	for (p = r.out; *p;) {
		size_t n = strcspn(p, "\n");

		if (strncmp(p, "\xe2\x9c\x97 ", 4) == 0)	/* U+2717, the "bad" mark */
			print_message("  %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
	for (bol = line; bol > r.out && bol[-1] != '\n'; bol--)
		;
	print_message("%.*s\n", (int)strcspn(bol, "\n"), bol);
	if (sscanf(line + strlen(EXPOSURE), "%u.%u %15s", &tenths, &frac, level) != 3 || frac > 9)
		fail_msg("cannot read the exposure figure in: %.*s", (int)strcspn(line, "\n"), line);
	tenths = tenths * 10 + frac;
	/* systemd's table: below 5.0 is OK, below 1.0 SAFE, 0.0 PERFECT.  The
	 * issue asks for OK; the shipped unit rates 0.5 SAFE, and OK alone is a
	 * weak gate (a unit with every Protect*=, Private*= and Restrict*= line
	 * deleted still rates 4.5 OK), so losing any hardening fails here. */
	if (tenths >= 10 || (strcmp(level, "SAFE") != 0 && strcmp(level, "PERFECT") != 0))
		fail_msg("pagepoold.service rates %u.%u %s, worse than SAFE (below 1.0): "
			 "hardening was lost", tenths / 10, tenths % 10, level);
	run_free(&r);

	/* The metrics snapshot's sandbox is the daemon's (it rates 0.4 SAFE):
	 * below 1.0 too. */
	ti_path(unit, sizeof(unit), "%s/%s", ti.dest,
		"usr/lib/systemd/system/pagepool-metrics.service");
	{
		const char *env[] = { "SYSTEMD_COLORS=0", "SYSTEMD_PAGER", NULL };
		const char *argv[] = { "systemd-analyze", "security", "--offline=true", "--no-pager",
				       unit, NULL };

		r = run_ok("systemd-analyze security --offline=true", argv, env, TOOL_TIMEOUT_MS);
	}
	line = strstr(r.out, METRICS_EXPOSURE);
	if (!line || strncmp(line + strlen(METRICS_EXPOSURE), "0.", 2) != 0) {
		print_text("  | ", r.out);
		fail_msg("pagepool-metrics.service does not rate below 1.0 (SAFE): "
			 "hardening was lost");
	}
	print_message("%.*s\n", (int)strcspn(line, "\n"), line);
	run_free(&r);
}

/*
 * The installed sysusers.d entry makes a system user and group pagepool
 * with no login in a scratch root; then the tmpfiles.d entry makes
 * /run/pagepool there, 0755, owned by them.  (Needs root for the chown.)
 */
static void test_sysusers_tmpfiles(void **state)
{
	char root[PATH_MAX], etc[PATH_MAX], conf_u[PATH_MAX], conf_t[PATH_MAX], path[PATH_MAX];
	char rootarg[PATH_MAX + 8], shell[64] = "";
	unsigned uid = 0, gid = 0, ggid = 0;
	struct stat st;
	char *text;
	const char *ent;
	struct run r;

	ti_need();
	if (!bb_on_path("systemd-sysusers") || !bb_on_path("systemd-tmpfiles")) {
		print_message("systemd-sysusers or systemd-tmpfiles is not installed: skipping\n");
		skip();
	}
	if (geteuid() != 0) {
		print_message("not root: systemd-tmpfiles could not chown; skipping\n");
		skip();
	}
	ti_install();
	ti_path(root, sizeof(root), "%s/%s", ti.dir, "sysroot");
	ti_path(etc, sizeof(etc), "%s/%s", root, "etc");
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(etc, 0755), 0);
	ti_path(rootarg, sizeof(rootarg), "%s%s", "--root=", root);
	ti_path(conf_u, sizeof(conf_u), "%s/%s", ti.dest, "usr/lib/sysusers.d/pagepool.conf");
	ti_path(conf_t, sizeof(conf_t), "%s/%s", ti.dest, "usr/lib/tmpfiles.d/pagepool.conf");
	{
		const char *argv[] = { "systemd-sysusers", rootarg, conf_u, NULL };

		r = run_ok("systemd-sysusers on the installed sysusers.d entry", argv, NULL,
			   TOOL_TIMEOUT_MS);
		run_free(&r);
	}
	ti_path(path, sizeof(path), "%s/%s", etc, "passwd");
	text = bb_slurp(path);
	print_text("  passwd: ", text);
	ent = strstr(text, "pagepool:x:");
	if (!ent || sscanf(ent, "pagepool:x:%u:%u:%*[^:]:/:%63[^\n]", &uid, &gid, shell) != 3)
		fail_msg("no \"pagepool:x:UID:GID:...:/:SHELL\" entry in %s", path);
	free(text);
	if (uid == 0 || uid >= 1000 || !strstr(shell, "nologin"))
		fail_msg("pagepool is uid %u with shell %s: expected a system uid (1..999) and "
			 "no login", uid, shell);
	ti_path(path, sizeof(path), "%s/%s", etc, "group");
	text = bb_slurp(path);
	ent = strstr(text, "pagepool:x:");
	if (!ent || sscanf(ent, "pagepool:x:%u:", &ggid) != 1 || ggid != gid)
		fail_msg("group pagepool missing from %s or not gid %u", path, gid);
	free(text);

	{
		const char *argv[] = { "systemd-tmpfiles", rootarg, "--create", conf_t, NULL };

		r = run_ok("systemd-tmpfiles --create on the installed tmpfiles.d entry", argv,
			   NULL, TOOL_TIMEOUT_MS);
		run_free(&r);
	}
	ti_path(path, sizeof(path), "%s/%s", root, "run/pagepool");
	assert_int_equal(lstat(path, &st), 0);
	print_message("  run/pagepool: %04o %u:%u (pagepool is %u:%u)\n",
		      (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
		      uid, gid);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
}

/* Each installed man page renders with `man --warnings` without a word on
 * stderr, and its title line is there. */
static void test_man_pages(void **state)
{
	unsigned checked = 0;

	ti_install();
	for (size_t i = 0; i < sizeof(man_pages) / sizeof(man_pages[0]); i++) {
		char src[PATH_MAX], inst[PATH_MAX];
		const char *env[] = { "MANWIDTH=80", "MAN_KEEP_FORMATTING", "MANPAGER", "PAGER",
				      NULL };
		const char *argv[] = { "man", "--warnings", "-l", inst, NULL };
		struct run r;

		ti_path(src, sizeof(src), "%s/%s", ti.src, man_pages[i].src);
		ti_path(inst, sizeof(inst), "%s/%s", ti.dest, man_pages[i].inst);
		if (access(src, R_OK) != 0) {
			print_message("%s is not written yet: skipped\n", man_pages[i].src);
			continue;
		}
		if (access(inst, R_OK) != 0)
			fail_msg("%s exists but was not installed as %s", man_pages[i].src,
				 man_pages[i].inst);
		if (!bb_on_path("man")) {
			print_message("man is not installed: skipping\n");
			skip();
		}
		r = run_env(argv, env, TOOL_TIMEOUT_MS);
		if (r.code != 0 || r.err[0] || !strstr(r.out, man_pages[i].title)) {
			run_print(argv, &r);
			fail_msg("%s does not render cleanly (exit %d, warnings above, title %s %s)",
				 man_pages[i].inst, r.code, man_pages[i].title,
				 strstr(r.out, man_pages[i].title) ? "found" : "missing");
		}
		print_message("%s: renders without warnings (%zu bytes)\n", man_pages[i].inst,
			      strlen(r.out));
		run_free(&r);
		checked++;
	}
	if (!checked) {
		print_message("no man page written yet: skipping\n");
		skip();
	}
}

/*
 * A second install over an edited configuration keeps the edit; uninstall
 * then removes every file but that configuration; once the configuration is
 * the shipped one again, uninstall removes it (and its directory) too.
 */
static void test_reinstall_uninstall(void **state)
{
	char dest[PATH_MAX], conf[PATH_MAX], shipped[PATH_MAX];
	char *text, *edited;
	struct run r;
	FILE *fp;

	ti_need();
	ti_path(dest, sizeof(dest), "%s/%s", ti.dir, "dest2");
	ti_path(conf, sizeof(conf), "%s/%s", dest, "etc/pagepool/pagepoold.conf");
	ti_path(shipped, sizeof(shipped), "%s/%s", ti.src, "conf/pagepoold.conf");
	r = make_run("install", dest, "/usr");
	run_free(&r);
	fp = fopen(conf, "ae");
	assert_non_null(fp);
	fputs("# edited by the operator\n", fp);
	assert_int_equal(fclose(fp), 0);
	edited = bb_slurp(conf);

	r = make_run("install", dest, "/usr");
	assert_has("the second make install's output", r.out, "kept");
	run_free(&r);
	text = bb_slurp(conf);
	if (strcmp(text, edited) != 0)
		fail_msg("make install overwrote the edited %s", conf);
	free(text);

	r = make_run("uninstall", dest, "/usr");
	run_free(&r);
	walk_tree(dest);
	for (unsigned i = 0; i < walk_n; i++)
		print_message("  left after uninstall: %s\n", walk_found[i]);
	if (walk_n != 1 || strcmp(walk_found[0], "etc/pagepool/pagepoold.conf") != 0)
		fail_msg("uninstall left %u file(s); expected only the edited configuration", walk_n);
	text = bb_slurp(conf);
	if (strcmp(text, edited) != 0)
		fail_msg("make uninstall changed the edited %s", conf);
	free(text);
	free(edited);

	/* Back to the shipped file: now it goes, with etc/pagepool. */
	text = bb_slurp(shipped);
	bb_write_file(conf, text);
	free(text);
	r = make_run("uninstall", dest, "/usr");
	run_free(&r);
	walk_tree(dest);
	for (unsigned i = 0; i < walk_n; i++)
		print_message("  left after uninstall: %s\n", walk_found[i]);
	assert_int_equal(walk_n, 0);
	ti_path(conf, sizeof(conf), "%s/%s", dest, "etc/pagepool");
	if (access(conf, F_OK) == 0)
		fail_msg("uninstall left the empty directory etc/pagepool");
}

/* ---- the unit's sandbox against the daemon's real system calls ------------- */

/* A set of names: system calls. */
struct names {
	char **v;
	unsigned n, cap;
};

static bool names_has(const struct names *s, const char *name)
{
	for (unsigned i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return true;
	return false;
}

static void names_add(struct names *s, const char *name)
{
	if (names_has(s, name))
		return;
	if (s->n == s->cap) {
		char **nv = realloc(s->v, (s->cap + 256) * sizeof(*nv));

		assert_non_null(nv);
		s->v = nv;
		s->cap += 256;
	}
	s->v[s->n] = strdup(name);
	assert_non_null(s->v[s->n]);
	s->n++;
}

static void names_del(struct names *s, const char *name)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (strcmp(s->v[i], name) == 0) {
			free(s->v[i]);
			s->v[i] = s->v[--s->n];
			return;
		}
	}
}

static void names_free(struct names *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/*
 * Every system call `item` stands for (a name, or an @group expanded
 * recursively with `systemd-analyze syscall-filter`), added to or removed
 * from s.  depth bounds the recursion.
 */
static void names_apply(struct names *s, const char *item, bool add, int depth)
{
	const char *argv[] = { "systemd-analyze", "syscall-filter", "--no-pager", item, NULL };
	struct run r;
	char *p, *line;

	if (item[0] != '@') {
		if (add)
			names_add(s, item);
		else
			names_del(s, item);
		return;
	}
	assert_true(depth < 8);
	r = run_ok("systemd-analyze syscall-filter", argv, NULL, TOOL_TIMEOUT_MS);
	/* "@group\n    # what it is\n    name\n    @nested\n..." */
	p = r.out;
	line = strsep(&p, "\n");
	while ((line = strsep(&p, "\n")) != NULL) {
		line += strspn(line, " \t");
		if (!*line || *line == '#')
			continue;
		names_apply(s, line, add, depth + 1);
	}
	run_free(&r);
}

/*
 * The system calls SystemCallFilter= of the unit text allows: the first
 * assignment (an allow list in this unit) sets, each "~" assignment takes
 * away, each later plain one adds.  Asserts the unit has an allow list.
 */
static void unit_allowed(const char *unit, struct names *allowed)
{
	const char *p = unit;
	bool first = true;

	while ((p = strstr(p, "\nSystemCallFilter="))) {
		char buf[512], *items, *tok;
		size_t n;
		bool add;

		p += strlen("\nSystemCallFilter=");
		n = strcspn(p, "\n");
		assert_true(n < sizeof(buf));
		memcpy(buf, p, n);
		buf[n] = '\0';
		add = buf[0] != '~';
		if (first && !add)
			fail_msg("the unit's first SystemCallFilter= is a deny list; this check "
				 "expects an allow list");
		first = false;
		items = buf + !add;
		while ((tok = strsep(&items, " \t")) != NULL)
			if (*tok)
				names_apply(allowed, tok, add, 0);
	}
	if (first)
		fail_msg("the installed unit has no SystemCallFilter=");
}

/* A daemon run under strace by test_sandbox_fits_daemon, for its teardown. */
static pid_t sb_strace, sb_daemon;

static int sandbox_teardown(void **state)
{
	if (sb_daemon > 0)
		kill(sb_daemon, SIGKILL);
	if (sb_strace > 0)
		bb_reap(sb_strace, 5000);
	sb_daemon = sb_strace = 0;
	return 0;
}

static const char conf_sandbox[] =
	"[daemon]\n"
	"socket = %s/s.sock\n"
	"admin_socket = %s/a.sock\n"
	"workers = auto\n"
	"decay_interval = 1\n"
	"\n"
	"[pool default]\n"
	"size = 16M\n"
	"prefault = yes\n";

/*
 * The installed pagepoold, run under strace while a client allocates and
 * frees (its arena arrives by SCM_RIGHTS) and pagepoolctl drains, takes a
 * range offline (punching the memfd) and back, trims, verifies and reloads,
 * then SIGTERM: every system call it made is allowed by the installed unit's
 * SystemCallFilter=, every socket it opened is AF_UNIX
 * (RestrictAddressFamilies=), and no mapping is both writable and
 * executable and none is made executable later (MemoryDenyWriteExecute=).
 * That is the sandbox of pagepoold.service without needing systemd to run.
 */
static void test_sandbox_fits_daemon(void **state)
{
	static const char *const ctl_cmds[][6] = {
		{ "status" }, { "drain" }, { "offline", "default", "0", "1024" },
		{ "online", "default", "0", "1024" }, { "trim" }, { "verify" }, { "reload" },
	};
	char unitp[PATH_MAX], exe[PATH_MAX], ctl[PATH_MAX], conf[PATH_MAX], trace[PATH_MAX];
	char logp[PATH_MAX], sock[PATH_MAX], asock[PATH_MAX], fdarg[16], text[1024];
	const char *san = getenv("PP_SAN");
	struct names allowed = { 0 }, used = { 0 };
	unsigned bad = 0, nsock = 0;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct pp_client *c = NULL;
	uint32_t pfns[64];
	unsigned got;
	char *unit, *log, *p, *line;
	int rd[2], fd, code;

	ti_need();
	if (san && *san) {
		print_message("sanitizer build (SAN=%s): its runtime makes system calls of its "
			      "own; skipping\n", san);
		skip();
	}
	if (!bb_on_path("strace") || !bb_on_path("systemd-analyze")) {
		print_message("strace or systemd-analyze is not installed: skipping\n");
		skip();
	}
	ti_install();
	ti_path(unitp, sizeof(unitp), "%s/%s", ti.dest, "usr/lib/systemd/system/pagepoold.service");
	unit = bb_slurp(unitp);
	unit_allowed(unit, &allowed);
	if (!strstr(unit, "\nRestrictAddressFamilies=AF_UNIX\n") ||
	    !strstr(unit, "\nMemoryDenyWriteExecute=yes\n"))
		fail_msg("the unit no longer says RestrictAddressFamilies=AF_UNIX and "
			 "MemoryDenyWriteExecute=yes: update this test with it");
	free(unit);
	print_message("the unit's SystemCallFilter= allows %u system calls\n", allowed.n);

	ti_path(exe, sizeof(exe), "%s/%s", ti.dest, "usr/sbin/pagepoold");
	ti_path(ctl, sizeof(ctl), "%s/%s", ti.dest, "usr/bin/pagepoolctl");
	ti_path(conf, sizeof(conf), "%s/%s", ti.dir, "sandbox.conf");
	ti_path(trace, sizeof(trace), "%s/%s", ti.dir, "sandbox.strace");
	ti_path(logp, sizeof(logp), "%s/%s", ti.dir, "sandbox.log");
	ti_path(sock, sizeof(sock), "%s/%s", ti.dir, "s.sock");
	ti_path(asock, sizeof(asock), "%s/%s", ti.dir, "a.sock");
	snprintf(text, sizeof(text), conf_sandbox, ti.dir, ti.dir);
	bb_write_file(conf, text);

	/* strace keeps its own copy of the ready pipe: READY is all we get. */
	assert_int_equal(pipe2(rd, O_CLOEXEC), 0);
	snprintf(fdarg, sizeof(fdarg), "%d", rd[1]);
	{
		const char *argv[] = { "strace", "-f", "-qq", "-e", "signal=none", "-o", trace,
				       exe, "-f", "-c", conf, "--ready-fd", fdarg, NULL };
		struct bb_prog prog = { .argv = argv, .out = logp, .err = logp, .keep_fd = rd[1] };

		sb_strace = bb_prog_spawn(&prog);
	}
	close(rd[1]);
	if (bb_read_ready(rd[0], BB_READY_TIMEOUT_MS) != 1) {
		close(rd[0]);
		bb_print_tail("pagepoold under strace", logp, 4000);
		fail_msg("the installed pagepoold did not get READY under strace");
	}
	close(rd[0]);

	/* Who is the daemon (strace's child)?  The socket says. */
	fd = bb_socket_connect(sock);
	assert_true(fd >= 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen), 0);
	close(fd);
	sb_daemon = cred.pid;

	bb_assert_rc(c, pp_connect(sock, NULL, &c), 0);
	bb_assert_rc(c, pp_alloc(c, 0, 64, PP_ZERO, pfns, &got), 0);
	bb_assert_rc(c, pp_free(c, pfns, got, NULL), 0);
	pp_close(c);
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		const char *argv[10] = { ctl, "-s", asock };
		struct run r;
		int n = 3;

		for (int k = 0; k < 6 && ctl_cmds[i][k]; k++)
			argv[n++] = ctl_cmds[i][k];
		argv[n] = NULL;
		r = run_ok("pagepoolctl", argv, NULL, TOOL_TIMEOUT_MS);
		run_free(&r);
	}
	assert_int_equal(kill(sb_daemon, SIGTERM), 0);
	code = bb_reap(sb_strace, BB_STOP_TIMEOUT_MS);
	sb_strace = 0;
	sb_daemon = 0;
	if (code != 0) {
		bb_print_tail("pagepoold under strace", logp, 4000);
		fail_msg("pagepoold under strace ended with %d after SIGTERM (expected 0)", code);
	}

	/* "PID name(args) = result", "PID name(args <unfinished ...>", or
	 * "PID <... name resumed>...": the first two name a call. */
	log = bb_slurp(trace);
	for (p = log; (line = strsep(&p, "\n")) != NULL;) {
		char name[64];
		const char *call = line + strspn(line, "0123456789 ");

		if (sscanf(call, "%63[a-z0-9_](", name) != 1 || call[strlen(name)] != '(')
			continue;
		names_add(&used, name);
		if (!names_has(&allowed, name)) {
			print_error("  not allowed by SystemCallFilter=: %.200s\n", line);
			bad++;
		}
		if (strcmp(name, "socket") == 0 && ++nsock &&
		    strncmp(call, "socket(AF_UNIX,", 15) != 0) {
			print_error("  not AF_UNIX: %.200s\n", line);
			bad++;
		}
		if ((strcmp(name, "mmap") == 0 && strstr(call, "PROT_WRITE|PROT_EXEC")) ||
		    ((strcmp(name, "mprotect") == 0 || strcmp(name, "pkey_mprotect") == 0) &&
		     strstr(call, "PROT_EXEC"))) {
			print_error("  breaks MemoryDenyWriteExecute=: %.200s\n", line);
			bad++;
		}
	}
	free(log);
	print_message("pagepoold made %u distinct system calls (%u socket()), all inside the "
		      "unit's sandbox: %s\n", used.n, nsock, bad ? "NO" : "yes");
	names_free(&used);
	names_free(&allowed);
	if (bad)
		fail_msg("%u system call(s) of pagepoold fall outside pagepoold.service's sandbox "
			 "(listed above)", bad);
}

/* ---- main ------------------------------------------------------------------ */

static int ti_setup(void **state)
{
	ti.src = getenv("PP_SRCDIR");
	ti.build = getenv("PP_BUILD");
	if (!ti.src || !*ti.src || !ti.build || !*ti.build)
		return 0;
	strcpy(ti.dir, "/tmp/ppinst-XXXXXX");
	if (!mkdtemp(ti.dir))
		return -1;
	snprintf(ti.dest, sizeof(ti.dest), "%s/dest", ti.dir);
	ti.ready = true;
	return 0;
}

static int ti_teardown(void **state)
{
	for (unsigned i = 0; i < walk_n; i++)
		free(walk_found[i]);
	walk_n = 0;
	if (ti.ready) {
		if (getenv("BB_KEEP"))
			print_message("kept %s\n", ti.dir);
		else
			bb_rm_rf(ti.dir);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install_files),
		bb_test(test_pkgconfig_example),
		cmocka_unit_test(test_pkgconfig_define_prefix),
		cmocka_unit_test(test_one_version),
		cmocka_unit_test(test_systemd_analyze),
		cmocka_unit_test(test_sysusers_tmpfiles),
		cmocka_unit_test(test_man_pages),
		cmocka_unit_test(test_reinstall_uninstall),
		cmocka_unit_test_teardown(test_sandbox_fits_daemon, sandbox_teardown),
	};

	return cmocka_run_group_tests(tests, ti_setup, ti_teardown);
}
