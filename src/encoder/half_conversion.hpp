// fp32 to fp16 / bf16 on the host, rounding to nearest even, for weights uploaded to the GPU.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace nowrec::encoder {

enum class HalfKind { F16, BF16 };

// IEEE binary16 bits of `value`: nearest even, overflow to infinity, NaN kept NaN.
std::uint16_t float_to_f16_bits(float value) noexcept;
// bfloat16 bits of `value` (the upper half of the float), nearest even, NaN kept NaN.
std::uint16_t float_to_bf16_bits(float value) noexcept;

// Every value converted. Throws Error(InvalidModel) naming `tensor` when a finite value
// overflows fp16 (bf16 has fp32's range).
std::vector<std::uint16_t> to_half_bits(std::span<const float> values, HalfKind kind,
                                        const char* tensor);

}  // namespace nowrec::encoder
