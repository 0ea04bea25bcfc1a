// LayerNorm kernels of the CUDA encoder: embedding gather + LayerNorm, bias + residual + LayerNorm.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda/cuda_check.cuh"

namespace nowrec::cuda {

// out[t] = LayerNorm(word[ids[t]] + position[positions[t]] + token_type[0]) for each of `tokens`
// tokens; tables and out are `type` rows of `hidden`, gamma and beta fp32. When `vectors` is not
// null, its fp32 rows ([tokens][hidden]) replace the word embeddings and ids is not read.
void embedding_layer_norm(HalfType type, const std::int32_t* ids, const float* vectors,
                          const std::int32_t* positions, int tokens, const void* word,
                          const void* position, const void* token_type, const float* gamma,
                          const float* beta, float eps, int hidden, void* out, cudaStream_t stream);

// hidden_states[t] = LayerNorm(projected[t] + bias + hidden_states[t]) in place; bias may be
// null when the GEMM epilogue already added it.
void bias_residual_layer_norm(HalfType type, const void* projected, const void* bias,
                              void* hidden_states, const float* gamma, const float* beta, float eps,
                              int tokens, int hidden, cudaStream_t stream);

}  // namespace nowrec::cuda
