// Layer normalisation kernels of the encoder, declared once per ISA variant.
#pragma once

#include <cstddef>

namespace nowrec::cpu {

// embedding_layer_norm: out = LayerNorm(word + position + token_type) over n features.
// bias_residual_layer_norm: out = LayerNorm(x + bias + residual); out may be x or residual.
#define NOWREC_DECLARE_LAYER_NORM_KERNELS(isa)                                                 \
  namespace isa {                                                                              \
  void embedding_layer_norm(const float* word, const float* position, const float* token_type, \
                            const float* gamma, const float* beta, float eps, float* out,      \
                            std::size_t n) noexcept;                                           \
  void bias_residual_layer_norm(const float* x, const float* bias, const float* residual,      \
                                const float* gamma, const float* beta, float eps, float* out,  \
                                std::size_t n) noexcept;                                       \
  }

NOWREC_DECLARE_LAYER_NORM_KERNELS(scalar)
NOWREC_DECLARE_LAYER_NORM_KERNELS(avx2)
NOWREC_DECLARE_LAYER_NORM_KERNELS(avx512)

#undef NOWREC_DECLARE_LAYER_NORM_KERNELS

}  // namespace nowrec::cpu
