#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench-peers.sh CORE_BIN [PEER_BIN...] - the pcp hit pair next to the
# allocators a caller could use instead, in one run, and one Markdown table:
# comparator | ns/op | instructions/op | ratio to the pcp-hit pair | notes.
#
# CORE_BIN is bench_core (its pcp_hit_raw and pcp_hit_pool cases); each
# PEER_BIN is a bench_peer_NAME built from bench_peer.c (tests/bench/peers.mk
# builds those whose Debian package is present).  A known comparator not
# given is reported as "not built: install PKG".
#
# ns/op: ROUNDS rounds (BENCH_PEERS_ROUNDS, at least 5, default 5); in each
# round every binary runs once, pinned with taskset -c 0, and reports the
# median of its own timed runs (clock_gettime); the order rotates from one
# round to the next so that drift and the neighbours' cache leftovers fall
# on all alike.  The cell is the median of the round values, the notes give
# their range.
#
# instructions/op: callgrind, each case run twice, as BIN --callgrind CASE N
# with N1 and N2 = 2*N1 iterations; the binaries zero the counters right
# before their loop and dump them right after, so
#
#   instructions/op = (Ir(N2) - Ir(N1)) / (ops(N2) - ops(N1))
#
# counted over the functions that are the operation: pcp_alloc + pcp_free
# (or pool_alloc + pool_free) inclusive, as bench-core.sh counts them; for
# the malloc family the malloc and free called by bench_peer's peer_get and
# peer_put wrappers (entry to return, PLT jump included); for DPDK, whose get
# and put are inline, the peer_get and peer_put wrappers themselves.
#
# The table is also written next to CORE_BIN, as bench-peers.md.
set -eu

core=${1:?usage: bench-peers.sh CORE_BIN [PEER_BIN...]}
shift
[ -x "$core" ] || { echo "bench-peers: $core is not executable" >&2; exit 1; }
md=$(dirname "$core")/bench-peers.md
rounds=${BENCH_PEERS_ROUNDS:-5}
[ "$rounds" -ge 5 ] 2>/dev/null || rounds=5
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-peers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
. "$(dirname "$0")/callgrind.sh"

pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"
# shellcheck disable=SC2034	# cg_valgrind's command prefix (callgrind.sh)
CG_PREFIX=$pin

# Known comparators: name, Debian package, label.
PEERS='
dpdk	dpdk-dev	DPDK rte_mempool_get + rte_mempool_put, per-lcore cache
glibc	libc6-dev	glibc malloc(4096) + free
jemalloc	libjemalloc-dev	jemalloc malloc(4096) + free
tcmalloc	libgoogle-perftools-dev	tcmalloc malloc(4096) + free
'
# The pcp cases taken from bench_core: case, N1, functions counted.
CORE_CASES='
pcp_hit_raw	100000	pcp_alloc pcp_free
pcp_hit_pool	50000	pool_alloc pool_free
'
PEER_N1=100000

core_label() {
	case $1 in
	pcp_hit_raw)	echo "pagepool pcp hit, raw: pcp_alloc + pcp_free (the pcp-hit pair)" ;;
	pcp_hit_pool)	echo "pagepool pcp hit, owned: pool_alloc(1) + pool_free(1)" ;;
	esac
}

# The binary given for comparator $1, if any.
bins="$*"
peer_bin() {
	for b in $bins; do
		if [ "$(basename "$b")" = "bench_peer_$1" ]; then echo "$b"; return 0; fi
	done
	return 1
}

# Subjects of the timed rounds: "core" and every built comparator.
subjects=core
printf '%s\n' "$PEERS" | while IFS='	' read -r name _ _; do
	[ -n "$name" ] || continue
	b=$(peer_bin "$name") || continue
	if [ -x "$b" ]; then echo "$name"; fi
done >"$tmp/built"
subjects="core $(tr '\n' ' ' <"$tmp/built")"
nsub=$(echo $subjects | wc -w)

