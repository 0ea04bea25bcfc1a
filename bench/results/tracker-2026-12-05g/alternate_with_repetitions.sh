#!/usr/bin/env bash
# /tmp/ab.sh ROUNDS REPS "ENV1" LIB1 "ENV2" LIB2 ... ; prints median per run
cd /work/main
rounds=$1; reps=$2; shift 2
export NOWREC_BENCH_USERS=${NOWREC_BENCH_USERS:-1000000} NOWREC_BENCH_DTYPE=bf16 NOWREC_BENCH_STORE=index NOWREC_BENCH_DIR=$(mktemp -d)
F=${FILTER:-'update_batch/batch:1024/store:1/new_every:0/min_time:2.000/real_time/threads:2'}
for r in $(seq $rounds); do
  set -- "$@"
  args=("$@")
  for ((i=0;i<${#args[@]};i+=2)); do
    e=${args[i]}; lib=${args[i+1]}
    v=$(env $e LD_LIBRARY_PATH=$lib build/bench/interest_tracker_bench --benchmark_filter="$F" --benchmark_repetitions=$reps 2>&1 | grep -v '_mean\|_median\|_stddev\|_cv' | grep -o 'items_per_second=[0-9.]*[kM]' | sed 's/items_per_second=//' | tr '\n' ' ')
    echo "round $r  $e $lib: $v"
  done
done
