// Bias + erf GELU over a [rows][cols] matrix: a grid-stride loop over groups of W consecutive
// elements of a row (16-byte loads and stores when cols is a multiple of 8).
#include <limits>
#include <string>

#include "cuda/activation.cuh"
#include "cuda/half_math.cuh"

namespace nowrec::cuda {
namespace {

__device__ __forceinline__ float gelu_erf(float x) {
  return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

template <typename T, int W>
struct alignas(W * sizeof(T)) Group {
  T v[W];
};

// 32-bit indices: a 64-bit division per group would cost more than its GELU.
template <typename T, int W>
__global__ void bias_gelu_erf_kernel(T* x, const T* bias, int groups, int groups_per_row) {
  const int stride = gridDim.x * blockDim.x;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < groups; i += stride) {
    auto* group = reinterpret_cast<Group<T, W>*>(x) + i;
    const Group<T, W> b = reinterpret_cast<const Group<T, W>*>(bias)[i % groups_per_row];
    Group<T, W> g = *group;
    if constexpr (W % 2 == 0) {
      auto* values = reinterpret_cast<Pair<T>*>(g.v);
      const auto* biases = reinterpret_cast<const Pair<T>*>(b.v);
#pragma unroll
      for (int j = 0; j < W / 2; ++j) {
        const float2 x = to_float2(values[j]), c = to_float2(biases[j]);
        values[j] = from_float2<T>(make_float2(gelu_erf(x.x + c.x), gelu_erf(x.y + c.y)));
      }
    } else {
#pragma unroll
      for (int j = 0; j < W; ++j) {
        g.v[j] = from_float<T>(gelu_erf(to_float(g.v[j]) + to_float(b.v[j])));
      }
    }
    *group = g;
  }
}

template <typename T, int W>
void launch(void* x, const void* bias, int rows, int cols, cudaStream_t stream) {
  const long long groups = static_cast<long long>(rows) * (cols / W);
  if (groups > std::numeric_limits<int>::max()) {
    throw Error(ErrorCode::Internal, "bias_gelu_erf: " + std::to_string(rows) + " x " +
                                         std::to_string(cols) + " exceeds 32-bit indexing");
  }
  constexpr int kThreads = 256;
  // Enough blocks to fill any current GPU several times over; the loop covers the rest.
  const long long wanted = (groups + kThreads - 1) / kThreads;
  const int blocks = static_cast<int>(wanted < 8192 ? wanted : 8192);
  bias_gelu_erf_kernel<T, W><<<blocks, kThreads, 0, stream>>>(
      static_cast<T*>(x), static_cast<const T*>(bias), static_cast<int>(groups), cols / W);
}

template <typename T>
void launch_for_width(void* x, const void* bias, int rows, int cols, cudaStream_t stream) {
  if (cols % 8 == 0) {
    launch<T, 8>(x, bias, rows, cols, stream);
  } else {
    launch<T, 1>(x, bias, rows, cols, stream);
  }
}

}  // namespace

void bias_gelu_erf(HalfType type, void* x, const void* bias, int rows, int cols,
                   cudaStream_t stream) {
  if (rows == 0) return;
  if (type == HalfType::F16) {
    launch_for_width<__half>(x, bias, rows, cols, stream);
  } else {
    launch_for_width<__nv_bfloat16>(x, bias, rows, cols, stream);
  }
  check_launch("bias_gelu_erf_kernel");
}

}  // namespace nowrec::cuda
