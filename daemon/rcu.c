/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rcu.c - storage for the ThreadSanitizer token described in rcu.h.  The
 * token's address is the object on which quiescent states "release" and grace
 * periods "acquire"; its value is never read.
 */
#include "rcu.h"

char rcu_tsan_token;
