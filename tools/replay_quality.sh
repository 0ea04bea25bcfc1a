#!/usr/bin/env bash
# The replays behind docs/quality.md's current tables: leave-one-out with every method, and the
# temporal split with the counting methods and the fused Recommender (the text and learned
# methods' temporal results are in docs/quality/replay_temporal*.json). Each fused run also writes
# the RecommenderConfig it chose beside its model. One thread per ranking, as a server would.
#   bash tools/replay_quality.sh [build-dir] [catalog-cache]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cache=${2:-$build/catalog-ml}
data=examples/data/ml-latest-small
models=examples/models

"$build/src/nowrec" replay --data "$data" --cache "$cache" --threads 1 \
  --methods popular,cooccurrence,covisitation,text,text+prior,learned,learned+prior,fused \
  --next-interest-model "$models/next-interest-ml-latest-small" \
  --write-config "$models/next-interest-ml-latest-small/recommender.json" \
  --out docs/quality/replay_loo_fused.json

"$build/src/nowrec" replay --data "$data" --cache "$cache" --threads 1 --protocol temporal \
  --methods popular,cooccurrence,covisitation,fused \
  --next-interest-model "$models/next-interest-ml-latest-small-temporal" \
  --write-config "$models/next-interest-ml-latest-small-temporal/recommender.json" \
  --out docs/quality/replay_temporal_fused.json
