// Recommender: the fused score against a hand-computed reference, its explanation, the seen and
// request filters, batches, co-visitation learning, bad input and the config file.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/limits.hpp"
#include "nowrec/recommender.hpp"
#include "recommend/recommend_fixture.hpp"
#include "test_support.hpp"

using namespace nowrec::test::recommend;

TEST_CASE("Recommender: fused scores equal the reference and each item says why") {
  Setup s;
  nowrec::RecommenderConfig config = base_config(0.7f);
  config.short_term = 1.0f;
  config.long_term = 0.5f;
  config.aggregation = nowrec::Aggregation::WeightedSum;
  config.prior = 0.2f;
  nowrec::Recommender recommender(s.index, s.tracker, config);
  const nowrec::CoVisitation& graph = *recommender.co_visitation();
  // Other users teach the graph that 10 and 11 go with 50..53.
  for (int u = 0; u < 5; ++u) {
    s.observe(recommender, "other" + std::to_string(u), {10, 50, 11, 51, 52, 53}, 1000 * u);
  }
  s.observe(recommender, "alice", {3, 10, 11}, 10'000);
  const std::int64_t now = 10'500;
  const auto top = recommender.recommend("alice", now, {.k = 15});
  REQUIRE(top.size() == 15);

  // The reference: the tracker's interests and the graph's votes, scored by hand.
  const auto interests = s.tracker.interests("alice", now);
  std::vector<nowrec::CoVisitationScore> votes;
  graph.score(std::vector<std::int64_t>{3, 10, 11}, now, votes);
  std::map<std::int64_t, nowrec::CoVisitationScore> vote_of;
  for (const auto& v : votes) vote_of[v.item] = v;
  std::vector<std::pair<double, std::int64_t>> expected;
  for (std::int64_t id : s.catalog.ids) {
    if (id == 3 || id == 10 || id == 11) continue;  // seen
    double interest = 0;
    for (const auto& i : interests) {
      if (i.kind == nowrec::InterestKind::ShortTerm) interest += dot(i.vector, s.catalog.row(id));
      if (i.kind == nowrec::InterestKind::LongTerm) {
        interest += 0.5 * dot(i.vector, s.catalog.row(id));
      }
    }
    const double co = vote_of.contains(id) ? 0.7 * std::log1p(vote_of[id].score) : 0.0;
    expected.emplace_back(interest + co + 0.2 * s.priors[std::size_t(id - 1)], id);
  }
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  bool co_visited_on_top = false;
  for (std::size_t r = 0; r < top.size(); ++r) {
    CAPTURE(r);
    const nowrec::Recommendation& rec = top[r];
    CHECK(rec.item == expected[r].second);
    CHECK(rec.score == doctest::Approx(expected[r].first).epsilon(1e-5));
    CHECK(rec.interest_score + rec.co_visitation_score + rec.prior_score ==
          doctest::Approx(rec.score).epsilon(1e-5));
    CHECK(rec.prior_score == doctest::Approx(0.2f * s.priors[std::size_t(rec.item - 1)]));
    if (vote_of.contains(rec.item)) {
      CHECK(rec.co_visited_with == vote_of[rec.item].via);
      co_visited_on_top = true;
    } else {
      CHECK(rec.co_visitation_score == 0.0f);
      CHECK(rec.co_visited_with == -1);
    }
    REQUIRE(rec.interest_index < interests.size());
    const float parts[] = {rec.interest_score, rec.co_visitation_score, rec.prior_score};
    const auto largest = std::max_element(std::begin(parts), std::end(parts)) - std::begin(parts);
    CHECK(int(rec.signal) == int(largest));
  }
  CHECK(co_visited_on_top);
}

TEST_CASE("Recommender: request filters, the seen window, batches and unknown users") {
  Setup s;
  nowrec::Recommender recommender(s.index, s.tracker, base_config());
  s.observe(recommender, "bob", {1, 2, 3, 4}, 0);
  s.observe(recommender, "carol", {2, 3, 5, 6}, 0);

  const std::int64_t allow[] = {1, 2, 5, 6, 7, 8, 9};
  const std::int64_t exclude[] = {9};
  const auto top = recommender.recommend("bob", 1000, {.k = 7, .exclude = exclude, .allow = allow});
  std::vector<std::int64_t> ids;
  for (const auto& r : top) ids.push_back(r.item);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::int64_t>{5, 6, 7, 8});  // 1, 2 seen; 9 excluded

  const std::string_view users[] = {"bob", "nobody", "carol"};
  const auto batch = recommender.recommend(users, 1000, {.k = 10});
  REQUIRE(batch.size() == 3);
  for (std::size_t u = 0; u < 3; ++u) {
    const auto single = recommender.recommend(users[u], 1000, {.k = 10});
    REQUIRE(batch[u].size() == single.size());
    for (std::size_t r = 0; r < single.size(); ++r) {
      CHECK(batch[u][r].item == single[r].item);
      CHECK(batch[u][r].score == doctest::Approx(single[r].score));
      // Each user's explanation reads that user's own ranked rows.
      CHECK(batch[u][r].prior_score == single[r].prior_score);
      CHECK(batch[u][r].interest_index == single[r].interest_index);
      CHECK(batch[u][r].interest_match == doctest::Approx(single[r].interest_match));
    }
  }
  // An unknown user has no interests and no recent items: prior alone (all 0 at weight 0),
  // so the smallest ids.
  CHECK(batch[1].front().item == 1);
  CHECK(batch[1].front().interest_index == nowrec::Recommendation::npos);
}

