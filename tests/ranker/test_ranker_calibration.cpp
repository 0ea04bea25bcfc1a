// RankRequest::calibrate: every interest's weight divided by its best match over the items the
// filters leave, found in the same pass as the ranking, against a double-precision reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/item_index.hpp"
#include "nowrec/ranker.hpp"
#include "reference.hpp"

namespace nowrec {
namespace {

struct Interests {
  std::vector<std::vector<float>> vectors;
  std::vector<WeightedInterest> weighted;
  std::vector<float> negative;
};

Interests random_interests(std::mt19937& rng, std::size_t count, std::size_t dim) {
  Interests out;
  for (std::size_t i = 0; i < count; ++i) out.vectors.push_back(test::random_vector(rng, dim));
  // Different scales, as interests from item embeddings and from search texts have.
  for (std::size_t i = 0; i < count; ++i) {
    for (float& x : out.vectors[i]) x *= 0.3f + 0.5f * static_cast<float>(i);
    out.weighted.push_back(
        {.vector = out.vectors[i], .weight = 0.5f + 0.25f * static_cast<float>(i)});
  }
  out.negative = test::random_vector(rng, dim);
  return out;
}

// The catalog as the index stores it (bf16 and int8 rows decoded), for the reference.
test::Catalog decoded(const ItemIndex& index, const test::Catalog& catalog) {
  test::Catalog out = catalog;
  for (std::size_t r = 0; r < catalog.ids.size(); ++r) {
    index.read(catalog.ids[r], std::span(out.vectors.data() + r * catalog.dim, catalog.dim));
  }
  return out;
}

struct Expected {
  std::vector<ScoredItem> items;
  std::vector<float> best_matches;
};

Expected reference(const test::Catalog& catalog, const RankRequest& request,
                   Aggregation aggregation, std::size_t k) {
  const std::set<std::int64_t> exclude(request.exclude.begin(), request.exclude.end());
  const std::set<std::int64_t> allow(request.allow.begin(), request.allow.end());
  const auto keep = [&](std::size_t row) {
    const std::int64_t id = catalog.ids[row];
    return !exclude.contains(id) && (allow.empty() || allow.contains(id));
  };
  Expected expected;
  std::vector<double> scale;
  for (const WeightedInterest& interest : request.interests) {
    double best = -std::numeric_limits<double>::infinity();
    for (std::size_t row = 0; row < catalog.ids.size(); ++row) {
      if (keep(row)) best = std::max(best, test::dot(interest.vector, catalog.row(row)));
    }
    expected.best_matches.push_back(best > 0 ? float(best) : 1.0f);
    scale.push_back(best > 0 ? interest.weight / best : interest.weight);
  }
  expected.items = test::brute_force(
      catalog, k,
      [&](std::size_t row) {
        double score =
            aggregation == Aggregation::Max ? -std::numeric_limits<double>::infinity() : 0.0;
        for (std::size_t i = 0; i < request.interests.size(); ++i) {
          const double s = scale[i] * test::dot(request.interests[i].vector, catalog.row(row));
          score = aggregation == Aggregation::Max ? std::max(score, s) : score + s;
        }
        if (!request.negative.empty()) {
          score -= request.negative_weight * test::dot(request.negative, catalog.row(row));
        }
        return score + request.prior_weight * catalog.prior(row);
      },
      keep);
  return expected;
}

// An int8 catalog's scan scores an int16 copy of each interest, whose rounding moves a score by
// up to about 1e-5 of its size at these dims; the float paths stay within float rounding.
void check_best_matches(const std::vector<float>& got, const std::vector<float>& expected,
                        double epsilon = 1e-5) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(epsilon));
  }
}

}  // namespace

TEST_CASE(
    "calibrated interests rank as the reference, in every storage, aggregation and thread count") {
  std::mt19937 rng(41);
  const std::size_t dim = 24;
  test::Catalog catalog = test::random_catalog(rng, 3000, dim);
  catalog.priors = test::random_priors(rng, catalog.ids.size());
  Interests interests = random_interests(rng, 3, dim);

  for (const StorageType storage : {StorageType::F32, StorageType::BF16, StorageType::Int8}) {
    ItemIndex index(dim, {.storage = storage});
    index.add(catalog.ids, catalog.vectors);
    index.set_priors(catalog.ids, catalog.priors);
    const test::Catalog stored = decoded(index, catalog);
    const Ranker ranker(index);
    // Excluding each interest's best item moves its best match to the next one.
    std::vector<std::int64_t> exclude;
    for (const WeightedInterest& interest : interests.weighted) {
      exclude.push_back(test::brute_force_query(stored, interest.vector, 1)[0].id);
    }
    for (const Aggregation aggregation : {Aggregation::Max, Aggregation::WeightedSum}) {
      for (const int threads : {1, 2}) {
        CAPTURE(static_cast<int>(storage));
        CAPTURE(static_cast<int>(aggregation));
        CAPTURE(threads);
        std::vector<float> best_matches(interests.weighted.size());
        const RankRequest request{.interests = interests.weighted,
                                  .negative = interests.negative,
                                  .negative_weight = 0.2f,
                                  .prior_weight = 0.01f,
                                  .exclude = exclude,
                                  .calibrate = true,
                                  .best_matches = best_matches};
        const std::vector<ScoredItem> got =
            ranker.rank(request, {.k = 20, .aggregation = aggregation, .threads = threads});
        const Expected expected = reference(stored, request, aggregation, 20);
        test::check_same(got, expected.items);
        check_best_matches(best_matches, expected.best_matches,
                           storage == StorageType::Int8 ? 1e-4 : 1e-5);
      }
    }
  }
}

