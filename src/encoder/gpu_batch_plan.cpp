// Host-side planning for the CUDA encoder; nothing here touches the GPU, so all of it is tested
// on machines without one.
#include "encoder/gpu_batch_plan.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "nowrec/error.hpp"

namespace nowrec::encoder {
namespace {

std::size_t round_up(std::size_t value, std::size_t multiple) noexcept {
  return (value + multiple - 1) / multiple * multiple;
}

constexpr std::size_t kArenaAlignment = 256;  // what cudaMalloc and cuBLASLt prefer
constexpr std::size_t kInputAlignment = 16;   // AttentionTile is read as one 16-byte vector
constexpr std::size_t kSmallestTokenBucket = 16;

}  // namespace

std::size_t max_attention_tiles(std::size_t tokens, std::size_t sequences) noexcept {
  // Each sequence of length l needs ceil(l / tile) < l / tile + 1 tiles.
  return (tokens + kAttentionQueryTile - 1) / kAttentionQueryTile + sequences;
}

bool choose_graph_bucket(std::size_t tokens, std::size_t sequences, const GpuBatchLimits& limits,
                         ForwardShape& bucket) noexcept {
  if (tokens == 0 || sequences == 0) return false;
  const std::size_t bucket_tokens = std::max(std::bit_ceil(tokens), kSmallestTokenBucket);
  const std::size_t bucket_sequences = std::bit_ceil(sequences);
  if (bucket_tokens > std::min(limits.max_graph_tokens, limits.max_tokens) ||
      bucket_sequences > std::min(limits.max_graph_sequences, limits.max_tokens)) {
    return false;
  }
  bucket.tokens = bucket_tokens;
  bucket.sequences = bucket_sequences;
  // The padding tokens form one more sequence, with its own tiles.
  bucket.tiles = max_attention_tiles(bucket_tokens, bucket_sequences + 1);
  return true;
}

ForwardShape exact_shape(std::span<const std::size_t> lengths) noexcept {
  ForwardShape shape;
  shape.sequences = lengths.size();
  for (const std::size_t length : lengths) {
    shape.tokens += length;
    shape.tiles += (length + kAttentionQueryTile - 1) / kAttentionQueryTile;
  }
  return shape;
}

namespace {

void add_tiles(std::size_t begin, std::size_t length, std::vector<AttentionTile>& tiles) {
  for (std::size_t query = 0; query < length; query += kAttentionQueryTile) {
    tiles.push_back({static_cast<std::int32_t>(begin), static_cast<std::int32_t>(length),
                     static_cast<std::int32_t>(query), 0});
  }
}

}  // namespace

void pack_gpu_inputs(const PackedSequences& batch, std::size_t first, std::size_t end,
                     const ForwardShape& shape, std::size_t position_offset,
                     PackedGpuInputs& packed) {
  const std::size_t base = batch.offsets[first], tokens = batch.offsets[end] - base;
  const std::size_t width = shape.vector_width;
  if (tokens > shape.tokens || end - first > shape.sequences) {
    throw Error(ErrorCode::Internal, "a batch of " + std::to_string(tokens) + " tokens in " +
                                         std::to_string(end - first) +
                                         " sequences does not fit its forward shape");
  }
  if (batch.from_vectors != (width > 0) ||
      (batch.from_vectors && batch.vectors.size() != batch.tokens() * width)) {
    throw Error(ErrorCode::Internal,
                "a batch of " + std::string(batch.from_vectors ? "vectors" : "token ids") +
                    " does not match its forward shape's vector width " + std::to_string(width));
  }
  packed.positions.clear();
  packed.sequence_offsets.assign(1, 0);
  packed.tiles.clear();
  for (std::size_t s = first; s < end; ++s) {
    const std::size_t begin = batch.offsets[s] - base, length = batch.length(s);
    add_tiles(begin, length, packed.tiles);
    for (std::size_t t = 0; t < length; ++t) {
      packed.positions.push_back(static_cast<std::int32_t>(t + position_offset));
    }
    packed.sequence_offsets.push_back(static_cast<std::int32_t>(begin + length));
  }
  if (width > 0) {
    const auto rows = batch.vectors.begin() + static_cast<std::ptrdiff_t>(base * width);
    packed.vectors.assign(rows, rows + static_cast<std::ptrdiff_t>(tokens * width));
    packed.ids.assign(tokens, 0);
  } else {
    const auto ids = batch.ids.begin() + static_cast<std::ptrdiff_t>(base);
    packed.ids.assign(ids, ids + static_cast<std::ptrdiff_t>(tokens));
    packed.vectors.clear();
  }
  // Padding: one sequence of id 0 (or zero vectors), every token at the first position,
  // attending to itself.
  add_tiles(tokens, shape.tokens - tokens, packed.tiles);
  packed.ids.resize(shape.tokens, 0);
  packed.positions.resize(shape.tokens, static_cast<std::int32_t>(position_offset));
  packed.vectors.resize(shape.tokens * width, 0.0f);
  packed.sequence_offsets.resize(shape.sequences + 1, static_cast<std::int32_t>(tokens));
  if (packed.tiles.size() > shape.tiles) {
    throw Error(ErrorCode::Internal, "a batch needs " + std::to_string(packed.tiles.size()) +
                                         " attention tiles but its shape has " +
                                         std::to_string(shape.tiles));
  }
  packed.tiles.resize(shape.tiles, AttentionTile{});
}

GpuInputLayout gpu_input_layout(const ForwardShape& shape) noexcept {
  GpuInputLayout layout;
  std::size_t offset = 0;
  auto take = [&offset](std::size_t bytes) {
    const std::size_t at = offset;
    offset = round_up(offset + bytes, kInputAlignment);
    return at;
  };
  layout.tiles = take(shape.tiles * sizeof(AttentionTile));
  layout.ids = take(shape.tokens * sizeof(std::int32_t));
  layout.positions = take(shape.tokens * sizeof(std::int32_t));
  layout.sequence_offsets = take((shape.sequences + 1) * sizeof(std::int32_t));
  layout.vectors = take(shape.tokens * shape.vector_width * sizeof(float));
  layout.bytes = offset;
  return layout;
}

void write_gpu_inputs(const PackedGpuInputs& packed, const GpuInputLayout& layout,
                      std::byte* destination) noexcept {
  auto put = [destination](std::size_t offset, const auto& values) {
    if (values.empty()) return;  // memcpy from an empty vector's null data is undefined
    std::memcpy(destination + offset, values.data(), values.size() * sizeof(values[0]));
  };
  put(layout.tiles, packed.tiles);
  put(layout.ids, packed.ids);
  put(layout.positions, packed.positions);
  put(layout.sequence_offsets, packed.sequence_offsets);
  put(layout.vectors, packed.vectors);
}

ForwardShape largest_shape(const GpuBatchLimits& limits, std::size_t vector_width) noexcept {
  ForwardShape shape;
  shape.vector_width = vector_width;
  shape.tokens = limits.max_tokens;
  shape.sequences = limits.max_tokens;
  shape.tiles = max_attention_tiles(limits.max_tokens, limits.max_tokens + 1);
  return shape;
}

GpuArenaPlan plan_gpu_arena(const GpuModelDims& dims, const GpuBatchLimits& limits,
                            std::size_t gemm_workspace_bytes) {
  if (dims.hidden == 0 || dims.intermediate == 0 || limits.max_tokens == 0) {
    throw Error(ErrorCode::Internal, "plan_gpu_arena: empty model or batch limits");
  }
  const ForwardShape largest = largest_shape(limits, dims.hidden);
  GpuArenaPlan plan;
  std::size_t offset = 0;
  auto take = [&offset](std::size_t bytes) {
    const std::size_t at = offset;
    offset = round_up(offset + bytes, kArenaAlignment);
    return at;
  };
  const std::size_t row = dims.hidden * dims.element_bytes;
  plan.hidden_states = take(largest.tokens * row);
  plan.qkv = take(largest.tokens * 3 * row);
  plan.context = take(largest.tokens * row);
  plan.projected = take(largest.tokens * row);
  plan.inner = take(largest.tokens * dims.intermediate * dims.element_bytes);
  plan.output = take(std::max(largest.tokens, largest.sequences) * dims.hidden * sizeof(float));
  plan.inputs_bytes = gpu_input_layout(largest).bytes;
  plan.inputs = take(plan.inputs_bytes);
  plan.gemm_workspace_bytes = gemm_workspace_bytes;
  plan.gemm_workspace = take(gemm_workspace_bytes);
  plan.total_bytes = offset;
  return plan;
}

}  // namespace nowrec::encoder
