// Ranker: exact top-k against a double-precision brute force; bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/limits.hpp"
#include "nowrec/ranker.hpp"
#include "ranker/reference.hpp"

using nowrec::test::brute_force_query;
using nowrec::test::check_same;
using nowrec::test::random_catalog;
using nowrec::test::random_vector;

TEST_CASE("fp32 top_k equals a double-precision brute force") {
  std::mt19937 rng(1);
  for (std::size_t dim : {3u, 16u, 37u, 384u}) {
    // More than one segment (4096 rows) so the scan crosses segment and block boundaries.
    const auto catalog = random_catalog(rng, dim == 384 ? 5000 : 9000, dim);
    nowrec::ItemIndex index(dim);
    index.add(catalog.ids, catalog.vectors);
    const nowrec::Ranker ranker(index);
    REQUIRE(index.size() == catalog.ids.size());
    for (std::size_t k : {1u, 10u, 100u}) {
      for (int q = 0; q < 3; ++q) {
        const auto query = random_vector(rng, dim);
        CAPTURE(dim);
        CAPTURE(k);
        check_same(ranker.top_k(query, k), brute_force_query(catalog, query, k));
      }
    }
  }
}

TEST_CASE("k equal to the catalog size returns every item in order") {
  std::mt19937 rng(2);
  const auto catalog = random_catalog(rng, 300, 8);
  nowrec::ItemIndex index(8);
  index.add(catalog.ids, catalog.vectors);
  const auto query = random_vector(rng, 8);
  check_same(nowrec::Ranker(index).top_k(query, 300), brute_force_query(catalog, query, 300));
}

TEST_CASE("batched ranking: fused scan and matmul paths agree with the reference") {
  std::mt19937 rng(3);
  const std::size_t dim = 48, k = 20;
  const auto catalog = random_catalog(rng, 6000, dim);
  nowrec::ItemIndex index(dim);
  index.add(catalog.ids, catalog.vectors);
  const nowrec::Ranker ranker(index);
  const auto [queries, requests] = nowrec::test::random_queries(rng, 40, dim);
  for (std::size_t matmul_from : {1000u, 1u}) {
    CAPTURE(matmul_from);
    const auto answers = nowrec::test::rank_batch(
        ranker, requests, {.k = k, .threads = 2, .matmul_min_queries = matmul_from});
    for (std::size_t i = 0; i < requests.size(); ++i) {
      CAPTURE(i);
      check_same(answers[i], brute_force_query(catalog, queries[i], k));
    }
  }
}

// The per-row kernels score up to four query vectors of a call against each row together; each
// query keeps the summation of a lone query, so its answer may not depend on the others.
TEST_CASE("a query's fused-path answer is bit for bit the same in any batch") {
  std::mt19937 rng(13);
  for (const auto storage :
       {nowrec::StorageType::F32, nowrec::StorageType::BF16, nowrec::StorageType::Int8}) {
    for (const std::size_t dim : {37u, 384u}) {
      CAPTURE(static_cast<int>(storage));
      CAPTURE(dim);
      const auto catalog = random_catalog(rng, 3000, dim);
      nowrec::ItemIndex index(dim, {.storage = storage});
      index.add(catalog.ids, catalog.vectors);
      const nowrec::Ranker ranker(index);
      const auto [queries, requests] = nowrec::test::random_queries(rng, 9, dim);
      const nowrec::RankOptions options{.k = 25, .threads = 2, .matmul_min_queries = 1000};
      std::vector<std::vector<nowrec::ScoredItem>> alone;
      for (const nowrec::RankRequest& request : requests) {
        alone.push_back(ranker.rank(request, options));
      }
      for (std::size_t batch = 2; batch <= requests.size(); ++batch) {
        CAPTURE(batch);
        const auto answers =
            nowrec::test::rank_batch(ranker, std::span(requests).first(batch), options);
        for (std::size_t q = 0; q < batch; ++q) {
          CAPTURE(q);
          for (std::size_t i = 0; i < options.k; ++i) {
            CAPTURE(i);
            REQUIRE(answers[q][i] == alone[q][i]);
          }
        }
      }
    }
  }
}

