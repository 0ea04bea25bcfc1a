"""The evaluation protocol every nowrec quality number shares: leave-one-out split, ranks, metrics.

Importable by any Python tool (tools/sasrec_peer.py, tools/train_next_interest.py) so that each
method is scored with the same definitions as the C++ `nowrec replay`:

  - load_interactions(path): rows of `userId,movieId,rating,timestamp` (rating may be absent)
    ordered by (timestamp, user, item), so each user's rows follow (timestamp, item);
  - load_catalog(path): the item ids of `movieId,title,genres` in file order (every item, also
    those nobody interacted with);
  - leave_one_out(interactions): per user, train = all but the last two, validation target =
    second last, test target = last; users with fewer than 3 rows keep all in train;
  - temporal_split(interactions, quantile): the global temporal protocol: events before the
    validation cut train, events in [validation cut, test cut) are validation cases, events from
    the test cut on are test cases, each predicted from its user's every earlier event;
  - action_for_rating(rating): the tracker event a rating becomes ("like" / "view" / "click");
  - rank_of_target / top_k: order (score descending, item id ascending) over the catalog minus
    the items already seen; unscorable items get -inf and still count;
  - RankingAccumulator + method_result + write_results: hr@10, ndcg@10, mrr, coverage@10 and the
    cold-start subset, written in the JSON schema the C++ replay writes too.

Needs only numpy. Tests: `python3 tools/test_interaction_split.py`.
"""
from __future__ import annotations

import csv
import json
import math
import os
import pathlib
import platform
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

import numpy as np

DATASET = "ml-latest-small"
REPO = pathlib.Path(__file__).resolve().parent.parent

TOP_K = 10
PROTOCOLS = ("leave_one_out", "streaming", "temporal")
LIKE_THRESHOLD = 4.0


@dataclass(frozen=True)
class Interaction:
    user: int
    item: int
    timestamp: int  # seconds
    rating: Optional[float] = None


