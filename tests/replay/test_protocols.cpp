// Both protocols on tests/fixtures/replay (six movies, four users, thirteen ratings, the file out
// of time order), with every rank worked out by hand in the comments.
//
// The events in time order (time user:item):
//   100 1:1  110 2:1  120 3:2  130 4:6  200 1:2  210 2:2  220 3:1  230 4:3
//   300 1:3  310 2:5  330 4:1  400 1:4  430 4:2
// Leave-one-out: user 1 trains on [1, 2], validates on 3, tests on 4; user 2: [1], 2, 5; user 4:
// [6, 3], 1, 2; user 3 has two ratings and is skipped. Items in training: 1, 2, 3, 6.
#include <doctest/doctest.h>

#include <cmath>

#include "replay/baseline_methods.hpp"
#include "replay/protocols.hpp"
#include "nowrec/eval/dataset.hpp"
#include "nowrec/error.hpp"
#include "test_support.hpp"

using namespace nowrec::eval::replay;

namespace {

ReplayData fixture() {
  const auto dir = nowrec::test::fixtures_dir() / "replay";
  std::vector<std::int64_t> ids;
  for (const auto& item : nowrec::load_item_catalog(dir / "movies.csv", dir / "tags.csv")) {
    ids.push_back(item.id);
  }
  return make_replay_data(nowrec::load_interactions(dir / "ratings.csv"), ids);
}

double gain(double rank) { return rank <= 10 ? 1.0 / std::log2(rank + 1) : 0.0; }

}  // namespace

TEST_CASE("leave-one-out popularity: ranks before the target's time, seen excluded, ties by id") {
  const ReplayData data = fixture();
  const LeaveOneOutSplit split = leave_one_out(data);
  REQUIRE(split.users.size() == 3);
  const auto method = make_popular(data, 0, 10);

  // Validation. User 1 at 300, seen {1, 2}: counts 3:1 6:1 -> 3 first. User 2 at 210, seen {1}:
  // 2:2 -> first. User 4 at 330, seen {6, 3}: 1:3 2:3 -> 1 first (the tie goes to the smaller id).
  const ProtocolResult validation =
      run_leave_one_out(data, split, *method, HeldOut::Validation, {});
  CHECK(validation.metrics.hr == doctest::Approx(1.0));
  CHECK(validation.metrics.ndcg == doctest::Approx(1.0));
  CHECK(validation.metrics.cold_start.count == 0);

  // Test. User 1 at 400, seen {1, 2, 3}: 5:1 6:1 4:0 -> target 4 third. User 2 at 310, seen
  // {1, 2}: 3:2 6:1 4:0 5:0 -> target 5 fourth: its own rating at 310 is not counted (counting
  // it would rank 5 second). User 4 at 430, seen {6, 3, 1}: 2:3 -> first.
  const auto fresh = make_popular(data, 0, 10);
  const ProtocolResult test = run_leave_one_out(data, split, *fresh, HeldOut::Test, {});
  CHECK(test.metrics.count == 3);
  CHECK(test.metrics.hr == doctest::Approx(1.0));
  CHECK(test.metrics.ndcg == doctest::Approx((gain(3) + gain(4) + gain(1)) / 3));
  CHECK(test.metrics.mrr == doctest::Approx((1.0 / 3 + 1.0 / 4 + 1.0) / 3));
  // Top lists {5, 6, 4}, {3, 6, 4, 5}, {2, 4, 5}: five of six items.
  CHECK(test.metrics.coverage == doctest::Approx(5.0 / 6));
  // Items 4 and 5 are in no training portion.
  CHECK(test.metrics.cold_start.count == 2);
  CHECK(test.metrics.cold_start.ndcg == doctest::Approx((gain(3) + gain(4)) / 2));
  CHECK(test.latency.count == 3);

  const auto limited = make_popular(data, 0, 10);
  CHECK(run_leave_one_out(data, split, *limited, HeldOut::Test, {.limit_users = 1}).metrics.count ==
        1);
}

TEST_CASE("leave-one-out co-occurrence: counts from training portions only") {
  const ReplayData data = fixture();
  const LeaveOneOutSplit split = leave_one_out(data);
  const CooccurrenceSettings settings{.pair_distance = 1, .recent_items = 1};
  // Training pairs: (1, 2) and (6, 3). Test: user 1's last item 3 votes for 6 -> target 4 second;
  // user 2's last item 2 votes for seen 1 only -> all tie, target 5 third of {3, 4, 5, 6};
  // user 4's last item 1 votes for 2 -> first.
  const auto method = make_cooccurrence(data, &split, settings, 10);
  const ProtocolResult test = run_leave_one_out(data, split, *method, HeldOut::Test, {});
  CHECK(test.metrics.ndcg == doctest::Approx((gain(2) + gain(3) + gain(1)) / 3));
  CHECK(test.metrics.mrr == doctest::Approx((0.5 + 1.0 / 3 + 1.0) / 3));
}

