// Output kernels: pooling with one block per sequence, each thread a set of columns, fp32
// throughout; and the per-token copy to fp32.
#include "cuda/half_math.cuh"
#include "cuda/pooling.cuh"

namespace nowrec::cuda {
namespace {

constexpr int kThreads = 128;

template <typename T>
__global__ void __launch_bounds__(kThreads)
    pool_kernel(const T* x, const std::int32_t* offsets, int hidden, PoolingMode mode,
                bool normalize, float* out) {
  const int sequence = blockIdx.x;
  const int begin = offsets[sequence];
  const int length = offsets[sequence + 1] - begin;
  const T* rows = x + static_cast<long long>(begin) * hidden;
  float* row_out = out + static_cast<long long>(sequence) * hidden;
  float squares = 0.0f;
  for (int c = threadIdx.x; c < hidden; c += kThreads) {
    float v = 0.0f;
    if (length > 0) {
      switch (mode) {
        case PoolingMode::Mean:
        case PoolingMode::MeanSqrtLen: {
          for (int t = 0; t < length; ++t)
            v += to_float(rows[static_cast<long long>(t) * hidden + c]);
          v /= mode == PoolingMode::Mean ? static_cast<float>(length)
                                         : sqrtf(static_cast<float>(length));
          break;
        }
        case PoolingMode::Max: {
          v = -INFINITY;
          for (int t = 0; t < length; ++t) {
            v = fmaxf(v, to_float(rows[static_cast<long long>(t) * hidden + c]));
          }
          break;
        }
        case PoolingMode::Cls:
          v = to_float(rows[c]);
          break;
        case PoolingMode::LastToken:
          v = to_float(rows[static_cast<long long>(length - 1) * hidden + c]);
          break;
      }
    }
    row_out[c] = v;
    squares += v * v;
  }
  if (!normalize) return;
  // torch.nn.functional.normalize: divide by max(norm, 1e-12).
  const float norm = sqrtf(block_sum(squares));
  const float inv = 1.0f / fmaxf(norm, 1e-12f);
  // Each thread rescales only the columns it wrote.
  for (int c = threadIdx.x; c < hidden; c += kThreads) row_out[c] *= inv;
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    to_float_kernel(const T* x, long long count, float* out) {
  const long long i = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x;
  if (i < count) out[i] = to_float(x[i]);
}

}  // namespace

void pool(HalfType type, const void* x, const std::int32_t* offsets, int sequences, int hidden,
          PoolingMode mode, bool normalize, float* out, cudaStream_t stream) {
  if (sequences == 0) return;
  if (type == HalfType::F16) {
    pool_kernel<<<sequences, kThreads, 0, stream>>>(static_cast<const __half*>(x), offsets, hidden,
                                                    mode, normalize, out);
  } else {
    pool_kernel<<<sequences, kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(x), offsets,
                                                    hidden, mode, normalize, out);
  }
  check_launch("pool_kernel");
}

void token_states(HalfType type, const void* x, int tokens, int hidden, float* out,
                  cudaStream_t stream) {
  const long long count = static_cast<long long>(tokens) * hidden;
  if (count == 0) return;
  const unsigned blocks = static_cast<unsigned>((count + kThreads - 1) / kThreads);
  if (type == HalfType::F16) {
    to_float_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const __half*>(x), count, out);
  } else {
    to_float_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(x), count,
                                                     out);
  }
  check_launch("to_float_kernel");
}

}  // namespace nowrec::cuda
