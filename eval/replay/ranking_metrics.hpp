// Ranking metrics of the shared protocol: HR@k, NDCG@k, MRR, coverage@k and the cold-start
// subset, with ranks over the whole catalog, seen items excluded and ties broken by item id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_set>
#include <vector>

namespace nowrec::eval::replay {

// One prediction's outcome.
struct Ranking {
  // 1-based rank of the target among the catalog items not excluded. The target stays a
  // candidate even when the user has seen it, so a repeat can be ranked.
  std::size_t rank = 1;
  std::vector<std::int64_t> top;  // the k best item ids, best first
};

// Rank of `target` by descending score, a tie going to the smaller id; excluded rows (mask
// value non-zero) take no place, except the target itself.
std::size_t rank_by_scores(std::span<const float> scores, std::span<const std::int64_t> ids,
                           std::span<const std::uint8_t> excluded, std::uint32_t target);

// Rows of the k best non-excluded items in the same order.
std::vector<std::uint32_t> top_rows_by_scores(std::span<const float> scores,
                                              std::span<const std::int64_t> ids,
                                              std::span<const std::uint8_t> excluded,
                                              std::size_t k);

struct SubsetMetrics {
  double hr = 0;    // hr@k
  double ndcg = 0;  // ndcg@k
  std::size_t count = 0;
};

struct Metrics {
  double hr = 0;        // share of targets ranked within k
  double ndcg = 0;      // mean of 1 / log2(rank + 1) for ranks within k, else 0
  double mrr = 0;       // mean of 1 / rank, untruncated
  double coverage = 0;  // distinct items in all top-k lists over the catalog size
  std::size_t count = 0;
  SubsetMetrics cold_start;  // targets whose item was never seen in training
};

// Sums predictions into Metrics.
class MetricsAccumulator {
 public:
  MetricsAccumulator(std::size_t k, std::size_t catalog_size)
      : k_(k), catalog_size_(catalog_size) {}
  void add(const Ranking& ranking, bool cold_start);
  Metrics result() const;

 private:
  std::size_t k_;
  std::size_t catalog_size_;
  double hr_ = 0, ndcg_ = 0, mrr_ = 0;
  double cold_hr_ = 0, cold_ndcg_ = 0;
  std::size_t count_ = 0, cold_count_ = 0;
  std::unordered_set<std::int64_t> recommended_;
};

}  // namespace nowrec::eval::replay
