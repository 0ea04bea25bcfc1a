// Activation kernels of the encoder (bias + GELU) and the vector math beneath them, declared once
// per ISA variant.
#pragma once

#include <cstddef>

namespace nowrec::cpu {

// bias_gelu_erf:  x = GELU(x + bias) with GELU(v) = v/2 * (1 + erf(v/sqrt 2))   ("gelu")
// bias_gelu_tanh: x = GELU(x + bias) with the tanh formulation ("gelu_new", "gelu_pytorch_tanh")
// exp_values / erf_values / tanh_values: y = f(x) elementwise, for tests of the vector math.
#define NOWREC_DECLARE_ACTIVATION_KERNELS(isa)                              \
  namespace isa {                                                           \
  void bias_gelu_erf(float* x, const float* bias, std::size_t n) noexcept;  \
  void bias_gelu_tanh(float* x, const float* bias, std::size_t n) noexcept; \
  void exp_values(const float* x, float* y, std::size_t n) noexcept;        \
  void erf_values(const float* x, float* y, std::size_t n) noexcept;        \
  void tanh_values(const float* x, float* y, std::size_t n) noexcept;       \
  }

NOWREC_DECLARE_ACTIVATION_KERNELS(scalar)
NOWREC_DECLARE_ACTIVATION_KERNELS(avx2)
NOWREC_DECLARE_ACTIVATION_KERNELS(avx512)

#undef NOWREC_DECLARE_ACTIVATION_KERNELS

}  // namespace nowrec::cpu
