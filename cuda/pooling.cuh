// The CUDA encoder's outputs: pooling + L2 normalisation (token rows to one fp32 row per
// sequence), or the token rows themselves in fp32.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda/cuda_check.cuh"
#include "nowrec/pooling_mode.hpp"

namespace nowrec::cuda {

// out[s] = pool(x[offsets[s], offsets[s + 1])) for `sequences` sequences, then L2-normalised when
// `normalize`; an empty sequence gives zeros, as sentence-transformers does.
void pool(HalfType type, const void* x, const std::int32_t* offsets, int sequences, int hidden,
          PoolingMode mode, bool normalize, float* out, cudaStream_t stream);

// out[t] = x[t] in fp32 for `tokens` rows of `hidden`: per-token hidden states.
void token_states(HalfType type, const void* x, int tokens, int hidden, float* out,
                  cudaStream_t stream);

}  // namespace nowrec::cuda
