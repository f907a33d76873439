#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# ccache-bench.sh PAGEPOOLD BENCH_CCACHE - benchmark case 7, the client
# cache of issue 15 (`make bench-ccache`, and `make bench` as case 7):
#
#   1. the cache-hit pp_alloc(0, 1) + pp_free pair against the same pair
#      with PAGEPOOL_CACHE=0 and the socket floor (bench_rpc's echo server);
#   2. its instructions per pair from callgrind (--toggle-collect on
#      cc_pairs(), the loop of N pairs, two runs N and 2N: (Ir(2N) - Ir(N))
#      / N), with callgrind's system call count (--collect-systime);
#   3. round trips per 1,000 single-page allocs (pp_stat `calls`);
#   4. a one-buffer producer -> consumer pipeline through shared-memory
#      rings, cache on against off, with the ring and socket floors, and the
#      hand-off (pp_loan + pp_take_release) cache on against off;
#   5. non-interference: a client's per-batch latency under 1,000 null admin
#      requests/s (A) against 1,000 `drain --client` requests/s (B);
#   5b. the same against a pagepoold whose one worker is on CPU 1, so that
#      nothing of the daemon shares the client's CPU;
#   5c. strace: the client during one A and one B window (every system call
#      and signal, cut to the windows by marker writes), and a pagepoold
#      started under strace (seccomp-bpf filter: membarrier and every call
#      that sends a signal) for the same run.
#
# Starts pagepoold on a private socket in a mktemp dir (`workers = 0,1`,
# decay off, one 256M pool with the default client cache: client_cache_high
# 64, client_cache_batch 16), waits for --ready-fd (tests/bench/daemon.sh),
# runs bench_ccache (client on CPU 0; consumer and admin load on CPU 1),
# stops the daemon whatever happens.  QUICK=1: fewer rounds, 4 windows, 2 in 5b (about 25 s);
# otherwise 5 rounds and 10 windows (about 40 s).  The table goes to
# stdout and to bench-ccache.md next to the binary.  valgrind or strace
# missing: that part is reported as skipped.
set -eu

usage="usage: ccache-bench.sh PAGEPOOLD BENCH_CCACHE"
# shellcheck source=tests/bench/daemon.sh
. "$(dirname "$0")/daemon.sh"
bench_init ccache-bench "${1:?$usage}" "${2:?$usage}"
md=$(dirname "$bin")/bench-ccache.md

# start DIR WORKERS [STRACE_OUT]: a pagepoold for DIR with its workers on
# the CPUs WORKERS (under strace when asked: membarrier and every call that
# sends a signal); its pid in dpid.
start() {
	mkdir -p "$1"
	cat >"$1/pagepoold.conf" <<-EOF
	[daemon]
	socket = $1/pp.sock
	socket_mode = 0600
	admin_socket = $1/admin.sock
	admin_mode = 0600
	workers = $2
	drain_mode = rcu
	decay_interval = 0
	log_level = err

	[pool default]
	size = 256M
	groups =
	EOF
	if [ -n "${3:-}" ]; then
		daemon_start "$1" "$3" --seccomp-bpf -e signal=none \
			-e trace=membarrier,kill,tkill,tgkill,rt_sigqueueinfo,rt_tgsigqueueinfo,pidfd_send_signal
	else
		daemon_start "$1"
	fi
}

started=$(date +%s)
echo "== ccache: client on CPU 0, consumer and admin load on CPU 1, pagepoold workers on CPUs 0 and 1${quick:+ (QUICK)}" >&2
start "$tmp/main" 0,1
# shellcheck disable=SC2086
if ! "$bin" --socket "$tmp/main/pp.sock" --admin "$tmp/main/admin.sock" --cpus 0,1 \
	--daemon-pid "$dpid" ${quick:+--quick} >"$tmp/main.md"; then
	cat "$tmp/main.md" >&2
	echo "ccache-bench: bench_ccache failed (see above)" >&2
	exit 1
fi

