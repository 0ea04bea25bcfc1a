#!/bin/bash
# Runs several builds of interest_tracker_bench (copies of the binary) in turn, round after
# round, against the library in build/src:
#   alternate_binaries.sh ROUNDS FILTER BINARY...
root=$(git rev-parse --show-toplevel)
rounds=$1; filter=$2; shift 2
export NOWREC_BENCH_USERS=${NOWREC_BENCH_USERS:-1000000} NOWREC_BENCH_DTYPE=bf16 NOWREC_BENCH_STORE=index NOWREC_BENCH_DIR=/tmp/tb
for r in $(seq $rounds); do for b in "$@"; do
  echo "round $r, $b"
  LD_LIBRARY_PATH=$root/build/src $b --benchmark_filter="$filter" 2>&1 | grep -E '^(update|state|interests)' | sed -E 's/ +/ /g' | cut -d' ' -f1,5-
done; done
