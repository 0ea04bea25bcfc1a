// bfloat16 state kernels, compiled once per ISA (see cmake/NowrecIsaKernels.cmake), and once more
// for AVX512_BF16. The scalar variant is the reference; the others agree with it within fp32
// rounding of the sums (their fused multiply-adds round once where the scalar code rounds twice),
// and the AVX512_BF16 one up to the subnormals it stores as zero.
//
// Built with different -m flags per copy: only intrinsics and plain loops, no shared inline or
// template code (see vector_kernels.cpp).
#include "cpu/bf16_state_kernels.hpp"

#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace nowrec::cpu::NOWREC_ISA_NAMESPACE {
namespace {

float widen(std::uint16_t bits) noexcept {
  const std::uint32_t u = static_cast<std::uint32_t>(bits) << 16;
  float x;
  std::memcpy(&x, &u, sizeof(x));
  return x;
}

// Round to nearest even (finite inputs, so the NaN case never arises).
std::uint16_t narrow(float x) noexcept {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof(u));
#if defined(__AVX512BF16__)
  // As the vector stores of this variant round: a subnormal input becomes a zero of its sign.
  if ((u & 0x7F800000u) == 0) return static_cast<std::uint16_t>((u >> 16) & 0x8000u);
#endif
  return static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

#if defined(__AVX512F__)
__m512 widen16(const std::uint16_t* p) noexcept {
  const __m256i half = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
}
#if defined(__AVX512BF16__)
// One instruction rounds sixteen floats to nearest even; it reads subnormal inputs as zeros of
// their sign, even those just below 2^-126 that would round up to it.
void narrow16(__m512 x, std::uint16_t* p) noexcept {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), (__m256i)_mm512_cvtneps_pbh(x));
}
#else
void narrow16(__m512 x, std::uint16_t* p) noexcept {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i rounded =
      _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), odd), 16);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi32_epi16(rounded));
}
#endif
#elif defined(__AVX2__)
__m256 widen8(const std::uint16_t* p) noexcept {
  const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}
// Eight floats rounded to bfloat16 (to nearest even), each in the low half of its 32-bit lane.
__m256i round_to_bf16(__m256 x) noexcept {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  return _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), odd),
                           16);
}
void narrow8(__m256 x, std::uint16_t* p) noexcept {
  const __m256i rounded = round_to_bf16(x);
  // Pack the eight 32-bit values (each below 2^16) into eight 16-bit ones.
  const __m128i packed =
      _mm_packus_epi32(_mm256_castsi256_si128(rounded), _mm256_extracti128_si256(rounded, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), packed);
}
// Sixteen values at a time, in the order that unpacking and packing keep within each 128-bit
// lane: `low` holds elements 0-3 and 8-11, `high` 4-7 and 12-15. Sixteen bf16 values widen with
// one unpack per eight (instead of a widening move and a shift) and narrow with one pack per
// sixteen (instead of an extract and a pack per eight); floats that meet them are read in the
// same order. The arithmetic is elementwise, so each value comes out as the eight-wide code gives
// it.
struct Lanes {
  __m256 low, high;
};
Lanes widen16_lanes(const std::uint16_t* p) noexcept {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i zero = _mm256_setzero_si256();
  return {_mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, v)),
          _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, v))};
}
Lanes load16_lanes(const float* x) noexcept {
  const __m256 first = _mm256_loadu_ps(x), second = _mm256_loadu_ps(x + 8);
  return {_mm256_permute2f128_ps(first, second, 0x20), _mm256_permute2f128_ps(first, second, 0x31)};
}
void narrow16_lanes(__m256 low, __m256 high, std::uint16_t* p) noexcept {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm256_packus_epi32(round_to_bf16(low), round_to_bf16(high)));
}
float horizontal_sum(__m256 v) noexcept {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}
#endif

}  // namespace

