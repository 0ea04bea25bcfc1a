// Sliding-window popularity counts over the time-ordered event stream.
#include "replay/popularity.hpp"

#include <algorithm>
#include <limits>

#include "nowrec/error.hpp"

namespace nowrec::eval::replay {

WindowedPopularity::WindowedPopularity(std::span<const ReplayEvent> events,
                                       std::size_t catalog_size, std::int64_t window_seconds)
    : events_(events), window_(window_seconds), counts_(catalog_size, 0.0f) {
  if (window_seconds < 0) {
    throw Error(ErrorCode::InvalidArgument, "replay: a popularity window must not be negative");
  }
  for (std::size_t i = 1; i < events.size(); ++i) {
    if (events[i].timestamp < events[i - 1].timestamp) {
      throw Error(ErrorCode::Internal, "replay: popularity events are not in time order");
    }
  }
}

std::size_t WindowedPopularity::first_at_or_after(std::int64_t time) const {
  const auto found = std::lower_bound(
      events_.begin(), events_.end(), time,
      [](const ReplayEvent& event, std::int64_t t) { return event.timestamp < t; });
  return std::size_t(found - events_.begin());
}

std::span<const float> WindowedPopularity::counts_at(std::int64_t now) {
  const std::size_t end = first_at_or_after(now);
  std::size_t begin = 0;
  if (window_ > 0 && now > std::numeric_limits<std::int64_t>::min() + window_) {
    begin = std::min(end, first_at_or_after(now - window_));
  }
  // Move each bound to its new place, counting the events that enter and uncounting those that
  // leave. Ranges that do not overlap simply empty and refill.
  if (begin >= end_ || end <= begin_) {
    for (std::size_t i = begin_; i < end_; ++i) counts_[events_[i].row] -= 1.0f;
    for (std::size_t i = begin; i < end; ++i) counts_[events_[i].row] += 1.0f;
  } else {
    for (std::size_t i = end_; i < end; ++i) counts_[events_[i].row] += 1.0f;
    for (std::size_t i = end; i < end_; ++i) counts_[events_[i].row] -= 1.0f;
    for (std::size_t i = begin; i < begin_; ++i) counts_[events_[i].row] += 1.0f;
    for (std::size_t i = begin_; i < begin; ++i) counts_[events_[i].row] -= 1.0f;
  }
  begin_ = begin;
  end_ = end;
  return counts_;
}

}  // namespace nowrec::eval::replay
