// Row-wise L2 normalisation on the GPU: one block per row, a shared-memory reduction.
#include <cuda_runtime.h>

#include <string>

#include "cuda/vector_ops.cuh"
#include "nowrec/error.hpp"

namespace nowrec::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void l2_normalize_rows_kernel(float* data, std::size_t cols) {
  __shared__ float partial[kThreads];
  float* row = data + blockIdx.x * cols;
  float sum = 0.0f;
  for (std::size_t i = threadIdx.x; i < cols; i += blockDim.x) sum += row[i] * row[i];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  const float norm = sqrtf(partial[0]);
  if (norm > 0.0f) {
    const float inverse = 1.0f / norm;
    for (std::size_t i = threadIdx.x; i < cols; i += blockDim.x) row[i] *= inverse;
  }
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    cudaGetLastError();
    const ErrorCode code = (status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver)
                               ? ErrorCode::DeviceUnavailable
                               : ErrorCode::Internal;
    throw Error(code, std::string(what) + ": " + cudaGetErrorString(status));
  }
}

}  // namespace

void l2_normalize_rows(const float* in, float* out, std::size_t rows, std::size_t cols) {
  if (rows == 0 || cols == 0) return;
  const std::size_t bytes = rows * cols * sizeof(float);
  float* device = nullptr;
  check(cudaMalloc(&device, bytes), "cudaMalloc");
  try {
    check(cudaMemcpy(device, in, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
    l2_normalize_rows_kernel<<<static_cast<unsigned>(rows), kThreads>>>(device, cols);
    check(cudaGetLastError(), "l2_normalize_rows_kernel launch");
    check(cudaMemcpy(out, device, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
  } catch (...) {
    cudaFree(device);
    throw;
  }
  check(cudaFree(device), "cudaFree");
}

}  // namespace nowrec::cuda
