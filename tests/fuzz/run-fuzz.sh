#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run-fuzz.sh - run the libFuzzer targets (tests/fuzz/fuzz.mk).
#
#   run-fuzz.sh run BUILD SECONDS TARGET...    explore: fuzz each target for SECONDS
#   run-fuzz.sh check BUILD RUNS TARGET...     the fuzz part of `make check`
#   run-fuzz.sh regress BUILD 0 TARGET...      only the reproducers of `check`
#
# `run` is random exploration (`make fuzz`, `make fuzz-smoke`): it fuzzes
# from the persistent corpus BUILD/corpus/TARGET (new inputs go there) plus
# the seeds BUILD/seeds/TARGET, keeps crashes in BUILD/artifacts/TARGET/ and
# the log in BUILD/TARGET.log, and prints one line per target:
#   fuzz: TARGET: N execs, cov C, K crashes; E exec/s, ft F, corpus M inputs
# What it finds depends on luck and on the machine's speed, so it is never
# part of `make check`.
#
# `check` executes the same inputs on every run, so whether it passes depends
# only on the code: everything runs with the clock stopped (LD_PRELOAD of
# BUILD/frozen_clock.so, see tests/fuzz/frozen_clock.c: no timer of the
# daemon fires at a moment that depends on the machine's speed).  Per
# target, in cmocka's format (tests/run-unit.sh adds up the "[  PASSED  ]"
# and "[  FAILED  ]" lines):
#   - one test per reproducer tests/fuzz/regress/TARGET/NAME: every input
#     that ever crashed the target, kept after its fix; its line in
#     tests/fuzz/regress/TARGET/README ("NAME: what it reproduces; the fix")
#     must exist too;
#   - one test replaying every generated seed (BUILD/seeds/TARGET);
#   - one fixed-seed run: -seed=$FUZZ_CHECK_SEED (default 1) from the seeds,
#     bounded by RUNS executions, never by time.  With -use_cmp=0: the
#     compare operands libFuzzer otherwise splices into inputs include
#     pointers, which differ from run to run (address space layout
#     randomisation) and would steer the mutations elsewhere each time;
#     without them the inputs depend only on the seed, the seeds and the
#     code, and the final line (cov, ft, corpus) is the same on every run.
#     Nothing is written but crash inputs, to BUILD/artifacts/TARGET/check-*.
# RUNS is one number for all targets or TARGET=N words
# ("fuzz_proto=10000 fuzz_core=1000").  `regress` (`make fuzz-regress`) runs
# the reproducers alone.  Either exits non-zero when anything failed.
set -u
mode=$1 build=$2 secs=$3
shift 3
status=0
# fuzz_proto writes its configuration files under $TMPDIR (a crash leaves them).
abs_build=$(cd "$build" && pwd)
TMPDIR=$abs_build/tmp
export TMPDIR
mkdir -p "$TMPDIR"

# ---- check / regress: cmocka-style tests ----

passed=0 failed=0 failures=

test_start() {
	name=$1
	echo "[ RUN      ] $name"
}

test_end() {
	if [ "$1" -eq 0 ]; then
		echo "[       OK ] $name"
		passed=$((passed + 1))
	else
		echo "[  FAILED  ] $name"
		failed=$((failed + 1))
		failures="$failures$name
"
	fi
}

# Every execution of `check` runs with the clock stopped: frozen_clock.c says
# why.  Its path goes into LD_PRELOAD, which splits at blanks and colons.
clock_lib=$abs_build/frozen_clock.so

# Run "$@" with the clock stopped; 1 (and why) when that cannot be done.
frozen() {
	case $clock_lib in
	*[[:space:]:]*) echo "    $clock_lib: a blank or colon in the path breaks LD_PRELOAD"
	                return 1 ;;
	esac
	if [ ! -f "$clock_lib" ]; then
		echo "    $clock_lib is missing (make fuzz-build makes it)"
		return 1
	fi
	LD_PRELOAD=$clock_lib "$@"
}

# Execute the inputs $3... once each in one process of target $1 (log $2):
# 0 when none crashed or broke an oracle.
replay() {
	bin=$build/$1 log=$2
	shift 2
	if frozen "$bin" -runs=1 -timeout=10 -rss_limit_mb=2048 "$@" >"$log" 2>&1; then
		return 0
	fi
	[ -f "$clock_lib" ] || return 1
	grep -E '^(fuzz_|==[0-9]+==ERROR|SUMMARY|Running: )' "$log" | tail -n 4 | sed 's/^/    /'
	echo "    (log: $log)"
	return 1
}

# Does tests/fuzz/regress/TARGET/README have a line "NAME: ..."?
documented() {
	[ -f "$1/README" ] && awk -v n="$2:" 'index($0, n) == 1 { f = 1 } END { exit !f }' "$1/README"
}

check_regress() {
	t=$1 dir=tests/fuzz/regress/$1 n=0
	for f in "$dir"/*; do
		[ -f "$f" ] && [ "${f##*/}" != README ] || continue
		n=$((n + 1))
		test_start "$t: regress/${f##*/}"
		if ! documented "$dir" "${f##*/}"; then
			echo "    $dir/README has no line \"${f##*/}: what it reproduces; the fix\""
			test_end 1
			continue
		fi
		replay "$t" "$build/$t.regress.log" "$f"
		test_end $?
	done
	[ $n -gt 0 ] || echo "fuzz: $t: no reproducers in $dir"
}

