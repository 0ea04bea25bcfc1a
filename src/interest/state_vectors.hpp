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
inline const std::uint16_t* bits(const Bf16* stored) noexcept {
  return reinterpret_cast<const std::uint16_t*>(stored);
}
inline std::uint16_t* bits(Bf16* stored) noexcept {
  return reinterpret_cast<std::uint16_t*>(stored);
}
static_assert(sizeof(Bf16) == sizeof(std::uint16_t));

inline float dot(const Bf16* stored, const float* x, std::size_t n) noexcept {
  return cpu::kernels().dot_bf16(bits(stored), x, n);
}

// stored += a * x
inline void axpy(float a, const float* x, float* stored, std::size_t n) noexcept {
  cpu::kernels().axpy(a, x, stored, n);
}
inline void axpy(float a, const float* x, Bf16* stored, std::size_t n) noexcept {
  cpu::kernels().axpy_bf16(a, x, bits(stored), n);
}

// a += alpha_a * x and b += alpha_b * x
inline void axpy_pair(float alpha_a, float alpha_b, const float* x, float* a, float* b,
                      std::size_t n) noexcept {
  cpu::kernels().axpy(alpha_a, x, a, n);
  cpu::kernels().axpy(alpha_b, x, b, n);
}
inline void axpy_pair(float alpha_a, float alpha_b, const float* x, Bf16* a, Bf16* b,
                      std::size_t n) noexcept {
  cpu::kernels().axpy_pair_bf16(alpha_a, alpha_b, x, bits(a), bits(b), n);
}

// out[r] = dot(stored + r * stride, x) for r < count
inline void dots(const float* stored, std::size_t stride, std::size_t count, const float* x,
                 std::size_t n, float* out) noexcept {
  for (std::size_t r = 0; r < count; ++r) out[r] = cpu::kernels().dot(stored + r * stride, x, n);
}
inline void dots(const Bf16* stored, std::size_t stride, std::size_t count, const float* x,
                 std::size_t n, float* out) noexcept {
  cpu::kernels().dots_bf16(bits(stored), stride, count, x, n, out);
}

// stored += a * x; returns |stored|^2 afterwards
inline float axpy_squared_norm(float a, const float* x, float* stored, std::size_t n) noexcept {
  cpu::kernels().axpy(a, x, stored, n);
  return cpu::kernels().dot(stored, stored, n);
}
inline float axpy_squared_norm(float a, const float* x, Bf16* stored, std::size_t n) noexcept {
  return cpu::kernels().axpy_bf16(a, x, bits(stored), n);
}

// |stored|^2
inline float squared_norm(const float* stored, std::size_t n) noexcept {
  return cpu::kernels().dot(stored, stored, n);
}
inline float squared_norm(const Bf16* stored, std::size_t n) noexcept {
  return cpu::kernels().squared_norm_bf16(bits(stored), n);
}

// stored *= s
inline void scale(float s, float* stored, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) stored[i] *= s;
}
// The norm comes with the bf16 kernel at no extra pass (the values are in registers).
inline void scale(float s, Bf16* stored, std::size_t n) noexcept {
  cpu::kernels().scale_squared_norm_bf16(s, bits(stored), n);
}

// stored *= s; returns |stored|^2 afterwards
inline float scale_squared_norm(float s, float* stored, std::size_t n) noexcept {
  scale(s, stored, n);
  return cpu::kernels().dot(stored, stored, n);
}
inline float scale_squared_norm(float s, Bf16* stored, std::size_t n) noexcept {
  return cpu::kernels().scale_squared_norm_bf16(s, bits(stored), n);
}

// stored = a * x
inline void assign(float a, const float* x, float* stored, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) stored[i] = a * x[i];
}
inline void assign(float a, const float* x, Bf16* stored, std::size_t n) noexcept {
  cpu::kernels().assign_bf16(a, x, bits(stored), n);
}

// stored = a * x; returns |stored|^2 as squared_norm(stored) would, up to summation order
inline float assign_squared_norm(float a, const float* x, float* stored, std::size_t n) noexcept {
  assign(a, x, stored, n);
  return squared_norm(stored, n);
}
inline float assign_squared_norm(float a, const float* x, Bf16* stored, std::size_t n) noexcept {
  return cpu::kernels().assign_squared_norm_bf16(a, x, bits(stored), n);
}

// out = s * stored
template <class T>
void load(const T* stored, float s, float* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = s * to_float(stored[i]);
}

}  // namespace nowrec::interest
