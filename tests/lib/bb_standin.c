/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_standin.c - a stand-in daemon for libpagepool tests (see bb_standin.h).
 */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "bb_standin.h"
#include "bb_time.h"

#define STANDIN_MS	10000		/* the child's whole life, at most */
#define ARENA_SIZE	(1u << 20)

int bb_standin_send(int s, const wire_response *r, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	uint8_t *buf;
	size_t len;
	int ok;

	if (wire_encode(&r->base, UINT32_MAX, &buf, &len) != 0)
		return -1;
	iov.iov_base = buf;
	iov.iov_len = len;
	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf.buf;
		m.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	ok = sendmsg(s, &m, MSG_NOSIGNAL) == (ssize_t)len;
	free(buf);
	return ok ? 0 : -1;
}

int bb_standin_welcome(int s, uint32_t features, uint32_t cache_high, uint32_t cache_batch)
{
	Pagepool__V1__Welcome w = PAGEPOOL__V1__WELCOME__INIT;
	wire_response r = PAGEPOOL__V1__RESPONSE__INIT;
	int arena = memfd_create("standin-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int err;

	if (arena < 0 || ftruncate(arena, ARENA_SIZE) < 0 ||
	    fcntl(arena, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		return -1;
	w.version = WIRE_VERSION;
	w.pool = "default";
	w.page_size = 4096;
	w.arena_size = ARENA_SIZE;
	w.max_count = 64;
	w.max_frame = WIRE_MAX_FRAME_DEFAULT;
	w.max_order = 8;
	w.features = features;
	w.cache_high = cache_high;
	w.cache_batch = cache_batch;
	r.id = 1;
	r.body_case = PAGEPOOL__V1__RESPONSE__BODY_WELCOME;
	r.welcome = &w;
	err = bb_standin_send(s, &r, arena);
	close(arena);
	return err;
}

/* The child: see bb_standin_start.  Leaves with _exit only. */
static void __attribute__((noreturn)) standin_run(int lfd,
						 int (*answer)(int, unsigned, int), int arg)
{
	int64_t deadline = bb_now_ms() + STANDIN_MS;
	struct pollfd pf = { .fd = lfd, .events = POLLIN };
	char buf[4096];

	if (poll(&pf, 1, STANDIN_MS) != 1)
		_exit(2);
	pf.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (pf.fd < 0)
		_exit(3);
	for (unsigned nread = 0;; nread++) {
		ssize_t n;
		int ret;

		if (poll(&pf, 1, bb_left_ms(deadline)) != 1)
			_exit(4);
		n = read(pf.fd, buf, sizeof(buf));
		if (n == 0)
			_exit(0);
		if (n < 0)
			_exit(5);
		ret = answer(pf.fd, nread, arg);
		if (ret == BB_STANDIN_END)
			_exit(0);
		if (ret > 0)
			_exit(ret);
	}
}

pid_t bb_standin_start(struct bb *f, int (*answer)(int s, unsigned nread, int arg), int arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	bb_mkdir(f);
	assert_true(lfd >= 0);
	assert_true(strlen(f->sock) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, f->sock);
	unlink(f->sock);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	pid = bb_fork(f);
	if (pid == 0)
		standin_run(lfd, answer, arg);
	close(lfd);
	return pid;
}
