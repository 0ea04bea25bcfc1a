#!/usr/bin/env bash
# Crash trials: TRIALS (default 1000) SIGKILLs at random moments while a child process writes
# tracker snapshots, then as many while it saves an item index; each trial checks that the file
# holds one complete save and that the next save leaves no temporary file. Needs a build in
# BUILD_DIR (default build). Results go in docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-1000}
build=${BUILD_DIR:-build}
cmake --build "$build" --target crash_trials
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
for kind in tracker index; do
  echo "== $kind: $trials trials"
  start=$(date +%s)
  "$build/tests/crash_trials" "$kind" "$trials" "$folder/$kind"
  echo "$kind: $(( $(date +%s) - start )) s"
done