TEST_CASE("Recommender: observe teaches the graph unless told it is read-only") {
  Setup s;
  nowrec::Recommender recommender(s.index, s.tracker, base_config());
  s.observe(recommender, "dan", {20, 21}, 0);
  CHECK(recommender.co_visitation()->neighbours(20, 100).size() == 1);
  // Forgetting the user drops the tracker's state; the graph keeps no per-user state.
  CHECK(recommender.forget("dan"));
  CHECK_FALSE(s.tracker.user_stats("dan").has_value());
  CHECK_FALSE(recommender.forget("dan"));

  nowrec::RecommenderConfig read_only = base_config();
  read_only.learn_co_visitation = false;
  nowrec::Recommender reader(s.index, s.tracker, read_only);
  s.observe(reader, "erin", {20, 21}, 0);
  CHECK(reader.co_visitation()->stats().pairs_added == 0);
  CHECK(s.tracker.user_stats("erin")->events == 2);

  // Without a co-visitation weight there is no graph to keep.
  nowrec::Recommender plain(s.index, s.tracker, base_config(0.0f));
  CHECK(plain.co_visitation() == nullptr);
}

TEST_CASE("Recommender: bad input is an error and changes nothing") {
  Setup s;
  const nowrec::RecommenderConfig config = base_config();
  nowrec::Recommender recommender(s.index, s.tracker, config);
  const nowrec::CoVisitation& graph = *recommender.co_visitation();
  s.observe(recommender, "fay", {1, 2}, 0);
  // More threads than a call may start: refused, not left to end the process.
  nowrec::RecommenderConfig too_many_threads = config;
  too_many_threads.threads = nowrec::kMaxThreads + 1;
  CHECK_THROWS_WITH_AS(
      nowrec::Recommender(s.index, s.tracker, too_many_threads),
      doctest::Contains("threads must be 0 (all cores) or a whole number in [1, 4096], not 4097"),
      nowrec::Error);
  const auto pairs = graph.stats().pairs_added;
  // Unknown item: the tracker refuses it, the graph is untouched.
  CHECK_THROWS_AS(recommender.observe({.user = "fay", .timestamp = 500, .item = 9999}),
                  nowrec::Error);
  CHECK(graph.stats().pairs_added == pairs);
  CHECK(s.tracker.user_stats("fay")->events == 2);
  // k out of range, time before the user's last event.
  CHECK_THROWS_AS(recommender.recommend("fay", 500, {.k = 0}), nowrec::Error);
  CHECK_THROWS_AS(recommender.recommend("fay", 500, {.k = kItems + 1}), nowrec::Error);
  // A k far beyond the index is the same error, not a failed allocation of k results per user,
  // nor a product of k and the users that wraps around.
  const std::string_view two[] = {"fay", "nobody"};
  for (std::size_t huge :
       {std::size_t{1} << 62, std::size_t{1} << 63, std::numeric_limits<std::size_t>::max()}) {
    CAPTURE(huge);
    CHECK_THROWS_WITH_AS(recommender.recommend("fay", 500, {.k = huge}),
                         doctest::Contains(("k = " + std::to_string(huge)).c_str()), nowrec::Error);
    CHECK_THROWS_WITH_AS(recommender.recommend(two, 500, {.k = huge}),
                         doctest::Contains(("k = " + std::to_string(huge)).c_str()), nowrec::Error);
  }
  CHECK_THROWS_AS(recommender.recommend("fay", 10, {.k = 5}), nowrec::Error);

  const auto rejects = [&](nowrec::RecommenderConfig bad, const char* field) {
    try {
      nowrec::Recommender r(s.index, s.tracker, bad);
      FAIL("no error");
    } catch (const nowrec::Error& e) {
      CHECK(e.code() == nowrec::ErrorCode::InvalidArgument);
      CHECK(std::string(e.what()).find(field) != std::string::npos);
    }
  };
  nowrec::RecommenderConfig bad;
  bad.co_visitation = NAN;
  rejects(bad, "co_visitation");
  bad = {};
  bad.short_term = -1;
  rejects(bad, "short_term");
  bad = {};
  bad.mmr_lambda = 2;
  rejects(bad, "mmr_lambda");
  bad = base_config();
  bad.co_visitation_options.voters = 0;
  rejects(bad, "voters");
  bad = base_config();
  bad.co_visitation_options.shards = 1'000'000'000;
  rejects(bad, "shards");
  // An index of another width than the tracker's interests.
  nowrec::ItemIndex narrow(kDim - 1);
  CHECK_THROWS_AS(nowrec::Recommender(narrow, s.tracker, config), nowrec::Error);
}

