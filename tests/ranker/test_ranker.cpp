// Ranker: exact top-k against a double-precision brute force, on every CPU ISA.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/ranker.hpp"

namespace {

struct Catalog {
  std::vector<std::int64_t> ids;
  std::vector<float> vectors;
};

Catalog random_catalog(std::mt19937& rng, std::size_t n, std::size_t dim) {
  std::normal_distribution<float> dist;
  Catalog catalog;
  catalog.ids.resize(n);
  std::iota(catalog.ids.begin(), catalog.ids.end(), 1000);
  std::shuffle(catalog.ids.begin(), catalog.ids.end(), rng);
  catalog.vectors.resize(n * dim);
  for (float& x : catalog.vectors) x = dist(rng);
  return catalog;
}

std::vector<nowrec::ScoredItem> brute_force(const Catalog& catalog, std::span<const float> query,
                                            std::size_t k) {
  const std::size_t dim = query.size();
  std::vector<std::pair<double, std::int64_t>> scored;
  for (std::size_t row = 0; row < catalog.ids.size(); ++row) {
    double score = 0.0;
    for (std::size_t j = 0; j < dim; ++j) score += double(query[j]) * catalog.vectors[row * dim + j];
    scored.emplace_back(score, catalog.ids[row]);
  }
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<nowrec::ScoredItem> best;
  for (std::size_t i = 0; i < k; ++i) best.push_back({scored[i].second, float(scored[i].first)});
  return best;
}

}  // namespace

TEST_CASE("top_k equals a double-precision brute force") {
  std::mt19937 rng(1);
  for (std::size_t dim : {3u, 16u, 384u}) {
    const Catalog catalog = random_catalog(rng, 2000, dim);
    nowrec::Ranker ranker(dim);
    ranker.add(catalog.ids, catalog.vectors);
    REQUIRE(ranker.size() == 2000);
    for (std::size_t k : {1u, 10u, 100u, 2000u}) {
      for (int q = 0; q < 5; ++q) {
        const Catalog query = random_catalog(rng, 1, dim);
        const auto got = ranker.top_k(query.vectors, k);
        const auto expected = brute_force(catalog, query.vectors, k);
        REQUIRE(got.size() == k);
        for (std::size_t i = 0; i < k; ++i) {
          CAPTURE(i);
          CHECK(got[i].id == expected[i].id);
          CHECK(got[i].score == doctest::Approx(expected[i].score).epsilon(1e-4));
        }
      }
    }
  }
}

TEST_CASE("equal scores are ordered by id") {
  nowrec::Ranker ranker(2);
  const std::vector<std::int64_t> ids = {7, 3, 9, 1};
  const std::vector<float> vectors = {1, 0, 1, 0, 0.5f, 0, 1, 0};
  ranker.add(ids, vectors);
  const std::vector<float> query = {2, 1};
  const auto best = ranker.top_k(query, 4);
  REQUIRE(best.size() == 4);
  CHECK(best[0].id == 1);
  CHECK(best[1].id == 3);
  CHECK(best[2].id == 7);
  CHECK(best[3].id == 9);
  CHECK(best[3].score == doctest::Approx(1.0f));
}

TEST_CASE("bad input is rejected and changes nothing") {
  nowrec::Ranker ranker(4);
  const std::vector<std::int64_t> ids = {1, 2};
  const std::vector<float> vectors = {1, 2, 3, 4, 5, 6, 7, 8};
  ranker.add(ids, vectors);
  const std::vector<float> query = {1, 1, 1, 1};

  CHECK_THROWS_AS(nowrec::Ranker(0), nowrec::Error);
  CHECK_THROWS_AS(ranker.top_k(query, 0), nowrec::Error);
  CHECK_THROWS_AS(ranker.top_k(query, 3), nowrec::Error);
  CHECK_THROWS_AS(ranker.top_k(std::vector<float>{1, 1, 1}, 1), nowrec::Error);
  std::vector<float> nan_query = query;
  nan_query[2] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH_AS(ranker.top_k(nan_query, 1), doctest::Contains("position 2"), nowrec::Error);

  const std::vector<std::int64_t> duplicate = {3, 2};
  CHECK_THROWS_WITH_AS(ranker.add(duplicate, vectors), doctest::Contains("id 2"), nowrec::Error);
  const std::vector<std::int64_t> twice = {5, 5};
  CHECK_THROWS_AS(ranker.add(twice, vectors), nowrec::Error);
  std::vector<float> infinite = vectors;
  infinite[5] = std::numeric_limits<float>::infinity();
  const std::vector<std::int64_t> fresh = {10, 11};
  CHECK_THROWS_WITH_AS(ranker.add(fresh, infinite), doctest::Contains("item 11"), nowrec::Error);
  CHECK_THROWS_AS(ranker.add(fresh, std::span(vectors).first(7)), nowrec::Error);
  CHECK(ranker.size() == 2);
  CHECK(ranker.top_k(query, 2)[0].id == 2);
}
