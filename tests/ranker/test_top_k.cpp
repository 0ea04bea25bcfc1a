// TopK: the bounded selection every scan thread keeps.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "ranker/top_k.hpp"

using nowrec::ranker::Candidate;
using nowrec::ranker::ranks_before;
using nowrec::ranker::TopK;

namespace {

// Offers every score in turn, as a scan does.
TopK select(const std::vector<float>& scores, std::size_t k) {
  TopK best(k);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const auto id = static_cast<std::int64_t>(i);
    if (best.admits(scores[i], id)) best.push({scores[i], id, 0, std::uint32_t(i)});
  }
  return best;
}

std::vector<Candidate> sorted(const TopK& best) {
  std::vector<Candidate> items = best.items();
  std::sort(items.begin(), items.end(), ranks_before);
  return items;
}

}  // namespace

TEST_CASE("TopK keeps the best k, ties by the smaller id, and knows its worst") {
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> coarse(-20, 20);  // few distinct scores: many ties
  std::vector<float> scores(500);
  for (float& s : scores) s = static_cast<float>(coarse(rng)) / 4.0f;
  for (const std::size_t k : {1u, 7u, 64u}) {
    const TopK best = select(scores, k);
    REQUIRE(best.full());
    std::vector<Candidate> all;
    for (std::size_t i = 0; i < scores.size(); ++i) {
      all.push_back({scores[i], static_cast<std::int64_t>(i), 0, std::uint32_t(i)});
    }
    std::sort(all.begin(), all.end(), ranks_before);
    const std::vector<Candidate> got = sorted(best);
    REQUIRE(got.size() == k);
    for (std::size_t i = 0; i < k; ++i) {
      CHECK(got[i].id == all[i].id);
      CHECK(got[i].score == all[i].score);
    }
    CHECK(best.worst_score() == all[k - 1].score);
  }
}

TEST_CASE("TopK: NaN scores never enter, so its order and worst score stay right") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // A NaN among the first k offers used to enter while there was room, after which the heap's
  // front was no longer its worst (5, NaN, 1, 0 left 1 at the front with 0 kept).
  const TopK best = select({5.0f, nan, 1.0f, 0.0f, 3.0f, 0.5f, nan}, 4);
  REQUIRE(best.full());
  const std::vector<Candidate> got = sorted(best);
  REQUIRE(got.size() == 4);
  CHECK(got[0].score == 5.0f);
  CHECK(got[1].score == 3.0f);
  CHECK(got[2].score == 1.0f);
  CHECK(got[3].score == 0.5f);
  CHECK(best.worst_score() == 0.5f);
  CHECK_FALSE(TopK(3).admits(nan, 0));
}
