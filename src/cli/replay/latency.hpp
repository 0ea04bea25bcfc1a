// Per-event latency samples and their percentiles.
#pragma once

#include <cstddef>
#include <vector>

namespace nowrec::cli::replay {

struct LatencySummary {
  double p50_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
  double max_ms = 0;
  std::size_t count = 0;
};

class LatencyRecorder {
 public:
  void add(double ms) { samples_.push_back(ms); }
  // Percentiles interpolated linearly between the two nearest samples (numpy's default, as in
  // tools/interaction_split.py).
  LatencySummary summary() const;

 private:
  std::vector<double> samples_;
};

}  // namespace nowrec::cli::replay
