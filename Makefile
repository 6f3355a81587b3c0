# Convenience front end. The real build is CMake; these targets install any
# missing Debian packages first (scripts/setup.sh), so on a fresh Debian 12
# machine `make demo` and `make test` are all you need.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
# `make install` goes into a prefix the user owns (no sudo): $(PREFIX)/bin/ticktape.
# PREFIX=/usr/local (as root) installs for everyone.
PREFIX ?= $(HOME)/.local

.PHONY: all setup compile build test demo asan-test install clean fuzz bench

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

compile: setup $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

# build and demo say where the binary is and how to run it by name (scripts/where.sh)
build: compile
	@bash scripts/where.sh built $(BUILD)

test: compile
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: compile
	@$(BUILD)/ticktape demo --out $(BUILD)/demo
	@bash scripts/where.sh built $(BUILD)

asan-test: setup
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTT_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) -LE slow

fuzz: setup
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DTT_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

bench: compile
	@bash scripts/bench.sh

install: compile
	@cmake --install $(BUILD) --prefix $(PREFIX) >/dev/null
	@bash scripts/where.sh installed $(PREFIX)

clean:
	@rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
