#!/usr/bin/env python3
"""Faiss IndexFlatIP on the same raw float32 catalog and queries as bench/ranker_bench: one JSON
document with the median seconds per search for each catalog size, batch and k."""
import argparse
import json
import time

import faiss
import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--batches", default="1,64")
    parser.add_argument("--ks", default="10,100")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    args = parser.parse_args()

    faiss.omp_set_num_threads(args.threads)
    catalog = np.memmap(args.catalog, dtype=np.float32, mode="r").reshape(-1, args.dim)
    queries = np.fromfile(args.queries, dtype=np.float32).reshape(-1, args.dim)
    runs = []
    for n in (int(s) for s in args.sizes.split(",")):
        n = min(n, catalog.shape[0])
        index = faiss.IndexFlatIP(args.dim)
        # Sized once, then filled in blocks, so that a catalog near the memory size is never held
        # twice (growing the codes block by block would copy them at each doubling).
        index.codes.resize(n * args.dim * 4)
        index.codes.resize(0)
        for first in range(0, n, 1_000_000):
            index.add(np.ascontiguousarray(catalog[first:min(n, first + 1_000_000)]))
        for batch in (int(b) for b in args.batches.split(",")):
            q = np.ascontiguousarray(queries[:batch])
            for k in (int(v) for v in args.ks.split(",")):
                index.search(q, k)  # warm-up
                times = []
                begin = time.perf_counter()
                while len(times) < 3 or time.perf_counter() - begin < args.min_seconds:
                    start = time.perf_counter()
                    _, ids = index.search(q, k)
                    times.append(time.perf_counter() - start)
                    if len(times) >= 200:
                        break
                median = sorted(times)[len(times) // 2]
                runs.append({"n": n, "storage": "f32", "batch": batch, "k": k, "seconds": median,
                             "queries_per_s": batch / median,
                             "scan_gbs": n * args.dim * 4 / median / 1e9,
                             "first_ids": [int(i) for i in ids[0][:3]]})
        del index
    print(json.dumps({"implementation": f"faiss {faiss.__version__} IndexFlatIP",
                      "threads": args.threads, "dim": args.dim, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
