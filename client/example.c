/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * example.c - libpagepool in one sitting: a zero-copy hand-off between two
 * processes.
 *
 * The producer allocates pages from a pool, writes a message into each page
 * in place, and sends the consumer nothing but the page numbers (pfns), over
 * a pipe.  The consumer has its own connection to the same pool and so its
 * own mapping of the pool's arena: it reads the messages where the producer
 * wrote them, with no copy, checks them, and says it is done over a second
 * pipe.  Only then does the producer free the pages: a page belongs to the
 * connection that allocated it, and only that connection may free it.
 *
 *   usage: pp-example [SOCKET [POOL]]
 *
 * Exit status 0 means the consumer read, in its own mapping, exactly the
 * bytes the producer wrote; anything else prints what went wrong.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pagepool.h"

#define NPAGES	8

/* What travels through the pipe: page numbers, never page contents. */
struct handoff {
	unsigned long long nonce;	/* this run's tag, also written in the pages */
	uint32_t n;
	uint32_t pfns[NPAGES];
};

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

/* The message for page i; both sides compute it, so the consumer can check. */
static void message(char *buf, size_t len, unsigned long long nonce, pid_t producer,
		    unsigned i, uint32_t pfn)
{
	snprintf(buf, len, "page %u of %u from producer %d, run %llx, pfn %u",
		 i + 1, NPAGES, (int)producer, nonce, pfn);
}

/* Child: read the producer's pages through our own connection and mapping. */
static int consumer(const char *sock, const char *pool, int from_producer, int to_producer)
{
	struct pp_client *c;
	struct handoff h;
	char want[128];
	int err;

	err = pp_connect(sock, pool, &c);
	if (err)
		return fail("consumer", "pp_connect", err, NULL);
	if (xfer(from_producer, &h, sizeof(h), 0) < 0 || h.n != NPAGES) {
		fprintf(stderr, "pp-example: consumer: no page numbers from the producer\n");
		pp_close(c);
		return 1;
	}
	for (unsigned i = 0; i < h.n; i++) {
		/* The same pfn names the same page in every client of the pool. */
		const char *page = pp_page(c, h.pfns[i]);

		message(want, sizeof(want), h.nonce, getppid(), i, h.pfns[i]);
		if (!page || memcmp(page, want, strlen(want) + 1) != 0) {
			fprintf(stderr, "pp-example: consumer: pfn %u does not hold \"%s\"\n",
				h.pfns[i], want);
			pp_close(c);
			return 1;
		}
		printf("consumer (client %llu): pfn %-5u reads \"%s\"\n",
		       (unsigned long long)pp_info(c)->client_id, h.pfns[i], page);
	}
	/* Done reading: the producer may free the pages now. */
	err = xfer(to_producer, "D", 1, 1);
	pp_close(c);
	return err ? 1 : 0;
}

/* Parent: allocate, write, hand off, wait for the consumer, free. */
static int producer(const char *sock, const char *pool, int to_consumer, int from_consumer)
{
	struct pp_client *c;
	struct handoff h = { .n = NPAGES };
	struct timespec ts;
	unsigned got, bad;
	char done;
	int err;

	err = pp_connect(sock, pool, &c);
	if (err)
		return fail("producer", "pp_connect", err, NULL);
	printf("producer: joined pool '%s' (%u-byte pages, client %llu)\n", pp_info(c)->pool,
	       pp_info(c)->page_size, (unsigned long long)pp_info(c)->client_id);

	/* Order 0: single pages.  PP_ZERO: no stale bytes from a previous user. */
	err = pp_alloc(c, 0, NPAGES, PP_ZERO, h.pfns, &got);
	if (err) {
		fail("producer", "pp_alloc", err, c);
		pp_close(c);
		return 1;
	}

	/* Write straight into the shared arena: this is the only copy there is. */
	clock_gettime(CLOCK_REALTIME, &ts);
	h.nonce = (unsigned long long)ts.tv_nsec ^ (unsigned long long)ts.tv_sec << 30;
	for (unsigned i = 0; i < NPAGES; i++)
		message(pp_page(c, h.pfns[i]), pp_info(c)->page_size, h.nonce, getpid(), i,
			h.pfns[i]);

	if (xfer(to_consumer, &h, sizeof(h), 1) < 0 || xfer(from_consumer, &done, 1, 0) < 0 ||
	    done != 'D') {
		/* The consumer is gone; pp_close() below returns the pages anyway. */
		fprintf(stderr, "pp-example: producer: the consumer did not finish\n");
		pp_close(c);
		return 1;
	}

	/* Only the connection that allocated the pages may free them. */
	err = pp_free(c, h.pfns, NPAGES, &bad);
	if (err) {
		fail("producer", "pp_free", err, c);
		pp_close(c);
		return 1;
	}
	printf("producer: freed %u pages after the consumer read them\n", NPAGES);
	pp_close(c);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = argc > 1 ? argv[1] : NULL;	/* NULL: PP_DEFAULT_SOCKET */
	const char *pool = argc > 2 ? argv[2] : NULL;	/* NULL: the default pool */
	int down[2], up[2], status, rc;
	pid_t pid;

	if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: pp-example [SOCKET [POOL]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);	/* keep the two processes' lines in order */
	/* A consumer that dies must not kill us with SIGPIPE: we want the EPIPE. */
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
		/* Forked before any connection: the child shares nothing with the
		 * producer's connection and maps the arena itself. */
		close(down[1]);
		close(up[0]);
		return consumer(sock, pool, down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	rc = producer(sock, pool, down[1], up[0]);
	close(down[1]);	/* a consumer still waiting for pfns sees EOF */
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (rc == 0)
			fprintf(stderr, "pp-example: the consumer failed\n");
		rc = 1;
	}
	return rc;
}
