// Dense vector kernels (dot product, axpy, L2 normalisation), declared once per ISA variant.
#pragma once

#include <cstddef>

namespace nowrec::cpu {

#define NOWREC_DECLARE_VECTOR_KERNELS(isa)                                  \
  namespace isa {                                                           \
  float dot(const float* a, const float* b, std::size_t n) noexcept;        \
  void axpy(float alpha, const float* x, float* y, std::size_t n) noexcept; \
  float l2_normalize(float* x, std::size_t n) noexcept;                     \
  }

NOWREC_DECLARE_VECTOR_KERNELS(scalar)
NOWREC_DECLARE_VECTOR_KERNELS(avx2)
NOWREC_DECLARE_VECTOR_KERNELS(avx512)

#undef NOWREC_DECLARE_VECTOR_KERNELS

}  // namespace nowrec::cpu
