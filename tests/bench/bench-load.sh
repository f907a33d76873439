#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench-load.sh PAGEPOOLD BENCH_LOAD [BENCH_RPC] - benchmark cases 2 and 3:
# allocation throughput with the pcp on and off, and remote drains (drain
# time; the saturated clients' latency under a drain storm) in the three
# drain modes.  BENCH_RPC (optional) provides the echo server used as the
# transport floor.  QUICK=1: fewer, shorter samples (well under a minute);
# otherwise about 5 minutes.  Extra arguments for the two bench_load runs can
# be given in BENCH_LOAD_TP_ARGS and BENCH_LOAD_DRAIN_ARGS.
#
# Every daemon is started here on private sockets in a mktemp dir, with a
# configuration written here (2 workers pinned by the daemon to CPUs 0 and 1,
# idle decay off, 1 GiB pools, which gives Linux-like pcp defaults: batch 63,
# high 378), waited for through --ready-fd and a FIFO, and stopped on exit
# whatever happens:
#   throughput: one daemon with two pools that differ only in pcp_high
#               (auto: "on"; 0: "off");
#   drain:      three daemons at once, drain_mode rcu, workqueue and spinlock
#               (spinlock must be configured: it locks every pcp access), so
#               bench_load can alternate between them.
# The echo servers (one per bench_load run: each serves one connection) run
# on CPU 0, like their client.
#
# Output: Markdown on stdout and in bench-load.md next to BENCH_LOAD, plus
# throughput.dat, drain.dat and storm.dat there for tests/bench/plots.gp
# (run it when gnuplot is installed).  The throughput run gets the daemon's
# pid (--daemon-pid) to read its workers' CPU time per page.
set -eu

usage="usage: bench-load.sh PAGEPOOLD BENCH_LOAD [BENCH_RPC]"
daemon=${1:?$usage}
bin=${2:?$usage}
rpc=${3:-}
for f in "$daemon" "$bin" ${rpc:+"$rpc"}; do
	[ -x "$f" ] || { echo "bench-load: $f is not executable" >&2; exit 1; }
done
[ -n "$rpc" ] && ! command -v taskset >/dev/null 2>&1 &&
	{ echo "bench-load: taskset (util-linux) is needed for the echo server" >&2; exit 1; }
[ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ] ||
	{ echo "bench-load: needs CPUs 0 and 1" >&2; exit 1; }

case ${QUICK:-} in
'' | 0 | no) quick= ;;
*) quick=1 ;;
esac
if [ -n "$quick" ]; then
	tp_args="--reps 3 --ms 60 --warmup-ms 10"
	drain_args="--reps 3 --idle 10 --window-ms 300 --sat-ms 100 --warmup-ms 60"
else
	tp_args="--reps 5 --ms 400 --warmup-ms 50"
	drain_args="--reps 5 --idle 50 --window-ms 2500 --sat-ms 400 --warmup-ms 200"
fi
tp_args="$tp_args ${BENCH_LOAD_TP_ARGS:-}"
drain_args="$drain_args ${BENCH_LOAD_DRAIN_ARGS:-}"

out=$(dirname "$bin")
md=$out/bench-load.md
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-load.XXXXXX")
pids=

stop_all() {
	for p in $pids; do
		kill "$p" 2>/dev/null || :
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || :
	done
	pids=
}
trap 'stop_all; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# wait_ready FIFO LOG MESSAGE: wait for the READY line of the process just
# started (EOF instead if it dies first); without it, print MESSAGE, show
# LOG and give up.
wait_ready() {
	read -r line <"$1" || line=
	[ "$line" = READY ] || {
		echo "bench-load: $3:" >&2
		cat "$2" >&2
		exit 1
	}
}

# start_daemon DIR DRAIN_MODE POOLS: write DIR/pagepoold.conf (POOLS is the
# pool sections), start pagepoold, wait for READY on --ready-fd; its pid in
# daemon_pid.
start_daemon() {
	dir=$1
	mkdir -p "$dir"
	cat >"$dir/pagepoold.conf" <<-EOF
	[daemon]
	socket = $dir/pp.sock
	socket_mode = 0600
	admin_socket = $dir/admin.sock
	admin_mode = 0600
	workers = 0,1
	drain_mode = $2
	decay_interval = 0
	log_level = err

	$3
	EOF
	mkfifo "$dir/ready"
	"$daemon" -f -c "$dir/pagepoold.conf" --ready-fd 3 3>"$dir/ready" 2>"$dir/daemon.log" &
	daemon_pid=$!
	pids="$pids $daemon_pid"
	wait_ready "$dir/ready" "$dir/daemon.log" "pagepoold did not start ($dir/pagepoold.conf)"
}

