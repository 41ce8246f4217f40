# The two commands of the README, and a few more. Everything is also reachable through cmake presets.
PRESET ?= release
JOBS   ?= $(shell nproc)
# Lets ccache share objects between clones in different folders (see CMakeLists.txt).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
# A fresh clone's files are all "modified just now", which would turn ccache's direct mode off.
export CCACHE_SLOPPINESS := include_file_mtime,include_file_ctime

.PHONY: run test bootstrap build test-tsan test-gpu test-slow install clean oracle-fixtures oracle-test fuzz

# Main job: bootstrap, build, detect, benchmark, report.
run: build
	bash scripts/main-job.sh build/$(PRESET)/src/cli/accel

# The test suite: every label except gpu, slow and oracle (CMakePresets.json), in the -Werror build and under
# ASan+UBSan.
test: bootstrap
	cmake --preset ci
	cmake --build --preset ci -j $(JOBS)
	ctest --preset ci
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

bootstrap:
	bash scripts/bootstrap.sh

build: bootstrap
	cmake --preset $(PRESET)
	cmake --build --preset $(PRESET) -j $(JOBS)

test-tsan: bootstrap
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan

test-slow: bootstrap
	cmake --preset ci
	cmake --build --preset ci -j $(JOBS)
	ctest --test-dir build/ci -L slow --output-on-failure
	ACCEL_BIN=$(CURDIR)/build/ci/src/cli/accel $(MAKE) fuzz

# The load-path fuzzer (docs/testing.md): clang, an ASan+UBSan llama.cpp, then one hour or 5 million executions.
FUZZ_SECONDS ?= 3600
FUZZ_RUNS ?= 5000000
fuzz:
	bash scripts/bootstrap.sh --fuzz
	CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DACCEL_FUZZ=ON \
		-DACCEL_SANITIZE="address;undefined" -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" \
		-DACCEL_BUILD_TESTS=OFF -DACCEL_BUILD_BENCHMARKS=OFF \
		-DACCEL_LLAMA_PREFIX=$$(bash scripts/bootstrap.sh --print-fuzz-prefix)
	cmake --build build/fuzz -j $(JOBS) --target load_path_fuzzer write_mutants
	bash fuzz/run_load_path.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_RUNS)

test-gpu: bootstrap
	cmake --preset ci
	cmake --build --preset ci -j $(JOBS)
	ctest --test-dir build/ci -L gpu --output-on-failure

# Regenerates the Hugging Face fixtures and their transformers references (needs the oracle environment: Python,
# torch, transformers; never part of `make run` or CI). See docs/testing.md.
oracle-fixtures: bootstrap
	bash scripts/bootstrap.sh --oracle
	scripts/oracle/run.sh make_fixtures.py --out tests/fixtures/hf

# The `oracle` tests: the fixtures regenerated live and compared within tolerance, the converter cross-check.
oracle-test: bootstrap
	bash scripts/bootstrap.sh --oracle
	cmake --preset ci
	cmake --build --preset ci -j $(JOBS) --target accel
	ctest --test-dir build/ci -L oracle --output-on-failure

install: build
	cmake --install build/$(PRESET) --prefix $(or $(PREFIX),$(HOME)/.local)

clean:
	rm -rf build
