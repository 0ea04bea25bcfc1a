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

  CHECK_THROWS_AS(nowrec::InterestTracker({.dim = 0}), nowrec::Error);
  CHECK_THROWS_AS(nowrec::InterestTracker({.dim = 4, .short_term_half_life_seconds = 0}),
                  nowrec::Error);
  CHECK_THROWS_AS(nowrec::InterestTracker({.dim = 4, .shards = 0}), nowrec::Error);
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
