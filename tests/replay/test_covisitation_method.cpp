// The covisitation method (the library's CoVisitation) against the cooccurrence baseline (plain
// counting in the replay) on the real MovieLens ratings: with no distance decay, no time decay
// and room for every neighbour they are the same method, so every metric must agree.
#include <doctest/doctest.h>

#include <cstdlib>

#include "nowrec/eval/dataset.hpp"
#include "replay/baseline_methods.hpp"
#include "replay/protocols.hpp"
#include "replay/recommender_methods.hpp"
#include "test_support.hpp"

using namespace nowrec::eval::replay;

namespace {

ReplayData movielens() {
  const auto dir = nowrec::test::env_path("NOWREC_TEST_DATA") / "ml-latest-small";
  std::vector<std::int64_t> ids;
  for (const auto& item : nowrec::load_item_catalog(dir / "movies.csv", dir / "tags.csv")) {
    ids.push_back(item.id);
  }
  return make_replay_data(nowrec::load_interactions(dir / "ratings.csv"), ids);
}

void check_same(const ProtocolResult& a, const ProtocolResult& b) {
  CHECK(a.metrics.count == b.metrics.count);
  CHECK(a.metrics.hr == doctest::Approx(b.metrics.hr).epsilon(1e-12));
  CHECK(a.metrics.ndcg == doctest::Approx(b.metrics.ndcg).epsilon(1e-9));
  CHECK(a.metrics.mrr == doctest::Approx(b.metrics.mrr).epsilon(1e-9));
  CHECK(a.metrics.coverage == doctest::Approx(b.metrics.coverage).epsilon(1e-12));
}

}  // namespace

TEST_CASE("covisitation equals cooccurrence at the same settings, offline and online") {
  const ReplayData data = movielens();
  const LeaveOneOutSplit split = leave_one_out(data);
  const CooccurrenceSettings counting{.pair_distance = 3, .recent_items = 5, .recency_decay = 0.8f};
  const nowrec::CoVisitationOptions graph{.pair_distance = 3,
                                          .distance_decay = 1.0f,
                                          .half_life_seconds = 0,
                                          .max_neighbours = 100'000,
                                          .voters = 5,
                                          .voter_decay = 0.8f};
  SUBCASE("leave-one-out, from the training portions") {
    for (HeldOut held_out : {HeldOut::Validation, HeldOut::Test}) {
      const auto cooccurrence = make_cooccurrence(data, &split, counting, 10);
      const auto covisitation = make_covisitation_method(data, &split, graph, 10);
      const ProtocolResult a = run_leave_one_out(data, split, *cooccurrence, held_out, {});
      const ProtocolResult b = run_leave_one_out(data, split, *covisitation, held_out, {});
      REQUIRE(a.metrics.count == split.users.size());
      CHECK(a.metrics.ndcg > 0.03);  // a real signal, not two empty rankings
      check_same(a, b);
    }
  }
  SUBCASE("temporal, learning online from every earlier event") {
    const TemporalCuts cuts = temporal_cuts(data, 0.97);
    const auto cooccurrence = make_cooccurrence(data, nullptr, counting, 10);
    const auto covisitation = make_covisitation_method(data, nullptr, graph, 10);
    const ProtocolResult a = run_temporal(data, *cooccurrence, {.from = cuts.test}, {});
    const ProtocolResult b = run_temporal(data, *covisitation, {.from = cuts.test}, {});
    REQUIRE(a.metrics.count > 1000);
    CHECK(a.metrics.ndcg > 0.02);
    check_same(a, b);
  }
}
