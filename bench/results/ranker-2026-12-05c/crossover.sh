#!/bin/bash
# The fused scan (--matmul-min-queries 1000) against the matrix product (1) around their
# crossover, alternating, 1M x 384 rows, 2 threads, k = 10.
# usage: [SPECS="int8:32,40"] crossover.sh ROUNDS
D=/tmp/nowrec-ranker-bench
for round in $(seq $1); do
  for spec in ${SPECS:-f32:4,5,6,8 bf16:3,4,6 int8:16,24,32}; do
    for mm in 1000 1; do
      OMP_NUM_THREADS=2 /work/main/build/bench/ranker_bench --catalog $D/catalog_1000000x384.f32 \
        --queries $D/queries_64x384.f32 --sizes 1000000 --batches ${spec#*:} --ks 10 --threads 2 \
        --storages ${spec%%:*} --matmul-min-queries $mm 2>&1 | grep '"n":' | python3 -c "
import sys,re
for l in sys.stdin:
    d=dict(re.findall(r'\"(\w+)\": \"?([\w.]+)',l))
    print('round $round', d['storage'], 'batch', d['batch'], 'fused' if $mm == 1000 else 'matmul', 'ms', round(float(d['seconds'])*1e3, 2))"
    done
  done
done
