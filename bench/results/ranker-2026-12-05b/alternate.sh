#!/bin/bash
# The command behind the logs here: ranker_bench (int8 storage only) against two copies of
# libnowrec.so in turn, the library before the int16-query kernel (old) and after it (new),
# copied to /tmp/lib-int8-old and /tmp/lib-int8-new. EXTRA passes more ranker_bench options.
# usage: int8ab.sh ROUNDS SIZES BATCHES CATALOG
D=/tmp/nowrec-ranker-bench
for round in $(seq $1); do for lib in old new; do
  LD_LIBRARY_PATH=/tmp/lib-int8-$lib OMP_NUM_THREADS=2 /work/main/build/bench/ranker_bench --catalog $4 --queries $D/queries_64x384.f32 --sizes $2 --batches $3 --ks 10 --threads 2 --storages int8 ${EXTRA:-} 2>&1 | grep '"n":' | python3 -c "
import sys,re
for l in sys.stdin:
    d=dict(re.findall(r'\"(\w+)\": ([\d.]+)',l)); print('$lib', 'round $round', 'n',d['n'],'batch',d['batch'],'ms',float(d['seconds'])*1e3,'GB/s',d['scan_gbs'],'probe',d['probe_gbs'])"
done; done
