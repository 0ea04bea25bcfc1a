#!/usr/bin/env python3
# Writes reference ids for the XLM-R-style SentencePiece test model from transformers and sentencepiece.
"""Writes tests/fixtures/sentencepiece/xlmr_style_ids.jsonl, one JSON object a line:

  text        the input
  ids         transformers' XLMRobertaTokenizer (the sentencepiece-based one) with special
              tokens, truncated to 512: the ids nowrec::Tokenizer must produce
  sp_ids      sentencepiece's raw encode(text) ids, untruncated, no special tokens
  sp_offsets  [begin, end) UTF-8 byte offsets of each sp_ids piece in text
  fast_offsets  XLMRobertaTokenizerFast's offsets in UTF-8 bytes (special tokens [0, 0]), only
              on lines where the fast tokenizer's ids equal `ids`

sp_ids and sp_offsets are only written for lines without special-token strings in them, since
raw sentencepiece does not know fairseq's special tokens.

The slow tokenizer is the reference: it is what the XLM-R model folder's sentencepiece.bpe.model
means, and it runs the same sentencepiece library that nowrec links. Lines where the fast
tokenizer (tokenizer.json) disagrees are counted and printed, not hidden.

Python's sentencepiece must be the version of the libsentencepiece nowrec links (pkg-config
sentencepiece): versions break exact Viterbi score ties differently, and the model's many
equal-score rare pieces make such ties real (e.g. "😭😭😭" as "😭😭" + "😭" or "😭" + "😭😭").

Needs: pip install -r tools/requirements-sentencepiece.txt; run tools/make_sentencepiece_model.py
first.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import sentencepiece as spm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sentencepiece_corpus as corpus  # noqa: E402

MODEL_DIR = corpus.REPO / "tests" / "fixtures" / "sentencepiece" / "xlmr_style"
OUT_FILE = corpus.REPO / "tests" / "fixtures" / "sentencepiece" / "xlmr_style_ids.jsonl"
MAX_LENGTH = 512
SPECIAL_STRINGS = ("<s>", "</s>", "<unk>", "<pad>", "<mask>")


def every_nth(items: list[str], n: int) -> list[str]:
    return items[::n]


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def edge_lines() -> list[str]:
    """Whitespace, control characters, normalisation and length corner cases."""
    lines = [
        "",
        " ",
        "   ",
        "\t",
        "\n",
        "\r\n",
        " leading space",
        "trailing space ",
        "  both  sides  ",
        "many     inner      spaces",
        "tab\tseparated\tgenres",
        "line\nbreak and\r\ncarriage return",
        "nul\x00byte",
        "bell\x07 backspace\x08 escape\x1b delete\x7f",
        "unit\x1fseparator\x1crecord\x1dgroup\x1efile",
        "next\x85line",
        "no\u00a0break\u00a0space",
        "ideographic\u3000space",
        "zero\u200bwidth\u200cnon\u200djoiner",
        "\ufeffbyte order mark",
        "soft\u00adhyphen",
        "left\u200eto\u200fright marks",
        "line\u2028separator and paragraph\u2029separator",
        "em\u2003space and thin\u2009space",
        "Zürich Zu\u0308rich",
        "Åland A\u030aland",
        "ﬁnal ﬂight ﬀ",
        "ＡＢＣ ａｂｃ ０１２３",
        "①②③ ⑴⑵",
        "x² y³ H₂O",
        "…and “quotes” ‘single’ «guillemets» „low“",
        "— – - dashes",
        "$100 €50 £20 ¥1000 ₩5000",
        "e-mail: someone@example.com, url: https://example.com/path?q=1&x=2",
        "C++ / C# / F# / .NET",
        "#hashtag @mention",
        "((((nested))))",
        "!!!???...,,,;;;:::",
        "1234567890",
        "3.14159265358979",
        "1,000,000 and 1.000.000",
        "2001: A Space Odyssey (1968)",
        "WALL·E (2008)",
        "Pokémon POKÉMON pokémon",
        "ALL CAPS TITLE",
        "lowercase title",
        "MiXeD cAsE tItLe",
        "a",
        "I",
        "?",
        "🍿",
        "我",
        "ア",
        "한",
        "▁",
        "▁▁ already ▁ underlined",
        "<",
        ">",
        "<>",
        "</",
        "<mas k>",
        "<MASK>",
        "< s>",
        "s>",
    ]
    word = "Supercalifragilisticexpialidocious"
    lines += [
        word,
        word * 3,
        "x" * 300,
        "ab" * 200,
        "Donaudampfschifffahrtsgesellschaftskapitänskajütentürschlossschlüssel",
        "Pneumonoultramicroscopicsilicovolcanoconiosis",
        "漢" * 120,
        "😀" * 60,
        "a" + "\u0301" * 40,
        "9" * 80,
        "-" * 50,
    ]
    return lines


def special_token_lines(titles: list[str]) -> list[str]:
    """Special-token strings inside text: the tokenizer splits them out before sentencepiece."""
    lines = [
        "<mask>",
        "<s>",
        "</s>",
        "<pad>",
        "<unk>",
        "<s></s>",
        "<mask><mask>",
        "The <mask> of the Rings (2001)",
        "The Lord of the <mask>",
        "<mask> is a great movie",
        "word<mask>word",
        "word <mask> word",
        "word  <mask>  word",
        "word\t<mask>\tword",
        "word\u3000<mask>\u3000word",
        "<s> hello </s>",
        "<s>hello</s>",
        "hello <unk> world",
        "padded <pad> <pad> <pad>",
        "我<mask>电影",
        "映画<mask>が好き",
        "🍿<mask>🎬",
        " <mask>",
        "<mask> ",
        "a <s> b </s> c <unk> d <pad> e <mask> f",
    ]
    for title in titles[:40]:
        words = title.split(" ")
        middle = len(words) // 2
        lines.append(" ".join(words[:middle] + ["<mask>"] + words[middle + 1:]))
    return lines


def long_lines(titles: list[str], tags: list[str]) -> list[str]:
    """Lines past 512 tokens, so that truncation is exercised."""
    return [
        " ".join(titles[:400]),
        " | ".join(tags[:600]),
        " ".join(corpus.MULTILINGUAL_LINES * 3),
        "".join(corpus.MULTILINGUAL_LINES[:14] * 12),
        " ".join(titles[1000:1300]) + " <mask> " + " ".join(titles[1300:1500]),
    ]


def fixture_texts() -> list[str]:
    titles = corpus.movie_titles()
    tags = corpus.movie_tags()
    genres = unique(corpus.movie_genres())
    texts = []
    texts += every_nth(titles, 8)
    texts += every_nth(unique(tags), 2)
    texts += every_nth(genres, 3)
    texts += [tag.lower() for tag in every_nth(unique(tags), 25)]
    texts += [title.upper() for title in every_nth(titles, 97)]
    texts += corpus.MULTILINGUAL_LINES
    texts += corpus.HELD_OUT_LINES
    # Multilingual lines next to titles and tags, as a user's history would mix them.
    for i, line in enumerate(corpus.MULTILINGUAL_LINES):
        texts.append(f"{titles[i * 31 % len(titles)]} — {line} #{tags[i * 17 % len(tags)]}")
    texts += edge_lines()
    texts += special_token_lines(titles)
    texts += long_lines(titles, tags)
    return texts


def utf8_offsets(text: str, char_offsets) -> list[list[int]]:
    starts = [0]
    for ch in text:
        starts.append(starts[-1] + len(ch.encode("utf-8")))
    return [[starts[b], starts[e]] for b, e in char_offsets]


def sentencepiece_pieces(sp, text: str) -> tuple[list[int], list[list[int]]]:
    """Raw ids and UTF-8 byte offsets of each piece."""
    try:
        proto = sp.encode(text, return_type="proto")  # sentencepiece >= 0.2: byte offsets
        return [p.id for p in proto.pieces], [[p.begin, p.end] for p in proto.pieces]
    except TypeError:
        # sentencepiece 0.1.9x's Python wrapper turns the offsets into code-point offsets.
        proto = sp.encode(text, out_type="immutable_proto")
        spans = utf8_offsets(text, [(p.begin, p.end) for p in proto.pieces])
        return [p.id for p in proto.pieces], spans


def check_sentencepiece_version() -> None:
    try:
        linked = subprocess.run(["pkg-config", "--modversion", "sentencepiece"], check=True,
                                capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        print("warning: pkg-config does not know sentencepiece; cannot check the version",
              file=sys.stderr)
        return
    if spm.__version__ != linked:
        sys.exit(f"python sentencepiece {spm.__version__} is not the linked libsentencepiece "
                 f"{linked}; install sentencepiece=={linked} (or pass --any-sentencepiece)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    parser.add_argument("--out", type=Path, default=OUT_FILE)
    parser.add_argument("--any-sentencepiece", action="store_true",
                        help="skip the check that python sentencepiece is the linked version")
    args = parser.parse_args()
    if not args.any_sentencepiece:
        check_sentencepiece_version()

    from transformers import XLMRobertaTokenizer, XLMRobertaTokenizerFast

    slow = XLMRobertaTokenizer.from_pretrained(str(args.model))
    fast = XLMRobertaTokenizerFast.from_pretrained(str(args.model))
    sp = spm.SentencePieceProcessor(model_file=str(args.model / "sentencepiece.bpe.model"))
    assert len(slow) == sp.get_piece_size() + 2, "fairseq adds <pad> and <mask> around sp's vocabulary"

    texts = fixture_texts()
    disagreements = []
    with open(args.out, "w", encoding="utf-8") as out:
        for text in texts:
            ids = slow(text, truncation=True, max_length=MAX_LENGTH)["input_ids"]
            record = {"text": text, "ids": ids}
            if not any(s in text for s in SPECIAL_STRINGS):
                record["sp_ids"], record["sp_offsets"] = sentencepiece_pieces(sp, text)
            fast_encoding = fast(text, truncation=True, max_length=MAX_LENGTH,
                                 return_offsets_mapping=True)
            if fast_encoding["input_ids"] == ids:
                record["fast_offsets"] = utf8_offsets(text, fast_encoding["offset_mapping"])
            else:
                disagreements.append((text, ids, fast_encoding["input_ids"]))
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")

    print(f"{args.out}: {len(texts)} lines, vocab {len(slow)}, sentencepiece {spm.__version__}, "
          f"{len(disagreements)} lines where the fast tokenizer disagrees")
    for text, slow_ids, fast_ids in disagreements:
        print(f"  {text[:60]!r}\n    slow {slow_ids[:24]}\n    fast {fast_ids[:24]}")


if __name__ == "__main__":
    main()
