#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# ci-clone-check.sh - run `make check` the way a CI runner does, to show that
# it passes wherever the tree lives and gives the same test counts each time.
#
#   tests/ci-clone-check.sh [-n RUNS] [-w] [-k] [-- MAKE-ARGUMENTS...]
#
# Each run clones the committed HEAD of this repository into a fresh
# `mktemp -d` directory - mode 0700, so nothing under it is reachable by any
# other user, like a CI's private workspace or a clone under /root - and runs
# `make check` there (as root: the tests that drop to uid 65534 need it; as
# another user they skip, and the script says so).  After each run it prints
# the run's final summary line ("unit: N passed, N failed, N skipped") and
# the fixed-seed fuzz lines, whose cov/ft/corpus numbers must not change from
# run to run either; at the end, whether every run's summary was the same.
#
#   -n RUNS   make check RUNS times, each in a fresh clone (default 1)
#   -w        test the work tree instead of HEAD: after cloning, apply the
#             uncommitted changes (git diff HEAD) and copy the untracked,
#             not ignored files into the clone
#   -k        keep every clone (by default a clone is removed when its run
#             passed, and kept for a look when it failed)
#   MAKE-ARGUMENTS   passed to make, e.g. -- -j2 or -- FUZZ_CHECK_SEED=7
#
# The full log of run N is LOGS/run-N.log; LOGS is printed first.  Exit
# status 0 when every run passed with the same summary line.
set -u
runs=1 worktree=0 keep=0
while getopts n:wk opt; do
	case $opt in
	n) runs=$OPTARG ;;
	w) worktree=1 ;;
	k) keep=1 ;;
	*) sed -n '5p' "$0" | cut -c2- >&2; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
case $runs in
'' | *[!0-9]* | 0) echo "ci-clone-check: -n wants a positive number" >&2; exit 64 ;;
esac

src=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel) || exit 1
head=$(git -C "$src" rev-parse --short HEAD) || exit 1
logs=$(mktemp -d "${TMPDIR:-/tmp}/ci-clone-logs.XXXXXX") || exit 1
[ "$(id -u)" = 0 ] ||
	echo "ci-clone-check: not root: the tests that run as uid 65534 will skip"
echo "ci-clone-check: $runs run(s) of make check on $head$([ $worktree = 1 ] &&
	echo ' plus the work tree changes'), logs in $logs"

# Clone into a fresh 0700 directory; prints the clone's path.
make_clone() {
	dir=$(mktemp -d) || return 1
	if [ "$(stat -c %a "$dir")" != 700 ]; then
		echo "ci-clone-check: mktemp -d gave $dir mode $(stat -c %a "$dir"), not 700" >&2
		return 1
	fi
	git clone --quiet --no-hardlinks "$src" "$dir/pagepool" >&2 || return 1
	if [ $worktree = 1 ]; then
		git -C "$src" diff --binary HEAD | git -C "$dir/pagepool" apply --binary - >&2 ||
			return 1
		git -C "$src" ls-files -z --others --exclude-standard |
			tar -C "$src" --null -T - -cf - | tar -C "$dir/pagepool" -xf - || return 1
	fi
	echo "$dir"
}

status=0 first= same=1
i=1
while [ $i -le "$runs" ]; do
	log=$logs/run-$i.log
	dir=$(make_clone) || { echo "ci-clone-check: run $i: cloning failed"; exit 1; }
	t0=$(date +%s)
	make -C "$dir/pagepool" --no-print-directory check "$@" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	summary=$(grep '^unit: ' "$log" | tail -n 1)
	echo "ci-clone-check: run $i/$runs in $dir/pagepool (0700): make check exit $rc, $secs s"
	echo "  ${summary:-no summary line (see $log)}"
	grep -E '^fuzz: .* execs from -seed=' "$log" | sed 's/^/  /'
	if [ $rc -ne 0 ]; then
		status=1
		grep -E '^\[  FAILED  \] [^0-9]|^run-unit: ' "$log" | sort -u | sed 's/^/  /'
	fi
	if [ $i = 1 ]; then
		first=$summary
	elif [ "$summary" != "$first" ]; then
		same=0
	fi
	if [ $keep = 1 ] || [ $rc -ne 0 ]; then
		echo "  kept $dir"
	else
		rm -rf "$dir"
	fi
	i=$((i + 1))
done
if [ $same = 1 ]; then
	echo "ci-clone-check: all $runs run(s): ${first:-no summary}"
else
	echo "ci-clone-check: the summary lines differ between runs (above)"
	status=1
fi
exit $status
