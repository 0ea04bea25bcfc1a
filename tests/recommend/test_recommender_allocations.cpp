// Recommender::recommend allocates nothing once a thread has served a request of the same shape
// (counted by tests/allocation_counter.cpp): interests, calibration, co-visitation boosts, the
// seen filter, the scan and the explanation all reuse kept storage.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "allocation_counter.hpp"
#include "nowrec/recommender.hpp"
#include "recommend/recommend_fixture.hpp"

using namespace nowrec::test::recommend;
using nowrec::test::allocations_of;

TEST_CASE("Recommender: a warm recommend call allocates nothing") {
  Setup s;
  nowrec::RecommenderConfig config = base_config(0.5f);
  config.long_term = 0.6f;
  config.clusters = 0.8f;
  config.clusters_min = 0.5f;
  config.negative = 0.5f;
  config.prior = 0.1f;
  config.calibrate = true;
  nowrec::Recommender recommender(s.index, s.tracker, config);
  for (int u = 0; u < 4; ++u) {
    s.observe(recommender, "other" + std::to_string(u), {10, 50, 11, 51, 52, 53, 60 + u}, 100 * u);
  }
  s.observe(recommender, "mo", {3, 90}, 1000);
  recommender.observe({.user = "mo", .timestamp = 1100, .item = 20, .action = "skip"});
  s.observe(recommender, "mo", {140, 10, 11}, 1200);
  s.observe(recommender, "ned", {50, 51, 7}, 1000);

  const std::int64_t exclude[] = {12, 13};
  const nowrec::RecommendRequest request{.k = 10, .exclude = exclude};
  nowrec::RecommendResult result;
  for (int warm = 0; warm < 2; ++warm) recommender.recommend("mo", 2000, request, result);
  CHECK(allocations_of([&] { recommender.recommend("mo", 2000, request, result); }) == 0);
  REQUIRE(result.items.size() == 10);
  CHECK(result.interests.size() >= 3);
  bool co_visited = false;
  for (const auto& r : result.items) co_visited |= r.co_visited_with >= 0;
  CHECK(co_visited);

  // Another user of a like shape, a later time, and a batch, after their own warm-up.
  recommender.recommend("ned", 2100, request, result);
  CHECK(allocations_of([&] { recommender.recommend("mo", 2100, request, result); }) == 0);
  const std::string_view users[] = {"mo", "ned", "nobody"};
  std::vector<nowrec::RecommendResult> batch(3);
  for (int warm = 0; warm < 2; ++warm) recommender.recommend(users, 2200, request, batch);
  CHECK(allocations_of([&] { recommender.recommend(users, 2200, request, batch); }) == 0);

  // The control: the by-value form allocates its result.
  CHECK(allocations_of([&] { (void)recommender.recommend("mo", 2200, request); }) > 0);
}
