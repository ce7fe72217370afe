# rivulet build. `make` builds the library and the `rivulet` command
# (optimised); `make test` builds and runs the test suite twice: optimised,
# then under AddressSanitizer + UndefinedBehaviorSanitizer. `make reference`
# runs only the parity checks against ../shared/reference (failing if absent).
#
# Every .c file under src/<layer>/ goes into librivulet, except the command's
# own front end (src/cli/), which links into the `rivulet` binary.
# The class registry is generated from the `const rv_class rv_class_*`
# definitions found in src/, so a new estimator needs no list to be edited.

VARIANT ?= opt
BUILD := build/$(VARIANT)
PKGS := jansson libmicrohttpd sqlite3 zlib libxxhash
TEST_PKGS := criterion

CC ?= cc
# -ffp-contract=off: no fused multiply-add, so sums and products round as
# creme's (CPython's) do; parity with the reference depends on it.
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
  -ffp-contract=off -fno-math-errno -Iinclude -Isrc -MMD -MP -pthread \
  $(shell pkg-config --cflags $(PKGS))
ifeq ($(VARIANT),asan)
CFLAGS_VARIANT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS_VARIANT := -fsanitize=address,undefined
else ifeq ($(VARIANT),fuzz)
# libFuzzer targets (fuzz/): clang with coverage, ASan and UBSan; only
# `make fuzz` and `make fuzz-smoke` use it, so `make test` needs no clang.
CC := clang
CFLAGS_VARIANT := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
  -fno-sanitize-recover=all -Wno-string-concatenation
LDFLAGS_VARIANT := -fsanitize=fuzzer,address,undefined
else ifeq ($(VARIANT),debug)
CFLAGS_VARIANT := -O0 -g
else
CFLAGS_VARIANT := -O2 -g -DNDEBUG
endif
CFLAGS += $(CFLAGS_COMMON) $(CFLAGS_VARIANT)
LDLIBS := $(shell pkg-config --libs $(PKGS)) -lm -pthread
LDFLAGS += $(LDFLAGS_VARIANT)

LIB_SRC := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(wildcard src/cli/*.c))
LIB_OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/gen/registry.o \
  $(BUILD)/obj/gen/dashboard_assets.o $(BUILD)/obj/gen/m5_models.o
# The dashboard's files, embedded in the binary (see include/rivulet/dashboard.h).
DASH_ASSETS := $(sort $(wildcard dashboard/*.html dashboard/*.css dashboard/*.js dashboard/*.svg))
TEST_SRC := $(wildcard tests/*.c tests/*/*.c)
TEST_OBJ := $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(TEST_SRC))
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all lib test test-opt test-asan reference bench bench-server browser-test demo clean \
  fuzz fuzz-smoke fuzz-seeds fuzz-build
all: $(BUILD)/rivulet

lib: $(BUILD)/librivulet.a

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/gen/registry.c: $(LIB_SRC) tools/gen-registry.sh
	@mkdir -p $(dir $@)
	sh tools/gen-registry.sh $(LIB_SRC) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/dashboard_assets.c: $(DASH_ASSETS) tools/embed-assets.sh
	@mkdir -p $(dir $@)
	sh tools/embed-assets.sh $(DASH_ASSETS) > $@.tmp && mv $@.tmp $@

# The M5 write-up's pipelines, embedded for `rivulet m5 demo` (src/m5/demo_warm.c).
$(BUILD)/gen/m5_models.c: examples/m5/knn.river examples/m5/lm.river tools/embed-text.sh
	@mkdir -p $(dir $@)
	sh tools/embed-text.sh rv_m5_knn_river examples/m5/knn.river rv_m5_lm_river examples/m5/lm.river > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/librivulet.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/rivulet: $(CLI_OBJ) $(BUILD)/librivulet.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags $(TEST_PKGS)) -c $< -o $@

$(BUILD)/rivulet-tests: $(TEST_OBJ) $(BUILD)/librivulet.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) $(shell pkg-config --libs $(TEST_PKGS)) -o $@

$(BUILD)/bench/%: bench/%.c $(BUILD)/librivulet.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(BUILD)/librivulet.a $(LDFLAGS) $(LDLIBS) -o $@

bench: $(BENCH_BIN) $(BUILD)/rivulet