float dot_bf16(const std::uint16_t* stored, const float* x, std::size_t n) noexcept {
  std::size_t i = 0;
  float sum = 0.0f;
#if defined(__AVX512F__)
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(widen16(stored + i), _mm512_loadu_ps(x + i), acc0);
    acc1 = _mm512_fmadd_ps(widen16(stored + i + 16), _mm512_loadu_ps(x + i + 16), acc1);
  }
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm512_fmadd_ps(widen16(stored + i), _mm512_loadu_ps(x + i), acc0);
  }
  sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
#elif defined(__AVX2__)
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(widen8(stored + i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(widen8(stored + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) {
    acc0 = _mm256_fmadd_ps(widen8(stored + i), _mm256_loadu_ps(x + i), acc0);
  }
  sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
#endif
  for (; i < n; ++i) sum += widen(stored[i]) * x[i];
  return sum;
}

float squared_norm_bf16(const std::uint16_t* stored, std::size_t n) noexcept {
  std::size_t i = 0;
  float sum = 0.0f;
#if defined(__AVX512F__)
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  for (; i + 32 <= n; i += 32) {
    const __m512 a = widen16(stored + i), b = widen16(stored + i + 16);
    acc0 = _mm512_fmadd_ps(a, a, acc0);
    acc1 = _mm512_fmadd_ps(b, b, acc1);
  }
  for (; i + 16 <= n; i += 16) {
    const __m512 a = widen16(stored + i);
    acc0 = _mm512_fmadd_ps(a, a, acc0);
  }
  sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
#elif defined(__AVX2__)
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    const __m256 a = widen8(stored + i), b = widen8(stored + i + 8);
    acc0 = _mm256_fmadd_ps(a, a, acc0);
    acc1 = _mm256_fmadd_ps(b, b, acc1);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 a = widen8(stored + i);
    acc0 = _mm256_fmadd_ps(a, a, acc0);
  }
  sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
#endif
  for (; i < n; ++i) sum += widen(stored[i]) * widen(stored[i]);
  return sum;
}

// The squared norm is summed from the values as stored (rounded), while they are in registers,
// so the caller needs no second pass.
float axpy_bf16(float alpha, const float* x, std::uint16_t* stored, std::size_t n) noexcept {
  std::size_t i = 0;
  float sum = 0.0f;
#if defined(__AVX512F__)
  const __m512 a = _mm512_set1_ps(alpha);
  __m512 norm = _mm512_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    narrow16(_mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), widen16(stored + i)), stored + i);
    const __m512 rounded = widen16(stored + i);
    norm = _mm512_fmadd_ps(rounded, rounded, norm);
  }
  sum = _mm512_reduce_add_ps(norm);
#elif defined(__AVX2__)
  const __m256 a = _mm256_set1_ps(alpha);
  __m256 norm = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    narrow8(_mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), widen8(stored + i)), stored + i);
    const __m256 rounded = widen8(stored + i);
    norm = _mm256_fmadd_ps(rounded, rounded, norm);
  }
  sum = horizontal_sum(norm);
#endif
  for (; i < n; ++i) {
    stored[i] = narrow(widen(stored[i]) + alpha * x[i]);
    sum += widen(stored[i]) * widen(stored[i]);
  }
  return sum;
}

// A group's decay folded into its values: one product and one rounding per value, so every
// variant stores what the scalar code stores (but for the avx512_bf16_vnni variant's subnormal
// zeros). The squared norm is summed from the values as stored, as in axpy_bf16.
float scale_squared_norm_bf16(float s, std::uint16_t* stored, std::size_t n) noexcept {
  std::size_t i = 0;
  float sum = 0.0f;
#if defined(__AVX512F__)
  const __m512 factor = _mm512_set1_ps(s);
  __m512 norm = _mm512_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    narrow16(_mm512_mul_ps(factor, widen16(stored + i)), stored + i);
    const __m512 rounded = widen16(stored + i);
    norm = _mm512_fmadd_ps(rounded, rounded, norm);
  }
  sum = _mm512_reduce_add_ps(norm);
