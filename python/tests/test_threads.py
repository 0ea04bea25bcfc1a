"""Concurrent calls from Python threads give what sequential calls give (correctness only)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import nowrec

THREADS = 4
DIM = 32


def unit_rows(rng, rows, dim=DIM):
    vectors = rng.standard_normal((rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def run_together(tasks):
    """Runs every callable on its own thread, started together; returns their results in order."""
    barrier = threading.Barrier(len(tasks))

    def start(task):
        barrier.wait()
        return task()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(start, tasks))


def test_encode_in_threads_equals_sequential(encoder, minilm_texts):
    batches = [minilm_texts[i * 30:(i + 1) * 30] for i in range(THREADS)]
    sequential = [encoder.encode(batch) for batch in batches]
    concurrent = run_together([lambda b=b: [encoder.encode(b) for _ in range(2)] for b in batches])
    for want, results in zip(sequential, concurrent):
        for got in results:
            assert np.abs(got - want).max() <= 1e-6
    tokens = run_together([lambda b=b: encoder.encode_tokens(b) for b in batches])
    for (states, offsets), batch in zip(tokens, batches):
        want_states, want_offsets = encoder.encode_tokens(batch)
        assert np.array_equal(offsets, want_offsets)
        assert np.abs(states - want_states).max() <= 1e-6


@pytest.fixture
def catalog(rng):
    ids = rng.permutation(1_000_000)[:5000].astype(np.int64)
    vectors = unit_rows(rng, len(ids))
    index = nowrec.ItemIndex(DIM)
    index.add(ids, vectors, categories=[[int(i % 5)] for i in range(len(ids))])
    return index, ids, vectors


def test_rank_in_threads_equals_sequential(catalog, rng):
    index, ids, _ = catalog
    ranker = nowrec.Ranker(index)
    requests = [dict(queries=unit_rows(rng, n), k=10 + i, exclude=ids[i * 50:(i + 1) * 50].copy(),
                     categories=np.array([i % 5], np.uint32), threads=1 + i % 2)
                for i, n in enumerate([1, 3, 17, 5, 2, 20, 8, 1])]
    sequential = [ranker.rank(**request) for request in requests]
    concurrent = run_together([lambda r=r: [ranker.rank(**r) for _ in range(5)] for r in requests])
    for want, results in zip(sequential, concurrent):
        for got_ids, got_scores in results:
            assert np.array_equal(got_ids, want[0])
            assert np.array_equal(got_scores, want[1])
    interests = unit_rows(rng, 3)
    weights = np.array([1.0, 0.5, 0.25], np.float32)
    want = ranker.rank_interests(interests, weights, k=20)
    for got in run_together([lambda: ranker.rank_interests(interests, weights, k=20)] * THREADS):
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_rankings_never_see_half_a_write(catalog, rng):
    """While a writer flips every item between two embeddings, each ranking is one or the other."""
    index, ids, first = catalog
    second = unit_rows(rng, len(ids))
    queries = unit_rows(rng, 4)
    ranker = nowrec.Ranker(index)
    want_first = ranker.rank(queries, k=10)
    index.update(ids, second)
    want_second = ranker.rank(queries, k=10)
    assert not np.array_equal(want_first[0], want_second[0])

    stop = threading.Event()

    def write():
        try:
            for flip in range(30):
                index.update(ids, first if flip % 2 == 0 else second)
        finally:
            stop.set()

    def read():
        rankings = 0
        while not stop.is_set() or rankings < 10:
            got_ids, got_scores = ranker.rank(queries, k=10)
            assert any(np.array_equal(got_ids, want_ids) and np.array_equal(got_scores, want_scores)
                       for want_ids, want_scores in (want_first, want_second)), \
                "a ranking mixed the two versions of the catalog"
            rankings += 1
        return rankings

    run_together([write, read, read])


def _stream(rng, users, count):
    return [(users[i % len(users)], 10 * i + 5, int(rng.integers(100, 150)),
             ["view", "click", "like", "skip"][i % 4]) for i in range(count)]


def _state(tracker, user, now):
    interests = tracker.interests(user, now)
    return ([(i.kind, round(i.weight, 5)) for i in interests], tracker.recent_events(user),
            tracker.user_stats(user).events)


@pytest.fixture
def items(rng):
    index = nowrec.ItemIndex(DIM)
    index.add(np.arange(100, 150, dtype=np.int64), unit_rows(rng, 50))
    return index


def test_tracker_updates_in_threads_equal_sequential(items, rng):
    streams = [_stream(rng, [f"t{t}-u{u}" for u in range(5)], 200) for t in range(THREADS)]
    sequential = nowrec.InterestTracker(DIM, item_store=items)
    for stream in streams:
        for user, t, item, action in stream:
            sequential.update(user, t, item=item, action=action)

    concurrent = nowrec.InterestTracker(DIM, item_store=items)

    def apply(stream):
        for user, t, item, action in stream:
            assert concurrent.update(user, t, item=item, action=action)

    def apply_batch(stream):
        users, times, item_ids, actions = (list(column) for column in zip(*stream))
        return concurrent.update_batch(users, np.array(times, np.int64),
                                       items=np.array(item_ids, np.int64), actions=actions)

    # Half the threads call update() per event, half update_batch() once.
    run_together([lambda s=s, i=i: (apply if i % 2 else apply_batch)(s)
                  for i, s in enumerate(streams)])
    assert len(concurrent) == len(sequential) == 5 * THREADS
    assert concurrent.stats().events_applied == sequential.stats().events_applied
    now = 10 * 200 + 5
    for stream in streams:
        for user in {event[0] for event in stream}:
            assert _state(concurrent, user, now) == _state(sequential, user, now)


def test_one_user_updated_from_threads_ends_where_sequential_updates_end(items, rng):
    """Late events count with their exact decayed weight, so arrival order does not matter for
    the short-term, long-term and negative parts, and the window is kept in time order."""
    events = _stream(rng, ["ann"], 120)
    sequential = nowrec.InterestTracker(DIM, item_store=items)
    for user, t, item, action in events:
        sequential.update(user, t, item=item, action=action)
    concurrent = nowrec.InterestTracker(DIM, item_store=items, allowed_lateness_seconds=10**6)

    def apply(share):
        for user, t, item, action in share:
            concurrent.update(user, t, item=item, action=action)

    run_together([lambda k=k: apply(events[k::THREADS]) for k in range(THREADS)])
    now = 2000
    got = {i.kind: i.weight for i in concurrent.interests("ann", now)
           if i.kind != nowrec.InterestKind.Cluster}
    want = {i.kind: i.weight for i in sequential.interests("ann", now)
            if i.kind != nowrec.InterestKind.Cluster}
    assert got.keys() == want.keys()
    for kind in want:
        assert got[kind] == pytest.approx(want[kind], rel=1e-4, abs=1e-6), kind
    assert concurrent.recent_events("ann") == sequential.recent_events("ann")


def test_recommender_in_threads_equals_sequential(items, rng):
    config = nowrec.RecommenderConfig()
    config.co_visitation = 0.3
    config.long_term = 0.5
    streams = [_stream(rng, [f"t{t}-u{u}" for u in range(3)], 60) for t in range(THREADS)]

    def build():
        return nowrec.Recommender(items, nowrec.InterestTracker(DIM, item_store=items), config)

    sequential = build()
    for stream in streams:
        for user, t, item, action in stream:
            sequential.observe(user, t, item=item, action=action)
    concurrent = build()
    # Each thread observes its own users; co-visitation pairs only a user's own items, so the
    # graph ends the same whatever the interleaving.
    run_together([lambda s=s: [concurrent.observe(u, t, item=i, action=a) for u, t, i, a in s]
                  for s in streams])
    users = sorted({event[0] for stream in streams for event in stream})
    now = 10 * 60 + 5
    want = sequential.recommend_batch(users, now, k=8)

    def recommend_all():
        return [concurrent.recommend(user, now, k=8) for user in users]

    for result in run_together([recommend_all] * THREADS):
        for got_list, want_list in zip(result, want):
            assert [r.item for r in got_list] == [r.item for r in want_list]
            assert np.allclose([r.score for r in got_list], [r.score for r in want_list],
                               atol=1e-5)
