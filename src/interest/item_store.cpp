// ItemStore::lookup_many for stores that give only single lookups.
#include <string>

#include "nowrec/error.hpp"
#include "nowrec/interest_types.hpp"

namespace nowrec {

void ItemStore::lookup_many(std::span<const std::int64_t> items, std::span<float> out,
                            std::span<bool> found) const {
  const bool whole_rows =
      items.empty() ? out.empty() : !out.empty() && out.size() % items.size() == 0;
  if (found.size() != items.size() || !whole_rows) {
    throw Error(ErrorCode::InvalidArgument,
                "ItemStore::lookup_many: " + std::to_string(items.size()) + " items need as many " +
                    "flags and a whole number of values each, got " + std::to_string(found.size()) +
                    " flags and " + std::to_string(out.size()) + " values");
  }
  if (items.empty()) return;
  const std::size_t dim = out.size() / items.size();
  for (std::size_t i = 0; i < items.size(); ++i) {
    found[i] = lookup(items[i], out.subspan(i * dim, dim));
  }
}

}  // namespace nowrec
