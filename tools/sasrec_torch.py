#!/usr/bin/env python3
"""SASRec (Kang & McAuley 2018) in plain PyTorch on the leave-one-out or the temporal split,
scored with tools/interaction_split.py's metrics.

Written because RecBole's SASRec (tools/sasrec_peer.py) trains one sample per prefix of every
user's sequence, about fifty times the work of the paper's one-sequence-per-window training,
which is too slow for a 2-core CPU. The model is the paper's:
  - item embedding (scaled by sqrt(d)) + learned positional embedding, dropout, padding masked;
  - blocks of causal multi-head self-attention and a point-wise feed-forward network, each
    with layer norm before it, dropout and a residual connection (the paper's code), and a
    final layer norm;
  - the item embedding shared for prediction (score = h_t . e_i).
Training follows the recipe found strongest for MovieLens (SASRec with full cross-entropy,
Klenitskiy & Vasilev 2023, "gSASRec"/"SASRec+"): softmax cross-entropy over all items at every
position, Adam lr 1e-3, hidden 64, inner 256, 2 blocks, 2 heads, the last 200 items. Each user's
training items are cut into windows of 201 (200 inputs, 200 next-item targets), ending at the
last training item. Early stopping on validation NDCG@10 computed with interaction_split's metric
code (patience 10 epochs by default, no epoch cap short of --max-epochs); dropout is chosen on
validation among the --dropout values.

Protocols (interaction_split.make_protocol):
  - leave_one_out: training items = all but each user's last two; the validation history is
    the training items, the test history adds the validation item. The vocabulary is the items of
    ratings.csv (as RecBole's); the other items of movies.csv get -inf.
  - temporal: trained on the events before the validation cut; every later event is a case,
    predicted from its user's every earlier event (read, never trained on). The vocabulary is the
    training events' items: the model cannot rank an item it never saw (-inf).

Usage:
  python3 tools/sasrec_torch.py [--data examples/data/ml-latest-small] [--out docs/quality/sasrec_loo.json]
                                [--protocol leave_one_out|temporal] [--threads 2] [--seed 2020]
                                [--dropout 0.2 0.5] [--max-epochs 400] [--patience 10]
Several --dropout values: each is trained (side by side, one process and threads/trials
threads each) and the best by validation NDCG@10 is reported; every trial starts from the same
seed.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import logging
import math
import multiprocessing
import pathlib
import random
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import interaction_split as isp  # noqa: E402


class SASRec(nn.Module):
    def __init__(self, n_items: int, hidden: int, inner: int, blocks: int, heads: int, max_len: int,
                 dropout: float):
        super().__init__()
        self.hidden = hidden
        self.item_embedding = nn.Embedding(n_items + 1, hidden, padding_idx=0)  # 0 pads
        self.position_embedding = nn.Embedding(max_len, hidden)
        self.input_dropout = nn.Dropout(dropout)
        self.attention_norms = nn.ModuleList(nn.LayerNorm(hidden, eps=1e-8) for _ in range(blocks))
        self.attentions = nn.ModuleList(
            nn.MultiheadAttention(hidden, heads, dropout=dropout, batch_first=True) for _ in range(blocks))
        self.ffn_norms = nn.ModuleList(nn.LayerNorm(hidden, eps=1e-8) for _ in range(blocks))
        self.ffns = nn.ModuleList(nn.Sequential(
            nn.Linear(hidden, inner), nn.ReLU(), nn.Dropout(dropout), nn.Linear(inner, hidden),
            nn.Dropout(dropout)) for _ in range(blocks))
        self.final_norm = nn.LayerNorm(hidden, eps=1e-8)
        causal = torch.triu(torch.ones(max_len, max_len, dtype=torch.bool), diagonal=1)
        self.register_buffer("causal_mask", causal, persistent=False)
        self.apply(self._init)

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            with torch.no_grad():
                module.weight[module.padding_idx].zero_()

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        """seq [batch, length] of item indices, left-aligned, 0 after the end -> [batch, length, hidden]."""
        length = seq.shape[1]
        positions = torch.arange(length, device=seq.device)
        x = self.item_embedding(seq) * math.sqrt(self.hidden) + self.position_embedding(positions)
        x = self.input_dropout(x)
        present = (seq != 0).unsqueeze(-1).to(x.dtype)
        x = x * present
        causal = self.causal_mask[:length, :length]
        for norm, attention, ffn_norm, ffn in zip(self.attention_norms, self.attentions, self.ffn_norms, self.ffns):
            query = norm(x)
            # Causal: a position sees itself and the past. Padding only follows the items, so
            # every real position has at least itself to attend to.
            attended, _ = attention(query, x, x, attn_mask=causal, need_weights=False)
            x = query + attended
            x = x + ffn(ffn_norm(x))
            x = x * present
        return self.final_norm(x)

    def scores(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """Scores of every item (column 0 is padding) from hidden states [..., hidden]."""
        return hidden_states @ self.item_embedding.weight.T


def training_windows(training: dict[int, list[isp.Interaction]], index: dict[int, int],
                     max_len: int) -> np.ndarray:
    """Windows of max_len + 1 items cut from the end of each user's training items backwards."""
    windows = []
    for rows in training.values():
        items = [index[r.item] for r in rows]
        end = len(items)
        while end >= 2:
            start = max(0, end - (max_len + 1))
            window = items[start:end]
            row = np.zeros(max_len + 1, dtype=np.int64)
            row[: len(window)] = window
            windows.append(row)
            end = start + 1  # the next window's last item is this window's first input
            if start == 0:
                break
    return np.stack(windows)


