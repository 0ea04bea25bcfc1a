#!/usr/bin/env bash
# Runs build/bench/interest_tracker_bench against several builds of libnowrec in turn, round after
# round, so that machines whose speed drifts from minute to minute compare builds fairly.
#
#   bench/alternate_tracker_libraries.sh ROUNDS FILTER LIBDIR...
#
# Each LIBDIR holds a copy of a build's libnowrec.so* (the benchmark binary is the one in
# build/bench, and the library is chosen with LD_LIBRARY_PATH). FILTER is a Google Benchmark
# filter, e.g. 'update_latency/new_every:10' or 'update_batch/batch:1024/store:1'. The
# benchmark's settings come from the environment as usual (NOWREC_BENCH_USERS, default
# 1000000 here; NOWREC_BENCH_DTYPE, default bf16; NOWREC_BENCH_STORE, default index).
# Prints one block per round and build: each benchmark's name and its counters.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=$1
filter=$2
shift 2
export NOWREC_BENCH_USERS=${NOWREC_BENCH_USERS:-1000000}
export NOWREC_BENCH_DTYPE=${NOWREC_BENCH_DTYPE:-bf16}
export NOWREC_BENCH_STORE=${NOWREC_BENCH_STORE:-index}
export NOWREC_BENCH_DIR=${NOWREC_BENCH_DIR:-$(mktemp -d)}
for round in $(seq "$rounds"); do
  for library in "$@"; do
    echo "round $round, $library"
    LD_LIBRARY_PATH=$library build/bench/interest_tracker_bench --benchmark_filter="$filter" 2>&1 |
      grep -E '^(update|interests|read_bandwidth|state_access)' |
      sed -E 's/ +/ /g' | cut -d' ' -f1,5-
  done
done
