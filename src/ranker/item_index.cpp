// ItemIndex: copy-on-write segments published as immutable snapshots.
#include "nowrec/item_index.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/vector_dim.hpp"
#include "nowrec/error.hpp"
#include "ranker/item_index_writer.hpp"
#include "ranker/segment_builder.hpp"

namespace nowrec {

using ranker::Segment;
using ranker::SegmentBuilder;
using ranker::Snapshot;

namespace {

void check_rows(const char* where, std::size_t dim, std::span<const std::int64_t> ids,
                std::span<const float> vectors, std::span<const ItemAttributes> attributes) {
  if (vectors.size() != ids.size() * dim) {
    throw Error(ErrorCode::InvalidArgument, std::string(where) + ": " + std::to_string(ids.size()) +
                                                " ids need " + std::to_string(ids.size() * dim) +
                                                " floats (dim " + std::to_string(dim) + "), got " +
                                                std::to_string(vectors.size()));
  }
  if (!attributes.empty() && attributes.size() != ids.size()) {
    throw Error(ErrorCode::InvalidArgument, std::string(where) + ": " + std::to_string(ids.size()) +
                                                " ids but " + std::to_string(attributes.size()) +
                                                " attributes (give none or one per id)");
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (std::size_t j = 0; j < dim; ++j) {
      if (!std::isfinite(vectors[i * dim + j])) {
        throw Error(ErrorCode::InvalidArgument,
                    std::string(where) + ": item " + std::to_string(ids[i]) +
                        " has a non-finite value at position " + std::to_string(j));
      }
    }
  }
}

void check_unique(const char* where, std::span<const std::int64_t> ids) {
  std::unordered_set<std::int64_t> seen;
  seen.reserve(ids.size());
  for (std::int64_t id : ids) {
    if (!seen.insert(id).second) {
      throw Error(ErrorCode::InvalidArgument,
                  std::string(where) + ": item id " + std::to_string(id) + " is given twice");
    }
  }
}

}  // namespace

ItemIndex::ItemIndex(std::size_t dim, const ItemIndexOptions& options)
    : dim_(dim), options_(options), writer_(std::make_unique<Writer>()) {
  common::check_vector_dim(dim, "ItemIndex: dim");
  if (options.storage != StorageType::F32 && options.storage != StorageType::BF16 &&
      options.storage != StorageType::Int8) {
    throw Error(ErrorCode::InvalidArgument, "ItemIndex: unknown storage type " +
                                                std::to_string(std::uint32_t(options.storage)));
  }
  auto empty = std::make_shared<Snapshot>();
  empty->dim = dim;
  empty->storage = options.storage;
  writer_->current = std::move(empty);
}

ItemIndex::ItemIndex(ItemIndex&&) noexcept = default;
ItemIndex& ItemIndex::operator=(ItemIndex&&) noexcept = default;
ItemIndex::~ItemIndex() = default;

std::shared_ptr<const Snapshot> ItemIndex::snapshot() const {
  std::shared_lock lock(writer_->read_mutex);
  return writer_->current;
}

bool ItemIndex::contains(std::int64_t id) const {
  std::shared_lock lock(writer_->read_mutex);
  return writer_->place_of.contains(id);
}

std::pair<const Segment*, std::size_t> ItemIndex::Writer::place(std::int64_t id,
                                                                const char* where) const {
  const auto found = place_of.find(id);
  if (found == place_of.end()) return {nullptr, 0};
  const RowPlace place = found->second;
  if (place.segment >= current->segments.size()) {
    throw Error(ErrorCode::Internal,
                std::string(where) + ": item " + std::to_string(id) + " is placed in no segment");
  }
  return {current->segments[place.segment].get(), place.row};
}

void ItemIndex::Writer::check_place(std::int64_t id, const Segment& segment, std::size_t row,
                                    const char* where) {
  if (row >= segment.rows || segment.ids[row] != id) {
    throw Error(ErrorCode::Internal, std::string(where) + ": item " + std::to_string(id) +
                                         " is not where the index placed it");
  }
}

std::pair<const Segment*, std::size_t> ItemIndex::Writer::locate(std::int64_t id,
                                                                 const char* where) const {
  const auto found = place(id, where);
  if (found.first != nullptr) check_place(id, *found.first, found.second, where);
  return found;
}

std::optional<float> ItemIndex::read(std::int64_t id, std::span<float> vector) const {
  if (vector.size() != dim_) {
    throw Error(ErrorCode::InvalidArgument, "ItemIndex::read: the vector has " +
                                                std::to_string(vector.size()) +
                                                " values, expected dim " + std::to_string(dim_));
  }
  // The row is decoded under the read lock: `current`, and the segments it holds, cannot be
  // replaced while it is held, so a lookup copies no shared pointer.
  std::shared_lock lock(writer_->read_mutex);
  const auto [segment, row] = writer_->locate(id, "ItemIndex::read");
  if (segment == nullptr) return std::nullopt;
  ranker::decode_row(writer_->current->storage, *segment, row, dim_, vector.data());
  return segment->prior_of(row);
}

std::size_t ItemIndex::read_many(std::span<const std::int64_t> ids, std::span<float> vectors,
                                 std::span<bool> found) const {
  if (vectors.size() != ids.size() * dim_ || found.size() != ids.size()) {
    throw Error(ErrorCode::InvalidArgument,
                "ItemIndex::read_many: " + std::to_string(ids.size()) + " ids need " +
                    std::to_string(ids.size() * dim_) + " values (dim " + std::to_string(dim_) +
                    ") and as many flags, got " + std::to_string(vectors.size()) + " and " +
                    std::to_string(found.size()));
  }
  // Rows are placed a group at a time and all of the group's rows (and the ids that confirm
  // their places) asked for from memory before the first is checked and decoded, so the copies
  // overlap the misses instead of waiting for each in turn.
  constexpr std::size_t kGroup = 8;
  std::pair<const Segment*, std::size_t> places[kGroup];
  std::shared_lock lock(writer_->read_mutex);
  const StorageType storage = writer_->current->storage;
  std::size_t count = 0;
  for (std::size_t begin = 0; begin < ids.size(); begin += kGroup) {
    const std::size_t group = std::min(kGroup, ids.size() - begin);
    for (std::size_t i = 0; i < group; ++i) {
      places[i] = writer_->place(ids[begin + i], "ItemIndex::read_many");
      if (const Segment* segment = places[i].first) {
        ranker::prefetch_row(storage, *segment, places[i].second, dim_);
        if (places[i].second < segment->rows) __builtin_prefetch(segment->ids + places[i].second);
      }
    }
    for (std::size_t i = 0; i < group; ++i) {
      const auto [segment, row] = places[i];
      found[begin + i] = segment != nullptr;
      if (segment == nullptr) continue;
      Writer::check_place(ids[begin + i], *segment, row, "ItemIndex::read_many");
      ranker::decode_row(storage, *segment, row, dim_, vectors.data() + (begin + i) * dim_);
      ++count;
    }
  }
  return count;
}

std::size_t ItemIndex::size() const { return snapshot()->size; }

void ItemIndex::add(std::span<const std::int64_t> ids, std::span<const float> vectors,
                    std::span<const ItemAttributes> attributes) {
  check_rows("ItemIndex::add", dim_, ids, vectors, attributes);
  check_unique("ItemIndex::add", ids);
  std::lock_guard lock(writer_->write_mutex);
  for (std::int64_t id : ids) {
    if (writer_->place_of.contains(id)) {
      throw Error(ErrorCode::InvalidArgument,
                  "ItemIndex::add: item id " + std::to_string(id) + " is already present");
    }
  }
  const auto old = snapshot();
  auto next = std::make_shared<Snapshot>(*old);
  SegmentBuilder builder(dim_, options_.storage);
  std::size_t segment_index = next->segments.size();
  // The last segment is refilled (copied) when it has room, so segments stay near full.
  if (!next->segments.empty() && next->segments.back()->rows < ranker::kSegmentRows) {
    --segment_index;
    const Segment& last = *next->segments.back();
    builder.reserve(ranker::kSegmentRows);
    for (std::size_t row = 0; row < last.rows; ++row) builder.append_copy(last, row);
    next->segments.pop_back();
  }
  std::vector<std::pair<std::int64_t, RowPlace>> placed;
  placed.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (builder.rows() == 0) builder.reserve(std::min(ranker::kSegmentRows, ids.size() - i));
    const ItemAttributes attrs = attributes.empty() ? ItemAttributes{} : attributes[i];
    placed.emplace_back(ids[i], RowPlace{static_cast<std::uint32_t>(segment_index),
                                         static_cast<std::uint32_t>(builder.rows())});
    builder.append(ids[i], vectors.data() + i * dim_, attrs.categories, attrs.available);
    if (builder.rows() == ranker::kSegmentRows) {
      next->segments.push_back(builder.finish());
      ++segment_index;
    }
  }
  if (builder.rows() > 0) next->segments.push_back(builder.finish());
  next->size += ids.size();
  writer_->publish(std::move(next), [&](auto& place_of) {
    // The ids are new (checked above), so a failed insertion is undone by erasing those before it.
    place_of.reserve(place_of.size() + placed.size());
    std::size_t inserted = 0;
    try {
      for (; inserted < placed.size(); ++inserted) place_of.emplace(placed[inserted]);
    } catch (...) {
      for (std::size_t i = 0; i < inserted; ++i) place_of.erase(placed[i].first);
      throw;
    }
  });
}

