# SPDX-License-Identifier: BSD-2-Clause
# tests/bench/load.mk - the load benchmark against pagepoold (benchmark
# cases 2 and 3: throughput with pcp on/off, drain time and drain storms),
# included at the end of the Makefile.
#
#   make bench-load           about 5 minutes; report in $(BUILD)/bench/bench-load.md
#   make bench-load QUICK=1   well under a minute, fewer and shorter samples
#
# bench_load links libpagepool's static library and the generated protobuf
# code like bench_rpc, whose echo server is the transport floor.

BENCH_LOAD := $(BUILD)/bench/bench_load

.PHONY: bench-load bench-load-run

all: $(BENCH_LOAD)

$(BENCH_LOAD): tests/bench/bench_load.c tests/bench/benchutil.h client/pagepool.h proto/wire.h $(PROTO_GEN) $(CLIENT_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(PROTO_CFLAGS) -Iclient $< -o $@ $(ALL_LDFLAGS) $(CLIENT_A) $(PROTO_LIBS)

bench-load: deps
	@$(MAKE) --no-print-directory bench-load-run

bench-load-run: $(DAEMON) $(BENCH_LOAD) $(BUILD)/bench/bench_rpc
	@QUICK=$(QUICK) tests/bench/bench-load.sh $(DAEMON) $(BENCH_LOAD) $(BUILD)/bench/bench_rpc
