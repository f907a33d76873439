# SPDX-License-Identifier: BSD-2-Clause
# tests/bench/peers.mk - comparators for the pcp hit pair (included by the
# top-level Makefile, whose BUILD, ALL_CFLAGS, ALL_LDFLAGS and Q it uses).
#
#   make bench-peers   `make deps`, then `make bench-deps`, then build every
#                      comparator whose Debian package is present and run
#                      tests/bench/bench-peers.sh: bench_core's pcp hit cases
#                      and the comparators side by side, one Markdown table
#   make bench-deps    install the comparators' Debian packages (as root), or
#                      say which to install; never needed by `make check`
#
# One binary per comparator, all from tests/bench/bench_peer.c with one -D
# flag, because jemalloc and tcmalloc replace malloc for a whole process.  A
# comparator is built only when pkg-config finds its package; bench-peers.sh
# reports a missing one as "not built: install PKG".

# pkg-config module : Debian package
PEER_DEPS_PC := libdpdk:dpdk-dev jemalloc:libjemalloc-dev \
	libtcmalloc_minimal:libgoogle-perftools-dev

peer_have = $(shell pkg-config --exists $(1) 2>/dev/null && echo y)

PEER_NAMES := glibc $(if $(call peer_have,libdpdk),dpdk) \
	$(if $(call peer_have,jemalloc),jemalloc) \
	$(if $(call peer_have,libtcmalloc_minimal),tcmalloc)
PEER_BINS := $(PEER_NAMES:%=$(BUILD)/bench/bench_peer_%)

# DPDK's headers are third-party: -isystem keeps our -W flags off them.
$(BUILD)/bench/bench_peer_dpdk: PEER_FLAGS = -DPEER_DPDK \
	$(patsubst -I%,-isystem %,$(shell pkg-config --cflags libdpdk 2>/dev/null))
$(BUILD)/bench/bench_peer_dpdk: PEER_LIBS = $(shell pkg-config --libs libdpdk 2>/dev/null)
$(BUILD)/bench/bench_peer_jemalloc: PEER_FLAGS = -DPEER_JEMALLOC \
	$(shell pkg-config --cflags jemalloc 2>/dev/null)
$(BUILD)/bench/bench_peer_jemalloc: PEER_LIBS = $(shell pkg-config --libs jemalloc 2>/dev/null)
$(BUILD)/bench/bench_peer_tcmalloc: PEER_FLAGS = -DPEER_TCMALLOC \
	$(shell pkg-config --cflags libtcmalloc_minimal 2>/dev/null)
$(BUILD)/bench/bench_peer_tcmalloc: PEER_LIBS = \
	$(shell pkg-config --libs libtcmalloc_minimal 2>/dev/null)
$(BUILD)/bench/bench_peer_glibc: PEER_FLAGS = -DPEER_GLIBC
$(BUILD)/bench/bench_peer_glibc: PEER_LIBS =

$(PEER_BINS): $(BUILD)/bench/bench_peer_%: tests/bench/bench_peer.c tests/bench/benchutil.h \
		$(BUILD)/bench/benchutil.o tests/bench/peers.mk
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(PEER_FLAGS) $< -o $@ $(ALL_LDFLAGS) $(BUILD)/bench/benchutil.o \
		$(PEER_LIBS)

.PHONY: bench-deps bench-peers bench-peers-run

# Like `make deps`, but a comparator whose package is missing is skipped,
# not an error.
bench-deps:
	@missing=""; \
	for d in $(PEER_DEPS_PC); do pkg-config --exists $${d%%:*} 2>/dev/null || missing="$$missing $${d#*:}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "bench-deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	else \
		echo "bench-deps: missing Debian packages:$$missing (those comparators are skipped)"; \
		echo "bench-deps: run: sudo apt-get install$$missing"; \
	fi

# Packages first, then a fresh make so pkg-config sees what was installed.
bench-peers: deps
	@$(MAKE) --no-print-directory bench-deps
	@$(MAKE) --no-print-directory bench-peers-run

bench-peers-run: $(BUILD)/bench/bench_core $(PEER_BINS)
	@tests/bench/bench-peers.sh $(BUILD)/bench/bench_core $(PEER_BINS)
