// InterestTracker's model of interest: actions, late events, clusters, negative feedback, the
// window, bf16, memory per user, eviction, the item store and the next-interest hook.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "interest/interest_test_util.hpp"
#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"

using nowrec::InterestKind;
using nowrec::InterestTracker;
using nowrec::test::random_embedding;
using nowrec::test::unit;

namespace {

double decay(double elapsed, double half_life) { return std::exp2(-elapsed / half_life); }

const nowrec::Interest* find_kind(const std::vector<nowrec::Interest>& all, InterestKind kind) {
  for (const auto& interest : all) {
    if (interest.kind == kind) return &interest;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("action weights, values and late events give the closed-form decayed sum") {
  const std::size_t dim = 8;
  InterestTracker tracker(
      {.dim = dim,
       .short_term_half_life_seconds = 300,
       .long_term_half_life_seconds = 5000,
       .actions = {{"click", 1.0f}, {"purchase", 5.0f}, {"rate", 0.0f, 0.5f}, {"skip", -1.0f}},
       .allowed_lateness_seconds = 120});
  std::mt19937 rng(7);
  struct Sent {
    std::int64_t t;
    float w;
    std::vector<float> e;
  };
  std::vector<Sent> sent;
  // Arrival order differs from time order within the lateness.
  const std::vector<std::pair<std::int64_t, std::string>> plan = {
      {1000, "click"}, {1100, "purchase"}, {1050, "rate"}, {1300, "skip"},
      {1200, "click"}, {1400, "rate"},     {1290, "click"}};
  for (const auto& [t, action] : plan) {
    auto e = random_embedding(rng, dim);
    const float value = action == "rate" ? 4.0f : 0.0f;
    const float w = action == "click"      ? 1.0f
                    : action == "purchase" ? 5.0f
                    : action == "rate"     ? 2.0f
                                           : -1.0f;
    tracker.update({.user = "u",
                    .item_embedding = e,
                    .weight = 1.0f,
                    .timestamp = t,
                    .item = t,
                    .action = action,
                    .value = value});
    sent.push_back({t, w, std::move(e)});
  }
  const std::int64_t now = 1500;
  const auto interests = tracker.interests("u", now);
  const auto short_term = tracker.short_term_interest("u", now);
  REQUIRE(short_term.has_value());
  for (std::size_t j = 0; j < dim; ++j) {
    double expected = 0.0;
    for (const Sent& s : sent) expected += s.w * s.e[j] * decay(double(now - s.t), 300);
    CHECK((*short_term)[j] == doctest::Approx(expected).epsilon(1e-4));
  }
  const auto* long_term = find_kind(interests, InterestKind::LongTerm);
  REQUIRE(long_term);
  double weight = 0.0;
  for (const Sent& s : sent) weight += s.w * decay(double(now - s.t), 5000);
  CHECK(long_term->weight == doctest::Approx(weight).epsilon(1e-4));

  // The window is in time order, whatever the arrival order.
  const auto recent = tracker.recent_events("u");
  REQUIRE(recent.size() == plan.size());
  for (std::size_t i = 1; i < recent.size(); ++i) {
    CHECK(recent[i - 1].timestamp <= recent[i].timestamp);
  }
  CHECK(recent.front().action == "click");
  CHECK(recent.back().action == "rate");
  CHECK(recent.back().item == 1400);
}

TEST_CASE(
    "each positive event joins the nearest interest or starts one; the least important goes") {
  const std::size_t dim = 6;
  const double h = 1000;
  InterestTracker tracker({.dim = dim, .interest_half_life_seconds = h, .max_interests = 2});
  const auto a = unit(dim, 0), b = unit(dim, 1), c = unit(dim, 2);
  tracker.update({.user = "u", .item_embedding = a, .weight = 1, .timestamp = 0});
  tracker.update({.user = "u", .item_embedding = a, .weight = 2, .timestamp = 100});
  tracker.update({.user = "u", .item_embedding = b, .weight = 1, .timestamp = 200});
  auto all = tracker.interests("u", 300);
  std::vector<const nowrec::Interest*> clusters;
  for (const auto& i : all) {
    if (i.kind == InterestKind::Cluster) clusters.push_back(&i);
  }
  REQUIRE(clusters.size() == 2);
  // Most important first: a with 1*2^-0.3 + 2*2^-0.2, then b with 2^-0.1.
  CHECK(clusters[0]->weight == doctest::Approx(decay(300, h) + 2 * decay(200, h)).epsilon(1e-5));
  CHECK(clusters[0]->vector[0] == doctest::Approx(1.0f));
  CHECK(clusters[1]->weight == doctest::Approx(decay(100, h)).epsilon(1e-5));
  CHECK(clusters[1]->vector[1] == doctest::Approx(1.0f));

  // A third direction replaces the least important (b).
  tracker.update({.user = "u", .item_embedding = c, .weight = 1, .timestamp = 300});
  all = tracker.interests("u", 300);
  clusters.clear();
  for (const auto& i : all) {
    if (i.kind == InterestKind::Cluster) clusters.push_back(&i);
  }
  REQUIRE(clusters.size() == 2);
  CHECK(clusters[0]->vector[0] == doctest::Approx(1.0f));
  CHECK(clusters[1]->vector[2] == doctest::Approx(1.0f));
  CHECK(tracker.user_stats("u")->interests == 2);

  // A near direction joins: the cluster's vector moves towards it.
  std::vector<float> near_a = a;
  near_a[3] = 0.5f;
  tracker.update({.user = "u", .item_embedding = near_a, .weight = 3, .timestamp = 300});
  all = tracker.interests("u", 300);
  CHECK(all[2].kind == InterestKind::Cluster);
  CHECK(all[2].vector[3] > 0.1f);
  CHECK(tracker.user_stats("u")->interests == 2);
}

TEST_CASE("negative actions feed the negative-feedback vector and never the clusters") {
  const std::size_t dim = 4;
  InterestTracker tracker({.dim = dim, .negative_half_life_seconds = 100});
  const auto a = unit(dim, 0), b = unit(dim, 1);
  tracker.update({.user = "u", .item_embedding = a, .timestamp = 0, .action = "click"});
  tracker.update({.user = "u", .item_embedding = b, .timestamp = 0, .action = "dislike"});
  tracker.update({.user = "u", .item_embedding = b, .timestamp = 100, .action = "skip"});
  const auto all = tracker.interests("u", 200);
  const auto* negative = find_kind(all, InterestKind::Negative);
  REQUIRE(negative);
  CHECK(negative->weight == doctest::Approx(2 * 0.25 + 0.5 * 0.5));
  CHECK(negative->vector[1] == doctest::Approx(1.0f));
  CHECK(tracker.user_stats("u")->interests == 1);
  const auto short_term = tracker.short_term_interest("u", 100);
  CHECK((*short_term)[1] < 0.0f);
}

TEST_CASE("long idle gaps fold the decay into the vectors without losing the newest event") {
  const std::size_t dim = 4;
  InterestTracker tracker({.dim = dim, .short_term_half_life_seconds = 10});
  const auto a = unit(dim, 0), b = unit(dim, 1);
  std::int64_t t = 0;
  for (int i = 0; i < 30; ++i) {
    tracker.update({.user = "u", .item_embedding = (i % 2) ? a : b, .timestamp = t});
    t += 1000;  // 100 half-lives
  }
  const auto interest = tracker.short_term_interest("u", t - 1000 + 10);
  REQUIRE(interest.has_value());
  CHECK((*interest)[0] == doctest::Approx(0.5f));  // the last event, i = 29, was on a
  CHECK((*interest)[1] == doctest::Approx(0.0f));
  for (float x : *interest) CHECK(std::isfinite(x));
}

TEST_CASE("the recent window keeps the newest events up to its bound") {
  InterestTracker tracker({.dim = 2, .recent_window = 5});
  const std::vector<float> e = {1, 0};
  for (int i = 0; i < 12; ++i) {
    tracker.update({.user = "u",
                    .item_embedding = e,
                    .timestamp = i * 10,
                    .item = i,
                    .action = i % 2 ? "click" : "view"});
  }
  const auto recent = tracker.recent_events("u");
  REQUIRE(recent.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(recent[i].item == 7 + i);
    CHECK(recent[i].timestamp == (7 + i) * 10);
    CHECK(recent[i].action == ((7 + i) % 2 ? "click" : "view"));
  }
  CHECK(tracker.recent_events("nobody").empty());
}

TEST_CASE("late events take their place in the window as it wraps around") {
  // A window of 5 that wraps many times, fed events up to 60 s late: it must hold the newest
  // five by time, ties in arrival order, as a sorted list that drops its oldest does.
  InterestTracker tracker({.dim = 2, .recent_window = 5, .allowed_lateness_seconds = 1000});
  const std::vector<float> e = {1, 0};
  std::mt19937 rng(7);
  std::vector<std::pair<std::int64_t, std::int64_t>> expected;  // (timestamp, item)
  std::int64_t newest = 1000;
  for (std::int64_t item = 0; item < 400; ++item) {
    const std::int64_t timestamp = newest + static_cast<std::int64_t>(rng() % 100) - 60;
    newest = std::max(newest, timestamp);
    REQUIRE(tracker.update({.user = "u",
                            .item_embedding = e,
                            .timestamp = timestamp,
                            .item = item,
                            .action = "click"}));
    const auto at =
        std::upper_bound(expected.begin(), expected.end(), timestamp,
                         [](std::int64_t t, const std::pair<std::int64_t, std::int64_t>& kept) {
                           return t < kept.first;
                         });
    expected.insert(at, {timestamp, item});
    if (expected.size() > 5) expected.erase(expected.begin());

    const auto recent = tracker.recent_events("u");
    REQUIRE(recent.size() == expected.size());
    for (std::size_t i = 0; i < recent.size(); ++i) {
      CHECK(recent[i].timestamp == expected[i].first);
      CHECK(recent[i].item == expected[i].second);
    }
  }
}

TEST_CASE("bf16 state follows the fp32 state within bf16 precision") {
  const std::size_t dim = 32;
  InterestTracker f32({.dim = dim});
  InterestTracker bf16({.dim = dim, .dtype = nowrec::StateDtype::BF16});
  std::mt19937 rng(11);
  for (int i = 0; i < 200; ++i) {
    const auto e = random_embedding(rng, dim);
    const nowrec::InterestEvent event{.user = "u",
                                      .item_embedding = e,
                                      .timestamp = i * 30,
                                      .action = i % 7 == 0 ? "skip" : "click"};
    f32.update(event);
    bf16.update(event);
  }
  const auto a = f32.interests("u", 6000);
  const auto b = bf16.interests("u", 6000);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].kind == b[i].kind);
    CHECK(b[i].weight == doctest::Approx(a[i].weight).epsilon(4e-2));
    double cosine = 0;
    for (std::size_t j = 0; j < dim; ++j) cosine += a[i].vector[j] * b[i].vector[j];
    CHECK(cosine > 0.99);
  }
}

