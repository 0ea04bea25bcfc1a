// InterestTracker: decay arithmetic against a closed form, bad events, concurrent users.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "interest/interest_test_util.hpp"
#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/limits.hpp"

namespace {

std::vector<float> random_embedding(std::mt19937& rng, std::size_t dim) {
  std::normal_distribution<float> dist;
  std::vector<float> v(dim);
  for (float& x : v) x = dist(rng);
  return v;
}

}  // namespace

TEST_CASE("short-term interest is the half-life-decayed weighted sum of embeddings") {
  const std::size_t dim = 24;
  nowrec::InterestTracker tracker({.dim = dim, .short_term_half_life_seconds = 600});
  std::mt19937 rng(3);
  struct Step {
    std::int64_t t;
    float weight;
    std::vector<float> embedding;
  };
  std::vector<Step> steps;
  std::int64_t t = 1'500'000'000;
  for (int i = 0; i < 20; ++i) {
    t += std::int64_t(rng() % 900);
    const float weight = (i % 5 == 4) ? -0.5f : 1.0f + float(i % 3);
    steps.push_back({t, weight, random_embedding(rng, dim)});
    tracker.update({.user = "alice",
                    .item_embedding = steps.back().embedding,
                    .weight = weight,
                    .timestamp = t});
  }
  const std::int64_t now = t + 1234;
  const auto interest = tracker.short_term_interest("alice", now);
  REQUIRE(interest.has_value());
  for (std::size_t j = 0; j < dim; ++j) {
    double expected = 0.0;
    for (const Step& step : steps) {
      expected += step.weight * step.embedding[j] * std::exp2(-double(now - step.t) / 600.0);
    }
    CHECK((*interest)[j] == doctest::Approx(expected).epsilon(1e-4));
  }
  CHECK_FALSE(tracker.short_term_interest("bob", now).has_value());
  CHECK(tracker.user_count() == 1);
}

TEST_CASE("bad events are rejected and leave the user's state unchanged") {
  nowrec::InterestTracker tracker({.dim = 3});
  const std::vector<float> embedding = {1, 2, 3};
  tracker.update({.user = "u", .item_embedding = embedding, .weight = 1, .timestamp = 100});
  const auto before = tracker.short_term_interest("u", 100);

  const std::vector<float> short_embedding = {1, 2};
  std::vector<float> nan_embedding = embedding;
  nan_embedding[1] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH_AS(
      tracker.update({.user = "u", .item_embedding = short_embedding, .timestamp = 200}),
      doctest::Contains("expected dim 3"), nowrec::Error);
  CHECK_THROWS_WITH_AS(
      tracker.update({.user = "u", .item_embedding = nan_embedding, .timestamp = 200}),
      doctest::Contains("non-finite"), nowrec::Error);
  CHECK_THROWS_WITH_AS(tracker.update({.user = "u",
                                       .item_embedding = embedding,
                                       .weight = std::numeric_limits<float>::infinity(),
                                       .timestamp = 200}),
                       doctest::Contains("weight"), nowrec::Error);
  CHECK_THROWS_WITH_AS(tracker.update({.user = "u", .item_embedding = embedding, .timestamp = 99}),
                       doctest::Contains("older than its last event"), nowrec::Error);
  CHECK_THROWS_AS(tracker.update({.user = "", .item_embedding = embedding, .timestamp = 200}),
                  nowrec::Error);
  CHECK_THROWS_AS(tracker.short_term_interest("u", 50), nowrec::Error);
  CHECK(tracker.short_term_interest("u", 100) == before);

  CHECK_THROWS_WITH_AS(nowrec::InterestTracker({.dim = 0}),
                       "InterestTracker: dim is 0, must be positive", nowrec::Error);
  CHECK_THROWS_AS(nowrec::InterestTracker({.dim = 4, .short_term_half_life_seconds = 0}),
                  nowrec::Error);
  CHECK_THROWS_AS(nowrec::InterestTracker({.dim = 4, .shards = 0}), nowrec::Error);
  CHECK_THROWS_WITH_AS(nowrec::InterestTracker({.dim = std::size_t{1} << 62}),
                       doctest::Contains("dim"), nowrec::Error);
  CHECK_THROWS_WITH_AS(
      nowrec::InterestTracker({.dim = nowrec::kMaxVectorDim + 1}),
      doctest::Contains("InterestTracker: dim = 65537 is above the largest allowed, 65536"),
      nowrec::Error);
}

TEST_CASE("events too large for the state, and overlong user ids, are refused before any change") {
  nowrec::InterestTracker tracker({.dim = 3});
  const std::vector<float> embedding = {1, 2, 3};
  tracker.update({.user = "u", .item_embedding = embedding, .timestamp = 100});
  const auto before = nowrec::test::view(tracker, "u", 100);

  // Finite values whose product, or whose squares, leave float's range.
  CHECK_THROWS_WITH_AS(
      tracker.update({.user = "u", .item_embedding = embedding, .weight = 1e20f, .timestamp = 200}),
      doctest::Contains("above the largest allowed"), nowrec::Error);
  const std::vector<float> huge = {1e20f, 0, 0};
  CHECK_THROWS_WITH_AS(tracker.update({.user = "u", .item_embedding = huge, .timestamp = 200}),
                       doctest::Contains("above the largest allowed"), nowrec::Error);
  const std::vector<float> squares_overflow = {3e19f, 3e19f, 0};
  CHECK_THROWS_WITH_AS(
      tracker.update(
          {.user = "u", .item_embedding = squares_overflow, .weight = 0, .timestamp = 200}),
      doctest::Contains("above the largest allowed"), nowrec::Error);
  // At the bound itself the event is applied.
  const std::vector<float> at_bound = {1e9f, 0, 0};
  CHECK(tracker.update({.user = "v", .item_embedding = at_bound, .timestamp = 200}));

  const std::string long_id(nowrec::kMaxUserIdBytes + 1, 'x');
  CHECK_THROWS_WITH_AS(tracker.update({.user = long_id, .item_embedding = embedding}),
                       doctest::Contains("user id of"), nowrec::Error);
  CHECK(nowrec::test::same(nowrec::test::view(tracker, "u", 100), before));
  CHECK_FALSE(tracker.user_stats(long_id).has_value());
}

