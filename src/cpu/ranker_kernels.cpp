// Catalog scoring kernels of the Ranker, compiled once per ISA (see cmake/NowrecIsaKernels.cmake).
//
// The scan at batch 1 is bound by memory bandwidth, so the rows are read front to back, one after
// another, as a single sequential stream that the hardware prefetchers follow; four independent
// accumulator chains within each row hide the FMA latency. (Scoring four rows side by side, which
// saves loads of the query, reads four streams 1.5 KB apart: on a Zen 3 core that read 53-70 % of
// its bandwidth where one stream reads 75-100 %.) Templates here are in an unnamed namespace, so
// every ISA copy keeps its own.
#include "cpu/ranker_kernels.hpp"

#include <algorithm>
#include <cstdint>

#if defined(__AVX2__)
// GCC 12 reports the deliberately undefined upper halves inside its own AVX-512 conversion
// intrinsics as maybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif

namespace nowrec::cpu::NOWREC_ISA_NAMESPACE {
namespace {

float widen_one(float x) { return x; }
float widen_one(std::int8_t x) { return static_cast<float>(x); }
float widen_one(std::uint16_t x) {
  const std::uint32_t bits = static_cast<std::uint32_t>(x) << 16;
  float value;
  __builtin_memcpy(&value, &bits, sizeof value);
  return value;
}

#if defined(__AVX512F__)
using vec = __m512;
constexpr std::size_t kWidth = 16;
vec zero() { return _mm512_setzero_ps(); }
vec load(const float* p) { return _mm512_loadu_ps(p); }
vec load(const std::uint16_t* p) {
  const __m256i half = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
}
vec load(const std::int8_t* p) {
  return _mm512_cvtepi32_ps(
      _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
vec fmadd(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
float reduce(vec a) { return _mm512_reduce_add_ps(a); }
void store(float* p, vec v) { _mm512_storeu_ps(p, v); }
#elif defined(__AVX2__)
using vec = __m256;
constexpr std::size_t kWidth = 8;
vec zero() { return _mm256_setzero_ps(); }
vec load(const float* p) { return _mm256_loadu_ps(p); }
vec load(const std::uint16_t* p) {
  const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}
vec load(const std::int8_t* p) {
  return _mm256_cvtepi32_ps(
      _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
vec fmadd(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
float reduce(vec a) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}
void store(float* p, vec v) { _mm256_storeu_ps(p, v); }
#else
using vec = float;
constexpr std::size_t kWidth = 1;
vec zero() { return 0.0f; }
template <class T>
vec load(const T* p) {
  return widen_one(*p);
}
vec fmadd(vec a, vec b, vec c) { return a * b + c; }
float reduce(vec a) { return a; }
void store(float* p, vec v) { *p = v; }
#endif

// With bf16 and int8 rows the kernel consumes bytes faster than the hardware prefetcher alone
// brings them in, so it asks for the row kPrefetchRows rows further on as it goes.
constexpr std::size_t kPrefetchRows = 8;

// Asks for the lines of `ahead` that start among values [begin, end): each line once.
template <class T>
void prefetch_lines(const T* ahead, std::size_t begin, std::size_t end) {
  // fp32 rows already stream at the measured bandwidth; extra prefetches only cost there.
  if constexpr (sizeof(T) == sizeof(float)) return;
  constexpr std::size_t kLineValues = 64 / sizeof(T);
  // Into every cache level (prefetcht0): the non-temporal hint (prefetchnta) halved the bf16
  // and int8 scans on an Intel Xeon (6.5 against 12.7 GB/s on one core).
  for (std::size_t v = (begin + kLineValues - 1) / kLineValues * kLineValues; v < end;
       v += kLineValues) {
    __builtin_prefetch(ahead + v, 0, 3);
  }
}

// The dots of `Group` queries (q + j * dim) with one row, and the prefetches for the row
// kPrefetchRows further on (which may lie past the catalog's end: a prefetch never faults).
// Each query keeps the four accumulator chains of a lone query, in the same order, so its score
// is bit for bit the same whatever queries share its call; the row's values are loaded and
// widened once for all of them, and each query load feeds one FMA instead of each row load.
template <std::size_t Group, class T>
[[gnu::always_inline]] inline void dot_row(const float* q, std::size_t dim, const T* row,
                                           float (&sums)[Group]) {
  constexpr std::size_t kStep = 4 * kWidth;
  const T* ahead = row + kPrefetchRows * dim;
  vec acc[Group][4];
  for (auto& chains : acc) {
    for (vec& chain : chains) chain = zero();
  }
  std::size_t i = 0;
  for (; i + kStep <= dim; i += kStep) {
    prefetch_lines(ahead, i, i + kStep);
    for (std::size_t u = 0; u < 4; ++u) {
      const vec values = load(row + i + u * kWidth);
      for (std::size_t j = 0; j < Group; ++j) {
        acc[j][u] = fmadd(load(q + j * dim + i + u * kWidth), values, acc[j][u]);
      }
    }
  }
  prefetch_lines(ahead, i, dim);
  for (; i + kWidth <= dim; i += kWidth) {
    const vec values = load(row + i);
    for (std::size_t j = 0; j < Group; ++j)
      acc[j][0] = fmadd(load(q + j * dim + i), values, acc[j][0]);
  }
  for (std::size_t j = 0; j < Group; ++j) {
    sums[j] = (reduce(acc[j][0]) + reduce(acc[j][1])) + (reduce(acc[j][2]) + reduce(acc[j][3]));
  }
  // The last values one query at a time, in the loop a lone query runs. This file is built with
  // -ffp-contract=off (src/CMakeLists.txt), so each product is rounded before it is added,
  // however the compiler vectorises or inlines the loop for each group size.
  for (std::size_t j = 0; j < Group; ++j) {
    float sum = sums[j];
    for (std::size_t k = i; k < dim; ++k) sum += q[j * dim + k] * widen_one(row[k]);
    sums[j] = sum;
  }
}

// Queries scored together against each row: as many as keep their accumulators (four per
// query) in registers beside the row's values, 16 vector registers with AVX2, 32 with AVX-512.
// The scalar copy scores one at a time: with groups, GCC spread its accumulators over SSE
// registers and the stack, and fp32 ran 1.8x slower.
#if defined(__AVX512F__)
constexpr std::size_t kMaxGroup = 4;
#elif defined(__AVX2__)
constexpr std::size_t kMaxGroup = 3;
#else
constexpr std::size_t kMaxGroup = 1;
#endif
static_assert(kMaxGroup >= 1 && kMaxGroup <= 4, "score_rows handles remainders of up to 3");

// Queries [first, first + Group) against every row.
template <std::size_t Group, class T>
void score_group(const float* queries, std::size_t first, const T* rows, const float* scales,
                 std::size_t row_count, std::size_t dim, float* scores) {
  const float* q = queries + first * dim;
  for (std::size_t r = 0; r < row_count; ++r) {
    float sums[Group];
    dot_row<Group>(q, dim, rows + r * dim, sums);
    for (std::size_t j = 0; j < Group; ++j) {
      scores[(first + j) * row_count + r] = scales != nullptr ? sums[j] * scales[r] : sums[j];
    }
  }
}

// Calls score.template operator()<Group>(first) for groups of queries [first, first + Group)
// that cover [0, query_count): kMaxGroup at a time, then the remainder.
template <class ScoreGroup>
void for_each_group(std::size_t query_count, ScoreGroup&& score) {
  std::size_t first = 0;
  for (; first + kMaxGroup <= query_count; first += kMaxGroup) {
    score.template operator()<kMaxGroup>(first);
  }
  switch (query_count - first) {
    case 3:
      score.template operator()<3>(first);
      break;
    case 2:
      score.template operator()<2>(first);
      break;
    case 1:
      score.template operator()<1>(first);
      break;
    default:
      break;
  }
}

template <class T>
void score_rows(const float* queries, std::size_t query_count, const T* rows, const float* scales,
                std::size_t row_count, std::size_t dim, float* scores) {
  for_each_group(query_count, [&]<std::size_t Group>(std::size_t first) {
    score_group<Group>(queries, first, rows, scales, row_count, dim, scores);
  });
}

// int8 rows against queries quantized to int16 (ranker::quantize_to_int16): each row value is
// widened to 16 bits once and multiplied by the query's with one vpmaddwd per 16 (AVX-512: 32)
// values, which add pairwise into 32-bit lanes, half the instructions per value of widening to
// float and an FMA. The products are summed as integers, exactly, so every variant, group size
// and order of summing gives the same total, and the same score, bit for bit.
#if defined(__AVX512F__)
using ivec = __m512i;
constexpr std::size_t kIntWidth = 32;
ivec int_zero() { return _mm512_setzero_si512(); }
ivec widen_to_int16(const std::int8_t* p) {
  return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
ivec multiply_add(const std::int16_t* q, ivec values, ivec sums) {
#if defined(__AVX512VNNI__)
  // The same pair sums added into the same lanes as below, in one instruction.
  return _mm512_dpwssd_epi32(sums, _mm512_loadu_si512(q), values);
#else
  return _mm512_add_epi32(sums, _mm512_madd_epi16(_mm512_loadu_si512(q), values));
#endif
}
std::int64_t total(ivec sums) {
  return _mm512_reduce_add_epi64(
      _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(sums)),
                       _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(sums, 1))));
}
#elif defined(__AVX2__)
using ivec = __m256i;
constexpr std::size_t kIntWidth = 16;
ivec int_zero() { return _mm256_setzero_si256(); }
ivec widen_to_int16(const std::int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
ivec multiply_add(const std::int16_t* q, ivec values, ivec sums) {
  return _mm256_add_epi32(
      sums, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)), values));
}
std::int64_t total(ivec sums) {
  const __m256i wide = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(sums)),
                                        _mm256_cvtepi32_epi64(_mm256_extracti128_si256(sums, 1)));
  const __m128i half =
      _mm_add_epi64(_mm256_castsi256_si128(wide), _mm256_extracti128_si256(wide, 1));
  return _mm_cvtsi128_si64(half) + _mm_extract_epi64(half, 1);
}
#else
using ivec = std::int64_t;
constexpr std::size_t kIntWidth = 1;
ivec int_zero() { return 0; }
ivec widen_to_int16(const std::int8_t* p) { return *p; }
ivec multiply_add(const std::int16_t* q, ivec values, ivec sums) {
  return sums + std::int64_t{*q} * values;
}
std::int64_t total(ivec sums) { return sums; }
#endif

// Values summed in the 32-bit lanes before the lanes are added into 64 bits: a lane takes at
// most kLaneValues / kIntWidth pair sums of magnitude <= 2 * 128 * 32767, 128 for AVX2 (1.1e9,
// inside int32's 2.1e9), so no lane overflows at any dim.
constexpr std::size_t kLaneValues = 2048;

// The exact dots of `Group` int16 queries (q + j * dim) with one int8 row, and the prefetches
// for the row kPrefetchRows further on. One sum per query: an integer add takes one cycle, and
// the next row's sums do not wait for this row's, so more chains would buy no overlap, only
// registers (with three queries and four chains each, GCC spilled sums to the stack). With
// vpdpwssd (about five cycles) one chain still measured 8-12 % faster than vpmaddwd + vpaddd.
template <std::size_t Group>
[[gnu::always_inline]] inline void dot_row_int8(const std::int16_t* q, std::size_t dim,
                                                const std::int8_t* row,
                                                std::int64_t (&totals)[Group]) {
  constexpr std::size_t kStep = 4 * kIntWidth;
  const std::int8_t* ahead = row + kPrefetchRows * dim;
  for (std::int64_t& t : totals) t = 0;
  const std::size_t vector_end = dim - dim % kIntWidth;
  std::size_t i = 0;
  while (i < vector_end) {
    const std::size_t lane_end = std::min(vector_end, i + kLaneValues);
    ivec sums[Group];
    for (ivec& sum : sums) sum = int_zero();
    for (; i + kStep <= lane_end; i += kStep) {
      prefetch_lines(ahead, i, i + kStep);
      for (std::size_t u = 0; u < 4; ++u) {
        const ivec values = widen_to_int16(row + i + u * kIntWidth);
        for (std::size_t j = 0; j < Group; ++j) {
          sums[j] = multiply_add(q + j * dim + i + u * kIntWidth, values, sums[j]);
        }
      }
    }
    prefetch_lines(ahead, i, lane_end);
    for (; i < lane_end; i += kIntWidth) {
      const ivec values = widen_to_int16(row + i);
      for (std::size_t j = 0; j < Group; ++j) {
        sums[j] = multiply_add(q + j * dim + i, values, sums[j]);
      }
    }
    for (std::size_t j = 0; j < Group; ++j) totals[j] += total(sums[j]);
  }
  prefetch_lines(ahead, vector_end, dim);
  for (std::size_t j = 0; j < Group; ++j) {
    for (std::size_t k = vector_end; k < dim; ++k) {
      totals[j] += std::int64_t{q[j * dim + k]} * std::int64_t{row[k]};
    }
  }
}

}  // namespace