# Run one subject once, timed; append its ns/op per case to $tmp/ns.CASE and
# keep its rows.  A comparator that fails is noted, not fatal.
run_timed() {
	if [ "$1" = core ]; then bin=$core; else bin=$(peer_bin "$1"); fi
	if ! $pin "$bin" >"$tmp/out.$1" 2>"$tmp/err.$1"; then
		if [ "$1" = core ]; then cat "$tmp/err.$1" >&2; exit 1; fi
		echo "run failed: $(tail -n 1 "$tmp/err.$1")" >"$tmp/fail.$1"
		return 0
	fi
	grep '^row	' "$tmp/out.$1" | while IFS='	' read -r _ name cell notes; do
		if [ "$1" = core ]; then
			case $name in pcp_hit_raw|pcp_hit_pool) ;; *) continue ;; esac
		fi
		echo "${cell%% *}" >>"$tmp/ns.$name"
		printf '%s\n' "$notes" >"$tmp/notes.$name"
	done
	sed -n 's/^info	//p' "$tmp/out.$1" >"$tmp/info.$1"
}

echo "== timed: $rounds rounds of: $subjects (pinned: ${pin:-not pinned, no taskset})"
r=0
while [ $r -lt "$rounds" ]; do
	set -- $subjects
	k=0
	while [ $k -lt $((r % nsub)) ]; do	# rotate the order by one per round
		first=$1; shift; set -- "$@" "$first"; k=$((k + 1))
	done
	printf '  round %d:' $((r + 1))
	for s in "$@"; do
		printf ' %s' "$s"
		run_timed "$s"
	done
	echo
	r=$((r + 1))
done

# Median and range of the numbers in a file: "median min max".
med() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.*f %s %s\n", m < 10 ? 2 : 1, m, v[1], v[NR] }'
}

# One callgrind run: prints "ops total f=cost...".  For comparators the
# functions and how to count them come from the binary ("count F... HOW").
cg_run() {
	bin=$1 name=$2 n=$3 fns=$4 out=$tmp/cg.$2.$3
	cg_valgrind "$out" "$bin" "$name" "$n" || {
		echo "no instruction count, the callgrind run failed: $(grep -v '^==' "$out.stderr" | tail -n 1)" >"$tmp/cgfail.$name"
		return 1
	}
	[ -f "$out.1" ] || { echo "callgrind wrote no dump" >"$tmp/cgfail.$name"; return 1; }
	how=inclusive
	if [ -z "$fns" ]; then
		set -- $(sed -n 's/^count //p' "$out.stdout")
		while [ $# -gt 1 ]; do fns="$fns $1"; shift; done
		how=${1:-inclusive}
	fi
	echo "$(sed -n 's/^ops //p' "$out.stdout") $(cg_costs "$out.1" "$fns" "$how" merge)"
}

# Both runs of one case; appends "case<TAB>instr/op<TAB>detail" to $tmp/instr.
cg_case() {
	bin=$1 name=$2 n1=$3 fns=$4
	r1=$(cg_run "$bin" "$name" "$n1" "$fns") || return 0
	r2=$(cg_run "$bin" "$name" $((n1 * 2)) "$fns") || return 0
	cg_record "$tmp/instr" "$name" "$r1" "$r2"
}

: >"$tmp/instr"
if command -v valgrind >/dev/null 2>&1; then
	echo "== callgrind: two runs per case, (Ir(N2) - Ir(N1)) / (ops(N2) - ops(N1))"
	printf '%s\n' "$CORE_CASES" | while IFS='	' read -r name n1 fns; do
		if [ -n "$name" ]; then cg_case "$core" "$name" "$n1" "$fns"; fi
	done
	while read -r name; do
		b=$(peer_bin "$name")
		case $name in dpdk) cname=dpdk_mempool ;; *) cname=$name ;; esac
		cg_case "$b" "$cname" $PEER_N1 ""
	done <"$tmp/built"
else
	echo "== valgrind not installed: no instruction counts (make deps installs it)"
fi

field() { awk -F '\t' -v n="$1" -v f="$2" '$1 == n { print $f }' "$tmp/instr"; }

ref_ns=$(med "$tmp/ns.pcp_hit_raw" | cut -d' ' -f1)
ref_in=$(field pcp_hit_raw 2)

# ratio VALUE REF: "2.41×", or "n/a".
ratio() {
	case $1:$2 in
	:*|*:|n/a:*|*:n/a) echo "n/a" ;;
	*) awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "n/a" }' ;;
	esac
}

