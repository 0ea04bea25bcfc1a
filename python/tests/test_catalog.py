"""ItemIndex (writes, attributes, priors, save/load per storage type) and Ranker against NumPy."""

import gc
import re
import sys

import numpy as np
import pytest

import nowrec

DIM = 32
STORAGES = [nowrec.StorageType.F32, nowrec.StorageType.BF16, nowrec.StorageType.Int8]


def unit_rows(rng, rows, dim=DIM):
    vectors = rng.standard_normal((rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def reference_top_k(ids, vectors, query, k, *, keep=None, priors=None, prior_weight=0.0,
                    negative=None, negative_weight=0.0):
    """Brute force in float64: the k best (ids, scores), ties by the smaller id."""
    scores = vectors.astype(np.float64) @ query.astype(np.float64)
    if priors is not None:
        scores += prior_weight * priors.astype(np.float64)
    if negative is not None:
        scores -= negative_weight * (vectors.astype(np.float64) @ negative.astype(np.float64))
    order = np.lexsort((ids, -scores))
    if keep is not None:
        order = order[keep[order]]
    order = order[:k]
    return ids[order], scores[order]


def assert_ranked(got, expected, k, atol=1e-5):
    """(ids, scores) from the Ranker equal the reference, with -1/-inf in slots left empty."""
    got_ids, got_scores = got
    want_ids, want_scores = expected
    filled = len(want_ids)
    assert got_ids.dtype == np.int64 and got_scores.dtype == np.float32
    assert got_ids.shape == got_scores.shape == (k,)
    assert got_ids[:filled].tolist() == want_ids.tolist()
    assert np.abs(got_scores[:filled] - want_scores).max(initial=0.0) <= atol
    assert (got_ids[filled:] == -1).all()
    assert np.isneginf(got_scores[filled:]).all()


@pytest.fixture
def catalog(rng):
    """500 unit items with shuffled ids in categories 0-2 (every fourth also in 7), 10% unavailable."""
    ids = rng.permutation(100_000)[:500].astype(np.int64)
    vectors = unit_rows(rng, 500)
    categories = [[int(i % 3)] if i % 4 else [int(i % 3), 7] for i in range(500)]
    available = [i % 10 != 3 for i in range(500)]
    index = nowrec.ItemIndex(DIM)
    index.add(ids, vectors, categories=categories, available=available)
    return {"index": index, "ids": ids, "vectors": vectors, "categories": categories,
            "available": np.array(available)}


# ItemIndex


def test_add_contains_len_read(rng):
    index = nowrec.ItemIndex(DIM)
    assert (len(index), index.size, index.dim, index.storage) == (0, 0, DIM, nowrec.StorageType.F32)
    ids = np.array([5, 3, 11], np.int64)
    vectors = unit_rows(rng, 3)
    index.add(ids, vectors)
    assert len(index) == index.size == 3
    assert 3 in index and index.contains(11) and 4 not in index
    vector, prior = index.read(3)
    assert vector.dtype == np.float32 and vector.shape == (DIM,)
    assert np.array_equal(vector, vectors[1]) and prior == 0.0
    assert index.read(4) is None


def test_update_remove_and_set_priors(rng):
    index = nowrec.ItemIndex(DIM)
    ids = np.arange(1, 6, dtype=np.int64)
    vectors = unit_rows(rng, 5)
    index.add(ids, vectors)
    replacement = unit_rows(rng, 2)
    index.update(np.array([2, 4], np.int64), replacement)
    assert np.array_equal(index.read(2)[0], replacement[0])
    assert np.array_equal(index.read(4)[0], replacement[1])
    assert np.array_equal(index.read(3)[0], vectors[2])

    index.set_priors(np.array([1, 5], np.int64), np.array([0.5, -2.0], np.float32))
    assert index.read(1)[1] == 0.5 and index.read(5)[1] == -2.0 and index.read(2)[1] == 0.0

    index.remove(np.array([1, 3], np.int64))
    assert len(index) == 3 and 1 not in index and 3 not in index and index.read(1) is None


def test_failed_writes_change_nothing(rng):
    index = nowrec.ItemIndex(DIM)
    vectors = unit_rows(rng, 3)
    index.add(np.array([1, 2, 3], np.int64), vectors)
    with pytest.raises(nowrec.Error) as caught:
        index.update(np.array([2, 99], np.int64), unit_rows(rng, 2))
    assert caught.value.code == nowrec.ErrorCode.NotFound and "99" in str(caught.value)
    assert np.array_equal(index.read(2)[0], vectors[1])
    with pytest.raises(nowrec.Error) as caught:
        index.remove(np.array([1, 99], np.int64))
    assert caught.value.code == nowrec.ErrorCode.NotFound
    assert len(index) == 3 and 1 in index
    with pytest.raises(nowrec.Error) as caught:
        index.set_priors(np.array([1, 99], np.int64), np.ones(2, np.float32))
    assert caught.value.code == nowrec.ErrorCode.NotFound
    assert index.read(1)[1] == 0.0
    with pytest.raises(nowrec.Error) as caught:
        index.set_priors(np.array([1], np.int64), np.array([np.inf], np.float32))
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    with pytest.raises(nowrec.Error) as caught:
        index.add(np.array([4, 4], np.int64), unit_rows(rng, 2))
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    assert len(index) == 3


def test_arrays_of_the_other_byte_order_say_so(rng):
    index = nowrec.ItemIndex(DIM)
    ids = np.array([1, 2, 3], np.int64)
    vectors = unit_rows(rng, 3)
    order = "big" if sys.byteorder == "little" else "little"
    swapped_ids = ids.astype(ids.dtype.newbyteorder())
    swapped_vectors = vectors.astype(vectors.dtype.newbyteorder())
    with pytest.raises(TypeError, match=re.escape(
            f"ids must be a numpy array of int64 in native byte order, got a {order}-endian "
            "int64 array (convert with .astype(numpy.int64))")):
        index.add(swapped_ids, vectors)
    with pytest.raises(TypeError, match=re.escape(
            f"vectors must be a numpy array of float32 in native byte order, got a {order}-endian "
            "float32 array (convert with .astype(numpy.float32))")):
        index.add(ids, swapped_vectors)
    assert len(index) == 0
    index.add(swapped_ids.astype(np.int64), swapped_vectors.astype(np.float32))
    ranker = nowrec.Ranker(index)
    with pytest.raises(TypeError, match=f"^queries must .* got a {order}-endian float32 array"):
        ranker.rank(swapped_vectors[0], k=1)
    assert ranker.rank(swapped_vectors[0].astype(np.float32), k=1)[0].tolist() == [1]


def test_categories_and_available(catalog):
    index, ids, vectors = catalog["index"], catalog["ids"], catalog["vectors"]
    ranker = nowrec.Ranker(index)
    query = vectors[0]
    in_category_7 = np.array([7 in c for c in catalog["categories"]])
    got = ranker.rank(query, k=20, categories=np.array([7], np.uint32))
    assert_ranked(got, reference_top_k(ids, vectors, query, 20,
                                       keep=in_category_7 & catalog["available"]), 20)
    in_1_or_2 = np.array([bool({1, 2} & set(c)) for c in catalog["categories"]])
    got = ranker.rank(query, k=20, categories=np.array([2, 1], np.uint32))
    assert_ranked(got, reference_top_k(ids, vectors, query, 20,
                                       keep=in_1_or_2 & catalog["available"]), 20)
    # Unavailable items never come back, even as the query's own item.
    unavailable = ids[~catalog["available"]]
    all_ids = ranker.rank(query, k=len(index))[0]
    assert not set(unavailable.tolist()) & set(all_ids.tolist())
    assert (all_ids[-len(unavailable):] == -1).all()


def test_update_changes_attributes(catalog):
    index, ids = catalog["index"], catalog["ids"]
    ranker = nowrec.Ranker(index)
    target = ids[:1]
    index.update(target, catalog["vectors"][:1], categories=[[42]], available=[True])
    got_ids, _ = ranker.rank(catalog["vectors"][0], k=3, categories=np.array([42], np.uint32))
    assert got_ids.tolist() == [target[0], -1, -1]
    index.update(target, catalog["vectors"][:1], available=[False])
    assert target[0] not in ranker.rank(catalog["vectors"][0], k=10)[0]


@pytest.mark.parametrize("storage", STORAGES, ids=lambda s: s.name)
def test_save_load_round_trip(tmp_path, rng, storage):
    ids = np.arange(1000, 1300, dtype=np.int64)
    vectors = unit_rows(rng, 300)
    index = nowrec.ItemIndex(DIM, storage)
    assert index.storage == storage
    categories = [[i % 5] for i in range(300)]
    index.add(ids, vectors, categories=categories, available=[i % 7 != 0 for i in range(300)])
    index.set_priors(ids[:10], np.linspace(-1, 1, 10).astype(np.float32))
    path = tmp_path / f"catalog-{storage.name}.idx"
    index.save(path)
    loaded = nowrec.ItemIndex.load(str(path))
    assert (len(loaded), loaded.dim, loaded.storage) == (300, DIM, storage)

    tolerance = {nowrec.StorageType.F32: 0.0, nowrec.StorageType.BF16: 2.0**-8,
                 nowrec.StorageType.Int8: 1.0 / 127}[storage]
    for row, item in enumerate(ids):
        stored, prior = index.read(int(item))
        reloaded, reloaded_prior = loaded.read(int(item))
        assert np.array_equal(stored, reloaded) and prior == reloaded_prior
        assert np.abs(stored - vectors[row]).max() <= tolerance * np.abs(vectors[row]).max()

    queries = unit_rows(rng, 4)
    options = dict(k=15, categories=np.array([1, 3], np.uint32), prior_weight=0.5)
    before = nowrec.Ranker(index).rank(queries, **options)
    after = nowrec.Ranker(loaded).rank(queries, **options)
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])


