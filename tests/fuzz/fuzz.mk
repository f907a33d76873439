# SPDX-License-Identifier: BSD-2-Clause
# tests/fuzz/fuzz.mk - libFuzzer targets; included at the end of the Makefile.
#
#   make fuzz           random exploration: each target for FUZZ_TIME seconds
#                       (default 300); exits non-zero on any crash
#   make fuzz-smoke     the same for FUZZ_SMOKE_TIME seconds (default 30)
#   make fuzz-check     what `make check` runs, alone: replay every reproducer
#                       in tests/fuzz/regress/TARGET/ and every seed, then a
#                       fixed-seed run (-seed=FUZZ_CHECK_SEED) bounded by
#                       FUZZ_CHECK_RUNS executions, all with the clock
#                       stopped (frozen_clock.c): the same inputs every time
#   make fuzz-build     build the targets and the seed corpora only
#   make fuzz-regress   replay tests/fuzz/regress/TARGET/* (known reproducers)
#                       alone; exits non-zero while any of them still fails
#
# Targets: fuzz_proto (client and admin protocol against an in-process
# daemon), fuzz_core (the allocator core against a model) and fuzz_ccache
# (remote drains of a hostile client's cache region, in-process daemon); see
# the head of each file; the in-process daemon of fuzz_proto and fuzz_ccache
# is tests/fuzz/fuzzdaemon.c.  fuzz and fuzz-smoke start from the generated seeds
# (build/fuzz/seeds/TARGET) and a persistent corpus (build/fuzz/corpus/TARGET,
# where new inputs go); crashes land in build/fuzz/artifacts/TARGET/, each
# run's log in build/fuzz/TARGET.log.  fuzz-check (and make check) reads the
# seeds and writes nothing but crash inputs (artifacts/TARGET/check-*), so
# no run changes what the next one executes; see tests/fuzz/run-fuzz.sh.
#
# Everything is compiled by clang with -fsanitize=fuzzer-no-link,address,
# undefined into build/fuzz through a recursive make of the top-level rules
# (CC=clang SAN=... BUILD=build/fuzz); only the targets link the libFuzzer
# runtime (-fsanitize=fuzzer).  Needs clang and libclang-rt-14-dev.

FUZZ_CC		?= clang
FUZZ_BUILD	?= build/fuzz
FUZZ_SAN	:= fuzzer-no-link,address,undefined
FUZZ_TIME	?= 300
FUZZ_SMOKE_TIME	?= 30
FUZZ_TARGETS	:= fuzz_proto fuzz_core fuzz_ccache
# The fixed-seed run of `make check`: runs per target (10 to 20 s each here
# on a loaded 2-core machine; fuzz_core creates a pool per input, so it is
# much the slower per run, and fuzz_proto's offers and its model of them
# make it about 20 s; fuzz_ccache, two connections and their regions set up
# per input, about 10 s) and libFuzzer's -seed.
FUZZ_CHECK_RUNS	?= fuzz_proto=10000 fuzz_core=1000 fuzz_ccache=2000
FUZZ_CHECK_SEED	?= 1

.PHONY: fuzz fuzz-smoke fuzz-check fuzz-build fuzz-regress fuzz-inner

fuzz-build:
	@$(MAKE) --no-print-directory CC=$(FUZZ_CC) SAN=$(FUZZ_SAN) BUILD=$(FUZZ_BUILD) fuzz-inner

fuzz: fuzz-build
	@tests/fuzz/run-fuzz.sh run $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@tests/fuzz/run-fuzz.sh run $(FUZZ_BUILD) $(FUZZ_SMOKE_TIME) $(FUZZ_TARGETS)

fuzz-check: fuzz-build
	@FUZZ_CHECK_SEED=$(FUZZ_CHECK_SEED) tests/fuzz/run-fuzz.sh check $(FUZZ_BUILD) \
		'$(FUZZ_CHECK_RUNS)' $(FUZZ_TARGETS)

fuzz-regress: fuzz-build
	@tests/fuzz/run-fuzz.sh regress $(FUZZ_BUILD) 0 $(FUZZ_TARGETS)

# ---- the rest is what the recursive make builds (BUILD = build/fuzz) ----

ifeq ($(SAN),$(FUZZ_SAN))

