// The catalog's vectors as an ItemStore and as an ItemIndex.
#include "replay/catalog_space.hpp"

#include <algorithm>
#include <string>

#include "nowrec/error.hpp"

namespace nowrec::eval::replay {
namespace {

void check_shape(const ReplayData& data, std::span<const float> vectors, std::size_t dim) {
  if (dim == 0 || vectors.size() != data.item_ids.size() * dim) {
    throw Error(ErrorCode::InvalidArgument,
                "replay: catalog vectors hold " + std::to_string(vectors.size()) +
                    " floats, expected " + std::to_string(data.item_ids.size()) + " items x dim " +
                    std::to_string(dim));
  }
}

}  // namespace

CatalogStore::CatalogStore(const ReplayData& data, std::span<const float> vectors, std::size_t dim)
    : data_(data), vectors_(vectors), dim_(dim) {
  check_shape(data, vectors, dim);
}

bool CatalogStore::lookup(std::int64_t item, std::span<float> out) const {
  const auto found = data_.row_of.find(item);
  if (found == data_.row_of.end() || out.size() != dim_) return false;
  const std::span<const float> source = row(found->second);
  std::copy(source.begin(), source.end(), out.begin());
  return true;
}

ItemIndex make_catalog_index(const ReplayData& data, std::span<const float> vectors,
                             std::size_t dim) {
  check_shape(data, vectors, dim);
  ItemIndex index(dim, {.storage = StorageType::F32});
  index.add(data.item_ids, vectors);
  return index;
}

InterestEvent interest_event(const ReplayData& data, const CatalogStore& store,
                             const ReplayEvent& event, const std::string& user) {
  InterestEvent update;
  update.user = user;
  update.item_embedding = store.row(event.row);
  update.timestamp = event.timestamp;
  update.item = data.item_ids[event.row];
  update.action = event.action;
  return update;
}

}  // namespace nowrec::eval::replay
