"""RecommenderConfig save/load; Recommender scores, explanations, co-visitation, filters, errors."""

import gc
import json
import math

import numpy as np
import pytest

import nowrec

DIM = 16
SHORT_HALF_LIFE = 1800.0
LONG_HALF_LIFE = 30 * 86400.0
ACTIONS = {"view": 0.5, "click": 1.0, "like": 2.0, "purchase": 5.0}
# ann's events: (item, action, timestamp); all positive, so her negative interest is empty.
ANN = [(101, "click", 100), (105, "like", 400), (110, "view", 1000), (120, "purchase", 1500)]
NOW = 2000

CONFIG_FIELDS = {
    "short_term": 0.75, "long_term": 0.5, "clusters": 0.4, "clusters_min": 0.1, "predicted": 0.0,
    "negative": 0.3, "aggregation": nowrec.Aggregation.WeightedSum, "co_visitation": 0.25,
    "prior": 0.125, "calibrate": True, "learn_co_visitation": False, "exclude_seen": False,
    "mmr_lambda": 0.8, "threads": 2,
}
CO_VISITATION_FIELDS = {
    "pair_distance": 10, "distance_decay": 0.7, "half_life_seconds": 3600.0, "max_neighbours": 500,
    "shards": 16, "voters": 4, "voter_decay": 0.5,
}


