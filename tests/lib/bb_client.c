/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_client.c - libpagepool clients of a fixture's daemon (see bb_client.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "bb_client.h"
#include "bb_time.h"

static struct pp_client *client_open(struct bb *f, const char *pool, bool cache)
{
	struct pp_client *c = NULL;
	char *was = getenv("PAGEPOOL_CACHE");
	char saved[16] = "";
	unsigned i;
	int r;

	for (i = 0; i < BB_MAX_CLIENTS && f->clients[i]; i++)
		;
	assert_true(i < BB_MAX_CLIENTS);
	if (was)
		snprintf(saved, sizeof(saved), "%s", was);
	if (!cache)
		setenv("PAGEPOOL_CACHE", "0", 1);
	r = pp_connect(f->sock, pool, &c);
	if (!cache && was)
		setenv("PAGEPOOL_CACHE", saved, 1);
	else if (!cache)
		unsetenv("PAGEPOOL_CACHE");
	if (r != 0)
		print_error("pp_connect(%s, %s) = %d (%s)\n", f->sock, pool ? pool : "NULL", r,
			    pp_strerror(r));
	assert_int_equal(r, 0);
	assert_non_null(c);
	f->clients[i] = c;
	return c;
}

struct pp_client *bb_client(struct bb *f, const char *pool)
{
	return client_open(f, pool, false);
}

struct pp_client *bb_client_cached(struct bb *f, const char *pool)
{
	return client_open(f, pool, true);
}

void bb_client_close(struct bb *f, struct pp_client *c)
{
	for (unsigned i = 0; i < BB_MAX_CLIENTS; i++)
		if (f->clients[i] == c)
			f->clients[i] = NULL;
	pp_close(c);
}

struct pp_stat bb_stat(struct pp_client *c)
{
	struct pp_stat st;

	memset(&st, 0, sizeof(st));
	bb_assert_rc(c, pp_stat(c, &st), 0);
	return st;
}

void bb_assert_total(const struct pp_stat *st)
{
	uint64_t sum = st->free + st->pcp + st->allocated + st->isolated + st->offline;

	if (sum != st->total)
		print_error("stat: free %llu + pcp %llu + allocated %llu + isolated %llu + "
			    "offline %llu = %llu, total %llu\n",
			    (unsigned long long)st->free, (unsigned long long)st->pcp,
			    (unsigned long long)st->allocated, (unsigned long long)st->isolated,
			    (unsigned long long)st->offline, (unsigned long long)sum,
			    (unsigned long long)st->total);
	assert_int_equal(sum, st->total);
}

int bb_wait_allocated(struct pp_client *c, uint64_t want, int timeout_ms, struct pp_stat *st)
{
	int64_t deadline = bb_now_ms() + timeout_ms;

	for (;;) {
		*st = bb_stat(c);
		if (st->allocated == want)
			return 0;
		if (bb_left_ms(deadline) == 0)
			return -ETIMEDOUT;
		poll(NULL, 0, 1);
	}
}

struct pp_stat bb_expect_allocated(struct pp_client *c, uint64_t want, int timeout_ms)
{
	struct pp_stat st;

	if (bb_wait_allocated(c, want, timeout_ms, &st) != 0)
		print_error("pool allocated = %llu after %d ms, expected %llu\n",
			    (unsigned long long)st.allocated, timeout_ms,
			    (unsigned long long)want);
	assert_int_equal(st.allocated, want);
	return st;
}
