// Activation kernels, compiled once per ISA (see cmake/NowrecIsaKernels.cmake). The scalar copy
// uses the C library's erf, tanh and exp and is the reference for the vector approximations.
#include "cpu/activation_kernels.hpp"

#include "cpu/simd.hpp"

namespace nowrec::cpu::NOWREC_ISA_NAMESPACE {

using namespace simd;

namespace {

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kTanhCubic = 0.044715f;

vec gelu_erf(vec v) {
  const vec half_v = mul(v, set1(0.5f));
  return fmadd(half_v, erf(mul(v, set1(kInvSqrt2))), half_v);
}

vec gelu_tanh(vec v) {
  const vec cubic = mul(mul(v, v), mul(v, set1(kTanhCubic)));
  const vec inner = mul(add(v, cubic), set1(kSqrt2OverPi));
  const vec half_v = mul(v, set1(0.5f));
  return fmadd(half_v, tanh(inner), half_v);
}

}  // namespace

void bias_gelu_erf(float* x, const float* bias, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; i += width) {
    const std::size_t count = step_count(i, n);
    store_n(x + i, gelu_erf(add(load_n(x + i, count), load_n(bias + i, count))), count);
  }
}

void bias_gelu_tanh(float* x, const float* bias, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; i += width) {
    const std::size_t count = step_count(i, n);
    store_n(x + i, gelu_tanh(add(load_n(x + i, count), load_n(bias + i, count))), count);
  }
}

void exp_values(const float* x, float* y, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; i += width) {
    const std::size_t count = step_count(i, n);
    store_n(y + i, exp(load_n(x + i, count)), count);
  }
}

void erf_values(const float* x, float* y, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; i += width) {
    const std::size_t count = step_count(i, n);
    store_n(y + i, erf(load_n(x + i, count)), count);
  }
}

void tanh_values(const float* x, float* y, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; i += width) {
    const std::size_t count = step_count(i, n);
    store_n(y + i, tanh(load_n(x + i, count)), count);
  }
}

}  // namespace nowrec::cpu::NOWREC_ISA_NAMESPACE
