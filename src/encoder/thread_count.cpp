// Thread counts for the encoder's OpenMP loops and oneDNN.
#include "encoder/thread_count.hpp"

#include <omp.h>

namespace nowrec::encoder {

int resolve_thread_count(int requested) noexcept {
  return requested > 0 ? requested : omp_get_num_procs();
}

OmpThreadsGuard::OmpThreadsGuard(int threads) noexcept : previous_(omp_get_max_threads()) {
  omp_set_num_threads(threads);
}

OmpThreadsGuard::~OmpThreadsGuard() { omp_set_num_threads(previous_); }

}  // namespace nowrec::encoder
