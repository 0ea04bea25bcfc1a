// Helpers every method shares: the exclusion mask and ranking a dense score vector.
#include "replay/method.hpp"

namespace nowrec::eval::replay {

std::vector<std::uint8_t> exclusion_mask(std::size_t size, std::span<const std::uint32_t> rows) {
  std::vector<std::uint8_t> mask(size, 0);
  for (std::uint32_t row : rows) mask[row] = 1;
  return mask;
}

Ranking rank_dense(std::span<const float> scores, const ReplayData& data, const Query& query,
                   std::size_t k) {
  const std::vector<std::uint8_t> excluded = exclusion_mask(scores.size(), query.seen_rows);
  Ranking ranking;
  ranking.rank = rank_by_scores(scores, data.item_ids, excluded, query.target_row);
  for (std::uint32_t row : top_rows_by_scores(scores, data.item_ids, excluded, k)) {
    ranking.top.push_back(data.item_ids[row]);
  }
  return ranking;
}

}  // namespace nowrec::eval::replay
