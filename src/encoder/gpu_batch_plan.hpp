// Host-side planning for the CUDA encoder: chunking, shape buckets, packed inputs, arena layout.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "encoder/attention_tile.hpp"
#include "encoder/encoder_front_end.hpp"

namespace nowrec::encoder {

// The sizes a forward pass is launched with. With a CUDA graph they are a bucket's (rounded up,
// the surplus being padding); without, they are the batch's own.
struct ForwardShape {
  std::size_t tokens = 0;
  std::size_t sequences = 0;
  std::size_t tiles = 0;
  std::size_t vector_width = 0;  // floats per input vector when the batch is vectors; 0: ids

  friend auto operator<=>(const ForwardShape&, const ForwardShape&) = default;
};

// Limits fixed at load: what one forward pass may hold and which batches run through graphs.
struct GpuBatchLimits {
  std::size_t max_tokens = 8192;         // tokens per forward pass (a chunk)
  std::size_t max_graph_tokens = 1024;   // larger chunks run without a graph
  std::size_t max_graph_sequences = 64;  // likewise for sequence count
};

// Upper bound of attention tiles for `tokens` tokens in `sequences` sequences.
std::size_t max_attention_tiles(std::size_t tokens, std::size_t sequences) noexcept;

// The bucket for a batch of `tokens` tokens in `sequences` sequences: tokens and sequences
// rounded up to powers of two (tokens at least 16), tiles to the bound for those plus one
// padding sequence. Returns false when the batch is beyond the graph limits (it then runs
// eagerly at its own shape).
bool choose_graph_bucket(std::size_t tokens, std::size_t sequences, const GpuBatchLimits& limits,
                         ForwardShape& bucket) noexcept;

// The exact shape of a batch of sequences of these lengths, run without a graph.
ForwardShape exact_shape(std::span<const std::size_t> lengths) noexcept;

// The device inputs of one forward pass, laid out for `shape`. Tokens beyond the batch's own
// form one padding sequence (id 0, or zero vectors) so that every row the kernels touch holds
// finite values; sequences beyond the batch's own have length 0 and pool to nothing that is read
// back.
struct PackedGpuInputs {
  std::vector<std::int32_t> ids;               // shape.tokens (zeros for a batch of vectors)
  std::vector<float> vectors;                  // shape.tokens * shape.vector_width
  std::vector<std::int32_t> positions;         // shape.tokens: position-table rows
  std::vector<std::int32_t> sequence_offsets;  // shape.sequences + 1
  std::vector<AttentionTile> tiles;            // shape.tiles
};

// Packs sequences [first, end) of `batch` (token ids, or vectors of shape.vector_width floats)
// for `shape`, which must hold them (exact_shape or a bucket). `position_offset` is added to
// every position (RoBERTa numbers from pad_token_id + 1). Throws Error(Internal) when the shape
// is too small or does not match the batch's kind.
void pack_gpu_inputs(const PackedSequences& batch, std::size_t first, std::size_t end,
                     const ForwardShape& shape, std::size_t position_offset,
                     PackedGpuInputs& packed);

// Model sizes the arena depends on.
struct GpuModelDims {
  std::size_t hidden = 0;
  std::size_t intermediate = 0;
  std::size_t element_bytes = 2;  // fp16 and bf16
};

// Where each input array sits inside the inputs region for one shape. Host staging memory holds
// the same bytes, so one copy moves them all; every array is 16-byte aligned.
struct GpuInputLayout {
  std::size_t ids = 0, positions = 0, sequence_offsets = 0, tiles = 0;
  std::size_t vectors = 0;  // fp32, present when shape.vector_width > 0
  std::size_t bytes = 0;
};

GpuInputLayout gpu_input_layout(const ForwardShape& shape) noexcept;

// Writes `packed` into `destination` (layout.bytes bytes) at the layout's offsets.
void write_gpu_inputs(const PackedGpuInputs& packed, const GpuInputLayout& layout,
                      std::byte* destination) noexcept;

// Byte offsets of each region of the device arena; every region is 256-byte aligned.
struct GpuArenaPlan {
  std::size_t hidden_states = 0;  // [tokens][hidden]
  std::size_t qkv = 0;            // [tokens][3 * hidden]
  std::size_t context = 0;        // [tokens][hidden]
  std::size_t projected = 0;      // [tokens][hidden]
  std::size_t inner = 0;          // [tokens][intermediate]
  std::size_t output = 0;         // fp32 rows: [sequences][hidden] pooled or [tokens][hidden]
  std::size_t inputs = 0;         // the largest GpuInputLayout
  std::size_t inputs_bytes = 0;
  std::size_t gemm_workspace = 0;
  std::size_t gemm_workspace_bytes = 0;
  std::size_t total_bytes = 0;
};

// The largest shape a forward pass under `limits` can have: max_tokens tokens, as many
// sequences (a sequence may be empty) plus one padding sequence, their attention tiles, and
// input vectors of `vector_width` floats.
ForwardShape largest_shape(const GpuBatchLimits& limits, std::size_t vector_width = 0) noexcept;

// Plans the arena for largest_shape(limits, dims.hidden), once at load.
GpuArenaPlan plan_gpu_arena(const GpuModelDims& dims, const GpuBatchLimits& limits,
                            std::size_t gemm_workspace_bytes);

}  // namespace nowrec::encoder
