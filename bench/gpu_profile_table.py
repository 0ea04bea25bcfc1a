"""Each kernel's share of one profiled encoder pass, from `ncu --csv --print-units base
--metrics gpu__time_duration.sum` (bench/gpu_check.sh), as a Markdown table: kernels grouped
by name, matmul kernels (cuBLASLt) marked, and the matmul share of the summed kernel time.

Usage: python3 bench/gpu_profile_table.py profile.csv
"""

import csv
import re
import sys
from collections import defaultdict

MATMUL = re.compile(r"gemm|xmma|nvjet|cutlass|sm90_|splitKreduce", re.IGNORECASE)


def short_name(name: str) -> str:
    """The kernel's name without its template and call arguments."""
    name = re.sub(r"\(.*$", "", name)
    depth, kept = 0, []
    for char in name:
        if char == "<":
            depth += 1
        elif char == ">":
            depth -= 1
        elif depth == 0:
            kept.append(char)
    name = "".join(kept).strip()
    return name.rsplit(" ", 1)[-1][:70]


def main(path: str) -> int:
    rows = [line for line in open(path, encoding="utf-8", errors="replace") if line.startswith('"')]
    if not rows:
        print(f"no kernel rows in {path}")
        return 1
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for record in csv.DictReader(rows):
        if record.get("Metric Name") != "gpu__time_duration.sum":
            continue
        name = short_name(record["Kernel Name"])
        totals[name] += float(record["Metric Value"].replace(",", ""))
        counts[name] += 1
    all_ns = sum(totals.values())
    matmul_ns = sum(ns for name, ns in totals.items() if MATMUL.search(name))
    print(f"kernels: {sum(counts.values())}, summed kernel time {all_ns / 1e3:.1f} us, "
          f"matmul share {matmul_ns / all_ns:.0%}\n")
    print("| kernel | launches | total us | share | matmul |")
    print("|---|---:|---:|---:|---|")
    for name, ns in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"| {name} | {counts[name]} | {ns / 1e3:.1f} | {ns / all_ns:.1%} | "
              f"{'yes' if MATMUL.search(name) else ''} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
