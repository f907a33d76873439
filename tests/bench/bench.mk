# SPDX-License-Identifier: BSD-2-Clause
# tests/bench/bench.mk - `make bench`: the whole benchmark suite (included by
# the top-level Makefile after peers.mk and load.mk).
#
#   make bench           every case, side by side with its baselines (< 15 min)
#   make bench QUICK=1   the same with fewer, shorter samples (< 2 min)
#
# Results go to build/bench-results/<UTC date-time>/ (README.md with every
# table, the .dat files and PNG plots); build/bench-results/latest points at
# the last run.  `make bench` installs what it needs as root (make deps,
# make bench-deps for the comparators, gnuplot-nox for the plots) or says
# what to install; a missing comparator or gnuplot is reported, not fatal.

BENCH_RESULTS ?= build/bench-results

# The helpers every bench program includes (bench_core's and bench_rpc's
# rules are in the top-level Makefile; the others list it themselves).
$(BUILD)/bench/bench_core $(BUILD)/bench/bench_rpc: tests/bench/benchutil.h

.PHONY: bench bench-run bench-tools

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

bench-run: $(DAEMON) $(BUILD)/bench/bench_core $(BUILD)/bench/bench_rpc $(BENCH_LOAD) $(PEER_BINS)
	@stamp=$$(date -u +%Y%m%d-%H%M%S); \
	QUICK=$(QUICK) CC="$(CC)" tests/bench/bench-all.sh $(BENCH_RESULTS)/$$stamp $(DAEMON) \
		$(BUILD)/bench/bench_core $(BUILD)/bench/bench_rpc $(BENCH_LOAD) $(PEER_BINS) && \
	ln -sfn $$stamp $(BENCH_RESULTS)/latest
