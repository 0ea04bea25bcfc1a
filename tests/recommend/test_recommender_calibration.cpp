// Recommender with every kind of interest weighted and calibrated: the interests it reports (kind
// weights, best matches found by brute force, the negative penalty) and the items' scores and
// explanations against a reference computed from the tracker's interests.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/recommender.hpp"
#include "recommend/recommend_fixture.hpp"

using namespace nowrec::test::recommend;

namespace {

nowrec::RecommenderConfig calibrated_config() {
  nowrec::RecommenderConfig config = base_config(0.0f);
  config.short_term = 1.0f;
  config.long_term = 0.6f;
  config.clusters = 0.8f;
  config.clusters_min = 0.5f;
  config.negative = 0.5f;
  config.calibrate = true;
  return config;
}

// A user with clicks spread over the catalog (so several clusters) and two dislikes.
void observe_mixed_user(Setup& s, nowrec::Recommender& recommender, const std::string& user) {
  const std::int64_t items[] = {4, 17, 33, 58, 71, 90, 102, 150, 151, 177, 190, 12};
  for (std::size_t i = 0; i < std::size(items); ++i) {
    const bool disliked = i == 3 || i == 8;
    recommender.observe({.user = user,
                         .timestamp = 1000 + std::int64_t(i) * 120,
                         .item = items[i],
                         .action = disliked ? "dislike" : "click"});
  }
  (void)s;
}

}  // namespace

TEST_CASE("Recommender: calibrated interests and explained items equal the reference") {
  Setup s;
  const nowrec::RecommenderConfig config = calibrated_config();
  nowrec::Recommender recommender(s.index, s.tracker, config);
  observe_mixed_user(s, recommender, "hal");
  const std::int64_t now = 3000;
  nowrec::RecommendResult result;
  recommender.recommend("hal", now, {.k = 12}, result);

  const auto interests = s.tracker.interests("hal", now);
  std::set<std::int64_t> seen;
  for (const auto& event : s.tracker.recent_events("hal")) seen.insert(event.item);
  float top_cluster = 0;
  for (const auto& i : interests) {
    if (i.kind == nowrec::InterestKind::Cluster) top_cluster = std::max(top_cluster, i.weight);
  }
  REQUIRE(top_cluster > 0);

  // Every interest with a positive tracker weight takes part: the positive kinds in the
  // tracker's order, the negative one last.
  std::size_t clusters = 0, taking_part = 0;
  for (const auto& i : interests) {
    clusters += i.kind == nowrec::InterestKind::Cluster;
    taking_part += i.weight > 0.0f;
  }
  CHECK(clusters >= 2);
  REQUIRE(result.interests.size() == taking_part);
  CHECK(result.interests.back().kind == nowrec::InterestKind::Negative);
  std::vector<float> weight_of(interests.size(), 0.0f);
  for (std::size_t r = 0; r < result.interests.size(); ++r) {
    const nowrec::RankedInterest& ranked = result.interests[r];
    CAPTURE(r);
    REQUIRE(ranked.index < interests.size());
    const nowrec::Interest& interest = interests[ranked.index];
    CHECK(ranked.kind == interest.kind);
    CHECK(ranked.tracker_weight == interest.weight);
    if (interest.kind == nowrec::InterestKind::Negative) {
      CHECK(ranked.kind_weight == 0.5f);
      CHECK(ranked.weight == doctest::Approx(0.5f * interest.weight));
      continue;
    }
    float kind = 0;
    switch (interest.kind) {
      case nowrec::InterestKind::ShortTerm:
        kind = 1.0f;
        break;
      case nowrec::InterestKind::LongTerm:
        kind = 0.6f;
        break;
      case nowrec::InterestKind::Cluster:
        kind = 0.5f + 0.3f * interest.weight / top_cluster;
        break;
      default:
        FAIL("unexpected kind");
    }
    CHECK(ranked.kind_weight == doctest::Approx(kind));
    double best = -1e9;
    for (std::int64_t id : s.catalog.ids) {
      if (!seen.contains(id)) best = std::max(best, dot(interest.vector, s.catalog.row(id)));
    }
    REQUIRE(best > 0);
    CHECK(ranked.best_match == doctest::Approx(best).epsilon(1e-5));
    CHECK(ranked.weight == doctest::Approx(kind / best).epsilon(1e-5));
    weight_of[ranked.index] = ranked.weight;
  }
  CHECK(result.interests.front().kind == nowrec::InterestKind::ShortTerm);

  // The items: max over the weighted interests minus the negative penalty.
  const nowrec::Interest& negative = interests[result.interests.back().index];
  const float penalty = result.interests.back().weight;
  std::vector<std::pair<double, std::int64_t>> expected;
  for (std::int64_t id : s.catalog.ids) {
    if (seen.contains(id)) continue;
    double best = -1e9;
    for (std::size_t i = 0; i < interests.size(); ++i) {
      if (weight_of[i] > 0)
        best = std::max(best, weight_of[i] * dot(interests[i].vector, s.catalog.row(id)));
    }
    expected.emplace_back(best - penalty * dot(negative.vector, s.catalog.row(id)), id);
  }
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  REQUIRE(result.items.size() == 12);
  std::set<nowrec::InterestKind> kinds_on_top;
  for (std::size_t r = 0; r < result.items.size(); ++r) {
    CAPTURE(r);
    const nowrec::Recommendation& rec = result.items[r];
    CHECK(rec.item == expected[r].second);
    CHECK(rec.score == doctest::Approx(expected[r].first).epsilon(1e-5));
    CHECK(rec.interest_score == doctest::Approx(rec.score).epsilon(1e-5));
    REQUIRE(rec.interest_index < interests.size());
    const auto& from = interests[rec.interest_index];
    CHECK(rec.interest_kind == from.kind);
    CHECK(rec.interest_match ==
          doctest::Approx(dot(from.vector, s.catalog.row(rec.item))).epsilon(1e-5));
    CHECK(rec.negative_score ==
          doctest::Approx(-penalty * dot(negative.vector, s.catalog.row(rec.item))).epsilon(1e-5));
    CHECK(rec.interest_score ==
          doctest::Approx(weight_of[rec.interest_index] * rec.interest_match + rec.negative_score)
              .epsilon(1e-4));
    kinds_on_top.insert(rec.interest_kind);
  }
  // Calibrated, more than one kind of interest reaches the top.
  CHECK(kinds_on_top.size() >= 2);

  // Without calibration each interest ranks with its kind weight and a best match of 1.
  nowrec::RecommenderConfig plain = config;
  plain.calibrate = false;
  nowrec::Recommender uncalibrated(s.index, s.tracker, plain);
  nowrec::RecommendResult raw;
  uncalibrated.recommend("hal", now, {.k = 12}, raw);
  REQUIRE(raw.interests.size() == result.interests.size());
  for (std::size_t r = 0; r + 1 < raw.interests.size(); ++r) {
    CHECK(raw.interests[r].best_match == 1.0f);
    CHECK(raw.interests[r].weight == raw.interests[r].kind_weight);
  }
}