void score_rows_f32(const float* queries, std::size_t query_count, const float* rows,
                    std::size_t row_count, std::size_t dim, float* scores) noexcept {
  score_rows(queries, query_count, rows, nullptr, row_count, dim, scores);
}

void score_rows_bf16(const float* queries, std::size_t query_count, const std::uint16_t* rows,
                     std::size_t row_count, std::size_t dim, float* scores) noexcept {
  score_rows(queries, query_count, rows, nullptr, row_count, dim, scores);
}

void score_rows_int8(const std::int16_t* queries, const float* query_scales,
                     std::size_t query_count, const std::int8_t* rows, const float* row_scales,
                     std::size_t row_count, std::size_t dim, float* scores) noexcept {
  for_each_group(query_count, [&]<std::size_t Group>(std::size_t first) {
    const std::int16_t* q = queries + first * dim;
    for (std::size_t r = 0; r < row_count; ++r) {
      std::int64_t totals[Group];
      dot_row_int8<Group>(q, dim, rows + r * dim, totals);
      for (std::size_t j = 0; j < Group; ++j) {
        scores[(first + j) * row_count + r] =
            static_cast<float>(totals[j]) * query_scales[first + j] * row_scales[r];
      }
    }
  });
}

void widen_bf16(const std::uint16_t* in, std::size_t n, float* out) noexcept {
  const std::size_t vector_end = n - n % kWidth;
  for (std::size_t i = 0; i < vector_end; i += kWidth) store(out + i, load(in + i));
  for (std::size_t i = vector_end; i < n; ++i) out[i] = widen_one(in[i]);
}

