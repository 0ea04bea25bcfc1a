"""nowrec.Error and its codes, and the contract for bad arrays (dtype, layout, shape, type)."""

import json

import numpy as np
import pytest

import nowrec

DIM = 4
IDS = np.array([10, 11], np.int64)
ROWS = np.array([[0.5, 0.25, -0.5, 1.0], [1.0, -0.75, 0.25, 0.5]], np.float32)
QUERY = np.array([1.0, 0.5, -0.25, 0.75], np.float32)


@pytest.fixture
def index():
    catalog = nowrec.ItemIndex(DIM)
    catalog.add(np.array([1, 2, 3], np.int64),
                np.array([[1, 0, 0, 0], [0.5, 0.5, 0.5, 0.5], [0, 0, 1, 0]], np.float32))
    return catalog


def test_error_is_a_runtime_error_with_a_code():
    assert issubclass(nowrec.Error, RuntimeError)
    assert nowrec.Error.__module__.startswith("nowrec") and nowrec.Error.__name__ == "Error"
    assert {code.name for code in nowrec.ErrorCode} == {
        "InvalidArgument", "InvalidModel", "InvalidFormat", "Unsupported", "NotFound", "Io",
        "DeviceUnavailable", "Internal"}
    with pytest.raises(RuntimeError) as caught:
        nowrec.ItemIndex(0)
    assert isinstance(caught.value, nowrec.Error)
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    assert "dim" in str(caught.value)


