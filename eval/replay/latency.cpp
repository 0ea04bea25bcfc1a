// Thread CPU time, and percentiles of latency samples.
#include "replay/latency.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace nowrec::eval::replay {

double Stopwatch::thread_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return double(now.tv_sec) * 1e3 + double(now.tv_nsec) * 1e-6;
}

Elapsed Stopwatch::elapsed() const {
  return {
      .wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_)
                     .count(),
      .cpu_ms = thread_cpu_ms() - cpu_};
}

LatencySummary LatencyRecorder::summary() const {
  LatencySummary summary;
  summary.count = samples_.size();
  if (samples_.empty()) return summary;
  std::vector<double> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  const auto percentile = [&](double p) {
    const double position = p / 100.0 * double(sorted.size() - 1);
    const std::size_t below = std::size_t(std::floor(position));
    const std::size_t above = std::min(below + 1, sorted.size() - 1);
    return sorted[below] + (position - double(below)) * (sorted[above] - sorted[below]);
  };
  summary.p50_ms = percentile(50);
  summary.p99_ms = percentile(99);
  summary.mean_ms = std::accumulate(sorted.begin(), sorted.end(), 0.0) / double(sorted.size());
  summary.max_ms = sorted.back();
  return summary;
}

}  // namespace nowrec::eval::replay
