#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check.sh - the fuzz part of `make check`, run by tests/run-unit.sh like a
# test binary (no arguments; `make check-run` sets the environment):
# FUZZ_BUILD (the fuzz build, made by `make fuzz-build`), FUZZ_TARGETS,
# FUZZ_CHECK_RUNS and FUZZ_CHECK_SEED.  It replays every reproducer in
# tests/fuzz/regress/ and every generated seed, then makes a fixed-seed run of
# each target bounded by a number of runs: the same inputs every time, no
# random exploration (that is `make fuzz`).  See run-fuzz.sh `check`.
set -u
exec "$(dirname "$0")/run-fuzz.sh" check "${FUZZ_BUILD:?FUZZ_BUILD is not set}" \
	"${FUZZ_CHECK_RUNS:?FUZZ_CHECK_RUNS is not set}" ${FUZZ_TARGETS:?FUZZ_TARGETS is not set}
