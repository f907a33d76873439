/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * arena.c - one sealed memfd per pool (see arena.h).  The daemon maps the
 * arena MAP_NORESERVE and never touches it except to zero pages on request,
 * so creating a 64 GiB pool costs a few system calls, not 64 GiB of faults.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

static int arena_memfd(const char *name, bool *noexec)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
	*noexec = fd >= 0;
	/* Kernels before 6.3 reject the unknown flag with EINVAL. */
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd < 0 ? -errno : fd;
}

int arena_create(struct arena *a, const char *name, uint64_t size, bool prefault)
{
	long ps = sysconf(_SC_PAGESIZE);
	int fd, err;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (ps <= 0 || size == 0 || size % (uint64_t)ps != 0)
		return -EINVAL;
	a->page_size = (unsigned)ps;
	a->page_shift = (unsigned)__builtin_ctzl((unsigned long)ps);
	a->size = size;

	fd = arena_memfd(name, &a->noexec_seal);
	if (fd < 0)
		return fd;
	if (ftruncate(fd, (off_t)size) < 0)
		goto fail;
	if (prefault && fallocate(fd, 0, 0, (off_t)size) < 0)
		goto fail;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	a->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (a->base == MAP_FAILED) {
		a->base = NULL;
		goto fail;
	}
	a->fd = fd;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

void arena_destroy(struct arena *a)
{
	if (a->base)
		munmap(a->base, a->size);
	if (a->fd >= 0)
		close(a->fd);
	a->base = NULL;
	a->fd = -1;
}

int arena_punch(struct arena *a, uint64_t off, uint64_t len)
{
	if (off > a->size || len > a->size - off)
		return -EINVAL;
	if (fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		      (off_t)len) < 0)
		return -errno;
	return 0;
}

/*
 * The memory backing the memfd now, whoever faulted it in: not what the
 * allocator holds.  Clients keep a writable shared mapping for as long as
 * they live, and a write into a punched (offline or trimmed) range allocates
 * a fresh page there, so this grows again without the daemon doing anything;
 * no seal can forbid that per range while writable mappings exist
 * (doc/DESIGN.md, "What a client can do to the arena").
 */
int arena_resident(const struct arena *a, uint64_t *bytes)
{
	struct stat st;
	if (fstat(a->fd, &st) < 0)
		return -errno;
	*bytes = (uint64_t)st.st_blocks * 512;
	return 0;
}
