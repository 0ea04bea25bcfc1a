#!/usr/bin/env bash
# Runs bench/ranker_bench (nowrec: f32, bf16, int8 storage) and bench/ranker_peer.py (Faiss
# IndexFlatIP) on the same random unit vectors, catalog sizes, batches, k and thread count, and
# prints one table with each batch-1 scan as a fraction of the read bandwidth measured (by the
# same binary, on the same threads) just before it.
#
# Usage: bench/run_ranker_bench.sh BUILD_DIR [THREADS] [SIZES] [MIN_SECONDS]
# Needs numpy and faiss-cpu (pip install faiss-cpu). The vectors (1.5 GB for 1M x 384) are made
# once under ${NOWREC_BENCH_DATA:-/tmp/nowrec-ranker-bench}.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?usage: run_ranker_bench.sh BUILD_DIR [THREADS] [SIZES] [MIN_SECONDS]}"
threads="${2:-2}"
sizes="${3:-100000,1000000}"
min_seconds="${4:-1.0}"
dim=384
data="${NOWREC_BENCH_DATA:-/tmp/nowrec-ranker-bench}"
bench="$build/bench/ranker_bench"
[[ -x "$bench" ]] || { echo "no $bench: build the ranker_bench target first" >&2; exit 1; }

max_rows="$(python3 -c "print(max(int(s) for s in '$sizes'.split(',')))")"
mkdir -p "$data"
catalog="$data/catalog_${max_rows}x${dim}.f32"
queries="$data/queries_64x${dim}.f32"
if [[ ! -f "$catalog" || ! -f "$queries" ]]; then
  python3 - "$catalog" "$queries" "$max_rows" "$dim" <<'PY'
import sys
import numpy as np
catalog, queries, rows, dim = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(42)
with open(catalog, "wb") as out:
    for first in range(0, rows, 100_000):
        block = rng.standard_normal((min(100_000, rows - first), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        block.tofile(out)
q = rng.standard_normal((64, dim), dtype=np.float32)
q /= np.linalg.norm(q, axis=1, keepdims=True)
q.tofile(queries)
PY
fi

# Both sides' JSON stays here, so a run that stops half way keeps what it measured.
out="$data/results-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
echo "results in $out" >&2
args=(--catalog "$catalog" --queries "$queries" --dim "$dim" --sizes "$sizes" --batches 1,64
      --ks 10,100 --threads "$threads" --min-seconds "$min_seconds")
OMP_NUM_THREADS="$threads" "$bench" "${args[@]}" >"$out/ours.json"
OMP_NUM_THREADS="$threads" python3 "$here/ranker_peer.py" "${args[@]}" >"$out/peer.json"

python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
ours = json.load(open(os.path.join(out, "ours.json")))
peer = json.load(open(os.path.join(out, "peer.json")))
bandwidth = ours["read_bandwidth_gbs"]
faiss = {(r["n"], r["batch"], r["k"]): r for r in peer["runs"]}
print(f"dim {ours['dim']}, threads {ours['threads']}, nowrec isa {ours['isa']}, "
      f"peer {peer['implementation']}, measured read bandwidth {bandwidth:.1f} GB/s")
print(f"{'n':>8} {'batch':>5} {'k':>4} {'faiss ms':>9} {'storage':>7} {'nowrec ms':>10} "
      f"{'speedup':>8} {'scan GB/s':>9} {'probe':>6} {'% bw':>5} {'same top-3':>10}")
for run in ours["runs"]:
    ref = faiss.get((run["n"], run["batch"], run["k"]))
    speed = ref["seconds"] / run["seconds"] if ref else float("nan")
    same = ("yes" if ref and ref["first_ids"] == run["first_ids"] else "no") if ref else "-"
    # Against a probe of the read bandwidth taken just before this run (the machine is shared).
    probe = run.get("probe_gbs", 0.0)
    share = f"{100 * run['scan_gbs'] / probe:5.0f}" if run["batch"] == 1 and probe else "    -"
    print(f"{run['n']:>8} {run['batch']:>5} {run['k']:>4} {1000 * ref['seconds']:>9.2f} "
          f"{run['storage']:>7} {1000 * run['seconds']:>10.2f} {speed:>7.2f}x "
          f"{run['scan_gbs']:>9.1f} {probe or float('nan'):>6.1f} {share} {same:>10}")
PY
