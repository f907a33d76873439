/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_file.h - files for the black-box tests: read a whole (small) file,
 * write one, copy one, remove a temporary tree, print the tail of a log as
 * test messages, find a program on $PATH, and tell whether another user can
 * reach a path.  Those that assert (bb_write_file) may only be called from
 * a test, never from a forked child.
 */
#ifndef PP_BB_FILE_H
#define PP_BB_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A whole (small) file as a malloc'd NUL-terminated string; "" if it cannot
 * be read.  Never NULL. */
char *bb_slurp(const char *path);

/* Create or replace `path` with `text`; asserts it was written. */
void bb_write_file(const char *path, const char *text);

/*
 * Copy the file `from` to `to` (created or replaced) and give the copy
 * `mode` (umask aside): 0 or -errno.  For a program a test runs as another
 * user, who may not reach the build tree at all (a clone inside a 0700
 * `mktemp -d` directory, or under /root).
 */
int bb_copy_file(const char *from, const char *to, mode_t mode);

/*
 * Can a user who owns none of them reach `path` (absolute): is every
 * directory from / down to `path` itself searchable by others?  true, or
 * false with the first one that is not in `bad` (len bytes).
 */
bool bb_others_can_reach(const char *path, char *bad, size_t len);

/* Remove the tree at `dir` (best effort, symlinks not followed). */
void bb_rm_rf(const char *dir);

/* Print the last `max` bytes of the file at `path` as cmocka messages,
 * titled `title` (in pieces: print_message() truncates long messages). */
void bb_print_tail(const char *title, const char *path, size_t max);

/* Is `name` an executable on $PATH? */
bool bb_on_path(const char *name);

#endif