TEST_CASE("RecommenderConfig: save and load round-trip; bad files name the field") {
  nowrec::test::TempDir dir;
  nowrec::RecommenderConfig config;
  config.short_term = 0.0f;
  config.predicted = 1.5f;
  config.co_visitation = 0.25f;
  config.prior = 0.065918f;
  config.aggregation = nowrec::Aggregation::WeightedSum;
  config.learn_co_visitation = false;
  config.mmr_lambda = 0.8f;
  config.threads = 2;
  config.clusters = 0.8f;
  config.clusters_min = 0.5f;
  config.calibrate = true;
  config.co_visitation_options = {.pair_distance = 10, .distance_decay = 0.7f, .voters = 5};
  const auto path = dir.path() / "recommender.json";
  config.save(path);
  const auto loaded = nowrec::RecommenderConfig::load(path);
  CHECK(loaded.short_term == 0.0f);
  CHECK(loaded.predicted == 1.5f);
  CHECK(loaded.co_visitation == 0.25f);
  CHECK(loaded.prior == 0.065918f);
  CHECK(loaded.aggregation == nowrec::Aggregation::WeightedSum);
  CHECK(loaded.learn_co_visitation == false);
  CHECK(loaded.exclude_seen == true);
  CHECK(loaded.mmr_lambda == 0.8f);
  CHECK(loaded.threads == 2);
  CHECK(loaded.clusters == 0.8f);
  CHECK(loaded.clusters_min == 0.5f);
  CHECK(loaded.calibrate == true);
  CHECK(loaded.co_visitation_options.pair_distance == 10);
  CHECK(loaded.co_visitation_options.distance_decay == 0.7f);
  CHECK(loaded.co_visitation_options.voters == 5);
  CHECK(loaded.co_visitation_options.max_neighbours == 200);

  const auto rejects = [&](const std::string& text, const char* words) {
    nowrec::test::write_file(dir.path() / "bad.json", text);
    try {
      nowrec::RecommenderConfig::load(dir.path() / "bad.json");
      FAIL("no error");
    } catch (const nowrec::Error& e) {
      CHECK(e.code() == nowrec::ErrorCode::InvalidFormat);
      CHECK(std::string(e.what()).find(words) != std::string::npos);
      CHECK(std::string(e.what()).find("bad.json") != std::string::npos);
    }
  };
  rejects("{\"co_visitation\": 1,", "not valid JSON");
  rejects("[1, 2]", "not a JSON object");
  rejects("{\"prior\": 555555555e5557777777777}", "not valid JSON");  // beyond a double
  rejects("{\"co_visitaton\": 1}", "unknown field 'co_visitaton'");
  rejects("{\"prior\": \"high\"}", "'prior' must be a number");
  rejects("{\"short_term\": -0.5}", "short_term");
  rejects("{\"aggregation\": \"mean\"}", "aggregation");
  rejects("{\"threads\": 1.5}",
          "field 'threads' must be 0 (all cores) or a whole number in [1, 4096], not 1.5");
  rejects("{\"threads\": 4097}", "field 'threads' must be 0 (all cores)");
  rejects("{\"threads\": -1}", "not -1");
  rejects("{\"threads\": 1e300}", "not 1e+300");
  rejects("{\"exclude_seen\": 1}", "exclude_seen");
  rejects("{\"calibrate\": \"yes\"}", "calibrate");
  rejects("{\"clusters\": 0.4, \"clusters_min\": 0.5}", "clusters_min");
  rejects("{\"co_visitation_options\": {\"voters\": 0}}", "voters");
  rejects("{\"co_visitation_options\": {\"pair_distance\": 2.5}}", "pair_distance");
  rejects("{\"co_visitation_options\": {\"neighbours\": 2}}", "co_visitation_options.neighbours");
  rejects("{\"co_visitation_options\": {\"shards\": 65537}}", "shards");
  rejects("{\"co_visitation_options\": {\"shards\": 1000000000}}", "65536");
  CHECK_THROWS_AS(nowrec::RecommenderConfig::load(dir.path() / "missing.json"), nowrec::Error);
  nowrec::RecommenderConfig widest;
  widest.co_visitation_options.shards = 65536;
  widest.save(path);
  CHECK(nowrec::RecommenderConfig::load(path).co_visitation_options.shards == 65536);
}