TEST_CASE("Recommender: the explaining interest is the one whose calibrated part is largest") {
  // Every kind weighs the same, so only the best matches tell the interests' parts apart: an
  // interest with a high best match can match an item better and still give it less.
  Setup s;
  nowrec::RecommenderConfig config = calibrated_config();
  config.long_term = 1.0f;
  config.clusters = 1.0f;
  config.clusters_min = 1.0f;
  config.negative = 0.0f;
  nowrec::Recommender recommender(s.index, s.tracker, config);
  observe_mixed_user(s, recommender, "max");
  const std::int64_t now = 3000;
  nowrec::RecommendResult result;
  recommender.recommend("max", now, {.k = 60}, result);
  const auto interests = s.tracker.interests("max", now);
  REQUIRE(result.interests.size() >= 2);
  for (const auto& ranked : result.interests) REQUIRE(ranked.kind_weight == 1.0f);

  std::size_t decided_by_calibration = 0;
  for (const nowrec::Recommendation& rec : result.items) {
    CAPTURE(rec.item);
    // Each interest's part as ranked (calibrated) and before calibration, for the named one, the
    // largest one, and the one that is largest before calibration.
    double best = -1e9, named = -1e9, raw_best = -1e9, raw_winners_part = 0;
    for (const nowrec::RankedInterest& ranked : result.interests) {
      const double match = dot(interests[ranked.index].vector, s.catalog.row(rec.item));
      const double part = ranked.weight * match;
      best = std::max(best, part);
      if (ranked.index == rec.interest_index) named = part;
      if (ranked.kind_weight * match > raw_best) {
        raw_best = ranked.kind_weight * match;
        raw_winners_part = part;
      }
    }
    REQUIRE(rec.interest_index < interests.size());
    CHECK(named == doctest::Approx(best).epsilon(1e-5));
    CHECK(rec.interest_score == doctest::Approx(best).epsilon(1e-4));
    if (raw_winners_part < best - 1e-3 * std::fabs(best)) ++decided_by_calibration;
  }
  // The case this is about occurs: items whose largest raw part is another interest's.
  CHECK(decided_by_calibration > 0);
}

