// SegmentBuilder: owned segments for writes to an ItemIndex.
#include "ranker/segment_builder.hpp"

#include <algorithm>
#include <cstring>

namespace nowrec::ranker {
namespace {

// Everything a built segment points into, kept alive by Segment::owner.
struct SegmentBuffers {
  std::vector<std::int64_t> ids;
  std::vector<std::byte> vectors;
  std::vector<float> scales;
  std::vector<float> priors;
  std::vector<std::uint8_t> available;
  std::vector<std::uint64_t> category_offsets;
  std::vector<std::uint32_t> categories;
};

bool all_zero(const std::vector<float>& values) {
  return std::all_of(values.begin(), values.end(), [](float x) { return x == 0.0f; });
}

}  // namespace

SegmentBuilder::SegmentBuilder(std::size_t dim, StorageType storage)
    : dim_(dim), storage_(storage), row_bytes_(dim * bytes_per_value(storage)) {}

void SegmentBuilder::reserve(std::size_t rows) {
  ids_.reserve(rows);
  vectors_.reserve(rows * row_bytes_);
  available_.reserve(rows);
  priors_.reserve(rows);
  category_offsets_.reserve(rows + 1);
  if (storage_ == StorageType::Int8) scales_.reserve(rows);
}

void SegmentBuilder::append(std::int64_t id, const float* vector,
                            std::span<const std::uint32_t> categories, bool available,
                            float prior) {
  ids_.push_back(id);
  priors_.push_back(prior);
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
  priors_.push_back(from.prior_of(row));
  const std::byte* stored = from.vectors + row * row_bytes_;
  vectors_.insert(vectors_.end(), stored, stored + row_bytes_);
  if (storage_ == StorageType::Int8) scales_.push_back(from.scales[row]);
  available_.push_back(from.available[row]);
  const auto categories = from.categories_of(row);
  categories_.insert(categories_.end(), categories.begin(), categories.end());
  category_offsets_.push_back(categories_.size());
}

void SegmentBuilder::append_with_vector(const Segment& from, std::size_t row, const float* vector) {
  append(from.ids[row], vector, from.categories_of(row), from.available[row] != 0,
         from.prior_of(row));
}

std::shared_ptr<const Segment> SegmentBuilder::finish() {
  auto buffers = std::make_shared<SegmentBuffers>();
  buffers->ids = std::move(ids_);
  buffers->vectors = std::move(vectors_);
  buffers->scales = std::move(scales_);
  if (!all_zero(priors_)) buffers->priors = std::move(priors_);
  buffers->available = std::move(available_);
  buffers->category_offsets = std::move(category_offsets_);
  buffers->categories = std::move(categories_);
  auto segment = std::make_shared<Segment>();
  segment->rows = buffers->ids.size();
  segment->ids = buffers->ids.data();
  segment->vectors = buffers->vectors.data();
  segment->scales = storage_ == StorageType::Int8 ? buffers->scales.data() : nullptr;
  segment->priors = buffers->priors.empty() ? nullptr : buffers->priors.data();
  segment->available = buffers->available.data();
  segment->category_offsets = buffers->category_offsets.data();
  segment->categories = buffers->categories.data();
  segment->owner = std::move(buffers);
  ids_.clear();
  vectors_.clear();
  scales_.clear();
  priors_.clear();
  available_.clear();
  category_offsets_.assign(1, 0);
  categories_.clear();
  return segment;
}

std::shared_ptr<const Segment> with_priors(const std::shared_ptr<const Segment>& old,
                                           std::vector<float> priors) {
  auto segment = std::make_shared<Segment>(*old);
  segment->priors = nullptr;
  segment->priors_owner.reset();
  if (!all_zero(priors)) {
    auto owned = std::make_shared<const std::vector<float>>(std::move(priors));
    segment->priors = owned->data();
    segment->priors_owner = std::move(owned);
  }
  return segment;
}

}  // namespace nowrec::ranker