check_seeds() {
	t=$1
	test_start "$t: seeds"
	set -- "$build/seeds/$t"/*
	if [ ! -f "$1" ]; then
		echo "    no seeds in $build/seeds/$t (make fuzz-build makes them)"
		test_end 1
		return
	fi
	echo "    $# seeds"
	replay "$t" "$build/$t.seeds.log" "$@"
	test_end $?
}

# The number of runs for target $1 out of $runs.
runs_for() {
	case $runs in
	*=*) for w in $runs; do [ "${w%%=*}" = "$1" ] && echo "${w#*=}" && return; done
	     echo 1000 ;;
	*) echo "$runs" ;;
	esac
}

check_fixed() {
	t=$1 n=$(runs_for "$1") seed=${FUZZ_CHECK_SEED:-1}
	log=$build/$t.check.log art=$build/artifacts/$t list=$build/tmp/$t.seeds
	test_start "$t: $n runs from -seed=$seed"
	mkdir -p "$art"
	rm -f "$art"/check-*
	# -seed_inputs, not a corpus directory: libFuzzer would add new inputs
	# to it.  The list is in name order, so the start-up shuffle is fixed too.
	case $build in
	*,*) echo "    $build: a comma in the path breaks -seed_inputs"; test_end 1; return ;;
	esac
	LC_ALL=C ls "$build/seeds/$t" | sed "s|^|$build/seeds/$t/|" | paste -s -d, - >"$list"
	dict=tests/fuzz/$t.dict
	[ -f "$dict" ] || dict=
	t0=$(date +%s)
	frozen "$build/$t" -seed="$seed" -runs="$n" -use_cmp=0 -reload=0 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 ${dict:+-dict=$dict} \
		-artifact_prefix="$art/check-" -seed_inputs=@"$list" >"$log" 2>&1
	rc=$?
	echo "    $(($(date +%s) - t0)) s"
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
	cov=$(echo "$done_line" | grep -o 'cov: [0-9]*' | cut -d' ' -f2)
	ft=$(echo "$done_line" | grep -o 'ft: [0-9]*' | cut -d' ' -f2)
	corp=$(echo "$done_line" | grep -o 'corp: [0-9]*' | cut -d' ' -f2)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	echo "fuzz: $t: ${execs:-?} execs from -seed=$seed, cov ${cov:-?}, ft ${ft:-?}," \
	     "corpus ${corp:-?} inputs"
	if [ $rc -ne 0 ]; then
		grep -E '^(fuzz_|==[0-9]+==ERROR|SUMMARY|Test unit written|artifact_prefix)' "$log" |
			head -n 6 | sed 's/^/    /'
		echo "    (log: $log; to keep the input as a reproducer: copy it to"
		echo "    tests/fuzz/regress/$t/ and add its line to that directory's README)"
	fi
	test_end $rc
}

if [ "$mode" = check ] || [ "$mode" = regress ]; then
	runs=$secs
	# Announce the count the way cmocka does, for run-unit.sh should this die.
	total=0
	for t in "$@"; do
		for f in tests/fuzz/regress/"$t"/*; do
			[ -f "$f" ] && [ "${f##*/}" != README ] && total=$((total + 1))
		done
		[ "$mode" = regress ] || total=$((total + 2))
	done
	echo "[==========] Running $total test(s)."
	echo "[==========] fuzz $mode: $*"
	for t in "$@"; do
		check_regress "$t"
		[ "$mode" = regress ] && continue
		check_seeds "$t"
		check_fixed "$t"
	done
	echo "[  PASSED  ] $passed test(s)."
	if [ $failed -gt 0 ]; then
		echo "[  FAILED  ] $failed test(s), listed below:"
		printf '%s' "$failures" | sed 's/^/[  FAILED  ] /'
		exit 1
	fi
	exit 0
fi

# ---- run: random exploration ----

for t in "$@"; do
	bin=$build/$t corpus=$build/corpus/$t art=$build/artifacts/$t log=$build/$t.log
	mkdir -p "$corpus" "$art"
	before=$(ls "$art" | wc -l)
	# -timeout: an input that runs 10 s is a hang.  One process, so the first
	# crash ends the run (its input is in $art).
	dict=tests/fuzz/$t.dict
	[ -f "$dict" ] || dict=
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		${dict:+-dict=$dict} -artifact_prefix="$art/" "$corpus" "$build/seeds/$t" \
		>"$log" 2>&1
	rc=$?
	after=$(ls "$art" | wc -l)
	crashes=$((after - before))
	[ $rc -ne 0 ] && [ $crashes -eq 0 ] && crashes=1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	inputs=$(ls "$corpus" | wc -l)
	echo "fuzz: $t: ${execs:-?} execs, cov ${cov:-?}, $crashes crashes;" \
	     "${eps:-?} exec/s, ft ${ft:-?}, corpus $inputs inputs"
	if [ $crashes -ne 0 ]; then
		status=1
		grep -E '^(fuzz_|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "$log" |
			head -n 6 | sed 's/^/    /'
		echo "    (log: $log)"
	fi
done
exit $status