def test_model_folder_missing_is_not_found(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(nowrec.Error) as caught:
        nowrec.ModelFolder.load(missing)
    assert caught.value.code == nowrec.ErrorCode.NotFound
    assert str(missing) in str(caught.value)


def test_item_index_load_of_garbage_is_invalid_format(tmp_path):
    path = tmp_path / "garbage.idx"
    path.write_bytes(np.random.default_rng(7).bytes(4096))
    with pytest.raises(nowrec.Error) as caught:
        nowrec.ItemIndex.load(path)
    assert caught.value.code == nowrec.ErrorCode.InvalidFormat
    assert "garbage.idx" in str(caught.value)


def test_item_index_load_of_a_missing_file_is_io(tmp_path):
    with pytest.raises(nowrec.Error) as caught:
        nowrec.ItemIndex.load(tmp_path / "absent.idx")
    assert caught.value.code == nowrec.ErrorCode.Io


def test_duplicate_id_is_invalid_argument_and_changes_nothing(index):
    with pytest.raises(nowrec.Error) as caught:
        index.add(np.array([7, 2], np.int64), ROWS)
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    assert "2" in str(caught.value)
    assert len(index) == 3 and 7 not in index


def test_nan_in_vectors_is_invalid_argument_and_changes_nothing(index):
    rows = ROWS.copy()
    rows[1, 2] = np.nan
    with pytest.raises(nowrec.Error) as caught:
        index.add(IDS, rows)
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    assert "non-finite" in str(caught.value)
    assert len(index) == 3 and 10 not in index


def test_unknown_item_in_tracker_update_is_invalid_argument(index):
    tracker = nowrec.InterestTracker(DIM, item_store=index)
    with pytest.raises(nowrec.Error) as caught:
        tracker.update("ann", 5, item=999, action="click")
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    assert "999" in str(caught.value)
    assert len(tracker) == 0


@pytest.mark.parametrize("content, named", [
    (json.dumps({"short_term": "high"}), "short_term"),
    (json.dumps({"no_such_field": 1}), "no_such_field"),
    (json.dumps({"co_visitation_options": {"voters": -1}}), "co_visitation_options.voters"),
    (json.dumps({"aggregation": "median"}), "aggregation"),
    ("{not json", "JSON"),
])
def test_recommender_config_load_names_the_field(tmp_path, content, named):
    path = tmp_path / "recommender.json"
    path.write_text(content)
    with pytest.raises(nowrec.Error) as caught:
        nowrec.RecommenderConfig.load(path)
    assert caught.value.code == nowrec.ErrorCode.InvalidFormat
    assert named in str(caught.value)
    assert "recommender.json" in str(caught.value)


# Every array argument below: its correct value and a call that passes a replacement for it.
ARRAY_ARGUMENTS = {
    "ids": (IDS, lambda index, value: index.add(value, ROWS)),
    "vectors": (ROWS, lambda index, value: index.add(IDS, value)),
    "priors": (np.array([0.5, 1.5], np.float32),
               lambda index, value: index.set_priors(np.array([1, 2], np.int64), value)),
    "queries": (ROWS, lambda index, value: nowrec.Ranker(index).rank(value, k=2)),
    "exclude": (IDS, lambda index, value: nowrec.Ranker(index).rank(QUERY, k=2, exclude=value)),
    "categories": (np.array([1, 2], np.uint32),
                   lambda index, value: nowrec.Ranker(index).rank(QUERY, k=2, categories=value)),
    "interests": (ROWS, lambda index, value: nowrec.Ranker(index).rank_interests(
        value, np.array([1.0, 0.5], np.float32), k=2)),
    "weights": (np.array([1.0, 0.5], np.float32),
                lambda index, value: nowrec.Ranker(index).rank_interests(ROWS, value, k=2)),
    "embedding": (QUERY, lambda index, value: nowrec.InterestTracker(DIM).update(
        "ann", 1, embedding=value)),
    "timestamps": (np.array([1, 2], np.int64), lambda index, value: nowrec.InterestTracker(
        DIM, item_store=index).update_batch(["ann", "bob"], value,
                                            items=np.array([1, 2], np.int64))),
}
TWO_DIMENSIONAL = ["vectors", "queries", "interests"]


# The dtype a caller might plausibly pass instead of the right one.
WRONG_DTYPE = {np.dtype(np.float32): np.float64, np.dtype(np.int64): np.int32,
               np.dtype(np.uint32): np.int64}


def _strided(array):
    """The same values and shape, every other element of a wider array: not contiguous."""
    doubled = np.repeat(array, 2, axis=-1)
    view = doubled[..., ::2]
    assert not view.flags.c_contiguous and np.array_equal(view, array)
    return view


@pytest.mark.parametrize("argument", ARRAY_ARGUMENTS)
def test_correct_arrays_are_accepted(index, argument):
    good, call = ARRAY_ARGUMENTS[argument]
    call(index, good)


@pytest.mark.parametrize("argument", ARRAY_ARGUMENTS)
def test_wrong_dtype_is_a_type_error_naming_the_argument(index, argument):
    good, call = ARRAY_ARGUMENTS[argument]
    with pytest.raises(TypeError, match=f"^{argument} must have dtype {good.dtype}"):
        call(index, good.astype(WRONG_DTYPE[good.dtype]))


@pytest.mark.parametrize("argument", ARRAY_ARGUMENTS)
def test_non_contiguous_is_a_type_error_naming_the_argument(index, argument):
    good, call = ARRAY_ARGUMENTS[argument]
    with pytest.raises(TypeError, match=f"^{argument} must be C-contiguous"):
        call(index, _strided(good))


@pytest.mark.parametrize("argument", TWO_DIMENSIONAL)
def test_transposed_is_a_type_error_naming_the_argument(index, argument):
    good, call = ARRAY_ARGUMENTS[argument]
    for transposed in (good.T, np.asfortranarray(good)):  # a transposed view; column-major
        with pytest.raises(TypeError, match=f"^{argument} must be C-contiguous"):
            call(index, transposed)


@pytest.mark.parametrize("argument", TWO_DIMENSIONAL)
def test_wrong_row_width_is_a_value_error_naming_the_argument(index, argument):
    good, call = ARRAY_ARGUMENTS[argument]
    message = f"^{argument} has rows of {DIM - 1} values, expected {DIM}"
    with pytest.raises(ValueError, match=message):
        call(index, np.ascontiguousarray(good[:, : DIM - 1]))


@pytest.mark.parametrize("argument", sorted(set(ARRAY_ARGUMENTS) - set(TWO_DIMENSIONAL)))
def test_too_many_dimensions_is_a_value_error_naming_the_argument(index, argument):
    good, call = ARRAY_ARGUMENTS[argument]
    with pytest.raises(ValueError, match=f"^{argument} must have 1 dimension"):
        call(index, good.reshape(1, -1))


@pytest.mark.parametrize("argument", ARRAY_ARGUMENTS)
def test_a_list_is_a_type_error_naming_the_argument(index, argument):
    good, call = ARRAY_ARGUMENTS[argument]
    with pytest.raises(TypeError, match=f"^{argument} must be a numpy array of {good.dtype}"):
        call(index, good.tolist())


def test_a_size_mismatch_between_arguments_is_a_value_error(index):
    with pytest.raises(ValueError, match="vectors has 2 rows for 3 ids"):
        index.add(np.array([7, 8, 9], np.int64), ROWS)
    with pytest.raises(ValueError, match="weights has 1 entries for 2 interests"):
        nowrec.Ranker(index).rank_interests(ROWS, np.array([1.0], np.float32), k=2)
    with pytest.raises(ValueError, match="categories has 1 entries for 2 ids"):
        index.add(IDS, ROWS, categories=[[1]])
    with pytest.raises(ValueError, match="available has 3 entries for 2 ids"):
        index.add(IDS, ROWS, available=[True, False, True])
    assert len(index) == 3
