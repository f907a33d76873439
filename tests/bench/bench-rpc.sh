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
set -eu

daemon=${1:?usage: bench-rpc.sh PAGEPOOLD BENCH_RPC}
bin=${2:?usage: bench-rpc.sh PAGEPOOLD BENCH_RPC}
iters=${BENCH_RPC_ITERS:-20000}
for f in "$daemon" "$bin"; do
	[ -x "$f" ] || { echo "bench-rpc: $f is not executable" >&2; exit 1; }
done
command -v taskset >/dev/null 2>&1 || { echo "bench-rpc: taskset (util-linux) is needed" >&2; exit 1; }
md=$(dirname "$bin")/bench-rpc.md
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-rpc.XXXXXX")
dpid= epid=

stop() {
	[ -n "$epid" ] && kill "$epid" 2>/dev/null && wait "$epid" 2>/dev/null || :
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null || :
	epid= dpid=
}
trap 'stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# run NAME WORKER_CPU ECHO_CPU CLIENT_CPU: one measurement, table to $tmp/NAME.md
run() {
	name=$1 wcpu=$2 ecpu=$3 ccpu=$4 dir=$tmp/$1
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
	"$bin" --daemon "$dir/pp.sock" --echo "$dir/echo.sock" --iters "$iters" --cpu "$ccpu" >"$tmp/$name.md"
	stop
}

run cross 1 1 0
run same 0 0 0

{
	echo "### Cross-CPU: client on CPU 0, daemon worker and echo server on CPU 1"
	echo
	cat "$tmp/cross.md"
	echo
	echo "### Same CPU: client, daemon worker and echo server all on CPU 0"
	echo
	cat "$tmp/same.md"
	echo
	echo "Latency per pair (alloc + free = two round trips), clock_gettime(CLOCK_MONOTONIC)."
	echo "The floor is \`bench_rpc --echo-server\`: blocking, single-threaded, one UNIX stream"
	echo "connection, answering each request with the message pagepoold would send (same size),"
	echo "both sides through proto/transport.h like libpagepool."
} >"$md"

echo
cat "$md"
echo
echo "(written to $md)"
