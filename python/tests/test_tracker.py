"""InterestTracker: the documented formulas, batches, windows, stats, snapshots, keys, bad input."""

import gc
import re

import numpy as np
import pytest

import nowrec

DIM = 8
DAY = 86400.0
K = nowrec.InterestKind
# The default action weights (docs/interest_tracker.md).
ACTIONS = {"view": 0.5, "click": 1.0, "like": 2.0, "add_to_cart": 3.0, "purchase": 5.0,
           "share": 3.0, "search": 4.0, "skip": -0.5, "dislike": -2.0}


def unit_rows(rng, rows, dim=DIM):
    vectors = rng.standard_normal((rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def orthonormal_rows(rng, rows, dim=DIM):
    q, _ = np.linalg.qr(rng.standard_normal((dim, rows)))
    return np.ascontiguousarray(q.T, dtype=np.float32)


def decayed_sum(events, now, half_life, *, negative_only=False):
    """(sum of w * e * 2^-(now - t)/h, sum of w * 2^-(now - t)/h) over (e, w, t) events."""
    vector, weight = np.zeros(len(events[0][0])), 0.0
    for embedding, w, t in events:
        if negative_only and w >= 0:
            continue
        w = abs(w) if negative_only else w
        factor = w * 2.0 ** (-(now - t) / half_life)
        vector += factor * embedding.astype(np.float64)
        weight += factor
    return vector, weight


def kinds_and_weights(tracker, user, now):
    return [(interest.kind, interest.weight) for interest in tracker.interests(user, now)]


@pytest.fixture
def items(rng):
    """An ItemIndex of 20 unit items, ids 100..119, as the tracker's item store."""
    index = nowrec.ItemIndex(DIM)
    index.add(np.arange(100, 120, dtype=np.int64), unit_rows(rng, 20))
    return index


@pytest.fixture
def worked_example(rng):
    """docs/interest_tracker.md's example: click A at 0, like B at 600, skip C at 1200."""
    a, b, c = orthonormal_rows(rng, 3)
    index = nowrec.ItemIndex(DIM)
    index.add(np.array([1, 2, 3], np.int64), np.stack([a, b, c]))
    tracker = nowrec.InterestTracker(DIM, item_store=index, short_term_half_life_seconds=600)
    assert tracker.update("ann", 0, item=1, action="click")
    assert tracker.update("ann", 600, item=2, action="like")
    assert tracker.update("ann", 1200, item=3, action="skip")
    return tracker, a, b, c


def test_worked_example_kinds_and_weights(worked_example):
    tracker, *_ = worked_example
    long_term = 2.0 ** (-1200 / (30 * DAY)) + 2 * 2.0 ** (-600 / (30 * DAY)) - 0.5
    expected = [(K.ShortTerm, 0.75), (K.LongTerm, long_term),
                (K.Cluster, 2 * 2.0 ** (-600 / (7 * DAY))), (K.Cluster, 2.0 ** (-1200 / (7 * DAY))),
                (K.Negative, 0.5)]
    got = kinds_and_weights(tracker, "ann", 1200)
    assert [kind for kind, _ in got] == [kind for kind, _ in expected]
    assert np.allclose([w for _, w in got], [w for _, w in expected], rtol=1e-5)
    # An hour later the short-term part has shrunk to 1/64; the rest barely moved.
    later = kinds_and_weights(tracker, "ann", 4800)
    assert later[0][1] == pytest.approx(0.75 / 64, rel=1e-5)
    assert later[2][1] == pytest.approx(2 * 2.0 ** (-4200 / (7 * DAY)), rel=1e-5)
    assert tracker.recent_events("ann") == [(1, 0, "click"), (2, 600, "like"), (3, 1200, "skip")]


def test_worked_example_vectors(worked_example):
    tracker, a, b, c = worked_example
    interests = tracker.interests("ann", 1200)
    short_term = 0.25 * a + 1.0 * b - 0.5 * c
    assert interests[0].vector.dtype == np.float32 and interests[0].vector.shape == (DIM,)
    np.testing.assert_allclose(interests[0].vector, short_term / np.linalg.norm(short_term),
                               atol=1e-5)
    np.testing.assert_allclose(interests[2].vector, b, atol=1e-5)
    np.testing.assert_allclose(interests[3].vector, a, atol=1e-5)
    np.testing.assert_allclose(interests[4].vector, c, atol=1e-5)


def _hand_built_events(rng):
    """(embedding, action, event weight, timestamp) of one user: signed, decayed, weighted."""
    vectors = unit_rows(rng, 6)
    plan = [("click", 1.0, 100), ("view", 1.0, 400), ("like", 0.5, 900), ("skip", 1.0, 1500),
            ("purchase", 2.0, 2600), ("dislike", 1.0, 3000)]
    return [(vectors[i], action, weight, t) for i, (action, weight, t) in enumerate(plan)]


def _apply(tracker, events):
    for embedding, action, weight, t in events:
        assert tracker.update("ann", t, embedding=embedding, action=action, weight=weight)


def _weighted(events):
    return [(e, weight * ACTIONS[action], t) for e, action, weight, t in events]


HALF_LIVES = dict(short_term_half_life_seconds=900.0, long_term_half_life_seconds=5 * DAY,
                  negative_half_life_seconds=2000.0)


def test_short_long_and_negative_weights_follow_the_formulas(rng):
    events = _hand_built_events(rng)
    tracker = nowrec.InterestTracker(DIM, **HALF_LIVES)
    _apply(tracker, events)
    now = 3600
    got = dict(kinds_and_weights(tracker, "ann", now)[:2])
    got_negative = kinds_and_weights(tracker, "ann", now)[-1]
    weighted = _weighted(events)
    assert got[K.ShortTerm] == pytest.approx(decayed_sum(weighted, now, 900.0)[1], rel=1e-5)
    assert got[K.LongTerm] == pytest.approx(decayed_sum(weighted, now, 5 * DAY)[1], rel=1e-5)
    assert got_negative[0] == K.Negative
    assert got_negative[1] == pytest.approx(
        decayed_sum(weighted, now, 2000.0, negative_only=True)[1], rel=1e-5)


def test_short_long_and_negative_vectors_follow_the_formulas(rng):
    events = _hand_built_events(rng)
    tracker = nowrec.InterestTracker(DIM, **HALF_LIVES)
    _apply(tracker, events)
    now = 3600
    interests = tracker.interests("ann", now)
    weighted = _weighted(events)
    for interest, half_life, negative_only in [(interests[0], 900.0, False),
                                               (interests[1], 5 * DAY, False),
                                               (interests[-1], 2000.0, True)]:
        vector, _ = decayed_sum(weighted, now, half_life, negative_only=negative_only)
        np.testing.assert_allclose(interest.vector, vector / np.linalg.norm(vector), atol=1e-5)
        assert np.linalg.norm(interest.vector) == pytest.approx(1.0, abs=1e-5)


def test_custom_actions_with_value_weights():
    tracker = nowrec.InterestTracker(DIM, actions={"rate": (0.0, 0.5), "open": 1.5})
    embedding = np.full(DIM, 0.25, np.float32)
    tracker.update("ann", 10, embedding=embedding, action="rate", value=4.0)  # 0 + 0.5 * 4 = 2
    assert kinds_and_weights(tracker, "ann", 10)[0][1] == pytest.approx(2.0)
    tracker.update("ann", 10, embedding=embedding, action="rate", value=2.0, weight=3.0)  # 3 * 1
    tracker.update("ann", 10, embedding=embedding, action="open")
    assert kinds_and_weights(tracker, "ann", 10)[0][1] == pytest.approx(2.0 + 3.0 + 1.5)
    with pytest.raises(nowrec.Error, match="unknown action 'nope'"):
        tracker.update("ann", 10, embedding=embedding, action="nope")


@pytest.mark.parametrize("actions, says", [
    ({1: 1.0}, "actions: the action 1 must be named by a str, got int"),
    ({"click": "x"}, "actions['click'] must be a number or a (weight, value_weight) tuple of two "
                     "numbers, got 'x'"),
    ({"click": (1, 2, 3)}, "actions['click'] must be a number or a (weight, value_weight) tuple "
                           "of two numbers, got (1, 2, 3)"),
    ({"rate": (1.0, None)}, "actions['rate'] must be a number"),
    ({"rate": [1.0, 0.5]}, "actions['rate'] must be a number"),
], ids=["int name", "str weight", "three weights", "None value_weight", "list"])
def test_actions_of_the_wrong_type_name_the_action(actions, says):
    with pytest.raises(TypeError, match="^" + re.escape(says)):
        nowrec.InterestTracker(DIM, actions=actions)


def test_no_action_uses_the_event_weight(rng):
    tracker = nowrec.InterestTracker(DIM)
    tracker.update("ann", 10, embedding=unit_rows(rng, 1)[0], weight=1.75)
    assert kinds_and_weights(tracker, "ann", 10)[0] == (K.ShortTerm, pytest.approx(1.75))
    assert tracker.recent_events("ann") == [(-1, 10, "")]


def _random_stream(rng, count=60):
    users = [f"user-{i % 5}" for i in range(count)]
    timestamps = np.cumsum(rng.integers(1, 300, count)).astype(np.int64)
    item_ids = rng.integers(100, 120, count).astype(np.int64)
    actions = [["view", "click", "like", "skip", "purchase"][i] for i in rng.integers(0, 5, count)]
    weights = rng.uniform(0.5, 2.0, count).astype(np.float32)
    return users, timestamps, item_ids, actions, weights


def _assert_same_state(a, b, users, now, tmp_path):
    assert len(a) == len(b)
    for user in set(users):
        assert kinds_and_weights(a, user, now) == kinds_and_weights(b, user, now)
        assert a.recent_events(user) == b.recent_events(user)
        assert a.user_stats(user).events == b.user_stats(user).events
    # The whole state, vectors included: the snapshots are byte for byte the same.
    a.snapshot(tmp_path / "a.snap", 1)
    b.snapshot(tmp_path / "b.snap", 1)
    assert (tmp_path / "a.snap").read_bytes() == (tmp_path / "b.snap").read_bytes()


def test_update_batch_equals_updates_one_by_one(items, rng, tmp_path):
    users, timestamps, item_ids, actions, weights = _random_stream(rng)
    batched = nowrec.InterestTracker(DIM, item_store=items)
    assert batched.update_batch(users, timestamps, items=item_ids, actions=actions,
                                weights=weights) == len(users)
    single = nowrec.InterestTracker(DIM, item_store=items)
    for user, t, item, action, weight in zip(users, timestamps, item_ids, actions, weights):
        single.update(user, int(t), item=int(item), action=action, weight=float(weight))
    _assert_same_state(batched, single, users, int(timestamps[-1]), tmp_path)


def test_update_batch_of_embeddings_and_values(rng, tmp_path):
    count = 12
    users = ["ann", "bob"] * (count // 2)
    timestamps = np.arange(count, dtype=np.int64) * 60
    embeddings = unit_rows(rng, count)
    values = rng.uniform(1, 5, count).astype(np.float32)
    actions = {"view": 0.5, "like": 2.0}
    names = ["view", "like"] * (count // 2)
    batched = nowrec.InterestTracker(DIM)
    assert batched.update_batch(users, timestamps, embeddings=embeddings, values=values,
                                actions=names) == count
    single = nowrec.InterestTracker(DIM)
    for i in range(count):
        single.update(users[i], int(timestamps[i]), embedding=embeddings[i], value=float(values[i]),
                      action=names[i])
    _assert_same_state(batched, single, users, int(timestamps[-1]), tmp_path)
    assert kinds_and_weights(batched, "ann", int(timestamps[-1]))[1][1] == pytest.approx(
        sum(actions[names[i]] * 2.0 ** (-(660 - timestamps[i]) / (30 * DAY))
            for i in range(0, count, 2)), rel=1e-5)


def test_update_batch_with_one_action_for_all(items):
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    assert tracker.update_batch(["ann", "ann"], np.array([1, 2], np.int64),
                                items=np.array([100, 101], np.int64), actions="like") == 2
    assert tracker.recent_events("ann") == [(100, 1, "like"), (101, 2, "like")]


def test_update_batch_applies_every_good_event_and_names_the_first_bad_one(items):
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    item_ids = np.array([100, 101, 999, 102, 998], np.int64)
    with pytest.raises(nowrec.Error) as caught:
        tracker.update_batch(["ann"] * 5, np.array([1, 2, 3, 4, 5], np.int64), items=item_ids,
                             actions=["click"] * 5)
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    message = str(caught.value)
    assert "event 2" in message and "999" in message and "2 of 5 events rejected" in message
    assert tracker.recent_events("ann") == [(100, 1, "click"), (101, 2, "click"), (102, 4, "click")]
    assert tracker.stats().events_applied == 3 and tracker.stats().events_rejected == 2


def test_update_batch_can_skip_bad_events_quietly(items):
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    applied = tracker.update_batch(["ann", "bob", "cid"], np.array([1, 2, 3], np.int64),
                                   items=np.array([100, 999, 101], np.int64), on_error="skip")
    assert applied == 2
    assert tracker.user_stats("bob") is None and tracker.stats().events_rejected == 1
    with pytest.raises(ValueError, match="on_error must be"):
        tracker.update_batch(["ann"], np.array([9], np.int64), items=np.array([100], np.int64),
                             on_error="ignore")


def test_update_batch_argument_errors(items):
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    with pytest.raises(ValueError, match="timestamps has 1 entries for 2 users"):
        tracker.update_batch(["a", "b"], np.array([1], np.int64), items=np.array([100, 101]))
    with pytest.raises(ValueError, match="items, embeddings or both"):
        tracker.update_batch(["a"], np.array([1], np.int64))
    with pytest.raises(ValueError, match="actions has 1 entries for 2 users"):
        tracker.update_batch(["a", "b"], np.array([1, 2], np.int64),
                             items=np.array([100, 101], np.int64), actions=["click"])
    with pytest.raises(ValueError, match="embeddings has rows of 3 values"):
        tracker.update_batch(["a"], np.array([1], np.int64), embeddings=np.ones((1, 3), np.float32))
    assert len(tracker) == 0


def test_update_batch_refuses_an_empty_action_list_for_some_users(items):
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    with pytest.raises(ValueError, match="actions has 0 entries for 2 users"):
        tracker.update_batch(["a", "b"], np.array([1, 2], np.int64),
                             items=np.array([100, 101], np.int64), actions=[])
    assert len(tracker) == 0
    assert tracker.update_batch([], np.zeros(0, np.int64), items=np.zeros(0, np.int64),
                                actions=[]) == 0


def test_recent_events_window_and_late_events(items):
    tracker = nowrec.InterestTracker(DIM, item_store=items, recent_window=3,
                                     allowed_lateness_seconds=100)
    for t, item in [(10, 100), (20, 101), (30, 102), (40, 103)]:
        tracker.update("ann", t, item=item, action="view")
    assert tracker.recent_events("ann") == [(101, 20, "view"), (102, 30, "view"), (103, 40, "view")]
    assert tracker.update("ann", 35, item=104, action="like")  # late, within the lateness
    assert tracker.recent_events("ann") == [(102, 30, "view"), (104, 35, "like"), (103, 40, "view")]
    with pytest.raises(nowrec.Error, match="allowed lateness"):
        tracker.update("ann", -61, item=105)
    assert tracker.recent_events("nobody") == []


def test_user_stats_and_stats(items):
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    tracker.update("ann", 100, item=100, action="click", sequence=7)
    tracker.update("ann", 250, item=101, action="like", sequence=8)
    tracker.update("bob", 300, item=102, action="view")
    with pytest.raises(nowrec.Error):
        tracker.update("bob", 301, item=999)
    ann = tracker.user_stats("ann")
    assert (ann.events, ann.first_timestamp, ann.last_timestamp) == (2, 100, 250)
    assert ann.last_sequence == 8 and ann.interests >= 1 and ann.memory_bytes > 0
    assert tracker.user_stats("nobody") is None
    stats = tracker.stats()
    assert (stats.users, stats.events_applied, stats.events_rejected) == (2, 3, 1)
    assert (stats.events_duplicate, stats.users_evicted, stats.users_expired,
            stats.users_forgotten) == (0, 0, 0, 0)
    assert stats.memory_bytes >= ann.memory_bytes
    assert stats.mapped_state_bytes > 0  # the growth slab the two users came from
    assert len(tracker) == 2 and tracker.dim == DIM


def test_forget(items):
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    tracker.update("ann", 1, item=100)
    tracker.update("bob", 1, item=101)
    assert tracker.forget("ann") is True
    assert tracker.forget("ann") is False
    assert len(tracker) == 1 and tracker.stats().users_forgotten == 1
    assert tracker.interests("ann", 5) == [] and tracker.recent_events("ann") == []
    assert tracker.user_stats("ann") is None
    tracker.update("ann", 2, item=102)  # a new state
    assert tracker.user_stats("ann").events == 1


def test_expire_drops_users_past_the_ttl(items):
    tracker = nowrec.InterestTracker(DIM, item_store=items, ttl_seconds=100)
    tracker.update("old", 0, item=100)
    tracker.update("new", 1000, item=101)
    assert tracker.expire(1050) == 1
    assert len(tracker) == 1 and tracker.user_stats("old") is None
    assert tracker.stats().users_expired == 1


def test_sequences_apply_each_event_once(items):
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    assert tracker.update("ann", 10, item=100, sequence=5) is True
    before = kinds_and_weights(tracker, "ann", 20)
    assert tracker.update("ann", 11, item=101, sequence=5) is False
    assert tracker.update("ann", 12, item=102, sequence=3) is False
    assert kinds_and_weights(tracker, "ann", 20) == before
    assert tracker.recent_events("ann") == [(100, 10, "")]
    assert tracker.update("ann", 13, item=103, sequence=6) is True
    assert tracker.stats().events_duplicate == 2
    assert tracker.user_stats("ann").last_sequence == 6


def test_snapshot_restore_round_trip(items, rng, tmp_path):
    users, timestamps, item_ids, actions, weights = _random_stream(rng)
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    tracker.update_batch(users, timestamps, items=item_ids, actions=actions, weights=weights)
    path = tmp_path / "tracker.snap"
    tracker.snapshot(path, watermark=123_456)
    restored = nowrec.InterestTracker(DIM)
    restored.update("stranger", 5, embedding=unit_rows(rng, 1)[0])
    assert restored.restore(str(path)) == 123_456
    assert restored.user_stats("stranger") is None  # replaced, not merged
    _assert_same_state(tracker, restored, users, int(timestamps[-1]), tmp_path)
    tracker.snapshot(path)  # over the old file, watermark 0
    assert nowrec.InterestTracker(DIM).restore(path) == 0


def test_restore_of_a_corrupt_snapshot_leaves_the_state_untouched(items, rng, tmp_path):
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    tracker.update("ann", 1, item=100, action="click")
    tracker.update("bob", 2, item=101, action="like")
    good = tmp_path / "good.snap"
    tracker.snapshot(good, 9)
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "flipped.snap").write_bytes(bytes(data))
    (tmp_path / "truncated.snap").write_bytes(bytes(data[: len(data) // 3]))
    (tmp_path / "garbage.snap").write_bytes(b"NOWRECIT" + rng.bytes(300))

    live = nowrec.InterestTracker(DIM, item_store=items)
    live.update("carl", 5, item=102, action="view")
    expected = (kinds_and_weights(live, "carl", 5), live.recent_events("carl"), len(live))
    for name in ("flipped.snap", "truncated.snap", "garbage.snap"):
        with pytest.raises(nowrec.Error) as caught:
            live.restore(tmp_path / name)
        assert caught.value.code == nowrec.ErrorCode.InvalidFormat, name
        assert name in str(caught.value)
        assert (kinds_and_weights(live, "carl", 5), live.recent_events("carl"),
                len(live)) == expected
    with pytest.raises(nowrec.Error) as caught:
        live.restore(tmp_path / "missing.snap")
    assert caught.value.code == nowrec.ErrorCode.Io
    with pytest.raises(nowrec.Error, match="dim") as caught:
        nowrec.InterestTracker(DIM + 1).restore(good)
    assert caught.value.code == nowrec.ErrorCode.InvalidFormat
    assert len(live) == 1 and live.restore(good) == 9 and len(live) == 2


def test_user_id_key_keeps_raw_ids_out_of_snapshots(items, tmp_path):
    key = bytes(range(16))
    tracker = nowrec.InterestTracker(DIM, item_store=items, user_id_key=key)
    tracker.update("alice@example.com", 1, item=100, action="click")
    assert tracker.recent_events("alice@example.com") == [(100, 1, "click")]
    assert tracker.user_stats("alice@example.com").events == 1
    path = tmp_path / "keyed.snap"
    tracker.snapshot(path, 3)
    assert b"alice" not in path.read_bytes()

    same_key = nowrec.InterestTracker(DIM, user_id_key=key)
    assert same_key.restore(path) == 3
    assert same_key.recent_events("alice@example.com") == [(100, 1, "click")]
    for other in (nowrec.InterestTracker(DIM, user_id_key=bytes(16)), nowrec.InterestTracker(DIM)):
        with pytest.raises(nowrec.Error) as caught:
            other.restore(path)
        assert caught.value.code == nowrec.ErrorCode.InvalidFormat
    raw = tmp_path / "raw.snap"
    nowrec.InterestTracker(DIM, item_store=items).snapshot(raw)
    with pytest.raises(nowrec.Error) as caught:
        same_key.restore(raw)
    assert caught.value.code == nowrec.ErrorCode.InvalidFormat
    with pytest.raises(nowrec.Error, match="user_id_key") as caught:
        nowrec.InterestTracker(DIM, user_id_key=b"too short")
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument


def test_bf16_state_is_smaller_and_close(items, rng):
    users, timestamps, item_ids, actions, weights = _random_stream(rng, 20)
    f32 = nowrec.InterestTracker(DIM, item_store=items)
    bf16 = nowrec.InterestTracker(DIM, item_store=items, dtype=nowrec.StateDtype.BF16)
    for tracker in (f32, bf16):
        tracker.update_batch(users, timestamps, items=item_ids, actions=actions, weights=weights)
    assert bf16.user_stats("user-0").memory_bytes < f32.user_stats("user-0").memory_bytes
    now = int(timestamps[-1])
    for (kind_a, weight_a), (kind_b, weight_b) in zip(kinds_and_weights(f32, "user-0", now),
                                                      kinds_and_weights(bf16, "user-0", now)):
        assert kind_a == kind_b and weight_a == pytest.approx(weight_b, rel=1e-2, abs=1e-2)


def test_bad_events_are_refused_and_change_nothing(items, rng):
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    tracker.update("ann", 100, item=100, action="click")
    before = (kinds_and_weights(tracker, "ann", 100), tracker.recent_events("ann"))
    embedding = unit_rows(rng, 1)[0]
    nan = embedding.copy()
    nan[2] = np.nan
    bad_events = [
        (dict(user="", timestamp=100, item=100), "empty user"),
        (dict(user="ann", timestamp=100, item=999), "999"),
        (dict(user="ann", timestamp=100, item=100, action="teleport"), "teleport"),
        (dict(user="ann", timestamp=10, item=100), "older"),
        (dict(user="ann", timestamp=100, embedding=embedding[:5].copy()), "dim"),
        (dict(user="ann", timestamp=100, embedding=nan), "non-finite"),
        (dict(user="ann", timestamp=100), "no vector"),
        (dict(user="ann", timestamp=100, item=100, weight=float("inf")), "weight"),
        (dict(user="ann", timestamp=100, item=100, value=float("nan")), "value"),
        (dict(user="ann", timestamp=100, text="jazz"), "encoder"),
    ]
    for event, says in bad_events:
        with pytest.raises(nowrec.Error) as caught:
            tracker.update(**event)
        assert caught.value.code == nowrec.ErrorCode.InvalidArgument, event
        assert says in str(caught.value), (event, str(caught.value))
    assert (kinds_and_weights(tracker, "ann", 100), tracker.recent_events("ann")) == before
    assert tracker.stats().events_rejected == len(bad_events)
    with pytest.raises(TypeError, match="embedding must have dtype float32"):
        tracker.update("ann", 100, embedding=embedding.astype(np.float64))


@pytest.mark.parametrize("value", [1e39, -1e39, 1e-300, -1e-300])
def test_floats_float32_cannot_hold_are_refused(items, value):
    # float32 would hold 1e39 as inf, reported as not finite although it was, and 1e-300 as 0.
    tracker = nowrec.InterestTracker(DIM, item_store=items)
    text = re.escape(repr(value))
    for field in ("weight", "value"):
        with pytest.raises(ValueError, match=f"^{field} = {text} is outside float32's range$"):
            tracker.update("ann", 100, item=100, action="click", **{field: value})
    assert len(tracker) == 0 and tracker.stats().events_rejected == 0
    for actions, field in (({"click": value}, "actions['click']"),
                           ({"rate": (value, 0.5)}, "actions['rate'] weight"),
                           ({"rate": (1.0, value)}, "actions['rate'] value_weight")):
        with pytest.raises(ValueError, match=f"^{re.escape(field)} = {text} is outside float32"):
            nowrec.InterestTracker(DIM, actions=actions)
    with pytest.raises(ValueError, match=f"^join_min_cosine = {text} is outside float32"):
        nowrec.InterestTracker(DIM, join_min_cosine=value)
    # float32's own small and large values pass, and non-finite ones still reach the tracker.
    assert tracker.update("ann", 100, item=100, weight=1e-30)
    nowrec.InterestTracker(DIM, actions={"click": 3e38, "rate": (0.0, 1e-40)})
    with pytest.raises(nowrec.Error, match="weight"):
        tracker.update("ann", 100, item=100, weight=float("inf"))


@pytest.mark.parametrize("options, says", [
    (dict(max_interests=0), "max_interests"),
    (dict(short_term_half_life_seconds=-1.0), "short_term_half_life_seconds"),
    (dict(interest_half_life_seconds=float("nan")), "interest_half_life_seconds"),
])
def test_bad_options_name_the_option(options, says):
    with pytest.raises(nowrec.Error, match=says) as caught:
        nowrec.InterestTracker(DIM, **options)
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument


def test_the_tracker_keeps_its_item_store_alive(rng):
    index = nowrec.ItemIndex(DIM)
    index.add(np.array([1], np.int64), unit_rows(rng, 1))
    tracker = nowrec.InterestTracker(DIM, item_store=index)
    del index
    gc.collect()
    assert tracker.update("ann", 1, item=1, action="click")


# Text events (the MiniLM encoder)


def test_text_events_are_encoded(encoder):
    text_index = nowrec.ItemIndex(encoder.dim)
    item = encoder.encode(["Alien (1979)"])
    text_index.add(np.array([1], np.int64), item)
    tracker = nowrec.InterestTracker(encoder.dim, item_store=text_index, encoder=encoder)
    assert tracker.update("ann", 10, text="robots in space", action="search")
    query = encoder.encode(["robots in space"])[0]
    short_term = tracker.interests("ann", 10)[0]
    assert short_term.weight == pytest.approx(4.0)  # search
    np.testing.assert_allclose(short_term.vector, query, atol=1e-5)
    # An item with a text: the event's vector is the mean of both.
    assert tracker.update("bob", 10, item=1, text="robots in space", action="click")
    mean = (item[0] + query) / 2
    np.testing.assert_allclose(tracker.interests("bob", 10)[0].vector,
                               mean / np.linalg.norm(mean), atol=1e-5)


def test_the_tracker_keeps_its_encoder_alive(model_dir):
    own_encoder = nowrec.SequenceEncoder.load(model_dir, threads=1)
    tracker = nowrec.InterestTracker(own_encoder.dim, encoder=own_encoder)
    del own_encoder
    gc.collect()
    assert tracker.update("ann", 1, text="robots in space", action="search")
    assert tracker.interests("ann", 1)[0].weight == pytest.approx(4.0)


def test_text_event_errors(encoder):
    tracker = nowrec.InterestTracker(encoder.dim, encoder=encoder)
    assert tracker.update("ann", 10, text="robots in space", action="search")
    assert tracker.user_stats("ann").events == 1
    with pytest.raises(nowrec.Error) as caught:
        tracker.update("ann", 11, text="", action="search")
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    assert tracker.user_stats("ann").events == 1


def test_expected_users_sizes_tables_without_changing_results(items):
    rng = np.random.default_rng(3)
    users = [f"u{i}" for i in range(300)]
    times = np.arange(300, dtype=np.int64)
    item_ids = rng.choice([100, 101, 102], size=300).astype(np.int64)
    plain = nowrec.InterestTracker(DIM, item_store=items)
    sized = nowrec.InterestTracker(DIM, item_store=items, expected_users=10_000)
    assert plain.update_batch(users, times, items=item_ids) == 300
    assert sized.update_batch(users, times, items=item_ids) == 300
    assert len(sized) == len(plain) == 300
    for user in users[::37]:
        a, b = plain.interests(user, 1000), sized.interests(user, 1000)
        assert [(i.kind, i.weight) for i in a] == [(i.kind, i.weight) for i in b]
        assert all(np.array_equal(x.vector, y.vector) for x, y in zip(a, b))
