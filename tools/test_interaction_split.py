#!/usr/bin/env python3
"""Checks of tools/interaction_split.py on a tiny hand-made dataset.

Run: python3 tools/test_interaction_split.py   (exits non-zero on the first failed check)
"""
import json
import math
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import interaction_split as isp  # noqa: E402

INF = float("-inf")

# User 1: five rows, two at the same second (item order breaks the tie).
# User 2: three rows given out of order in the file.  User 3: two rows only.
RATINGS = """userId,movieId,rating,timestamp
2,30,5.0,300
1,10,4.0,100
1,12,3.5,200
1,11,2.0,200
3,10,4.5,150
1,13,5.0,400
2,10,1.0,50
1,14,4.0,500
2,20,4.0,250
3,99,3.0,160
"""
MOVIES = """movieId,title,genres
10,A (2000),Drama
11,B (2001),Comedy
12,C (2002),Drama
13,D (2003),Action
14,E (2004),Action
20,F (2005),Drama
30,G (2006),Comedy
99,H (2007),Horror
500,Never rated (2008),Drama
"""

checks = 0


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        raise AssertionError(message)


def raises(fn, fragment):
    try:
        fn()
    except ValueError as error:
        check(fragment in str(error), f"error {error!s} should mention {fragment!r}")
        return
    raise AssertionError(f"expected ValueError mentioning {fragment!r}")


def write(folder, name, text):
    path = pathlib.Path(folder) / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_and_split(folder):
    rows = isp.load_interactions(write(folder, "ratings.csv", RATINGS))
    order = [(r.timestamp, r.user, r.item) for r in rows]
    check(order == sorted(order), f"rows not in (timestamp, user, item) order: {order}")
    check(order[2] == (150, 3, 10) and order[4] == (200, 1, 11) and order[5] == (200, 1, 12),
          f"tie at timestamp 200 must put item 11 before 12: {order}")

    catalog = isp.load_catalog(write(folder, "movies.csv", MOVIES))
    check(catalog == [10, 11, 12, 13, 14, 20, 30, 99, 500], f"catalog {catalog}")

    splits = isp.leave_one_out(rows)
    check(list(splits) == [1, 2, 3], f"users {list(splits)}")
    u1 = splits[1]
    check(u1.train_items == [10, 11, 12], f"user 1 train {u1.train_items}")
    check(u1.train_timestamps == [100, 200, 200] and u1.train_ratings == [4.0, 2.0, 3.5],
          f"user 1 aligned {u1.train_timestamps} {u1.train_ratings}")
    check((u1.valid_item, u1.valid_timestamp, u1.valid_rating) == (13, 400, 5.0), "user 1 valid")
    check((u1.test_item, u1.test_timestamp, u1.test_rating) == (14, 500, 4.0), "user 1 test")
    check(u1.test_history() == [10, 11, 12, 13] and u1.valid_history() == [10, 11, 12], "user 1 histories")
    u2 = splits[2]
    check(u2.train_items == [10] and u2.valid_item == 20 and u2.test_item == 30, f"user 2 {u2}")
    u3 = splits[3]
    check(u3.train_items == [10, 99] and not u3.has_targets and u3.valid_item is None, f"user 3 {u3}")

    trained = isp.training_items(splits)
    check(trained == {10, 11, 12, 99}, f"training items {trained}")
    check(isp.is_cold(14, trained) and isp.is_cold(30, trained) and not isp.is_cold(99, trained), "cold")

    # A file without the rating column reads as clicks.
    no_rating = isp.load_interactions(write(folder, "clicks.csv", "userId,movieId,timestamp\n1,5,7\n"))
    check(no_rating[0].rating is None and isp.action_for_rating(no_rating[0].rating) == "click", "click")


def test_bad_input(folder):
    raises(lambda: isp.load_interactions(write(folder, "b1.csv", "userId,movieId,rating,timestamp\n1,x,4,5\n")),
           "line 2, column 'movieId'")
    raises(lambda: isp.load_interactions(write(folder, "b2.csv", "userId,movieId,rating,timestamp\n1,2,nan,5\n")),
           "column 'rating': not finite")
    raises(lambda: isp.load_interactions(write(folder, "b3.csv", "userId,rating,timestamp\n1,2,5\n")),
           "lacks the column 'movieId'")
    raises(lambda: isp.load_catalog(write(folder, "b4.csv", "movieId,title,genres\n1,a,b\n1,c,d\n")),
           "line 3, column 'movieId': repeated item id 1")


