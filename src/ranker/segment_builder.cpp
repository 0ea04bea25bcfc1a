// SegmentBuilder: owned segments for writes to an ItemIndex.
#include "ranker/segment_builder.hpp"

#include <cstring>

namespace nowrec::ranker {
namespace {

// Everything a built segment points into, kept alive by Segment::owner.
struct SegmentBuffers {
  std::vector<std::int64_t> ids;
  std::vector<std::byte> vectors;
  std::vector<float> scales;
  std::vector<std::uint8_t> available;
  std::vector<std::uint64_t> category_offsets;
  std::vector<std::uint32_t> categories;
};

}  // namespace

SegmentBuilder::SegmentBuilder(std::size_t dim, StorageType storage)
    : dim_(dim), storage_(storage), row_bytes_(dim * bytes_per_value(storage)) {}

void SegmentBuilder::reserve(std::size_t rows) {
  ids_.reserve(rows);
  vectors_.reserve(rows * row_bytes_);
  available_.reserve(rows);
  category_offsets_.reserve(rows + 1);
  if (storage_ == StorageType::Int8) scales_.reserve(rows);
}

void SegmentBuilder::append(std::int64_t id, const float* vector,
                            std::span<const std::uint32_t> categories, bool available) {
  ids_.push_back(id);
  vectors_.resize(vectors_.size() + row_bytes_);
  float scale = 0.0f;
  encode_row(storage_, vector, dim_, vectors_.data() + vectors_.size() - row_bytes_, &scale);
  if (storage_ == StorageType::Int8) scales_.push_back(scale);
  available_.push_back(available ? 1 : 0);
  categories_.insert(categories_.end(), categories.begin(), categories.end());
  category_offsets_.push_back(categories_.size());
}

void SegmentBuilder::append_copy(const Segment& from, std::size_t row) {
  ids_.push_back(from.ids[row]);
  const std::byte* stored = from.vectors + row * row_bytes_;
  vectors_.insert(vectors_.end(), stored, stored + row_bytes_);
  if (storage_ == StorageType::Int8) scales_.push_back(from.scales[row]);
  available_.push_back(from.available[row]);
  const auto categories = from.categories_of(row);
  categories_.insert(categories_.end(), categories.begin(), categories.end());
  category_offsets_.push_back(categories_.size());
}

void SegmentBuilder::append_with_vector(const Segment& from, std::size_t row, const float* vector) {
  append(from.ids[row], vector, from.categories_of(row), from.available[row] != 0);
}

std::shared_ptr<const Segment> SegmentBuilder::finish() {
  auto buffers = std::make_shared<SegmentBuffers>();
  buffers->ids = std::move(ids_);
  buffers->vectors = std::move(vectors_);
  buffers->scales = std::move(scales_);
  buffers->available = std::move(available_);
  buffers->category_offsets = std::move(category_offsets_);
  buffers->categories = std::move(categories_);
  auto segment = std::make_shared<Segment>();
  segment->rows = buffers->ids.size();
  segment->ids = buffers->ids.data();
  segment->vectors = buffers->vectors.data();
  segment->scales = storage_ == StorageType::Int8 ? buffers->scales.data() : nullptr;
  segment->available = buffers->available.data();
  segment->category_offsets = buffers->category_offsets.data();
  segment->categories = buffers->categories.data();
  segment->owner = std::move(buffers);
  ids_.clear();
  vectors_.clear();
  scales_.clear();
  available_.clear();
  category_offsets_.assign(1, 0);
  categories_.clear();
  return segment;
}

}  // namespace nowrec::ranker