TEST_CASE("memory per user at d=384, K=4 and a 50-event window meets the targets") {
  InterestTracker f32({.dim = 384, .max_interests = 4, .recent_window = 50});
  InterestTracker bf16(
      {.dim = 384, .max_interests = 4, .recent_window = 50, .dtype = nowrec::StateDtype::BF16});
  MESSAGE("bytes per user: fp32 " << f32.bytes_per_user() << ", bf16 " << bf16.bytes_per_user());
  CHECK(f32.bytes_per_user() <= 12 * 1024);
  CHECK(bf16.bytes_per_user() <= 6656);
  const std::vector<float> e(384, 0.1f);
  f32.update({.user = "short-id", .item_embedding = e, .timestamp = 1});
  CHECK(f32.user_stats("short-id")->memory_bytes == f32.bytes_per_user());
  CHECK(f32.stats().memory_bytes == f32.bytes_per_user());
}

TEST_CASE("a memory cap evicts the least recently active users; a TTL drops idle ones") {
  const std::size_t dim = 4;
  InterestTracker probe({.dim = dim, .shards = 1});
  InterestTracker capped(
      {.dim = dim, .shards = 1, .max_memory_bytes = 10 * probe.bytes_per_user() + 1});
  const auto e = unit(dim, 0);
  for (int u = 0; u < 20; ++u) {
    capped.update({.user = "user-" + std::to_string(u), .item_embedding = e, .timestamp = u});
  }
  // user-0 was evicted by user-10; from now on it stays active, so it survives.
  capped.update({.user = "user-0", .item_embedding = e, .timestamp = 5});
  for (int u = 20; u < 25; ++u) {
    capped.update({.user = "user-" + std::to_string(u), .item_embedding = e, .timestamp = u});
    capped.update({.user = "user-0", .item_embedding = e, .timestamp = u});
  }
  CHECK(capped.user_count() == 10);
  CHECK(capped.user_stats("user-0").has_value());
  CHECK_FALSE(capped.user_stats("user-1").has_value());
  CHECK(capped.user_stats("user-24").has_value());
  CHECK(capped.stats().users_evicted == 16);

  InterestTracker ttl({.dim = dim, .shards = 1, .ttl_seconds = 100});
  ttl.update({.user = "old", .item_embedding = e, .timestamp = 0});
  ttl.update({.user = "mid", .item_embedding = e, .timestamp = 50});
  ttl.update({.user = "new", .item_embedding = e, .timestamp = 120});
  CHECK_FALSE(ttl.user_stats("old").has_value());
  CHECK(ttl.user_count() == 2);
  CHECK(ttl.expire(200) == 1);
  CHECK(ttl.user_count() == 1);
  CHECK(ttl.stats().users_expired == 2);

  // Both limits: a new user at the cap first drops the users the TTL has expired, so they count
  // as expired, not as evicted by the cap.
  InterestTracker both({.dim = dim,
                        .shards = 1,
                        .max_memory_bytes = 2 * probe.bytes_per_user() + 1,
                        .ttl_seconds = 100});
  both.update({.user = "a", .item_embedding = e, .timestamp = 0});
  both.update({.user = "b", .item_embedding = e, .timestamp = 10});
  both.update({.user = "c", .item_embedding = e, .timestamp = 200});
  CHECK(both.user_count() == 1);
  CHECK(both.stats().users_expired == 2);
  CHECK(both.stats().users_evicted == 0);
  // A cap of one user: each new user replaces the last.
  InterestTracker one({.dim = dim, .shards = 1, .max_memory_bytes = probe.bytes_per_user()});
  for (int u = 0; u < 5; ++u) {
    one.update({.user = "u" + std::to_string(u), .item_embedding = e, .timestamp = u});
    one.update({.user = "u" + std::to_string(u), .item_embedding = e, .timestamp = u});
  }
  CHECK(one.user_count() == 1);
  CHECK(one.user_stats("u4").has_value());
  CHECK(one.stats().users_evicted == 4);
}

