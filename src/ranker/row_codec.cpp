// Row encodings of the index storage types: fp32 as is, bf16 rounded to nearest even, int8 with
// a per-row scale.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "cpu/dispatch.hpp"
#include "ranker/snapshot.hpp"

namespace nowrec::ranker {

std::size_t bytes_per_value(StorageType storage) noexcept {
  switch (storage) {
    case StorageType::BF16:
      return 2;
    case StorageType::Int8:
      return 1;
    case StorageType::F32:
      break;
  }
  return 4;
}

const char* storage_name(StorageType storage) noexcept {
  switch (storage) {
    case StorageType::BF16:
      return "bf16";
    case StorageType::Int8:
      return "int8";
    case StorageType::F32:
      break;
  }
  return "f32";
}

namespace {

// A finite value that rounds beyond the largest bf16 (|x| from about 3.3961e38) becomes the
// largest finite bf16 of its sign, not infinity: a stored row or query must stay finite.
std::uint16_t to_bf16(float x) noexcept {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const bool finite = std::isfinite(x);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  const auto half = static_cast<std::uint16_t>(bits >> 16);
  if (finite && (half & 0x7F80u) == 0x7F80u) {
    return static_cast<std::uint16_t>((half & 0x8000u) | 0x7F7Fu);
  }
  return half;
}

float from_bf16(std::uint16_t half) noexcept {
  const std::uint32_t bits = std::uint32_t(half) << 16;
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

// Rounds values * levels / max |values| to integers in [-levels, levels] and hands each to
// store(i, q); returns the scale, max |values| / levels, that multiplies them back (0 for a zero
// vector; a non-finite value makes it non-finite and is stored as 0).
template <class Store>
float quantize_symmetric(const float* values, std::size_t dim, long levels, Store store) noexcept {
  float max_abs = 0.0f;
  for (std::size_t i = 0; i < dim; ++i) max_abs = std::max(max_abs, std::fabs(values[i]));
  // In double: levels / max_abs overflows a float for max_abs below about 3.7e-37 (int8), and a
  // subnormal max_abs still has a finite inverse there.
  const double inverse =
      max_abs > 0.0f && std::isfinite(max_abs) ? double(levels) / double(max_abs) : 0.0;
  for (std::size_t i = 0; i < dim; ++i) {
    const double scaled = std::isfinite(values[i]) ? double(values[i]) * inverse : 0.0;
    store(i, std::clamp(std::lround(scaled), -levels, levels));
  }
  return max_abs / static_cast<float>(levels);
}

}  // namespace

void split_to_bf16(const float* values, std::size_t dim, std::uint16_t* out) noexcept {
  // Where the high part saturates, the low part carries the difference, which is finite.
  for (std::size_t i = 0; i < dim; ++i) {
    out[i] = to_bf16(values[i]);
    out[dim + i] = to_bf16(values[i] - from_bf16(out[i]));
  }
}

float quantize_to_int16(const float* values, std::size_t dim, std::int16_t* out) noexcept {
  return quantize_symmetric(values, dim, 32767,
                            [&](std::size_t i, long q) { out[i] = static_cast<std::int16_t>(q); });
}

void encode_row(StorageType storage, const float* values, std::size_t dim, std::byte* out,
                float* scale) noexcept {
  switch (storage) {
    case StorageType::F32:
      std::memcpy(out, values, dim * sizeof(float));
      return;
    case StorageType::BF16:
      for (std::size_t i = 0; i < dim; ++i) {
        const std::uint16_t half = to_bf16(values[i]);
        std::memcpy(out + 2 * i, &half, 2);
      }
      return;
    case StorageType::Int8:
      *scale = quantize_symmetric(values, dim, 127, [&](std::size_t i, long q) {
        out[i] = static_cast<std::byte>(static_cast<std::int8_t>(q));
      });
      return;
  }
}

void prefetch_row(StorageType storage, const Segment& segment, std::size_t row,
                  std::size_t dim) noexcept {
  const std::size_t bytes = dim * bytes_per_value(storage);
  // Every cache line the row touches, from the one its first byte lies in, to the L2
  // (prefetcht1): the row is read once, by the decode right after. Against the L1 hint, the
  // tracker's batches from an ItemIndex store ran 2.5-5 % faster at a million users on two
  // threads of a Xeon (3 alternating rounds of 3).
  const auto first = reinterpret_cast<std::uintptr_t>(segment.vectors + row * bytes);
  const auto end = first + bytes;
  for (std::uintptr_t line = first & ~std::uintptr_t{63}; line < end; line += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(line), 0, 2);
  }
  if (storage == StorageType::Int8) __builtin_prefetch(segment.scales + row);
}

void decode_row(StorageType storage, const Segment& segment, std::size_t row, std::size_t dim,
                float* out) noexcept {
  const std::byte* stored = segment.vectors + row * dim * bytes_per_value(storage);
  const auto& kernels = cpu::kernels();
  switch (storage) {
    case StorageType::F32:
      std::memcpy(out, stored, dim * sizeof(float));
      return;
    case StorageType::BF16:
      kernels.widen_bf16(reinterpret_cast<const std::uint16_t*>(stored), dim, out);
      return;
    case StorageType::Int8:
      kernels.widen_int8(reinterpret_cast<const std::int8_t*>(stored), segment.scales[row], dim,
                         out);
      return;
  }
}

}  // namespace nowrec::ranker