TEST_CASE("equal scores are ordered by id") {
  nowrec::ItemIndex index(2);
  const std::vector<std::int64_t> ids = {7, 3, 9, 1};
  const std::vector<float> vectors = {1, 0, 1, 0, 0.5f, 0, 1, 0};
  index.add(ids, vectors);
  const std::vector<float> query = {2, 1};
  const auto best = nowrec::Ranker(index).top_k(query, 4);
  REQUIRE(best.size() == 4);
  CHECK(best[0].id == 1);
  CHECK(best[1].id == 3);
  CHECK(best[2].id == 7);
  CHECK(best[3].id == 9);
  CHECK(best[3].score == doctest::Approx(1.0f));
}

TEST_CASE("ties across the selection's groups of 64 rows and its blocks keep the smaller ids") {
  // 3,000 rows share 5 vectors, so every score is tied hundreds of times, and the ids are
  // shuffled, so a row met late must often displace a kept row of the same score by its smaller
  // id: the case where a first look that only passes scores above the worst kept one would be
  // wrong.
  std::mt19937 rng(11);
  const std::size_t dim = 24, rows = 3000;
  auto catalog = random_catalog(rng, rows, dim);
  std::vector<std::vector<float>> shared;
  for (int v = 0; v < 5; ++v) shared.push_back(random_vector(rng, dim));
  std::uniform_int_distribution<std::size_t> pick(0, shared.size() - 1);
  std::map<std::int64_t, std::size_t> row_of;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::vector<float>& from = shared[pick(rng)];
    std::copy(from.begin(), from.end(), catalog.vectors.begin() + r * dim);
    row_of[catalog.ids[r]] = r;
  }
  nowrec::ItemIndex index(dim);
  index.add(catalog.ids, catalog.vectors);
  const nowrec::Ranker ranker(index);
  const auto [queries, requests] = nowrec::test::random_queries(rng, 20, dim);
  for (const std::size_t k : {1u, 10u, 100u, 700u}) {
    for (const std::size_t matmul_from : {1000u, 1u}) {
      CAPTURE(k);
      CAPTURE(matmul_from);
      const auto answers = nowrec::test::rank_batch(
          ranker, requests, {.k = k, .threads = 2, .matmul_min_queries = matmul_from});
      for (std::size_t i = 0; i < requests.size(); ++i) {
        CAPTURE(i);
        const std::vector<nowrec::ScoredItem>& got = answers[i];
        const auto expected = brute_force_query(catalog, queries[i], k);
        if (matmul_from > requests.size()) {
          // The per-row kernels give equal vectors equal scores: ties go by id exactly.
          check_same(got, expected);
          continue;
        }
        // The matmul path: oneDNN's sgemm sums a row in an order that depends on where the row
        // falls in its tiles, so equal vectors may differ in their last bit and such ties are
        // not broken by id. Every item is still one with the expected score at its place.
        for (std::size_t j = 0; j < k; ++j) {
          CAPTURE(j);
          const double true_score =
              nowrec::test::dot(queries[i], catalog.row(row_of.at(got[j].id)));
          CHECK(true_score == doctest::Approx(expected[j].score).epsilon(1e-5));
          CHECK(got[j].score == doctest::Approx(expected[j].score).epsilon(1e-4));
        }
      }
    }
  }
}

TEST_CASE("checked_result_slots: the one check of k, and of the slots it sizes") {
  using nowrec::checked_result_slots;
  CHECK(checked_result_slots(3, 10, 4) == 12);
  CHECK(checked_result_slots(10, 10, 0) == 0);
  CHECK(checked_result_slots(1, 1, 1) == 1);
  CHECK_THROWS_WITH_AS(checked_result_slots(0, 10, 1),
                       doctest::Contains("Ranker: k = 0 must be in [1, 10] (index size)"),
                       nowrec::Error);
  CHECK_THROWS_WITH_AS(checked_result_slots(11, 10, 1, "Recommender::recommend"),
                       doctest::Contains("Recommender::recommend: k = 11 must be in [1, 10]"),
                       nowrec::Error);
  // A product that wraps around (4 * 2^62 is 0 in 64 bits) is refused, not returned.
  const std::size_t max = std::numeric_limits<std::size_t>::max();
  try {
    (void)checked_result_slots(std::size_t{1} << 62, max, 4);
    FAIL("a wrapped product was returned");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == nowrec::ErrorCode::InvalidArgument);
    CHECK(std::string(error.what()) ==
          "Ranker: 4 requests of k = 4611686018427387904 need more result slots than a size_t "
          "holds");
  }
  CHECK(checked_result_slots(std::size_t{1} << 62, max, 3) == 3 * (std::size_t{1} << 62));
}

