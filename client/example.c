/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * example.c - libpagepool in one sitting: a zero-copy hand-off between two
 * processes, where the pages outlive the process that wrote them.
 *
 * The producer (a child process) loans pages from a pool with pp_loan():
 * fresh pages, already under a hand-off offer.  It writes a message into
 * each page in place and sends the consumer nothing but the offer's
 * 16-byte token, over a pipe.  The consumer (the parent) has its own
 * connection to the same pool and so its own mapping of the pool's arena:
 * it takes the pages with the token (pp_take) and from then on owns them.
 * It tells the producer so over a second pipe, and the producer closes its
 * connection and exits: an offer closes with its giver's connection, and
 * pages nobody took by then go back to the pool, so the giver stays until
 * the take is done.  Only after the producer process is gone (waitpid)
 * does the consumer read the messages where the producer wrote them, with
 * no copy, check them, and free the pages itself.
 *
 *   usage: pp-example [SOCKET [POOL]]
 *
 * Exit status 0 means the consumer read, in its own mapping and after the
 * producer had exited, exactly the bytes the producer wrote, then freed the
 * pages and held none; anything else prints what went wrong.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pagepool.h"

#define NPAGES	8

/* Say what failed, with the daemon's own words when it has some. */
static int fail(const char *who, const char *what, int err, const struct pp_client *c)
{
	const char *why = pp_last_error(c);

	fprintf(stderr, "pp-example: %s: %s: %s%s%s%s\n", who, what, pp_strerror(err),
		why[0] ? " (" : "", why, why[0] ? ")" : "");
	return 1;
}

/* Pipes are streams: loop until all n bytes have moved (or EOF / error). */
static int xfer(int fd, void *buf, size_t n, int writing)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = writing ? write(fd, (char *)buf + done, n - done)
				    : read(fd, (char *)buf + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -EPIPE : -errno;
		done += (size_t)r;
	}
	return 0;
}

/* The message for page i; both sides compute it, so the consumer can check.
 * The token makes it this run's: no earlier run's bytes can pass for it. */
static void message(char *buf, size_t len, pid_t producer, const char *token, unsigned i,
		    uint32_t pfn)
{
	snprintf(buf, len, "page %u of %u from producer %d, token %s, pfn %u", i + 1, NPAGES,
		 (int)producer, token, pfn);
}

/* Child: loan pages, write them, pass the token, stay until they are taken. */
static int producer(const char *sock, const char *pool, int to_consumer, int from_consumer)
{
	struct pp_client *c;
	struct pp_token tok;
	uint32_t pfns[NPAGES];
	char hex[PP_TOKEN_STRLEN], taken;
	int err;

	err = pp_connect(sock, pool, &c);
	if (err)
		return fail("producer", "pp_connect", err, NULL);
	printf("producer: joined pool '%s' (%u-byte pages, client %llu)\n", pp_info(c)->pool,
	       pp_info(c)->page_size, (unsigned long long)pp_info(c)->client_id);

	/* NPAGES fresh blocks of order 0 (single pages), offered as a hand-off
	 * (shares 0) in the same round trip: we may write them until a
	 * consumer takes them, but no longer free them ourselves. */
	err = pp_loan(c, 0, NPAGES, 0, 0, pfns, &tok);
	if (err) {
		fail("producer", "pp_loan", err, c);
		pp_close(c);
		return 1;
	}
	pp_token_format(&tok, hex);
	printf("producer: loaned %u pages, token %s\n", NPAGES, hex);

	/* Write straight into the shared arena: this is the only copy there is. */
	for (unsigned i = 0; i < NPAGES; i++)
		message(pp_page(c, pfns[i]), pp_info(c)->page_size, getpid(), hex, i, pfns[i]);

	/* The token is all the consumer needs: the pfns come with the take. */
	if (xfer(to_consumer, tok.b, sizeof(tok.b), 1) < 0 ||
	    xfer(from_consumer, &taken, 1, 0) < 0 || taken != 'T') {
		/* Not taken: pp_close() below returns the pages to the pool. */
		fprintf(stderr, "pp-example: producer: the consumer did not take the pages\n");
		pp_close(c);
		return 1;
	}
	printf("producer: the consumer took the pages; closing and exiting\n");
	pp_close(c);
	return 0;
}

/* The pages' bytes, as the producer (pid producer_pid) wrote them. */
static int pages_check(struct pp_client *c, const uint32_t *pfns, pid_t producer_pid,
		       const char *hex)
{
	char want[160];

	for (unsigned i = 0; i < NPAGES; i++) {
		/* The same pfn names the same page in every client of the pool. */
		const char *page = pp_page(c, pfns[i]);

		message(want, sizeof(want), producer_pid, hex, i, pfns[i]);
		if (!page || memcmp(page, want, strlen(want) + 1) != 0) {
			fprintf(stderr, "pp-example: consumer: pfn %u does not hold \"%s\"\n",
				pfns[i], want);
			return 1;
		}
		printf("consumer (client %llu): pfn %-5u reads \"%s\"\n",
		       (unsigned long long)pp_info(c)->client_id, pfns[i], page);
	}
	return 0;
}

