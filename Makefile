# The two commands of the README: `make demo` and `make test`. Both install what is
# missing (scripts/bootstrap.sh), build, and are quick when nothing changed.
#   make test SANITIZE=1   the same suite under AddressSanitizer + UBSan (build-asan/)
#   make bench             the benchmarks of docs/benchmarks.md (slow; not part of test)

SANITIZE ?= 0
BUILD ?= $(if $(filter 1,$(SANITIZE)),build-asan,build)
WERROR := $(if $(CI),ON,OFF)
CMAKE_FLAGS := -G Ninja -DPQFLOW_WERROR=$(WERROR) -DPQFLOW_SANITIZE=$(if $(filter 1,$(SANITIZE)),ON,OFF)

.PHONY: all deps build test unit demo bench clean

all: build

deps:
	@scripts/bootstrap.sh

build: deps
	@[ -f $(BUILD)/build.ninja ] || cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j2 --timeout 600

demo: build
	@PQFLOW=$(BUILD)/src/cli/pqflow scripts/demo.sh

bench: build
	@PQFLOW=$(BUILD)/src/cli/pqflow bench/run_export_bench.sh

clean:
	rm -rf build build-asan demo
