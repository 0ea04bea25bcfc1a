// The inside of InterestTracker: sharded user maps with a least-recently-active list each.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "interest/shard_mutex.hpp"
#include "interest/state_block_pool.hpp"
#include "interest/user_state.hpp"
#include "interest/user_table.hpp"
#include "nowrec/interest_tracker.hpp"

namespace nowrec {
namespace interest {

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
  mutable ShardMutex mutex;
  UserTable users;
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

// The key a user is stored under: the id itself, or, when the options give user_id_key, the
// id's keyed SipHash-2-4 (8 bytes), so raw ids are never held or persisted.
class StoredUserKey {
 public:
  StoredUserKey() = default;
  StoredUserKey(const InterestTrackerOptions& options, std::string_view user);
  // Copies stay valid: a keyed hash is viewed in the copy's own bytes.
  std::string_view view() const noexcept {
    return keyed_ ? std::string_view(keyed_hash_.data(), keyed_hash_.size()) : user_;
  }
  // user_hash(view()): the shard and the table slot.
  std::uint64_t hash() const noexcept { return hash_; }

 private:
  std::array<char, 8> keyed_hash_{};
  bool keyed_ = false;
  std::string_view user_;
  std::uint64_t hash_ = 0;
};

// The keyed hash of a fixed text, stored in snapshots so that a restore under another key fails
// instead of losing every user; 0 without a key.
std::uint64_t user_key_check(const InterestTrackerOptions& options);

// What a tracker's memory is sized by, worked out from its options once they are checked.
struct TrackerSizing {
  StateLayout layout;
  std::size_t bytes_per_user = 0;  // state block, table entry and table slots
  std::size_t reserved_users = 0;  // mapped when the tracker is built
};

// Every check InterestTracker's constructor makes of its options, the memory expected_users
// would reserve included, and the sizes that follow from them, without building a tracker
// (PartitionedTracker checks its options before any partition is adopted). Throws
// Error(InvalidArgument).
TrackerSizing check_options(const InterestTrackerOptions& options);

}  // namespace interest

struct InterestTracker::Impl {
  InterestTrackerOptions options;
  interest::StateLayout layout;
  interest::DecayParams decay;
  std::size_t bytes_per_user = 0;
  std::size_t max_users_per_shard = 0;  // 0: no cap
  // The LRU lists cost two more cache misses per update; kept only when a cap or TTL needs them.
  bool track_lru = false;
  // Users whose state blocks and table entries are mapped when the tracker is built.
  std::size_t reserved_users = 0;
  // Every user's state block and table entry come from these; declared before the shards, so
  // they outlive their users.
  interest::StateBlockPool blocks;
  interest::StateBlockPool entries;
  std::vector<interest::Shard> shards;
  std::atomic<std::uint64_t> rejected{0};

  explicit Impl(const InterestTrackerOptions& opts);
  Impl(const InterestTrackerOptions& opts, const interest::TrackerSizing& sizing);

  // An empty shard table whose entries come from `entries`.
  interest::UserTable make_table() { return interest::UserTable(entries); }
  // Sizes a shard's table for its share of options.expected_users, no more than the memory
  // cap lets a shard hold (nothing when 0).
  void reserve_expected(interest::UserTable& table) const;

  // What the item store gave for an event's item, when the caller asked for it already (a batch
  // asks for all its events' items at once).
  struct StoreRow {
    bool found = false;
    std::span<const float> vector;  // dim floats when found
  };

  // Checks everything about an event that does not need the user's state and finds its vector:
  // the event's own embedding where it lies, the item store's row (`stored`, or looked up into
  // `scratch` when null), or one written into `scratch` (dim floats). Throws
  // Error(InvalidArgument), counting the event as rejected.
  interest::AppliedEvent prepare(const InterestEvent& event, std::span<float> scratch,
                                 const StoreRow* stored = nullptr);

  // Applies a prepared event to its user, under `shard`'s lock (held by the caller). Returns
  // false for a sequence already applied. Throws Error(InvalidArgument), counting the event as
  // rejected and changing nothing, for an event older than the allowed lateness or more than 68
  // years from the user's first.
  bool apply_locked(interest::Shard& shard, const interest::StoredUserKey& user,
                    const InterestEvent& event, const interest::AppliedEvent& applied);

  std::size_t shard_index(std::uint64_t user_hash) const { return user_hash % shards.size(); }
  interest::Shard& shard_of(const interest::StoredUserKey& user) {
    return shards[shard_index(user.hash())];
  }
  const interest::Shard& shard_of(const interest::StoredUserKey& user) const {
    return shards[shard_index(user.hash())];
  }
};

}  // namespace nowrec
