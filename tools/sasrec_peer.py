#!/usr/bin/env python3
"""SASRec (RecBole) on MovieLens leave-one-out, scored with tools/interaction_split.py's metrics.

The RecBole reference for tools/sasrec_torch.py, and the check that RecBole's leave-one-out
split is ours. Steps:
  1. load ratings.csv / movies.csv and split them with interaction_split.leave_one_out;
  2. write RecBole atomic files (user_id, item_id, timestamp) into --work (not committed). The
     timestamp written is each row's position in the (timestamp, user, item) order, so RecBole's
     time ordering equals ours even where one user rated several movies in the same second;
  3. train RecBole's SASRec with its standard settings (hidden 64, 2 layers, 2 heads, inner 256,
     max_seq_len 50, CE loss over all items, Adam lr 1e-3, batch 2048, leave-one-out 'LS'
     valid_and_test split in time order, full ranking, early stopping on validation NDCG@10);
  4. check that RecBole's validation and test cases are ours (same target and history per user);
  5. score every test user over the whole catalog of movies.csv (items RecBole never saw get
     -inf; items already seen are excluded) and write hr@10, ndcg@10, mrr, coverage@10 and the
     cold-start subset, with RecBole's own reported test metrics kept in the settings.

RecBole trains one sample per prefix of every user's sequence (each a 50-item forward pass), so
an epoch on ml-latest-small took 440-610 s on the 2-core development VM: full training (up to
300 epochs) does not fit there, and --epochs 1 is the check run (split check, and RecBole's
metric code against ours on the same model). On a faster machine run it with the defaults.

Needs: recbole 1.2.1 (pip install --no-deps recbole==1.2.1, then pandas, scikit-learn, pyyaml,
tqdm, colorlog, colorama, texttable, tabulate, tensorboard, thop), torch, numpy (2.x works:
the script gives RecBole the NumPy 1 aliases it sets up, and loads its checkpoint with
weights_only=False for torch >= 2.6).

Usage:
  python3 tools/sasrec_peer.py [--data examples/data/ml-latest-small]
      [--out docs/quality/sasrec_recbole_check.json] [--work build/sasrec_peer] [--threads 1]
      [--seed 2020] [--epochs 300] [--dropout 0.5 [0.2 ...]]  # several: best by validation NDCG@10
      [--checkpoint saved/SASRec-....pth]   # evaluate a trained RecBole model instead of training
docs/quality/sasrec_recbole_check.json: --epochs 1 --threads 1 --method sasrec-recbole-1-epoch.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import sys
import time

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import interaction_split as isp  # noqa: E402


def write_atomic_files(interactions: list[isp.Interaction], folder: pathlib.Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{isp.DATASET}.inter", "w", encoding="utf-8") as out:
        out.write("user_id:token\titem_id:token\ttimestamp:float\n")
        for order, row in enumerate(interactions):  # already in (timestamp, user, item) order
            out.write(f"{row.user}\t{row.item}\t{order}\n")


def recbole_config(args, work: pathlib.Path, dropout: float) -> dict:
    return {
        "data_path": str(work),
        "checkpoint_dir": str(work / "saved"),
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        # Keep every user and item: the split must be the same as interaction_split's.
        "user_inter_num_interval": "[0,inf)",
        "item_inter_num_interval": "[0,inf)",
        "MAX_ITEM_LIST_LENGTH": 50,
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full", "group_by": "user"},
        "train_neg_sample_args": None,  # CE over all items needs no sampled negatives
        "loss_type": "CE",
        "hidden_size": 64,
        "inner_size": 256,
        "n_layers": 2,
        "n_heads": 2,
        "hidden_dropout_prob": dropout,
        "attn_dropout_prob": dropout,
        "hidden_act": "gelu",
        "learning_rate": 1e-3,
        "train_batch_size": 2048,
        "epochs": args.epochs,
        "stopping_step": args.stopping_step,
        "eval_step": 1,
        "metrics": ["Hit", "NDCG", "MRR"],
        "topk": [10],
        "valid_metric": "NDCG@10",
        "eval_batch_size": 4096,
        "seed": args.seed,
        "reproducibility": True,
        "gpu_id": "",  # CPU
        "use_gpu": False,
        "worker": 0,
        "show_progress": False,
        "state": "INFO",
    }


def check_split(dataset, loader, splits: dict[int, isp.UserSplit], which: str, max_len: int) -> int:
    """Asserts that RecBole's cases of `which` ('valid' or 'test') are ours; returns their count."""
    inter = loader.dataset.inter_feat
    users = dataset.id2token(dataset.uid_field, inter[dataset.uid_field].numpy())
    targets = dataset.id2token(dataset.iid_field, inter[dataset.iid_field].numpy())
    lists = inter[dataset.item_id_list_field].numpy()
    lengths = inter[dataset.item_list_length_field].numpy()
    seen = set()
    for user, target, seq, length in zip(users, targets, lists, lengths):
        user = int(user)
        split = splits[user]
        expected_target = split.test_item if which == "test" else split.valid_item
        expected_history = split.test_history() if which == "test" else split.valid_history()
        history = [int(t) for t in dataset.id2token(dataset.iid_field, seq[:length])]
        if int(target) != expected_target:
            raise RuntimeError(f"{which} target of user {user}: RecBole {target}, ours {expected_target}")
        if history != expected_history[-max_len:]:
            raise RuntimeError(f"{which} history of user {user} differs from ours")
        seen.add(user)
    expected_users = {u for u, s in splits.items() if s.has_targets}
    if seen != expected_users:
        raise RuntimeError(f"{which}: RecBole has {len(seen)} users with cases, ours {len(expected_users)}")
    return len(seen)


