// fp32 to fp16 / bf16 conversion with round-to-nearest-even, as the GPU's own converters do.
#include "encoder/half_conversion.hpp"

#include <bit>
#include <cmath>
#include <string>

#include "nowrec/error.hpp"

namespace nowrec::encoder {

std::uint16_t float_to_f16_bits(float value) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const std::uint16_t sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) {  // infinity or NaN; a NaN keeps a set mantissa bit
    return static_cast<std::uint16_t>(sign | 0x7c00u | (magnitude > 0x7f800000u ? 0x200u : 0u));
  }
  // From 65520 up, nearest even rounds past fp16's largest value, 65504.
  if (magnitude >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (magnitude < 0x38800000u) {
    // Subnormal half (or zero): value / 2^-24 rounded to an integer, nearest even.
    if (magnitude < 0x33000000u) return sign;  // below half the smallest subnormal
    const std::uint32_t exponent = magnitude >> 23;
    const std::uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
    // value = mantissa * 2^(exponent - 150); in units of 2^-24 that is mantissa >> shift.
    const std::uint32_t shift = 126u - exponent;
    const std::uint32_t truncated = mantissa >> shift;
    const std::uint32_t remainder = mantissa & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1u);
    std::uint32_t result = truncated;
    if (remainder > halfway || (remainder == halfway && (truncated & 1u))) ++result;
    return static_cast<std::uint16_t>(sign | result);
  }
  // Normal half: rebias the exponent, keep 10 mantissa bits, round to nearest even (a carry
  // into the exponent is the correct result).
  const std::uint32_t rebased = magnitude - (112u << 23);
  std::uint32_t result = rebased >> 13;
  const std::uint32_t remainder = rebased & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u))) ++result;
  return static_cast<std::uint16_t>(sign | result);
}

std::uint16_t float_to_bf16_bits(float value) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40u);
  const std::uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

std::vector<std::uint16_t> to_half_bits(std::span<const float> values, HalfKind kind,
                                        const char* tensor) {
  std::vector<std::uint16_t> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (kind == HalfKind::BF16) {
      out[i] = float_to_bf16_bits(values[i]);
      continue;
    }
    out[i] = float_to_f16_bits(values[i]);
    if (std::isfinite(values[i]) && (out[i] & 0x7fffu) == 0x7c00u) {
      throw Error(ErrorCode::InvalidModel, std::string("tensor '") + tensor + "' holds " +
                                               std::to_string(values[i]) + " at element " +
                                               std::to_string(i) +
                                               ", beyond fp16's range; load it with Dtype::BF16");
    }
  }
  return out;
}

}  // namespace nowrec::encoder
