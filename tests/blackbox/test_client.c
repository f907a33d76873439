/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_client.c - libpagepool's environment and timeouts: PAGEPOOL_SOCKET
 * names the socket when pp_connect() is given none; PAGEPOOL_TIMEOUT_MS
 * bounds pp_connect(); pp_set_timeout() bounds each later call.  A daemon
 * that does not answer is a stand-in: a child that accepts, reads every
 * byte and never replies (or replies to the hello only).  The real daemon
 * must still serve a client with a timeout set.
 */
#include <sys/mman.h>

#include "bb.h"
#include "wire.h"

static const char conf_basic[] =
	"[daemon]\n"
	"socket = @SOCKET@\n"
	"workers = 1\n"
	"\n"
	"[pool default]\n"
	"size = 4M\n";

/* Teardown that also clears what the tests put in the environment. */
static int env_teardown(void **state)
{
	unsetenv("PAGEPOOL_SOCKET");
	unsetenv("PAGEPOOL_TIMEOUT_MS");
	unsetenv("PAGEPOOL_CACHE");
	return bb_teardown(state);
}

#define client_test(fn) cmocka_unit_test_setup_teardown(fn, bb_setup, env_teardown)

/* ---- a stand-in daemon ---------------------------------------------------- */

/* Frame and write a Response with the arena fd (when >= 0).  0 or -1. */
static int standin_send(int fd, const wire_response *r, int arena)
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
	if (arena >= 0) {
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf.buf;
		m.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &arena, sizeof(int));
	}
	ok = sendmsg(fd, &m, MSG_NOSIGNAL) == (ssize_t)len;
	free(buf);
	return ok ? 0 : -1;
}

