// fp32 <-> bf16 conversion with round-to-nearest-even, as PyTorch and oneDNN round.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace nowrec::encoder {

inline std::uint16_t float_to_bf16(float value) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  // Rounding could carry a NaN's payload into infinity; keep it a (quiet) NaN.
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40u);
  return static_cast<std::uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

inline float bf16_to_float(std::uint16_t value) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(value) << 16);
}

// The nearest bf16 value, kept in fp32.
inline float round_to_bf16(float value) noexcept { return bf16_to_float(float_to_bf16(value)); }

inline void floats_to_bf16(const float* src, std::uint16_t* dst, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) dst[i] = float_to_bf16(src[i]);
}

}  // namespace nowrec::encoder