namespace {

// A query whose inner products with the catalog's Gaussian rows are finite, and with a row
// holding [1e38, +-1e38, 0, ...] an infinity (or, for opposite signs, a NaN) at every term.
std::vector<float> overflowing_query(std::size_t dim) {
  std::vector<float> query(dim, 0.0f);
  query[0] = query[1] = 1e37f;
  return query;
}

// 6,000 random rows, then the last one replaced by [first, second, 0, ...]: past one 4096-row
// segment and many blocks, so the selection is full when it is scored.
nowrec::test::Catalog catalog_with_last_row(std::mt19937& rng, std::size_t dim, float first,
                                            float second) {
  nowrec::test::Catalog catalog = random_catalog(rng, 6000, dim);
  const std::size_t last = catalog.ids.size() - 1;
  std::fill_n(catalog.vectors.begin() + std::ptrdiff_t(last * dim), dim, 0.0f);
  catalog.vectors[last * dim] = first;
  catalog.vectors[last * dim + 1] = second;
  return catalog;
}

// Ranks `requests` and expects the error that names request `request` scoring `item` as NaN.
void check_nan_refused(const nowrec::Ranker& ranker,
                       const std::vector<nowrec::RankRequest>& requests,
                       const nowrec::RankOptions& options, std::size_t request, std::int64_t item) {
  std::vector<nowrec::ScoredItem> results(requests.size() * options.k);
  std::vector<std::size_t> counts(requests.size());
  try {
    ranker.rank(requests, options, results, counts);
    FAIL("a NaN score was dropped");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == nowrec::ErrorCode::InvalidArgument);
    const std::string what = error.what();
    const std::string expected =
        "request " + std::to_string(request) + " scores item " + std::to_string(item) + " as NaN";
    CHECK_MESSAGE(what.find(expected) != std::string::npos, what);
  }
}

}  // namespace

TEST_CASE("a NaN inner product of an item the filters leave is an error naming it") {
  // The item's first two terms are infinities of opposite signs. The fused scan adds them (its
  // kernels never fuse a multiply into an add).
  std::mt19937 rng(41);
  constexpr std::size_t kDim = 8;
  const auto catalog = catalog_with_last_row(rng, kDim, 1e38f, -1e38f);
  const std::int64_t nan_item = catalog.ids.back();
  nowrec::ItemIndex index(kDim);
  index.add(catalog.ids, catalog.vectors);
  const nowrec::Ranker ranker(index);
  const std::vector<float> query = overflowing_query(kDim);
  const std::vector<float> plain = random_vector(rng, kDim);

  for (std::size_t k : {std::size_t{1}, std::size_t{10}, catalog.ids.size()}) {
    for (int threads : {1, 3}) {
      CAPTURE(k);
      CAPTURE(threads);
      check_nan_refused(ranker, {{.query = query}}, {.k = k, .threads = threads}, 0, nan_item);
      check_nan_refused(ranker, {{.query = plain}, {.query = query}}, {.k = k, .threads = threads},
                        1, nan_item);
    }
  }
  // Boosted, or interests combined by max (the NaN one second): the same error.
  const std::vector<nowrec::ItemBoost> boosts = {{catalog.ids[0], 0.5f}};
  check_nan_refused(ranker, {{.query = query, .boosts = boosts}}, {.k = 3}, 0, nan_item);
  const std::vector<nowrec::WeightedInterest> interests = {{plain, 1.0f}, {query, 1.0f}};
  check_nan_refused(ranker, {{.interests = interests}},
                    {.k = 3, .aggregation = nowrec::Aggregation::Max}, 0, nan_item);
  nowrec::RankRequest calibrated{.interests = interests};
  calibrated.calibrate = true;
  check_nan_refused(ranker, {calibrated}, {.k = 3}, 0, nan_item);
  // An item the filters leave out is not ranked, so its NaN does not matter.
  const std::vector<std::int64_t> exclude = {nan_item};
  nowrec::RankRequest excluded{.query = query};
  excluded.exclude = exclude;
  CHECK(ranker.rank(excluded, {.k = 3}).size() == 3);
  const std::vector<std::int64_t> allow = {catalog.ids[0], catalog.ids[1]};
  nowrec::RankRequest allowed{.query = query};
  allowed.allow = allow;
  CHECK(ranker.rank(allowed, {.k = 3}).size() == 2);
}

