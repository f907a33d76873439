/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rcu.h - the only door to liburcu in pagepool.  Every RCU primitive the
 * project uses goes through these wrappers so that:
 *   - the flavor is fixed in one place: QSBR, which never signals or IPIs
 *     readers (a reader is a worker thread that is "online");
 *   - under ThreadSanitizer the happens-before edges RCU really provides are
 *     made visible.  liburcu's atomics are inline assembly TSan cannot see, so
 *     without these annotations a correct hand-off is reported as a race:
 *       publish:   __tsan_release(new)  before rcu_xchg_pointer()
 *       read:      __tsan_acquire(p)    after  rcu_dereference()
 *       QS/offline:__tsan_release(&rcu_tsan_token) before reporting
 *       grace:     __tsan_acquire(&rcu_tsan_token) after synchronize_rcu()
 *
 * Rules (see doc/DESIGN.md): a worker is online only while it runs request code;
 * nothing blocks while online; synchronize_rcu() is never called while holding
 * a lock an online worker may take (the buddy lock included).
 */
#ifndef PP_RCU_H
#define PP_RCU_H

#define _LGPL_SOURCE
#include <urcu/urcu-qsbr.h>

#if defined(__SANITIZE_THREAD__)
#define PP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PP_TSAN 1
#endif
#endif

#ifdef PP_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define pp_tsan_acquire(p) __tsan_acquire((void *)(p))
#define pp_tsan_release(p) __tsan_release((void *)(p))
/*
 * liburcu's inline reader fast paths wake a waiting synchronize_rcu() through
 * its internal futex word with plain volatile loads and stores
 * (urcu_qsbr_wake_up_gp(), "called from many concurrent threads").  Inlined
 * here they get instrumented, and two workers reporting quiescent states at
 * once are flagged as a race on urcu_qsbr_gp, while the updater's half of
 * that protocol sits in the uninstrumented library.  Under TSan call the
 * library's out-of-line reader functions instead, so liburcu is opaque on both
 * sides (as register/unregister/synchronize already are); the annotations
 * below still supply every happens-before edge RCU provides.
 */
#undef urcu_qsbr_quiescent_state
#undef urcu_qsbr_thread_offline
#undef urcu_qsbr_thread_online
extern void urcu_qsbr_quiescent_state(void);
extern void urcu_qsbr_thread_offline(void);
extern void urcu_qsbr_thread_online(void);
#else
#define pp_tsan_acquire(p) ((void)(p))
#define pp_tsan_release(p) ((void)(p))
#endif

extern char rcu_tsan_token;

/* Reader side: called by worker threads only. */
static inline void pp_rcu_register(void) { urcu_qsbr_register_thread(); }
static inline void pp_rcu_unregister(void)
{
	pp_tsan_release(&rcu_tsan_token);
	urcu_qsbr_unregister_thread();
}
static inline void pp_rcu_online(void) { urcu_qsbr_thread_online(); }
static inline void pp_rcu_offline(void)
{
	pp_tsan_release(&rcu_tsan_token);
	urcu_qsbr_thread_offline();
}
static inline void pp_rcu_quiescent(void)
{
	pp_tsan_release(&rcu_tsan_token);
	urcu_qsbr_quiescent_state();
}

#define pp_rcu_dereference(p) ({					\
	__typeof__(p) _pp_p = rcu_dereference(p);			\
	pp_tsan_acquire(_pp_p);						\
	_pp_p;								\
})

/* Updater side: the admin thread (unregistered, or registered and offline). */
#define pp_rcu_xchg_pointer(pp, v) ({					\
	pp_tsan_release(v);						\
	rcu_xchg_pointer(pp, v);					\
})

static inline void pp_synchronize_rcu(void)
{
	urcu_qsbr_synchronize_rcu();
	pp_tsan_acquire(&rcu_tsan_token);
}

#endif