void widen_int8(const std::int8_t* in, float scale, std::size_t n, float* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = scale * widen_one(in[i]);
}

std::uint64_t scores_at_least(const float* scores, std::size_t n, float threshold) noexcept {
  std::uint64_t mask = 0;
  std::size_t i = 0;
  // _CMP_GE_OQ: false for a NaN, as the scalar >= below.
#if defined(__AVX512F__)
  const __m512 bound = _mm512_set1_ps(threshold);
  for (; i + 16 <= n; i += 16) {
    mask |= std::uint64_t{_mm512_cmp_ps_mask(_mm512_loadu_ps(scores + i), bound, _CMP_GE_OQ)} << i;
  }
#elif defined(__AVX2__)
  const __m256 bound = _mm256_set1_ps(threshold);
  for (; i + 8 <= n; i += 8) {
    const int bits =
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(scores + i), bound, _CMP_GE_OQ));
    mask |= std::uint64_t(static_cast<unsigned>(bits)) << i;
  }
#endif
  for (; i < n; ++i) mask |= std::uint64_t{scores[i] >= threshold} << i;
  return mask;
}

#if defined(__AVX512BF16__)
namespace {

__m512 dp_step(__m512 acc, __m512i q, __m512i x) {
  return _mm512_dpbf16_ps(acc, reinterpret_cast<__m512bh&>(q), reinterpret_cast<__m512bh&>(x));
}

__m512i load_bf16_block(const std::uint16_t* p, std::size_t n) {
  if (n >= 32) return _mm512_loadu_si512(p);
  return _mm512_maskz_loadu_epi16(static_cast<__mmask32>((1ull << n) - 1u), p);
}

}  // namespace

