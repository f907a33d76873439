#!/bin/sh
# smoke-test.sh - the fuzz smoke run of `make check`, reported the way
# tests/run-unit.sh counts results (cmocka's RUN/OK/FAILED/PASSED lines):
# each target in $FUZZ_TARGETS fuzzes for $FUZZ_SMOKE_TIME seconds from its
# seeds and corpus in $FUZZ_BUILD (built by `make fuzz-build`); a crash or
# oracle failure fails that target.
set -u
build=${FUZZ_BUILD:?FUZZ_BUILD is not set}
secs=${FUZZ_SMOKE_TIME:-30}
passed=0 failed=0 names=
echo "[==========] fuzz smoke: ${FUZZ_TARGETS:?} for $secs s each"
for t in $FUZZ_TARGETS; do
	echo "[ RUN      ] $t"
	if "$(dirname "$0")/run-fuzz.sh" run "$build" "$secs" "$t"; then
		echo "[       OK ] $t"
		passed=$((passed + 1))
	else
		echo "[  FAILED  ] $t"
		failed=$((failed + 1))
		names="$names $t"
	fi
done
echo "[  PASSED  ] $passed test(s)."
if [ $failed -gt 0 ]; then
	echo "[  FAILED  ] $failed test(s), listed below:"
	for t in $names; do echo "[  FAILED  ] $t"; done
	exit 1
fi