# ---- 2. instructions per cache-hit pair ----
cg_n=50000
if command -v valgrind >/dev/null 2>&1; then
	echo "== ccache: callgrind, $cg_n and $((2 * cg_n)) pairs" >&2
	for n in $cg_n $((2 * cg_n)); do
		valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$n" --dump-instr=no \
			--collect-jumps=no --collect-atstart=no --toggle-collect='cc_pairs*' \
			--collect-systime=yes "$bin" --socket "$tmp/main/pp.sock" --callgrind "$n" \
			>"$tmp/cg.$n.out" 2>"$tmp/cg.$n.err" || {
			echo "ccache-bench: callgrind run failed:" >&2
			tail -n 5 "$tmp/cg.$n.err" >&2
			exit 1
		}
	done
	# cg_inside DUMP FN EVENT: the cost in EVENT (Ir, sysCount) of FN itself
	# and of every call it makes (callgrind collects every system call,
	# toggled or not: this counts those made inside FN only).
	cg_inside() {
		awk -v want="$2" -v ev="$3" '
		function fname(s,   id, rest) {
			if (match(s, /^\([0-9]+\)/)) {
				id = substr(s, 2, RLENGTH - 2); rest = substr(s, RLENGTH + 1)
				sub(/^ /, "", rest); if (rest != "") names[id] = rest; s = names[id]
			}
			return s
		}
		/^events:/ { for (i = 2; i <= NF; i++) if ($i == ev) col = i; next }
		/^fn=/ { cur = fname(substr($0, 4)); sub(/\..*$/, "", cur); next }
		/^cfn=/ { fname(substr($0, 5)); next }
		/^[0-9+*-]/ { if (cur == want) sum += $col }
		END { print sum + 0 }' "$1"
	}
	n1=$cg_n n2=$((2 * cg_n))
	ir1=$(cg_inside "$tmp/cg.$n1" cc_pairs Ir) ir2=$(cg_inside "$tmp/cg.$n2" cc_pairs Ir)
	sc1=$(cg_inside "$tmp/cg.$n1" cc_pairs sysCount) sc2=$(cg_inside "$tmp/cg.$n2" cc_pairs sysCount)
	a1=$(cg_inside "$tmp/cg.$n1" pp_alloc Ir) a2=$(cg_inside "$tmp/cg.$n2" pp_alloc Ir)
	f1=$(cg_inside "$tmp/cg.$n1" pp_free Ir) f2=$(cg_inside "$tmp/cg.$n2" pp_free Ir)
	# The control: the same loop without a cache must show its system calls.
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.off" --dump-instr=no \
		--collect-jumps=no --collect-atstart=no --toggle-collect='cc_pairs*' \
		--collect-systime=yes "$bin" --socket "$tmp/main/pp.sock" --callgrind 2000 \
		--cache-off >"$tmp/cg.off.out" 2>"$tmp/cg.off.err" || {
		echo "ccache-bench: callgrind control run failed:" >&2
		tail -n 5 "$tmp/cg.off.err" >&2
		exit 1
	}
	iro=$(cg_inside "$tmp/cg.off" cc_pairs Ir) sco=$(cg_inside "$tmp/cg.off" cc_pairs sysCount)
	{
		echo "### 2. Instructions per cache-hit pair (callgrind)"
		echo
		echo "| | per pair | run of $n1 pairs | run of $n2 pairs |"
		echo "| --- | ---: | ---: | ---: |"
		awk -v a="$ir1" -v b="$ir2" -v n="$n1" 'BEGIN { printf "| instructions in cc_pairs() (the loop included) | %.1f | %d | %d |\n", (b - a) / n, a, b }'
		awk -v a="$a1" -v b="$a2" -v n="$n1" 'BEGIN { printf "| of which pp_alloc (inclusive) | %.1f | %d | %d |\n", (b - a) / n, a, b }'
		awk -v a="$f1" -v b="$f2" -v n="$n1" 'BEGIN { printf "| of which pp_free (inclusive) | %.1f | %d | %d |\n", (b - a) / n, a, b }'
		echo "| system calls inside cc_pairs() and what it calls (callgrind sysCount) | $(( (sc2 - sc1) / n1 )) | $sc1 | $sc2 |"
		awk -v a="$iro" -v s="$sco" 'BEGIN { printf "| control: the same loop with PAGEPOOL_CACHE=0 (2,000 pairs, one run) | %.0f instructions, %.1f system calls | | |\n", a / 2000, s / 2000 }'
		echo
		echo "valgrind --tool=callgrind --collect-atstart=no --toggle-collect='cc_pairs*' --collect-systime=yes"
		echo "\`bench_ccache --callgrind N\`: warm-up outside cc_pairs(), then N pairs inside it; per pair ="
		echo "(Ir(2N) - Ir(N)) / N.  The program's own count of the runs (pp_stat before and after):"
		echo "\`$(cat "$tmp/cg.$n1.out")\` and \`$(cat "$tmp/cg.$n2.out")\` (calls: round trips inside the loop)."
		echo
	} >"$tmp/cg.md"
else
	echo "### 2. Instructions per cache-hit pair: skipped (valgrind missing)" >"$tmp/cg.md"
fi
daemon_stop

