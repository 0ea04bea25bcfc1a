#!/usr/bin/env python3
"""Prints bench/gpu_check.sh's results (JSON lines from gpu_encoder_bench and gpu_peer.py) as
one Markdown table: each workload's metric for nowrec f16, nowrec bf16 and PyTorch fp16, the
ratio of nowrec f16 to PyTorch, and the achieved TFLOP/s beside cuBLASLt's on the same shapes.

Usage: gpu_table.py results.jsonl
"""

import json
import sys

ROWS = [
    ("latency_16", "p50", "one 16-token text, p50 latency (text in)", "lower"),
    ("latency_16", "p99", "one 16-token text, p99 latency (text in)", "lower"),
    ("latency_16_ids", "p50", "one 16-token text, p50 latency (ids in)", "lower"),
    ("titles_256", "texts_per_s", "256 mixed-length titles, one call", "higher"),
    ("tokens_128", "tokens_per_s", "1024 texts of 128 tokens (ids in)", "higher"),
    ("tokens_128", "tflops", "  achieved TFLOP/s on that workload", "higher"),
    ("cublaslt_gemms", "tflops", "  cuBLASLt alone, same matmul shapes (8192 rows)", "higher"),
]
IMPLS = ["nowrec_f16", "nowrec_bf16", "torch_fp16"]


def main():
    values, units, infos = {}, {}, {}
    with open(sys.argv[1], encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            if "info" in record:
                infos[record["impl"]] = record["info"]
                continue
            key = (record["workload"], record["metric"])
            values[(record["impl"],) + key] = record["value"]
            units[key] = record["unit"]
    for impl, info in infos.items():
        print(f"- {impl}: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    print()
    print("| workload | unit | nowrec f16 | nowrec bf16 | PyTorch fp16 | nowrec f16 vs PyTorch |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for workload, metric, label, better in ROWS:
        key = (workload, metric)
        if key not in units:
            continue
        cells = []
        for impl in IMPLS:
            value = values.get((impl,) + key)
            cells.append("–" if value is None else f"{value:,.3f}" if value < 10 else f"{value:,.0f}")
        ours, theirs = values.get(("nowrec_f16",) + key), values.get(("torch_fp16",) + key)
        ratio = "–"
        if ours and theirs:
            ratio = f"{(theirs / ours if better == 'lower' else ours / theirs):.2f}x"
        print(f"| {label} | {units[key]} | " + " | ".join(cells) + f" | {ratio} |")


if __name__ == "__main__":
    main()
