// Ranks by score with ties by id, and the metrics summed over predictions.
#include "replay/ranking_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "nowrec/error.hpp"

namespace nowrec::eval::replay {
namespace {

// Whether item a ranks before item b.
bool ranks_before(float score_a, std::int64_t id_a, float score_b, std::int64_t id_b) {
  return score_a > score_b || (score_a == score_b && id_a < id_b);
}

void check_sizes(std::span<const float> scores, std::span<const std::int64_t> ids,
                 std::span<const std::uint8_t> excluded) {
  if (scores.size() != ids.size() || excluded.size() != ids.size()) {
    throw Error(ErrorCode::Internal, "replay: scores, ids and exclusion mask differ in size");
  }
}

}  // namespace

std::size_t rank_by_scores(std::span<const float> scores, std::span<const std::int64_t> ids,
                           std::span<const std::uint8_t> excluded, std::uint32_t target) {
  check_sizes(scores, ids, excluded);
  std::size_t before = 0;
  const float target_score = scores[target];
  const std::int64_t target_id = ids[target];
  for (std::size_t row = 0; row < scores.size(); ++row) {
    if (excluded[row] == 0 && ranks_before(scores[row], ids[row], target_score, target_id)) {
      ++before;
    }
  }
  return before + 1;
}

std::vector<std::uint32_t> top_rows_by_scores(std::span<const float> scores,
                                              std::span<const std::int64_t> ids,
                                              std::span<const std::uint8_t> excluded,
                                              std::size_t k) {
  check_sizes(scores, ids, excluded);
  std::vector<std::uint32_t> rows;
  rows.reserve(scores.size());
  for (std::size_t row = 0; row < scores.size(); ++row) {
    if (excluded[row] == 0) rows.push_back(std::uint32_t(row));
  }
  const auto better = [&](std::uint32_t a, std::uint32_t b) {
    return ranks_before(scores[a], ids[a], scores[b], ids[b]);
  };
  const std::size_t n = std::min(k, rows.size());
  std::partial_sort(rows.begin(), rows.begin() + std::ptrdiff_t(n), rows.end(), better);
  rows.resize(n);
  return rows;
}

void MetricsAccumulator::add(const Ranking& ranking, bool cold_start) {
  ++count_;
  if (ranking.rank == 0) throw Error(ErrorCode::Internal, "replay: ranks are 1-based");
  double hit = 0, gain = 0;
  mrr_ += 1.0 / double(ranking.rank);
  if (ranking.rank <= k_) {
    hit = 1;
    gain = 1.0 / std::log2(double(ranking.rank) + 1.0);
  }
  hr_ += hit;
  ndcg_ += gain;
  if (cold_start) {
    ++cold_count_;
    cold_hr_ += hit;
    cold_ndcg_ += gain;
  }
  for (std::size_t i = 0; i < std::min(k_, ranking.top.size()); ++i) {
    recommended_.insert(ranking.top[i]);
  }
}

Metrics MetricsAccumulator::result() const {
  Metrics metrics;
  metrics.count = count_;
  if (count_ > 0) {
    metrics.hr = hr_ / double(count_);
    metrics.ndcg = ndcg_ / double(count_);
    metrics.mrr = mrr_ / double(count_);
  }
  metrics.coverage = catalog_size_ == 0 ? 0 : double(recommended_.size()) / double(catalog_size_);
  metrics.cold_start.count = cold_count_;
  if (cold_count_ > 0) {
    metrics.cold_start.hr = cold_hr_ / double(cold_count_);
    metrics.cold_start.ndcg = cold_ndcg_ / double(cold_count_);
  }
  return metrics;
}

}  // namespace nowrec::eval::replay