def history_batch(histories: list[list[int]], index: dict[int, int], max_len: int) -> torch.Tensor:
    """The last max_len items of each history that the model knows (others have no embedding)."""
    seq = np.zeros((len(histories), max_len), dtype=np.int64)
    for row, history in enumerate(histories):
        known = [index[i] for i in history if i in index]
        recent = known[-max_len:] or [0]
        seq[row, : len(recent)] = recent
    return torch.from_numpy(seq)


def last_hidden(model: SASRec, seq: torch.Tensor) -> torch.Tensor:
    lengths = (seq != 0).sum(dim=1).clamp(min=1)
    hidden = model(seq)
    return hidden[torch.arange(len(seq)), lengths - 1]


def catalog_scores(model_scores: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Model scores laid out over the catalog; -inf where the model has no embedding."""
    scores = np.full(model_scores.shape[:-1] + (len(columns),), -np.inf)
    known = columns >= 0
    scores[..., known] = model_scores[..., columns[known]]
    return scores


def evaluate(model: SASRec, data: dict, max_len: int, stage: str, batch: int = 256,
             latency_cases: int = 0, cases: list | None = None) -> tuple[isp.RankingAccumulator, list[float]]:
    """Every case of the stage (or `cases`), scored over the whole catalog, seen items excluded;
    the first latency_cases cases are also timed one at a time (batch 1)."""
    protocol = data["protocol"]
    cases = protocol.cases(stage) if cases is None else cases
    accumulator = isp.RankingAccumulator(data["catalog_ids"], cold_reference=protocol.known_items[stage])
    latencies: list[float] = []
    index, columns = data["index"], data["columns"]
    model.eval()
    with torch.no_grad():
        for case in cases[:latency_cases]:
            start = time.perf_counter()
            seq = history_batch([[h.item for h in case.history]], index, max_len)
            model.scores(last_hidden(model, seq))[0].numpy()
            latencies.append((time.perf_counter() - start) * 1000.0)
        for first in range(0, len(cases), batch):
            group = cases[first:first + batch]
            histories = [[h.item for h in case.history] for case in group]
            seq = history_batch(histories, index, max_len)
            model_scores = model.scores(last_hidden(model, seq)).numpy().astype(np.float64)
            accumulator.add_batch(catalog_scores(model_scores, columns), [c.target.item for c in group], histories)
    return accumulator, latencies


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(args, dropout: float, data: dict):
    seed_everything(args.seed)
    n_items = len(data["vocabulary"])
    model = SASRec(n_items, args.hidden, args.inner, args.blocks, args.heads, args.max_len, dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98))
    windows = torch.from_numpy(training_windows(data["protocol"].training, data["index"], args.max_len))
    generator = torch.Generator().manual_seed(args.seed)
    loss_fn = nn.CrossEntropyLoss()
    best = {"ndcg@10": -1.0, "epoch": 0, "state": None}
    # The per-epoch check: at most --valid-cases validation cases (all 610 of leave-one-out).
    valid_cases = data["protocol"].validation_sample(args.valid_cases, args.seed)
    history = []
    stopped = f"max epochs ({args.max_epochs})"
    start = time.perf_counter()
    for epoch in range(1, args.max_epochs + 1):
        model.train()
        order = torch.randperm(len(windows), generator=generator)
        total, batches = 0.0, 0
        for first in range(0, len(order), args.batch_size):
            batch = windows[order[first: first + args.batch_size]]
            inputs, targets = batch[:, :-1], batch[:, 1:]
            present = targets != 0
            # Scores only where a target is: the softmax over all items is most of the work.
            logits = model.scores(model(inputs)[present])  # [targets, items + 1]
            logits[:, 0] = float("-inf")  # never predict padding
            loss = loss_fn(logits, targets[present])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        valid = evaluate(model, data, args.max_len, "valid", cases=valid_cases)[0].result("valid")
        history.append({"epoch": epoch, "loss": round(total / batches, 4), "valid_ndcg@10": round(valid["ndcg@10"], 4),
                        "seconds": round(time.perf_counter() - start, 1)})
        logging.info("dropout %.2f epoch %d loss %.4f valid ndcg@10 %.4f hr@10 %.4f (%.0f s)", dropout, epoch,
                     total / batches, valid["ndcg@10"], valid["hr@10"], time.perf_counter() - start)
        if valid["ndcg@10"] > best["ndcg@10"]:
            best = {"ndcg@10": valid["ndcg@10"], "hr@10": valid["hr@10"], "epoch": epoch,
                    "state": {k: v.clone() for k, v in model.state_dict().items()}}
        elif epoch - best["epoch"] >= args.patience:
            stopped = f"no better validation NDCG@10 for {args.patience} epochs"
            break
        if args.time_limit_min and time.perf_counter() - start > args.time_limit_min * 60:
            stopped = f"time limit of {args.time_limit_min} minutes"
            break
    train_seconds = time.perf_counter() - start
    model.load_state_dict(best["state"])
    return model, {"dropout": dropout, "best_epoch": best["epoch"], "epochs_trained": epoch,
                   "train_seconds": round(train_seconds, 1), "stopped_by": stopped, "valid_ndcg@10": best["ndcg@10"],
                   "valid_hr@10": best["hr@10"], "windows": len(windows), "curve": history}


def prepare(data_dir: pathlib.Path, protocol_name: str, quantile: float) -> dict:
    interactions = isp.load_interactions(data_dir / "ratings.csv")
    catalog = isp.load_catalog(data_dir / "movies.csv")
    unknown = sorted({r.item for r in interactions} - set(catalog))
    if unknown:
        raise ValueError(f"{data_dir / 'ratings.csv'}: item {unknown[0]} is not in movies.csv")
    protocol = isp.make_protocol(interactions, protocol_name, quantile)
    # The model can embed what it trains on: every rated item for leave-one-out (as RecBole's
    # vocabulary), the training events' items for the temporal split (it never sees the others).
    if protocol_name == "leave_one_out":
        vocabulary = sorted({r.item for r in interactions})
    else:
        vocabulary = sorted({r.item for rows in protocol.training.values() for r in rows})
    index = {item: position + 1 for position, item in enumerate(vocabulary)}
    return {
        "catalog": catalog, "protocol": protocol, "vocabulary": vocabulary, "index": index,
        "catalog_ids": np.asarray(catalog, dtype=np.int64),
        # Column of each catalog item in the model's score vector; -1: no embedding.
        "columns": np.asarray([index.get(item, -1) for item in catalog], dtype=np.int64),
    }


def run_trial(args, dropout: float, threads: int):
    """One training run; returns the best weights (by validation NDCG@10) and its record."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(threads)
    data = prepare(args.data, args.protocol, args.cut_quantile)
    model, trial = train(args, dropout, data)
    logging.info("trial %s", json.dumps({k: v for k, v in trial.items() if k != "curve"}))
    return model.state_dict(), trial


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=pathlib.Path, default=isp.default_data_dir())
    parser.add_argument("--out", type=pathlib.Path, default=isp.REPO / "docs" / "quality" / "sasrec_loo.json")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--dropout", type=float, nargs="+", default=[0.2, 0.5])
    parser.add_argument("--max-epochs", type=int, default=400)
    parser.add_argument("--patience", type=int, default=10, help="epochs without a better validation NDCG@10")
    parser.add_argument("--time-limit-min", type=float, default=0.0,
                        help="stop a trial after this many minutes of training (0: no limit)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--inner", type=int, default=256)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--max-len", type=int, default=200)
    parser.add_argument("--protocol", choices=["leave_one_out", "temporal"], default="leave_one_out")
    parser.add_argument("--valid-cases", type=int, default=2000,
                        help="validation cases drawn for the per-epoch check (0: all)")
    parser.add_argument("--cut-quantile", type=float, default=0.85,
                        help="temporal: the test cut is this quantile of all timestamps")
    args = parser.parse_args()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    data = prepare(args.data, args.protocol, args.cut_quantile)
    # Trials run side by side, one process each, sharing the thread budget: on a busy 2-core
    # machine two 1-thread processes train faster than one 2-thread process.
    parallel = max(1, min(len(args.dropout), args.threads))
    threads_per_trial = max(1, args.threads // parallel)
    if parallel > 1:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=parallel, mp_context=context) as pool:
            outcomes = list(pool.map(run_trial, [args] * len(args.dropout), args.dropout,
                                     [threads_per_trial] * len(args.dropout)))
    else:
        outcomes = [run_trial(args, dropout, threads_per_trial) for dropout in args.dropout]
    torch.set_num_threads(args.threads)

    trials, best = [], None
    for state, trial in outcomes:
        trials.append(trial)
        if best is None or trial["valid_ndcg@10"] > best[1]["valid_ndcg@10"]:
            best = (state, trial)
    model = SASRec(len(data["vocabulary"]), args.hidden, args.inner, args.blocks, args.heads, args.max_len,
                   best[1]["dropout"])
    model.load_state_dict(best[0])
    catalog, vocabulary, protocol = data["catalog"], data["vocabulary"], data["protocol"]
    trial = best[1]
    test, latencies = evaluate(model, data, args.max_len, "test", latency_cases=min(610, len(protocol.test)))
    full_valid = evaluate(model, data, args.max_len, "valid")[0].result("valid")
    settings = {
        "implementation": "tools/sasrec_torch.py (SASRec, Kang & McAuley 2018, in PyTorch)",
        "protocol": args.protocol, **protocol.settings,
        "torch": torch.__version__, "numpy": np.__version__,
        "machine": isp.machine_name(), "threads": args.threads, "threads_per_trial": threads_per_trial, "seed": args.seed,
        "hidden_size": args.hidden, "inner_size": args.inner, "n_layers": args.blocks, "n_heads": args.heads,
        "max_seq_len": args.max_len, "dropout": trial["dropout"],
        "loss": "softmax cross-entropy over all items at every position",
        "optimizer": f"Adam lr {args.lr}, betas (0.9, 0.98)", "batch_size": args.batch_size,
        "training_windows": trial["windows"],
        "early_stopping": f"validation NDCG@10 (interaction_split), patience {args.patience} epochs, "
                          f"at most {args.max_epochs}",
        "best_epoch": trial["best_epoch"], "epochs_trained": trial["epochs_trained"],
        "train_seconds": trial["train_seconds"], "stopped_by": trial["stopped_by"],
        "validation": {"hr@10": full_valid["hr@10"], "ndcg@10": full_valid["ndcg@10"],
                       "cases": full_valid["cases"]},
        "validation_checked_per_epoch": {"hr@10": trial["valid_hr@10"], "ndcg@10": trial["valid_ndcg@10"],
                                         "cases": len(data["protocol"].validation_sample(args.valid_cases, args.seed))},
        "vocabulary_items": len(vocabulary),
        "latency_note": "latency_ms: one user's history to scores of all items, batch 1, on CPU "
                        "(the first 610 test cases)",
        # Each trial with its validation curve (loss, validation NDCG@10 and seconds per epoch).
        "trials": trials,
    }
    result = test.result("sasrec", settings=settings, latency_ms=latencies)
    isp.write_results(args.out, [result], catalog_items=len(catalog), users=len(protocol.training),
                      protocol=args.protocol)
    print(json.dumps({k: v for k, v in result.items() if k != "settings"}, indent=2))


if __name__ == "__main__":
    main()
