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
(or import it: make_workloads(model, movies, fixture) returns the texts themselves)
"""

import argparse
import csv
import json
import os

from tokenizers import Tokenizer


def make_workloads(model, movies="", fixture="", short=16, titles=256, long=128, long_texts=64):
    """The three workloads as lists of texts, {"a": [...], "b": [...], "c": [...]}, and a summary
    of them (source, the short text, token counts)."""
    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()

    def count(text):
        return len(tok.encode(text).ids)

    if movies and os.path.exists(movies):
        with open(movies, encoding="utf-8") as f:
            all_titles = [row["title"] for row in csv.DictReader(f)]
        source = "movies.csv"
    else:
        with open(fixture, encoding="utf-8") as f:
            all_titles = [t for t in (json.loads(line) for line in f if line.strip()) if t.strip()]
        source = "fixture"

    short_text = next(t for t in all_titles if count(t) == short)
    stride = max(1, len(all_titles) // titles)
    mixed = all_titles[::stride][:titles]

    # BERT's pre-tokenizer splits on whitespace and punctuation before WordPiece, so a text's
    # token count is the sum of its words' counts: add words while they fit, and a one-token
    # word always exists to close the gap.
    words = [w for t in all_titles for w in t.split()]
    cost = {w: count(w) - 2 for w in set(words)}
    long_list = []
    start = 0
    while len(long_list) < long_texts:
        text, used, i = [], 2, start
        while used < long:
            w = words[i % len(words)]
            i += 1
            if 0 < cost[w] <= long - used:
                text.append(w)
                used += cost[w]
        joined = " ".join(text)
        if count(joined) == long:
            long_list.append(joined)
        start = i
    lengths = [count(t) for t in mixed]
    summary = {"source": source, "short_text": short_text,
               "titles": len(mixed), "title_tokens": sum(lengths),
               "title_tokens_min": min(lengths), "title_tokens_max": max(lengths),
               "long_texts": len(long_list), "long_tokens": long}
    return {"a": [short_text], "b": mixed, "c": long_list}, summary


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

    workloads, summary = make_workloads(args.model, args.movies, args.fixture, args.short,
                                        args.titles, args.long, args.long_texts)
    os.makedirs(args.out, exist_ok=True)
    for name, texts in workloads.items():
        with open(os.path.join(args.out, f"{name}.jsonl"), "w", encoding="utf-8") as f:
            for t in texts:
                f.write(json.dumps(t, ensure_ascii=False) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
