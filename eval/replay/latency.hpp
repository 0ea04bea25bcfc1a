// Per-event latency samples and their percentiles, in wall time and in the thread's CPU time.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

namespace nowrec::eval::replay {

// Time spent on a piece of work: wall time, which includes waiting for a core on a busy
// machine, and the calling thread's CPU time, which does not (with the Ranker on one thread,
// all the work runs on the calling thread).
struct Elapsed {
  double wall_ms = 0;
  double cpu_ms = 0;
  Elapsed& operator+=(const Elapsed& other) {
    wall_ms += other.wall_ms;
    cpu_ms += other.cpu_ms;
    return *this;
  }
};

class Stopwatch {
 public:
  Stopwatch() : wall_(std::chrono::steady_clock::now()), cpu_(thread_cpu_ms()) {}
  Elapsed elapsed() const;
  static double thread_cpu_ms();

 private:
  std::chrono::steady_clock::time_point wall_;
  double cpu_;
};

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

}  // namespace nowrec::eval::replay
