#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Run cmocka test binaries and add up their results.  A binary that dies
# before printing its summary counts every test it announced ("Running N
# test(s)") and did not finish as failed, at least one, so the total of the
# last line is the same on every run.  Ends with the plain "N passed, N
# failed" line (then the skipped count) and a non-zero exit when anything
# failed.
passed=0
failed=0
skipped=0
# count PATTERN: how many lines of $out match.
count() {
	printf '%s\n' "$out" | grep -c -- "$1"
}
# sum_last WORD: N of the last "[  WORD  ] N test" line of $out, or nothing.
sum_last() {
	printf '%s\n' "$out" | sed -n "s/.*\\[ *$1 *\\] \\([0-9]*\\) test.*/\\1/p" | tail -n 1
}
for bin in "$@"; do
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(sum_last PASSED)
	f=$(sum_last FAILED)
	s=$(sum_last SKIPPED)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
	if [ $rc -ne 0 ] && [ -z "$f" ]; then
		n=$(printf '%s\n' "$out" | sed -n 's/^\[==========\] Running \([0-9]*\) test.*/\1/p' |
			head -n 1)
		ok=$(count '^\[       OK \] ')
		sk=$(count '^\[  SKIPPED \] [^0-9]')
		lost=$((${n:-0} - ok - sk))
		[ $lost -ge 1 ] || lost=1
		echo "run-unit: $bin exited with status $rc before reporting:" \
		     "$ok passed, $lost failed, $sk skipped"
		passed=$((passed + ok))
		failed=$((failed + lost))
		skipped=$((skipped + sk))
	fi
done
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