TEST_CASE("a user active over many half-lives keeps joining one cluster") {
  // 40 events per half-life in one direction: the cluster's true norm settles near 80, and its
  // stored values grow with 1 / scale until the scale is folded in.
  const std::size_t dim = 4;
  nowrec::InterestTracker tracker(
      {.dim = dim, .interest_half_life_seconds = 10, .max_interests = 4});
  const auto a = nowrec::test::unit(dim, 0);
  std::int64_t t = 0;
  for (int half_life = 0; half_life < 100; ++half_life, t += 10) {
    for (int i = 0; i < 40; ++i) tracker.update({.user = "u", .item_embedding = a, .timestamp = t});
  }
  std::size_t clusters = 0;
  for (const nowrec::Interest& interest : tracker.interests("u", t)) {
    if (interest.kind != nowrec::InterestKind::Cluster) continue;
    ++clusters;
    CHECK(std::isfinite(interest.weight));
    CHECK(interest.vector[0] == doctest::Approx(1.0f));
  }
  CHECK(clusters == 1);
}

TEST_CASE("a query far after the last event decays without overflow") {
  nowrec::InterestTracker tracker({.dim = 2, .allowed_lateness_seconds = 0});
  const std::vector<float> e = {1, 0};
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  tracker.update({.user = "u", .item_embedding = e, .timestamp = min + 10});
  for (const nowrec::Interest& interest : tracker.interests("u", max)) {
    CHECK(interest.weight == 0.0f);
    for (float x : interest.vector) CHECK(std::isfinite(x));
  }
  const auto short_term = tracker.short_term_interest("u", max);
  REQUIRE(short_term.has_value());
  CHECK((*short_term)[0] == 0.0f);
}

TEST_CASE("users updated from many threads match a sequential replay") {
  const std::size_t dim = 16;
  const int threads = 4, users_per_thread = 50, events_per_user = 40;
  nowrec::InterestTracker concurrent({.dim = dim, .shards = 8});
  nowrec::InterestTracker sequential({.dim = dim, .shards = 8});
  auto events_for = [&](int user_index, auto&& apply) {
    std::mt19937 rng(static_cast<unsigned>(user_index));
    const std::string user = "user-" + std::to_string(user_index);
    for (int e = 0; e < events_per_user; ++e) {
      const auto embedding = random_embedding(rng, dim);
      apply(nowrec::InterestEvent{
          .user = user, .item_embedding = embedding, .weight = 1.0f, .timestamp = 1000 + e * 60});
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      for (int u = 0; u < users_per_thread; ++u) {
        const int user_index = w * users_per_thread + u;
        events_for(user_index, [&](const nowrec::InterestEvent& e) { concurrent.update(e); });
        (void)concurrent.short_term_interest("user-" + std::to_string(user_index), 1'000'000);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  for (int u = 0; u < threads * users_per_thread; ++u) {
    events_for(u, [&](const nowrec::InterestEvent& e) { sequential.update(e); });
  }
  CHECK(concurrent.user_count() == std::size_t(threads * users_per_thread));
  for (int u = 0; u < threads * users_per_thread; ++u) {
    const std::string user = "user-" + std::to_string(u);
    CHECK(concurrent.short_term_interest(user, 5000) == sequential.short_term_interest(user, 5000));
  }
}

TEST_CASE("interests and recent_events into a kept buffer equal the by-value forms") {
  std::mt19937 rng(23);
  const std::size_t dim = 6;
  nowrec::InterestTracker tracker({.dim = dim, .max_interests = 3});
  for (int i = 0; i < 40; ++i) {
    const bool disliked = i % 9 == 4;
    tracker.update({.user = i % 2 == 0 ? "u" : "v",
                    .item_embedding = nowrec::test::random_embedding(rng, dim),
                    .timestamp = 100 + i * 30,
                    .item = i,
                    .action = disliked ? "dislike" : "click"});
  }
  // Kept buffers that start larger, smaller and with stale contents.
  std::vector<nowrec::Interest> interests(9, {.kind = nowrec::InterestKind::Negative,
                                              .weight = 7.0f,
                                              .vector = std::vector<float>(2 * dim, 3.0f)});
  std::vector<nowrec::RecentEvent> recent(1);
  for (const char* user : {"u", "v", "nobody", "u"}) {
    CAPTURE(user);
    const nowrec::test::UserView expected = nowrec::test::view(tracker, user, 2000);
    tracker.interests(user, 2000, interests);
    tracker.recent_events(user, recent);
    const nowrec::test::UserView got{interests, recent, tracker.user_stats(user)};
    CHECK(nowrec::test::same(got, expected));
    CHECK(interests.size() == expected.interests.size());
  }
}
