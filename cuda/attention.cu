// Flash-style attention over packed variable-length sequences on the tensor cores: one block
// per (tile of 64 queries, head), four warps of 16 queries each. Keys and values are staged 64 at
// a time through two shared-memory buffers with cp.async, the next block's copy in flight while
// the current one is used; each warp computes its 16 x 64 scores with mma.sync (fp16 or bf16
// operands, fp32 accumulation), keeps the softmax online (running maximum and sum per row) and
// multiplies the probabilities, rounded to the input type, by the staged values (read as B
// fragments with ldmatrix.trans), again with mma.sync. Scores never leave registers.
#include <cmath>
#include <cstdint>

#include "cuda/attention.cuh"
#include "cuda/half_math.cuh"

namespace nowrec::cuda {
namespace {

constexpr int kQueries = static_cast<int>(encoder::kAttentionQueryTile);  // per block
constexpr int kWarps = kQueries / 16;                                     // 16 queries each
constexpr int kThreads = 32 * kWarps;
constexpr int kKeys = 64;  // keys staged per pass
constexpr int kPad = 8;    // halves of padding per shared row: conflict-free fragment loads

// Two values as one 32-bit operand register of mma.sync (the lower column in the low half).
template <typename T>
__device__ __forceinline__ std::uint32_t pack(float lo, float hi) {
  const Pair<T> pair = from_float2<T>(make_float2(lo, hi));
  return *reinterpret_cast<const std::uint32_t*>(&pair);
}

// d += a (16 x 16, row major) * b (16 x 8, column major), fp32 accumulators.
template <typename T>
__device__ __forceinline__ void mma(float (&d)[4], const std::uint32_t (&a)[4], std::uint32_t b0,
                                    std::uint32_t b1);
template <>
__device__ __forceinline__ void mma<__half>(float (&d)[4], const std::uint32_t (&a)[4],
                                            std::uint32_t b0, std::uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void mma<__nv_bfloat16>(float (&d)[4], const std::uint32_t (&a)[4],
                                                   std::uint32_t b0, std::uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ std::uint32_t load_pair(const void* p) {
  return *static_cast<const std::uint32_t*>(p);
}

__device__ __forceinline__ unsigned shared_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// 16 bytes from global to shared memory, asynchronously; zeros when `valid` is false.
__device__ __forceinline__ void copy_async_16(void* shared, const void* global, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(shared)),
               "l"(global), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void copy_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int Pending>
__device__ __forceinline__ void copy_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
}

// Four 8 x 8 matrices of 16-bit values from shared memory, transposed: lane l names row l % 8 of
// matrix l / 8, and receives one 32-bit register per matrix.
__device__ __forceinline__ void load_matrices_transposed(const void* row, std::uint32_t (&r)[4]) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row)));
}

// Fragment layouts of mma.sync.m16n8k16 (PTX ISA): lane = 4 * group + quad. A holds rows group
// and group + 8, columns 2 quad, 2 quad + 1 (and + 8); B holds rows 2 quad, 2 quad + 1 (and + 8)
// of column group; the accumulator holds rows group and group + 8, columns 2 quad, 2 quad + 1.
template <typename T, int HeadDim>
__global__ void __launch_bounds__(kThreads)
    attention_kernel(const T* qkv, const encoder::AttentionTile* tiles, int hidden,
                     float scale_log2, bool causal, T* context) {
  constexpr int kDimSteps = HeadDim / 16;                       // k-steps of the score product
  constexpr int kKeyTiles = kKeys / 8;                          // n-tiles of the score product
  constexpr int kDimTiles = HeadDim / 8;                        // n-tiles of the output product
  __shared__ __align__(16) T keys[2][kKeys][HeadDim + kPad];    // [buffer][key][dim]
  __shared__ __align__(16) T values[2][kKeys][HeadDim + kPad];  // [buffer][key][dim]

  const encoder::AttentionTile tile = tiles[blockIdx.x];
  if (tile.sequence_length == 0) return;  // a padding tile of a graph bucket (whole block)
  const int head = blockIdx.y;
  const int stride = 3 * hidden;
  const T* base = qkv + static_cast<long long>(tile.sequence_begin) * stride + head * HeadDim;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int group = lane / 4, quad = lane % 4;
  const int row_query[2] = {tile.query_begin + warp * 16 + group,
                            tile.query_begin + warp * 16 + group + 8};
  const bool warp_active = tile.query_begin + warp * 16 < tile.sequence_length;

  // This warp's queries as A fragments, straight from memory (zeros past the sequence's end).
  std::uint32_t q[kDimSteps][4];
#pragma unroll
  for (int step = 0; step < kDimSteps; ++step) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int query = row_query[r % 2];
      const int dim = step * 16 + 2 * quad + (r / 2) * 8;
      q[step][r] = query < tile.sequence_length
                       ? load_pair(base + static_cast<long long>(query) * stride + dim)
                       : 0u;
    }
  }
  float out[kDimTiles][4];
