#!/bin/bash
# alternate_pairs.sh ROUNDS FILTER BINARY:LIBDIR ...
rounds=$1; filter=$2; shift 2
export NOWREC_BENCH_USERS=${NOWREC_BENCH_USERS:-1000000} NOWREC_BENCH_DTYPE=bf16 NOWREC_BENCH_STORE=index NOWREC_BENCH_DIR=/tmp/tb
for r in $(seq $rounds); do for pair in "$@"; do
  echo "round $r, $pair"
  LD_LIBRARY_PATH=${pair#*:} ${pair%%:*} --benchmark_filter="$filter" 2>&1 | grep -E '^(update|state|interests)' | sed -E 's/ +/ /g' | cut -d' ' -f1,5- | sed -E 's/ state_GB.*//'
done; done
