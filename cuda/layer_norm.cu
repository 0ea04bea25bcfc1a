// LayerNorm kernels: one warp per token row, statistics in fp32 with a two-pass variance so that
// fp16 activations lose nothing to cancellation.
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

template <typename T>
__global__ void embedding_layer_norm_kernel(const std::int32_t* ids, const float* vectors,
                                            const std::int32_t* positions, int tokens,
                                            const T* word, const T* position, const T* token_type,
                                            const float* gamma, const float* beta, float eps,
                                            int hidden, T* out) {
  const int token = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
  if (token >= tokens) return;
  const T* p = position + static_cast<std::size_t>(positions[token]) * hidden;
  T* o = out + static_cast<std::size_t>(token) * hidden;
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

template <typename T>
__global__ void bias_residual_layer_norm_kernel(const T* projected, const T* bias, T* hidden_states,
                                                const float* gamma, const float* beta, float eps,
                                                int tokens, int hidden) {
  const int token = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
  if (token >= tokens) return;
  const T* y = projected + static_cast<std::size_t>(token) * hidden;
  T* x = hidden_states + static_cast<std::size_t>(token) * hidden;
  // Each lane writes only the columns it reads, and only in the last pass: in place is safe.
  normalize_row(
      hidden, eps, gamma, beta,
      [&](int c) {
        return to_float(y[c]) + to_float(x[c]) + (bias != nullptr ? to_float(bias[c]) : 0.0f);
      },
      [&](int c, float v) { x[c] = from_float<T>(v); });
}

int blocks_for(int tokens) { return (tokens + kWarpsPerBlock - 1) / kWarpsPerBlock; }

}  // namespace

void embedding_layer_norm(HalfType type, const std::int32_t* ids, const float* vectors,
                          const std::int32_t* positions, int tokens, const void* word,
                          const void* position, const void* token_type, const float* gamma,
                          const float* beta, float eps, int hidden, void* out,
                          cudaStream_t stream) {
  if (tokens == 0) return;
  const dim3 grid(blocks_for(tokens)), block(32 * kWarpsPerBlock);
  if (type == HalfType::F16) {
    embedding_layer_norm_kernel<<<grid, block, 0, stream>>>(
        ids, vectors, positions, tokens, static_cast<const __half*>(word),
        static_cast<const __half*>(position), static_cast<const __half*>(token_type), gamma, beta,
        eps, hidden, static_cast<__half*>(out));
  } else {
    embedding_layer_norm_kernel<<<grid, block, 0, stream>>>(
        ids, vectors, positions, tokens, static_cast<const __nv_bfloat16*>(word),
        static_cast<const __nv_bfloat16*>(position), static_cast<const __nv_bfloat16*>(token_type),
        gamma, beta, eps, hidden, static_cast<__nv_bfloat16*>(out));
  }
  check_launch("embedding_layer_norm_kernel");
}

void bias_residual_layer_norm(HalfType type, const void* projected, const void* bias,
                              void* hidden_states, const float* gamma, const float* beta, float eps,
                              int tokens, int hidden, cudaStream_t stream) {
  if (tokens == 0) return;
  const dim3 grid(blocks_for(tokens)), block(32 * kWarpsPerBlock);
  if (type == HalfType::F16) {
    bias_residual_layer_norm_kernel<<<grid, block, 0, stream>>>(
        static_cast<const __half*>(projected), static_cast<const __half*>(bias),
        static_cast<__half*>(hidden_states), gamma, beta, eps, tokens, hidden);
  } else {
    bias_residual_layer_norm_kernel<<<grid, block, 0, stream>>>(
        static_cast<const __nv_bfloat16*>(projected), static_cast<const __nv_bfloat16*>(bias),
        static_cast<__nv_bfloat16*>(hidden_states), gamma, beta, eps, tokens, hidden);
  }
  check_launch("bias_residual_layer_norm_kernel");
}

}  // namespace nowrec::cuda
