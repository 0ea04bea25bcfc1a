#!/bin/bash
# The fused scan (--matmul-min-queries 1000) against the matrix product (1) around their
# crossover on an AVX-512 machine without AVX512_BF16 / AVX512_VNNI, imitated on one that has
# them: our kernels limited to the plain AVX-512 table (NOWREC_CPU_ISA=avx512) and oneDNN to
# AVX512_CORE (DNNL_MAX_CPU_ISA). 1M x 384 rows, 2 threads, k = 10, alternating.
# usage: [SPECS="f32:8,16"] crossover_without_bf16.sh ROUNDS
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=${NOWREC_RANKER_DATA:-/tmp/nowrec-ranker-bench}
export NOWREC_CPU_ISA=avx512 DNNL_MAX_CPU_ISA=AVX512_CORE ONEDNN_MAX_CPU_ISA=AVX512_CORE OMP_NUM_THREADS=2
for round in $(seq "$1"); do
  for spec in ${SPECS:-f32:8,12,16,24 bf16:6,8,12,16,24 int8:24,32,48,64}; do
    for mm in 1000 1; do
      build/bench/ranker_bench --catalog $D/catalog_1000000x384.f32 \
        --queries $D/queries_64x384.f32 --sizes 1000000 --batches ${spec#*:} --ks 10 --threads 2 \
        --storages ${spec%%:*} --matmul-min-queries $mm 2>&1 | grep '"n":' | python3 -c "
import sys,re
for l in sys.stdin:
    d=dict(re.findall(r'\"(\w+)\": \"?([\w.]+)',l))
    print('round $round', d['storage'], 'batch', d['batch'], 'fused' if $mm == 1000 else 'matmul', 'ms', round(float(d['seconds'])*1e3, 2))"
    done
  done
done
