// CoVisitation: pair weights by distance and time, bounded neighbour lists, voting, snapshots,
// bad options and concurrent adds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "nowrec/co_visitation.hpp"
#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "test_support.hpp"

namespace {

using nowrec::CoVisitation;
using nowrec::CoVisitationOptions;

std::map<std::int64_t, float> neighbour_map(const CoVisitation& graph, std::int64_t item,
                                            std::int64_t now) {
  std::map<std::int64_t, float> out;
  for (const auto& n : graph.neighbours(item, now)) out[n.item] = n.weight;
  return out;
}

// Feeds a user's sequence the way a server does: each item paired with those before it.
void add_sequence(CoVisitation& graph, const std::vector<std::int64_t>& items,
                  std::int64_t first_time = 0) {
  std::vector<std::int64_t> previous;
  for (std::size_t i = 0; i < items.size(); ++i) {
    graph.add(previous, items[i], first_time + std::int64_t(i));
    previous.push_back(items[i]);
  }
}

}  // namespace

TEST_CASE("CoVisitation: pairs within the distance, decayed by distance, both ways") {
  CoVisitation graph({.pair_distance = 2, .distance_decay = 0.5f});
  add_sequence(graph, {1, 2, 3, 4});
  CHECK(neighbour_map(graph, 1, 10) == std::map<std::int64_t, float>{{2, 1.0f}, {3, 0.5f}});
  CHECK(neighbour_map(graph, 3, 10) ==
        std::map<std::int64_t, float>{{1, 0.5f}, {2, 1.0f}, {4, 1.0f}});
  CHECK(neighbour_map(graph, 4, 10) == std::map<std::int64_t, float>{{2, 0.5f}, {3, 1.0f}});
  // A second user's 1 -> 2 adds to the same pair; a repeat of the item itself pairs with nothing.
  add_sequence(graph, {1, 2, 2});
  CHECK(neighbour_map(graph, 2, 10).at(1) == doctest::Approx(2.5f));  // 1 + 1 + 0.5
  CHECK(neighbour_map(graph, 9, 10).empty());
  const auto stats = graph.stats();
  CHECK(stats.items == 4);
  CHECK(stats.edges == 10);
  CHECK(stats.pairs_added == 7);
  CHECK(stats.memory_bytes >= stats.edges * CoVisitation::bytes_per_edge());
}

TEST_CASE("CoVisitation: weights halve every half-life, whatever order the events come in") {
  const CoVisitationOptions options{.pair_distance = 1, .half_life_seconds = 100};
  CoVisitation in_order(options), out_of_order(options);
  in_order.add(std::vector<std::int64_t>{1}, 2, 1000);
  in_order.add(std::vector<std::int64_t>{1}, 2, 1200);
  out_of_order.add(std::vector<std::int64_t>{1}, 2, 1200);
  out_of_order.add(std::vector<std::int64_t>{1}, 2, 1000);
  for (const CoVisitation* graph : {&in_order, &out_of_order}) {
    // At 1200: 0.25 left of the first pair, 1 of the second; at 1300 half of that.
    CHECK(neighbour_map(*graph, 1, 1200).at(2) == doctest::Approx(1.25f));
    CHECK(neighbour_map(*graph, 2, 1300).at(1) == doctest::Approx(0.625f));
  }
}

