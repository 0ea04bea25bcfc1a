#!/usr/bin/env python3
"""Draws the ranker benchmark table (what bench/run_ranker_bench.sh prints) as a bar chart.

Usage: bench/run_ranker_bench.sh build 2 | tee ranker.txt
       python3 bench/plot_ranker_bench.py ranker.txt docs/ranker_bench.png
Needs: pip install matplotlib.
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_table(path):
    """Rows of (n, batch, k, faiss_ms, storage, nowrec_ms) from the printed table."""
    rows = []
    header = ""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("dim "):
                header = line.strip()
            fields = line.split()
            if len(fields) >= 6 and fields[0].isdigit() and fields[4] in ("f32", "bf16", "int8"):
                rows.append((int(fields[0]), int(fields[1]), int(fields[2]), float(fields[3]),
                             fields[4], float(fields[5])))
    if not rows:
        sys.exit(f"{path}: no benchmark rows found")
    return header, rows


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_ranker_bench.py TABLE.txt OUT.png")
    header, rows = read_table(sys.argv[1])
    cases = sorted({(n, b, k) for n, b, k, *_ in rows})
    series = {"Faiss IndexFlatIP": {}, "nowrec f32": {}, "nowrec bf16": {}, "nowrec int8": {}}
    for n, b, k, faiss_ms, storage, ours_ms in rows:
        series["Faiss IndexFlatIP"][(n, b, k)] = faiss_ms
        series[f"nowrec {storage}"][(n, b, k)] = ours_ms

    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series.items()):
        xs = [c + (i - (len(series) - 1) / 2) * width for c in range(len(cases))]
        ax.bar(xs, [values.get(case, 0) for case in cases], width, label=name)
    ax.set_yscale("log")
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels([f"{n // 1000}k\nbatch {b}\nk {k}" for n, b, k in cases], fontsize=8)
    ax.set_ylabel("ms per call (log scale, lower is better)")
    ax.set_title("Exact top-k, d = 384: " + header.split(",")[1].strip() + ", "
                 + header.split(",")[3].strip(), fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
