"""LearnedNextInterestModel against PyTorch: alone, in the InterestTracker, in the Recommender."""

import gc
import json

import numpy as np
import pytest

import nowrec

# The tracker keeps its window sorted by time, while the fixture fed this window to PyTorch in
# arrival order, so through a tracker it is a different window.
OUT_OF_ORDER = "out of order and huge gaps"


@pytest.fixture(scope="module")
def fixture(fixtures_dir):
    folder = fixtures_dir / "next_interest"
    windows = json.loads((folder / "windows.json").read_text())
    data = {
        "model": folder / "model",
        "windows": windows,
        "ids": np.load(folder / "item_ids.npy"),
        "embeddings": np.load(folder / "item_embeddings.npy"),
        "item_vectors": np.load(folder / "item_vectors.npy"),
        "predictions": np.load(folder / "predictions.npy"),
    }
    assert data["ids"].tolist() == windows["item_ids"]
    assert len(data["predictions"]) == len(windows["windows"])
    return data


@pytest.fixture
def text_index(fixture):
    """The items' text embeddings, which the model reads a window's items from."""
    index = nowrec.ItemIndex(fixture["embeddings"].shape[1])
    index.add(fixture["ids"], fixture["embeddings"])
    return index


@pytest.fixture
def model(fixture, text_index):
    return nowrec.LearnedNextInterestModel.load(fixture["model"], text_index, threads=1)


def _feed(tracker, user, events, text_index, fallback):
    """Applies a fixture window's events; items the store lacks come with an embedding."""
    for event in events:
        known = event["item"] in text_index
        tracker.update(user, event["timestamp"], item=event["item"], action=event["action"],
                       embedding=None if known else fallback)


def _predicted(tracker, user, now):
    found = [i for i in tracker.interests(user, now) if i.kind == nowrec.InterestKind.Predicted]
    assert len(found) <= 1
    return found[0] if found else None


def test_model_properties(fixture, model):
    windows = fixture["windows"]
    assert model.item_dim == fixture["embeddings"].shape[1] == 24
    assert model.window == 6
    assert model.id_items == len(windows["id_items"])
    assert model.prior_weight == pytest.approx(windows["prior_weight"])


def test_item_vectors_equal_pytorch(fixture, model):
    vectors = model.item_vectors(fixture["ids"], fixture["embeddings"])
    assert vectors.dtype == np.float32 and vectors.shape == fixture["item_vectors"].shape
    assert np.abs(vectors - fixture["item_vectors"]).max() <= 1e-5
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_item_vectors_bad_input(fixture, model):
    ids, embeddings = fixture["ids"], fixture["embeddings"]
    bad = embeddings[:1].copy()
    bad[0, 3] = np.nan
    with pytest.raises(nowrec.Error, match="non-finite") as caught:
        model.item_vectors(ids[:1], bad)
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    with pytest.raises(nowrec.Error, match="2 item ids for 1"):
        model.item_vectors(ids[:2], embeddings[:1])
    with pytest.raises(ValueError, match="^text_embeddings has rows of 23 values, expected 24"):
        model.item_vectors(ids[:1], np.ascontiguousarray(embeddings[:1, :23]))
    with pytest.raises(TypeError, match="^ids must have dtype int64"):
        model.item_vectors(ids[:1].astype(np.int32), embeddings[:1])


def test_tracker_predictions_equal_pytorch(fixture, text_index, model):
    windows = fixture["windows"]
    tracker = nowrec.InterestTracker(model.item_dim, item_store=text_index,
                                     next_interest_model=model)
    checked = 0
    for number, window in enumerate(windows["windows"]):
        if window["name"] == OUT_OF_ORDER:
            continue
        user = f"user-{number}"
        _feed(tracker, user, window["events"], text_index, fixture["embeddings"][0])
        now = max(event["timestamp"] for event in window["events"])
        predicted = _predicted(tracker, user, now)
        assert predicted is not None, window["name"]
        assert predicted.weight == pytest.approx(windows["prediction_weight"])
        assert np.abs(predicted.vector - fixture["predictions"][number]).max() <= 1e-4, \
            window["name"]
        checked += 1
    assert checked == len(windows["windows"]) - 1