def score_cases(model, dataset, catalog: list[int], splits: dict[int, isp.UserSplit], which: str,
                max_len: int, device) -> tuple[isp.RankingAccumulator, list[float], isp.RankingAccumulator]:
    """Ranks every target of `which` with the model over the whole catalog (unknown items -inf)."""
    from recbole.data.interaction import Interaction

    token2id = dataset.field2token_id[dataset.iid_field]
    catalog_ids = np.asarray(catalog, dtype=np.int64)
    # Column of each catalog item in the model's score vector; -1 where RecBole never saw it.
    columns = np.asarray([token2id.get(str(item), -1) for item in catalog], dtype=np.int64)
    known = columns >= 0
    accumulator = isp.RankingAccumulator(catalog_ids, cold_reference=isp.training_items(splits))
    # The same ranks over RecBole's own candidates (its items, seen items kept), to compare our
    # metric code with RecBole's on one model.
    recbole_like = isp.RankingAccumulator(catalog_ids[known])
    latencies: list[float] = []
    model.eval()
    with torch.no_grad():
        for user, split in splits.items():
            if not split.has_targets:
                continue
            history = split.test_history() if which == "test" else split.valid_history()
            target = split.test_item if which == "test" else split.valid_item
            recent = history[-max_len:]
            seq = np.zeros((1, max_len), dtype=np.int64)
            seq[0, : len(recent)] = [token2id[str(i)] for i in recent]
            batch = Interaction({
                dataset.item_id_list_field: torch.from_numpy(seq),
                dataset.item_list_length_field: torch.tensor([len(recent)]),
            }).to(device)
            start = time.perf_counter()
            model_scores = model.full_sort_predict(batch)[0].cpu().numpy().astype(np.float64)
            latencies.append((time.perf_counter() - start) * 1000.0)
            scores = np.full(len(catalog), -np.inf)
            scores[known] = model_scores[columns[known]]
            accumulator.add(scores, target, excluded=history)
            recbole_like.add(scores[known], target)
    return accumulator, latencies, recbole_like


def numpy2_aliases_for_recbole() -> None:
    """RecBole 1.2.1's Config re-creates NumPy 1 aliases (np.float = np.float_ ...) that NumPy 2
    removed; give it the NumPy 2 names so that step succeeds."""
    for old, new in (("float_", np.float64), ("complex_", np.complex128), ("unicode_", np.str_)):
        if old not in np.__dict__:
            setattr(np, old, new)


