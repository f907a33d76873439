/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ctl_deps.c - pagepoolctl links what it uses and no more: its
 * config-check links the daemon's config.o and names.o, which need libc and
 * inih only, so pagepoolctl must not need liburcu (nor, with it, the
 * allocator core that would pull it in).  Read from the ELF dynamic
 * section's DT_NEEDED entries of the built binaries, found next to this
 * test's own directory ($(BUILD)/tests/.. = $(BUILD)).  pagepoold is read
 * the same way and must need liburcu, so the reader is known to see it.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#define MAX_NEEDED 64

struct needed {
	unsigned n;
	char name[MAX_NEEDED][128];
};

/* $(BUILD)/<prog>, from this binary's path $(BUILD)/tests/<test>. */
static void build_path(char *out, size_t len, const char *prog)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	assert_true(n > 0);
	self[n] = '\0';
	for (int i = 0; i < 2; i++) {
		slash = strrchr(self, '/');
		assert_non_null(slash);
		*slash = '\0';
	}
	if (snprintf(out, len, "%s/%s", self, prog) >= (int)len)
		fail_msg("path too long: %s/%s", self, prog);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail_msg("%s: %s (is it built?)", path, strerror(errno));
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* The DT_NEEDED names of a 64-bit ELF file, every offset bounds-checked. */
static void elf_needed(const char *path, struct needed *nd)
{
	size_t len;
	uint8_t *buf = read_file(path, &len);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
	const Elf64_Shdr *sh;
	bool found = false;

	memset(nd, 0, sizeof(*nd));
	assert_true(len >= sizeof(*eh));
	assert_memory_equal(eh->e_ident, ELFMAG, SELFMAG);
	assert_int_equal(eh->e_ident[EI_CLASS], ELFCLASS64);
	assert_int_equal(eh->e_shentsize, sizeof(Elf64_Shdr));
	assert_true(eh->e_shoff <= len && eh->e_shnum <= (len - eh->e_shoff) / sizeof(*sh));
	sh = (const Elf64_Shdr *)(buf + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *dyn = &sh[i], *str;

		if (dyn->sh_type != SHT_DYNAMIC)
			continue;
		found = true;
		assert_true(dyn->sh_link < eh->e_shnum);
		str = &sh[dyn->sh_link];
		assert_true(dyn->sh_offset <= len && dyn->sh_size <= len - dyn->sh_offset);
		assert_true(str->sh_offset <= len && str->sh_size <= len - str->sh_offset);
		for (size_t k = 0; k < dyn->sh_size / sizeof(Elf64_Dyn); k++) {
			const Elf64_Dyn *d = (const Elf64_Dyn *)(buf + dyn->sh_offset) + k;
			const char *name;

			if (d->d_tag == DT_NULL)
				break;
			if (d->d_tag != DT_NEEDED)
				continue;
			assert_true(d->d_un.d_val < str->sh_size);
			name = (const char *)buf + str->sh_offset + d->d_un.d_val;
			assert_non_null(memchr(name, '\0', str->sh_size - d->d_un.d_val));
			assert_true(nd->n < MAX_NEEDED);
			snprintf(nd->name[nd->n++], sizeof(nd->name[0]), "%s", name);
		}
	}
	free(buf);
	if (!found)
		fail_msg("%s has no dynamic section", path);
}

static bool needs(const struct needed *nd, const char *part)
{
	for (unsigned i = 0; i < nd->n; i++)
		if (strstr(nd->name[i], part))
			return true;
	return false;
}

static void print_needed(const char *path, const struct needed *nd)
{
	for (unsigned i = 0; i < nd->n; i++)
		print_message("%s needs %s\n", path, nd->name[i]);
}

/* The reader sees liburcu where it is linked: in the daemon. */
static void test_daemon_needs_urcu(void **state)
{
	char path[PATH_MAX];
	struct needed nd;

	build_path(path, sizeof(path), "pagepoold");
	elf_needed(path, &nd);
	if (!needs(&nd, "libc.so") || !needs(&nd, "liburcu")) {
		print_needed(path, &nd);
		fail_msg("%s: expected libc and liburcu among its DT_NEEDED", path);
	}
}

static void test_ctl_needs_no_urcu(void **state)
{
	char path[PATH_MAX];
	struct needed nd;

	build_path(path, sizeof(path), "pagepoolctl");
	elf_needed(path, &nd);
	assert_true(needs(&nd, "libc.so"));
	if (needs(&nd, "urcu")) {
		print_needed(path, &nd);
		fail_msg("%s needs liburcu: config-check must link only daemon/config.o "
			 "and daemon/names.o (Makefile: CTL_DAEMON_OBJS)", path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daemon_needs_urcu),
		cmocka_unit_test(test_ctl_needs_no_urcu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
