#!/usr/bin/env python3
"""Hugging Face `tokenizers` on the corpus tokenizer_bench reads, printed as the same JSON.

The thread count of encode_batch is fixed when the process starts (RAYON_NUM_THREADS), so one
process measures one thread count: run it with --threads 1 for the single-threaded numbers (an
encode loop and encode_batch) and with --threads T for encode_batch on T threads.

Usage: tokenizer_peer.py --model DIR --corpus FILE [--repeat N] [--threads T]
"""

import argparse
import json
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.environ.get("NOWREC_MODEL", ""))
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=256)
    args = parser.parse_args()

    # Must be set before tokenizers starts its thread pool.
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    os.environ["TOKENIZERS_PARALLELISM"] = "false" if args.threads == 1 else "true"
    import tokenizers
    from tokenizers import Tokenizer

    load_start = time.perf_counter()
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(args.max_length)
    load_seconds = time.perf_counter() - load_start

    with open(args.corpus, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()

    def run(mode):
        tokens = 0
        start = time.perf_counter()
        for _ in range(args.repeat):
            if mode == "encode":
                for line in lines:
                    tokens += len(tok.encode(line).ids)
            else:
                for enc in tok.encode_batch(lines):
                    tokens += len(enc.ids)
        seconds = time.perf_counter() - start
        n = len(lines) * args.repeat
        return {"mode": mode, "threads": args.threads, "seconds": round(seconds, 4),
                "tokens": tokens, "lines": n, "tokens_per_s": round(tokens / seconds),
                "lines_per_s": round(n / seconds)}

    tok.encode_batch(lines[:1000])  # warm up
    runs = []
    if args.threads == 1:
        runs.append(run("encode"))
    runs.append(run("encode_batch"))
    json.dump({"implementation": f"tokenizers {tokenizers.__version__}", "corpus": args.corpus,
               "corpus_lines": len(lines), "max_length": args.max_length,
               "load_seconds": round(load_seconds, 4), "runs": runs}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