def test_loads_a_version_1_index(fixtures_dir, tmp_path):
    for name in ("index_v1_f32.idx", "index_v1_int8.idx"):
        index = nowrec.ItemIndex.load(fixtures_dir / "ranker" / name)
        assert len(index) == 3
        row, prior = index.read(7)
        assert prior == 0.0
        ranker = nowrec.Ranker(index)
        plain = ranker.rank(row, k=3)
        assert plain[0][0] == 7
        with_priors = ranker.rank(row, k=3, prior_weight=4.0)
        assert np.array_equal(plain[0], with_priors[0])
        index.set_priors(np.array([5], np.int64), np.array([1.0], np.float32))
        index.save(tmp_path / "v2.idx")
        assert nowrec.Ranker(nowrec.ItemIndex.load(tmp_path / "v2.idx")).rank(
            row, k=3, prior_weight=4.0)[0][0] == 5


# Ranker


def test_rank_equals_brute_force(catalog, rng):
    ids, vectors, available = catalog["ids"], catalog["vectors"], catalog["available"]
    ranker = nowrec.Ranker(catalog["index"])
    queries = unit_rows(rng, 3)
    got_ids, got_scores = ranker.rank(queries, k=10)
    assert got_ids.shape == got_scores.shape == (3, 10)
    assert got_ids.flags.c_contiguous and got_scores.flags.c_contiguous
    for row, query in enumerate(queries):
        assert_ranked((got_ids[row], got_scores[row]),
                      reference_top_k(ids, vectors, query, 10, keep=available), 10)


