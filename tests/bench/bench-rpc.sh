#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench-rpc.sh PAGEPOOLD BENCH_RPC - round-trip latency of pp_alloc(order 0, 1)
# + pp_free against the transport floor (an echo server answering with the
# same framing and message sizes over the same UNIX socket type), side by side.
# Two floors: the blocking echo server (recvmsg + send per request; THE
# floor of the ratios) and the event-driven one, `--echo-server --epoll`
# (epoll_wait + recvmsg + send: as many system calls as pagepoold's worker,
# the floor of any server multiplexing connections on one thread).
#
# Two runs:
#   cross-CPU: the daemon's single worker and both echo servers on CPU 1,
#              the client on CPU 0;
#   same-CPU:  worker, echo servers and client all on CPU 0.
# Each run starts pagepoold on a private socket in a mktemp dir (one 64M
# pool), waits for --ready-fd, starts `BENCH_RPC --echo-server` and
# `BENCH_RPC --echo-server --epoll` (taskset) and waits for their READY
# lines, runs the client, then stops all three.  The tables go to stdout and
# to bench-rpc.md next to the binary.
#
# A third run counts system calls per request: `strace -c` is attached to
# the worker thread (the task whose comm is pp-worker/0) and to both echo
# servers (single-threaded) before the client connects, and detached after
# it is done (an echo server ends when its client closes, and strace with
# it); each count is divided by the requests that side answered (the daemon
# a hello, an echo server the Free that teaches it the daemon's pfn, then
# two per pair, warm-up included: the same number).  Its latencies are not
# reported (strace slows every call).  BENCH_RPC_SYSCALL_ITERS (default
# 20000) sets its pairs; 0 skips it, as does the lack of strace or of
# permission to trace.
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
dpid='' epid='' vpid='' spids=''

stop() {
	for p in $spids $epid $vpid $dpid; do
		if kill "$p" 2>/dev/null; then
			wait "$p" 2>/dev/null || :
		fi
	done
	epid='' vpid='' dpid='' spids=''
}
trap 'stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# worker_tid: the tid of pagepoold's worker thread pp-worker/0, or nothing.
worker_tid() {
	for t in /proc/"$dpid"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = pp-worker/0 ] && { basename "$t"; return; }
	done
}

# strace_attach TID NAME: attach strace -c to task TID, counts into
# $dir/NAME.txt; false if it cannot.
strace_attach() {
	strace -c -o "$dir/$2.txt" -p "$1" 2>"$dir/$2.log" &
	spids="$spids $!"
	# Attached once strace says so (bounded: 10 s).
	n=0
	while ! grep -q attached "$dir/$2.log" 2>/dev/null; do
		n=$((n + 1))
		if [ $n -gt 1000 ] || ! kill -0 "$!" 2>/dev/null; then
			echo "bench-rpc: strace could not attach to $2:" >&2
			cat "$dir/$2.log" >&2
			return 1
		fi
		sleep 0.01
	done
}

# strace_start: attach strace -c to the worker and both echo servers; false
# if it cannot (stop() then ends the strace already started).
strace_start() {
	tid=$(worker_tid)
	[ -n "$tid" ] || { echo "bench-rpc: no pp-worker/0 thread" >&2; return 1; }
	strace_attach "$tid" worker && strace_attach "$epid" echo &&
		strace_attach "$vpid" epoll
}

