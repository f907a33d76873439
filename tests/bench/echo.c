/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * echo.c - the transport floor: the echo server (`bench_rpc --echo-server`,
 * blocking or with `--epoll` event-driven) and its client, both on
 * proto/transport.h.  See echo.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "wire.h"
#include "transport.h"

#include "benchutil.h"
#include "echo.h"

/* The pfns the server answers Allocs with (what Frees gave it), and the
 * buffer an answer is built in. */
struct echo_store {
	uint32_t *pfn, *out;
	size_t n, cap, out_cap;
};

static void store_put(struct echo_store *s, const uint32_t *pfns, size_t n)
{
	if (n > s->cap) {
		s->pfn = realloc(s->pfn, n * sizeof(*s->pfn));
		if (!s->pfn)
			die("out of memory");
		s->cap = n;
	}
	memcpy(s->pfn, pfns, n * sizeof(*pfns));
	if (n > s->n)
		s->n = n;
}

/* An Alloc's pfns: the first `count` kept (repeated if fewer are kept). */
static uint32_t *store_take(struct echo_store *s, size_t count)
{
	if (count > s->out_cap) {
		s->out = realloc(s->out, count * sizeof(*s->out));
		if (!s->out)
			die("out of memory");
		s->out_cap = count;
	}
	for (size_t i = 0; i < count; i++)
		s->out[i] = s->n ? s->pfn[i % s->n] : (uint32_t)i;
	return s->out;
}

/* Answer one request the way pagepoold does in shape: Alloc -> Pages,
 * Free -> Freed, anything else an empty OK; always the request's id. */
static void echo_answer(struct pp_transport *t, struct echo_store *s, const wire_request *req)
{
	wire_response resp = PAGEPOOL__V1__RESPONSE__INIT;
	Pagepool__V1__Pages pages = PAGEPOOL__V1__PAGES__INIT;
	Pagepool__V1__Freed freed = PAGEPOOL__V1__FREED__INIT;
	int err;

	resp.id = req->id;
	if (req->body_case == PAGEPOOL__V1__REQUEST__BODY_ALLOC) {
		pages.order = req->alloc->order;
		pages.n_pfns = req->alloc->count;
		pages.pfns = store_take(s, pages.n_pfns);
		resp.body_case = PAGEPOOL__V1__RESPONSE__BODY_PAGES;
		resp.pages = &pages;
	} else if (req->body_case == PAGEPOOL__V1__REQUEST__BODY_FREE) {
		store_put(s, req->free->pfns, req->free->n_pfns);
		freed.pages = req->free->n_pfns;
		resp.body_case = PAGEPOOL__V1__RESPONSE__BODY_FREED;
		resp.freed = &freed;
	}
	err = transport_send(t, &resp.base);
	if (err)
		die("echo server: send: %s", t->error);
}

/*
 * The event-driven server's wait: block in epoll_wait() until the
 * connection is readable, unless the transport already holds unread bytes
 * (a pipelined request read ahead), which a worker would answer without
 * asking the kernel.  The connection's EPOLLIN is registered once, level
 * triggered, as a persistent libevent read event is.
 */
static void echo_wait(int epfd, const struct pp_transport *t)
{
	struct epoll_event ev;

	if (t->rend != t->rstart)
		return;
	for (;;) {
		int n = epoll_wait(epfd, &ev, 1, -1);

		if (n == 1)
			return;
		if (n < 0 && errno != EINTR)
			die_err("epoll_wait", errno);
	}
}