def test_the_model_reads_the_last_events_of_the_window(fixture, text_index, model):
    ids = fixture["ids"]
    tracker = nowrec.InterestTracker(model.item_dim, item_store=text_index,
                                     next_interest_model=model, recent_window=8)
    tail = [(ids[(7 * i) % len(ids)], ["like", "view", "click"][i % 3]) for i in range(6)]
    for user, head in [("ann", [ids[1], ids[2], ids[3]]), ("bob", [ids[9]])]:
        for t, item in enumerate(head):
            tracker.update(user, 100 + t, item=int(item), action="like")
        for t, (item, action) in enumerate(tail):
            tracker.update(user, 1000 + 37 * t * t, item=int(item), action=action)
    ann, bob = _predicted(tracker, "ann", 5000), _predicted(tracker, "bob", 5000)
    assert ann is not None and bob is not None
    assert np.abs(ann.vector - bob.vector).max() <= 1e-6

    # A user none of whose items the store knows gets no prediction.
    unknown = fixture["windows"]["unknown_item"]
    tracker.update("carl", 5, item=unknown, action="like", embedding=fixture["embeddings"][0])
    assert _predicted(tracker, "carl", 10) is None


def test_recommender_scores_items_by_the_prediction(fixture, text_index, model):
    """The documented integration: the index holds item_vectors(), `predicted` weighs alone."""
    ids = fixture["ids"]
    item_vectors = model.item_vectors(ids, fixture["embeddings"])
    index = nowrec.ItemIndex(model.item_dim)
    index.add(ids, item_vectors)
    tracker = nowrec.InterestTracker(model.item_dim, item_store=text_index,
                                     next_interest_model=model)
    config = nowrec.RecommenderConfig()
    config.short_term, config.negative, config.predicted = 0.0, 0.0, 1.0
    config.exclude_seen = False
    recommender = nowrec.Recommender(index, tracker, config)
    window = fixture["windows"]["windows"][2]  # the full window
    for event in window["events"]:
        recommender.observe("ann", event["timestamp"], item=event["item"], action=event["action"])
    now = window["events"][-1]["timestamp"]
    recommendations = recommender.recommend("ann", now, k=len(ids))
    expected = item_vectors @ fixture["predictions"][2]
    got = {r.item: r.score for r in recommendations}
    assert set(got) == set(ids.tolist())
    for item, score in zip(ids.tolist(), expected):
        assert got[item] == pytest.approx(float(score), abs=1e-4)
    assert recommendations[0].interest_kind == nowrec.InterestKind.Predicted


def test_the_model_keeps_its_items_alive(fixture):
    index = nowrec.ItemIndex(fixture["embeddings"].shape[1])
    index.add(fixture["ids"], fixture["embeddings"])
    model = nowrec.LearnedNextInterestModel.load(fixture["model"], index)
    tracker = nowrec.InterestTracker(model.item_dim, item_store=index, next_interest_model=model)
    del index, model
    gc.collect()
    tracker.update("ann", 1, item=int(fixture["ids"][0]), action="like")
    assert _predicted(tracker, "ann", 1) is not None


def test_load_errors(fixture, text_index, tmp_path):
    with pytest.raises(nowrec.Error) as caught:
        nowrec.LearnedNextInterestModel.load(tmp_path / "absent", text_index)
    assert caught.value.code == nowrec.ErrorCode.NotFound
    assert "absent" in str(caught.value)
    wide = nowrec.ItemIndex(32)
    wide.add(np.array([1], np.int64), np.full((1, 32), 0.125, np.float32))
    with pytest.raises(nowrec.Error, match="text_dim") as caught:
        nowrec.LearnedNextInterestModel.load(fixture["model"], wide)
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
