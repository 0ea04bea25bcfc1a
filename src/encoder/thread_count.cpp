// Thread counts for the encoder's OpenMP loops and oneDNN.
#include "encoder/thread_count.hpp"

#include <omp.h>

#include <charconv>
#include <cmath>
#include <string>

#include "nowrec/limits.hpp"

namespace nowrec::encoder {

void check_thread_count(double requested, std::string_view what, ErrorCode code) {
  if (requested == std::floor(requested) && requested >= 0 && requested <= kMaxThreads) return;
  // The shortest form that reads back as the value: -1, 5000, 2.5, 1e+300.
  char shown[32];
  const auto end = std::to_chars(shown, shown + sizeof shown, requested).ptr;
  throw Error(code, std::string(what) + " must be 0 (all cores) or a whole number in [1, " +
                        std::to_string(kMaxThreads) + "], not " + std::string(shown, end));
}

int resolve_thread_count(int requested) noexcept {
  return requested > 0 ? requested : omp_get_num_procs();
}

OmpThreadsGuard::OmpThreadsGuard(int threads) noexcept : previous_(omp_get_max_threads()) {
  omp_set_num_threads(threads);
}

OmpThreadsGuard::~OmpThreadsGuard() { omp_set_num_threads(previous_); }

}  // namespace nowrec::encoder
