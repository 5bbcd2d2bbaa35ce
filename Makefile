# byoml: `make demo` and `make test` work on a fresh Debian 12 machine (as root).
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
TEST_BUILD ?= build-asan
DEMO_DIR ?= demo

.PHONY: all deps build demo test bench bench-build bench-e2e fuzz fuzz-build clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job end to end on generated data, as far as byoml reaches today.
demo: build
	@scripts/demo.sh $(BUILD)/byoml $(DEMO_DIR)

# Every test, in the sanitizer configuration (ASan + UBSan); the fuzz targets run on their seeds
# and on mutations of them (FuzzSmoke.*).
test: deps
	@cmake -S . -B $(TEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBYOML_SANITIZE=ON -DBYOML_BENCH=OFF >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

# libFuzzer targets for the decoders, loaders, KQL and model files (clang, ASan + UBSan).
# `make fuzz FUZZ_SECONDS=600` runs each for ten minutes.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz-build:
	@scripts/install-deps.sh fuzz
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DBYOML_FUZZ=ON -DBYOML_WERROR=OFF -DBYOML_BENCH=OFF -DBUILD_TESTING=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_json fuzz_xml fuzz_csv fuzz_evtx fuzz_template fuzz_rule fuzz_kql fuzz_model

fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Throughput and memory figures (not part of `make test`). BENCH_EVENTS sets the input size.
BENCH_DIR ?= $(BUILD)/bench-data
bench-build: build
	@cmake -S . -B $(BUILD) -DBUILD_TESTING=OFF -DBYOML_BENCH=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target bench_read bench_als bench_score bench_train bench_cloud bench_watch
	@cd tests/azurite && npm ci --no-audit --no-fund --loglevel=error

bench: bench-build
	@$(BUILD)/bench/bench_read --dir $(BENCH_DIR) $(if $(BENCH_EVENTS),--events $(BENCH_EVENTS))
	@$(BUILD)/bench/bench_als
	@$(BUILD)/bench/bench_score
	@$(BUILD)/bench/bench_train --dir $(BENCH_DIR) $(if $(BENCH_EVENTS),--events $(BENCH_EVENTS))
	@$(BUILD)/bench/bench_cloud
	@$(BUILD)/bench/bench_watch --dir $(BENCH_DIR)

# Read -> train -> save on 20 million raw export events (about 22 GB generated once).
bench-e2e: bench-build
	@$(BUILD)/bench/bench_train --dir $(BENCH_DIR)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD) $(DEMO_DIR)
