#!/bin/bash
# The command behind the alternating logs here: ranker_bench (int8 storage only) against two
# copies of libnowrec.so in turn, before the VNNI int8 dots (/tmp/lib-t1) and after them
# (/tmp/lib-vnni).
# usage: alternate.sh ROUNDS SIZES BATCHES
D=/tmp/nowrec-ranker-bench
for round in $(seq $1); do for lib in t1 vnni; do
  LD_LIBRARY_PATH=/tmp/lib-$lib OMP_NUM_THREADS=2 /work/main/build/bench/ranker_bench --catalog $D/catalog_1000000x384.f32 --queries $D/queries_64x384.f32 --sizes $2 --batches $3 --ks 10 --threads 2 --storages int8 2>&1 | grep '"n":' | python3 -c "
import sys,re
for l in sys.stdin:
    d=dict(re.findall(r'\"(\w+)\": \"?([\w.]+)',l)); print('$lib', 'round $round', 'n',d['n'],'batch',d['batch'],'ms',round(float(d['seconds'])*1e3,3),'GB/s',d['scan_gbs'],'probe',d.get('probe_gbs'))"
done; done
