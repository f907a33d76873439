#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pipe-bench.sh PAGEPOOLD BENCH_PIPE - the producer -> consumer pipeline of
# stamped 4 KiB buffers (issue 14): ack-back (pp_alloc, pfns over a
# socket, ack, pp_free) against hand-off (pp_loan, token, pp_take, the
# consumer frees) and shared references with two consumers (pp_loan with
# shares 2), at 1, 16 and 256 buffers per batch, next to the socketpair
# floor between the same processes, all in one bench_pipe run.
#
# Starts pagepoold on a private socket in a mktemp dir (`workers = 0,1`: one
# pinned worker per CPU, decay off, one 256M pool), waits for --ready-fd,
# runs bench_pipe (producer on CPU 0, both consumers on CPU 1; it forks the
# consumers itself), stops the daemon whatever happens.  QUICK=1: 3 short
# rounds (well under 20 s); otherwise 5 rounds (under 90 s).  bench_pipe
# exits non-zero on any bad stamp, library error or page left held; so does
# this script.  The table goes to stdout and to bench-pipe.md next to the
# binary.  BENCH_PIPE_ARGS: more bench_pipe options (e.g. --corrupt 1000,
# which spoils one buffer's stamp: the run must fail).
set -eu

usage="usage: pipe-bench.sh PAGEPOOLD BENCH_PIPE"
# shellcheck source=tests/bench/daemon.sh
. "$(dirname "$0")/daemon.sh"
bench_init pipe-bench "${1:?$usage}" "${2:?$usage}"
md=$(dirname "$bin")/bench-pipe.md

cat >"$tmp/pagepoold.conf" <<EOF
[daemon]
socket = $tmp/pp.sock
socket_mode = 0600
workers = 0,1
drain_mode = rcu
decay_interval = 0
log_level = err

[pool default]
size = 256M
groups =
# Case 6 compares hand-off with ack-back through the daemon; case 7 has the
# client caches.
client_cache_high = 0
EOF

daemon_start "$tmp"

echo "== pipe: producer on CPU 0, consumers on CPU 1, pagepoold workers on CPUs 0 and 1${quick:+ (QUICK)}" >&2
started=$(date +%s)
# shellcheck disable=SC2086
if ! "$bin" --socket "$tmp/pp.sock" --cpus 0,1 --daemon-pid "$dpid" ${quick:+--quick} \
	${BENCH_PIPE_ARGS:-} >"$tmp/pipe.md"; then
	cat "$tmp/pipe.md" >&2
	echo "pipe-bench: bench_pipe failed (see above)" >&2
	exit 1
fi
daemon_stop

{
	cat "$tmp/pipe.md"
	echo
	echo "Each buffer is one order-0 page stamped by the producer (64-bit sequence number and pfn at"
	echo "both ends, a fill derived from both in between) and checked whole by its consumer(s)."
	echo "a. ack-back: producer pp_alloc(0, B), stamps, sends the B pfns; the consumer checks and"
	echo "acks; the producer pp_free()s.  b. hand-off: producer pp_loan(0, B, shares 0), stamps,"
	echo "sends the 16-byte token; the consumer takes, checks, credits the producer, and gives the"
	echo "batch back with its next take (pp_take_release: one round trip for both).  c. shared:"
	echo "pp_loan(0, B, shares 2), the token to both consumers; each takes a reference, checks,"
	echo "credits, and drops it the same way (buffers/s counts buffers produced, each read by both)."
	echo "Every mode keeps the same window of batches in flight (acks or credits from the"
	echo "consumers).  A round trip (B = 1, one batch in flight) runs from the producer starting the"
	echo "batch to the producer hearing back from every consumer of it; the floor is a ping-pong of a"
	echo "hand-off-sized message and a credit over the same socketpair between the producer and"
	echo "consumer 1, in alternating rounds with the three modes.  pagepoold: \`workers = 0,1\`, one"
	echo "256M pool, private socket.  Run time: $(($(date +%s) - started)) s."
} >"$md"

echo
cat "$md"
echo
echo "(written to $md)"