def train_one(args, work: pathlib.Path, dropout: float):
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.sequential_recommender import SASRec
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    numpy2_aliases_for_recbole()
    config = Config(model="SASRec", dataset=isp.DATASET, config_dict=recbole_config(args, work, dropout))
    init_seed(config["seed"], config["reproducibility"])
    torch.set_num_threads(args.threads)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = SASRec(config, train_data.dataset).to(config["device"])
    trainer = Trainer(config, model)
    start = time.perf_counter()
    best_valid, best_epoch = {}, None
    if args.checkpoint:
        checkpoint = torch.load(args.checkpoint, map_location=config["device"], weights_only=False)
        model.load_state_dict(checkpoint["state_dict"])
        best_epoch = int(checkpoint["epoch"]) + 1
        best_valid = {config["valid_metric"].lower(): float(checkpoint["best_valid_score"])}
    elif args.epochs > 0:
        _, best_valid = trainer.fit(train_data, valid_data, saved=True, show_progress=False)
        # torch >= 2.6 loads weights only by default; RecBole's checkpoint also holds its config.
        checkpoint = torch.load(trainer.saved_model_file, map_location=config["device"], weights_only=False)
        model.load_state_dict(checkpoint["state_dict"])
        best_epoch = int(checkpoint["epoch"]) + 1  # RecBole counts epochs from 0
    train_seconds = None if args.checkpoint else time.perf_counter() - start
    epochs_trained = best_epoch if args.checkpoint else len(trainer.train_loss_dict)
    recbole_test = trainer.evaluate(test_data, load_best_model=False, show_progress=False)
    return {
        "config": config, "dataset": dataset, "model": model, "valid_data": valid_data,
        "test_data": test_data, "best_valid": dict(best_valid), "recbole_test": dict(recbole_test),
        "train_seconds": train_seconds, "best_epoch": best_epoch, "epochs_trained": epochs_trained,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=pathlib.Path, default=isp.default_data_dir())
    parser.add_argument("--out", type=pathlib.Path, default=isp.REPO / "docs" / "quality" / "sasrec_recbole_check.json")
    parser.add_argument("--work", type=pathlib.Path, default=isp.REPO / "build" / "sasrec_peer")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--method", default="sasrec-recbole")
    parser.add_argument("--checkpoint", type=pathlib.Path,
                        help="a RecBole SASRec checkpoint (.pth) of these settings to evaluate instead "
                             "of training (its training time is not known then)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--stopping-step", type=int, default=10)
    parser.add_argument("--dropout", type=float, nargs="+", default=[0.5],
                        help="hidden and attention dropout; several values are tried and the best "
                             "by validation NDCG@10 (our metric code) is reported")
    args = parser.parse_args()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(args.threads)
    import recbole

    interactions = isp.load_interactions(args.data / "ratings.csv")
    catalog = isp.load_catalog(args.data / "movies.csv")
    splits = isp.leave_one_out(interactions)
    work = args.work.resolve()
    write_atomic_files(interactions, work / isp.DATASET)
    os.chdir(work)  # RecBole writes its log/ and log_tensorboard/ folders into the working folder

    trials = []
    best = None
    for dropout in args.dropout:
        run = train_one(args, work, dropout)
        max_len = run["config"]["MAX_ITEM_LIST_LENGTH"]
        valid_users = check_split(run["dataset"], run["valid_data"], splits, "valid", max_len)
        test_users = check_split(run["dataset"], run["test_data"], splits, "test", max_len)
        valid_acc, _, _ = score_cases(run["model"], run["dataset"], catalog, splits, "valid", max_len,
                                   run["config"]["device"])
        valid_metrics = isp.ranking_metrics(valid_acc.ranks)
        trial = {"dropout": dropout, "best_epoch": run["best_epoch"], "epochs_trained": run["epochs_trained"], "train_seconds": None if run["train_seconds"] is None else round(run["train_seconds"], 1),
                 "valid_ndcg@10": valid_metrics["ndcg@10"], "valid_hr@10": valid_metrics["hr@10"],
                 "recbole_valid": run["best_valid"], "recbole_test": run["recbole_test"]}
        logging.info("trial %s", json.dumps(trial))
        trials.append(trial)
        if best is None or trial["valid_ndcg@10"] > best[0]["valid_ndcg@10"]:
            best = (trial, run, valid_users, test_users)

    trial, run, valid_users, test_users = best
    max_len = run["config"]["MAX_ITEM_LIST_LENGTH"]
    test_acc, latencies, recbole_like = score_cases(run["model"], run["dataset"], catalog, splits, "test", max_len,
                                      run["config"]["device"])
    settings = {
        "implementation": f"RecBole {recbole.__version__} SASRec",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "machine": isp.machine_name(),
        "threads": args.threads,
        "seed": args.seed,
        "hidden_size": 64, "inner_size": 256, "n_layers": 2, "n_heads": 2, "max_seq_len": max_len,
        "dropout": trial["dropout"], "loss": "CE over all items", "learning_rate": 1e-3,
        "train_batch_size": 2048, "early_stopping": f"validation NDCG@10, {args.stopping_step} evaluations",
        "best_epoch": trial["best_epoch"], "epochs_trained": trial["epochs_trained"],
        "train_seconds": trial["train_seconds"],
        "split_check": f"RecBole's validation ({valid_users} users) and test ({test_users} users) "
                       "targets and histories equal interaction_split.leave_one_out's",
        "validation": {"hr@10": trial["valid_hr@10"], "ndcg@10": trial["valid_ndcg@10"]},
        "recbole_reported_test": run["recbole_test"],
        "ours_on_recbole_candidates_test": isp.ranking_metrics(recbole_like.ranks),
        "recbole_reported_note": "RecBole ranks over the items of ratings.csv only, keeps already "
                                 "seen items in the ranking, breaks ties arbitrarily and truncates "
                                 "MRR at 10",
        "latency_note": "latency_ms: one user's full_sort_predict on CPU (batch 1)",
        "trials": trials,
    }
    result = test_acc.result(args.method, settings=settings, latency_ms=latencies)
    isp.write_results(args.out, [result], catalog_items=len(catalog), users=len(splits))
    print(json.dumps({k: v for k, v in result.items() if k != "settings"}, indent=2))


if __name__ == "__main__":
    main()
