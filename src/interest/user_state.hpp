// One user's interest state: its memory layout and the arithmetic that applies an event to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "interest/state_block_pool.hpp"
#include "nowrec/interest_types.hpp"

namespace nowrec::interest {

// Where each part of a user's state lives in its one heap block. Vectors are stored scaled:
// the true value is stored * group scale, so that time decay multiplies one number per group
// instead of every element (see docs/interest_tracker.md).
struct StateLayout {
  std::size_t dim = 0;
  std::size_t max_interests = 0;
  std::size_t window = 0;
  StateDtype dtype = StateDtype::F32;
  std::size_t short_offset = 0;       // dim elements
  std::size_t long_offset = 0;        // dim elements
  std::size_t negative_offset = 0;    // dim elements
  std::size_t clusters_offset = 0;    // max_interests * dim elements
  std::size_t importance_offset = 0;  // max_interests floats, scaled like the clusters
  std::size_t sq_norm_offset = 0;     // max_interests floats, |stored cluster|^2
  std::size_t window_offset = 0;      // window WindowEntry
  std::size_t block_bytes = 0;

  static StateLayout make(std::size_t dim, std::size_t max_interests, std::size_t window,
                          StateDtype dtype);
};

inline constexpr std::uint16_t kNoAction = 0xFFFF;

struct WindowEntry {
  std::int64_t item;
  std::int32_t time_offset;  // from the user's first event
  std::uint16_t action;      // index into the action table, or kNoAction
  std::uint16_t unused;
};
static_assert(sizeof(WindowEntry) == 16);

// Indices of the four decay groups.
enum Group : int { kShort = 0, kLong = 1, kNegative = 2, kClusters = 3, kGroups = 4 };

struct UserState;
using UserEntry = std::pair<const std::string, UserState>;

struct UserState {
  StateBlock block;  // StateLayout::block_bytes
  std::int64_t first_timestamp = 0;
  std::int64_t last_timestamp = 0;
  std::uint64_t last_sequence = 0;
  std::uint64_t events = 0;
  float scale[kGroups] = {1, 1, 1, 1};
  float weight[3] = {0, 0, 0};  // short, long, negative: scaled decayed weight sums
  std::uint16_t window_start = 0;
  std::uint16_t window_size = 0;
  std::uint8_t clusters = 0;
  // Least-recently-active list of the shard, most recent at the head.
  UserEntry* lru_prev = nullptr;
  UserEntry* lru_next = nullptr;
};

// Half-lives of the groups in seconds, and the cosine above which an event joins a cluster.
struct DecayParams {
  double half_life[kGroups] = {};
  float join_min_cosine = 0.5f;
};

// One event after validation: a finite vector of dim values and a finite weight.
struct AppliedEvent {
  std::span<const float> vector;
  float squared_norm = 0.0f;  // of vector, as cpu::kernels().dot(vector, vector) gives it
  float weight = 0.0f;
  std::int64_t timestamp = 0;
  std::int64_t item = -1;
  std::uint16_t action = kNoAction;
};

// A user whose first event is at `timestamp`, with a zeroed block from `blocks`.
UserState make_user_state(StateBlockPool& blocks, const StateLayout& layout,
                          std::int64_t timestamp);

// Applies an event no older than the user's last one minus the allowed lateness (checked by the
// caller). Never throws.
void apply_event(UserState& state, const StateLayout& layout, const DecayParams& params,
                 const AppliedEvent& event) noexcept;

// The lines of a user's state that applying an event reads or writes, whole or in two parts. A
// batch asks for the parts one event apart, so that each event's lines reach the memory system
// in two smaller bursts, not one.
enum class StateLines : std::uint8_t {
  All,
  ShortLong,  // S and L, and the window's next entry
  Changed,    // what the event's sign changes besides: the clusters in use and their weights,
              // or the negative vector
};

// Asks the caches for `lines` of the state that applying an event of `event_weight` reads or
// writes: the vectors it changes (for a positive weight the clusters in use and their weights,
// for a negative one the negative vector) and the end of the window. Without the weight (not
// known yet), as for a positive one, the common case.
void prefetch_for_update(const UserState& state, const StateLayout& layout,
                         std::optional<float> event_weight,
                         StateLines lines = StateLines::All) noexcept;

// The decay factor 2^(-elapsed / half_life).
double decay_factor(double elapsed_seconds, double half_life_seconds) noexcept;

// group vector decayed to `now` (not normalised) into out; returns the group's decayed weight.
void read_vector(const UserState& state, const StateLayout& layout, const DecayParams& params,
                 Group group, std::size_t cluster, std::int64_t now, std::span<float> out) noexcept;

// The decayed weight of a group (short, long, negative) or of one cluster (its importance).
float read_weight(const UserState& state, const StateLayout& layout, const DecayParams& params,
                  Group group, std::size_t cluster, std::int64_t now) noexcept;

inline WindowEntry* window_entries(const UserState& state, const StateLayout& layout) noexcept {
  return reinterpret_cast<WindowEntry*>(state.block.get() + layout.window_offset);
}
inline float* importances(const UserState& state, const StateLayout& layout) noexcept {
  return reinterpret_cast<float*>(state.block.get() + layout.importance_offset);
}

}  // namespace nowrec::interest