TEST_CASE(
    "Recommender: clusters_min 0 weighs clusters in proportion; a user with only negative "
    "feedback ranks by the penalty alone") {
  Setup s;
  nowrec::RecommenderConfig config = calibrated_config();
  config.clusters_min = 0.0f;
  config.calibrate = false;
  nowrec::Recommender recommender(s.index, s.tracker, config);
  observe_mixed_user(s, recommender, "ida");
  nowrec::RecommendResult result;
  recommender.recommend("ida", 3000, {.k = 5}, result);
  const auto interests = s.tracker.interests("ida", 3000);
  float top_cluster = 0;
  for (const auto& i : interests) {
    if (i.kind == nowrec::InterestKind::Cluster) top_cluster = std::max(top_cluster, i.weight);
  }
  for (const auto& ranked : result.interests) {
    if (ranked.kind != nowrec::InterestKind::Cluster) continue;
    CHECK(ranked.kind_weight == doctest::Approx(0.8f * ranked.tracker_weight / top_cluster));
  }

  // A dislike alone: the short- and long-term sums are negative, so they rank nothing (nor
  // does calibration magnify them); the penalty alone puts the least similar item first.
  recommender.observe({.user = "jo", .timestamp = 100, .item = 40, .action = "dislike"});
  recommender.recommend("jo", 100, {.k = 5}, result);
  const auto jo = s.tracker.interests("jo", 100);
  REQUIRE(jo.size() >= 3);
  CHECK(jo.front().weight < 0.0f);
  REQUIRE(result.interests.size() == 1);
  CHECK(result.interests.front().kind == nowrec::InterestKind::Negative);
  const auto negative = jo.back();
  REQUIRE(negative.kind == nowrec::InterestKind::Negative);
  double least = 1e9;
  std::int64_t least_id = 0;
  for (std::int64_t id : s.catalog.ids) {
    const double d = dot(negative.vector, s.catalog.row(id));
    if (id != 40 && d < least) least = d, least_id = id;
  }
  CHECK(result.items.front().interest_index == nowrec::Recommendation::npos);
  CHECK(result.items.front().item == least_id);
  CHECK(result.items.front().negative_score > 0.0f);
}

TEST_CASE("Recommender: a batch into kept results equals single calls; a short span is refused") {
  Setup s;
  nowrec::Recommender recommender(s.index, s.tracker, calibrated_config());
  observe_mixed_user(s, recommender, "kai");
  s.observe(recommender, "lee", {5, 6, 7, 8}, 0);
  const std::string_view users[] = {"kai", "nobody", "lee"};
  std::vector<nowrec::RecommendResult> batch(3);
  recommender.recommend(users, 3000, {.k = 6}, batch);
  for (std::size_t u = 0; u < 3; ++u) {
    nowrec::RecommendResult single;
    recommender.recommend(users[u], 3000, {.k = 6}, single);
    REQUIRE(batch[u].items.size() == single.items.size());
    REQUIRE(batch[u].interests.size() == single.interests.size());
    for (std::size_t r = 0; r < single.items.size(); ++r) {
      CHECK(batch[u].items[r].item == single.items[r].item);
      CHECK(batch[u].items[r].score == doctest::Approx(single.items[r].score));
    }
    for (std::size_t r = 0; r < single.interests.size(); ++r) {
      CHECK(batch[u].interests[r].weight == doctest::Approx(single.interests[r].weight));
    }
  }
  CHECK(batch[1].interests.empty());
  std::vector<nowrec::RecommendResult> short_span(2);
  CHECK_THROWS_AS(recommender.recommend(users, 3000, {.k = 6}, short_span), nowrec::Error);
}
