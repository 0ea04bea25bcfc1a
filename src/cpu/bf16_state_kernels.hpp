// Kernels over vectors stored as bfloat16 (the tracker's per-user state), declared once per ISA
// variant. Arithmetic is fp32; stores round to nearest even. Inputs are finite. The
// avx512_bf16_vnni variant rounds with the CPU's own conversion, which stores values below 2^-126
// in magnitude (subnormal) as zero; the others keep them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nowrec::cpu {

#define NOWREC_DECLARE_BF16_STATE_KERNELS(isa)                                                  \
  namespace isa {                                                                               \
  /* sum of stored[i] * x[i] */                                                                 \
  float dot_bf16(const std::uint16_t* stored, const float* x, std::size_t n) noexcept;          \
  /* sum of stored[i]^2 */                                                                      \
  float squared_norm_bf16(const std::uint16_t* stored, std::size_t n) noexcept;                 \
  /* stored[i] = bf16(stored[i] + alpha * x[i]); returns the new sum of stored[i]^2 */          \
  float axpy_bf16(float alpha, const float* x, std::uint16_t* stored, std::size_t n) noexcept;  \
  /* stored[i] = bf16(alpha * x[i]) */                                                          \
  void assign_bf16(float alpha, const float* x, std::uint16_t* stored, std::size_t n) noexcept; \
  /* assign_bf16, returning the sum of stored[i]^2 */                                           \
  float assign_squared_norm_bf16(float alpha, const float* x, std::uint16_t* stored,            \
                                 std::size_t n) noexcept;                                       \
  /* stored[i] = bf16(stored[i] * s); returns the new sum of stored[i]^2 */                     \
  float scale_squared_norm_bf16(float s, std::uint16_t* stored, std::size_t n) noexcept;        \
  /* a[i] = bf16(a[i] + alpha_a * x[i]) and b[i] = bf16(b[i] + alpha_b * x[i]) */               \
  void axpy_pair_bf16(float alpha_a, float alpha_b, const float* x, std::uint16_t* a,           \
                      std::uint16_t* b, std::size_t n) noexcept;                                \
  /* out[r] = dot_bf16(stored + r * stride, x, n) for r < count */                              \
  void dots_bf16(const std::uint16_t* stored, std::size_t stride, std::size_t count,            \
                 const float* x, std::size_t n, float* out) noexcept;                           \
  }

NOWREC_DECLARE_BF16_STATE_KERNELS(scalar)
NOWREC_DECLARE_BF16_STATE_KERNELS(avx2)
NOWREC_DECLARE_BF16_STATE_KERNELS(avx512)
NOWREC_DECLARE_BF16_STATE_KERNELS(avx512_bf16_vnni)

#undef NOWREC_DECLARE_BF16_STATE_KERNELS

}  // namespace nowrec::cpu
