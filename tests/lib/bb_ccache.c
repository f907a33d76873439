/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_ccache.c - raw clients of the client cache protocol (see bb_ccache.h).
 * No assertions here: forked children use every call.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bb_ccache.h"
#include "bb_time.h"

/* Send req and receive its answer: 0 and *out, or -errno (k->error). */
static int cc_call(struct bb_cc *k, Pagepool__V1__Request *req, bb_response **out)
{
	int r;

	*out = NULL;
	req->id = k->id++;
	r = bb_conn_send_msg(k->c, &req->base);
	if (r == 0)
		r = bb_conn_recv(k->c, BB_IO_TIMEOUT_MS, out);
	if (r == 0 && (*out)->id != req->id) {
		bb_resp_free(*out);
		*out = NULL;
		r = -EBADMSG;
	}
	if (r < 0)
		snprintf(k->error, sizeof(k->error), "request %llu (body %d): %s",
			 (unsigned long long)req->id, (int)req->body_case, strerror(-r));
	return r;
}

/* The status of an answer, its words kept in k->error when it refuses. */
static int cc_status(struct bb_cc *k, const bb_response *resp)
{
	if (resp->status != PAGEPOOL__V1__STATUS__OK)
		snprintf(k->error, sizeof(k->error), "%s: %s", bb_status_name(resp->status),
			 resp->error ? resp->error : "");
	return (int)resp->status;
}

int bb_cc_hello(struct bb_cc *k, struct bb_conn *c, const char *pool, uint32_t features)
{
	struct bb_req q;
	bb_response *w;
	int r;

	memset(k, 0, sizeof(*k));
	k->c = c;
	k->id = 1;
	k->memfd = -1;
	bb_req_hello(&q, 0, 1, pool);
	q.hello.features = features;
	r = cc_call(k, &q.r, &w);
	if (r < 0)
		return r;
	r = cc_status(k, w);
	if (r == 0 && (w->body_case != PAGEPOOL__V1__RESPONSE__BODY_WELCOME ||
		       w->welcome->page_size == 0))
		r = -EBADMSG;
	if (r == 0) {
		k->client_id = w->welcome->client_id;
		k->page_size = w->welcome->page_size;
		k->npages = (uint32_t)(w->welcome->arena_size / w->welcome->page_size);
		k->features = w->welcome->features;
		k->high = w->welcome->cache_high;
		k->batch = w->welcome->cache_batch;
	}
	bb_resp_free(w);
	return r;
}

int bb_cc_map_raw(struct bb_cc *k, unsigned *fds_in)
{
	Pagepool__V1__CacheMap cm = PAGEPOOL__V1__CACHE_MAP__INIT;
	unsigned before = k->c->nfds;
	struct bb_req q;
	bb_response *resp;
	int r;

	bb_req_none(&q, 0);
	q.r.body_case = PAGEPOOL__V1__REQUEST__BODY_CACHE_MAP;
	q.r.cache_map = &cm;
	r = cc_call(k, &q.r, &resp);
	*fds_in = k->c->nfds - before;
	if (r < 0)
		return r;
	r = cc_status(k, resp);
	if (r == 0 && resp->body_case != PAGEPOOL__V1__RESPONSE__BODY_CACHE_MAPPED)
		r = -EBADMSG;
	if (r == 0) {
		k->map_size = resp->cache_mapped->size;
		if (resp->cache_mapped->version != PP_CC_VERSION ||
		    resp->cache_mapped->high != k->high || resp->cache_mapped->batch != k->batch)
			r = -EBADMSG;
	}
	if (r == 0 && *fds_in == 1)
		k->memfd = k->c->fds[k->c->nfds - 1];
	bb_resp_free(resp);
	return r;
}

/* Is r a region of the layout ccache.h describes, as the daemon made it? */
static bool cc_region_ok(const struct pp_cc_region *r)
{
	return r->magic == PP_CC_MAGIC && r->version == PP_CC_VERSION && r->size == PP_CC_SIZE;
}

int bb_cc_map(struct bb_cc *k)
{
	unsigned fds_in;
	struct stat st;
	void *p;
	int r = bb_cc_map_raw(k, &fds_in);

	if (r != 0)
		return r;
	if (fds_in != 1 || k->memfd < 0 || k->map_size != PP_CC_SIZE) {
		snprintf(k->error, sizeof(k->error), "CacheMapped: %u fds, size %u (want 1, %zu)",
			 fds_in, k->map_size, (size_t)PP_CC_SIZE);
		return -EBADMSG;
	}
	if (fstat(k->memfd, &st) < 0 || (size_t)st.st_size != PP_CC_SIZE) {
		snprintf(k->error, sizeof(k->error), "region fd: size %lld (want %zu)",
			 (long long)st.st_size, (size_t)PP_CC_SIZE);
		return -EBADMSG;
	}
	p = mmap(NULL, PP_CC_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, k->memfd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		snprintf(k->error, sizeof(k->error), "mmap of the region: %s", strerror(errno));
		return r;
	}
	k->r = p;
	if (!cc_region_ok(k->r)) {
		snprintf(k->error, sizeof(k->error), "region header: magic %#x version %u size %u",
			 k->r->magic, k->r->version, k->r->size);
		bb_cc_unmap(k);
		return -EBADMSG;
	}
	k->seq = k->r->seq;
	return 0;
}

void bb_cc_unmap(struct bb_cc *k)
{
	bb_cc_unmap_region(k->r);
	k->r = NULL;
}

