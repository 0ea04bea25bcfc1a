// Storage element types of per-user vectors (fp32, bf16) and the loops the tracker runs on them.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "cpu/dispatch.hpp"

namespace nowrec::interest {

// bfloat16: the upper half of an fp32. Arithmetic is done in fp32.
struct Bf16 {
  std::uint16_t bits;
};

inline float to_float(float x) noexcept { return x; }
inline float to_float(Bf16 x) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(x.bits) << 16);
}

inline void store(float& dst, float x) noexcept { dst = x; }
// Round to nearest even; inputs are finite, so the NaN case never arises.
inline void store(Bf16& dst, float x) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  dst.bits = static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

// dot(stored, x)
inline float dot(const float* stored, const float* x, std::size_t n) noexcept {
  return cpu::kernels().dot(stored, x, n);
}
// Eight partial sums, so that the compiler can vectorise without reassociating one sum.
inline float dot(const Bf16* stored, const float* x, std::size_t n) noexcept {
  float partial[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (std::size_t k = 0; k < 8; ++k) partial[k] += to_float(stored[i + k]) * x[i + k];
  }
  float sum = 0.0f;
  for (; i < n; ++i) sum += to_float(stored[i]) * x[i];
  for (float p : partial) sum += p;
  return sum;
}

// stored += a * x
inline void axpy(float a, const float* x, float* stored, std::size_t n) noexcept {
  cpu::kernels().axpy(a, x, stored, n);
}
inline void axpy(float a, const float* x, Bf16* stored, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) store(stored[i], to_float(stored[i]) + a * x[i]);
}

// |stored|^2
inline float squared_norm(const float* stored, std::size_t n) noexcept {
  return cpu::kernels().dot(stored, stored, n);
}
inline float squared_norm(const Bf16* stored, std::size_t n) noexcept {
  float partial[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (std::size_t k = 0; k < 8; ++k)
      partial[k] += to_float(stored[i + k]) * to_float(stored[i + k]);
  }
  float sum = 0.0f;
  for (; i < n; ++i) sum += to_float(stored[i]) * to_float(stored[i]);
  for (float p : partial) sum += p;
  return sum;
}

// stored *= s
template <class T>
void scale(T* stored, float s, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) store(stored[i], to_float(stored[i]) * s);
}

// stored = a * x
template <class T>
void assign(float a, const float* x, T* stored, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) store(stored[i], a * x[i]);
}

// out = s * stored
template <class T>
void load(const T* stored, float s, float* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = s * to_float(stored[i]);
}

}  // namespace nowrec::interest
