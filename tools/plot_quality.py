#!/usr/bin/env python3
"""Draws docs/quality.png from the results JSON files of `nowrec replay` and the SASRec peer.

The latency panels show per-event wall time (p50, p99) and the thread's CPU time (p99), which
leaves out the waits for a core on a shared machine; entries without latency (a peer that
reports none) are left out there.

Each input is a results document in the shared schema (tools/interaction_split.py,
write_results): {"protocol", "results": [{"method", "hr@10", "ndcg@10", "mrr", "latency_ms", ...}]}.
Leave-one-out documents (the replay's and docs/quality/sasrec_loo.json) share the left panels,
temporal documents (the replay's and docs/quality/sasrec_temporal.json) the middle ones, streaming
documents the right ones; a missing file is left out with a note on stderr. A method given twice
for one protocol (e.g. an older run) keeps its last entry.

Usage:
  python3 tools/plot_quality.py [--out docs/quality.png] \
      docs/quality/replay_loo.json docs/quality/sasrec_loo.json docs/quality/replay_streaming.json
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

METRICS = ("ndcg@10", "hr@10", "mrr")
COLOURS = {"ndcg@10": "#1f77b4", "hr@10": "#ff7f0e", "mrr": "#2ca02c"}


def load(paths: list[pathlib.Path]) -> dict[str, list[dict]]:
    """Results entries per protocol, in file order then method order."""
    by_protocol: dict[str, list[dict]] = {"leave_one_out": [], "temporal": [], "streaming": []}
    for path in paths:
        if not path.exists():
            print(f"plot_quality: {path} does not exist, left out", file=sys.stderr)
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        protocol = document.get("protocol")
        if protocol not in by_protocol:
            raise SystemExit(f"{path}: protocol {protocol!r} is not leave_one_out, temporal or "
                             "streaming")
        for entry in document["results"]:
            for key in ("method",) + METRICS:
                if key not in entry:
                    raise SystemExit(f"{path}: a result lacks '{key}'")
            entries = by_protocol[protocol]
            entries[:] = [e for e in entries if e["method"] != entry["method"]]
            entries.append(entry)
    return by_protocol


def bars(axis, entries: list[dict], title: str) -> None:
    if not entries:
        axis.set_axis_off()
        axis.set_title(f"{title}: no results")
        return
    width = 0.8 / len(METRICS)
    for i, metric in enumerate(METRICS):
        xs = [j + (i - (len(METRICS) - 1) / 2) * width for j in range(len(entries))]
        values = [entry[metric] for entry in entries]
        axis.bar(xs, values, width, label=metric, color=COLOURS[metric])
        for x, v in zip(xs, values):
            axis.text(x, v, f"{v:.3f}", ha="center", va="bottom", fontsize=6, rotation=90)
    axis.set_xticks(range(len(entries)))
    axis.set_xticklabels([e["method"] for e in entries], rotation=30, ha="right", fontsize=8)
    axis.set_title(title)
    axis.set_ylim(0, max(max(e[m] for m in METRICS) for e in entries) * 1.25)
    axis.legend(fontsize=7)
    axis.grid(axis="y", alpha=0.3)


def latency(axis, entries: list[dict], title: str) -> None:
    timed = [e for e in entries if "latency_ms" in e]
    if not timed:
        axis.set_axis_off()
        axis.set_title(f"{title}: no latency")
        return
    xs = range(len(timed))
    series = [("p50 wall", lambda e: e["latency_ms"]["p50"]),
              ("p99 wall", lambda e: e["latency_ms"]["p99"]),
              ("p99 CPU", lambda e: e.get("cpu_ms", {}).get("p99", 0.0))]
    width = 0.8 / len(series)
    for i, (label, value) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        axis.bar([x + offset for x in xs], [value(e) for e in timed], width, label=label)
    axis.axhline(5.0, color="red", linestyle="--", linewidth=0.8, label="5 ms")
    axis.set_xticks(list(xs))
    axis.set_xticklabels([e["method"] for e in timed], rotation=30, ha="right", fontsize=8)
    axis.set_ylabel("ms per event (update + rank)")
    axis.set_yscale("log")
    axis.set_title(title)
    axis.legend(fontsize=7)
    axis.grid(axis="y", alpha=0.3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("docs/quality.png"))
    args = parser.parse_args()
    data = load(args.inputs)
    figure, axes = plt.subplots(2, 3, figsize=(18, 8.5))
    bars(axes[0][0], data["leave_one_out"], "Leave-one-out test (ml-latest-small)")
    bars(axes[0][1], data["temporal"], "Temporal split test (events after the cut)")
    bars(axes[0][2], data["streaming"], "Streaming (every event from a user's 2nd)")
    latency(axes[1][0], data["leave_one_out"], "Leave-one-out latency")
    latency(axes[1][1], data["temporal"], "Temporal latency")
    latency(axes[1][2], data["streaming"], "Streaming latency")
    figure.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=110)
    print(f"plot_quality: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
