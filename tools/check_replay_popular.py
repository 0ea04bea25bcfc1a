#!/usr/bin/env python3
"""Recomputes `nowrec replay`'s popular method with tools/interaction_split.py and compares.

The C++ replay and the Python tools must score a method the same way. This script takes the
window that `nowrec replay` chose for `popular` (from its results JSON), ranks every
leave-one-out target (validation and test) by the number of interactions of each item in
[target time - window, target time) over the whole log, with interaction_split's ranks (ties by
item id, seen items excluded) and metrics, and checks that hr@10, ndcg@10, mrr, coverage@10 and
the cold-start subset equal the JSON's (to 1e-9).

Usage:
  python3 tools/check_replay_popular.py --data examples/data/ml-latest-small \
      --results docs/quality/replay_loo.json [--limit-users N]
Exit status 0 when every number agrees, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import interaction_split as isp  # noqa: E402

DAY = 86400


def popular_results(data: pathlib.Path, window_days: float, limit_users: int) -> dict:
    interactions = isp.load_interactions(data / "ratings.csv")
    item_ids = np.asarray(isp.load_catalog(data / "movies.csv"), dtype=np.int64)
    row_of = {int(item): row for row, item in enumerate(item_ids)}
    times = np.asarray([r.timestamp for r in interactions], dtype=np.int64)
    rows = np.asarray([row_of[r.item] for r in interactions], dtype=np.int64)
    window = int(round(window_days * DAY))

    def counts_before(now: int) -> np.ndarray:
        end = int(np.searchsorted(times, now, side="left"))
        begin = 0 if window == 0 else int(np.searchsorted(times, now - window, side="left"))
        return np.bincount(rows[begin:end], minlength=len(item_ids)).astype(np.float64)

    splits = isp.leave_one_out(interactions)
    trained = isp.training_items(splits)
    users = [s for s in splits.values() if s.has_targets]
    if limit_users:
        users = users[:limit_users]
    results = {}
    for name in ("validation", "test"):
        accumulator = isp.RankingAccumulator(item_ids, cold_reference=trained)
        for split in users:
            if name == "validation":
                target, now, history = split.valid_item, split.valid_timestamp, split.valid_history()
            else:
                target, now, history = split.test_item, split.test_timestamp, split.test_history()
            accumulator.add(counts_before(now), target, excluded=history)
        results[name] = accumulator.result("popular", settings={"window_days": window_days})
    return results


def compare(label: str, expected: dict, actual: dict) -> bool:
    ok = True
    for key in ("hr@10", "ndcg@10", "mrr", "coverage@10"):
        same = abs(expected[key] - actual[key]) <= 1e-9
        ok &= same
        print(f"{label:10s} {key:12s} python {expected[key]:.10f}  replay {actual[key]:.10f}"
              f"  {'ok' if same else 'DIFFERENT'}")
    for key in ("cases", "hr@10", "ndcg@10"):
        e, a = expected["cold_start"][key], actual["cold_start"][key]
        same = abs(e - a) <= 1e-9
        ok &= same
        print(f"{label:10s} cold {key:7s} python {e:.10f}  replay {a:.10f}  {'ok' if same else 'DIFFERENT'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=pathlib.Path, default=pathlib.Path("examples/data/ml-latest-small"))
    parser.add_argument("--results", type=pathlib.Path, default=pathlib.Path("docs/quality/replay_loo.json"))
    parser.add_argument("--limit-users", type=int, default=None,
                        help="default: the replay's own limit_users setting")
    args = parser.parse_args()
    document = json.loads(args.results.read_text(encoding="utf-8"))
    if document.get("protocol") != "leave_one_out":
        print(f"{args.results}: protocol {document.get('protocol')!r}, expected leave_one_out")
        return 1
    entry = next((r for r in document["results"] if r["method"] == "popular"), None)
    if entry is None:
        print(f"{args.results}: no 'popular' result")
        return 1
    limit = args.limit_users if args.limit_users is not None else document.get("replay", {}).get("limit_users", 0)
    expected = popular_results(args.data, float(entry["settings"]["window_days"]), int(limit or 0))
    ok = compare("validation", expected["validation"], entry["validation"])
    ok &= compare("test", expected["test"], entry)
    print("popular: C++ replay and tools/interaction_split.py agree" if ok else "popular: MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
