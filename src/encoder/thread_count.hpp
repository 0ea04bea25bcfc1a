// How many threads the encoder's loops and oneDNN's matmuls run with.
#pragma once

namespace nowrec::encoder {

// The thread count for EncoderOptions::threads (0: every core OpenMP reports).
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
