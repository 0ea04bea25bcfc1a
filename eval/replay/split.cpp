// Builds the leave-one-out split from each user's (timestamp, item) ordered interactions.
#include "replay/split.hpp"

namespace nowrec::eval::replay {

LeaveOneOutSplit leave_one_out(const ReplayData& data) {
  LeaveOneOutSplit split;
  split.in_training.assign(data.item_ids.size(), false);
  for (std::size_t u = 0; u < data.users.size(); ++u) {
    const std::vector<std::uint32_t>& events = data.user_events[u];
    // Training on a single item still gives a history to predict the validation target from.
    if (events.size() < 3) {
      ++split.users_skipped;
      continue;
    }
    UserSplit user{.user = data.users[u],
                   .train = {events.begin(), events.end() - 2},
                   .validation = events[events.size() - 2],
                   .test = events.back()};
    for (std::uint32_t index : user.train) split.in_training[data.events[index].row] = true;
    split.users.push_back(std::move(user));
  }
  return split;
}

}  // namespace nowrec::eval::replay