def test_rank_of_a_1d_query_has_shape_k(catalog, rng):
    query = unit_rows(rng, 1)[0]
    got = nowrec.Ranker(catalog["index"]).rank(query, k=7)
    assert got[0].shape == got[1].shape == (7,)
    assert_ranked(got, reference_top_k(catalog["ids"], catalog["vectors"], query, 7,
                                       keep=catalog["available"]), 7)


def test_rank_of_many_queries_equals_brute_force(catalog, rng):
    """20 queries take the matrix-product path (16 or more in one call)."""
    ranker = nowrec.Ranker(catalog["index"])
    queries = unit_rows(rng, 20)
    got_ids, got_scores = ranker.rank(queries, k=12, threads=2)
    for row, query in enumerate(queries):
        assert_ranked((got_ids[row], got_scores[row]),
                      reference_top_k(catalog["ids"], catalog["vectors"], query, 12,
                                      keep=catalog["available"]), 12)
    one_thread = ranker.rank(queries, k=12, threads=1)
    assert np.array_equal(one_thread[0], got_ids)


def test_ties_break_by_the_smaller_id(rng):
    """Small integer vectors: every score is exact in fp32 and many tie."""
    ids = rng.permutation(5000)[:400].astype(np.int64)
    vectors = rng.integers(-2, 3, (400, 6)).astype(np.float32)
    vectors[0] = 1.0  # never all zero
    index = nowrec.ItemIndex(6)
    index.add(ids, vectors)
    ranker = nowrec.Ranker(index)
    queries = rng.integers(-2, 3, (18, 6)).astype(np.float32)
    queries[:, 0] = 1.0
    got_ids, got_scores = ranker.rank(queries, k=30)
    for row, query in enumerate(queries):
        want_ids, want_scores = reference_top_k(ids, vectors, query, 30)
        assert len(set(want_scores.tolist())) < 30  # the top 30 holds ties
        assert got_ids[row].tolist() == want_ids.tolist()
        assert got_scores[row].tolist() == want_scores.tolist()
    assert np.array_equal(ranker.rank(queries[:3], k=30)[0], got_ids[:3])