TEST_CASE("a NaN from a score and a prior term past float's range is an error, on every path") {
  // The item's inner product is +inf on every path (fused kernels or a matrix product), its
  // prior term -inf: their sum is NaN.
  std::mt19937 rng(43);
  constexpr std::size_t kDim = 8;
  const auto catalog = catalog_with_last_row(rng, kDim, 1e38f, 1e38f);
  const std::size_t last = catalog.ids.size() - 1;
  const std::int64_t nan_item = catalog.ids[last];
  nowrec::ItemIndex index(kDim);
  index.add(catalog.ids, catalog.vectors);
  std::vector<float> priors(catalog.ids.size(), 0.0f);
  priors[last] = -1e38f;
  index.set_priors(catalog.ids, priors);
  const nowrec::Ranker ranker(index);
  const std::vector<float> query = overflowing_query(kDim);
  const nowrec::RankRequest overflowing{.query = query, .prior_weight = 1e38f};

  std::vector<float> small = random_vector(rng, kDim);
  for (float& x : small) x *= 1e-3f;
  for (std::size_t k : {std::size_t{1}, std::size_t{10}, catalog.ids.size()}) {
    for (int threads : {1, 3}) {
      CAPTURE(k);
      CAPTURE(threads);
      check_nan_refused(ranker, {overflowing}, {.k = k, .threads = threads}, 0, nan_item);
      // The matrix-product path: the other queries are fine.
      std::vector<nowrec::RankRequest> batch(20, nowrec::RankRequest{.query = small});
      batch[7] = overflowing;
      check_nan_refused(ranker, batch, {.k = k, .threads = threads, .matmul_min_queries = 16}, 7,
                        nan_item);
    }
  }
}

TEST_CASE("bad input is rejected with a clear error and changes nothing") {
  nowrec::ItemIndex index(4);
  const std::vector<std::int64_t> ids = {1, 2};
  const std::vector<float> vectors = {1, 2, 3, 4, 5, 6, 7, 8};
  index.add(ids, vectors);
  const nowrec::Ranker ranker(index);
  const std::vector<float> query = {1, 1, 1, 1};

  CHECK_THROWS_WITH_AS(nowrec::ItemIndex(0), "ItemIndex: dim is 0, must be positive",
                       nowrec::Error);
  CHECK_THROWS_WITH_AS(nowrec::ItemIndex(nowrec::kMaxVectorDim + 1),
                       doctest::Contains("ItemIndex: dim = 65537 is above the largest allowed"),
                       nowrec::Error);
  CHECK_THROWS_WITH_AS(ranker.top_k(query, 0), doctest::Contains("k = 0"), nowrec::Error);
  CHECK_THROWS_WITH_AS(ranker.top_k(query, 3), doctest::Contains("[1, 2]"), nowrec::Error);
  // A k far beyond the index is the same error, not a failed allocation of k results.
  for (std::size_t huge : {std::size_t{1} << 62, std::numeric_limits<std::size_t>::max()}) {
    CAPTURE(huge);
    CHECK_THROWS_WITH_AS(ranker.top_k(query, huge), doctest::Contains("[1, 2]"), nowrec::Error);
    CHECK_THROWS_WITH_AS(ranker.rank({.query = query}, {.k = huge, .mmr_lambda = 0.5f}),
                         doctest::Contains(("k = " + std::to_string(huge)).c_str()), nowrec::Error);
  }
  CHECK_THROWS_WITH_AS(ranker.top_k(std::vector<float>{1, 1, 1}, 1),
                       doctest::Contains("expected dim 4"), nowrec::Error);
  std::vector<float> nan_query = query;
  nan_query[2] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH_AS(ranker.top_k(nan_query, 1), doctest::Contains("position 2"), nowrec::Error);
  CHECK_THROWS_WITH_AS(
      ranker.rank({.query = query}, {.k = 1, .threads = nowrec::kMaxThreads + 1}),
      doctest::Contains("Ranker: threads must be 0 (all cores) or a whole number in [1, 4096], "
                        "not 4097"),
      nowrec::Error);
  CHECK_THROWS_WITH_AS(ranker.rank({.query = query}, {.k = 1, .threads = -1}),
                       doctest::Contains("not -1"), nowrec::Error);
  // Finite, but their products leave float's range: no ranking of infinities by id.
  const std::vector<float> huge_query = {1e38f, 1e38f, 1e38f, 1e38f};
  CHECK_THROWS_WITH_AS(ranker.top_k(huge_query, 2), doctest::Contains("beyond float's range"),
                       nowrec::Error);
  CHECK_THROWS_WITH_AS(ranker.rank(nowrec::RankRequest{}, {.k = 1}),
                       doctest::Contains("exactly one of query and interests"), nowrec::Error);
  const nowrec::WeightedInterest short_interest{std::span(query).first(3), 1.0f};
  CHECK_THROWS_WITH_AS(ranker.rank({.interests = std::span(&short_interest, 1)}, {.k = 1}),
                       doctest::Contains("interest 0"), nowrec::Error);
  const nowrec::WeightedInterest nan_weight{query, std::numeric_limits<float>::quiet_NaN()};
  CHECK_THROWS_WITH_AS(ranker.rank({.interests = std::span(&nan_weight, 1)}, {.k = 1}),
                       doctest::Contains("weight"), nowrec::Error);
  CHECK_THROWS_AS(ranker.rank({.query = query}, {.k = 1, .mmr_lambda = 1.5f}), nowrec::Error);

  const std::vector<std::int64_t> duplicate = {3, 2};
  CHECK_THROWS_WITH_AS(index.add(duplicate, vectors), doctest::Contains("id 2"), nowrec::Error);
  const std::vector<std::int64_t> twice = {5, 5};
  CHECK_THROWS_WITH_AS(index.add(twice, vectors), doctest::Contains("given twice"), nowrec::Error);
  std::vector<float> infinite = vectors;
  infinite[5] = std::numeric_limits<float>::infinity();
  const std::vector<std::int64_t> fresh = {10, 11};
  CHECK_THROWS_WITH_AS(index.add(fresh, infinite), doctest::Contains("item 11"), nowrec::Error);
  CHECK_THROWS_AS(index.add(fresh, std::span(vectors).first(7)), nowrec::Error);
  const std::vector<std::int64_t> unknown = {1, 42};
  try {
    index.remove(unknown);
    FAIL("remove of an unknown id did not throw");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == nowrec::ErrorCode::NotFound);
    CHECK(std::string(error.what()).find("42") != std::string::npos);
  }
  CHECK_THROWS_AS(index.update(unknown, vectors), nowrec::Error);
  CHECK(index.size() == 2);
  CHECK(index.contains(1));
  CHECK(ranker.top_k(query, 2)[0].id == 2);
}

