#!/usr/bin/env python3
# Trains the small XLM-R-style SentencePiece model and writes the tokenizer-only test model folder.
"""Writes tests/fixtures/sentencepiece/xlmr_style/:

  sentencepiece.bpe.model   unigram model trained on MovieLens titles, genres and tags plus
                            multilingual lines (tools/sentencepiece_corpus.py)
  tokenizer_config.json     tokenizer_class XLMRobertaTokenizer, model_max_length 512
  special_tokens_map.json   <s> </s> <unk> <pad> <mask>
  tokenizer.json            the same tokenizer converted by transformers' XLMRobertaTokenizerFast

Needs: pip install -r tools/requirements-sentencepiece.txt. The training options are fixed and
the trainer runs on one thread with a fixed seed, so a rerun with the same sentencepiece version
gives the same model bytes.
"""

import argparse
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path

import sentencepiece as spm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sentencepiece_corpus as corpus  # noqa: E402

OUT_DIR = corpus.REPO / "tests" / "fixtures" / "sentencepiece" / "xlmr_style"
VOCAB_SIZE = 8000
MODEL_MAX_LENGTH = 512

# XLM-R's sentencepiece.bpe.model is a unigram model despite its name: nmt_nfkc normalisation,
# a dummy "▁" prefix, no byte fallback, and <unk> <s> </s> at sentencepiece ids 0 1 2 with no
# <pad> piece (fairseq adds <pad> and <mask> around the sentencepiece vocabulary).
TRAINER_OPTIONS = dict(
    model_type="unigram",
    vocab_size=VOCAB_SIZE,
    normalization_rule_name="nmt_nfkc",
    character_coverage=1.0,
    byte_fallback=False,
    add_dummy_prefix=True,
    remove_extra_whitespaces=True,
    split_by_whitespace=True,
    split_by_unicode_script=True,
    split_by_number=True,
    split_digits=False,
    max_sentencepiece_length=16,
    unk_id=0,
    bos_id=1,
    eos_id=2,
    pad_id=-1,
    unk_piece="<unk>",
    bos_piece="<s>",
    eos_piece="</s>",
    input_sentence_size=0,
    shuffle_input_sentence=False,
    num_threads=1,
    minloglevel=1,
)
SEED = 20240117


def training_sentences() -> list[str]:
    lines = []
    lines += corpus.movie_titles()
    lines += corpus.movie_genres()
    lines += corpus.movie_tags()
    lines += corpus.MULTILINGUAL_LINES
    return [line for line in lines if line.strip()]


def train_model() -> bytes:
    spm.set_random_generator_seed(SEED)
    model = io.BytesIO()
    # An iterator rather than a file keeps temporary paths out of the model's trainer_spec.
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(training_sentences()), model_writer=model, **TRAINER_OPTIONS
    )
    return model.getvalue()


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_configs(out_dir: Path) -> None:
    write_json(
        out_dir / "tokenizer_config.json",
        {
            "tokenizer_class": "XLMRobertaTokenizer",
            "model_max_length": MODEL_MAX_LENGTH,
            "bos_token": "<s>",
            "eos_token": "</s>",
            "sep_token": "</s>",
            "cls_token": "<s>",
            "unk_token": "<unk>",
            "pad_token": "<pad>",
            "mask_token": {
                "content": "<mask>",
                "lstrip": True,
                "normalized": False,
                "rstrip": False,
                "single_word": False,
                "special": True,
                "__type": "AddedToken",
            },
            "clean_up_tokenization_spaces": True,
        },
    )
    write_json(
        out_dir / "special_tokens_map.json",
        {
            "bos_token": "<s>",
            "eos_token": "</s>",
            "unk_token": "<unk>",
            "sep_token": "</s>",
            "pad_token": "<pad>",
            "cls_token": "<s>",
            "mask_token": {
                "content": "<mask>",
                "lstrip": True,
                "normalized": False,
                "rstrip": False,
                "single_word": False,
            },
        },
    )


def write_tokenizer_json(out_dir: Path) -> None:
    """Converts the slow tokenizer the way transformers does for XLM-R checkpoints."""
    from transformers import XLMRobertaTokenizer, XLMRobertaTokenizerFast

    slow = XLMRobertaTokenizer(
        str(out_dir / "sentencepiece.bpe.model"), model_max_length=MODEL_MAX_LENGTH
    )
    with tempfile.TemporaryDirectory() as tmp:
        slow.save_pretrained(tmp)
        fast = XLMRobertaTokenizerFast.from_pretrained(tmp, from_slow=True)
        fast.save_pretrained(tmp)
        shutil.copyfile(Path(tmp) / "tokenizer.json", out_dir / "tokenizer.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="model folder to write")
    parser.add_argument("--no-tokenizer-json", action="store_true",
                        help="skip the transformers conversion to tokenizer.json")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    model = train_model()
    (args.out / "sentencepiece.bpe.model").write_bytes(model)
    write_configs(args.out)
    if not args.no_tokenizer_json:
        write_tokenizer_json(args.out)

    sp = spm.SentencePieceProcessor(model_proto=model)
    print(f"{args.out}: {len(model)} bytes, {sp.get_piece_size()} pieces, "
          f"{len(training_sentences())} training lines")


if __name__ == "__main__":
    main()
