// Keeps an ItemIndex's priors at log(1 + recent popularity) as the prediction time moves, so the
// Ranker can blend popularity into interest scores (RankRequest::prior_weight).
#pragma once

#include <cstdint>
#include <vector>

#include "nowrec/item_index.hpp"
#include "replay/popularity.hpp"

namespace nowrec::eval::replay {

// Thread-safety: none; one per index and thread.
class PopularityPrior {
 public:
  // Sets every prior of `index` (which holds data.item_ids) to 0 first, so priors left by
  // another user of the index do not carry over.
  PopularityPrior(const ReplayData& data, ItemIndex& index, std::int64_t window_seconds);

  // Sets the priors for a prediction at `now`, writing only the items whose count changed.
  // A server refreshes priors apart from serving, so replay does not count this in latency.
  void refresh(std::int64_t now);

 private:
  const ReplayData& data_;
  ItemIndex& index_;
  WindowedPopularity popularity_;
  std::vector<float> current_;
  std::vector<std::int64_t> changed_ids_;
  std::vector<float> changed_priors_;
};

}  // namespace nowrec::eval::replay
