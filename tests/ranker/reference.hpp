// Test helpers for the ranker: random catalogs and a double-precision brute-force reference.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <random>
#include <span>
#include <vector>

#include "nowrec/ranker.hpp"

namespace nowrec::test {

struct Catalog {
  std::size_t dim = 0;
  std::vector<std::int64_t> ids;
  std::vector<float> vectors;
  std::vector<float> priors;  // one per row (ItemIndex::set_priors), or empty: every prior 0
  std::span<const float> row(std::size_t i) const { return {vectors.data() + i * dim, dim}; }
  double prior(std::size_t i) const { return priors.empty() ? 0.0 : double(priors[i]); }
};

inline Catalog random_catalog(std::mt19937& rng, std::size_t n, std::size_t dim,
                              std::int64_t first_id = 1000) {
  std::normal_distribution<float> dist;
  Catalog catalog;
  catalog.dim = dim;
  catalog.ids.resize(n);
  std::iota(catalog.ids.begin(), catalog.ids.end(), first_id);
  std::shuffle(catalog.ids.begin(), catalog.ids.end(), rng);
  catalog.vectors.resize(n * dim);
  for (float& x : catalog.vectors) x = dist(rng);
  return catalog;
}

// Priors spread like log popularity (0 to about 5), with a quarter of the items at 0.
inline std::vector<float> random_priors(std::mt19937& rng, std::size_t n) {
  std::uniform_real_distribution<float> dist(-1.5f, 5.0f);
  std::vector<float> priors(n);
  for (float& x : priors) x = std::max(0.0f, dist(rng));
  return priors;
}

inline std::vector<float> random_vector(std::mt19937& rng, std::size_t dim) {
  std::normal_distribution<float> dist;
  std::vector<float> v(dim);
  for (float& x : v) x = dist(rng);
  return v;
}

// `count` random query vectors and one request per vector, whose query views it.
struct QueryBatch {
  std::vector<std::vector<float>> vectors;
  std::vector<RankRequest> requests;
};

inline QueryBatch random_queries(std::mt19937& rng, std::size_t count, std::size_t dim) {
  QueryBatch batch;
  batch.vectors.reserve(count);
  batch.requests.resize(count);
  for (RankRequest& request : batch.requests) {
    batch.vectors.push_back(random_vector(rng, dim));
    request.query = batch.vectors.back();
  }
  return batch;
}

// Ranks `requests` in one call and returns each request's answer, which must hold options.k
// items.
inline std::vector<std::vector<ScoredItem>> rank_batch(const Ranker& ranker,
                                                       std::span<const RankRequest> requests,
                                                       const RankOptions& options) {
  const std::size_t k = options.k;
  std::vector<ScoredItem> results(requests.size() * k);
  std::vector<std::size_t> counts(requests.size());
  ranker.rank(requests, options, results, counts);
  std::vector<std::vector<ScoredItem>> answers;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    CAPTURE(i);
    REQUIRE(counts[i] == k);
    answers.emplace_back(results.begin() + i * k, results.begin() + (i + 1) * k);
  }
  return answers;
}

inline double dot(std::span<const float> a, std::span<const float> b) {
  double sum = 0.0;
  for (std::size_t j = 0; j < a.size(); ++j) sum += double(a[j]) * double(b[j]);
  return sum;
}

// The k best rows by `score(row)` among rows `keep(row)` accepts, in double precision, ties by id.
inline std::vector<ScoredItem> brute_force(
    const Catalog& catalog, std::size_t k, const std::function<double(std::size_t)>& score,
    const std::function<bool(std::size_t)>& keep = [](std::size_t) { return true; }) {
  std::vector<std::pair<double, std::int64_t>> scored;
  for (std::size_t row = 0; row < catalog.ids.size(); ++row) {
    if (keep(row)) scored.emplace_back(score(row), catalog.ids[row]);
  }
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<ScoredItem> best;
  for (std::size_t i = 0; i < std::min(k, scored.size()); ++i) {
    best.push_back({scored[i].second, float(scored[i].first)});
  }
  return best;
}

inline std::vector<ScoredItem> brute_force_query(const Catalog& catalog,
                                                 std::span<const float> query, std::size_t k) {
  return brute_force(catalog, k, [&](std::size_t row) { return dot(query, catalog.row(row)); });
}

// query . row + prior_weight * prior(row), as RankRequest::prior_weight asks.
inline std::vector<ScoredItem> brute_force_query_prior(const Catalog& catalog,
                                                       std::span<const float> query,
                                                       double prior_weight, std::size_t k) {
  return brute_force(catalog, k, [&](std::size_t row) {
    return dot(query, catalog.row(row)) + prior_weight * catalog.prior(row);
  });
}

// Fraction of `expected` ids found in `got`.
inline double recall(const std::vector<ScoredItem>& got, const std::vector<ScoredItem>& expected) {
  std::size_t hits = 0;
  for (const ScoredItem& e : expected) {
    hits += std::any_of(got.begin(), got.end(), [&](const ScoredItem& g) { return g.id == e.id; });
  }
  return double(hits) / double(expected.size());
}

// Same ids in the same order, scores within float rounding of the reference.
inline void check_same(const std::vector<ScoredItem>& got,
                       const std::vector<ScoredItem>& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i].id == expected[i].id);
    CHECK(got[i].score == doctest::Approx(expected[i].score).epsilon(1e-4));
  }
}

}  // namespace nowrec::test
