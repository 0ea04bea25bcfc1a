// Pooling kernels, compiled once per ISA (see cmake/NowrecIsaKernels.cmake). Each output block
// stays in a register while the rows stream past, so a sequence is read once.
#include "cpu/pooling_kernels.hpp"

#include "cpu/simd.hpp"

namespace nowrec::cpu::NOWREC_ISA_NAMESPACE {

using namespace simd;

void sum_rows(const float* rows, std::size_t count, std::size_t row_stride, std::size_t n,
              float divisor, float* out) noexcept {
  const vec divisor_v = set1(divisor);
  for (std::size_t c = 0; c < n; c += width) {
    const std::size_t lanes = step_count(c, n);
    vec acc = zero();
    for (std::size_t r = 0; r < count; ++r)
      acc = add(acc, load_n(rows + r * row_stride + c, lanes));
    store_n(out + c, div(acc, divisor_v), lanes);
  }
}

void max_rows(const float* rows, std::size_t count, std::size_t row_stride, std::size_t n,
              float* out) noexcept {
  for (std::size_t c = 0; c < n; c += width) {
    const std::size_t lanes = step_count(c, n);
    vec acc = load_n(rows + c, lanes);
    for (std::size_t r = 1; r < count; ++r)
      acc = max(acc, load_n(rows + r * row_stride + c, lanes));
    store_n(out + c, acc, lanes);
  }
}

}  // namespace nowrec::cpu::NOWREC_ISA_NAMESPACE
