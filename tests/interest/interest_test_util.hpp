// Helpers shared by the InterestTracker tests: random embeddings and whole-state comparison.
#pragma once

#include <cmath>
#include <random>
#include <string_view>
#include <vector>

#include "nowrec/interest_tracker.hpp"

namespace nowrec::test {

inline std::vector<float> random_embedding(std::mt19937& rng, std::size_t dim) {
  std::normal_distribution<float> dist;
  std::vector<float> v(dim);
  for (float& x : v) x = dist(rng);
  return v;
}

inline std::vector<float> unit(std::size_t dim, std::size_t axis) {
  std::vector<float> v(dim, 0.0f);
  v[axis] = 1.0f;
  return v;
}

// Everything a query can see of a user, so that "state unchanged" can be checked exactly.
struct UserView {
  std::vector<Interest> interests;
  std::vector<RecentEvent> recent;
  std::optional<UserStats> stats;
};

inline UserView view(const InterestTracker& tracker, std::string_view user, std::int64_t now) {
  return {tracker.interests(user, now), tracker.recent_events(user), tracker.user_stats(user)};
}

inline bool same(const UserView& a, const UserView& b) {
  if (a.interests.size() != b.interests.size() || a.recent.size() != b.recent.size()) return false;
  for (std::size_t i = 0; i < a.interests.size(); ++i) {
    if (a.interests[i].kind != b.interests[i].kind ||
        a.interests[i].weight != b.interests[i].weight ||
        a.interests[i].vector != b.interests[i].vector) {
      return false;
    }
  }
  for (std::size_t i = 0; i < a.recent.size(); ++i) {
    if (a.recent[i].item != b.recent[i].item || a.recent[i].timestamp != b.recent[i].timestamp ||
        a.recent[i].action != b.recent[i].action) {
      return false;
    }
  }
  if (a.stats.has_value() != b.stats.has_value()) return false;
  if (a.stats) {
    return a.stats->events == b.stats->events &&
           a.stats->last_timestamp == b.stats->last_timestamp &&
           a.stats->first_timestamp == b.stats->first_timestamp &&
           a.stats->interests == b.stats->interests &&
           a.stats->last_sequence == b.stats->last_sequence;
  }
  return true;
}

}  // namespace nowrec::test
