// Item priors: ItemIndex::set_priors and RankRequest::prior_weight on every scan path (fused
// kernels, matmul, several interests, filters, MMR), copy-on-write, and save/load.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/ranker.hpp"
#include "ranker/reference.hpp"
#include "ranker/snapshot.hpp"
#include "test_support.hpp"

using nowrec::test::brute_force;
using nowrec::test::brute_force_query_prior;
using nowrec::test::check_same;
using nowrec::test::dot;
using nowrec::test::random_catalog;
using nowrec::test::random_priors;
using nowrec::test::random_vector;

namespace {

// 9000 rows of dim 40 (three segments, so priors span segment boundaries), with priors.
struct Fixture {
  std::mt19937 rng{11};
  nowrec::test::Catalog catalog = random_catalog(rng, 9000, 40);
  Fixture() { catalog.priors = random_priors(rng, catalog.ids.size()); }
  nowrec::ItemIndex make_index(nowrec::StorageType storage = nowrec::StorageType::F32) const {
    nowrec::ItemIndex index(catalog.dim, {.storage = storage});
    index.add(catalog.ids, catalog.vectors);
    index.set_priors(catalog.ids, catalog.priors);
    return index;
  }
};

template <typename Call>
void check_error(nowrec::ErrorCode code, Call call) {
  try {
    call();
    FAIL("no nowrec::Error thrown");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == code);
  }
}

std::unordered_map<std::int64_t, float> scores_by_id(const std::vector<nowrec::ScoredItem>& items) {
  std::unordered_map<std::int64_t, float> scores;
  for (const auto& item : items) scores[item.id] = item.score;
  return scores;
}

}  // namespace

TEST_CASE("fp32: prior_weight adds weight * prior to the double-precision reference") {
  Fixture f;
  const auto index = f.make_index();
  const nowrec::Ranker ranker(index);
  const auto query = random_vector(f.rng, f.catalog.dim);
  for (float weight : {0.0f, 0.5f, 2.0f, -1.0f}) {
    CAPTURE(weight);
    check_same(ranker.rank({.query = query, .prior_weight = weight}, {.k = 30}),
               brute_force_query_prior(f.catalog, query, weight, 30));
  }
}

TEST_CASE("the matmul path for many queries adds the priors as the fused scan does") {
  Fixture f;
  const auto index = f.make_index();
  const nowrec::Ranker ranker(index);
  const std::size_t batch = 20, k = 15;
  std::vector<std::vector<float>> queries;
  std::vector<nowrec::RankRequest> requests;
  for (std::size_t i = 0; i < batch; ++i) queries.push_back(random_vector(f.rng, f.catalog.dim));
  for (std::size_t i = 0; i < batch; ++i) {
    requests.push_back({.query = queries[i], .prior_weight = i % 3 == 0 ? 0.0f : 0.2f * float(i)});
  }
  for (std::size_t min_queries : {std::size_t{1}, std::size_t{1000}}) {
    CAPTURE(min_queries);
    std::vector<nowrec::ScoredItem> results(batch * k);
    std::vector<std::size_t> counts(batch);
    ranker.rank(requests, {.k = k, .matmul_min_queries = min_queries}, results, counts);
    for (std::size_t i = 0; i < batch; ++i) {
      CAPTURE(i);
      REQUIRE(counts[i] == k);
      check_same({results.begin() + i * k, results.begin() + (i + 1) * k},
                 brute_force_query_prior(f.catalog, queries[i], requests[i].prior_weight, k));
    }
  }
}

TEST_CASE("several interests, a negative, filters and priors together") {
  Fixture f;
  const auto index = f.make_index();
  const nowrec::Ranker ranker(index);
  const std::size_t dim = f.catalog.dim;
  const auto a = random_vector(f.rng, dim), b = random_vector(f.rng, dim),
             negative = random_vector(f.rng, dim);
  const std::vector<nowrec::WeightedInterest> interests = {{a, 1.0f}, {b, 0.7f}};
  std::vector<std::int64_t> exclude(f.catalog.ids.begin(), f.catalog.ids.begin() + 50);
  const float weight = 0.8f, penalty = 0.4f;
  for (auto aggregation : {nowrec::Aggregation::Max, nowrec::Aggregation::WeightedSum}) {
    const nowrec::RankRequest request{.interests = interests,
                                      .negative = negative,
                                      .negative_weight = penalty,
                                      .prior_weight = weight,
                                      .exclude = exclude};
    const auto expected = brute_force(
        f.catalog, 20,
        [&](std::size_t row) {
          const auto item = f.catalog.row(row);
          const double sa = dot(a, item), sb = 0.7 * dot(b, item);
          const double s = aggregation == nowrec::Aggregation::Max ? std::max(sa, sb) : sa + sb;
          return s - penalty * dot(negative, item) + weight * f.catalog.prior(row);
        },
        [](std::size_t row) { return row >= 50; });
    check_same(ranker.rank(request, {.k = 20, .aggregation = aggregation}), expected);
  }
}

