/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * arena.h - the shared memory arena of one pool: a sealed memfd.
 *
 * The memfd is created MFD_CLOEXEC | MFD_ALLOW_SEALING (plus MFD_NOEXEC_SEAL
 * where the kernel has it), sized once, optionally fallocate()d up front, and
 * sealed F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL before anyone else sees the
 * fd.  Those seals let clients trust the mapping's size forever; they still
 * allow FALLOC_FL_PUNCH_HOLE, which is how offline/trim give memory back.
 */
#ifndef PP_ARENA_H
#define PP_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena {
	int fd;
	void *base;		/* MAP_SHARED | MAP_NORESERVE; never touched unless asked */
	uint64_t size;
	unsigned page_size;
	unsigned page_shift;
	bool noexec_seal;	/* kernel accepted MFD_NOEXEC_SEAL */
};

/*
 * Create and seal an arena of `size` bytes (a multiple of the page size).
 * With `prefault`, the whole size is allocated with fallocate().  Returns 0 or
 * a negative errno; on failure nothing is left open.
 */
int arena_create(struct arena *a, const char *name, uint64_t size, bool prefault);
void arena_destroy(struct arena *a);

/* Give [off, off+len) back to the OS (FALLOC_FL_PUNCH_HOLE).  0 or -errno. */
int arena_punch(struct arena *a, uint64_t off, uint64_t len);

/* Bytes of the arena currently backed by memory (st_blocks * 512). */
int arena_resident(const struct arena *a, uint64_t *bytes);

static inline void *arena_ptr(const struct arena *a, uint32_t pfn)
{
	return (char *)a->base + ((uint64_t)pfn << a->page_shift);
}

#endif