def test_exclude_and_allow(catalog, rng):
    ids, vectors, available = catalog["ids"], catalog["vectors"], catalog["available"]
    ranker = nowrec.Ranker(catalog["index"])
    query = unit_rows(rng, 1)[0]
    best = reference_top_k(ids, vectors, query, 5, keep=available)[0]
    exclude = np.concatenate([best[:3], [-5, 10**12]]).astype(np.int64)  # unknown ids are fine
    keep = available & ~np.isin(ids, exclude)
    assert_ranked(ranker.rank(query, k=10, exclude=exclude),
                  reference_top_k(ids, vectors, query, 10, keep=keep), 10)
    allow = ids[::7].copy()
    keep = available & np.isin(ids, allow)
    assert_ranked(ranker.rank(query, k=10, allow=allow),
                  reference_top_k(ids, vectors, query, 10, keep=keep), 10)
    keep = keep & ~np.isin(ids, exclude) & np.array([0 in c for c in catalog["categories"]])
    assert_ranked(ranker.rank(query, k=10, allow=allow, exclude=exclude,
                              categories=np.array([0], np.uint32)),
                  reference_top_k(ids, vectors, query, 10, keep=keep), 10)


def test_empty_slots_hold_minus_one_and_minus_infinity(catalog, rng):
    ids, vectors = catalog["ids"], catalog["vectors"]
    ranker = nowrec.Ranker(catalog["index"])
    queries = unit_rows(rng, 2)
    allow = np.array([ids[0], ids[1], ids[2], 123_456_789], np.int64)
    got_ids, got_scores = ranker.rank(queries, k=6, allow=allow)
    keep = catalog["available"] & np.isin(ids, allow)
    for row in range(2):
        expected = reference_top_k(ids, vectors, queries[row], 6, keep=keep)
        assert len(expected[0]) == keep.sum() < 6
        assert_ranked((got_ids[row], got_scores[row]), expected, 6)
    got_ids, got_scores = ranker.rank(queries[0], k=4, allow=np.array([-7], np.int64))
    assert got_ids.tolist() == [-1] * 4 and np.isneginf(got_scores).all()


def test_prior_weight(catalog, rng):
    ids, vectors, index = catalog["ids"], catalog["vectors"], catalog["index"]
    priors = rng.uniform(0, 2, len(ids)).astype(np.float32)
    index.set_priors(ids, priors)
    ranker = nowrec.Ranker(index)
    query = unit_rows(rng, 1)[0]
    for weight in (0.0, 0.3, 5.0):
        assert_ranked(ranker.rank(query, k=10, prior_weight=weight),
                      reference_top_k(ids, vectors, query, 10, keep=catalog["available"],
                                      priors=priors, prior_weight=weight), 10)


