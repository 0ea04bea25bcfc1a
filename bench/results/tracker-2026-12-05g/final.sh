#!/usr/bin/env bash
# The session's last measurements: the library as the session found it (LIBDIR_BEFORE) and as it
# left it (LIBDIR_AFTER), alternating, every tracker benchmark the notes quote.
#   final.sh ROUNDS LIBDIR_BEFORE LIBDIR_AFTER
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=$1
filter='(update_batch/batch:1024/store:./new_every:(0|10)/min_time:2.000/real_time/threads:2|update_latency|state_access_ceiling/ahead:1/item:./min_time:2.000/real_time/threads:2|read_bandwidth)'
NOWREC_BENCH_USERS=1000000 bash bench/alternate_tracker_libraries.sh "$rounds" "$filter" "$2" "$3"
