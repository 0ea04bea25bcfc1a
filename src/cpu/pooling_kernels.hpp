// Pooling kernels of the encoder (token rows to one sentence row), declared once per ISA variant.
#pragma once

#include <cstddef>

namespace nowrec::cpu {

// sum_rows: out = (sum of `count` rows of n floats, `row_stride` apart) / divisor (mean pooling,
//           and mean divided by sqrt(length)).
// max_rows: out = elementwise maximum of the rows; count must be at least 1.
#define NOWREC_DECLARE_POOLING_KERNELS(isa)                                                  \
  namespace isa {                                                                            \
  void sum_rows(const float* rows, std::size_t count, std::size_t row_stride, std::size_t n, \
                float divisor, float* out) noexcept;                                         \
  void max_rows(const float* rows, std::size_t count, std::size_t row_stride, std::size_t n, \
                float* out) noexcept;                                                        \
  }

NOWREC_DECLARE_POOLING_KERNELS(scalar)
NOWREC_DECLARE_POOLING_KERNELS(avx2)
NOWREC_DECLARE_POOLING_KERNELS(avx512)

#undef NOWREC_DECLARE_POOLING_KERNELS

}  // namespace nowrec::cpu