/* Wait for the producer and check that it exited cleanly. */
static int producer_reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("pp-example: waitpid");
			return 1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "pp-example: the producer failed\n");
		return 1;
	}
	return 0;
}

/*
 * The consumer's side, in the parent: take the pages, let the producer go
 * and wait until it has exited (*reaped), then read, check and free them.
 */
static int consume(struct pp_client *c, pid_t producer_pid, int from_producer,
		   int to_producer, bool *reaped)
{
	struct pp_token tok;
	struct pp_stat st;
	char hex[PP_TOKEN_STRLEN];
	unsigned max = pp_info(c)->max_count, n, order, flags, bad;
	uint32_t *pfns;
	int err, rc = 1;

	if (xfer(from_producer, tok.b, sizeof(tok.b), 0) < 0) {
		fprintf(stderr, "pp-example: consumer: no token from the producer\n");
		return 1;
	}
	pp_token_format(&tok, hex);
	/* Room for max_count blocks: enough for any offer, so a take never
	 * fails for want of room (-ENOBUFS) after the blocks are ours. */
	pfns = calloc(max, sizeof(*pfns));
	if (!pfns) {
		fprintf(stderr, "pp-example: consumer: out of memory\n");
		return 1;
	}
	err = pp_take(c, &tok, pfns, max, &n, &order, &flags);
	if (err) {
		fail("consumer", "pp_take", err, c);
		goto out;
	}
	if (n != NPAGES || order != 0 || (flags & PP_TAKEN_SHARED)) {
		fprintf(stderr, "pp-example: consumer: took %u order-%u blocks%s, not %u pages\n",
			n, order, flags & PP_TAKEN_SHARED ? " (shared)" : "", NPAGES);
		goto out;
	}
	err = pp_stat(c, &st);
	if (err || st.held != NPAGES) {
		fprintf(stderr, "pp-example: consumer: holds %llu pages after the take, not %u\n",
			err ? 0ULL : (unsigned long long)st.held, NPAGES);
		goto out;
	}
	printf("consumer: took %u pages with token %s; they are mine now\n", n, hex);

	/* Let the producer go, and read only once it is gone for sure. */
	if (xfer(to_producer, "T", 1, 1) < 0) {
		fprintf(stderr, "pp-example: consumer: the producer is gone already\n");
		goto out;
	}
	*reaped = true;
	if (producer_reap(producer_pid))
		goto out;
	printf("consumer: the producer (pid %d) has exited\n", (int)producer_pid);
	if (pages_check(c, pfns, producer_pid, hex))
		goto out;

	/* The hand-off made us the owner: we free them, the producer could not.
	 * Freed pages may stay in this connection's cache (pp_stat's cached),
	 * ready for its next pp_alloc: it holds nothing else. */
	err = pp_free(c, pfns, n, &bad);
	if (err) {
		fail("consumer", "pp_free", err, c);
		goto out;
	}
	err = pp_stat(c, &st);
	if (err || st.held != st.cached) {
		fprintf(stderr, "pp-example: consumer: still holds %llu pages after pp_free "
			"(%llu of them in its cache)\n", err ? 0ULL : (unsigned long long)st.held,
			err ? 0ULL : (unsigned long long)st.cached);
		goto out;
	}
	printf("consumer: freed the %u pages; holding none (%llu in its cache)\n", n,
	       (unsigned long long)st.cached);
	rc = 0;
out:
	free(pfns);
	return rc;
}

/* Parent: connect on our own (after the fork), then consume. */
static int consumer(const char *sock, const char *pool, pid_t producer_pid,
		    int from_producer, int to_producer, bool *reaped)
{
	struct pp_client *c;
	int err, rc;

	err = pp_connect(sock, pool, &c);
	if (err)
		return fail("consumer", "pp_connect", err, NULL);
	rc = consume(c, producer_pid, from_producer, to_producer, reaped);
	pp_close(c);
	return rc;
}

int main(int argc, char **argv)
{
	const char *sock = argc > 1 ? argv[1] : NULL;	/* NULL: PP_DEFAULT_SOCKET */
	const char *pool = argc > 2 ? argv[2] : NULL;	/* NULL: the default pool */
	int down[2], up[2], rc;
	bool reaped = false;
	pid_t pid;

	if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: pp-example [SOCKET [POOL]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);	/* keep the two processes' lines in order */
	/* A peer that dies must not kill us with SIGPIPE: we want the EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (pipe(down) < 0 || pipe(up) < 0) {
		perror("pp-example: pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("pp-example: fork");
		return 1;
	}
	alarm(30);	/* used as a test: never hang */
	if (pid == 0) {
		/* Forked before any connection: each process connects and maps
		 * the arena itself, and they share no connection. */
		close(down[0]);
		close(up[1]);
		return producer(sock, pool, down[1], up[0]);
	}
	close(down[1]);
	close(up[0]);
	rc = consumer(sock, pool, pid, down[0], up[1], &reaped);
	close(up[1]);	/* a producer still waiting for the take sees EOF */
	if (!reaped && producer_reap(pid) != 0)
		rc = 1;
	return rc;
}
