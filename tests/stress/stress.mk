# SPDX-License-Identifier: BSD-2-Clause
# tests/stress/stress.mk - the stress test (included by the top-level
# Makefile, whose BUILD, DAEMON, CLIENT_A, PROTO_* and flags it uses).
#
#   make stress                  `make deps`, then build and run the stress
#                                test (tests/stress/stress-*.c, see
#                                stress-main.c) for STRESS_TIME seconds
#   make stress STRESS_TIME=600  longer
#   make stress STRESS_SEED=0x1234 STRESS_CLIENTS=16   repeat a run's choices
#   make stress SAN=address,undefined   (or SAN=thread) against sanitized builds
#
# The binary, $(BUILD)/tests/stress, is part of `make all` so `make check`
# can run a short pass: STRESS_TIME=10 STRESS_SEED=$(STRESS_CHECK_SEED)
# $(STRESS_BIN) (PAGEPOOLD names the daemon).  `make stress` without
# STRESS_SEED picks a random seed and prints it; `make check` always passes
# the same one, so its choices are the same on every run (how many of them
# 10 s hold still depends on the machine's speed: the run is bounded by time
# by design).  It ends with "stress: PASS ... 0 lost pages, 0 bad stamps" (or
# FAIL) after a cmocka-style summary that always counts one test, and exits
# non-zero on failure.

STRESS_BIN := $(BUILD)/tests/stress
# One object per tests/stress/stress-*.c, each compiled once (in
# $(BUILD)/stress/: $(BUILD)/tests/stress is the binary).
STRESS_SRCS := $(wildcard tests/stress/stress-*.c)
STRESS_OBJS := $(STRESS_SRCS:tests/stress/%.c=$(BUILD)/stress/%.o)
STRESS_TIME ?= 60
# The short run inside `make check`.
STRESS_CHECK_TIME ?= 10
STRESS_CHECK_SEED ?= 0x5eed
STRESS_SEED ?=
STRESS_CLIENTS ?=

all: $(if $(wildcard client/libpagepool.c),$(STRESS_BIN))

$(BUILD)/stress/%.o: tests/stress/%.c tests/stress/stress.h tests/bench/benchutil.h \
		client/pagepool.h proto/wire.h proto/transport.h $(PROTO_GEN)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(PROTO_CFLAGS) -Iclient -Itests/bench -c $< -o $@

$(STRESS_BIN): $(STRESS_OBJS) $(BUILD)/bench/benchutil.o $(CLIENT_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $^ -o $@ $(ALL_LDFLAGS) $(PROTO_LIBS)

.PHONY: stress stress-run

stress: deps
	@$(MAKE) --no-print-directory stress-run

stress-run: $(DAEMON) $(STRESS_BIN)
	@$(STRESS_BIN) --time $(STRESS_TIME) $(if $(STRESS_SEED),--seed $(STRESS_SEED)) \
		$(if $(STRESS_CLIENTS),--clients $(STRESS_CLIENTS)) $(abspath $(DAEMON))