TEST_CASE("sequences make replays idempotent") {
  InterestTracker tracker({.dim = 2});
  const std::vector<float> e = {1, 0};
  CHECK(tracker.update({.user = "u", .item_embedding = e, .timestamp = 1, .sequence = 10}));
  CHECK_FALSE(tracker.update({.user = "u", .item_embedding = e, .timestamp = 1, .sequence = 10}));
  CHECK_FALSE(tracker.update({.user = "u", .item_embedding = e, .timestamp = 2, .sequence = 9}));
  CHECK(tracker.update({.user = "u", .item_embedding = e, .timestamp = 2, .sequence = 11}));
  CHECK(tracker.user_stats("u")->events == 2);
  CHECK(tracker.user_stats("u")->last_sequence == 11);
  CHECK(tracker.stats().events_duplicate == 2);
}

namespace {

class MapItemStore final : public nowrec::ItemStore {
 public:
  std::map<std::int64_t, std::vector<float>> items;
  bool lookup(std::int64_t item, std::span<float> out) const override {
    const auto it = items.find(item);
    if (it == items.end()) return false;
    std::copy(it->second.begin(), it->second.end(), out.begin());
    return true;
  }
};

// Predicts the embedding of the last item seen, with weight 0.5.
class LastItemModel final : public nowrec::NextInterestModel {
 public:
  const MapItemStore* store = nullptr;
  bool poison = false;
  std::optional<float> predict(std::string_view, std::span<const nowrec::RecentEvent> recent,
                               std::int64_t, std::span<float> out) const override {
    if (recent.empty()) return std::nullopt;
    store->lookup(recent.back().item, out);
    if (poison) out[0] = std::numeric_limits<float>::quiet_NaN();
    return 0.5f;
  }
};

}  // namespace

