#!/bin/bash
# Runs build/bench/interest_tracker_bench under several settings in turn, round after round:
#   alternate_settings.sh ROUNDS FILTER "VAR=value" ...
root=$(git rev-parse --show-toplevel)
rounds=$1; filter=$2; shift 2
export NOWREC_BENCH_USERS=${NOWREC_BENCH_USERS:-1000000} NOWREC_BENCH_DTYPE=bf16 NOWREC_BENCH_STORE=index NOWREC_BENCH_DIR=/tmp/tb
for r in $(seq $rounds); do for e in "$@"; do
  echo "round $r, $e"
  env $e LD_LIBRARY_PATH=$root/build/src $root/build/bench/interest_tracker_bench --benchmark_filter="$filter" 2>&1 | grep -E '^(update|state|interests)' | sed -E 's/ +/ /g' | cut -d' ' -f1,5- | sed -E 's/ state_GB.*//'
done; done
