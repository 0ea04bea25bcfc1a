// CatalogItemStore: an id -> row map over a catalog's items and embeddings.
#include "cli/catalog_item_store.hpp"

#include <algorithm>

namespace nowrec::cli {

CatalogItemStore::CatalogItemStore(const CatalogEmbeddings& catalog) : catalog_(catalog) {
  row_of_.reserve(catalog.ids.size());
  for (std::size_t row = 0; row < catalog.ids.size(); ++row) row_of_[catalog.ids[row]] = row;
}

bool CatalogItemStore::lookup(std::int64_t item, std::span<float> out) const {
  const auto found = embedding(item);
  if (found.empty() || out.size() != found.size()) return false;
  std::copy(found.begin(), found.end(), out.begin());
  return true;
}

const CatalogItem* CatalogItemStore::item(std::int64_t id) const {
  const auto found = row_of_.find(id);
  return found == row_of_.end() ? nullptr : &catalog_.items[found->second];
}

std::span<const float> CatalogItemStore::embedding(std::int64_t id) const {
  const auto found = row_of_.find(id);
  if (found == row_of_.end()) return {};
  return std::span(catalog_.embeddings).subspan(found->second * catalog_.dim, catalog_.dim);
}

}  // namespace nowrec::cli
