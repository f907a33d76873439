#!/bin/sh
# run-fuzz.sh - run the libFuzzer targets (tests/fuzz/fuzz.mk).
#
#   run-fuzz.sh run BUILD SECONDS TARGET...    fuzz each target for SECONDS
#   run-fuzz.sh regress BUILD 0 TARGET...      replay tests/fuzz/regress/TARGET/*
#
# `run` fuzzes from the persistent corpus BUILD/corpus/TARGET (new inputs go
# there) plus the seeds BUILD/seeds/TARGET, keeps crashes in
# BUILD/artifacts/TARGET/ and the log in BUILD/TARGET.log, and prints one
# line per target:
#   fuzz: TARGET: N execs, cov C, K crashes; E exec/s, ft F, corpus M inputs
# `regress` prints one line per reproducer.  Either exits non-zero when
# anything crashed.
set -u
mode=$1 build=$2 secs=$3
shift 3
status=0
# fuzz_proto writes its configuration files under $TMPDIR (a crash leaves them).
TMPDIR=$(cd "$build" && pwd)/tmp
export TMPDIR
mkdir -p "$TMPDIR"

if [ "$mode" = regress ]; then
	for t in "$@"; do
		[ -n "$(ls tests/fuzz/regress/"$t" 2>/dev/null)" ] ||
			echo "fuzz-regress: $t: no reproducers in tests/fuzz/regress/$t"
		for f in tests/fuzz/regress/"$t"/*; do
			[ -f "$f" ] || continue
			if "$build/$t" -runs=1 "$f" >"$build/regress.log" 2>&1; then
				echo "fuzz-regress: $t: $f: ok"
			else
				echo "fuzz-regress: $t: $f: FAILS:"
				grep -E '^(fuzz_|==[0-9]+==ERROR|SUMMARY)' "$build/regress.log" | head -n 3 |
					sed 's/^/    /'
				status=1
			fi
		done
	done
	exit $status
fi

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