def unit_rows(rng, rows, dim=DIM):
    vectors = rng.standard_normal((rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def config(**fields):
    """A RecommenderConfig with every interest weight 0 but the ones given."""
    result = nowrec.RecommenderConfig()
    result.short_term = result.predicted = result.negative = 0.0
    for name, value in fields.items():
        setattr(result, name, value)
    return result


def decayed_unit(vectors_by_id, events, now, half_life):
    total = sum(ACTIONS[action] * 2.0 ** (-(now - t) / half_life)
                * vectors_by_id[item].astype(np.float64) for item, action, t in events)
    return total / np.linalg.norm(total)


def top_k(ids, scores, k, keep):
    order = [i for i in np.lexsort((ids, -scores)) if keep[i]][:k]
    return ids[order].tolist(), scores[order]


@pytest.fixture
def catalog(rng):
    ids = np.arange(100, 300, dtype=np.int64)
    vectors = unit_rows(rng, len(ids))
    index = nowrec.ItemIndex(DIM)
    index.add(ids, vectors, categories=[[int(i % 4)] for i in ids])
    return {"index": index, "ids": ids, "vectors": vectors,
            "by_id": dict(zip(ids.tolist(), vectors))}


def make_recommender(catalog, cfg, events=ANN, user="ann"):
    tracker = nowrec.InterestTracker(DIM, item_store=catalog["index"])
    recommender = nowrec.Recommender(catalog["index"], tracker, cfg)
    for item, action, t in events:
        assert recommender.observe(user, t, item=item, action=action)
    return recommender, tracker


# RecommenderConfig


def test_config_defaults():
    cfg = nowrec.RecommenderConfig()
    assert (cfg.short_term, cfg.long_term, cfg.clusters, cfg.clusters_min) == (1.0, 0.0, 0.0, 0.0)
    assert (cfg.predicted, cfg.negative, cfg.co_visitation, cfg.prior) == (1.0, 1.0, 0.0, 0.0)
    assert cfg.aggregation == nowrec.Aggregation.Max
    assert not cfg.calibrate and cfg.learn_co_visitation and cfg.exclude_seen
    assert (cfg.mmr_lambda, cfg.threads) == (1.0, 1)
    assert isinstance(cfg.co_visitation_options, nowrec.CoVisitationOptions)


def test_config_save_load_round_trip(tmp_path):
    cfg = nowrec.RecommenderConfig()
    for name, value in CONFIG_FIELDS.items():
        setattr(cfg, name, value)
    options = nowrec.CoVisitationOptions()
    for name, value in CO_VISITATION_FIELDS.items():
        setattr(options, name, value)
    cfg.co_visitation_options = options
    path = tmp_path / "recommender.json"
    cfg.save(path)
    written = json.loads(path.read_text())
    assert written["aggregation"] == "weighted_sum"
    assert written["co_visitation_options"]["voters"] == 4
    loaded = nowrec.RecommenderConfig.load(str(path))
    for name, value in CONFIG_FIELDS.items():
        expected = pytest.approx(value) if isinstance(value, float) else value
        assert getattr(loaded, name) == expected, name
    for name, value in CO_VISITATION_FIELDS.items():
        assert getattr(loaded.co_visitation_options, name) == pytest.approx(value), name


def test_config_fields_left_out_keep_their_defaults(tmp_path):
    path = tmp_path / "partial.json"
    path.write_text(json.dumps({"long_term": 0.5, "co_visitation_options": {"voters": 3}}))
    loaded = nowrec.RecommenderConfig.load(path)
    assert loaded.long_term == 0.5 and loaded.short_term == 1.0
    assert loaded.co_visitation_options.voters == 3
    assert loaded.co_visitation_options.voter_decay == pytest.approx(0.8)
    with pytest.raises(nowrec.Error) as caught:
        nowrec.RecommenderConfig.load(tmp_path / "absent.json")
    assert caught.value.code == nowrec.ErrorCode.Io


def test_config_fields_float32_cannot_hold_are_refused(catalog):
    cfg = nowrec.RecommenderConfig()
    for name in ("short_term", "clusters_min", "co_visitation", "prior", "mmr_lambda"):
        with pytest.raises(ValueError, match=f"^{name} = 1e\\+39 is outside float32's range$"):
            setattr(cfg, name, 1e39)
        with pytest.raises(ValueError, match=f"^{name} = 1e-300 is outside float32's range$"):
            setattr(cfg, name, 1e-300)
    with pytest.raises(ValueError, match="^voter_decay = -1e\\+39 is outside float32's range$"):
        cfg.co_visitation_options.voter_decay = -1e39
    assert (cfg.short_term, cfg.prior, cfg.mmr_lambda) == (1.0, 0.0, 1.0)
    cfg.short_term = float("nan")  # left for the Recommender to name, as before
    assert math.isnan(cfg.short_term)
    recommender, _ = make_recommender(catalog, config(short_term=1.0))
    with pytest.raises(ValueError, match="^weight = 1e\\+39 is outside float32's range$"):
        recommender.observe("ann", NOW, item=101, weight=1e39)


# Recommender


@pytest.mark.parametrize("aggregation", [nowrec.Aggregation.Max, nowrec.Aggregation.WeightedSum],
                         ids=lambda a: a.name)
def test_scores_equal_numpy(catalog, aggregation):
    cfg = config(short_term=1.0, long_term=0.5, aggregation=aggregation)
    recommender, _ = make_recommender(catalog, cfg)
    vectors, ids = catalog["vectors"], catalog["ids"]
    short_term = vectors @ decayed_unit(catalog["by_id"], ANN, NOW, SHORT_HALF_LIFE)
    long_term = 0.5 * (vectors @ decayed_unit(catalog["by_id"], ANN, NOW, LONG_HALF_LIFE))
    scores = np.maximum(short_term, long_term) if aggregation == nowrec.Aggregation.Max \
        else short_term + long_term
    seen = np.isin(ids, [item for item, _, _ in ANN])
    want_ids, want_scores = top_k(ids, scores, 10, ~seen)
    got = recommender.recommend("ann", NOW, k=10)
    assert [r.item for r in got] == want_ids
    assert np.abs(np.array([r.score for r in got]) - want_scores).max() <= 1e-5


def test_short_term_only_scores_and_explanations(catalog):
    recommender, tracker = make_recommender(catalog, config(short_term=1.0))
    vectors, ids = catalog["vectors"], catalog["ids"]
    scores = vectors @ decayed_unit(catalog["by_id"], ANN, NOW, SHORT_HALF_LIFE)
    seen = np.isin(ids, [item for item, _, _ in ANN])
    want_ids, want_scores = top_k(ids, scores, 8, ~seen)
    got = recommender.recommend("ann", NOW, k=8)
    assert [r.item for r in got] == want_ids
    assert tracker.interests("ann", NOW)[0].kind == nowrec.InterestKind.ShortTerm
    for r, want in zip(got, want_scores):
        assert r.score == pytest.approx(want, abs=1e-5)
        assert r.interest_score == pytest.approx(r.score, abs=1e-6)
        assert r.interest_match == pytest.approx(r.score, abs=1e-5)  # weight 1
        assert (r.negative_score, r.co_visitation_score, r.prior_score) == (0.0, 0.0, 0.0)
        assert r.signal == nowrec.Signal.Interest
        assert r.interest_kind == nowrec.InterestKind.ShortTerm
        assert r.interest_index == 0
        assert r.co_visited_with is None
        assert repr(r).startswith(f"Recommendation(item={r.item}")


def test_exclude_seen_off_recommends_seen_items(catalog):
    cfg = config(short_term=1.0, exclude_seen=False)
    recommender, _ = make_recommender(catalog, cfg)
    scores = catalog["vectors"] @ decayed_unit(catalog["by_id"], ANN, NOW, SHORT_HALF_LIFE)
    want_ids, _ = top_k(catalog["ids"], scores, 5, np.ones(len(scores), bool))
    assert [r.item for r in recommender.recommend("ann", NOW, k=5)] == want_ids
    assert 120 in want_ids  # the purchase dominates the short term


def test_filters(catalog):
    recommender, _ = make_recommender(catalog, config(short_term=1.0))
    ids = catalog["ids"]
    scores = catalog["vectors"] @ decayed_unit(catalog["by_id"], ANN, NOW, SHORT_HALF_LIFE)
    keep = ~np.isin(ids, [item for item, _, _ in ANN])
    exclude = np.array(top_k(ids, scores, 3, keep)[0], np.int64)
    got = recommender.recommend("ann", NOW, k=5, exclude=exclude)
    assert [r.item for r in got] == top_k(ids, scores, 5, keep & ~np.isin(ids, exclude))[0]
    allow = ids[::9].copy()
    got = recommender.recommend("ann", NOW, k=5, allow=allow)
    assert [r.item for r in got] == top_k(ids, scores, 5, keep & np.isin(ids, allow))[0]
    got = recommender.recommend("ann", NOW, k=5, categories=np.array([2], np.uint32))
    assert [r.item for r in got] == top_k(ids, scores, 5, keep & (ids % 4 == 2))[0]


def test_priors(catalog, rng):
    index, ids = catalog["index"], catalog["ids"]
    priors = rng.uniform(0, 1, len(ids)).astype(np.float32)
    index.set_priors(ids, priors)
    recommender, _ = make_recommender(catalog, config(short_term=1.0, prior=0.5))
    scores = catalog["vectors"] @ decayed_unit(catalog["by_id"], ANN, NOW, SHORT_HALF_LIFE)
    keep = ~np.isin(ids, [item for item, _, _ in ANN])
    want_ids, want_scores = top_k(ids, scores + 0.5 * priors, 10, keep)
    got = recommender.recommend("ann", NOW, k=10)
    assert [r.item for r in got] == want_ids
    prior_of = dict(zip(ids.tolist(), priors))
    for r, want in zip(got, want_scores):
        assert r.score == pytest.approx(want, abs=1e-5)
        assert r.prior_score == pytest.approx(0.5 * prior_of[r.item], abs=1e-6)
        assert r.score == pytest.approx(r.interest_score + r.co_visitation_score + r.prior_score,
                                        abs=1e-5)
    # A user with no events gets the items with the best priors.
    stranger = recommender.recommend("stranger", NOW, k=3)
    assert [r.item for r in stranger] == top_k(ids, priors, 3, np.ones(len(ids), bool))[0]
    assert all(r.signal == nowrec.Signal.Prior and r.interest_index is None for r in stranger)


def test_calibrate_makes_the_best_match_score_the_kind_weight(catalog):
    recommender, _ = make_recommender(catalog, config(short_term=0.8, calibrate=True))
    best = recommender.recommend("ann", NOW, k=3)[0]
    assert best.score == pytest.approx(0.8, abs=1e-5)


def test_recommend_batch_equals_recommend(catalog, rng):
    recommender, _ = make_recommender(catalog, config(short_term=1.0, long_term=0.3))
    ids = catalog["ids"]
    for user in ("bob", "carl"):
        for t in range(5):
            recommender.observe(user, 100 * t, item=int(rng.choice(ids)), action="click")
    users = ["ann", "bob", "stranger", "carl", "ann"]
    exclude = ids[:20].copy()
    batch = recommender.recommend_batch(users, NOW, k=6, exclude=exclude)
    assert len(batch) == len(users)
    for user, got in zip(users, batch):
        single = recommender.recommend(user, NOW, k=6, exclude=exclude)
        assert [(r.item, r.interest_index) for r in got] == \
            [(r.item, r.interest_index) for r in single]
        assert np.allclose([r.score for r in got], [r.score for r in single], atol=1e-6)


def test_explain_false_keeps_items_and_scores(catalog):
    recommender, _ = make_recommender(catalog, config(short_term=1.0))
    explained = recommender.recommend("ann", NOW, k=5)
    plain = recommender.recommend("ann", NOW, k=5, explain=False)
    assert [(r.item, r.score) for r in plain] == [(r.item, r.score) for r in explained]


def test_co_visitation(catalog):
    assert make_recommender(catalog, config(short_term=1.0))[0].co_visitation_stats is None
    recommender, _ = make_recommender(catalog, config(short_term=1.0, co_visitation=0.5),
                                      events=[])
    for user in ("a", "b", "c"):
        for t, item in enumerate([101, 102, 103]):
            recommender.observe(user, t, item=item, action="click")
    stats = recommender.co_visitation_stats
    # Each user pairs 102 with 101, and 103 with 102 and 101, in both directions.
    assert (stats.items, stats.edges, stats.pairs_added) == (3, 6, 9)
    assert stats.evictions == 0 and stats.memory_bytes > 0

    recommender.observe("dan", 10, item=101, action="click")
    got = {r.item: r for r in recommender.recommend("dan", 11, k=len(catalog["ids"]) - 1)}
    assert 101 not in got  # seen
    for item in (102, 103):
        r = got[item]
        assert r.co_visitation_score == pytest.approx(0.5 * math.log(1 + 3), rel=1e-5)
        assert r.co_visited_with == 101
        assert r.score == pytest.approx(r.interest_score + r.co_visitation_score, abs=1e-5)
        assert r.signal == (nowrec.Signal.CoVisitation if r.co_visitation_score > r.interest_score
                            else nowrec.Signal.Interest)
    others = [r for item, r in got.items() if item not in (102, 103)]
    assert all(r.co_visitation_score == 0.0 and r.co_visited_with is None for r in others)


def test_learn_co_visitation_off_learns_nothing(catalog):
    recommender, _ = make_recommender(
        catalog, config(short_term=1.0, co_visitation=0.5, learn_co_visitation=False))
    assert recommender.co_visitation_stats.pairs_added == 0
    assert recommender.co_visitation_stats.edges == 0


def test_forget(catalog):
    recommender, tracker = make_recommender(catalog, config(short_term=1.0))
    assert recommender.recommend("ann", NOW, k=3)[0].interest_index == 0
    assert recommender.forget("ann") is True
    assert recommender.forget("ann") is False
    assert tracker.user_stats("ann") is None
    assert [r.interest_index for r in recommender.recommend("ann", NOW, k=3)] == [None] * 3


def test_errors(catalog):
    recommender, tracker = make_recommender(catalog, config(short_term=1.0))
    for call in (lambda: recommender.recommend("ann", NOW - 1000, k=3),
                 lambda: recommender.recommend("ann", NOW, k=0),
                 lambda: recommender.recommend("ann", NOW, k=len(catalog["ids"]) + 1),
                 lambda: recommender.observe("ann", NOW, item=99999)):
        with pytest.raises(nowrec.Error) as caught:
            call()
        assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    bad = config(short_term=float("nan"))
    with pytest.raises(nowrec.Error, match="short_term") as caught:
        nowrec.Recommender(catalog["index"], tracker, bad)
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    with pytest.raises(nowrec.Error, match="dim") as caught:
        nowrec.Recommender(catalog["index"], nowrec.InterestTracker(DIM + 1))
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    with pytest.raises(TypeError, match="^exclude must have dtype int64"):
        recommender.recommend("ann", NOW, k=3, exclude=np.array([1], np.int32))


def test_config_is_the_one_given_and_cannot_be_changed_behind_its_back(catalog):
    recommender, _ = make_recommender(catalog, config(short_term=1.0, long_term=0.25))
    assert recommender.config.short_term == 1.0 and recommender.config.long_term == 0.25
    before = [(r.item, r.score) for r in recommender.recommend("ann", NOW, k=5)]
    recommender.config.short_term = 7.0
    assert recommender.config.short_term == 1.0
    assert [(r.item, r.score) for r in recommender.recommend("ann", NOW, k=5)] == before


def test_the_recommender_keeps_its_index_and_tracker_alive(catalog):
    recommender, _ = make_recommender(catalog, config(short_term=1.0))
    catalog.clear()
    gc.collect()
    recommender.observe("ann", NOW, item=150, action="click")
    assert len(recommender.recommend("ann", NOW, k=3)) == 3


def test_the_python_docs_example(encoder):
    """docs/python.md's "From texts to a user's live top 10", output included."""
    titles = ["Toy Story (1995)", "Alien (1979)", "Finding Nemo (2003)", "Aliens (1986)",
              "Notting Hill (1999)", "WALL-E (2008)"]
    ids = np.arange(len(titles), dtype=np.int64)
    index = nowrec.ItemIndex(encoder.dim)
    index.add(ids, encoder.encode(titles))
    tracker = nowrec.InterestTracker(encoder.dim, item_store=index, encoder=encoder)
    cfg = nowrec.RecommenderConfig()
    cfg.long_term = 0.5
    recommender = nowrec.Recommender(index, tracker, cfg)
    recommender.observe("ann", 1000, item=1, action="click")
    recommender.observe("ann", 1030, text="robots in space", action="search")
    lines = [f"{titles[r.item]:22} {r.score:.3f} {r.signal.name} via {r.interest_kind.name}"
             for r in recommender.recommend("ann", now=1060, k=3)]
    assert lines == ["Aliens (1986)          0.453 Interest via ShortTerm",
                     "Finding Nemo (2003)    0.324 Interest via ShortTerm",
                     "Toy Story (1995)       0.313 Interest via ShortTerm"]
