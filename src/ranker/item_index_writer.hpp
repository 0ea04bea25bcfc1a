// The mutable side of an ItemIndex: the published snapshot and where each id's row lies.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include <boost/unordered/unordered_flat_map.hpp>

#include "common/writer_preferring_mutex.hpp"
#include "nowrec/item_index.hpp"
#include "ranker/snapshot.hpp"

namespace nowrec {

// Where an item's row lies in the published snapshot.
struct RowPlace {
  std::uint32_t segment = 0;
  std::uint32_t row = 0;
};

// Every id's place, in one open-addressing table: finding an id touches a group of tags and one
// slot, where a node-based map walks a bucket array and then a node, a miss depending on a miss.
using RowPlaces = boost::unordered_flat_map<std::int64_t, RowPlace>;

// write_mutex serialises writers, which build their snapshot under it alone. read_mutex guards
// `current` and place_of together: a writer holds it exclusively only to change place_of and
// swap `current` (publish), and readers hold it shared, so a reader sees the map and the snapshot
// agree, and waits at most for a publish, never for a write being built; a waiting publish holds
// back new readers, so a stream of reads cannot keep it out. Writers read place_of under
// write_mutex alone: only they change it.
struct ItemIndex::Writer {
  mutable std::mutex write_mutex;
  mutable common::WriterPreferringMutex read_mutex;
  std::shared_ptr<const ranker::Snapshot> current;
  RowPlaces place_of;

  // The segment of `current` and the row that hold `id`, or a null segment for an unknown id.
  // Under read_mutex (or write_mutex). Throws Error(Internal), naming `where`, when place_of and
  // `current` disagree.
  std::pair<const ranker::Segment*, std::size_t> locate(std::int64_t id, const char* where) const;
  // locate() in two steps, so that a batch can ask for the ids of its rows before checking them:
  // place() reads only the map, check_place() confirms that the segment holds `id` at `row`.
  std::pair<const ranker::Segment*, std::size_t> place(std::int64_t id, const char* where) const;
  static void check_place(std::int64_t id, const ranker::Segment& segment, std::size_t row,
                          const char* where);

  // Under read_mutex held exclusively: change_places(place_of), then `next` becomes current. A
  // change_places that throws must leave place_of as it found it; `current` is then unchanged.
  // The snapshot replaced is released after the lock.
  template <class ChangePlaces>
  void publish(std::shared_ptr<const ranker::Snapshot> next, ChangePlaces&& change_places) {
    std::shared_ptr<const ranker::Snapshot> replaced;
    std::unique_lock lock(read_mutex);
    change_places(place_of);
    replaced = std::exchange(current, std::move(next));
  }
  // A write that moves no row.
  void publish(std::shared_ptr<const ranker::Snapshot> next) {
    publish(std::move(next), [](RowPlaces&) {});
  }
};

}  // namespace nowrec