# ---- 5b. non-interference with no daemon worker on the client's CPU ----
echo "== ccache: non-interference again, pagepoold's only worker on CPU 1" >&2
start "$tmp/w1" 1
# shellcheck disable=SC2086
if ! "$bin" --socket "$tmp/w1/pp.sock" --admin "$tmp/w1/admin.sock" --cpus 0,1 \
	--interference --title "pagepoold with one worker, on CPU 1 (none on the client's CPU)" \
	${quick:+--quick --windows 2} >"$tmp/w1.md"; then
	cat "$tmp/w1.md" >&2
	echo "ccache-bench: bench_ccache --interference failed (see above)" >&2
	exit 1
fi
daemon_stop

# ---- 5c. strace of the client and the daemon during drains ----
if command -v strace >/dev/null 2>&1; then
	echo "== ccache: strace of the client (A and B windows) and of a pagepoold under strace" >&2
	start "$tmp/st" 0,1 "$tmp/daemon.strace"
	if ! strace -qq -tt -o "$tmp/client.strace" "$bin" --socket "$tmp/st/pp.sock" \
		--admin "$tmp/st/admin.sock" --cpus 0,1 --strace-check >"$tmp/st.out"; then
		cat "$tmp/st.out" >&2
		echo "ccache-bench: the strace check failed" >&2
		exit 1
	fi
	daemon_stop
	# window K: "name count, ..." of the client's system calls between its
	# markers (the markers' own writes left out) and the signals delivered.
	calls_in() {
		awk -v k="$1" '
		index($0, "ccbench-mark begin " k "\\n") { on = 1; next }
		index($0, "ccbench-mark end " k "\\n") { on = 0 }
		!on { next }
		/--- SIG/ { sig++; next }
		{ if (match($2, /^[a-z_0-9]+\(/)) n[substr($2, 1, RLENGTH - 1)]++ }
		END {
			s = ""
			for (c in n) s = s (s == "" ? "" : ", ") c " " n[c]
			printf "%s\t%d\n", (s == "" ? "none" : s), sig
		}' "$tmp/client.strace"
	}
	wa=$(calls_in 0) wb=$(calls_in 1)
	read -r _ b_misses b_calls b_drains <<-EOF
	$(grep '^strace-window' "$tmp/st.out")
	EOF
	dcalls=$(grep -cE '^[0-9]+ +(membarrier|kill|tkill|tgkill|rt_sigqueueinfo|rt_tgsigqueueinfo|pidfd_send_signal)\(' "$tmp/daemon.strace" || :)
	{
		echo "### 5c. strace during drains"
		echo
		echo "| traced | window A (1,000 status/s) | window B (1,000 drain --client/s) |"
		echo "| --- | --- | --- |"
		echo "| client: system calls (by name) | $(echo "$wa" | cut -f1) | $(echo "$wb" | cut -f1) |"
		echo "| client: signals delivered | $(echo "$wa" | cut -f2) | $(echo "$wb" | cut -f2) |"
		echo
		echo "In window B the client made $b_calls round trips of its own ($b_misses refills after the"
		echo "daemon's $b_drains drains of its cache): every receive above answers a request it sent;"
		echo "nothing came that it had to answer.  pagepoold, under \`strace -f --seccomp-bpf -e"
		echo "trace=membarrier,kill,tkill,tgkill,rt_sigqueueinfo,rt_tgsigqueueinfo,pidfd_send_signal\`"
		echo "for the whole run (start, both windows, shutdown): $dcalls such calls$( [ "$dcalls" = 0 ] || printf ':\n%s' "$(grep -E '(membarrier|kill|sigqueue|send_signal)\(' "$tmp/daemon.strace" | head -n 5)")."
		echo "The client was traced with \`strace -tt\` (every system call and signal; not its"
		echo "admin-load child), cut to each window by its marker writes to /dev/null."
		echo
		sed -n '/^| window/,/^$/p' "$tmp/st.out"
	} >"$tmp/st.md"
else
	echo "### 5c. strace during drains: skipped (strace missing)" >"$tmp/st.md"
fi

{
	cat "$tmp/main.md"
	echo
	cat "$tmp/w1.md"
	echo
	cat "$tmp/cg.md"
	echo
	cat "$tmp/st.md"
	echo
	echo "pagepoold: \`workers = 0,1\` (one pinned worker per CPU), drain_mode rcu, decay off, one"
	echo "256M pool with the default client cache (client_cache_high 64, client_cache_batch 16),"
	echo "private sockets.  Run time: $(($(date +%s) - started)) s."
} >"$md"

echo
cat "$md"
echo
echo "(written to $md)"