void ItemIndex::update(std::span<const std::int64_t> ids, std::span<const float> vectors,
                       std::span<const ItemAttributes> attributes) {
  check_rows("ItemIndex::update", dim_, ids, vectors, attributes);
  check_unique("ItemIndex::update", ids);
  std::lock_guard lock(writer_->write_mutex);
  std::unordered_map<std::uint32_t, std::unordered_map<std::int64_t, std::size_t>> by_segment;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto found = writer_->place_of.find(ids[i]);
    if (found == writer_->place_of.end()) {
      throw Error(ErrorCode::NotFound,
                  "ItemIndex::update: item id " + std::to_string(ids[i]) + " is not in the index");
    }
    by_segment[found->second.segment][ids[i]] = i;
  }
  auto next = std::make_shared<Snapshot>(*snapshot());
  for (const auto& [segment_index, inputs] : by_segment) {
    const Segment& old = *next->segments[segment_index];
    SegmentBuilder builder(dim_, options_.storage);
    builder.reserve(old.rows);
    for (std::size_t row = 0; row < old.rows; ++row) {
      const auto input = inputs.find(old.ids[row]);
      if (input == inputs.end()) {
        builder.append_copy(old, row);
      } else if (attributes.empty()) {
        builder.append_with_vector(old, row, vectors.data() + input->second * dim_);
      } else {
        const ItemAttributes& attrs = attributes[input->second];
        builder.append(old.ids[row], vectors.data() + input->second * dim_, attrs.categories,
                       attrs.available, old.prior_of(row));
      }
    }
    next->segments[segment_index] = builder.finish();
  }
  writer_->publish(std::move(next));
}

