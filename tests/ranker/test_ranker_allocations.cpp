// Ranker::rank allocates nothing once warmed up (counted by tests/allocation_counter.cpp).
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "allocation_counter.hpp"
#include "nowrec/ranker.hpp"
#include "ranker/reference.hpp"

namespace {

using nowrec::test::allocations_of;

// Categories row % 7 and row % 5 + 100, priors, every 11th row unavailable; two segments.
struct Fixture {
  std::mt19937 rng{11};
  nowrec::test::Catalog catalog = nowrec::test::random_catalog(rng, 6000, 32);
  std::vector<std::vector<std::uint32_t>> categories;
  nowrec::ItemIndex index;

  explicit Fixture(nowrec::StorageType storage) : index(32, {.storage = storage}) {
    std::vector<nowrec::ItemAttributes> attributes;
    for (std::size_t row = 0; row < catalog.ids.size(); ++row) {
      categories.push_back({std::uint32_t(row % 7), std::uint32_t(row % 5 + 100)});
    }
    for (std::size_t row = 0; row < catalog.ids.size(); ++row) {
      attributes.push_back({categories[row], row % 11 != 0});
    }
    index.add(catalog.ids, catalog.vectors, attributes);
    index.set_priors(catalog.ids, nowrec::test::random_priors(rng, catalog.ids.size()));
  }

  std::int64_t random_id() {
    return catalog.ids[std::uniform_int_distribution<std::size_t>(0, catalog.ids.size() - 1)(rng)];
  }
};

// The vectors and lists one request points to.
struct RequestData {
  std::vector<float> query, a, b, c, negative;
  std::vector<nowrec::WeightedInterest> interests;
  std::vector<std::int64_t> exclude, allow;
  std::vector<std::uint32_t> categories{1, 3, 101};
  std::vector<nowrec::ItemBoost> boosts;

  explicit RequestData(Fixture& f) {
    const std::size_t dim = f.catalog.dim;
    query = nowrec::test::random_vector(f.rng, dim);
    a = nowrec::test::random_vector(f.rng, dim);
    b = nowrec::test::random_vector(f.rng, dim);
    c = nowrec::test::random_vector(f.rng, dim);
    negative = nowrec::test::random_vector(f.rng, dim);
    interests = {{a, 1.0f}, {b, 0.5f}, {c, 2.0f}};
    for (int i = 0; i < 60; ++i) exclude.push_back(f.random_id());
    exclude.push_back(exclude.front());  // repeated
    exclude.push_back(-1);               // not in the index
    for (int i = 0; i < 2500; ++i) allow.push_back(f.random_id());
    for (int i = 0; i < 40; ++i) boosts.push_back({f.random_id(), 3.0f});
    boosts.push_back(boosts.front());  // named twice: the boosts add up
    boosts.push_back({-5, 50.0f});     // not in the index
  }

  nowrec::RankRequest single_query() const { return {.query = query}; }
  nowrec::RankRequest interests_negative_priors() const {
    return {.interests = interests,
            .negative = negative,
            .negative_weight = 0.4f,
            .prior_weight = 0.2f};
  }
  nowrec::RankRequest filtered_boosted() const {
    return {.query = query,
            .boosts = boosts,
            .exclude = exclude,
            .allow = allow,
            .categories = categories};
  }
};

using Requests = std::vector<nowrec::RankRequest>;

struct Ranked {
  std::vector<nowrec::ScoredItem> results;
  std::vector<std::size_t> counts;
};

Ranked rank(const nowrec::Ranker& ranker, const Requests& requests,
            const nowrec::RankOptions& options) {
  Ranked out{std::vector<nowrec::ScoredItem>(requests.size() * options.k),
             std::vector<std::size_t>(requests.size())};
  ranker.rank(requests, options, out.results, out.counts);
  return out;
}

// Two warm-up calls with `warm_up`, then counts the allocations of a third with `measured`, a
// request list of the same shape. Also checks that the measured call, made with a workspace that
// earlier calls left behind, ranks as a call on a fresh thread (a fresh workspace) does.
std::size_t allocations_of_warm_call(const nowrec::Ranker& ranker, const Requests& warm_up,
                                     const Requests& measured, const nowrec::RankOptions& options) {
  Ranked out{std::vector<nowrec::ScoredItem>(measured.size() * options.k),
             std::vector<std::size_t>(measured.size())};
  rank(ranker, warm_up, options);
  rank(ranker, warm_up, options);
  const std::size_t count =
      allocations_of([&] { ranker.rank(measured, options, out.results, out.counts); });
  Ranked fresh;
  std::thread([&] { fresh = rank(ranker, measured, options); }).join();
  CHECK(out.counts == fresh.counts);
  CHECK(out.results == fresh.results);
  for (std::size_t filled : out.counts) CHECK(filled > 0);
  return count;
}

}  // namespace

TEST_CASE("allocation counter: sees the test's allocations and the library's") {
  static void* volatile sink = nullptr;  // keeps the allocation from being optimised away
  CHECK(allocations_of([] {
          std::vector<int> v(100);
          sink = v.data();
        }) == 1);
  // The overload returning a vector allocates it inside the library.
  Fixture f(nowrec::StorageType::F32);
  const nowrec::Ranker ranker(f.index);
  const RequestData data(f);
  CHECK(allocations_of([&] { sink = ranker.rank(data.single_query(), {.k = 5}).data(); }) >= 1);
}

TEST_CASE("Ranker::rank allocates nothing once warmed up") {
  for (auto storage :
       {nowrec::StorageType::F32, nowrec::StorageType::BF16, nowrec::StorageType::Int8}) {
    CAPTURE(static_cast<int>(storage));
    Fixture f(storage);
    const nowrec::Ranker ranker(f.index);
    // The measured call gets other vectors and ids than the warm-up, in lists of the same sizes.
    const RequestData warm(f), measured(f);
    {
      INFO("a single query");
      CHECK(allocations_of_warm_call(ranker, {warm.single_query()}, {measured.single_query()},
                                     {.k = 10, .threads = 1}) == 0);
    }
    {
      INFO("three interests, max, a negative vector and priors");
      CHECK(allocations_of_warm_call(
                ranker, {warm.interests_negative_priors()}, {measured.interests_negative_priors()},
                {.k = 10, .aggregation = nowrec::Aggregation::Max, .threads = 1}) == 0);
    }
    {
      INFO("exclude, allow, categories and boosts");
      CHECK(allocations_of_warm_call(ranker, {warm.filtered_boosted()},
                                     {measured.filtered_boosted()}, {.k = 10, .threads = 1}) == 0);
    }
    {
      INFO("maximal marginal relevance");
      CHECK(allocations_of_warm_call(ranker, {warm.interests_negative_priors()},
                                     {measured.interests_negative_priors()},
                                     {.k = 10, .mmr_lambda = 0.7f, .threads = 1}) == 0);
    }
    // A batch, on one thread and on two: the OpenMP workers use only per-thread state sized
    // before the parallel loop (the runtime's own team bookkeeping uses malloc, not counted).
    const Requests warm_batch = {warm.single_query(), warm.interests_negative_priors(),
                                 warm.filtered_boosted()};
    const Requests measured_batch = {measured.single_query(), measured.interests_negative_priors(),
                                     measured.filtered_boosted()};
    for (int threads : {1, 2}) {
      INFO("a batch of three requests");
      CAPTURE(threads);
      CHECK(allocations_of_warm_call(ranker, warm_batch, measured_batch,
                                     {.k = 20, .threads = threads}) == 0);
    }
  }
}
