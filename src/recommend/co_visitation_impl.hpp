// CoVisitation's state: shards of per-item neighbour lists, each under its own lock.
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "nowrec/co_visitation.hpp"

namespace nowrec::recommend {

// One directed neighbour entry. `weight` is its value at `timestamp`; at time t it is
// weight * decay(t - timestamp).
struct Edge {
  std::int64_t item = 0;
  std::int64_t timestamp = 0;
  float weight = 0.0f;
};

using NeighbourList = std::vector<Edge>;

struct CoVisitationShard {
  mutable std::mutex mutex;
  std::unordered_map<std::int64_t, NeighbourList> items;
  std::size_t edges = 0;
};

// The most shards a graph may have: each is a mutex and a hash table, so a count far above the
// cores that add at once only costs memory.
constexpr std::size_t kMaxCoVisitationShards = 65536;

// Throws Error(InvalidArgument) "CoVisitationOptions: <field> ..." for an option out of range.
void check_co_visitation_options(const CoVisitationOptions& options);

// exp2(-(to - from) / half_life): how much of a weight stated at `from` is left at `to`; 1
// without decay. Weights never grow: a weight stated later than `to` (an event after the time
// asked about, as leave-one-out's training portions of other users can hold) counts as it is.
inline float decay_between(double half_life_seconds, std::int64_t from, std::int64_t to) {
  if (half_life_seconds <= 0 || to <= from) return 1.0f;
  // In uint64: `to - from` overflows int64 for times far apart, and the difference is positive.
  const auto elapsed = std::uint64_t(to) - std::uint64_t(from);
  return static_cast<float>(std::exp2(-double(elapsed) / half_life_seconds));
}

}  // namespace nowrec::recommend

namespace nowrec {

struct CoVisitation::Impl {
  explicit Impl(const CoVisitationOptions& o) : options(o), shards(o.shards) {}

  recommend::CoVisitationShard& shard_of(std::int64_t item) {
    return shards[std::hash<std::int64_t>{}(item) % shards.size()];
  }
  const recommend::CoVisitationShard& shard_of(std::int64_t item) const {
    return shards[std::hash<std::int64_t>{}(item) % shards.size()];
  }

  CoVisitationOptions options;
  std::vector<recommend::CoVisitationShard> shards;
  std::atomic<std::uint64_t> pairs_added{0};
  std::atomic<std::uint64_t> evictions{0};
};

}  // namespace nowrec
