# SPDX-License-Identifier: BSD-2-Clause
# tests/bench/bench.mk - `make bench`: the whole benchmark suite (included by
# the top-level Makefile after peers.mk and load.mk).
#
#   make bench           every case, side by side with its baselines (< 15 min)
#   make bench QUICK=1   the same with fewer, shorter samples (< 2 min)
#   make bench-ccache    case 7 alone (the client cache; QUICK=1 too)
#
# Results go to build/bench-results/<UTC date-time>/ (README.md with every
# table, the .dat files and PNG plots); build/bench-results/latest points at
# the last run.  `make bench` installs what it needs as root (make deps,
# make bench-deps for the comparators, gnuplot-nox for the plots) or says
# what to install; a missing comparator or gnuplot is reported, not fatal.

BENCH_RESULTS ?= build/bench-results

# Objects compiled once and linked by the bench programs (bench_core's rule
# is in the top-level Makefile, the others' next to them) and the stress
# test: benchutil.o (every one; no protobuf, so it is built on its own),
# echo.o (the floor of bench_rpc and bench_load), load-*.o (bench_load).
$(BUILD)/bench/benchutil.o: tests/bench/benchutil.c tests/bench/benchutil.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/bench/%.o: tests/bench/%.c $(wildcard tests/bench/*.h) client/pagepool.h \
		proto/wire.h proto/transport.h $(PROTO_GEN)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(PROTO_CFLAGS) -Iclient -c $< -o $@

# Load generator against pagepoold (libpagepool) and its echo server.
$(BUILD)/bench/bench_rpc: tests/bench/bench_rpc.c tests/bench/benchutil.h tests/bench/echo.h \
		$(BUILD)/bench/echo.o $(BUILD)/bench/benchutil.o client/pagepool.h \
		proto/transport.h $(PROTO_GEN) $(CLIENT_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(PROTO_CFLAGS) -Iclient $< -o $@ $(ALL_LDFLAGS) \
		$(BUILD)/bench/echo.o $(BUILD)/bench/benchutil.o $(CLIENT_A) $(PROTO_LIBS)

# The producer -> consumer pipeline (hand-off against ack-back, issue 14).
#   make bench-pipe [QUICK=1]   alone; report in $(BUILD)/bench/bench-pipe.md
BENCH_PIPE := $(BUILD)/bench/bench_pipe

all: $(BENCH_PIPE)

$(BENCH_PIPE): tests/bench/bench_pipe.c tests/bench/benchutil.h $(BUILD)/bench/benchutil.o \
		client/pagepool.h $(CLIENT_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Iclient $< -o $@ $(ALL_LDFLAGS) \
		$(BUILD)/bench/benchutil.o $(CLIENT_A) $(PROTO_LIBS)

# Case 7: the client cache (issue 15): cache-hit pair, round trips per
# 1,000 allocs, pipeline and non-interference against their baselines.
#   make bench-ccache [QUICK=1]   alone; report in $(BUILD)/bench/bench-ccache.md
BENCH_CCACHE := $(BUILD)/bench/bench_ccache

all: $(BENCH_CCACHE)

$(BENCH_CCACHE): tests/bench/bench_ccache.c tests/bench/benchutil.h tests/bench/echo.h \
		$(BUILD)/bench/benchutil.o $(BUILD)/bench/echo.o client/pagepool.h \
		proto/transport.h $(PROTO_GEN) $(CLIENT_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(PROTO_CFLAGS) -Iclient $< -o $@ $(ALL_LDFLAGS) \
		$(BUILD)/bench/echo.o $(BUILD)/bench/benchutil.o $(CLIENT_A) $(PROTO_LIBS)

.PHONY: bench-ccache bench-ccache-run

bench-ccache: deps
	@$(MAKE) --no-print-directory bench-ccache-run

bench-ccache-run: $(DAEMON) $(BENCH_CCACHE)
	@QUICK=$(QUICK) tests/bench/ccache-bench.sh $(DAEMON) $(BENCH_CCACHE)

.PHONY: bench bench-run bench-tools bench-pipe bench-pipe-run

bench-pipe: deps
	@$(MAKE) --no-print-directory bench-pipe-run

bench-pipe-run: $(DAEMON) $(BENCH_PIPE)
	@QUICK=$(QUICK) tests/bench/pipe-bench.sh $(DAEMON) $(BENCH_PIPE)

bench-tools:
	@for t in gnuplot:gnuplot-nox taskset:util-linux; do \
		command -v $${t%%:*} >/dev/null 2>&1 && continue; \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "bench-tools: installing $${t#*:}"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $${t#*:} >/dev/null || exit 1; \
		else \
			echo "bench-tools: $${t%%:*} is missing (sudo apt-get install $${t#*:})"; \
		fi; \
	done

bench: deps
	@$(MAKE) --no-print-directory bench-deps bench-tools
	@$(MAKE) --no-print-directory bench-run

bench-run: $(DAEMON) $(BUILD)/bench/bench_core $(BUILD)/bench/bench_rpc $(BENCH_LOAD) $(PEER_BINS) \
		$(BENCH_PIPE) $(BENCH_CCACHE)
	@stamp=$$(date -u +%Y%m%d-%H%M%S); \
	QUICK=$(QUICK) CC="$(CC)" BENCH_PIPE=$(BENCH_PIPE) BENCH_CCACHE=$(BENCH_CCACHE) tests/bench/bench-all.sh $(BENCH_RESULTS)/$$stamp $(DAEMON) \
		$(BUILD)/bench/bench_core $(BUILD)/bench/bench_rpc $(BENCH_LOAD) $(PEER_BINS) && \
	ln -sfn $$stamp $(BENCH_RESULTS)/latest

# The grace-period scheme's measurements (doc/DESIGN.md, "Pcplists in the
# client"): a cache-list pair opened by each kind of fence, and whether
# membarrier(MEMBARRIER_CMD_GLOBAL) interrupts a busy CPU here.
#   make bench-fence
BENCH_FENCE := $(BUILD)/bench/bench_fence

all: $(BENCH_FENCE)

$(BENCH_FENCE): tests/bench/bench_fence.c proto/ccache.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Iproto $< -o $@ $(ALL_LDFLAGS)

.PHONY: bench-fence
bench-fence: $(BENCH_FENCE)
	@$(BENCH_FENCE)