def test_actions():
    check(isp.action_for_rating(4.0) == "like" and isp.action_for_rating(5.0) == "like", "like")
    check(isp.action_for_rating(3.5) == "view" and isp.action_for_rating(0.5) == "view", "view")
    check(isp.action_for_rating(None) == "click", "click")


def test_ranks():
    ids = [10, 11, 12, 13, 14]
    # Ties at 0.5 between 11, 12 and 14: the lower id goes first.
    scores = [0.9, 0.5, 0.5, 0.1, 0.5]
    check(isp.rank_of_target(scores, ids, 10) == 1, "top item")
    check(isp.rank_of_target(scores, ids, 11) == 2, "tie, lowest id")
    check(isp.rank_of_target(scores, ids, 12) == 3, "tie, middle id")
    check(isp.rank_of_target(scores, ids, 14) == 4, "tie, highest id")
    check(isp.rank_of_target(scores, ids, 13) == 5, "last")
    # Excluding seen items removes them from the ranking, not the target.
    check(isp.rank_of_target(scores, ids, 14, excluded=[10, 11]) == 2, "excluded")
    check(isp.rank_of_target(scores, ids, 14, excluded=[14, 10]) == 3, "target is never excluded")
    check(isp.top_k(scores, ids, excluded=[11], k=3) == [10, 12, 14], "top_k with exclusion")

    # -inf items count in the catalog, rank after every scored item and break ties by id.
    scores = [INF, 0.2, INF, -5.0, INF]
    check(isp.rank_of_target(scores, ids, 13) == 2, "scored before unscored")
    check(isp.rank_of_target(scores, ids, 10) == 3, "first -inf by id")
    check(isp.rank_of_target(scores, ids, 12) == 4, "second -inf by id")
    check(isp.rank_of_target(scores, ids, 14) == 5, "third -inf by id")
    check(isp.rank_of_target(scores, ids, 14, excluded=[10]) == 4, "-inf with exclusion")
    check(isp.top_k(scores, ids, k=5) == [11, 13, 10, 12, 14], "top_k with -inf")

    raises(lambda: isp.rank_of_target([0.1, float("nan")], [1, 2], 1), "NaN at item 2")
    raises(lambda: isp.rank_of_target([0.1, 0.2], [1, 2], 3), "target item 3 occurs 0 times")
    raises(lambda: isp.rank_of_target([0.1], [1, 2], 1), "same length")


def test_metrics(folder):
    m = isp.ranking_metrics([1, 3, 10, 11, 100])
    check(m["hr@10"] == 3 / 5, f"hr {m}")
    expected_ndcg = (1.0 + 1.0 / math.log2(4) + 1.0 / math.log2(11)) / 5
    check(abs(m["ndcg@10"] - expected_ndcg) < 1e-12, f"ndcg {m}")
    check(abs(m["mrr"] - (1 + 1 / 3 + 1 / 10 + 1 / 11 + 1 / 100) / 5) < 1e-12, f"mrr {m}")
    check(isp.coverage([[1, 2], [2, 3]], 10) == 0.3, "coverage")

    acc = isp.RankingAccumulator([10, 11, 12, 13], cold_reference={10, 11}, k=2)
    acc.add([0.4, 0.3, 0.2, 0.1], target=10)                   # rank 1, warm
    acc.add([0.4, 0.3, 0.2, 0.1], target=12, excluded=[10])    # rank 2, cold
    acc.add([INF, 0.0, INF, INF], target=12)                   # rank 3 (11, 10, 12), cold
    check(acc.ranks == [1, 2, 3] and acc.cold == [False, True, True], f"{acc.ranks} {acc.cold}")
    entry = acc.result("toy", settings={"seed": 1}, latency_ms=[1.0, 2.0, 3.0])
    check(entry["cases"] == 3 and entry["hr@2"] == 2 / 3, f"entry {entry}")
    check(entry["coverage@2"] == 3 / 4, f"coverage {entry}")  # tops [10,11], [11,12], [11,10]
    check(entry["cold_start"]["cases"] == 2 and entry["cold_start"]["hr@2"] == 0.5, f"cold {entry}")
    check(entry["latency_ms"]["p50"] == 2.0, f"latency {entry}")

    acc10 = isp.RankingAccumulator([10, 11, 12, 13], cold_reference={10})
    acc10.add([0.1, 0.2, 0.3, 0.4], target=10, excluded=[13])
    path = pathlib.Path(folder) / "out" / "results.json"
    isp.write_results(path, [acc10.result("toy", settings={"k": 10})], catalog_items=4, users=1)
    document = json.loads(path.read_text())
    check(document["dataset"] == "ml-latest-small" and document["protocol"] == "leave_one_out", "header")
    result = document["results"][0]
    check(result["hr@10"] == 1.0 and result["mrr"] == 1 / 3 and result["cold_start"]["cases"] == 0,
          f"written {result}")
    check("latency_ms" not in result, "latency is optional")
    raises(lambda: isp.write_results(path, [{"method": "x"}], catalog_items=1, users=1), "lacks the field 'cases'")
    raises(lambda: isp.write_results(path, [], catalog_items=1, users=1, protocol="random"), "protocol")


