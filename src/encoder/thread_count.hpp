// How many threads the encoder's loops, the Ranker's scan and oneDNN's matmuls run with.
#pragma once

#include <string_view>

#include "nowrec/error.hpp"

namespace nowrec::encoder {

// The one range check of a requested thread count (an encoder's, a ranking's, a recommender's,
// or one read from a file): 0 (all cores) or a whole number in [1, kMaxThreads]. A double, so
// that a count read from JSON is checked as written. Throws Error(code) "<what> must be 0 (all
// cores) or a whole number in [1, <kMaxThreads>], not <requested>".
void check_thread_count(double requested, std::string_view what,
                        ErrorCode code = ErrorCode::InvalidArgument);

// The thread count for a checked request (0: every core OpenMP reports).
int resolve_thread_count(int requested) noexcept;

// Sets the calling thread's OpenMP thread count for oneDNN (built here with the OpenMP runtime,
// which reads omp_get_max_threads() on each call) and restores the caller's value on exit, so an
// encode call never changes the application's own OpenMP settings.
//
// Thread-safety: affects only the calling thread; use one guard per call.
class OmpThreadsGuard {
 public:
  explicit OmpThreadsGuard(int threads) noexcept;
  ~OmpThreadsGuard();
  OmpThreadsGuard(const OmpThreadsGuard&) = delete;
  OmpThreadsGuard& operator=(const OmpThreadsGuard&) = delete;

 private:
  int previous_;
};

}  // namespace nowrec::encoder
