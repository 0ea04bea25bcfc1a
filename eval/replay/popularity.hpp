// Item popularity within a time window before a given time, from interactions strictly before
// that time only, so a prediction never counts the future.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "replay/replay_data.hpp"

namespace nowrec::eval::replay {

// Counts, per catalog row, the events with timestamp in [now - window, now) (window 0: every
// event before now). Moving to another time adds and removes only the events between the two
// windows, so a stream of increasing times costs one pass over the events.
//
// Thread-safety: none; one per thread.
class WindowedPopularity {
 public:
  // `events` in increasing timestamp order, e.g. ReplayData::events; kept by reference.
  WindowedPopularity(std::span<const ReplayEvent> events, std::size_t catalog_size,
                     std::int64_t window_seconds);

  // Counts for the window ending at `now`.
  std::span<const float> counts_at(std::int64_t now);
  std::int64_t window_seconds() const noexcept { return window_; }

 private:
  std::size_t first_at_or_after(std::int64_t time) const;
  std::span<const ReplayEvent> events_;
  std::int64_t window_;
  std::vector<float> counts_;
  std::size_t begin_ = 0, end_ = 0;  // events [begin_, end_) are counted
};

}  // namespace nowrec::eval::replay
