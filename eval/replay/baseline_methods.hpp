// The baselines: recent popularity and item-to-item co-occurrence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "replay/method.hpp"
#include "replay/split.hpp"

namespace nowrec::eval::replay {

// Ranks by the number of interactions with each item in the window before the prediction time.
std::unique_ptr<ReplayMethod> make_popular(const ReplayData& data, std::int64_t window_seconds,
                                           std::size_t k);

struct CooccurrenceSettings {
  std::size_t pair_distance = 3;  // events at most this far apart in a user's sequence co-occur
  std::size_t recent_items = 5;   // the user's most recent items that vote
  float recency_decay = 0.8f;     // the i-th most recent item votes with decay^i
};

// Scores item j by sum_i decay^i * count(recent item i, j). Counts come from the training
// portions of `split` when given (leave-one-out) and are then fixed; without a split they grow
// online from every observed event (streaming).
std::unique_ptr<ReplayMethod> make_cooccurrence(const ReplayData& data,
                                                const LeaveOneOutSplit* split,
                                                const CooccurrenceSettings& settings,
                                                std::size_t k);

}  // namespace nowrec::eval::replay
