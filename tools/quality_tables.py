#!/usr/bin/env python3
"""Prints docs/quality.md's result tables (markdown) from `nowrec replay` and SASRec results files.

Each input is a results document in the shared schema (tools/interaction_split.py,
write_results). Documents of one protocol are merged in the order given; a method given twice
keeps its last entry. Per protocol: NDCG@10, HR@10, MRR, coverage@10, the cold-start cases' HR@10,
and the per-event latency (p50 and p99 wall, p99 CPU) where a method reports it.

Usage:
  python3 tools/quality_tables.py docs/quality/replay_loo_fused.json docs/quality/sasrec_loo.json \
      docs/quality/replay_temporal.json docs/quality/replay_temporal_fused.json ...
"""
from __future__ import annotations

import json
import pathlib
import sys

TITLES = {"leave_one_out": "leave-one-out", "temporal": "temporal", "streaming": "streaming"}


def main(paths: list[str]) -> int:
    protocols: dict[str, list[dict]] = {}
    for name in paths:
        document = json.loads(pathlib.Path(name).read_text(encoding="utf-8"))
        entries = protocols.setdefault(document["protocol"], [])
        for entry in document["results"]:
            entries[:] = [e for e in entries if e["method"] != entry["method"]]
            entries.append(entry)
    for protocol, entries in protocols.items():
        cases = max(e.get("cases", 0) for e in entries)
        cold = max(e.get("cold_start", {}).get("cases", 0) for e in entries)
        print(f"| {TITLES.get(protocol, protocol)} ({cases:,} cases) | NDCG@10 | HR@10 | MRR | "
              f"coverage@10 | cold HR@10 ({cold:,}) | p50 / p99 wall ms | p99 CPU ms |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        best = max(e["ndcg@10"] for e in entries)
        for e in entries:
            ndcg = f"{e['ndcg@10']:.4f}"
            if e["ndcg@10"] == best:
                ndcg = f"**{ndcg}**"
            cold_hr = e.get("cold_start", {}).get("hr@10")
            latency = e.get("latency_ms")
            wall = f"{latency['p50']:.2f} / {latency['p99']:.2f}" if latency else "-"
            cpu = f"{e['cpu_ms']['p99']:.2f}" if "cpu_ms" in e else "-"
            method = "SASRec, converged" if e["method"] == "sasrec" else f"`{e['method']}`"
            print(f"| {method} | {ndcg} | {e['hr@10']:.4f} | {e['mrr']:.4f} | "
                  f"{e['coverage@10']:.3f} | {'-' if cold_hr is None else f'{cold_hr:.4f}'} | "
                  f"{wall} | {cpu} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
