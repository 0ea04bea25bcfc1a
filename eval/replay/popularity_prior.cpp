// Index priors that follow windowed popularity.
#include "replay/popularity_prior.hpp"

#include <cmath>

namespace nowrec::eval::replay {

PopularityPrior::PopularityPrior(const ReplayData& data, ItemIndex& index,
                                 std::int64_t window_seconds)
    : data_(data),
      index_(index),
      popularity_(data.events, data.item_ids.size(), window_seconds),
      current_(data.item_ids.size(), 0.0f) {
  index_.set_priors(data.item_ids, current_);
}

void PopularityPrior::refresh(std::int64_t now) {
  const std::span<const float> counts = popularity_.counts_at(now);
  changed_ids_.clear();
  changed_priors_.clear();
  for (std::size_t row = 0; row < counts.size(); ++row) {
    const float prior = std::log1p(counts[row]);
    if (prior != current_[row]) {
      current_[row] = prior;
      changed_ids_.push_back(data_.item_ids[row]);
      changed_priors_.push_back(prior);
    }
  }
  if (!changed_ids_.empty()) index_.set_priors(changed_ids_, changed_priors_);
}

}  // namespace nowrec::eval::replay
