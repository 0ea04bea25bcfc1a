// Pooling + L2 normalisation of the CUDA encoder: token rows to one fp32 row per sequence.
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

}  // namespace nowrec::cuda
