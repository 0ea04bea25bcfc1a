#!/usr/bin/env python3
"""Sums the fuzz runs in build-fuzz/fuzz-runs.log per target, as the Markdown table of
docs/reliability.md, and says which targets have reached a CPU-time goal.

    python3 tools/fuzz_summary.py [--log build-fuzz/fuzz-runs.log] [--goal 3600]

Runs shorter than --min-seconds (CI's short runs) are left out, and so are runs that kept no
input at all (corpus=0): a fuzzer that reaches any code keeps at least one, so such a run tested
nothing. Runs logged before the log had a CPU column count as wall-clock time without CPU time.
"""

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

RUN = re.compile(r"^\S+ (?P<target>fuzz_\w+) (?P<seconds>\d+)s (?P<fields>.*)$")


def parse_runs(log: Path, min_seconds: int):
    runs = []
    for line in log.read_text().splitlines():
        match = RUN.match(line)
        if not match:
            continue  # "long run done" lines and anything else
        fields = dict(f.split("=", 1) for f in match["fields"].split() if "=" in f)
        seconds = int(match["seconds"])
        if seconds < min_seconds or fields.get("corpus") == "0":
            continue
        runs.append(
            {
                "target": match["target"],
                "seconds": seconds,
                "cpu": int(fields["cpu_seconds"]) if "cpu_seconds" in fields else None,
                "executions": int(fields.get("executions", 0)),
                "new_units": int(fields.get("new_units", 0)),
            }
        )
    return runs


def corpus_text(folder: Path) -> str:
    files = [f for f in folder.iterdir() if f.is_file()] if folder.is_dir() else []
    size = sum(f.stat().st_size for f in files)
    return f"{len(files):,} inputs, {size / 1e6:.2f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=Path("build-fuzz/fuzz-runs.log"))
    parser.add_argument("--corpora", type=Path, default=Path("fuzz/corpus"))
    parser.add_argument("--goal", type=int, default=3600, help="CPU seconds per target")
    parser.add_argument("--min-seconds", type=int, default=60)
    args = parser.parse_args()
    if not args.log.is_file():
        print(f"no fuzz log at {args.log}: run tools/fuzz.sh first", file=sys.stderr)
        return 1

    totals = defaultdict(lambda: defaultdict(int))
    for run in parse_runs(args.log, args.min_seconds):
        total = totals[run["target"]]
        total["runs"] += 1
        total["executions"] += run["executions"]
        total["new_units"] += run["new_units"]
        if run["cpu"] is None:
            total["wall_without_cpu"] += run["seconds"]
        else:
            total["wall"] += run["seconds"]
            total["cpu"] += run["cpu"]

    print("| target | runs | wall-clock | CPU (measured) | earlier wall-clock, CPU not recorded "
          "| executions | new inputs | committed corpus |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    short = []
    for target in sorted(totals):
        t = totals[target]
        met = t["cpu"] >= args.goal
        if not met:
            short.append(f"{target} ({t['cpu']:,} of {args.goal:,} CPU s)")
        cpu = f"**{t['cpu']:,} s**" if met else f"{t['cpu']:,} s"
        print(f"| `{target}` | {t['runs']} | {t['wall']:,} s | {cpu} | {t['wall_without_cpu']:,} s "
              f"| {t['executions']:,} | {t['new_units']:,} | {corpus_text(args.corpora / target)} |")
    print()
    print("goal met for every target" if not short else "short of the goal: " + ", ".join(short))
    return 0


if __name__ == "__main__":
    sys.exit(main())