TEST_CASE("bf16 and int8: every item's score moves by exactly weight * prior") {
  Fixture f;
  const std::size_t n = f.catalog.ids.size();
  for (auto storage :
       {nowrec::StorageType::F32, nowrec::StorageType::BF16, nowrec::StorageType::Int8}) {
    CAPTURE(nowrec::ranker::storage_name(storage));
    const auto index = f.make_index(storage);
    const nowrec::Ranker ranker(index);
    const auto query = random_vector(f.rng, f.catalog.dim);
    // Each path against itself: the int8 kernel scores an int16 copy of the query, the matmul
    // the float query, so their plain scores differ by more than float rounding.
    for (std::size_t min_queries : {std::size_t{1}, std::size_t{16}}) {
      const auto plain =
          scores_by_id(ranker.rank({.query = query}, {.k = n, .matmul_min_queries = min_queries}));
      const auto with_prior = ranker.rank({.query = query, .prior_weight = 1.5f},
                                          {.k = n, .matmul_min_queries = min_queries});
      REQUIRE(with_prior.size() == n);
      CHECK(std::is_sorted(with_prior.begin(), with_prior.end(),
                           [](const auto& x, const auto& y) { return x.score > y.score; }));
      for (std::size_t row = 0; row < n; row += 7) {
        const auto found = std::find_if(with_prior.begin(), with_prior.end(),
                                        [&](const auto& s) { return s.id == f.catalog.ids[row]; });
        REQUIRE(found != with_prior.end());
        CHECK(found->score ==
              doctest::Approx(plain.at(f.catalog.ids[row]) + 1.5 * f.catalog.prior(row))
                  .epsilon(1e-4));
      }
    }
  }
}

TEST_CASE("MMR picks among prior-boosted scores") {
  nowrec::ItemIndex index(2);
  // Item 3 is a little worse than 1 and 2 by the query but popular enough to come first.
  const std::vector<std::int64_t> ids = {1, 2, 3};
  index.add(ids, std::vector<float>{1.0f, 0.0f, 0.99f, 0.01f, 0.0f, 1.0f});
  index.set_priors(std::vector<std::int64_t>{3}, std::vector<float>{2.0f});
  const nowrec::Ranker ranker(index);
  const std::vector<float> query = {1.0f, 0.1f};
  const auto plain = ranker.rank({.query = query}, {.k = 2, .mmr_lambda = 0.5f});
  CHECK(plain[0].id == 1);
  const auto boosted =
      ranker.rank({.query = query, .prior_weight = 1.0f}, {.k = 2, .mmr_lambda = 0.5f});
  REQUIRE(boosted.size() == 2);
  CHECK(boosted[0].id == 3);
  CHECK(boosted[0].score == doctest::Approx(2.1f));
  CHECK(boosted[1].id == 1);
}

TEST_CASE("prior_weight 0 or an index without priors ranks exactly as before") {
  Fixture f;
  nowrec::ItemIndex plain(f.catalog.dim);
  plain.add(f.catalog.ids, f.catalog.vectors);
  const auto with_priors = f.make_index();
  const auto query = random_vector(f.rng, f.catalog.dim);
  const auto expected = nowrec::Ranker(plain).rank({.query = query}, {.k = 50});
  CHECK(nowrec::Ranker(with_priors).rank({.query = query}, {.k = 50}) == expected);
  CHECK(nowrec::Ranker(plain).rank({.query = query, .prior_weight = 3.0f}, {.k = 50}) == expected);
  for (const auto& segment : plain.snapshot()->segments) CHECK(segment->priors == nullptr);
}

