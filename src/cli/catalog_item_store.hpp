// Item embeddings of a catalog by id, as the InterestTracker's ItemStore and for display.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>

#include "cli/catalog_cache.hpp"
#include "nowrec/interest_types.hpp"

namespace nowrec::cli {

// Looks items of a CatalogEmbeddings up by id. The catalog must outlive the store.
//
// Thread-safety: const methods may be called concurrently.
class CatalogItemStore : public ItemStore {
 public:
  explicit CatalogItemStore(const CatalogEmbeddings& catalog);

  bool lookup(std::int64_t item, std::span<float> out) const override;

  // Null / empty for an unknown id.
  const CatalogItem* item(std::int64_t id) const;
  std::span<const float> embedding(std::int64_t id) const;
  bool contains(std::int64_t id) const { return row_of_.contains(id); }

 private:
  const CatalogEmbeddings& catalog_;
  std::unordered_map<std::int64_t, std::size_t> row_of_;
};

}  // namespace nowrec::cli