FUZZ_DAEMON_OBJS := $(filter-out $(BUILD)/daemon/main.o,$(DAEMON_OBJS))
FUZZ_LDFLAGS := $(ALL_LDFLAGS) -fsanitize=fuzzer
FUZZ_EVENT_CFLAGS := $(shell pkg-config --cflags libevent_core 2>/dev/null)

fuzz-inner: $(FUZZ_TARGETS:%=$(BUILD)/%) $(BUILD)/seeds/.stamp $(BUILD)/frozen_clock.so

# The stopped clock of the fuzz runs in `make check` (an LD_PRELOAD library:
# no sanitizer, no coverage).
$(BUILD)/frozen_clock.so: tests/fuzz/frozen_clock.c
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) -std=gnu11 $(OPT) $(WARN) -fPIC -shared $< -o $@

# The in-process daemon of fuzz_proto and fuzz_ccache, compiled once.
FUZZ_DAEMON_HARNESS := $(BUILD)/fuzzdaemon.o

$(FUZZ_DAEMON_HARNESS): tests/fuzz/fuzzdaemon.c tests/fuzz/fuzzdaemon.h $(wildcard daemon/*.h) \
		$(PROTO_GEN)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(PROTO_CFLAGS) $(FUZZ_EVENT_CFLAGS) -c $< -o $@

$(BUILD)/fuzz_core: tests/fuzz/fuzz_core.c tests/fuzz/fuzzutil.h $(wildcard daemon/*.h) $(CORE_LIB)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@ $(FUZZ_LDFLAGS) $(CORE_LIB) $(URCU_LIBS)

# The daemon's offer tokens come from getrandom(2): fuzz_proto wraps it
# (fuzz_proto.c __wrap_getrandom) so that they come from a counter, and the
# same inputs take the same paths on every run.
$(BUILD)/fuzz_proto: tests/fuzz/fuzz_proto.c tests/fuzz/fuzzutil.h tests/fuzz/fuzzdaemon.h \
		$(wildcard daemon/*.h) proto/wire.h $(PROTO_GEN) $(FUZZ_DAEMON_HARNESS) \
		$(FUZZ_DAEMON_OBJS) $(PROTO_OBJS) $(CORE_LIB)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(PROTO_CFLAGS) $(FUZZ_EVENT_CFLAGS) $< -o $@ $(FUZZ_LDFLAGS) \
		-Wl,--wrap=getrandom $(FUZZ_DAEMON_HARNESS) $(FUZZ_DAEMON_OBJS) $(PROTO_OBJS) \
		$(CORE_LIB) $(DAEMON_LIBS)

# fuzz_ccache: the client cache drain (daemon/clientcache.c) against a
# hostile client's region, in the same in-process daemon.
$(BUILD)/fuzz_ccache: tests/fuzz/fuzz_ccache.c tests/fuzz/fuzzutil.h tests/fuzz/fuzzdaemon.h \
		$(wildcard daemon/*.h) proto/wire.h proto/ccache.h $(PROTO_GEN) \
		$(FUZZ_DAEMON_HARNESS) $(FUZZ_DAEMON_OBJS) $(PROTO_OBJS) $(CORE_LIB)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(PROTO_CFLAGS) $(FUZZ_EVENT_CFLAGS) $< -o $@ $(FUZZ_LDFLAGS) \
		$(FUZZ_DAEMON_HARNESS) $(FUZZ_DAEMON_OBJS) $(PROTO_OBJS) $(CORE_LIB) $(DAEMON_LIBS)

$(BUILD)/gen_seeds: tests/fuzz/gen_seeds.c proto/wire.h $(PROTO_GEN) $(PROTO_OBJS)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(PROTO_CFLAGS) $< -o $@ $(ALL_LDFLAGS) $(PROTO_OBJS) $(PROTO_LIBS)

# Seeds are generated, never committed: regenerated whenever the generator changes.
$(BUILD)/seeds/.stamp: $(BUILD)/gen_seeds
	$(Q)rm -rf $(BUILD)/seeds
	$(Q)$(BUILD)/gen_seeds $(BUILD)/seeds
	$(Q)touch $@

else

fuzz-inner:
	$(error fuzz-inner is built by `make fuzz-build`, with CC=$(FUZZ_CC) SAN=$(FUZZ_SAN))

endif