TEST_CASE("set_priors copies no embeddings and leaves older snapshots alone") {
  Fixture f;
  nowrec::ItemIndex index(f.catalog.dim);
  index.add(f.catalog.ids, f.catalog.vectors);
  const auto before = index.snapshot();
  // Row 5000 lives in the second segment only.
  const std::vector<std::int64_t> one = {f.catalog.ids[5000]};
  index.set_priors(one, std::vector<float>{4.0f});
  const auto after = index.snapshot();
  REQUIRE(after->segments.size() == 3);
  CHECK(after->segments[0] == before->segments[0]);
  CHECK(after->segments[2] == before->segments[2]);
  CHECK(after->segments[1] != before->segments[1]);
  CHECK(after->segments[1]->vectors == before->segments[1]->vectors);
  CHECK(before->segments[1]->priors == nullptr);
  REQUIRE(after->segments[1]->priors != nullptr);
  CHECK(after->segments[1]->priors[5000 - nowrec::ranker::kSegmentRows] == 4.0f);

  // Setting it back to 0 drops the segment's priors again.
  index.set_priors(one, std::vector<float>{0.0f});
  CHECK(index.snapshot()->segments[1]->priors == nullptr);
}

TEST_CASE("priors stay through update, add into the last segment and remove") {
  Fixture f;
  const std::size_t dim = f.catalog.dim;
  nowrec::ItemIndex index(dim);
  // 4000 rows first, so the next add refills (copies) the partly full last segment.
  const std::span<const std::int64_t> ids(f.catalog.ids);
  const std::span<const float> vectors(f.catalog.vectors);
  index.add(ids.first(4000), vectors.first(4000 * dim));
  index.set_priors(ids.first(4000), std::span<const float>(f.catalog.priors).first(4000));
  index.add(ids.subspan(4000), vectors.subspan(4000 * dim));
  index.set_priors(ids.subspan(4000), std::span<const float>(f.catalog.priors).subspan(4000));
  // New vectors for some rows (with and without attributes), some rows removed.
  auto catalog = f.catalog;
  const std::vector<std::int64_t> updated = {catalog.ids[10], catalog.ids[4500]};
  std::vector<float> new_vectors;
  for (std::size_t row : {10, 4500}) {
    const auto v = random_vector(f.rng, dim);
    std::copy(v.begin(), v.end(), catalog.vectors.begin() + row * dim);
    new_vectors.insert(new_vectors.end(), v.begin(), v.end());
  }
  const std::vector<nowrec::ItemAttributes> attributes(2);
  index.update(std::span(updated).first(1), std::span(new_vectors).first(dim));
  index.update(std::span(updated).subspan(1), std::span(new_vectors).subspan(dim),
               std::span(attributes).first(1));
  index.remove(std::vector<std::int64_t>{catalog.ids[20], catalog.ids[8000]});
  const auto query = random_vector(f.rng, dim);
  const auto expected = brute_force(
      catalog, 40,
      [&](std::size_t row) { return dot(query, catalog.row(row)) + 0.6 * catalog.prior(row); },
      [](std::size_t row) { return row != 20 && row != 8000; });
  check_same(nowrec::Ranker(index).rank({.query = query, .prior_weight = 0.6f}, {.k = 40}),
             expected);

  // A new item starts with prior 0.
  const auto fresh = random_vector(f.rng, dim);
  index.add(std::vector<std::int64_t>{1}, fresh);
  const auto ranked =
      nowrec::Ranker(index).rank({.query = fresh, .prior_weight = 5.0f}, {.k = index.size()});
  const auto found = std::find_if(ranked.begin(), ranked.end(), [](auto& s) { return s.id == 1; });
  REQUIRE(found != ranked.end());
  CHECK(found->score == doctest::Approx(dot(fresh, fresh)).epsilon(1e-4));
}