def test_negative_vector(catalog, rng):
    ids, vectors = catalog["ids"], catalog["vectors"]
    ranker = nowrec.Ranker(catalog["index"])
    query, negative = unit_rows(rng, 2)
    got = ranker.rank(query, k=10, negative=negative, negative_weight=0.7)
    assert_ranked(got, reference_top_k(ids, vectors, query, 10, keep=catalog["available"],
                                       negative=negative, negative_weight=0.7), 10)
    assert not np.array_equal(got[0], ranker.rank(query, k=10)[0])


def test_mmr_equals_a_greedy_reference(catalog, rng):
    ids, vectors, available = catalog["ids"], catalog["vectors"], catalog["available"]
    ranker = nowrec.Ranker(catalog["index"])
    query = unit_rows(rng, 1)[0]
    k, lam = 8, 0.6
    scores = vectors @ query
    candidates = [i for i in np.lexsort((ids, -scores)) if available[i]][: 4 * k]
    picked = []
    while len(picked) < k:
        def value(i):
            penalty = max((float(vectors[i] @ vectors[p]) for p in picked), default=0.0)
            return lam * scores[i] - (1 - lam) * penalty
        picked.append(max((i for i in candidates if i not in picked), key=value))
    got_ids, got_scores = ranker.rank(query, k=k, mmr_lambda=lam)
    assert got_ids.tolist() == ids[picked].tolist()
    assert np.abs(got_scores - scores[picked]).max() <= 1e-5  # relevance, not the MMR value
    assert np.array_equal(ranker.rank(query, k=k, mmr_lambda=1.0)[0], ranker.rank(query, k=k)[0])


@pytest.mark.parametrize("aggregation", [nowrec.Aggregation.Max, nowrec.Aggregation.WeightedSum],
                         ids=lambda a: a.name)
def test_rank_interests_equals_numpy(catalog, rng, aggregation):
    ids, vectors, available = catalog["ids"], catalog["vectors"], catalog["available"]
    ranker = nowrec.Ranker(catalog["index"])
    interests = unit_rows(rng, 3)
    weights = np.array([1.0, 0.6, 0.3], np.float32)
    per_interest = (vectors.astype(np.float64) @ interests.T.astype(np.float64)) * weights
    scores = per_interest.max(axis=1) if aggregation == nowrec.Aggregation.Max \
        else per_interest.sum(axis=1)
    exclude = ids[:50].copy()
    keep = available & ~np.isin(ids, exclude)
    order = [i for i in np.lexsort((ids, -scores)) if keep[i]][:10]
    got = ranker.rank_interests(interests, weights, k=10, aggregation=aggregation, exclude=exclude)
    assert_ranked(got, (ids[order], scores[order]), 10)


@pytest.mark.parametrize("aggregation", [nowrec.Aggregation.Max, nowrec.Aggregation.WeightedSum],
                         ids=lambda a: a.name)
def test_rank_interests_calibrated_equals_numpy(catalog, rng, aggregation):
    ids, vectors, available = catalog["ids"], catalog["vectors"], catalog["available"]
    ranker = nowrec.Ranker(catalog["index"])
    interests = unit_rows(rng, 3) * np.array([[1.0], [0.5], [0.25]], np.float32)
    weights = np.array([1.0, 0.6, 0.3], np.float32)
    exclude = ids[:50].copy()
    keep = available & ~np.isin(ids, exclude)
    raw = vectors.astype(np.float64) @ interests.T.astype(np.float64)
    best = raw[keep].max(axis=0)
    per_interest = raw * np.where(best > 0, weights / best, weights)
    scores = per_interest.max(axis=1) if aggregation == nowrec.Aggregation.Max \
        else per_interest.sum(axis=1)
    order = [i for i in np.lexsort((ids, -scores)) if keep[i]][:10]
    got_ids, got_scores, best_matches = ranker.rank_interests_calibrated(
        interests, weights, k=10, aggregation=aggregation, exclude=exclude)
    assert_ranked((got_ids, got_scores), (ids[order], scores[order]), 10)
    assert best_matches.dtype == np.float32 and best_matches.shape == (3,)
    assert np.abs(best_matches - np.where(best > 0, best, 1.0)).max() <= 1e-5
    # Every interest's best item scores its weight.
    assert abs(float(got_scores[0]) - float(weights.max() if aggregation == nowrec.Aggregation.Max
                                            else scores[order[0]])) <= 1e-4


