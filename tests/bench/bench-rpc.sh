#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench-rpc.sh PAGEPOOLD BENCH_RPC - round-trip latency of pp_alloc(order 0, 1)
# + pp_free against the transport floor (an echo server answering with the
# same framing and message sizes over the same UNIX socket type), side by side.
#
# Two runs:
#   cross-CPU: the daemon's single worker and the echo server on CPU 1, the
#              client on CPU 0;
#   same-CPU:  worker, echo server and client all on CPU 0.
# Each run starts pagepoold on a private socket in a mktemp dir (one 64M
# pool), waits for --ready-fd, starts `BENCH_RPC --echo-server` (taskset) and
# waits for its READY line, runs the client, then stops both.  The tables go
# to stdout and to bench-rpc.md next to the binary.
#
# A third run counts the worker's system calls per request: `strace -c` is
# attached to the worker thread (the task whose comm is pp-worker/0) before
# the client connects and detached after it is done; the count is divided by
# the requests the daemon answered (a hello and two per pair, warm-up
# included).  Its latencies are not reported (strace slows every call).
# BENCH_RPC_SYSCALL_ITERS (default 20000) sets its pairs; 0 skips it, as
# does the lack of strace or of permission to trace.
set -eu

daemon=${1:?usage: bench-rpc.sh PAGEPOOLD BENCH_RPC}
bin=${2:?usage: bench-rpc.sh PAGEPOOLD BENCH_RPC}
iters=${BENCH_RPC_ITERS:-20000}
sc_iters=${BENCH_RPC_SYSCALL_ITERS:-20000}
warmup=2000	# bench_rpc.c's WARMUP
for f in "$daemon" "$bin"; do
	[ -x "$f" ] || { echo "bench-rpc: $f is not executable" >&2; exit 1; }
done
command -v taskset >/dev/null 2>&1 || { echo "bench-rpc: taskset (util-linux) is needed" >&2; exit 1; }
md=$(dirname "$bin")/bench-rpc.md
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-rpc.XXXXXX")
dpid= epid= spid=

stop() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null || :
	[ -n "$epid" ] && kill "$epid" 2>/dev/null && wait "$epid" 2>/dev/null || :
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null || :
	epid= dpid= spid=
}
trap 'stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# worker_tid: the tid of pagepoold's worker thread pp-worker/0, or nothing.
worker_tid() {
	for t in /proc/"$dpid"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = pp-worker/0 ] && { basename "$t"; return; }
	done
}

# strace_start: attach strace -c to the worker; false if it cannot.
strace_start() {
	tid=$(worker_tid)
	[ -n "$tid" ] || { echo "bench-rpc: no pp-worker/0 thread" >&2; return 1; }
	strace -c -o "$dir/strace.txt" -p "$tid" 2>"$dir/strace.log" &
	spid=$!
	# Attached once strace says so (bounded: 10 s).
	n=0
	while ! grep -q attached "$dir/strace.log" 2>/dev/null; do
		n=$((n + 1))
		if [ $n -gt 1000 ] || ! kill -0 "$spid" 2>/dev/null; then
			echo "bench-rpc: strace could not attach:" >&2
			cat "$dir/strace.log" >&2
			kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null || :
			spid=
			return 1
		fi
		sleep 0.01
	done
}

# strace_report REQUESTS: detach and print the per-request table.
strace_report() {
	kill -INT "$spid"
	wait "$spid" 2>/dev/null || :
	spid=
	echo "| syscall (worker thread) | calls | per request |"
	echo "|---|---:|---:|"
	# strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall.
	awk -v req="$1" '
		/^-/ || /^% time/ || NF < 5 { next }
		$NF == "total" { tot = $4; next }
		{ printf "| %s | %d | %.2f |\n", $NF, $4, $4 / req }
		END { printf "| **total** | %d | **%.2f** |\n", tot, tot / req }
	' "$dir/strace.txt"
	echo
	echo "Requests answered: $1 (a hello, then alloc + free for $warmup warm-up and $sc_iters timed pairs)."
}

# run NAME WORKER_CPU ECHO_CPU CLIENT_CPU [strace]: one measurement, table to
# $tmp/NAME.md (with strace: the worker's system calls per request instead)
run() {
	name=$1 wcpu=$2 ecpu=$3 ccpu=$4 trace=${5:-} dir=$tmp/$1
	mkdir "$dir"
	cat >"$dir/pagepoold.conf" <<-EOF
	[daemon]
	socket = $dir/pp.sock
	socket_mode = 0600
	workers = $wcpu
	drain_mode = rcu
	log_level = err

	[pool default]
	size = 64M
	groups =
	EOF

	# Readiness through FIFOs: the daemon writes READY to --ready-fd, the
	# echo server prints READY once it listens.  A reader sees EOF instead
	# if the process dies first.
	mkfifo "$dir/dready" "$dir/eready"
	"$daemon" -f -c "$dir/pagepoold.conf" --ready-fd 3 3>"$dir/dready" 2>"$dir/daemon.log" &
	dpid=$!
	read -r line <"$dir/dready" || line=
	[ "$line" = READY ] || { echo "bench-rpc: pagepoold did not start:" >&2; cat "$dir/daemon.log" >&2; exit 1; }

	taskset -c "$ecpu" "$bin" --echo-server "$dir/echo.sock" >"$dir/eready" 2>"$dir/echo.log" &
	epid=$!
	read -r line <"$dir/eready" || line=
	[ "$line" = READY ] || { echo "bench-rpc: echo server did not start:" >&2; cat "$dir/echo.log" >&2; exit 1; }

	echo "== $name: daemon worker on CPU $wcpu, echo server on CPU $ecpu, client on CPU $ccpu" >&2
	if [ -n "$trace" ]; then
		strace_start || { stop; return 1; }
		"$bin" --daemon "$dir/pp.sock" --echo "$dir/echo.sock" --iters "$sc_iters" \
			--cpu "$ccpu" >/dev/null
		strace_report $((1 + 2 * (warmup + sc_iters))) >"$tmp/$name.md"
	else
		"$bin" --daemon "$dir/pp.sock" --echo "$dir/echo.sock" --iters "$iters" \
			--cpu "$ccpu" >"$tmp/$name.md"
	fi
	stop
}

run cross 1 1 0
run same 0 0 0
syscalls=
if [ "$sc_iters" -gt 0 ] && command -v strace >/dev/null 2>&1; then
	run syscalls 1 1 0 strace && syscalls=1
fi

{
	echo "### Cross-CPU: client on CPU 0, daemon worker and echo server on CPU 1"
	echo
	cat "$tmp/cross.md"
	echo
	echo "### Same CPU: client, daemon worker and echo server all on CPU 0"
	echo
	cat "$tmp/same.md"
	echo
	if [ -n "$syscalls" ]; then
		echo "### System calls per request in the worker thread (strace -c, worker on CPU 1, client on CPU 0)"
		echo
		cat "$tmp/syscalls.md"
		echo
	fi
	echo "Latency per pair (alloc + free = two round trips), clock_gettime(CLOCK_MONOTONIC)."
	echo "The floor is \`bench_rpc --echo-server\`: blocking, single-threaded, one UNIX stream"
	echo "connection, answering each request with the message pagepoold would send (same size),"
	echo "both sides through proto/transport.h like libpagepool."
} >"$md"

echo
cat "$md"
echo
echo "(written to $md)"
