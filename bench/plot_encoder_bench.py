#!/usr/bin/env python3
"""Draws bench/run_encoder_bench.sh's results as the PNG that docs/performance.md shows.

A panel per workload with each implementation's result, and one of achieved matmul GFLOP/s with
oneDNN's own rate on the same shapes as the ceiling.

Usage: plot_encoder_bench.py RESULTS_JSON [OUT_PNG]   (default OUT_PNG: docs/encoder_bench.png)
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    results = json.load(open(sys.argv[1]))
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "docs", "encoder_bench.png")
    rows = results["rows"]
    names = [r["implementation"].replace(" (torch", "\n(torch") for r in rows]
    colours = ["#1f77b4", "#2ca02c", "#ff7f0e", "#d62728"][:len(rows)]
    panels = [
        ("(a) one 16-token text: p50 latency, ms\n(lower is better; whisker: p99; log scale)", "a_p50_ms",
         "a_p99_ms"),
        ("(b) 32 titles a call: texts/s", "b_texts_per_s", None),
        ("(c) 64 x 128 tokens a call: tokens/s", "c_tokens_per_s", None),
        ("matmul GFLOP/s achieved on (a)/(b)/(c)\nlines: oneDNN alone, f32 (dashed), bf16 (dotted)",
         None, None),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.8))
    for ax, (title, key, whisker) in zip(axes, panels):
        ax.set_title(title, fontsize=10)
        if key:
            values = [r[key] for r in rows]
            bars = ax.barh(names, values, color=colours)
            if whisker:
                ax.errorbar(values, range(len(rows)),
                            xerr=[[0] * len(rows), [r[whisker] - r[key] for r in rows]],
                            fmt="none", ecolor="black", capsize=3)
                # p99 under a shared machine's load can be 100 times p50.
                ax.set_xscale("log")
            for i, (bar, value) in enumerate(zip(bars, values)):
                label = f" {value:,.1f}" if value < 100 else f" {value:,.0f}"
                if whisker:
                    label += f" / p99 {rows[i][whisker]:,.0f}"
                ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2 - 0.25, label,
                        va="center", fontsize=8)
            ax.invert_yaxis()
            ax.margins(x=0.25)
        else:
            workloads = ["a", "b", "c"]
            width = 0.8 / len(rows)
            for i, r in enumerate(rows):
                ax.bar([w + i * width for w in range(3)], [r[f"{x}_gflops"] for x in workloads],
                       width, color=colours[i], label=r["key"])
            runs = [run for run in results["onednn"]["runs"] if "gflops" in run]
            for dtype, style in (("f32", "--"), ("bf16", ":")):
                rates = [run["gflops"] for run in runs if run["dtype"] == dtype]
                for w, rate in enumerate(rates[:3]):
                    ax.hlines(rate, w - 0.1, w + 0.9, colors="black", linestyles=style)
            ax.set_xticks([w + 0.4 - width / 2 for w in range(3)], ["(a)", "(b)", "(c)"])
            ax.legend(fontsize=7, loc="upper left")
    for ax in axes[1:3]:
        ax.set_yticklabels([])
    fig.suptitle(f"all-MiniLM-L6-v2 on the CPU, {results['threads']} threads, same inputs for all "
                 f"(load average at the end: {' '.join(results['loadavg'])})", fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    print(out)


if __name__ == "__main__":
    main()
