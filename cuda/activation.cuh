// Activation kernels of the CUDA encoder: bias + exact (erf) GELU in place.
#pragma once

#include <cuda_runtime_api.h>

#include "cuda/cuda_check.cuh"

namespace nowrec::cuda {

// x[r][c] = gelu_erf(x[r][c] + bias[c]) for `rows` rows of `cols`. cuBLASLt's GELU epilogue is
// the tanh approximation, so models trained with erf GELU come here instead.
void bias_gelu_erf(HalfType type, void* x, const void* bias, int rows, int cols,
                   cudaStream_t stream);

}  // namespace nowrec::cuda