TEST_CASE("RecommenderConfig: save writes floats that load back bit for bit, however small") {
  nowrec::test::TempDir dir;
  nowrec::RecommenderConfig config;
  config.co_visitation_options.distance_decay = 1e-7f;
  config.co_visitation = 4e-7f;
  config.prior = 3.3e-9f;
  config.negative = 0.1f;
  config.long_term = std::nextafter(0.3f, 1.0f);
  config.clusters = 0.7f;
  config.clusters_min = std::numeric_limits<float>::denorm_min();
  config.mmr_lambda = 1.0f / 3.0f;
  config.co_visitation_options.voter_decay = std::nextafter(1.0f, 0.0f);
  config.co_visitation_options.half_life_seconds = 0.1;
  const auto path = dir.path() / "recommender.json";
  config.save(path);
  const auto loaded = nowrec::RecommenderConfig::load(path);
  CHECK(loaded.co_visitation_options.distance_decay == 1e-7f);
  CHECK(loaded.co_visitation == 4e-7f);
  CHECK(loaded.prior == 3.3e-9f);
  CHECK(loaded.negative == 0.1f);
  CHECK(loaded.long_term == config.long_term);
  CHECK(loaded.clusters == 0.7f);
  CHECK(loaded.clusters_min == config.clusters_min);
  CHECK(loaded.mmr_lambda == config.mmr_lambda);
  CHECK(loaded.co_visitation_options.voter_decay == config.co_visitation_options.voter_decay);
  CHECK(loaded.co_visitation_options.half_life_seconds == 0.1);
  // Still the short decimals a person would write, not the floats' long binary expansions.
  const std::string text = nowrec::test::read_file(path);
  CHECK(text.find("\"negative\": 0.1,") != std::string::npos);
}

