// LayerNorm kernels: one warp per token row, statistics in fp32 with a two-pass variance so that
// fp16 activations lose nothing to cancellation. Rows of up to 1024 values (a multiple of 4) are
// read once, 4 values per load, and held in registers; longer or odd rows are read per value.
#include "cuda/half_math.cuh"
#include "cuda/layer_norm.cuh"

namespace nowrec::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;

// Normalises the row that `value(c)` yields and writes it through `store(c, v)`. Every lane
// reads each of its columns three times; rows are small enough to stay in L1.
template <typename Value, typename Store>
__device__ __forceinline__ void normalize_row(int hidden, float eps, const float* gamma,
                                              const float* beta, Value value, Store store) {
  const int lane = threadIdx.x % 32;
  float sum = 0.0f;
  for (int c = lane; c < hidden; c += 32) sum += value(c);
  const float mean = warp_sum(sum) / hidden;
  float squares = 0.0f;
  for (int c = lane; c < hidden; c += 32) {
    const float d = value(c) - mean;
    squares += d * d;
  }
  const float inv_std = rsqrtf(warp_sum(squares) / hidden + eps);
  for (int c = lane; c < hidden; c += 32) {
    store(c, (value(c) - mean) * inv_std * gamma[c] + beta[c]);
  }
}

// Rows the register path holds: 8 groups of 4 values per lane.
constexpr int kGroupsPerLane = 8;
constexpr int kCachedMaxHidden = 32 * 4 * kGroupsPerLane;

bool cached_row(int hidden) { return hidden % 4 == 0 && hidden <= kCachedMaxHidden; }

// normalize_row for rows with cached_row(hidden): `value4(c)` yields columns c..c+3 (c a
// multiple of 4), read once; `store4(c, v)` writes them.
template <typename Value4, typename Store4>
__device__ __forceinline__ void normalize_row_cached(int hidden, float eps, const float* gamma,
                                                     const float* beta, Value4 value4,
                                                     Store4 store) {
  const int lane = threadIdx.x % 32, groups = hidden / 4;
  float4 v[kGroupsPerLane];
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kGroupsPerLane; ++i) {
    const int g = lane + 32 * i;
    v[i] = g < groups ? value4(4 * g) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    sum += v[i].x + v[i].y + v[i].z + v[i].w;
  }
  const float mean = warp_sum(sum) / hidden;
  float squares = 0.0f;
#pragma unroll
  for (int i = 0; i < kGroupsPerLane; ++i) {
    if (lane + 32 * i >= groups) continue;
    const float4 d = make_float4(v[i].x - mean, v[i].y - mean, v[i].z - mean, v[i].w - mean);
    squares += d.x * d.x + d.y * d.y + d.z * d.z + d.w * d.w;
  }
  const float inv_std = rsqrtf(warp_sum(squares) / hidden + eps);
#pragma unroll
  for (int i = 0; i < kGroupsPerLane; ++i) {
    const int g = lane + 32 * i;
    if (g >= groups) continue;
    const float4 scale = load4(gamma + 4 * g), shift = load4(beta + 4 * g);
    store(4 * g, make_float4((v[i].x - mean) * inv_std * scale.x + shift.x,
                             (v[i].y - mean) * inv_std * scale.y + shift.y,
                             (v[i].z - mean) * inv_std * scale.z + shift.z,
                             (v[i].w - mean) * inv_std * scale.w + shift.w));
  }
}

template <typename T, bool Cached>
__global__ void embedding_layer_norm_kernel(const std::int32_t* ids, const float* vectors,
                                            const std::int32_t* positions, int tokens,
                                            const T* word, const T* position, const T* token_type,
                                            const float* gamma, const float* beta, float eps,
                                            int hidden, T* out) {
  const int token = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
  if (token >= tokens) return;
  const T* p = position + static_cast<std::size_t>(positions[token]) * hidden;
  T* o = out + static_cast<std::size_t>(token) * hidden;
  if constexpr (Cached) {
    auto store = [&](int c, float4 v) { store4(o + c, v); };
    if (vectors != nullptr) {
      const float* v = vectors + static_cast<std::size_t>(token) * hidden;
      normalize_row_cached(
          hidden, eps, gamma, beta,
          [&](int c) { return add4(load4(v + c), add4(load4(p + c), load4(token_type + c))); },
          store);
    } else {
      const T* w = word + static_cast<std::size_t>(ids[token]) * hidden;
      normalize_row_cached(
          hidden, eps, gamma, beta,
          [&](int c) { return add4(load4(w + c), add4(load4(p + c), load4(token_type + c))); },
          store);
    }
    return;
  }
  auto store = [&](int c, float v) { o[c] = from_float<T>(v); };
  if (vectors != nullptr) {
    const float* v = vectors + static_cast<std::size_t>(token) * hidden;
    normalize_row(
        hidden, eps, gamma, beta,
        [&](int c) { return v[c] + to_float(p[c]) + to_float(token_type[c]); }, store);
  } else {
    const T* w = word + static_cast<std::size_t>(ids[token]) * hidden;
    normalize_row(
        hidden, eps, gamma, beta,
        [&](int c) { return to_float(w[c]) + to_float(p[c]) + to_float(token_type[c]); }, store);
  }
}

