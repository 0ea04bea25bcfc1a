// The unit of work of the CUDA attention kernel, shared by the host planner and the kernel (so
// C++17, which nvcc compiles the kernels as).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nowrec::encoder {

// Queries one attention block handles; the CUDA attention kernel is built for this tile.
inline constexpr std::size_t kAttentionQueryTile = 64;

// One block of the variable-length attention: queries [query_begin, query_begin + 64) of the
// sequence whose tokens are [sequence_begin, sequence_begin + sequence_length) in the packed
// batch. A tile with sequence_length 0 does nothing (graph padding).
struct AttentionTile {
  std::int32_t sequence_begin = 0;
  std::int32_t sequence_length = 0;
  std::int32_t query_begin = 0;
  std::int32_t unused = 0;  // keeps the struct 16 bytes, one vector load on the device
};

static_assert(sizeof(AttentionTile) == 16);

}  // namespace nowrec::encoder
