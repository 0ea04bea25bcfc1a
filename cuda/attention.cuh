// Variable-length fused self-attention of the CUDA encoder (head sizes 32 and 64).
#pragma once

#include <cuda_runtime_api.h>

#include "cuda/cuda_check.cuh"
#include "encoder/attention_tile.hpp"

namespace nowrec::cuda {

// Whether attention() runs heads of this size.
bool attention_supports_head_dim(int head_dim) noexcept;

// For every tile (see encoder::AttentionTile) and head: softmax(q kᵀ / sqrt(head_dim)) v over
// the tile's own sequence, reading q, k and v from qkv ([tokens][3 * hidden]: all queries, then
// all keys, then all values of a token) and writing context ([tokens][hidden]). With `causal`,
// query t sees keys 0..t of its sequence only. Scores live only in registers (online softmax);
// nothing of size sequence² reaches memory.
void attention(HalfType type, const void* qkv, const encoder::AttentionTile* tiles, int tiles_count,
               int heads, int head_dim, bool causal, void* context, cudaStream_t stream);

}  // namespace nowrec::cuda
