#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench-all.sh OUTDIR PAGEPOOLD BENCH_CORE BENCH_RPC BENCH_LOAD [PEER_BIN...]
#
# The whole benchmark suite (`make bench`), each comparison side by side in
# one invocation, in bounded time: QUICK=1 under 2 minutes, the default under
# 15.  Writes into OUTDIR:
#   README.md       the machine, then every table (what `make bench` prints)
#   machine.md      CPU model, cores, kernel, compiler, commit, date
#   core.md         in-process core: ns/op and callgrind instructions/op
#   peers.md        the pcp-hit pair against DPDK rte_mempool (per-lcore
#                   cache), glibc malloc, jemalloc, tcmalloc (those built)
#   rpc.md          case 1: alloc+free round trip against the echo floors
#                   (blocking, and event-driven: epoll_wait before each receive)
#   load.md         cases 2-3: throughput pcp on/off, drains, drain storms
#   pipe.md         case 6: producer -> consumer pipeline, hand-off and shared
#                   references against ack-back, and the socketpair floor
#                   (bench_pipe: $BENCH_PIPE, default next to BENCH_RPC)
#   cg-daemon.md    case 5: a worker's instructions per page (callgrind)
#   ccache.md       case 7: the client cache - cache-hit pair, round trips per
#                   1,000 allocs, pipeline and non-interference, each against
#                   its baseline (bench_ccache: $BENCH_CCACHE, default next to
#                   BENCH_RPC; alone: make bench-ccache [QUICK=1])
#   *.dat, *.png    the load data and its gnuplot plots (when gnuplot exists)
#
# Order: the CPU-bound in-process runs first, on a quiet machine; then the
# socket benchmarks.  Nothing else should run meanwhile: on a 2-CPU machine a
# compiler in the background moves every number.
set -eu

usage="usage: bench-all.sh OUTDIR PAGEPOOLD BENCH_CORE BENCH_RPC BENCH_LOAD [PEER_BIN...]"
out=${1:?$usage}
daemon=${2:?$usage}
core=${3:?$usage}
rpc=${4:?$usage}
load=${5:?$usage}
shift 5
here=$(dirname "$0")
case ${QUICK:-} in
'' | 0 | no) quick= ;;
*) quick=1 ;;
esac

mkdir -p "$out"
t0=$(date +%s)

# step NAME: print a banner with the elapsed time.
step() {
	echo
	echo "=== $1 ($(($(date +%s) - t0)) s elapsed)"
}

{
	model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	echo "| | |"
	echo "| --- | --- |"
	echo "| CPU | ${model:-unknown} |"
	echo "| CPUs online / allowed | $(getconf _NPROCESSORS_ONLN) / $(nproc) |"
	echo "| memory | $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
	echo "| kernel | $(uname -sr) |"
	echo "| system | $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-?}") |"
	echo "| compiler | $(${CC:-cc} --version 2>/dev/null | head -n 1) |"
	echo "| commit | $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$here" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)') |"
	echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
	echo "| mode | $([ -n "$quick" ] && echo 'QUICK=1 (fewer, shorter samples)' || echo full) |"
	echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
} >"$out/machine.md"

step "core, in process (make bench-core)"
if [ -n "$quick" ]; then
	echo "(QUICK: skipped; the pcp-hit pair is measured with the peers below)" | tee "$out/core.md"
else
	"$here/bench-core.sh" "$core"
	cp "$(dirname "$core")/bench-core.md" "$out/core.md"
fi

step "case 4: the pcp-hit pair against peer allocators"
BENCH_PEERS_ROUNDS=${BENCH_PEERS_ROUNDS:-5} "$here/bench-peers.sh" "$core" "$@"
cp "$(dirname "$core")/bench-peers.md" "$out/peers.md"

step "case 1: round-trip latency against the transport floors"
BENCH_RPC_ITERS=${BENCH_RPC_ITERS:-$([ -n "$quick" ] && echo 5000 || echo 50000)} \
	"$here/bench-rpc.sh" "$daemon" "$rpc"
cp "$(dirname "$rpc")/bench-rpc.md" "$out/rpc.md"

step "case 6: producer -> consumer pipeline, hand-off against ack-back"
pipe=${BENCH_PIPE:-$(dirname "$rpc")/bench_pipe}
QUICK=$quick "$here/pipe-bench.sh" "$daemon" "$pipe"
cp "$(dirname "$pipe")/bench-pipe.md" "$out/pipe.md"

step "case 7: the client cache"
ccache=${BENCH_CCACHE:-$(dirname "$rpc")/bench_ccache}
QUICK=$quick "$here/ccache-bench.sh" "$daemon" "$ccache"
cp "$(dirname "$ccache")/bench-ccache.md" "$out/ccache.md"

step "cases 2 and 3: throughput, drains, drain storms"
QUICK=$quick "$here/bench-load.sh" "$daemon" "$load" "$rpc"
ldir=$(dirname "$load")
cp "$ldir/bench-load.md" "$out/load.md"
for f in throughput.dat drain.dat storm.dat throughput.png throughput-ratio.png drain.png \
	storm.png; do
	[ -f "$ldir/$f" ] && cp "$ldir/$f" "$out/"
done

step "case 5: a worker's instructions per page (callgrind)"
if command -v valgrind >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
	if [ -n "$quick" ]; then
		"$here/callgrind-daemon.sh" "$daemon" 1:500 1024:20
	else
		"$here/callgrind-daemon.sh" "$daemon"
	fi | tee "$out/cg-daemon.md"
else
	echo "(skipped: valgrind or python3 missing)" | tee "$out/cg-daemon.md"
fi

{
	echo "# pagepool benchmarks"
	echo
	echo "## Machine"
	echo
	cat "$out/machine.md"
	echo
	echo "Total time: $(($(date +%s) - t0)) s."
	echo
	echo "## Case 1: alloc+free round trip against the transport floors"
	echo
	cat "$out/rpc.md"
	echo
	echo "## Case 6: producer -> consumer pipeline, hand-off against ack-back"
	echo
	cat "$out/pipe.md"
	echo
	echo "## Case 7: the client cache (issue 15)"
	echo
	cat "$out/ccache.md"
	echo
	echo "## Cases 2 and 3: throughput, drains, drain storms"
	echo
	cat "$out/load.md"
	for p in throughput.png throughput-ratio.png drain.png storm.png; do
		[ -f "$out/$p" ] && echo && echo "![$p]($p)"
	done
	echo
	echo "## Case 5: where a worker's instructions go, per page"
	echo
	cat "$out/cg-daemon.md"
	echo
	echo "## Case 4: the pcp-hit pair against peer allocators"
	echo
	cat "$out/peers.md"
	echo
	echo "## The core in process"
	echo
	cat "$out/core.md"
} >"$out/README.md"

step "done"
echo "results: $out/README.md"
ls "$out"
