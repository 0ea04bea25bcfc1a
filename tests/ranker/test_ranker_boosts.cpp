// RankRequest::boosts: sparse per-item additions to the score, on every scan path, against the
// double-precision brute force.
#include <doctest/doctest.h>

#include <limits>
#include <unordered_map>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/ranker.hpp"
#include "ranker/reference.hpp"

using nowrec::test::brute_force;
using nowrec::test::check_same;
using nowrec::test::dot;
using nowrec::test::random_catalog;
using nowrec::test::random_priors;
using nowrec::test::random_vector;

namespace {

// Boosts on a few hundred random items, large enough to lift items from deep in the ranking
// into the top k, some negative, some on ids the index lacks, one id named twice.
std::vector<nowrec::ItemBoost> random_boosts(std::mt19937& rng,
                                             const nowrec::test::Catalog& catalog) {
  std::uniform_int_distribution<std::size_t> row(0, catalog.ids.size() - 1);
  std::uniform_real_distribution<float> amount(-2.0f, 12.0f);
  std::vector<nowrec::ItemBoost> boosts;
  for (int i = 0; i < 300; ++i) boosts.push_back({catalog.ids[row(rng)], amount(rng)});
  boosts.push_back({-7, 100.0f});  // not in the index
  boosts.push_back(boosts.front());
  return boosts;
}

std::unordered_map<std::int64_t, double> boost_table(std::span<const nowrec::ItemBoost> boosts) {
  std::unordered_map<std::int64_t, double> table;
  for (const nowrec::ItemBoost& b : boosts) table[b.id] += b.score;
  return table;
}

}  // namespace

TEST_CASE("Ranker: boosts are added to the scores on every scan path") {
  std::mt19937 rng(5);
  nowrec::test::Catalog catalog = random_catalog(rng, 9000, 24);
  catalog.priors = random_priors(rng, catalog.ids.size());
  nowrec::ItemIndex index(catalog.dim);
  index.add(catalog.ids, catalog.vectors);
  index.set_priors(catalog.ids, catalog.priors);
  const nowrec::Ranker ranker(index);
  const std::vector<nowrec::ItemBoost> boosts = random_boosts(rng, catalog);
  const auto table = boost_table(boosts);
  const auto boost_of = [&](std::size_t row) {
    const auto found = table.find(catalog.ids[row]);
    return found == table.end() ? 0.0 : found->second;
  };

  SUBCASE("one query, with a prior, fused kernel and matmul") {
    const std::vector<float> query = random_vector(rng, catalog.dim);
    nowrec::RankRequest request;
    request.query = query;
    request.prior_weight = 0.3f;
    request.boosts = boosts;
    const auto expected = brute_force(catalog, 20, [&](std::size_t row) {
      return dot(query, catalog.row(row)) + 0.3 * catalog.prior(row) + boost_of(row);
    });
    for (std::size_t matmul_from : {std::size_t{16}, std::size_t{1}}) {
      CAPTURE(matmul_from);
      const auto got =
          ranker.rank(request, {.k = 20, .threads = 2, .matmul_min_queries = matmul_from});
      check_same(got, expected);
      // The boosts moved the ranking: without them it differs.
      request.boosts = {};
      const auto plain = ranker.rank(request, {.k = 20, .matmul_min_queries = matmul_from});
      request.boosts = boosts;
      CHECK(plain.front().id != got.front().id);
    }
  }

  SUBCASE("several interests, max, with exclusions") {
    const std::vector<float> a = random_vector(rng, catalog.dim);
    const std::vector<float> b = random_vector(rng, catalog.dim);
    const nowrec::WeightedInterest interests[] = {{a, 1.0f}, {b, 0.5f}};
    // The strongest boosted item is excluded and must not come back.
    std::int64_t strongest = boosts.front().id;
    for (const auto& [id, score] : table) {
      if (score > table.at(strongest) && id != -7) strongest = id;
    }
    const std::int64_t exclude[] = {strongest};
    nowrec::RankRequest request;
    request.interests = interests;
    request.boosts = boosts;
    request.exclude = exclude;
    const auto expected = brute_force(
        catalog, 10,
        [&](std::size_t row) {
          return std::max(dot(a, catalog.row(row)), 0.5 * dot(b, catalog.row(row))) + boost_of(row);
        },
        [&](std::size_t row) { return catalog.ids[row] != strongest; });
    check_same(ranker.rank(request, {.k = 10, .aggregation = nowrec::Aggregation::Max}), expected);
  }

  SUBCASE("batched requests keep their own boosts") {
    const std::vector<float> query = random_vector(rng, catalog.dim);
    std::vector<nowrec::RankRequest> requests(3);
    for (auto& request : requests) request.query = query;
    requests[1].boosts = boosts;
    std::vector<nowrec::ScoredItem> results(3 * 5);
    std::vector<std::size_t> counts(3);
    ranker.rank(requests, {.k = 5}, results, counts);
    const auto plain =
        brute_force(catalog, 5, [&](std::size_t row) { return dot(query, catalog.row(row)); });
    const auto boosted = brute_force(
        catalog, 5, [&](std::size_t row) { return dot(query, catalog.row(row)) + boost_of(row); });
    check_same({results.begin(), results.begin() + 5}, plain);
    check_same({results.begin() + 5, results.begin() + 10}, boosted);
    check_same({results.begin() + 10, results.end()}, plain);
  }

  SUBCASE("a non-finite boost is an error naming it") {
    const std::vector<float> query = random_vector(rng, catalog.dim);
    const nowrec::ItemBoost bad[] = {{catalog.ids[0], 1.0f},
                                     {catalog.ids[1], std::numeric_limits<float>::quiet_NaN()}};
    nowrec::RankRequest request;
    request.query = query;
    request.boosts = bad;
    try {
      ranker.rank(request, {.k = 5});
      FAIL("no error");
    } catch (const nowrec::Error& e) {
      CHECK(e.code() == nowrec::ErrorCode::InvalidArgument);
      CHECK(std::string(e.what()).find("boost 1") != std::string::npos);
    }
  }
}
