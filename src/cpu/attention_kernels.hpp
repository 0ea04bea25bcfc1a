// Self-attention kernel of the encoder, declared once per ISA variant.
#pragma once

#include <cstddef>

namespace nowrec::cpu {

// Queries attention_head handles together, so that each key and value load feeds several FMAs.
constexpr std::size_t kAttentionQueryBlock = 4;

// Floats of scratch attention_head needs for a sequence of `length` tokens.
constexpr std::size_t attention_scratch_floats(std::size_t length, std::size_t head_dim) {
  return length * (head_dim + kAttentionQueryBlock);
}

// One head of self-attention over one sequence of `length` tokens:
//   out_i = sum_j softmax_j(scale * q_i . k_j) v_j
// q, k and v point at the head's first feature in rows `row_stride` floats apart (the fused QKV
// projection); out rows are `out_stride` apart. scratch holds attention_scratch_floats() floats
// and is private to the caller's thread. causal_attention_head is the same with query i seeing
// only keys 0..i (a decoder's mask).
#define NOWREC_DECLARE_ATTENTION_KERNELS(isa)                                                  \
  namespace isa {                                                                              \
  void attention_head(const float* q, const float* k, const float* v, std::size_t row_stride,  \
                      std::size_t length, std::size_t head_dim, float scale, float* scratch,   \
                      float* out, std::size_t out_stride) noexcept;                            \
  void causal_attention_head(const float* q, const float* k, const float* v,                   \
                             std::size_t row_stride, std::size_t length, std::size_t head_dim, \
                             float scale, float* scratch, float* out,                          \
                             std::size_t out_stride) noexcept;                                 \
  }

NOWREC_DECLARE_ATTENTION_KERNELS(scalar)
NOWREC_DECLARE_ATTENTION_KERNELS(avx2)
NOWREC_DECLARE_ATTENTION_KERNELS(avx512)

#undef NOWREC_DECLARE_ATTENTION_KERNELS

}  // namespace nowrec::cpu