#elif defined(__AVX2__)
  const __m256 factor = _mm256_set1_ps(s);
  __m256 norm = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    const Lanes values = widen16_lanes(stored + i);
    narrow16_lanes(_mm256_mul_ps(factor, values.low), _mm256_mul_ps(factor, values.high),
                   stored + i);
    const Lanes rounded = widen16_lanes(stored + i);
    norm = _mm256_fmadd_ps(rounded.low, rounded.low, norm);
    norm = _mm256_fmadd_ps(rounded.high, rounded.high, norm);
  }
  for (; i + 8 <= n; i += 8) {
    narrow8(_mm256_mul_ps(factor, widen8(stored + i)), stored + i);
    const __m256 rounded = widen8(stored + i);
    norm = _mm256_fmadd_ps(rounded, rounded, norm);
  }
  sum = horizontal_sum(norm);
#endif
  for (; i < n; ++i) {
    stored[i] = narrow(widen(stored[i]) * s);
    sum += widen(stored[i]) * widen(stored[i]);
  }
  return sum;
}

// Two vectors moved by the same x (a user's short- and long-term vectors): x is read once.
void axpy_pair_bf16(float alpha_a, float alpha_b, const float* x, std::uint16_t* a,
                    std::uint16_t* b, std::size_t n) noexcept {
  std::size_t i = 0;
#if defined(__AVX512F__)
  const __m512 va = _mm512_set1_ps(alpha_a), vb = _mm512_set1_ps(alpha_b);
  for (; i + 16 <= n; i += 16) {
    const __m512 xi = _mm512_loadu_ps(x + i);
    narrow16(_mm512_fmadd_ps(va, xi, widen16(a + i)), a + i);
    narrow16(_mm512_fmadd_ps(vb, xi, widen16(b + i)), b + i);
  }
#elif defined(__AVX2__)
  const __m256 va = _mm256_set1_ps(alpha_a), vb = _mm256_set1_ps(alpha_b);
  for (; i + 16 <= n; i += 16) {
    const Lanes xi = load16_lanes(x + i), ai = widen16_lanes(a + i), bi = widen16_lanes(b + i);
    narrow16_lanes(_mm256_fmadd_ps(va, xi.low, ai.low), _mm256_fmadd_ps(va, xi.high, ai.high),
                   a + i);
    narrow16_lanes(_mm256_fmadd_ps(vb, xi.low, bi.low), _mm256_fmadd_ps(vb, xi.high, bi.high),
                   b + i);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 xi = _mm256_loadu_ps(x + i);
    narrow8(_mm256_fmadd_ps(va, xi, widen8(a + i)), a + i);
    narrow8(_mm256_fmadd_ps(vb, xi, widen8(b + i)), b + i);
  }
#endif
  for (; i < n; ++i) {
    a[i] = narrow(widen(a[i]) + alpha_a * x[i]);
    b[i] = narrow(widen(b[i]) + alpha_b * x[i]);
  }
}

