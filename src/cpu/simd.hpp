// Vector registers and vector math (exp, erf, tanh) for kernel files compiled once per ISA.
//
// Everything here lives in nowrec::cpu::<isa>::simd, so the copies built with different -m flags
// carry different names and the linker can never hand one ISA's copy to another. Include this
// only from files listed in nowrec_add_isa_kernels().
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#ifndef NOWREC_ISA_NAMESPACE
#error "simd.hpp is only for kernel files built by nowrec_add_isa_kernels()"
#endif

namespace nowrec::cpu::NOWREC_ISA_NAMESPACE::simd {

// Cody-Waite split of ln 2 and the minimax polynomial for exp on [-ln2/2, ln2/2] (Cephes expf).
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f;
inline constexpr float kLn2Lo = -2.12194440e-4f;
inline constexpr float kExpMax = 88.3762626647949f;
// Below this 2^n leaves the normal range; the result is ~1e-38, which every caller treats as 0.
inline constexpr float kExpMin = -87.3365478515625f;

// erf on |z| < kErfSplit: z * P(z^2); above: 1 - exp(-z^2) * R(z), R fitted to erfc(z)*exp(z^2)
// on [kErfSplit, 4]. Beyond 4, erf rounds to 1 in float. Both fits are least squares on
// Chebyshev nodes; measured error is below 1.7e-7 relative (see tests/core/test_math_kernels).
inline constexpr float kErfSplit = 0.875f;
inline constexpr float kErfSaturation = 4.0f;

#if defined(__AVX512F__)

using vec = __m512;
inline constexpr std::size_t width = 16;

inline __mmask16 tail_mask(std::size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
inline vec zero() { return _mm512_setzero_ps(); }
inline vec set1(float x) { return _mm512_set1_ps(x); }
inline vec load(const float* p) { return _mm512_loadu_ps(p); }
inline void store(float* p, vec v) { _mm512_storeu_ps(p, v); }
// The first n < width lanes from p, the others `fill`.
inline vec load_partial(const float* p, std::size_t n, float fill) {
  return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), tail_mask(n), p);
}
inline void store_partial(float* p, vec v, std::size_t n) {
  _mm512_mask_storeu_ps(p, tail_mask(n), v);
}
inline vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
inline vec sub(vec a, vec b) { return _mm512_sub_ps(a, b); }
inline vec mul(vec a, vec b) { return _mm512_mul_ps(a, b); }
inline vec div(vec a, vec b) { return _mm512_div_ps(a, b); }
inline vec fmadd(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
inline vec max(vec a, vec b) { return _mm512_max_ps(a, b); }
inline vec min(vec a, vec b) { return _mm512_min_ps(a, b); }
inline vec abs(vec a) { return _mm512_abs_ps(a); }
inline float reduce_add(vec a) { return _mm512_reduce_add_ps(a); }
inline float reduce_max(vec a) { return _mm512_reduce_max_ps(a); }
// The sign of `sign` on the magnitude of `magnitude` (which must be non-negative).
inline vec copy_sign(vec magnitude, vec sign) {
  return _mm512_or_ps(magnitude, _mm512_and_ps(sign, _mm512_set1_ps(-0.0f)));
}
// a < b ? if_less : otherwise, lane by lane.
inline vec select_less(vec a, vec b, vec if_less, vec otherwise) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), otherwise, if_less);
}
inline vec round_nearest(vec a) {
  return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
// a * 2^n for integral n in the normal exponent range.
inline vec scale_by_pow2(vec a, vec n) { return _mm512_scalef_ps(a, n); }

#elif defined(__AVX2__)

using vec = __m256;
inline constexpr std::size_t width = 8;

inline __m256i tail_mask(std::size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline vec zero() { return _mm256_setzero_ps(); }
inline vec set1(float x) { return _mm256_set1_ps(x); }
inline vec load(const float* p) { return _mm256_loadu_ps(p); }
inline void store(float* p, vec v) { _mm256_storeu_ps(p, v); }
inline vec load_partial(const float* p, std::size_t n, float fill) {
  const __m256i mask = tail_mask(n);
  return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, mask),
                          _mm256_castsi256_ps(mask));
}
inline void store_partial(float* p, vec v, std::size_t n) {
  _mm256_maskstore_ps(p, tail_mask(n), v);
}
inline vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
inline vec sub(vec a, vec b) { return _mm256_sub_ps(a, b); }
inline vec mul(vec a, vec b) { return _mm256_mul_ps(a, b); }
inline vec div(vec a, vec b) { return _mm256_div_ps(a, b); }
inline vec fmadd(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
inline vec max(vec a, vec b) { return _mm256_max_ps(a, b); }
inline vec min(vec a, vec b) { return _mm256_min_ps(a, b); }
inline vec abs(vec a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
inline float reduce_add(vec a) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}
inline float reduce_max(vec a) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}
inline vec copy_sign(vec magnitude, vec sign) {
  return _mm256_or_ps(magnitude, _mm256_and_ps(sign, _mm256_set1_ps(-0.0f)));
}
inline vec select_less(vec a, vec b, vec if_less, vec otherwise) {
  return _mm256_blendv_ps(otherwise, if_less, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
}
inline vec round_nearest(vec a) {
  return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
inline vec scale_by_pow2(vec a, vec n) {
  const __m256i biased = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
  return _mm256_mul_ps(a, _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23)));
}