# The HTTP server against a bare libmicrohttpd server, with wrk and
# bench/loadgen on loopback (issue 5's speed targets); needs wrk installed.
bench-server:
	bench/run-server-bench.sh

# The test runner is Criterion's; -j2 uses both cores. Tests that need
# ../shared skip with a loud message when it is missing.
test: test-opt test-asan
test-opt:
	$(MAKE) VARIANT=opt build/opt/rivulet-tests build/opt/rivulet
	RIVULET_BIN=$(CURDIR)/build/opt/rivulet build/opt/rivulet-tests -j2 $(TEST_ARGS)
# Leaks fail the run through their reports, not exit codes: a test worker
# finds its leaks at exit, after it has reported its result, and so does a
# rivulet process a test started. LeakSanitizer writes every process's report
# under build/asan/leaks/, and tools/check-leaks.sh fails on any leak with a
# frame of ours (Criterion's own runner leaks one 48-byte block at exit, with
# no such frame). Errors (overflows, UB) fail the run as they happen.
test-asan:
	$(MAKE) VARIANT=asan build/asan/rivulet-tests build/asan/rivulet
	rm -rf build/asan/leaks && mkdir -p build/asan/leaks
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=exitcode=0:log_path=$(CURDIR)/build/asan/leaks/lsan \
	  RIVULET_BIN=$(CURDIR)/build/asan/rivulet build/asan/rivulet-tests -j2 $(TEST_ARGS)
	sh tools/check-leaks.sh build/asan/leaks

# The dashboard in Debian's headless Chromium (apt-get install chromium nodejs
# npm): playwright-core pinned in tests/browser/package-lock.json, no browser
# download. SCREENSHOT=docs/dashboard.png keeps the real-server screenshot.
browser-test: $(BUILD)/rivulet
	cd tests/browser && npm ci --no-audit --no-fund
	cd tests/browser && RIVULET_BIN=$(CURDIR)/$(BUILD)/rivulet node --test dashboard.test.js

# Fuzzing (fuzz/README.md): each target runs FUZZ_SECONDS, one at a time,
# from its committed seeds (fuzz/corpus/<target>) plus what earlier runs
# found (build/fuzz/corpus/<target>); crashes land in build/fuzz/artifacts/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_FLAGS ?= -timeout=10 -rss_limit_mb=2048 -max_len=65536
fuzz-build:
	$(MAKE) VARIANT=fuzz $(patsubst %,build/fuzz/fuzz/%,$(FUZZ_TARGETS))
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t build/fuzz/artifacts; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  dict=; [ -f fuzz/$$t.dict ] && dict=-dict=fuzz/$$t.dict; \
	  build/fuzz/fuzz/$$t $(FUZZ_FLAGS) $$dict -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/artifacts/$$t- build/fuzz/corpus/$$t fuzz/corpus/$$t; \
	done
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10
# CI: every target builds and passes its committed seeds, deterministically
# (no mutation), so a harness cannot fall behind the code unnoticed.
fuzz-seeds: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "== $$t: the seeds in fuzz/corpus/$$t"; \
	  build/fuzz/fuzz/$$t $(FUZZ_FLAGS) -runs=0 fuzz/corpus/$$t; \
	done

build/fuzz/fuzz/%: fuzz/%.c fuzz/fuzz.h build/fuzz/librivulet.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -DRV_SOURCE_DIR='"$(CURDIR)"' $< build/fuzz/librivulet.a \
	  $(LDFLAGS) $(LDLIBS) -o $@

# The M5 demo (README): synthetic data, warm-up, selection, the server, 28
# days of forecasts and learns, WRMSSE; then serves until Ctrl-C.
# DEMO_ARGS adds flags, e.g. make demo DEMO_ARGS='--series 3000' or '--exit'.
demo:
	$(MAKE) VARIANT=opt build/opt/rivulet
	build/opt/rivulet m5 demo --out build/m5_forecasts.csv $(DEMO_ARGS)

reference:
	$(MAKE) VARIANT=opt build/opt/rivulet-tests build/opt/rivulet
	RIVULET_REQUIRE_SHARED=1 RIVULET_BIN=$(CURDIR)/build/opt/rivulet \
	  build/opt/rivulet-tests --filter 'reference/*'

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