TEST_CASE("CoVisitation: weights stated after the time asked about never grow or overflow") {
  // Events decades apart with a one-second half-life, scored and evicted at every order of times:
  // the weights stay finite and never exceed what was added.
  CoVisitation graph({.pair_distance = 1, .half_life_seconds = 1, .max_neighbours = 3});
  const std::vector<std::int64_t> one = {1};
  const std::int64_t times[] = {1'000'000'000, 0, 2'000'000'000, 5, 1'500'000'000, 7};
  for (std::size_t i = 0; i < std::size(times); ++i) {
    graph.add(one, std::int64_t(i) + 2, times[i]);
  }
  for (std::int64_t now : {std::int64_t{0}, std::int64_t{1'999'999'999}, std::int64_t{3}}) {
    for (const auto& n : graph.neighbours(1, now)) {
      CAPTURE(now);
      CHECK(std::isfinite(n.weight));
      CHECK(n.weight <= 1.0f);
      CHECK(n.weight >= 0.0f);
    }
  }
  // Asked about a time before the last update, the weight counts as it is.
  CoVisitation plain({.pair_distance = 1, .half_life_seconds = 100});
  plain.add(one, 2, 5000);
  CHECK(neighbour_map(plain, 1, 0).at(2) == 1.0f);
  CHECK(neighbour_map(plain, 1, 5100).at(2) == doctest::Approx(0.5f));
}

TEST_CASE("CoVisitation: times at opposite ends of the int64 range decay the weight away") {
  // Their difference is beyond int64: the weight must come out fully decayed, not grown.
  const std::int64_t first = std::numeric_limits<std::int64_t>::min() + 10;
  const std::int64_t last = std::numeric_limits<std::int64_t>::max();
  CoVisitation graph({.pair_distance = 1, .half_life_seconds = 1});
  graph.add(std::vector<std::int64_t>{1}, 2, first);
  const auto weights = neighbour_map(graph, 1, last);
  REQUIRE(weights.contains(2));
  CHECK(std::isfinite(weights.at(2)));
  CHECK(weights.at(2) >= 0.0f);
  CHECK(weights.at(2) <= 1e-30f);
  // Adding the pair again at the far end restates it: the old weight is gone, the new one is 1.
  graph.add(std::vector<std::int64_t>{1}, 2, last);
  CHECK(neighbour_map(graph, 1, last).at(2) == doctest::Approx(1.0f));
  std::vector<nowrec::CoVisitationScore> scores;
  graph.score(std::vector<std::int64_t>{1}, last, scores);
  REQUIRE(scores.size() == 1);
  CHECK(scores[0].score <= 1.0f);
}

TEST_CASE("CoVisitation: a full item drops its weakest neighbour for a new one") {
  CoVisitation graph({.pair_distance = 1, .max_neighbours = 2});
  const std::vector<std::int64_t> one = {1};
  graph.add(one, 2, 0);
  graph.add(one, 2, 1);
  graph.add(one, 3, 2);
  graph.add(one, 4, 3);  // item 1 is full: 3 (weight 1) goes, 2 (weight 2) stays
  CHECK(neighbour_map(graph, 1, 3) == std::map<std::int64_t, float>{{2, 2.0f}, {4, 1.0f}});
  CHECK(graph.stats().evictions == 1);
  for (std::int64_t item : {2, 3, 4}) CHECK(graph.neighbours(item, 3).size() == 1);
}

TEST_CASE("CoVisitation: score sums decayed votes of the recent items and names the largest") {
  CoVisitation graph({.pair_distance = 3, .voters = 2, .voter_decay = 0.5f});
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::int64_t> item(1, 40);
  for (int user = 0; user < 60; ++user) {
    std::vector<std::int64_t> items(12);
    for (auto& i : items) i = item(rng);
    add_sequence(graph, items, user * 100);
  }
  const std::vector<std::int64_t> recent = {5, 7, 11};  // 11 votes fully, 7 at half, 5 not
  std::vector<nowrec::CoVisitationScore> scores;
  graph.score(recent, 10'000, scores);
  std::map<std::int64_t, double> expected;
  for (const auto& n : graph.neighbours(11, 10'000)) expected[n.item] += n.weight;
  for (const auto& n : graph.neighbours(7, 10'000)) expected[n.item] += 0.5 * n.weight;
  REQUIRE(scores.size() == expected.size());
  REQUIRE(!scores.empty());
  for (const auto& s : scores) {
    CAPTURE(s.item);
    CHECK(s.score == doctest::Approx(expected.at(s.item)));
    const auto part = [&](std::int64_t voter, double vote) {
      for (const auto& n : graph.neighbours(voter, 10'000)) {
        if (n.item == s.item) return vote * n.weight;
      }
      return 0.0;
    };
    CHECK(s.via == (part(7, 0.5) > part(11, 1.0) ? 7 : 11));
  }
  // Reused storage: a second call replaces, not appends.
  graph.score(std::vector<std::int64_t>{}, 10'000, scores);
  CHECK(scores.empty());
}

TEST_CASE("CoVisitation: snapshot and restore, and bad files leave the graph as it was") {
  nowrec::test::TempDir dir;
  const auto path = dir.path() / "graph.snap";
  CoVisitation graph({.pair_distance = 2, .half_life_seconds = 50, .max_neighbours = 8});
  add_sequence(graph, {1, 2, 3, 1, 4, 5, 2, 6}, 100);
  graph.snapshot(path, 42);

  CoVisitation restored({.pair_distance = 2, .half_life_seconds = 50, .max_neighbours = 8});
  add_sequence(restored, {7, 8});  // replaced by the restore
  CHECK(restored.restore(path) == 42);
  for (std::int64_t item = 1; item <= 8; ++item) {
    CAPTURE(item);
    CHECK(neighbour_map(restored, item, 500) == neighbour_map(graph, item, 500));
  }
  CHECK(restored.stats().edges == graph.stats().edges);

  const auto expect_format_error = [&](CoVisitation& target, const std::filesystem::path& file,
                                       const char* words) {
    const auto before = neighbour_map(target, 1, 500);
    try {
      target.restore(file);
      FAIL("no error");
    } catch (const nowrec::Error& e) {
      const std::string message = e.what();
      CAPTURE(message);
      CHECK(e.code() == nowrec::ErrorCode::InvalidFormat);
      CHECK(std::string(e.what()).find(words) != std::string::npos);
    }
    CHECK(neighbour_map(target, 1, 500) == before);
  };
  // One flipped byte in the middle: the checksum catches it.
  std::string bytes = nowrec::test::read_file(path);
  bytes[bytes.size() / 2] ^= 0x20;
  nowrec::test::write_file(dir.path() / "flipped.snap", bytes);
  expect_format_error(restored, dir.path() / "flipped.snap", "block");
  // Cut short before the end block.
  bytes = nowrec::test::read_file(path);
  nowrec::test::write_file(dir.path() / "short.snap", bytes.substr(0, bytes.size() - 30));
  expect_format_error(restored, dir.path() / "short.snap", "truncated");
  // Another neighbour bound.
  CoVisitation other({.max_neighbours = 9});
  expect_format_error(other, path, "max_neighbours");
  // An InterestTracker snapshot is not a co-visitation graph.
  nowrec::InterestTracker tracker({.dim = 2});
  tracker.snapshot(dir.path() / "tracker.snap", 1);
  expect_format_error(restored, dir.path() / "tracker.snap", "co-visitation header");
  // A missing file.
  CHECK_THROWS_AS(restored.restore(dir.path() / "none.snap"), nowrec::Error);
}

TEST_CASE("CoVisitation: options out of range are errors naming the option") {
  const auto check = [](const CoVisitationOptions& options, const char* name) {
    try {
      CoVisitation graph(options);
      FAIL("no error");
    } catch (const nowrec::Error& e) {
      CHECK(e.code() == nowrec::ErrorCode::InvalidArgument);
      CHECK(std::string(e.what()).find(name) != std::string::npos);
    }
  };
  check({.pair_distance = 0}, "pair_distance");
  check({.distance_decay = 0.0f}, "distance_decay");
  check({.distance_decay = 1.5f}, "distance_decay");
  check({.half_life_seconds = -1}, "half_life_seconds");
  check({.half_life_seconds = NAN}, "half_life_seconds");
  check({.max_neighbours = 0}, "max_neighbours");
  check({.shards = 0}, "shards");
  check({.shards = 65537}, "65536");
  check({.shards = std::size_t{1} << 40}, "shards");
  check({.voters = 0}, "voters");
  check({.voter_decay = NAN}, "voter_decay");
}

TEST_CASE("CoVisitation: concurrent adds, scores and snapshots lose no pair") {
  nowrec::test::TempDir dir;
  CoVisitation graph({.pair_distance = 1, .max_neighbours = 64, .shards = 4});
  constexpr int kThreads = 4, kPairs = 3000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&graph, &dir, t] {
      std::vector<nowrec::CoVisitationScore> scores;
      for (int i = 0; i < kPairs; ++i) {
        // Every thread adds the same 30 pairs over and over, so they contend on the same lists.
        const std::int64_t a = i % 30, b = 100 + (i * 7) % 30;
        graph.add(std::vector<std::int64_t>{a}, b, i);
        if (i % 500 == 0) {
          graph.score(std::vector<std::int64_t>{a, b}, i, scores);
          graph.snapshot(dir.path() / ("t" + std::to_string(t) + ".snap"), std::uint64_t(i));
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  double total = 0;
  for (std::int64_t a = 0; a < 30; ++a) {
    for (const auto& n : graph.neighbours(a, 0)) total += n.weight;
  }
  CHECK(total == doctest::Approx(double(kThreads) * kPairs));
  CHECK(graph.stats().pairs_added == std::uint64_t(kThreads) * kPairs);
}
