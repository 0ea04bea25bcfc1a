#!/usr/bin/env python3
"""Writes the encoder benchmark's three workloads as text files (one JSON string a line), the same
inputs for every implementation.

  a.jsonl  one real title of exactly --short tokens (special tokens included), for latency
  b.jsonl  --titles real movie titles of mixed lengths, timed in batches of 32
  c.jsonl  --long-texts texts of exactly --long tokens, made of title words, in batches of 64

Titles come from MovieLens' movies.csv when it is present (every n-th title, so that old and new,
short and long ones mix), else from the encoder fixture. Token counts are those of the model's
tokenizer.json, so every implementation sees exactly these lengths.

Usage: encoder_workloads.py --model DIR --out DIR [--movies CSV] [--fixture JSONL]
"""

import argparse
import csv
import json
import os

from tokenizers import Tokenizer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--movies", default="")
    parser.add_argument("--fixture", default="")
    parser.add_argument("--short", type=int, default=16)
    parser.add_argument("--titles", type=int, default=256)
    parser.add_argument("--long", type=int, default=128)
    parser.add_argument("--long-texts", type=int, default=64)
    args = parser.parse_args()

    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()

    def count(text):
        return len(tok.encode(text).ids)

    if args.movies and os.path.exists(args.movies):
        with open(args.movies, encoding="utf-8") as f:
            titles = [row["title"] for row in csv.DictReader(f)]
        source = "movies.csv"
    else:
        with open(args.fixture, encoding="utf-8") as f:
            titles = [t for t in (json.loads(line) for line in f if line.strip()) if t.strip()]
        source = "fixture"

    short = next(t for t in titles if count(t) == args.short)
    stride = max(1, len(titles) // args.titles)
    mixed = titles[::stride][:args.titles]

    # BERT's pre-tokenizer splits on whitespace and punctuation before WordPiece, so a text's
    # token count is the sum of its words' counts: add words while they fit, and a one-token
    # word always exists to close the gap.
    words = [w for t in titles for w in t.split()]
    cost = {w: count(w) - 2 for w in set(words)}
    long_texts = []
    start = 0
    while len(long_texts) < args.long_texts:
        text, used, i = [], 2, start
        while used < args.long:
            w = words[i % len(words)]
            i += 1
            if 0 < cost[w] <= args.long - used:
                text.append(w)
                used += cost[w]
        joined = " ".join(text)
        if count(joined) == args.long:
            long_texts.append(joined)
        start = i
    os.makedirs(args.out, exist_ok=True)
    for name, texts in (("a", [short]), ("b", mixed), ("c", long_texts)):
        with open(os.path.join(args.out, f"{name}.jsonl"), "w", encoding="utf-8") as f:
            for t in texts:
                f.write(json.dumps(t, ensure_ascii=False) + "\n")
    lengths = [count(t) for t in mixed]
    print(json.dumps({"source": source, "short_text": short,
                      "titles": len(mixed), "title_tokens": sum(lengths),
                      "title_tokens_min": min(lengths), "title_tokens_max": max(lengths),
                      "long_texts": len(long_texts), "long_tokens": args.long}))


if __name__ == "__main__":
    main()