def _parse_int(text: str, path, line: int, column: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{path}: line {line}, column '{column}': not an integer: {text!r}") from None


def load_interactions(path) -> list[Interaction]:
    """Reads `userId,movieId[,rating],timestamp` (header required, columns found by name).

    Rows come back ordered by (timestamp, user, item), the order of the C++
    nowrec::load_interactions. Raises ValueError naming the file, line and column at fault.
    """
    path = pathlib.Path(path)
    rows: list[Interaction] = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty file, expected a header userId,movieId,rating,timestamp")
        header = [name.strip() for name in header]
        for required in ("userId", "movieId", "timestamp"):
            if required not in header:
                raise ValueError(f"{path}: line 1: header lacks the column '{required}'")
        user_col, item_col, time_col = (header.index(n) for n in ("userId", "movieId", "timestamp"))
        rating_col = header.index("rating") if "rating" in header else None
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise ValueError(f"{path}: line {line}: {len(row)} fields, the header has {len(header)}")
            rating = None
            if rating_col is not None and row[rating_col].strip() != "":
                try:
                    rating = float(row[rating_col])
                except ValueError:
                    raise ValueError(f"{path}: line {line}, column 'rating': not a number: {row[rating_col]!r}") from None
                if not math.isfinite(rating):
                    raise ValueError(f"{path}: line {line}, column 'rating': not finite: {row[rating_col]!r}")
            rows.append(Interaction(
                user=_parse_int(row[user_col], path, line, "userId"),
                item=_parse_int(row[item_col], path, line, "movieId"),
                timestamp=_parse_int(row[time_col], path, line, "timestamp"),
                rating=rating,
            ))
    rows.sort(key=lambda r: (r.timestamp, r.user, r.item))
    return rows


def load_catalog(path) -> list[int]:
    """Item ids of a `movieId,title,genres` file in file order; a repeated id is an error."""
    path = pathlib.Path(path)
    ids: list[int] = []
    seen: set[int] = set()
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or "movieId" not in [h.strip() for h in header]:
            raise ValueError(f"{path}: line 1: header lacks the column 'movieId'")
        item_col = [h.strip() for h in header].index("movieId")
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            item = _parse_int(row[item_col], path, line, "movieId")
            if item in seen:
                raise ValueError(f"{path}: line {line}, column 'movieId': repeated item id {item}")
            seen.add(item)
            ids.append(item)
    return ids


def action_for_rating(rating: Optional[float]) -> str:
    """The tracker event of a rating, as the C++ replay maps it: like (>= 4), view, or click."""
    if rating is None:
        return "click"
    return "like" if rating >= LIKE_THRESHOLD else "view"


@dataclass
class UserSplit:
    """One user's leave-one-out split; each list is in (timestamp, item) order."""
    user: int
    train_items: list[int] = field(default_factory=list)
    train_timestamps: list[int] = field(default_factory=list)
    train_ratings: list[Optional[float]] = field(default_factory=list)
    valid_item: Optional[int] = None
    valid_timestamp: Optional[int] = None
    valid_rating: Optional[float] = None
    test_item: Optional[int] = None
    test_timestamp: Optional[int] = None
    test_rating: Optional[float] = None

    @property
    def has_targets(self) -> bool:
        return self.test_item is not None

    def valid_history(self) -> list[int]:
        """What a model sees before the validation target: the training items."""
        return list(self.train_items)

    def test_history(self) -> list[int]:
        """What a model sees before the test target: training items, then the validation item."""
        if self.valid_item is None:
            return list(self.train_items)
        return self.train_items + [self.valid_item]


def leave_one_out(interactions: Iterable[Interaction]) -> dict[int, UserSplit]:
    """Per user (ascending id): train = all but the last two, valid = second last, test = last.

    Each user's rows are ordered by (timestamp, item) here, whatever order they came in.
    Users with fewer than 3 rows keep everything in train and have no targets.
    """
    per_user: dict[int, list[Interaction]] = {}
    for row in interactions:
        per_user.setdefault(row.user, []).append(row)
    splits: dict[int, UserSplit] = {}
    for user in sorted(per_user):
        rows = sorted(per_user[user], key=lambda r: (r.timestamp, r.item))
        split = UserSplit(user=user)
        train = rows if len(rows) < 3 else rows[:-2]
        split.train_items = [r.item for r in train]
        split.train_timestamps = [r.timestamp for r in train]
        split.train_ratings = [r.rating for r in train]
        if len(rows) >= 3:
            valid, test = rows[-2], rows[-1]
            split.valid_item, split.valid_timestamp, split.valid_rating = valid.item, valid.timestamp, valid.rating
            split.test_item, split.test_timestamp, split.test_rating = test.item, test.timestamp, test.rating
        splits[user] = split
    return splits


def training_items(splits: dict[int, UserSplit]) -> set[int]:
    """Every item that occurs in some user's training portion."""
    items: set[int] = set()
    for split in splits.values():
        items.update(split.train_items)
    return items


@dataclass(frozen=True)
class EvalCase:
    """One prediction to score: the user's earlier events (oldest first) and the target event."""
    user: int
    history: tuple[Interaction, ...]
    target: Interaction


@dataclass
class TemporalSplit:
    """The global temporal protocol over events in (timestamp, user, item) order.

    training: events strictly before `valid_cut` (what a model may be trained on);
    validation cases: events with valid_cut <= timestamp < test_cut; test cases: timestamp >=
    test_cut. A case needs at least one earlier event of its user (any time before it). Counting
    methods may learn online from every event before the one they predict; trained models read
    the history but are not retrained on it.
    """
    events: list[Interaction]
    valid_cut: int
    test_cut: int
    quantile: float

    def training(self) -> list[Interaction]:
        return [e for e in self.events if e.timestamp < self.valid_cut]

    def cases(self, stage: str) -> list[EvalCase]:
        if stage not in ("valid", "test"):
            raise ValueError(f"stage must be 'valid' or 'test', got {stage!r}")
        low, high = (self.valid_cut, self.test_cut) if stage == "valid" else (self.test_cut, None)
        history: dict[int, list[Interaction]] = {}
        out: list[EvalCase] = []
        for event in self.events:
            before = history.setdefault(event.user, [])
            if before and event.timestamp >= low and (high is None or event.timestamp < high):
                out.append(EvalCase(event.user, tuple(before), event))
            before.append(event)
        return out

    def known_items(self, stage: str) -> set[int]:
        """Items of the events before the stage's cut; a case whose target is not among them is
        cold-start (the item first occurs after the cut)."""
        cut = self.valid_cut if stage == "valid" else self.test_cut
        return {e.item for e in self.events if e.timestamp < cut}


@dataclass
class Protocol:
    """What a trained model of either protocol sees: per-user training sequences, the validation
    and test cases, and per stage the items known before it (for the cold-start subset)."""
    name: str
    training: dict[int, list[Interaction]]
    valid: list[EvalCase]
    test: list[EvalCase]
    known_items: dict[str, set[int]]
    settings: dict

    def cases(self, stage: str) -> list[EvalCase]:
        return self.valid if stage == "valid" else self.test

    def validation_sample(self, count: int, seed: int = 0) -> list[EvalCase]:
        """At most `count` validation cases drawn at random (in stream order), for the per-epoch
        early-stopping check of the trained models; all of them when count is 0 or enough."""
        if count <= 0 or count >= len(self.valid):
            return list(self.valid)
        keep = np.sort(np.random.default_rng(seed).choice(len(self.valid), size=count, replace=False))
        return [self.valid[i] for i in keep]


def make_protocol(interactions: Sequence[Interaction], name: str, quantile: float = 0.85) -> Protocol:
    """leave_one_out or temporal, as lists of cases the Python tools score the same way."""
    if name == "leave_one_out":
        per_user: dict[int, list[Interaction]] = {}
        for row in interactions:
            per_user.setdefault(row.user, []).append(row)
        training, valid, test = {}, [], []
        for user in sorted(per_user):
            rows = sorted(per_user[user], key=lambda r: (r.timestamp, r.item))
            if len(rows) < 3:
                training[user] = rows
                continue
            training[user] = rows[:-2]
            valid.append(EvalCase(user, tuple(rows[:-2]), rows[-2]))
            test.append(EvalCase(user, tuple(rows[:-1]), rows[-1]))
        known = {r.item for rows in training.values() for r in rows}
        return Protocol(name, training, valid, test, {"valid": known, "test": known}, {})
    if name == "temporal":
        split = temporal_split(interactions, quantile)
        training: dict[int, list[Interaction]] = {}
        for row in split.training():
            training.setdefault(row.user, []).append(row)
        return Protocol(name, dict(sorted(training.items())), split.cases("valid"), split.cases("test"),
                        {"valid": split.known_items("valid"), "test": split.known_items("test")},
                        {"cut_quantile": quantile, "valid_cut": split.valid_cut, "test_cut": split.test_cut})
    raise ValueError(f"protocol must be 'leave_one_out' or 'temporal', got {name!r}")


def quantile_time(timestamps: Sequence[int], quantile: float) -> int:
    """The timestamp at position floor(quantile * n) of the sorted timestamps."""
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must lie in (0, 1), got {quantile}")
    ordered = sorted(timestamps)
    if not ordered:
        raise ValueError("no timestamps to cut")
    return int(ordered[min(len(ordered) - 1, int(math.floor(quantile * len(ordered))))])


def temporal_split(interactions: Sequence[Interaction], quantile: float = 0.85) -> TemporalSplit:
    """Test cut: the `quantile` of all timestamps; validation cut: the same quantile of the
    timestamps before the test cut. The C++ replay cuts the same way (--cut-quantile)."""
    events = sorted(interactions, key=lambda r: (r.timestamp, r.user, r.item))
    test_cut = quantile_time([e.timestamp for e in events], quantile)
    prefix = [e.timestamp for e in events if e.timestamp < test_cut]
    if not prefix:
        raise ValueError(f"no event lies before the test cut at {test_cut} (quantile {quantile})")
    valid_cut = quantile_time(prefix, quantile)
    if not any(e.timestamp < valid_cut for e in events):
        raise ValueError(f"no event lies before the validation cut at {valid_cut}")
    return TemporalSplit(events=events, valid_cut=valid_cut, test_cut=test_cut, quantile=quantile)


def is_cold(target: int, train_items: set[int]) -> bool:
    """A case is cold when its target never occurs in any user's training portion."""
    return target not in train_items


def _candidates(scores, item_ids, excluded, keep: Optional[int] = None):
    scores = np.asarray(scores, dtype=np.float64)
    item_ids = np.asarray(item_ids, dtype=np.int64)
    if scores.ndim != 1 or scores.shape != item_ids.shape:
        raise ValueError(f"scores has shape {scores.shape}, item_ids has shape {item_ids.shape}; "
                         "both must be one-dimensional and of the same length")
    if np.isnan(scores).any():
        raise ValueError(f"scores holds NaN at item {int(item_ids[np.isnan(scores)][0])}; "
                         "give unscorable items -inf")
    if np.isposinf(scores).any():
        raise ValueError(f"scores holds +inf at item {int(item_ids[np.isposinf(scores)][0])}")
    mask = np.ones(len(item_ids), dtype=bool)
    if excluded:
        excluded_ids = np.fromiter((int(i) for i in excluded), dtype=np.int64)
        mask &= ~np.isin(item_ids, excluded_ids)
    if keep is not None:
        mask |= item_ids == keep
    return scores, item_ids, mask


def rank_of_target(scores: Sequence[float], item_ids: Sequence[int], target: int,
                   excluded: Iterable[int] = ()) -> int:
    """1-based rank of `target` in (score descending, item id ascending) order.

    `scores[i]` scores `item_ids[i]`; the candidates are all of `item_ids` minus `excluded`
    (the items already seen). The target itself stays a candidate even when seen before, so a
    repeat can be ranked. Unscorable items carry -inf: they rank after every scored item and
    break their ties by id, like any other tie.
    """
    scores, item_ids, mask = _candidates(scores, item_ids, excluded, keep=target)
    where = np.nonzero(item_ids == target)[0]
    if len(where) != 1:
        raise ValueError(f"target item {target} occurs {len(where)} times in item_ids, expected once")
    target_score = scores[where[0]]
    ahead = (scores > target_score) | ((scores == target_score) & (item_ids < target))
    return int(np.count_nonzero(ahead & mask)) + 1


def top_k(scores: Sequence[float], item_ids: Sequence[int], excluded: Iterable[int] = (),
          k: int = TOP_K) -> list[int]:
    """The first k candidates in (score descending, item id ascending) order."""
    scores, item_ids, mask = _candidates(scores, item_ids, excluded)
    scores, item_ids = scores[mask], item_ids[mask]
    order = np.lexsort((item_ids, -scores))
    return [int(i) for i in item_ids[order[:k]]]


def ranking_metrics(ranks: Sequence[int], k: int = TOP_K) -> dict[str, float]:
    """hr@k, ndcg@k (1/log2(rank+1) within the top k) and untruncated mrr over 1-based ranks."""
    ranks = np.asarray(ranks, dtype=np.float64)
    if len(ranks) == 0:
        return {f"hr@{k}": 0.0, f"ndcg@{k}": 0.0, "mrr": 0.0}
    if (ranks < 1).any():
        raise ValueError(f"ranks are 1-based; found {ranks.min()}")
    hit = ranks <= k
    return {
        f"hr@{k}": float(hit.mean()),
        f"ndcg@{k}": float(np.where(hit, 1.0 / np.log2(ranks + 1.0), 0.0).mean()),
        "mrr": float((1.0 / ranks).mean()),
    }


def coverage(top_lists: Iterable[Sequence[int]], catalog_size: int) -> float:
    """Distinct items over all top lists, divided by the catalog size."""
    if catalog_size <= 0:
        raise ValueError(f"catalog_size must be positive, got {catalog_size}")
    distinct: set[int] = set()
    for top in top_lists:
        distinct.update(int(i) for i in top)
    return len(distinct) / catalog_size


class RankingAccumulator:
    """Collects one (rank, top-k list, cold flag) per test case of one method."""

    def __init__(self, item_ids: Sequence[int], cold_reference: Optional[set[int]] = None, k: int = TOP_K):
        self.item_ids = np.asarray(item_ids, dtype=np.int64)
        if len(np.unique(self.item_ids)) != len(self.item_ids):
            raise ValueError("item_ids holds a repeated item id")
        self.cold_reference = cold_reference
        self.k = k
        self.ranks: list[int] = []
        self.tops: list[list[int]] = []
        self.cold: list[bool] = []

    def add(self, scores: Sequence[float], target: int, excluded: Iterable[int] = ()) -> int:
        excluded = list(excluded)
        rank = rank_of_target(scores, self.item_ids, target, excluded)
        self.ranks.append(rank)
        self.tops.append(top_k(scores, self.item_ids, excluded, self.k))
        self.cold.append(self.cold_reference is not None and is_cold(target, self.cold_reference))
        return rank

    def add_batch(self, scores: np.ndarray, targets: Sequence[int],
                  excluded: Sequence[Iterable[int]]) -> list[int]:
        """add() for many cases at once: scores [cases][items]; the same ranks and top lists."""
        scores = np.asarray(scores, dtype=np.float64)
        if scores.ndim != 2 or scores.shape != (len(targets), len(self.item_ids)):
            raise ValueError(f"scores has shape {scores.shape}, expected ({len(targets)}, {len(self.item_ids)})")
        if len(excluded) != len(targets):
            raise ValueError(f"{len(excluded)} excluded lists for {len(targets)} targets")
        if np.isnan(scores).any() or np.isposinf(scores).any():
            raise ValueError("scores holds NaN or +inf; give unscorable items -inf")
        column = {int(i): c for c, i in enumerate(self.item_ids)}
        ranks = []
        for row, (target, seen) in enumerate(zip(targets, excluded)):
            if int(target) not in column:
                raise ValueError(f"target item {target} is not in item_ids")
            values = scores[row].copy()
            target_column = column[int(target)]
            seen_columns = [column[int(i)] for i in seen if int(i) in column and int(i) != int(target)]
            values[seen_columns] = -np.inf
            target_score = values[target_column]
            ahead = (values > target_score) | ((values == target_score) & (self.item_ids < int(target)))
            ahead[seen_columns] = False
            rank = int(np.count_nonzero(ahead)) + 1
            # Top k: the candidates (every seen item out, as top_k), score descending, id ascending.
            candidates = np.ones(len(values), dtype=bool)
            candidates[[column[int(i)] for i in seen if int(i) in column]] = False
            kth = min(self.k, int(candidates.sum()))
            pool = np.nonzero(candidates)[0]
            if kth < len(pool):
                # Everything scoring at least the k-th best, so that ties at the edge are complete.
                threshold = np.partition(values[pool], len(pool) - kth)[len(pool) - kth]
                pool = pool[values[pool] >= threshold]
            order = np.lexsort((self.item_ids[pool], -values[pool]))
            self.ranks.append(rank)
            self.tops.append([int(i) for i in self.item_ids[pool[order[:self.k]]]])
            self.cold.append(self.cold_reference is not None and is_cold(int(target), self.cold_reference))
            ranks.append(rank)
        return ranks

    def result(self, method: str, settings: Optional[dict] = None,
               latency_ms: Optional[Sequence[float]] = None) -> dict:
        return method_result(method, self.ranks, self.tops, len(self.item_ids), self.cold,
                             settings=settings, latency_ms=latency_ms, k=self.k)


def method_result(method: str, ranks: Sequence[int], top_lists: Sequence[Sequence[int]],
                  catalog_size: int, cold_flags: Sequence[bool], settings: Optional[dict] = None,
                  latency_ms: Optional[Sequence[float]] = None, k: int = TOP_K) -> dict:
    """One entry of the "results" list: metrics over all cases and over the cold ones."""
    if len(ranks) != len(top_lists) or len(ranks) != len(cold_flags):
        raise ValueError(f"{len(ranks)} ranks, {len(top_lists)} top lists and {len(cold_flags)} "
                         "cold flags: one of each per case")
    entry: dict = {"method": method, "cases": len(ranks)}
    entry.update(ranking_metrics(ranks, k))
    entry[f"coverage@{k}"] = coverage(top_lists, catalog_size)
    cold_ranks = [r for r, c in zip(ranks, cold_flags) if c]
    cold = ranking_metrics(cold_ranks, k)
    entry["cold_start"] = {"cases": len(cold_ranks), f"hr@{k}": cold[f"hr@{k}"], f"ndcg@{k}": cold[f"ndcg@{k}"]}
    if latency_ms is not None and len(latency_ms) > 0:
        values = np.asarray(latency_ms, dtype=np.float64)
        entry["latency_ms"] = {"p50": float(np.percentile(values, 50)), "p99": float(np.percentile(values, 99))}
    entry["settings"] = dict(settings or {})
    return entry


def write_results(path, results: Sequence[dict], *, catalog_items: int, users: int,
                  protocol: str = "leave_one_out", dataset: str = "ml-latest-small") -> dict:
    """Writes the results JSON shared with the C++ replay and returns the written object."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    for entry in results:
        for key in ("method", "cases", "hr@10", "ndcg@10", "mrr", "coverage@10", "cold_start", "settings"):
            if key not in entry:
                raise ValueError(f"result of method {entry.get('method')!r} lacks the field '{key}'")
    document = {"dataset": dataset, "protocol": protocol, "catalog_items": int(catalog_items),
                "users": int(users), "results": list(results)}
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document


def machine_name() -> str:
    """CPU model and count, for the record of where a number was measured."""
    model = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs"


def default_data_dir() -> pathlib.Path:
    carried = REPO / "examples" / "data" / DATASET
    return carried if carried.exists() else pathlib.Path("/work/shared/data") / DATASET