#else

// The scalar reference: one lane, and the C library's math functions.
using vec = float;
inline constexpr std::size_t width = 1;

inline vec zero() { return 0.0f; }
inline vec set1(float x) { return x; }
inline vec load(const float* p) { return *p; }
inline void store(float* p, vec v) { *p = v; }
inline vec load_partial(const float*, std::size_t, float fill) { return fill; }
inline void store_partial(float*, vec, std::size_t) {}
inline vec add(vec a, vec b) { return a + b; }
inline vec sub(vec a, vec b) { return a - b; }
inline vec mul(vec a, vec b) { return a * b; }
inline vec div(vec a, vec b) { return a / b; }
inline vec fmadd(vec a, vec b, vec c) { return a * b + c; }
inline vec max(vec a, vec b) { return a > b ? a : b; }
inline vec min(vec a, vec b) { return a < b ? a : b; }
inline float reduce_add(vec a) { return a; }
inline float reduce_max(vec a) { return a; }
inline vec exp(vec a) { return __builtin_expf(a); }
inline vec erf(vec a) { return __builtin_erff(a); }
inline vec tanh(vec a) { return __builtin_tanhf(a); }

#endif

// Loads/stores count <= width elements, so a row's tail can go through the same vector code as
// its body (lanes past count read as `fill`).
inline vec load_n(const float* p, std::size_t count, float fill = 0.0f) {
  return count == width ? load(p) : load_partial(p, count, fill);
}
inline void store_n(float* p, vec v, std::size_t count) {
  if (count == width) {
    store(p, v);
  } else {
    store_partial(p, v, count);
  }
}
// Elements of the step starting at i in a row of n.
inline std::size_t step_count(std::size_t i, std::size_t n) {
  return n - i < width ? n - i : width;
}

#if defined(__AVX2__)

inline vec exp(vec x) {
  x = min(max(x, set1(kExpMin)), set1(kExpMax));
  const vec n = round_nearest(mul(x, set1(kLog2e)));
  vec r = fmadd(n, set1(-kLn2Hi), x);
  r = fmadd(n, set1(-kLn2Lo), r);
  vec p = set1(1.9875691500e-4f);
  p = fmadd(p, r, set1(1.3981999507e-3f));
  p = fmadd(p, r, set1(8.3334519073e-3f));
  p = fmadd(p, r, set1(4.1665795894e-2f));
  p = fmadd(p, r, set1(1.6666665459e-1f));
  p = fmadd(p, r, set1(5.0000001201e-1f));
  const vec y = add(fmadd(mul(p, r), r, r), set1(1.0f));
  return scale_by_pow2(y, n);
}

inline vec erf(vec z) {
  const vec a = abs(z);
  const vec a2 = mul(a, a);
  vec small = set1(-6.254293213154529e-4f);
  small = fmadd(small, a2, set1(5.042351220426137e-3f));
  small = fmadd(small, a2, set1(-2.6798673553240168e-2f));
  small = fmadd(small, a2, set1(1.1282670463721897e-1f));
  small = fmadd(small, a2, set1(-3.761257457463083e-1f));
  small = fmadd(small, a2, set1(1.1283791633190943f));
  small = mul(small, a);

  const vec c = min(a, set1(kErfSaturation));
  vec tail = set1(2.089768793382534e-06f);
  tail = fmadd(tail, c, set1(-5.881453437167382e-05f));
  tail = fmadd(tail, c, set1(7.476557165679906e-04f));
  tail = fmadd(tail, c, set1(-5.690836842884906e-03f));
  tail = fmadd(tail, c, set1(2.9018607309793033e-02f));
  tail = fmadd(tail, c, set1(-1.0524611747853836e-01f));
  tail = fmadd(tail, c, set1(2.819030457471324e-01f));
  tail = fmadd(tail, c, set1(-5.726643723264787e-01f));
  tail = fmadd(tail, c, set1(8.987255245631558e-01f));
  tail = fmadd(tail, c, set1(-1.0938017075549402f));
  tail = fmadd(tail, c, set1(9.946485181557203e-01f));
  const vec large = sub(set1(1.0f), mul(tail, exp(sub(zero(), mul(c, c)))));
  return copy_sign(select_less(a, set1(kErfSplit), small, large), z);
}

// Cephes tanhf: an odd polynomial near 0, where 1 - 2/(e^2x + 1) would cancel.
inline vec tanh(vec x) {
  const vec a = abs(x);
  const vec a2 = mul(a, a);
  vec p = set1(-5.70498872745e-3f);
  p = fmadd(p, a2, set1(2.06390887954e-2f));
  p = fmadd(p, a2, set1(-5.37397155531e-2f));
  p = fmadd(p, a2, set1(1.33314422036e-1f));
  p = fmadd(p, a2, set1(-3.33332819422e-1f));
  const vec small = fmadd(mul(p, a2), a, a);
  const vec e = exp(add(a, a));
  const vec large = sub(set1(1.0f), div(set1(2.0f), add(e, set1(1.0f))));
  return copy_sign(select_less(a, set1(0.625f), small, large), x);
}

#endif

}  // namespace nowrec::cpu::NOWREC_ISA_NAMESPACE::simd
