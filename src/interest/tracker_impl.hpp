// The inside of InterestTracker: sharded user maps with a least-recently-active list each.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "interest/user_state.hpp"
#include "nowrec/interest_tracker.hpp"

namespace nowrec {
namespace interest {

// Transparent hashing so that lookups by string_view allocate nothing.
struct UserHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view user) const noexcept {
    return std::hash<std::string_view>{}(user);
  }
};

using UserMap = std::unordered_map<std::string, UserState, UserHash, std::equal_to<>>;

// Counters kept per shard under its lock.
struct ShardCounters {
  std::uint64_t applied = 0;
  std::uint64_t duplicate = 0;
  std::uint64_t evicted = 0;
  std::uint64_t expired = 0;
  std::uint64_t forgotten = 0;
};

// Thread-safety: every member is guarded by `mutex`.
struct Shard {
  mutable std::mutex mutex;
  UserMap users;
  UserEntry* lru_head = nullptr;  // most recently active
  UserEntry* lru_tail = nullptr;  // least recently active
  ShardCounters counters;

  void lru_unlink(UserEntry* entry) noexcept;
  void lru_push_front(UserEntry* entry) noexcept;
  // Removes the least recently active user.
  void erase_tail() noexcept;
  // Rebuilds the list from the map, oldest last event at the tail (after a restore).
  void rebuild_lru();
};

}  // namespace interest

struct InterestTracker::Impl {
  InterestTrackerOptions options;
  interest::StateLayout layout;
  interest::DecayParams decay;
  std::size_t bytes_per_user = 0;
  std::size_t max_users_per_shard = 0;  // 0: no cap
  // The LRU lists cost two more cache misses per update; kept only when a cap or TTL needs them.
  bool track_lru = false;
  std::vector<interest::Shard> shards;
  std::atomic<std::uint64_t> rejected{0};

  explicit Impl(const InterestTrackerOptions& opts);

  interest::Shard& shard_of(std::string_view user) {
    return shards[interest::UserHash{}(user) % shards.size()];
  }
  const interest::Shard& shard_of(std::string_view user) const {
    return shards[interest::UserHash{}(user) % shards.size()];
  }
};

namespace interest {

// The key a user is stored under: the id itself, or, when the options give user_id_key, the
// id's keyed SipHash-2-4 (8 bytes), so raw ids are never held or persisted.
class StoredUserKey {
 public:
  StoredUserKey(const InterestTrackerOptions& options, std::string_view user);
  std::string_view view() const noexcept { return view_; }

 private:
  std::array<char, 8> hash_{};
  std::string_view view_;
};

// The keyed hash of a fixed text, stored in snapshots so that a restore under another key fails
// instead of losing every user; 0 without a key.
std::uint64_t user_key_check(const InterestTrackerOptions& options);

}  // namespace interest
}  // namespace nowrec
