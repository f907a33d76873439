/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_file.c - files for the black-box tests (see bb_file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bb_file.h"

char *bb_slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (f) {
		for (;;) {
			size_t n;

			if (cap - len < 4096) {
				char *nb = realloc(buf, cap + 65536);

				if (!nb)
					break;
				buf = nb;
				cap += 65536;
			}
			n = fread(buf + len, 1, cap - len - 1, f);
			if (n == 0)
				break;
			len += n;
		}
		fclose(f);
	}
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	return buf;
}

void bb_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	size_t len = strlen(text);

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Write all of buf[n] to fd: 0 or -1 with errno. */
static int write_all(int fd, const char *buf, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, buf + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

int bb_copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in, out = -1, ret;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		goto fail;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(out, buf, (size_t)n) < 0)
			goto fail;
	}
	if (fchmod(out, mode) < 0)
		goto fail;
	ret = close(out);
	out = -1;
	if (ret < 0)
		goto fail;
	close(in);
	return 0;
fail:
	ret = -errno;
	if (out >= 0)
		close(out);
	close(in);
	return ret;
}

bool bb_others_can_reach(const char *path, char *bad, size_t len)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (path[0] != '/' || n >= sizeof(dir)) {
		snprintf(bad, len, "%s (not an absolute path)", path);
		return false;
	}
	for (size_t i = 1; i <= n; i++) {
		struct stat st;

		if (i > 1 && i < n && path[i] != '/')
			continue;
		memcpy(dir, path, i);
		dir[i] = '\0';
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || !(st.st_mode & S_IXOTH)) {
			snprintf(bad, len, "%s", dir);
			return false;
		}
	}
	return true;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

void bb_rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void bb_print_tail(const char *title, const char *path, size_t max)
{
	char *text = bb_slurp(path);
	size_t len = strlen(text);
	const char *p = len > max ? text + len - max : text;

	print_message("---- %s (%s%s) ----\n", title, path, len > max ? ", tail" : "");
	while (*p) {
		size_t n = strcspn(p, "\n");

		if (n > 500)
			n = 500;
		print_message("%.*s\n", (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
	print_message("---- end ----\n");
	free(text);
}

bool bb_on_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);

		if (n && n + strlen(name) + 2 < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
			if (access(buf, X_OK) == 0)
				return true;
		}
		path = end ? end + 1 : NULL;
	}
	return false;
}
