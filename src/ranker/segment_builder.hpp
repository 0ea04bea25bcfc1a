// Builds an owned Segment row by row: new rows are encoded, kept rows copied as stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ranker/snapshot.hpp"

namespace nowrec::ranker {

// Thread-safety: none; one builder is used by one writer.
class SegmentBuilder {
 public:
  SegmentBuilder(std::size_t dim, StorageType storage);

  std::size_t rows() const noexcept { return ids_.size(); }
  void reserve(std::size_t rows);

  void append(std::int64_t id, const float* vector, std::span<const std::uint32_t> categories,
              bool available, float prior = 0.0f);
  // Copies row `row` of `from` as stored (no re-encoding, so no extra rounding).
  void append_copy(const Segment& from, std::size_t row);
  // Row `row` of `from` with a new vector; the attributes and the prior stay.
  void append_with_vector(const Segment& from, std::size_t row, const float* vector);

  std::shared_ptr<const Segment> finish();

 private:
  std::size_t dim_;
  StorageType storage_;
  std::size_t row_bytes_;
  std::vector<std::int64_t> ids_;
  std::vector<std::byte> vectors_;
  std::vector<float> scales_;
  std::vector<float> priors_;
  std::vector<std::uint8_t> available_;
  std::vector<std::uint64_t> category_offsets_{0};
  std::vector<std::uint32_t> categories_;
};

// `old` with row r's prior replaced by priors[r] (rows() floats). The new segment shares every
// other buffer with `old`, so setting priors copies no embeddings.
std::shared_ptr<const Segment> with_priors(const std::shared_ptr<const Segment>& old,
                                           std::vector<float> priors);

}  // namespace nowrec::ranker