int echo_serve(const char *path, int use_epoll)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct echo_store store = { 0 };
	static struct pp_transport t;
	int lfd, fd, epfd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		die_err(path, ENAMETOOLONG);
	strcpy(sa.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die_err("socket", errno);
	unlink(path);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die_err(path, errno);
	if (listen(lfd, 1) < 0)
		die_err("listen", errno);
	/* Ready: the socket is bound and listening. */
	printf("READY\n");
	fflush(stdout);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		die_err("accept", errno);
	close(lfd);
	unlink(path);
	if (use_epoll) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

		epfd = epoll_create1(EPOLL_CLOEXEC);
		if (epfd < 0)
			die_err("epoll_create1", errno);
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			die_err("epoll_ctl", errno);
	}
	/* No deadline: the client may pause between its measurements. */
	transport_init_fd(&t, fd, -1);
	for (;;) {
		ProtobufCMessage *msg;
		int err;

		if (epfd >= 0)
			echo_wait(epfd, &t);
		err = transport_recv(&t, &pagepool__v1__request__descriptor, &msg, NULL);
		if (err == -ECONNRESET)
			break;		/* the client closed */
		if (err)
			die("echo server: receive: %s", t.error);
		echo_answer(&t, &store, (const wire_request *)msg);
		wire_request_free((wire_request *)msg);
	}
	transport_close(&t);
	if (epfd >= 0)
		close(epfd);
	free(store.pfn);
	free(store.out);
	return 0;
}

void echo_connect(struct echo *e, const char *path)
{
	int err = transport_connect(&e->t, path, ECHO_CONNECT_MS);

	if (err)
		die("echo server %s: %s", path, e->t.error);
	e->t.timeout_ms = -1;
}

void echo_close(struct echo *e)
{
	transport_close(&e->t);
}

/* One round trip of `req`; the answer, whose body must be `body`. */
static wire_response *echo_call(struct echo *e, wire_request *req, int body)
{
	ProtobufCMessage *out = NULL;
	wire_response *resp;
	int err;

	req->id = transport_next_id(&e->t);
	err = transport_call(&e->t, &req->base, &pagepool__v1__response__descriptor, &out, NULL);
	if (err)
		die("echo server: %s", e->t.error);
	resp = (wire_response *)out;
	if ((int)resp->body_case != body)
		die("echo server answered with body %d, not %d", (int)resp->body_case, body);
	return resp;
}

void echo_alloc(struct echo *e, unsigned count, uint32_t *pfns, unsigned *got)
{
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Alloc a = PAGEPOOL__V1__ALLOC__INIT;
	wire_response *resp;

	a.count = count;
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_ALLOC;
	req.alloc = &a;
	resp = echo_call(e, &req, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
	if (resp->pages->n_pfns > count)
		die("echo server answered %zu pfns to an alloc of %u", resp->pages->n_pfns, count);
	memcpy(pfns, resp->pages->pfns, resp->pages->n_pfns * sizeof(*pfns));
	*got = (unsigned)resp->pages->n_pfns;
	wire_response_free(resp);
}

void echo_free(struct echo *e, const uint32_t *pfns, unsigned n)
{
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;

	f.pfns = (uint32_t *)pfns;
	f.n_pfns = n;
	req.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	req.free = &f;
	wire_response_free(echo_call(e, &req, PAGEPOOL__V1__RESPONSE__BODY_FREED));
}

size_t echo_request_size(uint64_t id, unsigned batch, const uint32_t *pfns, int is_alloc)
{
	wire_request req = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Alloc a = PAGEPOOL__V1__ALLOC__INIT;
	Pagepool__V1__Free f = PAGEPOOL__V1__FREE__INIT;

	req.id = id;
	if (is_alloc) {
		a.count = batch;
		req.body_case = PAGEPOOL__V1__REQUEST__BODY_ALLOC;
		req.alloc = &a;
	} else {
		f.pfns = (uint32_t *)pfns;
		f.n_pfns = batch;
		req.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
		req.free = &f;
	}
	return pagepool__v1__request__get_packed_size(&req);
}

size_t echo_response_size(uint64_t id, unsigned batch, const uint32_t *pfns, int is_alloc)
{
	wire_response resp = PAGEPOOL__V1__RESPONSE__INIT;
	Pagepool__V1__Pages p = PAGEPOOL__V1__PAGES__INIT;
	Pagepool__V1__Freed fr = PAGEPOOL__V1__FREED__INIT;

	resp.id = id;
	if (is_alloc) {
		p.pfns = (uint32_t *)pfns;
		p.n_pfns = batch;
		resp.body_case = PAGEPOOL__V1__RESPONSE__BODY_PAGES;
		resp.pages = &p;
	} else {
		fr.pages = batch;
		resp.body_case = PAGEPOOL__V1__RESPONSE__BODY_FREED;
		resp.freed = &fr;
	}
	return pagepool__v1__response__get_packed_size(&resp);
}
