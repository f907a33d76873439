#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench-core.sh BENCH_BIN - run the core allocator microbenchmark and print
# one Markdown table: case | ns/op | instructions/op | notes.
#
# Times come from the binary's own timed runs (clock_gettime, median of
# several runs).  Instructions come from callgrind: every case is run twice,
# as `BENCH_BIN --callgrind CASE N`, with N1 and N2 = 2*N1 iterations.  The
# binary zeroes the counters right before its loop and dumps them right after
# (CALLGRIND_ZERO_STATS / CALLGRIND_DUMP_STATS_AT), so the dump holds the
# loop alone, and the difference of the two runs divided by the difference of
# their operation counts cancels whatever is left of set-up and warm-up:
#
#   instructions/op = (Ir(N2) - Ir(N1)) / (ops(N2) - ops(N1))
#
# "instructions/op" counts the instructions executed inside the library
# calls a case measures (their inclusive cost: pcp_alloc + pcp_free, or
# pool_alloc + pool_free, or drain_pcps ...), read from the call records of
# the dump; "loop" in the notes is the whole loop iteration, bench harness
# (loop counter, argument set-up, call instructions) included.
#
# The table is also written next to the binary, as bench-core.md.
set -eu

bin=${1:?usage: bench-core.sh BENCH_BIN}
[ -x "$bin" ] || { echo "bench-core: $bin is not executable" >&2; exit 1; }
md=$(dirname "$bin")/bench-core.md
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-core.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
. "$(dirname "$0")/callgrind.sh"

# case  N1  functions whose inclusive cost is "the operation"
CG_CASES='
pcp_hit_raw	100000	pcp_alloc pcp_free
pcp_hit_pool	50000	pool_alloc pool_free
refill		1000	pcp_alloc pcp_free
buddy_hot	50000	pcp_alloc pcp_free
buddy_split	20000	pcp_alloc pcp_free
drain_rcu	20	drain_pcps
drain_spinlock	20	drain_pcps
drain_workqueue	20	drain_pcps pcp_service
'

label() {
	case $1 in
	pcp_hit_raw)	echo "pcp hit, raw: pcp_alloc + pcp_free (order 0)" ;;
	pcp_hit_pool)	echo "pcp hit, owned: pool_alloc(1) + pool_free(1)" ;;
	refill)		echo "refill + bulk free, per page (high = batch)" ;;
	buddy_hot)	echo "buddy, pcp disabled (high 0): alloc + free" ;;
	buddy_split)	echo "buddy, pcp disabled, split/merge 10 orders" ;;
	drain_rcu)	echo "drain 2 full pcps, DRAIN_RCU" ;;
	drain_spinlock)	echo "drain 2 full pcps, DRAIN_SPINLOCK" ;;
	drain_workqueue) echo "drain 2 full pcps, DRAIN_WORKQUEUE" ;;
	startup_64g)	echo "start-up: pool_create 64 GiB" ;;
	*)		echo "$1" ;;
	esac
}

# Run one case under callgrind for n iterations: prints "ops total f=cost..."
cg_run() {
	name=$1 n=$2 fns=$3 out=$tmp/cg.$1.$2
	cg_valgrind "$out" "$bin" "$name" "$n" || {
		echo "bench-core: callgrind run of $name failed:" >&2
		tail -n 5 "$out.stderr" >&2
		return 1
	}
	ops=$(sed -n 's/^ops //p' "$out.stdout")
	[ -f "$out.1" ] || { echo "bench-core: no dump for $name" >&2; return 1; }
	echo "$ops $(cg_costs "$out.1" "$fns")"
}

echo "== timed runs: $bin"
"$bin" >"$tmp/rows"

have_cg=0
if command -v valgrind >/dev/null 2>&1; then
	have_cg=1
	echo "== callgrind: two runs per case, (Ir(N2) - Ir(N1)) / (ops(N2) - ops(N1))"
else
	echo "== valgrind not installed: no instruction counts (make deps installs it)"
fi

: >"$tmp/instr"
if [ $have_cg = 1 ]; then
	printf '%s\n' "$CG_CASES" | while read -r name n1 fns; do
		[ -n "$name" ] || continue
		n2=$((n1 * 2))
		r1=$(cg_run "$name" "$n1" "$fns") || { printf '%s\tfailed\t\n' "$name" >>"$tmp/instr"; continue; }
		r2=$(cg_run "$name" "$n2" "$fns") || { printf '%s\tfailed\t\n' "$name" >>"$tmp/instr"; continue; }
		cg_record "$tmp/instr" "$name" "$r1" "$r2" auto
	done
fi

{
	echo "| case | ns/op | instructions/op | notes |"
	echo "| --- | --- | --- | --- |"
	grep '^row	' "$tmp/rows" | while IFS='	' read -r _ name cell notes; do
		ins=$(awk -F '\t' -v n="$name" '$1 == n { print $2 }' "$tmp/instr")
		extra=$(awk -F '\t' -v n="$name" '$1 == n { print $3 }' "$tmp/instr")
		[ -n "$extra" ] && notes="$notes; instr: $extra"
		printf '| %s | %s | %s | %s |\n' "$(label "$name")" "$cell" "${ins:-n/a}" "$notes"
	done
	echo
	sed -n 's/^info	/Machine: /p' "$tmp/rows"
	echo
	echo "ns/op: clock_gettime(CLOCK_MONOTONIC), median of several runs (drains: of 101)."
	echo "instructions/op: callgrind, (Ir(N2) - Ir(N1)) / (ops(N2) - ops(N1)), counting"
	echo "the instructions inside the measured library calls (inclusive of what they"
	echo "call); \"whole loop iteration\" adds the benchmark loop and call overhead."
	echo
	echo "Cases:"
	"$bin" --list | while IFS='	' read -r name what; do
		echo "- $(label "$name") (\`$name\`): $what"
	done
} >"$md"

echo
cat "$md"
echo
echo "(written to $md)"