TEST_CASE("an interest whose best match is not above 0 keeps its weight") {
  std::mt19937 rng(43);
  const std::size_t dim = 16;
  const test::Catalog catalog = test::random_catalog(rng, 2000, dim);
  ItemIndex index(dim);
  index.add(catalog.ids, catalog.vectors);
  Interests interests = random_interests(rng, 2, dim);
  // Only items facing away from interest 0 are allowed.
  std::vector<std::int64_t> allow;
  for (std::size_t row = 0; row < catalog.ids.size(); ++row) {
    if (test::dot(interests.vectors[0], catalog.row(row)) < 0) allow.push_back(catalog.ids[row]);
  }
  std::vector<float> best_matches(2);
  const RankRequest request{.interests = interests.weighted,
                            .allow = allow,
                            .calibrate = true,
                            .best_matches = best_matches};
  const std::vector<ScoredItem> got = Ranker(index).rank(request, {.k = 10});
  const Expected expected = reference(catalog, request, Aggregation::Max, 10);
  CHECK(expected.best_matches[0] == 1.0f);
  test::check_same(got, expected.items);
  check_best_matches(best_matches, expected.best_matches);
}

TEST_CASE("a batch whose scores outgrow the kept buffer scans the catalog twice, same results") {
  std::mt19937 rng(47);
  const std::size_t dim = 8;
  // 40 users x 4 interests x 60,000 rows of scores is 38 MB, above the 32 MiB kept between the
  // passes; 160 vectors also take the matrix-product path.
  const test::Catalog catalog = test::random_catalog(rng, 60000, dim);
  ItemIndex index(dim);
  index.add(catalog.ids, catalog.vectors);
  const Ranker ranker(index);
  std::vector<Interests> users;
  for (int u = 0; u < 40; ++u) users.push_back(random_interests(rng, 4, dim));
  std::vector<std::vector<float>> best_matches(users.size(), std::vector<float>(4));
  std::vector<RankRequest> requests;
  for (std::size_t u = 0; u < users.size(); ++u) {
    requests.push_back(
        {.interests = users[u].weighted, .calibrate = true, .best_matches = best_matches[u]});
  }
  // One user calibrated among uncalibrated ones ranks the same too.
  requests[3].calibrate = false;
  requests[3].best_matches = {};
  const std::size_t k = 5;
  std::vector<ScoredItem> results(requests.size() * k);
  std::vector<std::size_t> counts(requests.size());
  ranker.rank(requests, {.k = k, .threads = 2}, results, counts);
  for (std::size_t u = 0; u < requests.size(); ++u) {
    CAPTURE(u);
    const std::vector<ScoredItem> got(results.begin() + std::ptrdiff_t(u * k),
                                      results.begin() + std::ptrdiff_t(u * k + counts[u]));
    if (u == 3) {
      test::check_same(got, test::brute_force(catalog, k, [&](std::size_t row) {
                         double best = -std::numeric_limits<double>::infinity();
                         for (const WeightedInterest& i : users[u].weighted) {
                           best = std::max(best, i.weight * test::dot(i.vector, catalog.row(row)));
                         }
                         return best;
                       }));
      continue;
    }
    const Expected expected = reference(catalog, requests[u], Aggregation::Max, k);
    test::check_same(got, expected.items);
    check_best_matches(best_matches[u], expected.best_matches);
  }
}

TEST_CASE("calibration needs interests, and best_matches one entry per interest") {
  std::mt19937 rng(53);
  const test::Catalog catalog = test::random_catalog(rng, 100, 8);
  ItemIndex index(8);
  index.add(catalog.ids, catalog.vectors);
  const Ranker ranker(index);
  const std::vector<float> query = test::random_vector(rng, 8);
  CHECK_THROWS_WITH_AS(ranker.rank({.query = query, .calibrate = true}, {.k = 3}),
                       doctest::Contains("needs interests"), Error);
  Interests interests = random_interests(rng, 2, 8);
  std::vector<float> one(1);
  CHECK_THROWS_WITH_AS(
      ranker.rank({.interests = interests.weighted, .calibrate = true, .best_matches = one},
                  {.k = 3}),
      doctest::Contains("best_matches has 1 entries for 2 interests"), Error);
}

}  // namespace nowrec
