// Bias + erf GELU over a [rows][cols] matrix, a grid-stride loop over its elements.
#include "cuda/activation.cuh"
#include "cuda/half_math.cuh"

namespace nowrec::cuda {
namespace {

__device__ __forceinline__ float gelu_erf(float x) {
  return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

template <typename T>
__global__ void bias_gelu_erf_kernel(T* x, const T* bias, long long elements, int cols) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < elements;
       i += stride) {
    const int c = static_cast<int>(i % cols);
    x[i] = from_float<T>(gelu_erf(to_float(x[i]) + to_float(bias[c])));
  }
}

template <typename T>
void launch(void* x, const void* bias, int rows, int cols, cudaStream_t stream) {
  const long long elements = static_cast<long long>(rows) * cols;
  constexpr int kThreads = 256;
  // Enough blocks to fill any current GPU several times over; the loop covers the rest.
  const long long wanted = (elements + kThreads - 1) / kThreads;
  const int blocks = static_cast<int>(wanted < 8192 ? wanted : 8192);
  bias_gelu_erf_kernel<<<blocks, kThreads, 0, stream>>>(
      static_cast<T*>(x), static_cast<const T*>(bias), elements, cols);
}

}  // namespace

void bias_gelu_erf(HalfType type, void* x, const void* bias, int rows, int cols,
                   cudaStream_t stream) {
  if (rows == 0) return;
  if (type == HalfType::F16) {
    launch<__half>(x, bias, rows, cols, stream);
  } else {
    launch<__nv_bfloat16>(x, bias, rows, cols, stream);
  }
  check_launch("bias_gelu_erf_kernel");
}

}  // namespace nowrec::cuda