TEST_CASE("item embeddings come from the item store; the next-interest model adds a prediction") {
  MapItemStore store;
  store.items[1] = {1, 0, 0};
  store.items[2] = {0, 3, 0};
  store.items[3] = {0, 0, std::numeric_limits<float>::infinity()};
  LastItemModel model;
  model.store = &store;
  InterestTracker tracker({.dim = 3, .item_store = &store, .next_interest_model = &model});
  tracker.update({.user = "u", .timestamp = 10, .item = 1, .action = "click"});
  tracker.update({.user = "u", .timestamp = 20, .item = 2, .action = "click"});
  const auto before = nowrec::test::view(tracker, "u", 20);
  CHECK_THROWS_WITH_AS(tracker.update({.user = "u", .timestamp = 30, .item = 9}),
                       doctest::Contains("item 9 is not in the item store"), nowrec::Error);
  CHECK_THROWS_WITH_AS(tracker.update({.user = "u", .timestamp = 30, .item = 3}),
                       doctest::Contains("non-finite"), nowrec::Error);
  CHECK_THROWS_WITH_AS(tracker.update({.user = "u", .timestamp = 30}),
                       doctest::Contains("has no vector"), nowrec::Error);
  CHECK(nowrec::test::same(before, nowrec::test::view(tracker, "u", 20)));

  const auto all = tracker.interests("u", 20);
  const auto* predicted = find_kind(all, InterestKind::Predicted);
  REQUIRE(predicted);
  CHECK(predicted->weight == 0.5f);
  CHECK(predicted->vector[1] == doctest::Approx(1.0f));
  CHECK(all.back().kind == InterestKind::Negative);
  model.poison = true;
  CHECK_THROWS_WITH_AS(tracker.interests("u", 20), doctest::Contains("next-interest model"),
                       nowrec::Error);
}