def test_rank_interests_with_one_interest_equals_rank(catalog, rng):
    ranker = nowrec.Ranker(catalog["index"])
    query = unit_rows(rng, 1)
    by_interest = ranker.rank_interests(query, np.ones(1, np.float32), k=10)
    by_query = ranker.rank(query[0], k=10)
    assert np.array_equal(by_interest[0], by_query[0])
    assert np.abs(by_interest[1] - by_query[1]).max() <= 1e-6


def test_rank_errors(catalog, rng):
    ranker = nowrec.Ranker(catalog["index"])
    query = unit_rows(rng, 1)[0]
    for k in (0, len(catalog["index"]) + 1):
        with pytest.raises(nowrec.Error, match="k = ") as caught:
            ranker.rank(query, k=k)
        assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    bad = query.copy()
    bad[3] = np.nan
    with pytest.raises(nowrec.Error, match="non-finite") as caught:
        ranker.rank(bad, k=3)
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    with pytest.raises(nowrec.Error, match="negative") as caught:
        ranker.rank(query, k=3, negative=query[:5].copy(), negative_weight=1.0)
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument


def test_a_bad_k_is_refused_before_results_are_allocated(catalog, rng):
    # k sizes the results: 2**40 slots do not fit in memory, 2**62 exceeds a vector's max_size,
    # and 2**62 slots for 4 or 1000 rows wrap around to 0.
    ranker = nowrec.Ranker(catalog["index"])
    size = len(catalog["index"])
    queries = unit_rows(rng, 1000)
    interests, weights = unit_rows(rng, 2), np.ones(2, np.float32)
    for k in (0, size + 1, 2**40, 2**62):
        says = rf"^Ranker: k = {k} must be in \[1, {size}\] \(index size\)$"
        calls = (lambda: ranker.rank(queries[0], k=k),
                 lambda: ranker.rank(queries[:4], k=k),
                 lambda: ranker.rank(queries, k=k),
                 lambda: ranker.rank_interests(interests, weights, k=k),
                 lambda: ranker.rank_interests_calibrated(interests, weights, k=k))
        for call in calls:
            with pytest.raises(nowrec.Error, match=says) as caught:
                call()
            assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    assert ranker.rank(queries, k=size)[0].shape == (1000, size)


def test_weights_float32_cannot_hold_are_refused(catalog, rng):
    ranker = nowrec.Ranker(catalog["index"])
    query = unit_rows(rng, 1)
    ones = np.ones(1, np.float32)
    for name in ("prior_weight", "negative_weight"):
        for value in (1e39, -1e39, 1e-300):
            says = f"^{name} = {re.escape(repr(value))} is outside float32's range"
            with pytest.raises(ValueError, match=says):
                ranker.rank(query[0], k=3, **{name: value})
            with pytest.raises(ValueError, match=says):
                ranker.rank_interests(query, ones, k=3, **{name: value})
    with pytest.raises(ValueError, match="^mmr_lambda = 1e-300 is outside float32's range"):
        ranker.rank(query[0], k=3, mmr_lambda=1e-300)
    with pytest.raises(nowrec.Error, match="mmr_lambda must be in"):
        ranker.rank(query[0], k=3, mmr_lambda=float("inf"))


def test_ranker_sees_later_writes_and_keeps_its_index_alive(rng):
    index = nowrec.ItemIndex(DIM)
    vectors = unit_rows(rng, 3)
    index.add(np.array([1, 2], np.int64), vectors[:2])
    ranker = nowrec.Ranker(index)
    index.add(np.array([3], np.int64), vectors[2:])
    assert ranker.rank(vectors[2], k=1)[0].tolist() == [3]
    del index
    gc.collect()
    assert ranker.rank(vectors[2], k=3)[0].tolist()[0] == 3


def test_adding_no_items_is_accepted():
    index = nowrec.ItemIndex(DIM)
    index.add(np.zeros(0, np.int64), np.zeros((0, DIM), np.float32))
    assert len(index) == 0