int bb_cc_alloc(struct bb_cc *k, uint32_t order, uint32_t count, uint32_t *pfns, size_t *got)
{
	struct bb_req q;
	bb_response *resp;
	size_t n = 0;
	int r = cc_call(k, bb_req_alloc(&q, 0, order, count, 0), &resp);

	if (r < 0)
		return r;
	r = cc_status(k, resp);
	if (r == 0 && (resp->body_case != PAGEPOOL__V1__RESPONSE__BODY_PAGES ||
		       resp->pages->n_runs != 0 || resp->pages->n_pfns > count))
		r = -EBADMSG;
	if (r == 0) {
		n = resp->pages->n_pfns;
		memcpy(pfns, resp->pages->pfns, n * sizeof(*pfns));
	}
	if (got)
		*got = n;
	bb_resp_free(resp);
	return r;
}

int bb_cc_free(struct bb_cc *k, const uint32_t *pfns, size_t n, uint64_t *pages)
{
	struct bb_req q;
	bb_response *resp;
	int r = cc_call(k, bb_req_free(&q, 0, pfns, n), &resp);

	if (r < 0)
		return r;
	r = cc_status(k, resp);
	if (r == 0 && resp->body_case != PAGEPOOL__V1__RESPONSE__BODY_FREED)
		r = -EBADMSG;
	if (r == 0 && pages)
		*pages = resp->freed->pages;
	bb_resp_free(resp);
	return r;
}

int bb_cc_stat(struct bb_cc *k, uint64_t *held, uint64_t *allocated)
{
	struct bb_req q;
	bb_response *resp;
	int r = cc_call(k, bb_req_stat(&q, 0), &resp);

	if (r < 0)
		return r;
	r = cc_status(k, resp);
	if (r == 0 && resp->body_case != PAGEPOOL__V1__RESPONSE__BODY_POOL_STAT)
		r = -EBADMSG;
	if (r == 0 && held)
		*held = resp->pool_stat->held;
	if (r == 0 && allocated)
		*allocated = resp->pool_stat->allocated;
	bb_resp_free(resp);
	return r;
}

unsigned bb_cc_enter(struct bb_cc *k)
{
	k->seq++;
	/* The full fence of the rule, as the library does it (a seq_cst
	 * exchange, then a seq_cst load): the daemon's store of `active` and
	 * this store of seq cannot both be missed by the other side. */
	(void)__atomic_exchange_n(&k->r->seq, k->seq, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&k->r->active, __ATOMIC_SEQ_CST) & 1;
}

void bb_cc_leave(struct bb_cc *k)
{
	k->seq++;
	__atomic_store_n(&k->r->seq, k->seq, __ATOMIC_RELEASE);
}

size_t bb_cc_push(struct bb_cc *k, unsigned order, const uint32_t *pfns, size_t n)
{
	unsigned a = bb_cc_enter(k);
	struct pp_cc_list *l = &k->r->list[a][order];
	uint32_t count = l->count;
	size_t i;

	for (i = 0; i < n && count < PP_CC_CAP; i++)
		l->pfn[count++] = pfns[i];
	l->count = count;
	bb_cc_leave(k);
	return i;
}

int bb_cc_pop(struct bb_cc *k, unsigned order, uint32_t *pfn)
{
	unsigned a = bb_cc_enter(k);
	struct pp_cc_list *l = &k->r->list[a][order];
	uint32_t count = l->count;
	int r = -ENOENT;

	if (count > 0 && count <= PP_CC_CAP) {
		*pfn = l->pfn[count - 1];
		l->count = count - 1;
		r = 0;
	}
	bb_cc_leave(k);
	return r;
}

uint32_t bb_cc_count(const struct pp_cc_region *r, unsigned set, unsigned order)
{
	return __atomic_load_n(&r->list[set][order].count, __ATOMIC_RELAXED);
}

struct pp_cc_region *bb_cc_map_proc(pid_t pid, int fd)
{
	char path[64];
	void *p;
	int mfd;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	mfd = open(path, O_RDWR | O_CLOEXEC);
	if (mfd < 0)
		return NULL;
	p = mmap(NULL, PP_CC_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	close(mfd);
	return p == MAP_FAILED ? NULL : p;
}

void bb_cc_unmap_region(struct pp_cc_region *r)
{
	if (r)
		munmap(r, PP_CC_SIZE);
}

int bb_kid_chan_open(struct bb_kid_chan *ch)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ch->fd) < 0) {
		ch->fd[0] = ch->fd[1] = -1;
		return -errno;
	}
	return 0;
}

int bb_kid_chan_side(struct bb_kid_chan *ch, bool child)
{
	int keep = child ? 1 : 0;

	close(ch->fd[!keep]);
	ch->fd[!keep] = -1;
	return ch->fd[keep];
}

void bb_kid_chan_close(struct bb_kid_chan *ch)
{
	for (unsigned i = 0; i < 2; i++) {
		if (ch->fd[i] >= 0)
			close(ch->fd[i]);
		ch->fd[i] = -1;
	}
}

int bb_kid_send(int fd, const void *msg, size_t len)
{
	for (;;) {
		ssize_t n = send(fd, msg, len, MSG_NOSIGNAL);

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EMSGSIZE;
		if (errno != EINTR)
			return -errno;
	}
}

ssize_t bb_kid_recv(int fd, void *msg, size_t len, int timeout_ms)
{
	int64_t deadline = bb_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = timeout_ms < 0 ? -1 : bb_left_ms(deadline);
		int r = poll(&p, 1, left);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(fd, msg, len, MSG_DONTWAIT);
		if (n > 0)
			return n;
		if (n == 0)
			return -ECONNRESET;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}