TEST_CASE("set_priors refuses bad input and then changes nothing") {
  nowrec::ItemIndex index(2);
  index.add(std::vector<std::int64_t>{1, 2}, std::vector<float>{1.0f, 0.0f, 0.0f, 1.0f});
  index.set_priors(std::vector<std::int64_t>{1}, std::vector<float>{1.0f});
  const auto before = index.snapshot();
  using nowrec::ErrorCode;
  const std::vector<std::int64_t> both = {1, 2};
  check_error(ErrorCode::InvalidArgument,
              [&] { index.set_priors(both, std::vector<float>{1.0f}); });
  check_error(ErrorCode::InvalidArgument, [&] {
    index.set_priors(both, std::vector<float>{1.0f, std::numeric_limits<float>::quiet_NaN()});
  });
  check_error(ErrorCode::InvalidArgument, [&] {
    index.set_priors(both, std::vector<float>{1.0f, std::numeric_limits<float>::infinity()});
  });
  check_error(ErrorCode::InvalidArgument, [&] {
    index.set_priors(std::vector<std::int64_t>{2, 2}, std::vector<float>{1.0f, 2.0f});
  });
  check_error(ErrorCode::NotFound, [&] {
    index.set_priors(std::vector<std::int64_t>{2, 7}, std::vector<float>{1.0f, 2.0f});
  });
  CHECK(index.snapshot() == before);
  const std::vector<float> query = {1.0f, 0.0f};
  check_error(ErrorCode::InvalidArgument, [&] {
    nowrec::Ranker(index).rank(
        {.query = query, .prior_weight = std::numeric_limits<float>::quiet_NaN()}, {.k = 1});
  });
}

TEST_CASE("save and load keep the priors for every storage type") {
  Fixture f;
  nowrec::test::TempDir dir;
  for (auto storage :
       {nowrec::StorageType::F32, nowrec::StorageType::BF16, nowrec::StorageType::Int8}) {
    CAPTURE(nowrec::ranker::storage_name(storage));
    const auto index = f.make_index(storage);
    const auto path = dir.path() / "priors.idx";
    index.save(path);
    const auto loaded = nowrec::ItemIndex::load(path);
    const auto query = random_vector(f.rng, f.catalog.dim);
    const nowrec::RankRequest request{.query = query, .prior_weight = 0.9f};
    CHECK(nowrec::Ranker(loaded).rank(request, {.k = 25}) ==
          nowrec::Ranker(index).rank(request, {.k = 25}));
    // Saved again from the loaded (mapped) copy, unchanged.
    loaded.save(dir.path() / "again.idx");
    CHECK(nowrec::test::read_file(dir.path() / "again.idx") == nowrec::test::read_file(path));
  }
  // An index whose priors are all 0 loads without any, like one that never had them.
  nowrec::ItemIndex plain(f.catalog.dim);
  plain.add(f.catalog.ids, f.catalog.vectors);
  plain.save(dir.path() / "plain.idx");
  const auto reloaded = nowrec::ItemIndex::load(dir.path() / "plain.idx");
  const auto snapshot = reloaded.snapshot();
  for (const auto& segment : snapshot->segments) CHECK(segment->priors == nullptr);
}

TEST_CASE("version 1 index files (before priors) still load, with every prior 0") {
  // Written by `nowrec index` before the priors section existed (ids 5, 6, 7: "red apple",
  // "green pear", "space robots adventure").
  for (const char* name : {"index_v1_f32.idx", "index_v1_int8.idx"}) {
    CAPTURE(name);
    const auto path = nowrec::test::fixtures_dir() / "ranker" / name;
    REQUIRE(nowrec::test::read_file(path)[8] == 1);  // the header's version field
    auto index = nowrec::ItemIndex::load(path);
    CHECK(index.size() == 3);
    const auto snapshot = index.snapshot();
    for (const auto& segment : snapshot->segments) CHECK(segment->priors == nullptr);
    std::vector<float> row(index.dim());
    nowrec::ranker::decode_row(snapshot->storage, *snapshot->segments[0], 2, index.dim(),
                               row.data());
    const nowrec::Ranker ranker(index);
    const auto plain = ranker.rank({.query = row}, {.k = 3});
    CHECK(plain[0].id == 7);
    CHECK(ranker.rank({.query = row, .prior_weight = 4.0f}, {.k = 3}) == plain);
    // Priors set on it are saved in the current format.
    index.set_priors(std::vector<std::int64_t>{5}, std::vector<float>{1.0f});
    nowrec::test::TempDir dir;
    index.save(dir.path() / "v2.idx");
    CHECK(nowrec::test::read_file(dir.path() / "v2.idx")[8] == 2);
    const auto reloaded = nowrec::ItemIndex::load(dir.path() / "v2.idx");
    const auto boosted =
        nowrec::Ranker(reloaded).rank({.query = row, .prior_weight = 4.0f}, {.k = 3});
    CHECK(boosted[0].id == 5);
  }
}
