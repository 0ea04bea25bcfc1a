// The immutable catalog state a Ranker call scans: segments of rows, shared between snapshots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "nowrec/item_index.hpp"

namespace nowrec::ranker {

// Rows per segment: a write copies whole segments, so this bounds the cost of one update
// (4096 x 384 fp32 is 6 MiB) while keeping enough rows per unit of parallel work.
inline constexpr std::size_t kSegmentRows = 4096;

// A run of rows, never changed once published. The pointers point into memory that `owner`
// keeps alive: the segment's own buffers, or a mapped index file.
struct Segment {
  std::size_t rows = 0;
  const std::int64_t* ids = nullptr;
  const std::byte* vectors = nullptr;  // rows x dim values of the snapshot's storage type
  const float* scales = nullptr;       // one per row for Int8, else null
  // One per row (ItemIndex::set_priors); null when every prior of the segment is 0, so scans
  // of an index without priors never read them.
  const float* priors = nullptr;
  const std::uint8_t* available = nullptr;
  // Row r's categories are categories[category_offsets[r] .. category_offsets[r + 1]).
  const std::uint64_t* category_offsets = nullptr;
  const std::uint32_t* categories = nullptr;
  std::shared_ptr<const void> owner;
  // Keeps `priors` alive when they were set after the segment was built (ItemIndex::set_priors
  // replaces them without copying the rest); null when `owner` holds them.
  std::shared_ptr<const void> priors_owner;

  float prior_of(std::size_t row) const noexcept { return priors != nullptr ? priors[row] : 0.0f; }
  std::span<const std::uint32_t> categories_of(std::size_t row) const noexcept {
    return {categories + category_offsets[row], categories + category_offsets[row + 1]};
  }
};

struct Snapshot {
  std::size_t dim = 0;
  StorageType storage = StorageType::F32;
  std::size_t size = 0;  // rows over all segments
  std::vector<std::shared_ptr<const Segment>> segments;
};

std::size_t bytes_per_value(StorageType storage) noexcept;
const char* storage_name(StorageType storage) noexcept;

// Encodes one row of dim floats as `storage` into `out` (dim * bytes_per_value bytes); `scale`
// receives the Int8 row scale (max |x| / 127) and is left alone otherwise.
void encode_row(StorageType storage, const float* values, std::size_t dim, std::byte* out,
                float* scale) noexcept;
// Decodes row `row` of a segment back to dim floats.
void decode_row(StorageType storage, const Segment& segment, std::size_t row, std::size_t dim,
                float* out) noexcept;
// Asks for the memory decode_row will read, ahead of the call.
void prefetch_row(StorageType storage, const Segment& segment, std::size_t row,
                  std::size_t dim) noexcept;

}  // namespace nowrec::ranker

namespace nowrec::ranker {

// Splits dim floats into 2 * dim bfloat16 values, the rounded values then what rounding left
// out, for cpu::avx512::score_rows_bf16_dp.
void split_to_bf16(const float* values, std::size_t dim, std::uint16_t* out) noexcept;

// Quantizes dim finite floats to int16 for cpu score_rows_int8: out[i] = round(values[i] /
// scale) with scale = max |values| / 32767, which is returned (0 for a zero vector). Each value
// is off by at most scale / 2, so a score moves by at most scale / 2 * row_scale * sum |row|.
// A non-finite value gives a non-finite scale, and so non-finite scores.
float quantize_to_int16(const float* values, std::size_t dim, std::int16_t* out) noexcept;

}  // namespace nowrec::ranker
