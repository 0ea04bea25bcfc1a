// The leave-one-out split: per user, the last interaction is the test target, the one before it
// the validation target, the rest the training portion.
#pragma once

#include <cstdint>
#include <vector>

#include "replay/replay_data.hpp"

namespace nowrec::eval::replay {

// Indices into ReplayData::events.
struct UserSplit {
  std::int64_t user = 0;
  std::vector<std::uint32_t> train;  // (timestamp, item) order
  std::uint32_t validation = 0;
  std::uint32_t test = 0;
};

struct LeaveOneOutSplit {
  std::vector<UserSplit> users;   // users with at least 3 interactions, by increasing id
  std::size_t users_skipped = 0;  // fewer than 3 interactions: no target is held out
  // Per catalog row: whether any user's training portion holds the item. A target whose item
  // none holds is cold-start.
  std::vector<bool> in_training;
};

LeaveOneOutSplit leave_one_out(const ReplayData& data);

}  // namespace nowrec::eval::replay
