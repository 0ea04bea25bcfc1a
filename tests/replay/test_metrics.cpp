// Ranks over the catalog (ties by id, seen items excluded, the target kept) and the metrics summed
// from them, against values worked out by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "replay/latency.hpp"
#include "replay/ranking_metrics.hpp"
#include "nowrec/error.hpp"

using namespace nowrec::eval::replay;

TEST_CASE("rank_by_scores: higher score first, a tie goes to the smaller id") {
  // Rows hold ids out of order so that a row-order tie break would differ from an id one.
  const std::vector<std::int64_t> ids = {40, 10, 30, 20};
  const std::vector<float> scores = {0.5f, 0.5f, 0.9f, 0.5f};
  const std::vector<std::uint8_t> none(4, 0);
  CHECK(rank_by_scores(scores, ids, none, 2) == 1);  // id 30, the best score
  CHECK(rank_by_scores(scores, ids, none, 1) == 2);  // id 10 wins the tie
  CHECK(rank_by_scores(scores, ids, none, 3) == 3);  // id 20
  CHECK(rank_by_scores(scores, ids, none, 0) == 4);  // id 40 loses every tie
  const auto top = top_rows_by_scores(scores, ids, none, 3);
  CHECK(top == std::vector<std::uint32_t>{2, 1, 3});
}

TEST_CASE("rank_by_scores: seen items take no place, but a seen target is still ranked") {
  const std::vector<std::int64_t> ids = {1, 2, 3, 4};
  const std::vector<float> scores = {0.9f, 0.8f, 0.7f, 0.6f};
  const std::vector<std::uint8_t> seen = {1, 0, 1, 0};
  CHECK(rank_by_scores(scores, ids, seen, 1) == 1);  // id 1 seen, out of the way
  CHECK(rank_by_scores(scores, ids, seen, 3) == 2);
  CHECK(rank_by_scores(scores, ids, seen, 2) == 2);  // a repeat: only id 2 is ahead of id 3
  CHECK(top_rows_by_scores(scores, ids, seen, 10) == std::vector<std::uint32_t>{1, 3});
}

TEST_CASE("MetricsAccumulator: hr, ndcg, untruncated mrr, coverage and the cold subset") {
  MetricsAccumulator metrics(10, 8);
  metrics.add({.rank = 1, .top = {1, 2, 3}}, false);
  metrics.add({.rank = 3, .top = {3, 4}}, true);
  metrics.add({.rank = 11, .top = {5}}, true);  // outside the top 10: counts in mrr only
  const Metrics m = metrics.result();
  CHECK(m.count == 3);
  CHECK(m.hr == doctest::Approx(2.0 / 3));
  CHECK(m.ndcg == doctest::Approx((1.0 + 1.0 / std::log2(4.0)) / 3));
  CHECK(m.mrr == doctest::Approx((1.0 + 1.0 / 3 + 1.0 / 11) / 3));
  CHECK(m.coverage == doctest::Approx(5.0 / 8));
  CHECK(m.cold_start.count == 2);
  CHECK(m.cold_start.hr == doctest::Approx(0.5));
  CHECK(m.cold_start.ndcg == doctest::Approx(0.5 * 0.5));
}

TEST_CASE("MetricsAccumulator: no predictions give zeros, a rank of 0 is refused") {
  MetricsAccumulator metrics(10, 4);
  const Metrics m = metrics.result();
  CHECK(m.count == 0);
  CHECK(m.hr == 0);
  CHECK(m.cold_start.count == 0);
  CHECK_THROWS_AS(metrics.add({.rank = 0, .top = {}}, false), nowrec::Error);
}

TEST_CASE("LatencyRecorder: percentiles interpolate between samples as numpy does") {
  LatencyRecorder recorder;
  for (int i = 1; i <= 101; ++i) recorder.add(double(i));
  const LatencySummary s = recorder.summary();
  CHECK(s.count == 101);
  CHECK(s.p50_ms == doctest::Approx(51.0));
  CHECK(s.p99_ms == doctest::Approx(100.0));
  CHECK(s.max_ms == doctest::Approx(101.0));
  LatencyRecorder two;
  two.add(1.0);
  two.add(3.0);
  CHECK(two.summary().p50_ms == doctest::Approx(2.0));
  CHECK(two.summary().p99_ms == doctest::Approx(2.98));
}

TEST_CASE("Stopwatch: the thread's CPU time counts work and never exceeds the wall time") {
  const Stopwatch stopwatch;
  volatile double sink = 0;
  const double start_cpu = Stopwatch::thread_cpu_ms();
  while (Stopwatch::thread_cpu_ms() - start_cpu < 20.0) sink = sink + 1.0;
  const Elapsed elapsed = stopwatch.elapsed();
  CHECK(elapsed.cpu_ms >= 20.0);
  CHECK(elapsed.wall_ms >= elapsed.cpu_ms - 0.5);  // clocks read a moment apart
}
