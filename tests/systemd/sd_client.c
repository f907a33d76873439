/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sd_client.c - the client side of `make check-systemd`, run inside the
 * container against the installed (or packaged) libpagepool and a pagepoold
 * started by systemd.  It links libpagepool.so.2 dynamically, so it uses
 * the library the container has, not the build tree's.
 *
 *   sd_client flow [POOL]
 *	Everything a client does, through the hardened unit's sandbox: two
 *	connections; single pages and blocks of orders 1..3 through the
 *	cache and past it, stamped and read back; a hand-off (pp_loan, then
 *	pp_take by the other connection, which reads the giver's bytes); a
 *	shared offer with PP_OFFER_KEEP; an offer cancelled; pp_stat agreeing
 *	with what is held.  Prints "flow ok ..." and exits 0, or says what
 *	failed and exits 1.
 *
 *   sd_client hold [POOL [PAGES]]
 *	Connect, allocate PAGES pages (default 16) and stamp them, print
 *	"held CLIENT_ID" and wait (at most 120 s) for the daemon to close the
 *	connection: poll(2) on the connection's socket for hang-up or EOF.
 *	Then a pp_stat must fail.  Prints "closed: REASON" and exits 0; exits
 *	2 when nothing closed in time.
 *
 * The socket is $PAGEPOOL_SOCKET or the default, /run/pagepool/pagepool.sock.
 * Every call is bounded (30 s; a connect by $PAGEPOOL_TIMEOUT_MS).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pagepool.h"

#define HOLD_WAIT_MS	120000
#define CALL_TIMEOUT_MS	30000

static int fail(const char *what, int err, const struct pp_client *c)
{
	const char *why = pp_last_error(c);

	fprintf(stderr, "sd_client: %s: %s%s%s%s\n", what, pp_strerror(err), why[0] ? " (" : "",
		why, why[0] ? ")" : "");
	return 1;
}

static int failx(const char *what)
{
	fprintf(stderr, "sd_client: %s\n", what);
	return 1;
}

/* Write a pattern naming pfn and salt into every page of the block (a
 * pfn outside the arena is a failure of its own: exit 1). */
static void stamp(struct pp_client *c, uint32_t pfn, unsigned order, uint32_t salt)
{
	size_t psz = pp_info(c)->page_size;

	for (uint32_t i = 0; i < (1u << order); i++) {
		uint32_t *p = pp_page(c, pfn + i);

		if (!p) {
			fprintf(stderr, "sd_client: pfn %u is outside the arena\n", pfn + i);
			exit(1);
		}
		for (size_t w = 0; w < psz / sizeof(*p); w += 512)
			p[w] = (pfn + i) ^ salt ^ (uint32_t)w;
	}
}

static int stamped(const struct pp_client *c, uint32_t pfn, unsigned order, uint32_t salt)
{
	size_t psz = pp_info(c)->page_size;

	for (uint32_t i = 0; i < (1u << order); i++) {
		const uint32_t *p = pp_page(c, pfn + i);

		if (!p)
			return 0;
		for (size_t w = 0; w < psz / sizeof(*p); w += 512)
			if (p[w] != ((pfn + i) ^ salt ^ (uint32_t)w))
				return 0;
	}
	return 1;
}

static int held_is(struct pp_client *c, uint64_t want, const char *when)
{
	struct pp_stat st;
	int r = pp_stat(c, &st);

	if (r < 0)
		return fail("pp_stat", r, c);
	if (st.held != want) {
		fprintf(stderr, "sd_client: %s: held %llu pages, expected %llu\n", when,
			(unsigned long long)st.held, (unsigned long long)want);
		return 1;
	}
	return 0;
}

static int flow(const char *pool)
{
	struct pp_client *a = NULL, *b = NULL;
	uint32_t pfns[64], got_pfns[64];
	unsigned got, n, order, flags;
	struct pp_token tok;
	uint64_t returned;
	int r;

	if ((r = pp_connect(NULL, pool, &a)) < 0 || (r = pp_connect(NULL, pool, &b)) < 0)
		return fail("pp_connect", r, NULL);
	/* A daemon that stops answering fails the flow instead of hanging it. */
	pp_set_timeout(a, CALL_TIMEOUT_MS);
	pp_set_timeout(b, CALL_TIMEOUT_MS);

	/* Single pages and small blocks, twice over so the second round is
	 * served from the cache; then blocks past the cache's orders. */
	for (unsigned round = 0; round < 2; round++) {
		for (order = 0; order <= 5; order++) {
			unsigned count = order <= 3 ? 16 : 2;

			for (unsigned i = 0; i < count; i++) {
				if ((r = pp_alloc(a, order, 1, 0, &pfns[i], &got)) < 0)
					return fail("pp_alloc", r, a);
				stamp(a, pfns[i], order, 0x5d000000u + order);
			}
			for (unsigned i = 0; i < count; i++)
				if (!stamped(a, pfns[i], order, 0x5d000000u + order))
					return failx("a block lost its stamp while held");
			if ((r = pp_free(a, pfns, count, NULL)) < 0)
				return fail("pp_free", r, a);
		}
	}
	if ((r = pp_free(a, pfns, 1, NULL)) != -EALREADY && r != -EPERM && r != -EINVAL)
		return failx("a double free was not refused");

	/* Hand-off: a loans, b takes and reads a's bytes in its own mapping. */
	if ((r = pp_loan(a, 1, 4, 0, 0, pfns, &tok)) < 0)
		return fail("pp_loan", r, a);
	for (unsigned i = 0; i < 4; i++)
		stamp(a, pfns[i], 1, 0xabcd0000u);
	if ((r = pp_take(b, &tok, got_pfns, 64, &n, &order, &flags)) < 0)
		return fail("pp_take", r, b);
	if (n != 4 || order != 1 || (flags & PP_TAKEN_SHARED))
		return failx("pp_take returned the wrong blocks");
	for (unsigned i = 0; i < n; i++)
		if (!stamped(b, got_pfns[i], 1, 0xabcd0000u))
			return failx("the taker does not see the giver's bytes");
	if ((r = pp_free(b, got_pfns, n, NULL)) < 0)
		return fail("pp_free (taken)", r, b);

	/* A shared offer the giver keeps a reference to. */
	if ((r = pp_alloc(a, 0, 2, 0, pfns, &got)) < 0)
		return fail("pp_alloc", r, a);
	stamp(a, pfns[0], 0, 1);
	stamp(a, pfns[1], 0, 1);
	if ((r = pp_offer(a, 0, pfns, 2, 2, PP_OFFER_KEEP, &tok, NULL)) < 0)
		return fail("pp_offer (shared)", r, a);
	if ((r = pp_take(b, &tok, got_pfns, 64, &n, &order, &flags)) < 0)
		return fail("pp_take (shared)", r, b);
	if (!(flags & PP_TAKEN_SHARED) || n != 2 || !stamped(b, got_pfns[0], 0, 1))
		return failx("the shared take is wrong");
	if ((r = pp_free(b, got_pfns, n, NULL)) < 0)
		return fail("pp_free (shared reference)", r, b);
	if ((r = pp_cancel(a, &tok, NULL)) < 0)
		return fail("pp_cancel (shared)", r, a);
	if ((r = pp_free(a, pfns, 2, NULL)) < 0)
		return fail("pp_free (kept reference)", r, a);

	/* An offer nobody takes, cancelled: the pages come back to a. */
	if ((r = pp_alloc(a, 2, 3, 0, pfns, &got)) < 0)
		return fail("pp_alloc", r, a);
	if ((r = pp_offer(a, 2, pfns, 3, 0, 0, &tok, NULL)) < 0)
		return fail("pp_offer", r, a);
	if ((r = pp_cancel(a, &tok, &returned)) < 0)
		return fail("pp_cancel", r, a);
	if (returned != 12)
		return failx("pp_cancel returned the wrong number of pages");
	if ((r = pp_free(a, pfns, 3, NULL)) < 0)
		return fail("pp_free (cancelled)", r, a);

	{
		struct pp_stat st, stb;

		/* Nothing held but what the caches keep (frees of cached
		 * orders go there, taken blocks included). */
		if ((r = pp_stat(a, &st)) < 0 || (r = pp_stat(b, &stb)) < 0)
			return fail("pp_stat", r, NULL);
		if (held_is(a, st.cached, "after the flow") ||
		    held_is(b, stb.cached, "taker after the flow"))
			return 1;
		printf("flow ok: pool %s, %llu pages, cache hits %llu, misses %llu, round trips %llu\n",
		       pool ? pool : "default", (unsigned long long)st.total,
		       (unsigned long long)st.cache_hits, (unsigned long long)st.cache_misses,
		       (unsigned long long)st.calls);
	}
	pp_close(b);
	pp_close(a);
	return 0;
}

#define MAX_FDS	1024

/* Mark in seen[] the sockets among this process's descriptors below
 * MAX_FDS; with `before`, return one that was not marked there (the
 * connection's), else -1. */
static int scan_sockets(unsigned char *seen, const unsigned char *before)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		struct stat st;
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(d) || fd < 0 || fd >= MAX_FDS)
			continue;
		if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (seen)
			seen[fd] = 1;
		if (before && !before[fd])
			found = found < 0 ? fd : -2;	/* two new sockets: ambiguous */
	}
	closedir(d);
	return found;
}

