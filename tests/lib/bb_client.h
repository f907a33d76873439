/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_client.h - libpagepool clients of a fixture's daemon: connect one
 * (closed at teardown), assert a libpagepool return code, and read the
 * pool's counters (stat, the sum that must hold in a quiet pool, waiting
 * for the allocated count to settle).
 */
#ifndef PP_BB_CLIENT_H
#define PP_BB_CLIENT_H

#include <stdint.h>

#include "pagepool.h"
#include "bb_fixture.h"

/* Connect through libpagepool to `pool` (NULL: default); asserts success.
 * The fixture closes it at teardown unless bb_client_close() did.
 * bb_client connects without a client cache (PAGEPOOL_CACHE=0 for the
 * connect), so the counts a test reads are exactly what it allocated;
 * bb_client_cached leaves the environment as it is (the library's default:
 * a cache where the pool has one). */
struct pp_client *bb_client(struct bb *f, const char *pool);
struct pp_client *bb_client_cached(struct bb *f, const char *pool);
void bb_client_close(struct bb *f, struct pp_client *c);

/* Assert a libpagepool return code, naming both sides. */
#define bb_assert_rc(c, expr, want) do {						\
	int _got = (expr);								\
	int _want = (want);								\
	if (_got != _want)								\
		print_error("%s = %d (%s), expected %d (%s); daemon said \"%s\"\n",	\
			    #expr, _got, pp_strerror(_got), _want, pp_strerror(_want),	\
			    (c) ? pp_last_error(c) : "");				\
	assert_int_equal(_got, _want);							\
} while (0)

/* pp_stat on c; asserts success. */
struct pp_stat bb_stat(struct pp_client *c);

/* In a quiet pool every page is in exactly one of the counted places. */
void bb_assert_total(const struct pp_stat *st);

/*
 * Poll pp_stat on c until the pool's allocated count is `want` or
 * timeout_ms pass (1 ms between tries).  0 or -ETIMEDOUT; *st is the last
 * snapshot.
 */
int bb_wait_allocated(struct pp_client *c, uint64_t want, int timeout_ms, struct pp_stat *st);

/* Assert that allocated reaches `want` within timeout_ms; the last snapshot. */
struct pp_stat bb_expect_allocated(struct pp_client *c, uint64_t want, int timeout_ms);

#endif
