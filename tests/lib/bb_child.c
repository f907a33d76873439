/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_child.c - running programs and waiting for children (see bb_child.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "bb_child.h"
#include "bb_time.h"

int bb_wait_pid(pid_t pid, int timeout_ms, int *status)
{
	int64_t deadline = bb_now_ms() + timeout_ms;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int ret;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		int left;

		if (r == pid) {
			ret = 0;
			break;
		}
		if (r < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		left = bb_left_ms(deadline);
		if (left == 0) {
			ret = -ETIMEDOUT;
			break;
		}
		if (pfd >= 0) {
			struct pollfd p = { .fd = pfd, .events = POLLIN };

			poll(&p, 1, left);
		} else {
			poll(NULL, 0, left < 5 ? left : 5);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return ret;
}

int bb_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int bb_reap(pid_t pid, int timeout_ms)
{
	int status = 0;

	if (bb_wait_pid(pid, timeout_ms, &status) == 0)
		return bb_exit_code(status);
	kill(pid, SIGKILL);
	bb_wait_pid(pid, 5000, &status);
	return -ETIMEDOUT;
}

void bb_child_init(pid_t parent)
{
	static const char *const sd_env[] = {
		"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
		"LISTEN_FDNAMES", "JOURNAL_STREAM",
	};
	static const int sigs[] = { SIGPIPE, SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE };
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (size_t i = 0; i < sizeof(sd_env) / sizeof(sd_env[0]); i++)
		unsetenv(sd_env[i]);
}

/* Open an output file for a child (in the parent: a failure is the test's). */
static int open_out(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	return fd;
}

/* In the child: the environment changes of p->env. */
static void child_env(const char *const *env)
{
	for (; env && *env; env++) {
		if (strchr(*env, '='))
			putenv((char *)*env);
		else
			unsetenv(*env);
	}
}

/* In the child: become p->uid, no supplementary groups; exits 124 if not. */
static void child_drop(uid_t uid)
{
	if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0 || getuid() != uid ||
	    geteuid() != uid) {
		dprintf(2, "dropping to uid %d: %s\n", (int)uid, strerror(errno));
		_exit(124);
	}
}

/* In the child: everything after fork up to exec.  Never returns. */
static void child_exec(const struct bb_prog *p, pid_t parent, int out, int err)
{
	int nul = open("/dev/null", O_RDONLY);

	bb_child_init(parent);
	if (p->group)
		setpgid(0, 0);
	child_env(p->env);
	if (nul < 0 || dup2(nul, 0) < 0 || (out >= 0 && dup2(out, 1) < 0) ||
	    (err >= 0 && dup2(err, 2) < 0) || (p->cwd && chdir(p->cwd) < 0) ||
	    (p->keep_fd > 2 && fcntl(p->keep_fd, F_SETFD, 0) < 0))
		_exit(125);
	if (p->drop)
		child_drop(p->uid);
	execvp(p->argv[0], (char *const *)p->argv);
	dprintf(2, "exec %s: %s\n", p->argv[0], strerror(errno));
	_exit(127);
}

pid_t bb_prog_spawn(const struct bb_prog *p)
{
	pid_t parent = getpid(), pid;
	int out = p->out ? open_out(p->out) : -1;
	int err = !p->err ? -1 : p->out && strcmp(p->err, p->out) == 0 ? out : open_out(p->err);

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_exec(p, parent, out, err);
	if (p->group)
		setpgid(pid, pid);	/* as the child does: whichever runs first */
	if (out >= 0)
		close(out);
	if (err >= 0 && err != out)
		close(err);
	return pid;
}

int bb_prog_run(const struct bb_prog *p, int timeout_ms)
{
	pid_t pid = bb_prog_spawn(p);
	int status = 0;

	if (bb_wait_pid(pid, timeout_ms, &status) == 0)
		return bb_exit_code(status);
	kill(p->group ? -pid : pid, SIGKILL);
	bb_wait_pid(pid, 5000, &status);
	return -ETIMEDOUT;
}