static int hold(const char *pool, unsigned pages)
{
	struct pp_client *c;
	struct pp_stat st;
	uint32_t pfns[1024];
	unsigned got;
	struct pollfd pfd;
	char byte;
	int r, fd;

	static unsigned char before[MAX_FDS];

	if (pages == 0 || pages > 1024)
		return failx("hold: PAGES must be 1..1024");
	/* Descriptors inherited from whoever started us are not the
	 * connection: note the sockets among them first. */
	scan_sockets(before, NULL);
	if ((r = pp_connect(NULL, pool, &c)) < 0)
		return fail("pp_connect", r, NULL);
	pp_set_timeout(c, CALL_TIMEOUT_MS);
	if ((r = pp_alloc(c, 0, pages, 0, pfns, &got)) < 0)
		return fail("pp_alloc", r, c);
	for (unsigned i = 0; i < pages; i++)
		stamp(c, pfns[i], 0, 7);
	fd = scan_sockets(NULL, before);
	if (fd < 0)
		return failx("hold: not exactly one new socket after pp_connect");
	printf("held %llu\n", (unsigned long long)pp_info(c)->client_id);
	fflush(stdout);

	pfd = (struct pollfd){ .fd = fd, .events = POLLIN | POLLRDHUP };
	r = poll(&pfd, 1, HOLD_WAIT_MS);
	if (r == 0) {
		fprintf(stderr, "sd_client: hold: the connection stayed open for %d ms\n",
			HOLD_WAIT_MS);
		return 2;
	}
	if (r < 0)
		return failx("hold: poll failed");
	if (recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
		return failx("hold: the daemon sent an unasked message instead of closing");
	r = pp_stat(c, &st);
	if (r >= 0)
		return failx("hold: pp_stat still works after the hang-up");
	printf("closed: %s\n", pp_strerror(r));
	pp_close(c);
	return 0;
}

int main(int argc, char **argv)
{
	const char *pool = argc > 2 && argv[2][0] ? argv[2] : NULL;

	if (argc >= 2 && strcmp(argv[1], "flow") == 0)
		return flow(pool);
	if (argc >= 2 && strcmp(argv[1], "hold") == 0)
		return hold(pool, argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 16);
	fprintf(stderr, "usage: sd_client flow [POOL] | hold [POOL [PAGES]]\n");
	return 64;
}
