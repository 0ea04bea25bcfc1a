// The interactions and catalog a replay runs on: items as dense rows, events as rows and times.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nowrec/eval/dataset.hpp"

namespace nowrec::eval::replay {

// One interaction with its item as a catalog row.
struct ReplayEvent {
  std::int64_t user = 0;
  std::uint32_t row = 0;  // index into ReplayData::item_ids
  std::int64_t timestamp = 0;
  std::string_view action;  // action_for_rating(rating)
};

// The shared protocol's tracker action for a rating (tools/interaction_split.py):
// "like" at 4 and above, "view" below, "click" when the row has no rating.
std::string_view action_for_rating(const std::optional<float>& rating);

struct ReplayData {
  std::vector<std::int64_t> item_ids;  // catalog order
  std::unordered_map<std::int64_t, std::uint32_t> row_of;
  // Every interaction ordered by (timestamp, user, item): the global stream.
  std::vector<ReplayEvent> events;
  // Users in increasing id order, each with the indices into `events` of its interactions in
  // (timestamp, item) order.
  std::vector<std::int64_t> users;
  std::vector<std::vector<std::uint32_t>> user_events;
};

// Joins interactions to the catalog. The interactions are sorted by (timestamp, user, item)
// whatever their order. Throws Error(InvalidArgument) naming `interactions_name` and
// `catalog_name` when an interaction names an item the catalog lacks, and when the catalog is
// empty or repeats an id.
ReplayData make_replay_data(std::vector<Interaction> interactions,
                            std::span<const std::int64_t> catalog_ids,
                            const std::string& interactions_name = "interactions",
                            const std::string& catalog_name = "catalog");

}  // namespace nowrec::eval::replay