#pragma unroll
  for (int t = 0; t < kDimTiles; ++t) out[t][0] = out[t][1] = out[t][2] = out[t][3] = 0.0f;
  float running_max[2] = {-INFINITY, -INFINITY}, running_sum[2] = {0.0f, 0.0f};

  // Causal: no query of this tile sees a key past the tile's last query.
  const int key_end =
      causal ? min(tile.sequence_length, tile.query_begin + kQueries) : tile.sequence_length;
  // Starts copying keys and values [key_begin, key_begin + 64) into `buffer`; rows past key_end
  // are zeros (a zero probability times a stale NaN would be NaN).
  const auto stage = [&](int key_begin, int buffer) {
    constexpr int kVectorsPerRow = HeadDim / 8;
    for (int i = threadIdx.x; i < kKeys * kVectorsPerRow; i += kThreads) {
      const int row = i / kVectorsPerRow, dim = (i % kVectorsPerRow) * 8;
      const bool valid = key_begin + row < key_end;
      const T* token = base + static_cast<long long>(valid ? key_begin + row : 0) * stride + dim;
      copy_async_16(&keys[buffer][row][dim], token + hidden, valid);
      copy_async_16(&values[buffer][row][dim], token + 2 * hidden, valid);
    }
    copy_async_commit();
  };
  stage(0, 0);
  for (int key_begin = 0, buffer = 0; key_begin < key_end; key_begin += kKeys, buffer ^= 1) {
    if (key_begin + kKeys < key_end) {
      stage(key_begin + kKeys, buffer ^ 1);  // its buffer was released at the last barrier
      copy_async_wait<1>();
    } else {
      copy_async_wait<0>();
    }
    __syncthreads();  // every thread's copies into `buffer` have landed
    if (warp_active) {
      float scores[kKeyTiles][4];
#pragma unroll
      for (int t = 0; t < kKeyTiles; ++t) {
        scores[t][0] = scores[t][1] = scores[t][2] = scores[t][3] = 0.0f;
#pragma unroll
        for (int step = 0; step < kDimSteps; ++step) {
          const T* key_row = &keys[buffer][t * 8 + group][step * 16 + 2 * quad];
          mma<T>(scores[t], q[step], load_pair(key_row), load_pair(key_row + 8));
        }
      }
      // Scale to log2 units, mask, and take each row's maximum over its four lanes.
      float block_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int t = 0; t < kKeyTiles; ++t) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int key = key_begin + t * 8 + 2 * quad + (e % 2);
          const int row = e / 2;
          const bool visible = key < key_end && (!causal || key <= row_query[row]);
          scores[t][e] = visible ? scores[t][e] * scale_log2 : -INFINITY;
          block_max[row] = fmaxf(block_max[row], scores[t][e]);
        }
      }
      float correction[2];
#pragma unroll
      for (int row = 0; row < 2; ++row) {
        block_max[row] = fmaxf(block_max[row], __shfl_xor_sync(0xffffffffu, block_max[row], 1));
        block_max[row] = fmaxf(block_max[row], __shfl_xor_sync(0xffffffffu, block_max[row], 2));
        const float new_max = fmaxf(running_max[row], block_max[row]);
        // A row with no visible key yet keeps a zero sum: subtract 0, not -inf, to avoid NaN.
        const float base_max = new_max == -INFINITY ? 0.0f : new_max;
        correction[row] = exp2f(running_max[row] - base_max);
        running_max[row] = new_max;
        running_sum[row] *= correction[row];
#pragma unroll
        for (int t = 0; t < kKeyTiles; ++t) {
          scores[t][2 * row] = exp2f(scores[t][2 * row] - base_max);
          scores[t][2 * row + 1] = exp2f(scores[t][2 * row + 1] - base_max);
          running_sum[row] += scores[t][2 * row] + scores[t][2 * row + 1];
        }
      }
#pragma unroll
      for (int t = 0; t < kDimTiles; ++t) {
        out[t][0] *= correction[0];
        out[t][1] *= correction[0];
        out[t][2] *= correction[1];
        out[t][3] *= correction[1];
      }
      // out += P V: two score n-tiles (16 keys) form one A fragment.
#pragma unroll
      for (int chunk = 0; chunk < kKeys / 16; ++chunk) {
        const std::uint32_t p[4] = {pack<T>(scores[2 * chunk][0], scores[2 * chunk][1]),
                                    pack<T>(scores[2 * chunk][2], scores[2 * chunk][3]),
                                    pack<T>(scores[2 * chunk + 1][0], scores[2 * chunk + 1][1]),
                                    pack<T>(scores[2 * chunk + 1][2], scores[2 * chunk + 1][3])};
#pragma unroll
        for (int t = 0; t < kDimTiles; t += 2) {
          // Matrices: keys +0..7 and +8..15 of dim tile t, then of dim tile t + 1.
          const int matrix = lane / 8;
          const T* row =
              &values[buffer][chunk * 16 + (matrix % 2) * 8 + lane % 8][(t + matrix / 2) * 8];
          std::uint32_t b[4];
          load_matrices_transposed(row, b);
          mma<T>(out[t], p, b[0], b[1]);
          mma<T>(out[t + 1], p, b[2], b[3]);
        }
      }
    }
    __syncthreads();  // every warp is done with `buffer` before it is staged again
  }
  if (!warp_active) return;
#pragma unroll
  for (int row = 0; row < 2; ++row) {
    float sum = running_sum[row];
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
    const int query = row_query[row];
    if (query >= tile.sequence_length) continue;
    const float inv_sum = 1.0f / sum;
    T* row_out =
        context + static_cast<long long>(tile.sequence_begin + query) * hidden + head * HeadDim;
#pragma unroll
    for (int t = 0; t < kDimTiles; ++t) {
      *reinterpret_cast<std::uint32_t*>(row_out + t * 8 + 2 * quad) =
          pack<T>(out[t][2 * row] * inv_sum, out[t][2 * row + 1] * inv_sum);
    }
  }
}

template <typename T, int HeadDim>
void launch(const void* qkv, const encoder::AttentionTile* tiles, int tiles_count, int heads,
            bool causal, void* context, cudaStream_t stream) {
  const float scale_log2 = 1.4426950408889634f / std::sqrt(static_cast<float>(HeadDim));
  const dim3 grid(tiles_count, heads);
  attention_kernel<T, HeadDim><<<grid, kThreads, 0, stream>>>(static_cast<const T*>(qkv), tiles,
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