// matmul_min_queries = 0 picks the path by storage (and CPU). The fused scan and the matrix product
// round differently (the int8 scan scores an int16 copy of each query), so a batch's scores show
// which path ran: bit for bit those of the path forced, and not all those of the other. The
// dimension is no multiple of a vector width, so the fp32 scan and the matrix product also sum in
// different orders (at 48, AVX-512 kernels gave both the same bits).
TEST_CASE("by default the path follows the storage; int8 keeps the fused scan to larger batches") {
  using nowrec::RankOptions;
  CHECK(RankOptions::default_matmul_min_queries(nowrec::StorageType::Int8) >
        RankOptions::default_matmul_min_queries(nowrec::StorageType::F32));
  std::mt19937 rng(61);
  const std::size_t dim = 97;
  const auto catalog = random_catalog(rng, 3000, dim);
  const auto scores_of = [](const std::vector<std::vector<nowrec::ScoredItem>>& answers) {
    std::vector<std::uint32_t> bits;
    for (const auto& answer : answers) {
      for (const nowrec::ScoredItem& item : answer)
        bits.push_back(std::bit_cast<std::uint32_t>(item.score));
    }
    return bits;
  };
  for (const auto storage :
       {nowrec::StorageType::F32, nowrec::StorageType::BF16, nowrec::StorageType::Int8}) {
    nowrec::ItemIndex index(dim, {.storage = storage});
    index.add(catalog.ids, catalog.vectors);
    const nowrec::Ranker ranker(index);
    const std::size_t first_matmul = RankOptions::default_matmul_min_queries(storage);
    for (const std::size_t batch : {first_matmul - 1, first_matmul}) {
      CAPTURE(static_cast<int>(storage));
      CAPTURE(batch);
      const auto queries = nowrec::test::random_queries(rng, batch, dim);
      const auto by_default =
          scores_of(nowrec::test::rank_batch(ranker, queries.requests, {.k = 5}));
      const auto fused = scores_of(
          nowrec::test::rank_batch(ranker, queries.requests, {.k = 5, .matmul_min_queries = 1000}));
      const auto matmul = scores_of(
          nowrec::test::rank_batch(ranker, queries.requests, {.k = 5, .matmul_min_queries = 1}));
      REQUIRE(fused != matmul);
      CHECK(by_default == (batch < first_matmul ? fused : matmul));
    }
  }
}
