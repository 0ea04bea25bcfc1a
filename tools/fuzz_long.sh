#!/usr/bin/env bash
# Long fuzzing measured in processor time: runs each fuzz target in rounds of tools/fuzz.sh
# (ROUND_SECONDS of wall-clock time each, default 900, merging what a round found into
# fuzz/corpus/<target>) until the rounds of this invocation have used CPU_SECONDS of CPU time
# for that target. A fuzzer that shares the machine gets less CPU than wall-clock time, so
# the CPU time each round used (from build-fuzz/fuzz-runs.log) decides when a target is done.
#
#   tools/fuzz_long.sh CPU_SECONDS [ROUND_SECONDS]
#
# FUZZ_TARGETS="fuzz_a fuzz_b" runs only those targets, in that order (default: every
# fuzz/fuzz_*.cpp). Two invocations with different targets may run side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
goal=${1:?usage: tools/fuzz_long.sh CPU_SECONDS [ROUND_SECONDS]}
round=${2:-900}
targets=${FUZZ_TARGETS:-$(find fuzz -maxdepth 1 -name 'fuzz_*.cpp' -printf '%f\n' | sed 's/\.cpp$//' | sort)}

for name in $targets; do
  used=0
  while [ "$used" -lt "$goal" ]; do
    FUZZ_TARGETS=$name tools/fuzz.sh "$round" --merge
    last=$(grep " $name " build-fuzz/fuzz-runs.log | tail -n 1 | grep -o 'cpu_seconds=[0-9]*' | cut -d= -f2)
    if [ -z "$last" ] || [ "$last" -eq 0 ]; then
      echo "$name: a round of $round s used no CPU time; stopping"
      exit 1
    fi
    used=$((used + last))
    echo "$name: $used of $goal CPU seconds"
  done
  echo "$(date -u +%Y-%m-%dT%H:%MZ) $name long run done: $used CPU seconds" >>build-fuzz/fuzz-runs.log
done