TEST_CASE("Recommender: observe, recommend and forget run concurrently on the same users") {
  Setup s;
  nowrec::Recommender recommender(s.index, s.tracker, base_config());
  constexpr int kThreads = 4, kEvents = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng{std::uint32_t(t)};
      std::uniform_int_distribution<std::int64_t> item(1, std::int64_t(kItems));
      for (int i = 0; i < kEvents; ++i) {
        // Three users shared by every thread, all events at one time, so none is late whichever
        // thread applies it first.
        const std::string user = "shared" + std::to_string(i % 3);
        try {
          recommender.observe({.user = user, .timestamp = 1'000'000, .item = item(rng)});
          const auto top = recommender.recommend(user, 1'000'000, {.k = 5});
          CHECK(top.size() == 5);
          if (i % 100 == 99) recommender.forget(user);
        } catch (const nowrec::Error& e) {
          FAIL(e.what());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  // The state left is consistent: the graph holds pairs, and each user's top 5 avoids the items
  // in the user's window.
  CHECK(recommender.co_visitation()->stats().pairs_added > 0);
  for (int u = 0; u < 3; ++u) {
    const std::string user = "shared" + std::to_string(u);
    std::vector<std::int64_t> seen;
    for (const auto& event : s.tracker.recent_events(user)) seen.push_back(event.item);
    for (const auto& rec : recommender.recommend(user, 1'000'000, {.k = 5})) {
      CHECK(std::find(seen.begin(), seen.end(), rec.item) == seen.end());
    }
  }
}

TEST_CASE("Recommender: explanations read the rows as ranked while writers change them") {
  Setup s;
  nowrec::RecommenderConfig config = base_config(0.0f);
  config.prior = 1.0f;
  nowrec::Recommender recommender(s.index, s.tracker, config);
  s.observe(recommender, "alice", {3, 10, 11, 40}, 10'000);
  const std::int64_t now = 10'500;

  // A writer flips every item's prior between 0 and 100 and its vector between v and -v. An
  // explanation that read the index as it is now, not as it was ranked, would put 100 too much
  // or too little in interest_score, or name a match of the wrong sign: the last check below
  // fails then (only when the write falls between ranking and explaining, which 2,000 calls
  // against a writer that never pauses make all but certain).
  s.index.set_priors(s.catalog.ids, std::vector<float>(kItems, 0.0f));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::vector<float> flipped(s.catalog.vectors.size());
    std::transform(s.catalog.vectors.begin(), s.catalog.vectors.end(), flipped.begin(),
                   [](float x) { return -x; });
    const std::vector<float> zero_priors(kItems, 0.0f), high_priors(kItems, 100.0f);
    for (int round = 0; !stop.load(); ++round) {
      s.index.set_priors(s.catalog.ids, round % 2 == 0 ? high_priors : zero_priors);
      s.index.update(s.catalog.ids, round % 3 == 0 ? flipped : s.catalog.vectors);
    }
  });
  // Stops and joins the writer however the checks below leave the test.
  struct StopWriter {
    std::atomic<bool>& stop;
    std::thread& writer;
    ~StopWriter() {
      stop = true;
      writer.join();
    }
  } stop_writer{stop, writer};
  nowrec::RecommendResult result;
  std::size_t checked = 0;
  for (int call = 0; call < 2000; ++call) {
    recommender.recommend("alice", now, {.k = 5}, result);
    REQUIRE(result.items.size() == 5);
    for (const nowrec::Recommendation& rec : result.items) {
      CHECK((rec.prior_score == 0.0f || rec.prior_score == 100.0f));
      REQUIRE(rec.interest_index != nowrec::Recommendation::npos);
      // With the max over interests, the interest part is the best interest's weight times its
      // match with the item's row as ranked.
      const auto ranked = std::find_if(
          result.interests.begin(), result.interests.end(), [&](const nowrec::RankedInterest& i) {
            return i.index == rec.interest_index && i.kind == rec.interest_kind;
          });
      REQUIRE(ranked != result.interests.end());
      CHECK(rec.interest_score ==
            doctest::Approx(ranked->weight * rec.interest_match).epsilon(1e-4).scale(1.0));
      ++checked;
    }
  }
  CHECK(checked == 2000 * 5);
}