TEST_CASE("bad events throw a clear error and leave the tracker unchanged") {
  InterestTracker tracker({.dim = 3, .allowed_lateness_seconds = 50});
  const std::vector<float> e = {1, 2, 3};
  tracker.update({.user = "u", .item_embedding = e, .timestamp = 100, .action = "click"});
  const auto before = nowrec::test::view(tracker, "u", 200);
  const auto stats_before = tracker.stats();
  const std::vector<float> wrong = {1, 2};
  const std::vector<float> inf = {1, std::numeric_limits<float>::infinity(), 3};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  using nowrec::InterestEvent;
  const std::vector<std::pair<InterestEvent, const char*>> bad = {
      {{.user = "u", .item_embedding = wrong, .timestamp = 200}, "expected dim 3"},
      {{.user = "u", .item_embedding = inf, .timestamp = 200}, "non-finite value at position 1"},
      {{.user = "u", .item_embedding = e, .weight = nan, .timestamp = 200}, "weight"},
      {{.user = "u", .item_embedding = e, .timestamp = 200, .value = nan}, "value"},
      {{.user = "u", .item_embedding = e, .timestamp = 200, .action = "teleport"},
       "unknown action 'teleport'"},
      {{.user = "u", .item_embedding = e, .timestamp = 200, .text = ""}, "text is empty"},
      {{.user = "u", .item_embedding = e, .timestamp = 200, .text = "hi"}, "no encoder"},
      {{.user = "u", .item_embedding = e, .timestamp = 49}, "older than its last event"},
      {{.user = "", .item_embedding = e, .timestamp = 200}, "empty user id"},
  };
  for (const auto& [event, message] : bad) {
    CHECK_THROWS_WITH_AS(tracker.update(event), doctest::Contains(message), nowrec::Error);
  }
  CHECK(nowrec::test::same(before, nowrec::test::view(tracker, "u", 200)));
  CHECK(tracker.stats().events_applied == stats_before.events_applied);
  CHECK(tracker.stats().events_rejected == bad.size());
  CHECK(tracker.user_count() == 1);
  // Within the lateness it is accepted.
  CHECK(tracker.update({.user = "u", .item_embedding = e, .timestamp = 50}));

  CHECK_THROWS_AS(InterestTracker({.dim = 3, .max_interests = 0}), nowrec::Error);
  CHECK_THROWS_AS(InterestTracker({.dim = 3, .long_term_half_life_seconds = -1}), nowrec::Error);
  CHECK_THROWS_WITH_AS(InterestTracker({.dim = 3, .actions = {{"a", 1}, {"a", 2}}}),
                       doctest::Contains("appears twice"), nowrec::Error);
}

