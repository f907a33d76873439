# SPDX-License-Identifier: BSD-2-Clause
# tests/bench/load.mk - the load benchmark against pagepoold (benchmark
# cases 2 and 3: throughput with pcp on/off, drain time and drain storms),
# included at the end of the Makefile.
#
#   make bench-load           about 5 minutes; report in $(BUILD)/bench/bench-load.md
#   make bench-load QUICK=1   well under a minute, fewer and shorter samples
#
# bench_load is tests/bench/load-*.c (see load.h), each compiled once by
# bench.mk's object rule, with the echo floor (echo.c) and benchutil.c,
# linked with libpagepool's static library like bench_rpc, whose echo server
# is the transport floor.

BENCH_LOAD := $(BUILD)/bench/bench_load
LOAD_SRCS := $(wildcard tests/bench/load-*.c)
LOAD_OBJS := $(LOAD_SRCS:tests/bench/%.c=$(BUILD)/bench/%.o)

.PHONY: bench-load bench-load-run

all: $(BENCH_LOAD)

$(BENCH_LOAD): $(LOAD_OBJS) $(BUILD)/bench/echo.o $(BUILD)/bench/benchutil.o $(CLIENT_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $^ -o $@ $(ALL_LDFLAGS) $(PROTO_LIBS)

bench-load: deps
	@$(MAKE) --no-print-directory bench-load-run

bench-load-run: $(DAEMON) $(BENCH_LOAD) $(BUILD)/bench/bench_rpc
	@QUICK=$(QUICK) tests/bench/bench-load.sh $(DAEMON) $(BENCH_LOAD) $(BUILD)/bench/bench_rpc