void score_rows_bf16_dp(const std::uint16_t* split_queries, std::size_t query_count,
                        const std::uint16_t* rows, std::size_t row_count, std::size_t dim,
                        float* scores) noexcept {
  for (std::size_t qi = 0; qi < query_count; ++qi) {
    const std::uint16_t* hi = split_queries + qi * 2 * dim;
    const std::uint16_t* lo = hi + dim;
    float* out = scores + qi * row_count;
    std::size_t r = 0;
    for (; r + 4 <= row_count; r += 4) {
      const std::uint16_t* r0 = rows + r * dim;
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      const std::uint16_t* ahead = r0 + kPrefetchRows * dim;
      for (std::size_t i = 0; i < dim; i += 32) {
        for (std::size_t k = 0; k < 4; ++k) prefetch_lines(ahead + k * dim, i, i + 32);
        const std::size_t n = dim - i;
        const __m512i qh = load_bf16_block(hi + i, n), ql = load_bf16_block(lo + i, n);
        const __m512i x0 = load_bf16_block(r0 + i, n), x1 = load_bf16_block(r0 + dim + i, n);
        const __m512i x2 = load_bf16_block(r0 + 2 * dim + i, n);
        const __m512i x3 = load_bf16_block(r0 + 3 * dim + i, n);
        a0 = dp_step(dp_step(a0, qh, x0), ql, x0);
        a1 = dp_step(dp_step(a1, qh, x1), ql, x1);
        a2 = dp_step(dp_step(a2, qh, x2), ql, x2);
        a3 = dp_step(dp_step(a3, qh, x3), ql, x3);
      }
      out[r] = reduce(a0);
      out[r + 1] = reduce(a1);
      out[r + 2] = reduce(a2);
      out[r + 3] = reduce(a3);
    }
    for (; r < row_count; ++r) {
      const std::uint16_t* x = rows + r * dim;
      __m512 acc = _mm512_setzero_ps();
      for (std::size_t i = 0; i < dim; i += 32) {
        const __m512i xv = load_bf16_block(x + i, dim - i);
        acc = dp_step(dp_step(acc, load_bf16_block(hi + i, dim - i), xv),
                      load_bf16_block(lo + i, dim - i), xv);
      }
      out[r] = reduce(acc);
    }
  }
}
#endif

}  // namespace nowrec::cpu::NOWREC_ISA_NAMESPACE