TEST_CASE("streaming popularity: each event from its user's second, ranked before it is counted") {
  const ReplayData data = fixture();
  const auto method = make_popular(data, 0, 10);
  // Ranks: 200 1:2 -> 1, 210 2:2 -> 1, 220 3:1 -> 1, 230 4:3 -> 3 (1 and 2 lead, item 3 new),
  // 300 1:3 -> 1, 310 2:5 -> 4 (new), 330 4:1 -> 1, 400 1:4 -> 3 (new), 430 4:2 -> 1.
  const ProtocolResult result = run_streaming(data, *method, {});
  CHECK(result.metrics.count == 9);
  CHECK(result.metrics.hr == doctest::Approx(1.0));
  CHECK(result.metrics.ndcg == doctest::Approx((6 + gain(3) + gain(4) + gain(3)) / 9));
  CHECK(result.metrics.mrr == doctest::Approx((6 + 1.0 / 3 + 1.0 / 4 + 1.0 / 3) / 9));
  CHECK(result.metrics.cold_start.count == 3);
  CHECK(result.metrics.cold_start.ndcg == doctest::Approx((gain(3) + gain(4) + gain(3)) / 3));
  CHECK(result.metrics.coverage == doctest::Approx(1.0));
}

TEST_CASE("streaming co-occurrence: pairs learned online from earlier events only") {
  const ReplayData data = fixture();
  const auto method = make_cooccurrence(data, nullptr, {.pair_distance = 1, .recent_items = 1}, 10);
  // Ranks: 1, 1, 1, 3 (no pair with 6 yet), 1, 3, 2, 2, 1.
  const ProtocolResult result = run_streaming(data, *method, {});
  CHECK(result.metrics.count == 9);
  CHECK(result.metrics.ndcg == doctest::Approx((5 + 2 * gain(3) + 2 * gain(2)) / 9));
  CHECK(result.metrics.mrr == doctest::Approx((5 + 2.0 / 3 + 1.0) / 9));
}

TEST_CASE("temporal split: cuts at the quantile, cases after the cut, cold means unseen before it") {
  const ReplayData data = fixture();
  // 13 sorted times: position floor(0.7 * 13) = 9 is 310; of the 9 before it, position 6 is 220.
  const TemporalCuts cuts = temporal_cuts(data, 0.7);
  CHECK(cuts.test == 310);
  CHECK(cuts.validation == 220);

  // Test: 310 2:5 -> 4 (new), 330 4:1 -> 1, 400 1:4 -> 3 (new), 430 4:2 -> 1, popularity counted
  // online over every earlier event; items 5 and 4 occur in no event before 310.
  const auto test_method = make_popular(data, 0, 10);
  const ProtocolResult test = run_temporal(data, *test_method, {.from = cuts.test}, {});
  CHECK(test.metrics.count == 4);
  CHECK(test.metrics.ndcg == doctest::Approx((2 + gain(4) + gain(3)) / 4));
  CHECK(test.metrics.cold_start.count == 2);
  CHECK(test.metrics.cold_start.ndcg == doctest::Approx((gain(4) + gain(3)) / 2));

  // Validation [220, 310): 220 3:1 -> 1, 230 4:3 -> 3, 300 1:3 -> 1; item 3 is cold at 230 and
  // still at 300, since it first occurs after the validation cut.
  const auto valid_method = make_popular(data, 0, 10);
  const ProtocolResult valid =
      run_temporal(data, *valid_method, {.from = cuts.validation, .until = cuts.test}, {});
  CHECK(valid.metrics.count == 3);
  CHECK(valid.metrics.ndcg == doctest::Approx((2 + gain(3)) / 3));
  CHECK(valid.metrics.cold_start.count == 2);

  CHECK_THROWS_AS(temporal_cuts(data, 1.0), nowrec::Error);
  CHECK_THROWS_AS(temporal_cuts(data, 0.0), nowrec::Error);
  // At quantile 0.01 the test cut is the first event: nothing lies before it.
  CHECK_THROWS_WITH_AS(temporal_cuts(data, 0.01), doctest::Contains("before the test cut"),
                       nowrec::Error);
}