# strace_report REQUESTS: detach and print the per-request table, one column
# per side, the worker's rows in strace's order (by time), then the others.
strace_report() {
	for p in $spids; do
		# An echo server ends with its connection, and its strace with it.
		kill -INT "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
	spids=
	echo "| syscall | floor (blocking echo), per request | event-driven floor (epoll echo), per request | pagepoold worker thread, calls | worker, per request |"
	echo "|---|---:|---:|---:|---:|"
	# strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall.
	awk -v req="$1" '
		FNR == 1 { f++ }
		/^-/ || /^% time/ || NF < 5 { next }
		$NF == "total" { tot[f] = $4; next }
		!($NF in seen) { seen[$NF] = 1; name[++n] = $NF }
		{ calls[f, $NF] = $4 }
		END {
			for (i = 1; i <= n; i++)
				printf "| %s | %.2f | %.2f | %d | %.2f |\n", name[i],
					calls[2, name[i]] / req, calls[3, name[i]] / req,
					calls[1, name[i]], calls[1, name[i]] / req
			printf "| **total** | **%.2f** | **%.2f** | %d | **%.2f** |\n",
				tot[2] / req, tot[3] / req, tot[1], tot[1] / req
		}
	' "$dir/worker.txt" "$dir/echo.txt" "$dir/epoll.txt"
	echo
	echo "Requests answered per side: $1 (a hello to the daemon, or to an echo server the Free"
	echo "that gives it the daemon's pfn; then alloc + free for $warmup warm-up and $sc_iters timed pairs)."
	echo "The echo servers' counts include their one-off calls once the client connects (accept4,"
	echo "close, unlink, epoll_create1, epoll_ctl) and the final receive of the client's close."
}

# run NAME WORKER_CPU ECHO_CPU CLIENT_CPU [strace]: one measurement, table to
# $tmp/NAME.md (with strace: the system calls per request instead); both echo
# servers on ECHO_CPU
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
	# Round trips are what this case times: no client cache in front.
	client_cache_high = 0
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

	mkfifo "$dir/vready"
	taskset -c "$ecpu" "$bin" --echo-server "$dir/epoll.sock" --epoll >"$dir/vready" \
		2>"$dir/epoll.log" &
	vpid=$!
	read -r line <"$dir/vready" || line=
	[ "$line" = READY ] || { echo "bench-rpc: event-driven echo server did not start:" >&2; cat "$dir/epoll.log" >&2; exit 1; }

	echo "== $name: daemon worker on CPU $wcpu, echo servers on CPU $ecpu, client on CPU $ccpu" >&2
	if [ -n "$trace" ]; then
		strace_start || { stop; return 1; }
		"$bin" --daemon "$dir/pp.sock" --echo "$dir/echo.sock" \
			--echo-epoll "$dir/epoll.sock" --iters "$sc_iters" --cpu "$ccpu" >/dev/null
		strace_report $((1 + 2 * (warmup + sc_iters))) >"$tmp/$name.md"
	else
		"$bin" --daemon "$dir/pp.sock" --echo "$dir/echo.sock" \
			--echo-epoll "$dir/epoll.sock" --iters "$iters" --cpu "$ccpu" >"$tmp/$name.md"
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
	echo "### Cross-CPU: client on CPU 0, daemon worker and echo servers on CPU 1"
	echo
	cat "$tmp/cross.md"
	echo
	echo "### Same CPU: client, daemon worker and echo servers all on CPU 0"
	echo
	cat "$tmp/same.md"
	echo
	if [ -n "$syscalls" ]; then
		echo "### System calls per request: echo servers and worker thread (strace -c, servers on CPU 1, client on CPU 0)"
		echo
		cat "$tmp/syscalls.md"
		echo
	fi
	echo "Latency per pair (alloc + free = two round trips), clock_gettime(CLOCK_MONOTONIC)."
	echo "The floor is \`bench_rpc --echo-server\`: blocking, single-threaded, one UNIX stream"
	echo "connection, answering each request with the message pagepoold would send (same size),"
	echo "both sides through proto/transport.h like libpagepool: 2 system calls per request"
	echo "(recvmsg, send).  The event-driven floor is \`bench_rpc --echo-server --epoll\`: the"
	echo "same server, but before each receive that finds no read-ahead bytes it waits in"
	echo "epoll_wait on the connection, so it makes pagepoold's worker's 3 system calls per request"
	echo "(epoll_wait, a receive, a send), the floor of any server multiplexing connections on one"
	echo "thread.  The ratios against the blocking floor are the issue's; daemon / event-driven"
	echo "floor is what is left once the wait for events, which the daemon cannot avoid, is paid."
	echo "The three sides run in alternating rounds (floor, event-driven floor, daemon)."
} >"$md"

echo
cat "$md"
echo
echo "(written to $md)"
