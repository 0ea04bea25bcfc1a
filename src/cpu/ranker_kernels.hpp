// Catalog scoring kernels of the Ranker (query vectors against stored rows), declared per ISA.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nowrec::cpu {

// All score kernels write scores[q * row_count + r] = queries[q] . row r for query_count query
// vectors of dim floats and row_count rows stored back to back:
//   score_rows_f32   rows of dim floats;
//   score_rows_bf16  rows of dim bfloat16 (the high half of a float);
//   score_rows_int8  rows of dim int8 times the row's entry in `row_scales`, against queries
//                    quantized to dim int16 values times their entry in `query_scales`
//                    (ranker::quantize_to_int16); the products are summed exactly, as integers,
//                    and score = float(sum) * query_scale * row_scale.
// score_rows_bf16_dp (only in the avx512_bf16_vnni copy; null in other tables) does the bf16
// product with vdpbf16ps:
// its queries are given pre-split, each as 2 * dim bfloat16 values, the rounded query then the
// rounding remainder, so the result keeps nearly fp32 precision on the query side. widen_bf16 /
// widen_int8 turn n stored values back into floats (times `scale` for int8). scores_at_least
// returns, for n <= 64 scores, a mask whose bit i is set where scores[i] >= threshold (never for a
// NaN): the top-k selection's cheap first look at a block of scores, which leaves only the rows
// that may enter to the exact test.
#define NOWREC_DECLARE_RANKER_KERNELS(isa)                                                        \
  namespace isa {                                                                                 \
  void score_rows_f32(const float* queries, std::size_t query_count, const float* rows,           \
                      std::size_t row_count, std::size_t dim, float* scores) noexcept;            \
  void score_rows_bf16(const float* queries, std::size_t query_count, const std::uint16_t* rows,  \
                       std::size_t row_count, std::size_t dim, float* scores) noexcept;           \
  void score_rows_int8(const std::int16_t* queries, const float* query_scales,                    \
                       std::size_t query_count, const std::int8_t* rows, const float* row_scales, \
                       std::size_t row_count, std::size_t dim, float* scores) noexcept;           \
  void widen_bf16(const std::uint16_t* in, std::size_t n, float* out) noexcept;                   \
  void widen_int8(const std::int8_t* in, float scale, std::size_t n, float* out) noexcept;        \
  std::uint64_t scores_at_least(const float* scores, std::size_t n, float threshold) noexcept;    \
  }

NOWREC_DECLARE_RANKER_KERNELS(scalar)
NOWREC_DECLARE_RANKER_KERNELS(avx2)
NOWREC_DECLARE_RANKER_KERNELS(avx512)
NOWREC_DECLARE_RANKER_KERNELS(avx512_bf16_vnni)

#undef NOWREC_DECLARE_RANKER_KERNELS

#define NOWREC_DECLARE_BF16_DP_KERNEL(isa)                                                   \
  namespace isa {                                                                            \
  void score_rows_bf16_dp(const std::uint16_t* split_queries, std::size_t query_count,       \
                          const std::uint16_t* rows, std::size_t row_count, std::size_t dim, \
                          float* scores) noexcept;                                           \
  }

NOWREC_DECLARE_BF16_DP_KERNEL(avx512_bf16_vnni)

#undef NOWREC_DECLARE_BF16_DP_KERNEL

}  // namespace nowrec::cpu
