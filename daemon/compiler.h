/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compiler.h - tiny portability layer shared by every module: branch hints,
 * the relaxed "read once / write once" accessors used for values that one
 * thread writes and others read without locks (stats, pcp tunables, counts),
 * and a cache-line alignment helper.  Relaxed atomics compile to plain moves
 * on x86 but tell the compiler (and ThreadSanitizer) the access is shared.
 */
#ifndef PP_COMPILER_H
#define PP_COMPILER_H

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define READ_ONCE(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define LOAD_ACQUIRE(x)	__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE_RELEASE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* Single-writer counter bump: a relaxed load and store, no lock prefix. */
#define COUNTER_ADD(x, n) WRITE_ONCE((x), READ_ONCE(x) + (n))

#define CACHELINE	64
#define __cacheline_aligned __attribute__((aligned(CACHELINE)))

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#endif
