# pagepool - top-level build.
#
#   make            build everything (core library, tests, benchmarks)
#   make check      install missing build dependencies (as root), build, run the tests
#   make check SAN=address,undefined   the same under sanitizers (SAN=thread for TSan)
#   make bench-core in-process microbenchmark of the core allocator (+ callgrind)
#   make deps       install the Debian build dependencies (root) or say which
#   make CC=clang   the same code must build clean with clang
#   make V=1        show the full compiler command lines
#
# Every dependency is found with pkg-config; `make deps` maps each missing
# pkg-config module to the Debian package that provides it.

CC	?= cc
SAN	?=
V	?= 0
ifeq ($(V),0)
Q	:= @
else
Q	:=
endif
OPT	?= -O2
comma	:= ,

ifeq ($(SAN),)
BUILD	?= build
SANFLAGS :=
else
BUILD	?= build/san-$(subst $(comma),-,$(SAN))
SANFLAGS := -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# pkg-config module : Debian package
DEPS_PC	:= liburcu-qsbr:liburcu-dev cmocka:libcmocka-dev libevent:libevent-dev \
	   libprotobuf-c:libprotobuf-c-dev libsystemd:libsystemd-dev inih:libinih-dev
# command : Debian package
DEPS_CMD := pkg-config:pkg-config protoc-c:protobuf-c-compiler valgrind:valgrind \
	    python3:python3

WARN	:= -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	   -Wno-unused-parameter -Werror
CFLAGS	?= $(OPT) -g
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) $(SANFLAGS) -D_GNU_SOURCE -pthread \
	   -Idaemon $(shell pkg-config --cflags liburcu-qsbr 2>/dev/null)
LDFLAGS	?=
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS) -pthread
URCU_LIBS := $(shell pkg-config --libs liburcu-qsbr 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

CORE_SRCS := arena buddy pcp drain pool isolate verify rcu log
CORE_OBJS := $(CORE_SRCS:%=$(BUILD)/daemon/%.o)
CORE_LIB := $(BUILD)/libppcore.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BINS := $(BUILD)/bench/bench_core

.PHONY: all deps check check-run bench-core bench-core-run run clean
.DEFAULT_GOAL := all

all: $(CORE_LIB) $(UNIT_BINS) $(BENCH_BINS)

$(BUILD)/daemon/%.o: daemon/%.c $(wildcard daemon/*.h) Makefile
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)$(AR) rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(CORE_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $< -o $@ $(ALL_LDFLAGS) $(CORE_LIB) $(URCU_LIBS) $(CMOCKA_LIBS)

$(BUILD)/bench/%: tests/bench/%.c $(CORE_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@ $(ALL_LDFLAGS) $(CORE_LIB) $(URCU_LIBS)

# Install what is missing (as root), or say exactly what to install.
deps:
	@missing=""; \
	for d in $(DEPS_CMD); do command -v $${d%%:*} >/dev/null 2>&1 || missing="$$missing $${d#*:}"; done; \
	for d in $(DEPS_PC); do pkg-config --exists $${d%%:*} 2>/dev/null || missing="$$missing $${d#*:}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	else \
		echo "deps: missing Debian packages:$$missing"; \
		echo "deps: run: sudo apt-get install$$missing"; exit 1; \
	fi

# Dependencies first, then a fresh make so pkg-config sees what was installed.
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: all
	@tests/run-unit.sh $(UNIT_BINS)

bench-core: deps
	@$(MAKE) --no-print-directory bench-core-run

bench-core-run: $(BUILD)/bench/bench_core
	@tests/bench/bench-core.sh $(BUILD)/bench/bench_core

run: deps
	@echo "run: the pagepoold daemon arrives with issue 3 (sockets, protocol, config);"
	@echo "run: today the core allocator is a tested library: try 'make check' and 'make bench-core'."

clean:
	rm -rf build
