#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build nowrec, run the demo on the
# default model: real MovieLens users (examples/data) replayed through the InterestTracker. The
# first run embeds the 9,742 movie texts into build/catalog-cache; later runs reuse them.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install_dependencies.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target nowrec_cli
./build/src/nowrec demo "$@"