// Four rows at a time share each load of x.
void dots_bf16(const std::uint16_t* stored, std::size_t stride, std::size_t count, const float* x,
               std::size_t n, float* out) noexcept {
  std::size_t row = 0;
#if defined(__AVX512F__) || defined(__AVX2__)
  for (; row + 4 <= count; row += 4) {
    const std::uint16_t* r0 = stored + row * stride;
    const std::uint16_t* r1 = r0 + stride;
    const std::uint16_t* r2 = r1 + stride;
    const std::uint16_t* r3 = r2 + stride;
    std::size_t i = 0;
#if defined(__AVX512F__)
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(),
           s3 = _mm512_setzero_ps();
    for (; i + 16 <= n; i += 16) {
      const __m512 xi = _mm512_loadu_ps(x + i);
      s0 = _mm512_fmadd_ps(widen16(r0 + i), xi, s0);
      s1 = _mm512_fmadd_ps(widen16(r1 + i), xi, s1);
      s2 = _mm512_fmadd_ps(widen16(r2 + i), xi, s2);
      s3 = _mm512_fmadd_ps(widen16(r3 + i), xi, s3);
    }
    float sums[4] = {_mm512_reduce_add_ps(s0), _mm512_reduce_add_ps(s1), _mm512_reduce_add_ps(s2),
                     _mm512_reduce_add_ps(s3)};
#else
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(),
           s3 = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) {
      const __m256 xi = _mm256_loadu_ps(x + i);
      s0 = _mm256_fmadd_ps(widen8(r0 + i), xi, s0);
      s1 = _mm256_fmadd_ps(widen8(r1 + i), xi, s1);
      s2 = _mm256_fmadd_ps(widen8(r2 + i), xi, s2);
      s3 = _mm256_fmadd_ps(widen8(r3 + i), xi, s3);
    }
    float sums[4] = {horizontal_sum(s0), horizontal_sum(s1), horizontal_sum(s2),
                     horizontal_sum(s3)};
#endif
    for (; i < n; ++i) {
      sums[0] += widen(r0[i]) * x[i];
      sums[1] += widen(r1[i]) * x[i];
      sums[2] += widen(r2[i]) * x[i];
      sums[3] += widen(r3[i]) * x[i];
    }
    for (int k = 0; k < 4; ++k) out[row + k] = sums[k];
  }
#endif
  for (; row < count; ++row) out[row] = dot_bf16(stored + row * stride, x, n);
}

namespace {

// stored[i] = bf16(alpha * x[i]); with WithNorm, also sums the squares of the values as stored
// while they are in registers.
template <bool WithNorm>
float assign_impl(float alpha, const float* x, std::uint16_t* stored, std::size_t n) noexcept {
  std::size_t i = 0;
  float sum = 0.0f;
#if defined(__AVX512F__)
  const __m512 a = _mm512_set1_ps(alpha);
  __m512 norm = _mm512_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    narrow16(_mm512_mul_ps(a, _mm512_loadu_ps(x + i)), stored + i);
    if constexpr (WithNorm) {
      const __m512 rounded = widen16(stored + i);
      norm = _mm512_fmadd_ps(rounded, rounded, norm);
    }
  }
  if constexpr (WithNorm) sum = _mm512_reduce_add_ps(norm);
#elif defined(__AVX2__)
  const __m256 a = _mm256_set1_ps(alpha);
  __m256 norm = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    const Lanes xi = load16_lanes(x + i);
    narrow16_lanes(_mm256_mul_ps(a, xi.low), _mm256_mul_ps(a, xi.high), stored + i);
    if constexpr (WithNorm) {
      const Lanes rounded = widen16_lanes(stored + i);
      norm = _mm256_fmadd_ps(rounded.low, rounded.low, norm);
      norm = _mm256_fmadd_ps(rounded.high, rounded.high, norm);
    }
  }
  for (; i + 8 <= n; i += 8) {
    narrow8(_mm256_mul_ps(a, _mm256_loadu_ps(x + i)), stored + i);
    if constexpr (WithNorm) {
      const __m256 rounded = widen8(stored + i);
      norm = _mm256_fmadd_ps(rounded, rounded, norm);
    }
  }
  if constexpr (WithNorm) sum = horizontal_sum(norm);
#endif
  for (; i < n; ++i) {
    stored[i] = narrow(alpha * x[i]);
    if constexpr (WithNorm) sum += widen(stored[i]) * widen(stored[i]);
  }
  return sum;
}

}  // namespace

void assign_bf16(float alpha, const float* x, std::uint16_t* stored, std::size_t n) noexcept {
  assign_impl<false>(alpha, x, stored, n);
}

float assign_squared_norm_bf16(float alpha, const float* x, std::uint16_t* stored,
                               std::size_t n) noexcept {
  return assign_impl<true>(alpha, x, stored, n);
}

}  // namespace nowrec::cpu::NOWREC_ISA_NAMESPACE
