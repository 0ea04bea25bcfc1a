// Output kernels: pooling with one block per sequence, fp32 throughout; and the per-token copy to
// fp32. Rows of up to 1024 values (a multiple of 4) are pooled by 8 warps, each over every 8th
// token with 4 columns per load, then combined in shared memory; other rows by one thread per
// column.
#include "cuda/half_math.cuh"
#include "cuda/pooling.cuh"

namespace nowrec::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kWarps = 8;  // of the split pooling kernel
constexpr int kGroupsPerLane = 8;
constexpr int kSplitMaxHidden = 32 * 4 * kGroupsPerLane;

bool split_pooling(int hidden) { return hidden % 4 == 0 && hidden <= kSplitMaxHidden; }

// The kernel for split_pooling(hidden): warp w pools tokens w, w + 8, ... (for CLS and last
// token, only that token) over its lane's column groups, the block combines the 8 partial rows.
template <typename T>
__global__ void __launch_bounds__(32 * kWarps)
    split_pool_kernel(const T* x, const std::int32_t* offsets, int hidden, PoolingMode mode,
                      bool normalize, float* out) {
  __shared__ __align__(16) float partial[kWarps][kSplitMaxHidden];
  const int sequence = blockIdx.x;
  const int begin = offsets[sequence];
  const int length = offsets[sequence + 1] - begin;
  const T* rows = x + static_cast<long long>(begin) * hidden;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, groups = hidden / 4;
  const bool max_mode = mode == PoolingMode::Max;
  int first = 0, last = length;  // tokens pooled
  if (mode == PoolingMode::Cls) last = min(length, 1);
  if (mode == PoolingMode::LastToken) first = max(length - 1, 0);
  const float start = max_mode ? -INFINITY : 0.0f;
  float4 acc[kGroupsPerLane];
#pragma unroll
  for (int i = 0; i < kGroupsPerLane; ++i) acc[i] = make_float4(start, start, start, start);
  for (int t = first + warp; t < last; t += kWarps) {
    const T* row = rows + static_cast<long long>(t) * hidden;
#pragma unroll
    for (int i = 0; i < kGroupsPerLane; ++i) {
      const int g = lane + 32 * i;
      if (g >= groups) continue;
      const float4 v = load4(row + 4 * g);
      acc[i] = max_mode ? max4(acc[i], v) : add4(acc[i], v);
    }
  }
#pragma unroll
  for (int i = 0; i < kGroupsPerLane; ++i) {
    const int g = lane + 32 * i;
    if (g < groups) *reinterpret_cast<float4*>(&partial[warp][4 * g]) = acc[i];
  }
  __syncthreads();
  float* row_out = out + static_cast<long long>(sequence) * hidden;
  float divisor = 1.0f;
  if (mode == PoolingMode::Mean) divisor = static_cast<float>(length);
  if (mode == PoolingMode::MeanSqrtLen) divisor = sqrtf(static_cast<float>(length));
  float squares = 0.0f;
  for (int c = threadIdx.x; c < hidden; c += 32 * kWarps) {
    float v = partial[0][c];
    for (int w = 1; w < kWarps; ++w) v = max_mode ? fmaxf(v, partial[w][c]) : v + partial[w][c];
    v = length > 0 ? v / divisor : 0.0f;
    row_out[c] = v;
    squares += v * v;
  }
  if (!normalize) return;
  const float inv = 1.0f / fmaxf(sqrtf(block_sum(squares)), 1e-12f);
  for (int c = threadIdx.x; c < hidden; c += 32 * kWarps) row_out[c] *= inv;
}

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

template <typename T>
void launch_pool(bool split, const void* x, const std::int32_t* offsets, int sequences, int hidden,
                 PoolingMode mode, bool normalize, float* out, cudaStream_t stream) {
  if (split) {
    split_pool_kernel<<<sequences, 32 * kWarps, 0, stream>>>(static_cast<const T*>(x), offsets,
                                                             hidden, mode, normalize, out);
  } else {
    pool_kernel<<<sequences, kThreads, 0, stream>>>(static_cast<const T*>(x), offsets, hidden, mode,
                                                    normalize, out);
  }
}

}  // namespace

void pool(HalfType type, const void* x, const std::int32_t* offsets, int sequences, int hidden,
          PoolingMode mode, bool normalize, float* out, cudaStream_t stream) {
  if (sequences == 0) return;
  const bool split = split_pooling(hidden);
  if (type == HalfType::F16) {
    launch_pool<__half>(split, x, offsets, sequences, hidden, mode, normalize, out, stream);
  } else {
    launch_pool<__nv_bfloat16>(split, x, offsets, sequences, hidden, mode, normalize, out, stream);
  }
  check_launch(split ? "split_pool_kernel" : "pool_kernel");
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
