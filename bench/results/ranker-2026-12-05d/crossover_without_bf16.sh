#!/bin/bash
# The fused scan against the matrix product around their crossover (../ranker-2026-12-05c/
# crossover.sh: 1M x 384 rows, 2 threads, k = 10, alternating) on an AVX-512 machine without
# AVX512_BF16 / AVX512_VNNI, imitated on one that has them: our kernels limited to the plain
# AVX-512 table (NOWREC_CPU_ISA=avx512) and oneDNN to AVX512_CORE (DNNL_MAX_CPU_ISA).
# usage: [SPECS="f32:8,16"] crossover_without_bf16.sh ROUNDS
set -euo pipefail
cd "$(dirname "$0")/../../.."
export NOWREC_CPU_ISA=avx512 DNNL_MAX_CPU_ISA=AVX512_CORE ONEDNN_MAX_CPU_ISA=AVX512_CORE
export SPECS=${SPECS:-f32:8,12,16,24 bf16:6,8,12,16,24 int8:24,32,48,64}
exec bash bench/results/ranker-2026-12-05c/crossover.sh "$1"
