// Flash-style attention over packed variable-length sequences: one block per (query tile, head),
// one thread per query, keys and values staged through shared memory 64 at a time, and the
// softmax kept online (running maximum and sum) so scores never leave registers.
#include <cmath>

#include "cuda/attention.cuh"
#include "cuda/half_math.cuh"

namespace nowrec::cuda {
namespace {

constexpr int kQueries = static_cast<int>(encoder::kAttentionQueryTile);  // threads per block
constexpr int kKeys = 64;                                                 // keys staged per pass
constexpr int kKeyChunk = 16;  // scores held in registers at once

template <typename T, int HeadDim>
__global__ void __launch_bounds__(kQueries)
    attention_kernel(const T* qkv, const encoder::AttentionTile* tiles, int hidden,
                     float scale_log2, bool causal, T* context) {
  const encoder::AttentionTile tile = tiles[blockIdx.x];
  if (tile.sequence_length == 0) return;  // a padding tile of a graph bucket
  const int head = blockIdx.y;
  const int stride = 3 * hidden;
  const T* base = qkv + static_cast<long long>(tile.sequence_begin) * stride + head * HeadDim;
  const int query = tile.query_begin + threadIdx.x;
  const bool active = query < tile.sequence_length;

  float q[HeadDim];
  float acc[HeadDim];
  for (int d = 0; d < HeadDim; ++d) {
    // exp2 of scores scaled by log2(e) is exp of the scores, and cheaper.
    q[d] = active ? to_float(base[static_cast<long long>(query) * stride + d]) * scale_log2 : 0.0f;
    acc[d] = 0.0f;
  }
  float running_max = -INFINITY, running_sum = 0.0f;

  __shared__ float keys[kKeys][HeadDim];
  __shared__ float values[kKeys][HeadDim];
  // Causal: no query of this tile sees a key past the tile's last query.
  const int key_end =
      causal ? min(tile.sequence_length, tile.query_begin + kQueries) : tile.sequence_length;
  // This thread's last visible key + 1 (key 0 is always visible, so every softmax is finite).
  const int visible_end = causal ? query + 1 : key_end;
  for (int key_begin = 0; key_begin < key_end; key_begin += kKeys) {
    const int count = min(kKeys, key_end - key_begin);
    __syncthreads();  // the previous pass is done with the staged keys
    for (int i = threadIdx.x; i < count * HeadDim; i += kQueries) {
      const int row = i / HeadDim, d = i % HeadDim;
      const T* token = base + static_cast<long long>(key_begin + row) * stride;
      keys[row][d] = to_float(token[hidden + d]);
      values[row][d] = to_float(token[2 * hidden + d]);
    }
    __syncthreads();
    if (!active) continue;
    // Keys this thread sees in the staged pass.
    const int visible = min(count, visible_end - key_begin);
    for (int chunk = 0; chunk < visible; chunk += kKeyChunk) {
      float scores[kKeyChunk];
      float chunk_max = -INFINITY;
#pragma unroll
      for (int j = 0; j < kKeyChunk; ++j) {
        float s = -INFINITY;
        if (chunk + j < visible) {
          s = 0.0f;
#pragma unroll
          for (int d = 0; d < HeadDim; ++d) s += q[d] * keys[chunk + j][d];
        }
        scores[j] = s;
        chunk_max = fmaxf(chunk_max, s);
      }
      // chunk_max is finite: every chunk starts at a visible key.
      const float new_max = fmaxf(running_max, chunk_max);
      const float correction = exp2f(running_max - new_max);
      running_sum *= correction;
#pragma unroll
      for (int d = 0; d < HeadDim; ++d) acc[d] *= correction;
#pragma unroll
      for (int j = 0; j < kKeyChunk; ++j) {
        if (chunk + j >= visible) break;
        const float p = exp2f(scores[j] - new_max);
        running_sum += p;
#pragma unroll
        for (int d = 0; d < HeadDim; ++d) acc[d] += p * values[chunk + j][d];
      }
      running_max = new_max;
    }
  }
  if (!active) return;
  const float inv_sum = 1.0f / running_sum;
  T* out = context + static_cast<long long>(tile.sequence_begin + query) * hidden + head * HeadDim;
  for (int d = 0; d < HeadDim; ++d) out[d] = from_float<T>(acc[d] * inv_sum);
}

template <typename T, int HeadDim>
void launch(const void* qkv, const encoder::AttentionTile* tiles, int tiles_count, int heads,
            bool causal, void* context, cudaStream_t stream) {
  const float scale_log2 = 1.4426950408889634f / std::sqrt(static_cast<float>(HeadDim));
  const dim3 grid(tiles_count, heads);
  attention_kernel<T, HeadDim><<<grid, kQueries, 0, stream>>>(static_cast<const T*>(qkv), tiles,
                                                              heads * HeadDim, scale_log2, causal,
                                                              static_cast<T*>(context));
}

template <typename T>
void launch_for_head_dim(int head_dim, const void* qkv, const encoder::AttentionTile* tiles,
                         int tiles_count, int heads, bool causal, void* context,
                         cudaStream_t stream) {
  if (head_dim == 32) {
    launch<T, 32>(qkv, tiles, tiles_count, heads, causal, context, stream);
  } else {
    launch<T, 64>(qkv, tiles, tiles_count, heads, causal, context, stream);
  }
}

}  // namespace

bool attention_supports_head_dim(int head_dim) noexcept { return head_dim == 32 || head_dim == 64; }

void attention(HalfType type, const void* qkv, const encoder::AttentionTile* tiles, int tiles_count,
               int heads, int head_dim, bool causal, void* context, cudaStream_t stream) {
  if (tiles_count == 0) return;
  if (!attention_supports_head_dim(head_dim)) {
    throw Error(ErrorCode::Unsupported,
                "CUDA attention: head size " + std::to_string(head_dim) + " (supported: 32, 64)");
  }
  if (type == HalfType::F16) {
    launch_for_head_dim<__half>(head_dim, qkv, tiles, tiles_count, heads, causal, context, stream);
  } else {
    launch_for_head_dim<__nv_bfloat16>(head_dim, qkv, tiles, tiles_count, heads, causal, context,
                                       stream);
  }
  check_launch("attention_kernel");
}

}  // namespace nowrec::cuda