/* A Welcome for a 1 MiB pool of 4 KiB pages, with a sealed memfd. */
static int standin_welcome(int fd)
{
	Pagepool__V1__Welcome w = PAGEPOOL__V1__WELCOME__INIT;
	wire_response r = PAGEPOOL__V1__RESPONSE__INIT;
	int arena = memfd_create("standin-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int err;

	if (arena < 0 || ftruncate(arena, 1 << 20) < 0 ||
	    fcntl(arena, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		return -1;
	w.version = WIRE_VERSION;
	w.pool = "default";
	w.page_size = 4096;
	w.arena_size = 1 << 20;
	w.max_count = 64;
	w.max_frame = WIRE_MAX_FRAME_DEFAULT;
	w.max_order = 8;
	r.id = 1;
	r.body_case = PAGEPOOL__V1__RESPONSE__BODY_WELCOME;
	r.welcome = &w;
	err = standin_send(fd, &r, arena);
	close(arena);
	return err;
}

/*
 * Child: accept one connection on lfd; answer its first bytes with a
 * welcome when `welcome` (a hello comes whole in one read), then read
 * everything and answer nothing.  Exits 0 at the client's EOF, non-zero
 * when something else happens or 10 s pass.
 */
static void __attribute__((noreturn)) standin_run(int lfd, bool welcome)
{
	int64_t deadline = bb_now_ms() + 10000;
	struct pollfd pf = { .events = POLLIN };
	bool first = true;
	char buf[4096];

	pf.fd = lfd;
	if (poll(&pf, 1, 10000) != 1)
		_exit(2);
	pf.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (pf.fd < 0)
		_exit(3);
	for (;;) {
		ssize_t n;

		if (poll(&pf, 1, bb_left_ms(deadline)) != 1)
			_exit(4);
		n = read(pf.fd, buf, sizeof(buf));
		if (n == 0)
			_exit(0);
		if (n < 0)
			_exit(5);
		if (first && welcome && standin_welcome(pf.fd) != 0)
			_exit(6);
		first = false;
	}
}

/* Listen on f->sock and fork the stand-in; returns its pid. */
static pid_t standin_start(struct bb *f, bool welcome)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	bb_mkdir(f);
	assert_true(lfd >= 0);
	strcpy(sa.sun_path, f->sock);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	pid = bb_fork(f);
	if (pid == 0)
		standin_run(lfd, welcome);
	close(lfd);
	return pid;
}

static void expect_took(int64_t t0, int timeout_ms)
{
	int64_t took = bb_now_ms() - t0;

	print_message("-ETIMEDOUT after %lld ms (timeout %d ms)\n", (long long)took, timeout_ms);
	assert_true(took >= timeout_ms - 1);
	assert_true(took <= timeout_ms + 1000);
}

/* ---- tests ---------------------------------------------------------------- */

/* NULL and "" mean $PAGEPOOL_SOCKET; an explicit path wins over it. */
static void test_socket_from_env(void **state)
{
	struct bb *f = *state;
	struct pp_client *c = NULL;
	char other[160];
	int r;

	bb_start(f, conf_basic);
	assert_int_equal(setenv("PAGEPOOL_SOCKET", f->sock, 1), 0);
	bb_assert_rc(NULL, pp_connect(NULL, NULL, &c), 0);
	assert_string_equal(pp_info(c)->pool, "default");
	pp_close(c);
	bb_assert_rc(NULL, pp_connect("", NULL, &c), 0);
	pp_close(c);

	snprintf(other, sizeof(other), "%s/nothing-here.sock", f->dir);
	c = NULL;
	assert_int_equal(pp_connect(other, NULL, &c), -ECONNREFUSED);
	assert_null(c);
	assert_non_null(strstr(pp_last_error(NULL), other));

	/* Empty: the default socket, whatever is (not) there. */
	assert_int_equal(setenv("PAGEPOOL_SOCKET", "", 1), 0);
	r = pp_connect(NULL, NULL, &c);
	if (r == 0)
		pp_close(c);
	else
		assert_non_null(strstr(pp_last_error(NULL), PP_DEFAULT_SOCKET));
}

/* PAGEPOOL_TIMEOUT_MS: a daemon that never welcomes costs that long. */
static void test_connect_timeout(void **state)
{
	struct bb *f = *state;
	struct pp_client *c = NULL;
	pid_t kid = standin_start(f, false);
	int64_t t0;

	assert_int_equal(setenv("PAGEPOOL_TIMEOUT_MS", "300", 1), 0);
	t0 = bb_now_ms();
	assert_int_equal(pp_connect(f->sock, NULL, &c), -ETIMEDOUT);
	expect_took(t0, 300);
	assert_null(c);
	assert_non_null(strstr(pp_last_error(NULL), "no answer"));
	assert_int_equal(bb_kid_wait(f, kid, 5000), 0);		/* saw the hello, then EOF */

	/* Not a number: refused before any I/O. */
	assert_int_equal(setenv("PAGEPOOL_TIMEOUT_MS", "5s", 1), 0);
	assert_int_equal(pp_connect(f->sock, NULL, &c), -EINVAL);
	assert_non_null(strstr(pp_last_error(NULL), "PAGEPOOL_TIMEOUT_MS"));
	assert_int_equal(setenv("PAGEPOOL_TIMEOUT_MS", "-1", 1), 0);
	assert_int_equal(pp_connect(f->sock, NULL, &c), -EINVAL);
}

/* pp_set_timeout: a call the daemon reads but never answers. */
static void test_call_timeout(void **state)
{
	struct bb *f = *state;
	struct pp_client *c = NULL;
	struct pp_stat st;
	pid_t kid = standin_start(f, true);
	int64_t t0;

	bb_assert_rc(NULL, pp_connect(f->sock, NULL, &c), 0);
	assert_int_equal(pp_set_timeout(NULL, 100), -EINVAL);
	assert_int_equal(pp_set_timeout(c, 300), 0);
	t0 = bb_now_ms();
	assert_int_equal(pp_stat(c, &st), -ETIMEDOUT);
	expect_took(t0, 300);
	assert_non_null(strstr(pp_last_error(c), "no answer"));
	assert_string_equal(pp_strerror(-ETIMEDOUT), "the daemon did not answer in time");
	/* Broken: no more I/O, the reason kept. */
	t0 = bb_now_ms();
	assert_int_equal(pp_stat(c, &st), -ECONNRESET);
	assert_true(bb_now_ms() - t0 < 100);
	assert_non_null(strstr(pp_last_error(c), "no answer"));
	pp_close(c);
	assert_int_equal(bb_kid_wait(f, kid, 5000), 0);
}

/* The real daemon answers well within a timeout, call after call. */
static void test_timeout_real_daemon(void **state)
{
	struct bb *f = *state;
	struct pp_client *c;
	uint32_t pfns[8];
	unsigned got, bad;
	struct pp_stat st;

	bb_start(f, conf_basic);
	assert_int_equal(setenv("PAGEPOOL_TIMEOUT_MS", "10000", 1), 0);
	/* Every call a round trip: no client cache to answer in the process. */
	assert_int_equal(setenv("PAGEPOOL_CACHE", "0", 1), 0);
	c = bb_client(f, NULL);
	assert_int_equal(pp_set_timeout(c, 10000), 0);
	for (unsigned i = 0; i < 100; i++) {
		bb_assert_rc(c, pp_alloc(c, 0, 8, 0, pfns, &got), 0);
		assert_int_equal(got, 8);
		bb_assert_rc(c, pp_free(c, pfns, got, &bad), 0);
	}
	/* A refusal within the timeout leaves the client usable. */
	pfns[0] = 0;
	assert_int_equal(pp_free(c, pfns, 1, &bad), -EALREADY);
	assert_int_equal(pp_set_timeout(c, -5), 0);	/* back to blocking */
	bb_assert_rc(c, pp_stat(c, &st), 0);
	assert_int_equal(st.allocated, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		client_test(test_socket_from_env),
		client_test(test_connect_timeout),
		client_test(test_call_timeout),
		client_test(test_timeout_real_daemon),
	};

	return cmocka_run_group_tests_name("libpagepool environment and timeouts", tests, NULL,
					   NULL);
}
