/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb.h - the black-box test support library, tests/lib (built once into
 * libbb.a), in one include.  Each black-box test starts the real pagepoold
 * on a private socket in a fresh mkdtemp directory, with a config the test
 * writes, and talks to it only through libpagepool, pagepoolctl, or raw
 * bytes on the socket whose answers are read through proto/transport.h.
 *
 *   bb_fixture.h  the fixture (struct bb): directory, teardown, children
 *   bb_daemon.h   starting and stopping pagepoold
 *   bb_admin.h    the admin socket: verify, drains, counts, clients, ranges
 *   bb_client.h   libpagepool clients and pool counters
 *   bb_conn.h     raw connections          bb_rpc.h   round trips on them
 *   bb_msg.h      requests, statuses, raw byte buffers
 *   bb_child.h    running programs         bb_file.h  files
 *   bb_time.h     the clock
 *   bb_proc.h     /proc counts, CPUs, pagepoolctl's path
 *   bb_trace.h    strace on the daemon or a child
 *   bb_standin.h  a stand-in daemon for libpagepool's tests
 *
 * Environment: PAGEPOOLD (daemon binary; tests skip without it), PP_EXAMPLE
 * (example program), BB_VERBOSE=1 prints each daemon's log at teardown,
 * BB_KEEP=1 keeps the temporary directories.
 */
#ifndef PP_BB_H
#define PP_BB_H

/* The system headers the tests have always had from the harness. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "pagepool.h"
#include "pagepool.pb-c.h"

#include "bb_admin.h"
#include "bb_child.h"
#include "bb_client.h"
#include "bb_conn.h"
#include "bb_daemon.h"
#include "bb_file.h"
#include "bb_fixture.h"
#include "bb_msg.h"
#include "bb_proc.h"
#include "bb_rpc.h"
#include "bb_standin.h"
#include "bb_time.h"
#include "bb_trace.h"

#endif