TEST_CASE("a non-finite value anywhere in a vector is found, and large finite ones pass") {
  // 40 values: the vector kernels' full registers and their scalar tail both hold some.
  constexpr std::size_t kDim = 40;
  InterestTracker tracker({.dim = kDim});
  for (std::size_t position : {0u, 9u, 31u, 37u, 39u}) {
    for (float bad :
         {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity(),
          std::numeric_limits<float>::infinity()}) {
      CAPTURE(position);
      CAPTURE(bad);
      std::vector<float> e(kDim, 0.25f);
      e[position] = bad;
      const std::string message = "non-finite value at position " + std::to_string(position);
      CHECK_THROWS_WITH_AS(tracker.update({.user = "u", .item_embedding = e, .timestamp = 100}),
                           doctest::Contains(message.c_str()), nowrec::Error);
    }
  }
  CHECK(tracker.user_count() == 0);
  // Finite, though its squares overflow fp32: the state could not hold it.
  std::vector<float> large(kDim, 3e20f);
  large[5] = -3e20f;
  CHECK_THROWS_WITH_AS(tracker.update({.user = "u", .item_embedding = large, .timestamp = 100}),
                       doctest::Contains("above the largest allowed"), nowrec::Error);
  CHECK(tracker.user_count() == 0);
}

TEST_CASE("the worked example of docs/interest_tracker.md") {
  InterestTracker tracker({.dim = 3, .short_term_half_life_seconds = 600});
  const auto a = unit(3, 0), b = unit(3, 1), c = unit(3, 2);
  tracker.update({.user = "u", .item_embedding = a, .timestamp = 0, .item = 1, .action = "click"});
  tracker.update({.user = "u", .item_embedding = b, .timestamp = 600, .item = 2, .action = "like"});
  tracker.update(
      {.user = "u", .item_embedding = c, .timestamp = 1200, .item = 3, .action = "skip"});
  const auto s = *tracker.short_term_interest("u", 1200);
  CHECK(s[0] == doctest::Approx(0.25));
  CHECK(s[1] == doctest::Approx(1.0));
  CHECK(s[2] == doctest::Approx(-0.5));
  const auto all = tracker.interests("u", 1200);
  REQUIRE(all.size() == 5);
  CHECK(all[2].vector[1] == doctest::Approx(1.0f));
  CHECK(all[2].weight == doctest::Approx(2 * std::exp2(-600.0 / 604800)));
  CHECK(all[3].weight == doctest::Approx(std::exp2(-1200.0 / 604800)));
  CHECK(all[4].kind == InterestKind::Negative);
  CHECK(all[4].weight == doctest::Approx(0.5 * std::exp2(-0.0)));
  CHECK((*tracker.short_term_interest("u", 4800))[1] == doctest::Approx(1.0 / 64));
}