# One table row: label, case, extra notes.
table_row() {
	label=$1 name=$2 extra=$3
	if [ -s "$tmp/ns.$name" ]; then
		set -- $(med "$tmp/ns.$name")
		ns=$1 nsrange="rounds $2..$3 ns"
	else
		ns="" nsrange=""
	fi
	ins=$(field "$name" 2)
	detail=$(field "$name" 3)
	notes=$nsrange
	if [ -n "$extra" ]; then notes="${notes:+$notes; }$extra"; fi
	if [ -n "$detail" ]; then notes="$notes; instr: $detail"; fi
	if [ -f "$tmp/cgfail.$name" ]; then notes="$notes; $(cat "$tmp/cgfail.$name")"; fi
	if [ "$name" = pcp_hit_raw ]; then
		rat="1 (reference)"
	else
		rat="$(ratio "$ns" "$ref_ns") ns; $(ratio "$ins" "$ref_in") instr"
	fi
	printf '| %s | %s | %s | %s | %s |\n' "$label" "${ns:+$ns ns}" "${ins:-n/a}" "$rat" "$notes"
}

{
	echo "| comparator | ns/op | instructions/op | ratio to pcp-hit pair (ns; instr) | notes |"
	echo "| --- | --- | --- | --- | --- |"
	for name in pcp_hit_raw pcp_hit_pool; do
		table_row "$(core_label $name)" "$name" ""
	done
	printf '%s\n' "$PEERS" | while IFS='	' read -r name pkg label; do
		[ -n "$name" ] || continue
		case $name in dpdk) cname=dpdk_mempool ;; *) cname=$name ;; esac
		if ! grep -qx "$name" "$tmp/built"; then
			printf '| %s | | | | not built: install %s |\n' "$label" "$pkg"
		elif [ -f "$tmp/fail.$name" ] && [ ! -s "$tmp/ns.$cname" ]; then
			printf '| %s | | | | %s |\n' "$label" "$(cat "$tmp/fail.$name")"
		else
			check=$(sed 's/^runs [^;]*; //' "$tmp/notes.$cname" 2>/dev/null || true)
			table_row "$label" "$cname" "$check"
		fi
	done
	echo
	if [ -s "$tmp/ns.dpdk_mempool" ]; then
		dns=$(med "$tmp/ns.dpdk_mempool" | cut -d' ' -f1)
		din=$(field dpdk_mempool 2)
		awk -v a="$ref_ns" -v b="$dns" -v c="${ref_in:-}" -v d="${din:-}" 'BEGIN {
			printf "pcp-hit pair <= DPDK cached get+put: ns %s %s %s (%s)", a,
				a + 0 <= b + 0 ? "<=" : ">", b, a + 0 <= b + 0 ? "holds" : "does not hold"
			if (c != "" && d != "")
				printf "; instructions %s %s %s (%s)", c,
					c + 0 <= d + 0 ? "<=" : ">", d, c + 0 <= d + 0 ? "holds" : "does not hold"
			print "."
		}'
		echo
	fi
	for s in $subjects; do
		if [ -s "$tmp/info.$s" ]; then echo "- $s: $(cat "$tmp/info.$s")"; fi
	done
	echo
	echo "All binaries pinned with \`${pin:-(no taskset)}\`; ns/op: median of $rounds rounds"
	echo "(rotating order), each the binary's own median of 7 timed runs"
	echo "(clock_gettime(CLOCK_MONOTONIC)). instructions/op: callgrind,"
	echo "(Ir(N2) - Ir(N1)) / (ops(N2) - ops(N1)), counting the instructions of the"
	echo "operation's own calls (pcp_alloc + pcp_free, pool_alloc + pool_free, malloc +"
	echo "free as called from bench_peer's wrappers; DPDK's inline get + put inside"
	echo "its wrappers); \"whole loop iteration\" adds the benchmark loop and calls."
	echo
	echo "Cases:"
	"$core" --list | while IFS='	' read -r name what; do
		case $name in pcp_hit_raw|pcp_hit_pool) echo "- \`$name\`: $what" ;; esac
	done
	while read -r name; do
		"$(peer_bin "$name")" --list | while IFS='	' read -r cname what; do
			echo "- \`$cname\`: $what"
		done
	done <"$tmp/built"
} >"$md"

echo
cat "$md"
echo
echo "(written to $md)"