void ItemIndex::set_priors(std::span<const std::int64_t> ids, std::span<const float> priors) {
  if (priors.size() != ids.size()) {
    throw Error(ErrorCode::InvalidArgument, "ItemIndex::set_priors: " + std::to_string(ids.size()) +
                                                " ids but " + std::to_string(priors.size()) +
                                                " priors");
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!std::isfinite(priors[i])) {
      throw Error(ErrorCode::InvalidArgument, "ItemIndex::set_priors: the prior of item " +
                                                  std::to_string(ids[i]) + " is not finite");
    }
  }
  check_unique("ItemIndex::set_priors", ids);
  std::lock_guard lock(writer_->write_mutex);
  std::unordered_map<std::uint32_t, std::unordered_map<std::int64_t, float>> by_segment;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto found = writer_->place_of.find(ids[i]);
    if (found == writer_->place_of.end()) {
      throw Error(ErrorCode::NotFound, "ItemIndex::set_priors: item id " + std::to_string(ids[i]) +
                                           " is not in the index");
    }
    by_segment[found->second.segment][ids[i]] = priors[i];
  }
  auto next = std::make_shared<Snapshot>(*snapshot());
  for (const auto& [segment_index, inputs] : by_segment) {
    const auto& old = next->segments[segment_index];
    std::vector<float> values(old->rows);
    for (std::size_t row = 0; row < old->rows; ++row) {
      const auto input = inputs.find(old->ids[row]);
      values[row] = input != inputs.end() ? input->second : old->prior_of(row);
    }
    next->segments[segment_index] = ranker::with_priors(old, std::move(values));
  }
  writer_->publish(std::move(next));
}

void ItemIndex::remove(std::span<const std::int64_t> ids) {
  check_unique("ItemIndex::remove", ids);
  std::lock_guard lock(writer_->write_mutex);
  std::unordered_map<std::uint32_t, std::unordered_set<std::int64_t>> by_segment;
  for (std::int64_t id : ids) {
    const auto found = writer_->place_of.find(id);
    if (found == writer_->place_of.end()) {
      throw Error(ErrorCode::NotFound,
                  "ItemIndex::remove: item id " + std::to_string(id) + " is not in the index");
    }
    by_segment[found->second.segment].insert(id);
  }
  // Segments keep their positions (possibly emptied); the rows after a removed one move up.
  auto next = std::make_shared<Snapshot>(*snapshot());
  std::vector<std::pair<std::int64_t, std::uint32_t>> new_rows;  // (id, row) in rebuilt segments
  for (const auto& [segment_index, removed] : by_segment) {
    const Segment& old = *next->segments[segment_index];
    SegmentBuilder builder(dim_, options_.storage);
    builder.reserve(old.rows - removed.size());
    std::size_t first_moved = old.rows;  // the rows before the first removed one stay put
    for (std::size_t row = 0; row < old.rows; ++row) {
      if (!removed.contains(old.ids[row])) {
        builder.append_copy(old, row);
      } else if (first_moved == old.rows) {
        first_moved = row;
      }
    }
    next->segments[segment_index] = builder.finish();
    const Segment& rebuilt = *next->segments[segment_index];
    for (std::size_t row = first_moved; row < rebuilt.rows; ++row) {
      new_rows.emplace_back(rebuilt.ids[row], static_cast<std::uint32_t>(row));
    }
  }
  next->size -= ids.size();
  writer_->publish(std::move(next), [&](auto& place_of) {
    // Every id here is present, so nothing allocates and nothing can throw.
    for (const auto& [id, row] : new_rows) place_of.find(id)->second.row = row;
    for (std::int64_t id : ids) place_of.erase(id);
  });
}

bool ItemIndexStore::lookup(std::int64_t item, std::span<float> out) const {
  return index_->read(item, out).has_value();
}

void ItemIndexStore::lookup_many(std::span<const std::int64_t> items, std::span<float> out,
                                 std::span<bool> found) const {
  index_->read_many(items, out, found);
}

}  // namespace nowrec
