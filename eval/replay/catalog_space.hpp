// Item vectors of the catalog for the tracker-based methods: an ItemStore the InterestTracker
// looks events up in, and an ItemIndex the Ranker scans, both in catalog row order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nowrec/interest_types.hpp"
#include "nowrec/item_index.hpp"
#include "replay/replay_data.hpp"

namespace nowrec::eval::replay {

// Looks up catalog rows of a [items][dim] matrix by item id.
// Thread-safety: lookup() may be called concurrently.
class CatalogStore final : public ItemStore {
 public:
  CatalogStore(const ReplayData& data, std::span<const float> vectors, std::size_t dim);
  bool lookup(std::int64_t item, std::span<float> out) const override;
  std::span<const float> row(std::uint32_t row) const { return vectors_.subspan(row * dim_, dim_); }
  std::size_t dim() const noexcept { return dim_; }

 private:
  const ReplayData& data_;
  std::span<const float> vectors_;
  std::size_t dim_;
};

// The tracker event for a replayed interaction: its item's row of `store`, time and action, for
// `user` (the event's user id as text, which the event points to).
InterestEvent interest_event(const ReplayData& data, const CatalogStore& store,
                             const ReplayEvent& event, const std::string& user);

// An F32 ItemIndex of the catalog's rows. Throws Error(InvalidArgument) when `vectors` is not
// item_ids.size() rows of dim floats.
ItemIndex make_catalog_index(const ReplayData& data, std::span<const float> vectors,
                             std::size_t dim);

}  // namespace nowrec::eval::replay
