#!/usr/bin/env bash
# Runs build/bench/interest_tracker_bench against several builds of libnowrec in turn, round
# after round, each run with Google Benchmark repetitions, and prints each run's items/s.
#
#   FILTER=... alternate_with_repetitions.sh ROUNDS REPETITIONS ENV1 LIBDIR1 [ENV2 LIBDIR2 ...]
#
# ENVn is one NAME=value set for that run (X=1 for none), so one library can run under several
# settings read from the environment. FILTER defaults to the batches from the item store on two
# threads; NOWREC_BENCH_USERS defaults to 1,000,000.
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=$1
repetitions=$2
shift 2
export NOWREC_BENCH_USERS=${NOWREC_BENCH_USERS:-1000000} NOWREC_BENCH_DTYPE=bf16
export NOWREC_BENCH_STORE=index NOWREC_BENCH_DIR=${NOWREC_BENCH_DIR:-$(mktemp -d)}
filter=${FILTER:-'update_batch/batch:1024/store:1/new_every:0/min_time:2.000/real_time/threads:2'}
runs=("$@")
for round in $(seq "$rounds"); do
  for ((i = 0; i < ${#runs[@]}; i += 2)); do
    setting=${runs[i]}
    library=${runs[i + 1]}
    rates=$(env "$setting" LD_LIBRARY_PATH="$library" build/bench/interest_tracker_bench \
      --benchmark_filter="$filter" --benchmark_repetitions="$repetitions" 2>&1 |
      grep -v '_mean\|_median\|_stddev\|_cv' | grep -o 'items_per_second=[0-9.]*[kM]' |
      sed 's/items_per_second=//' | tr '\n' ' ')
    echo "round $round  $setting $library: $rates"
  done
done