template <typename T, bool Cached>
__global__ void bias_residual_layer_norm_kernel(const T* projected, const T* bias, T* hidden_states,
                                                const float* gamma, const float* beta, float eps,
                                                int tokens, int hidden) {
  const int token = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
  if (token >= tokens) return;
  const T* y = projected + static_cast<std::size_t>(token) * hidden;
  T* x = hidden_states + static_cast<std::size_t>(token) * hidden;
  // Each lane writes only the columns it reads, and only in the last pass: in place is safe.
  if constexpr (Cached) {
    normalize_row_cached(
        hidden, eps, gamma, beta,
        [&](int c) {
          const float4 sum = add4(load4(y + c), load4(x + c));
          return bias != nullptr ? add4(sum, load4(bias + c)) : sum;
        },
        [&](int c, float4 v) { store4(x + c, v); });
    return;
  }
  normalize_row(
      hidden, eps, gamma, beta,
      [&](int c) {
        return to_float(y[c]) + to_float(x[c]) + (bias != nullptr ? to_float(bias[c]) : 0.0f);
      },
      [&](int c, float v) { x[c] = from_float<T>(v); });
}

int blocks_for(int tokens) { return (tokens + kWarpsPerBlock - 1) / kWarpsPerBlock; }

template <typename T>
void launch_embedding(const std::int32_t* ids, const float* vectors, const std::int32_t* positions,
                      int tokens, const void* word, const void* position, const void* token_type,
                      const float* gamma, const float* beta, float eps, int hidden, void* out,
                      cudaStream_t stream) {
  const dim3 grid(blocks_for(tokens)), block(32 * kWarpsPerBlock);
  auto* kernel = cached_row(hidden) ? embedding_layer_norm_kernel<T, true>
                                    : embedding_layer_norm_kernel<T, false>;
  kernel<<<grid, block, 0, stream>>>(
      ids, vectors, positions, tokens, static_cast<const T*>(word), static_cast<const T*>(position),
      static_cast<const T*>(token_type), gamma, beta, eps, hidden, static_cast<T*>(out));
}

template <typename T>
void launch_residual(const void* projected, const void* bias, void* hidden_states,
                     const float* gamma, const float* beta, float eps, int tokens, int hidden,
                     cudaStream_t stream) {
  const dim3 grid(blocks_for(tokens)), block(32 * kWarpsPerBlock);
  auto* kernel = cached_row(hidden) ? bias_residual_layer_norm_kernel<T, true>
                                    : bias_residual_layer_norm_kernel<T, false>;
  kernel<<<grid, block, 0, stream>>>(static_cast<const T*>(projected), static_cast<const T*>(bias),
                                     static_cast<T*>(hidden_states), gamma, beta, eps, tokens,
                                     hidden);
}

}  // namespace

void embedding_layer_norm(HalfType type, const std::int32_t* ids, const float* vectors,
                          const std::int32_t* positions, int tokens, const void* word,
                          const void* position, const void* token_type, const float* gamma,
                          const float* beta, float eps, int hidden, void* out,
                          cudaStream_t stream) {
  if (tokens == 0) return;
  if (type == HalfType::F16) {
    launch_embedding<__half>(ids, vectors, positions, tokens, word, position, token_type, gamma,
                             beta, eps, hidden, out, stream);
  } else {
    launch_embedding<__nv_bfloat16>(ids, vectors, positions, tokens, word, position, token_type,
                                    gamma, beta, eps, hidden, out, stream);
  }
  check_launch("embedding_layer_norm_kernel");
}

void bias_residual_layer_norm(HalfType type, const void* projected, const void* bias,
                              void* hidden_states, const float* gamma, const float* beta, float eps,
                              int tokens, int hidden, cudaStream_t stream) {
  if (tokens == 0) return;
  if (type == HalfType::F16) {
    launch_residual<__half>(projected, bias, hidden_states, gamma, beta, eps, tokens, hidden,
                            stream);
  } else {
    launch_residual<__nv_bfloat16>(projected, bias, hidden_states, gamma, beta, eps, tokens, hidden,
                                   stream);
  }
  check_launch("bias_residual_layer_norm_kernel");
}

}  // namespace nowrec::cuda
