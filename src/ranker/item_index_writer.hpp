// The mutable side of an ItemIndex: the published snapshot and the id-to-segment map.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "nowrec/item_index.hpp"
#include "ranker/snapshot.hpp"

namespace nowrec {

// write_mutex serialises writers and guards segment_of; publish_mutex guards only the swap of
// `current`, so readers wait at most for a pointer copy, never for a write in progress.
struct ItemIndex::Writer {
  mutable std::mutex write_mutex;
  mutable std::mutex publish_mutex;
  std::shared_ptr<const ranker::Snapshot> current;
  std::unordered_map<std::int64_t, std::uint32_t> segment_of;

  void publish(std::shared_ptr<const ranker::Snapshot> next);
};

}  // namespace nowrec