def test_temporal(folder):
    rows = isp.load_interactions(write(folder, "ratings.csv", RATINGS))
    # Timestamps sorted: 50 100 150 160 200 200 250 300 400 500; quantile 0.7 -> position 7 (300);
    # before it 7 events, 0.7 of them -> position 4 (200).
    split = isp.temporal_split(rows, quantile=0.7)
    check((split.valid_cut, split.test_cut) == (200, 300), f"cuts {split.valid_cut} {split.test_cut}")
    check([(e.user, e.item) for e in split.training()] == [(2, 10), (1, 10), (3, 10), (3, 99)],
          f"training {split.training()}")
    valid = split.cases("valid")
    check([(c.user, c.target.item, [h.item for h in c.history]) for c in valid] ==
          [(1, 11, [10]), (1, 12, [10, 11]), (2, 20, [10])], f"valid cases {valid}")
    test = split.cases("test")
    check([(c.user, c.target.item, len(c.history)) for c in test] == [(2, 30, 2), (1, 13, 3), (1, 14, 4)],
          f"test cases {test}")
    check(split.known_items("valid") == {10, 99} and split.known_items("test") == {10, 11, 12, 20, 99},
          f"known {split.known_items('test')}")
    protocol = isp.make_protocol(rows, "temporal", 0.7)
    check(list(protocol.training) == [1, 2, 3] and len(protocol.test) == 3, "temporal protocol")
    loo = isp.make_protocol(rows, "leave_one_out")
    check([(c.user, c.target.item) for c in loo.test] == [(1, 14), (2, 30)], f"loo {loo.test}")
    check([h.item for h in loo.valid[0].history] == [10, 11, 12], "loo valid history")
    raises(lambda: isp.temporal_split(rows, quantile=1.0), "quantile")
    raises(lambda: isp.make_protocol(rows, "random"), "protocol")


def test_batched_ranks():
    rng = __import__("numpy").random.default_rng(3)
    ids = [14, 10, 13, 11, 12, 15]
    one = isp.RankingAccumulator(ids, cold_reference={10, 11}, k=3)
    many = isp.RankingAccumulator(ids, cold_reference={10, 11}, k=3)
    scores, targets, seen = [], [], []
    for case in range(40):
        row = rng.integers(0, 3, size=len(ids)).astype(float)  # many ties
        if case % 5 == 0:
            row[rng.integers(0, len(ids))] = INF
        target = ids[case % len(ids)]
        excluded = [ids[j] for j in rng.choice(len(ids), size=case % 4, replace=False)]
        one.add(row, target, excluded)
        scores.append(row)
        targets.append(target)
        seen.append(excluded)
    many.add_batch(__import__("numpy").array(scores), targets, seen)
    check(one.ranks == many.ranks, f"batched ranks {many.ranks} != {one.ranks}")
    check(one.tops == many.tops, f"batched tops {many.tops} != {one.tops}")
    check(one.cold == many.cold, "batched cold flags")


def main():
    with tempfile.TemporaryDirectory() as folder:
        test_load_and_split(folder)
        test_bad_input(folder)
        test_actions()
        test_ranks()
        test_metrics(folder)
        test_temporal(folder)
        test_batched_ranks()
    print(f"test_interaction_split: {checks} checks passed")


if __name__ == "__main__":
    main()
