// The mutable side of an ItemIndex: the published snapshot and where each id's row lies.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "nowrec/item_index.hpp"
#include "ranker/snapshot.hpp"

namespace nowrec {

// Where an item's row lies in the published snapshot.
struct RowPlace {
  std::uint32_t segment = 0;
  std::uint32_t row = 0;
};

// write_mutex serialises writers and guards place_of; publish_mutex guards only the swap of
// `current`, so readers wait at most for a pointer copy, never for a write in progress.
struct ItemIndex::Writer {
  mutable std::mutex write_mutex;
  mutable std::mutex publish_mutex;
  std::shared_ptr<const ranker::Snapshot> current;
  std::unordered_map<std::int64_t, RowPlace> place_of;

  void publish(std::shared_ptr<const ranker::Snapshot> next);
};

}  // namespace nowrec