# start_echo DIR: bench_rpc's echo server on CPU 0; sets echo_opt.
start_echo() {
	echo_opt=
	[ -n "$rpc" ] || return 0
	mkdir -p "$1"
	mkfifo "$1/eready"
	taskset -c 0 "$rpc" --echo-server "$1/echo.sock" >"$1/eready" 2>"$1/echo.log" &
	pids="$pids $!"
	wait_ready "$1/eready" "$1/echo.log" "echo server did not start"
	echo_opt="--echo $1/echo.sock --echo-cpu 0"
}

pool() {	# pool NAME [EXTRA LINE]; no client caches: these cases time the daemon
	printf '[pool %s]\nsize = 1G\ngroups =\nclient_cache_high = 0\n%s\n' "$1" "${2:-}"
}

started=$(date +%s)

# ---- case 2: throughput ----
echo "== bench-load: throughput, pcp on vs off${quick:+ (QUICK)}" >&2
start_daemon "$tmp/tp" rcu "$(pool on; pool off 'pcp_high = 0')"
tp_pid=$daemon_pid
start_echo "$tmp/tp"
# shellcheck disable=SC2086
"$bin" throughput --socket "$tmp/tp/pp.sock" --admin "$tmp/tp/admin.sock" \
	--pool-on on --pool-off off $echo_opt --dat "$out/throughput.dat" \
	--daemon-pid "$tp_pid" $tp_args >"$tmp/throughput.md"
stop_all

# ---- case 3: drains ----
echo "== bench-load: drains, rcu / workqueue / spinlock${quick:+ (QUICK)}" >&2
targets=
for mode in rcu workqueue spinlock; do
	start_daemon "$tmp/$mode" "$mode" "$(pool default)"
	targets="$targets --target $mode,$tmp/$mode/pp.sock,$tmp/$mode/admin.sock"
done
start_echo "$tmp/drain"
# shellcheck disable=SC2086
"$bin" drain $targets --pool default $echo_opt --drain-dat "$out/drain.dat" \
	--storm-dat "$out/storm.dat" $drain_args >"$tmp/drain.md"
stop_all

{
	echo "## bench-load: pagepoold under load${quick:+ (QUICK=1: few, short samples)}"
	echo
	echo "Daemons: \`workers = 0,1\` (one pinned worker on each of the 2 CPUs), \`decay_interval = 0\`,"
	echo "1 GiB pools with default pcp tunables unless noted, all on private sockets and started"
	echo "by the script.  Numbers from a shared 2-CPU machine are noisy: compare within a run."
	echo
	echo "### Case 2: throughput, pcp on vs off"
	echo
	cat "$tmp/throughput.md"
	echo "The floor is \`bench_rpc --echo-server\`: the daemon's requests and answers for each"
	echo "batch as plain pfn lists (same pfns, same frame sizes as a client without runs, encoded and"
	echo "decoded through the same request loop as libpagepool's) over the same socket type, no"
	echo "allocator.  pcp on and off use libpagepool as shipped, which asks for runs (FEATURE_RUNS:"
	echo "consecutive pfns as (first, n) pairs); \"pcp on, plain lists\" is the same client with"
	echo "PAGEPOOL_RUNS=0, the frames the floor carries, so plain / floor is the like-for-like ratio."
	echo "Small batches are bound by the round trip, so on/off stays near 1 there; only large batches with both workers busy put the zone lock under contention."
	echo "The daemon's CPU per page (1 connection) is its workers' time alone, the client's excluded:"
	echo "what a page costs the server, whatever the round trip's latency."
	echo
	echo "### Case 3: remote drains"
	echo
	cat "$tmp/drain.md"
	echo "Data: throughput.dat, drain.dat, storm.dat (gnuplot: tests/bench/plots.gp)."
	echo "Run time: $(($(date +%s) - started)) s."
} >"$md"

echo
cat "$md"
echo
echo "(written to $md and the .dat files beside it)"
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot -e "dir='$out'" "$(dirname "$0")/plots.gp" &&
		echo "(plots: $out/throughput.png, $out/throughput-ratio.png, $out/drain.png, $out/storm.png)"
fi
