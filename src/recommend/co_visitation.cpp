// CoVisitation: adding decayed pair weights, bounded neighbour lists, and voting.
#include "nowrec/co_visitation.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "nowrec/error.hpp"
#include "recommend/co_visitation_impl.hpp"

namespace nowrec {
namespace {

using recommend::decay_between;
using recommend::Edge;
using recommend::NeighbourList;

}  // namespace

void recommend::check_co_visitation_options(const CoVisitationOptions& o) {
  const auto fail = [](const std::string& message) {
    throw Error(ErrorCode::InvalidArgument, "CoVisitationOptions: " + message);
  };
  if (o.pair_distance == 0) fail("pair_distance must be at least 1");
  if (o.max_neighbours == 0) fail("max_neighbours must be at least 1");
  if (o.shards == 0 || o.shards > kMaxCoVisitationShards) {
    fail("shards must be in [1, " + std::to_string(kMaxCoVisitationShards) + "], got " +
         std::to_string(o.shards));
  }
  if (o.voters == 0) fail("voters must be at least 1");
  if (!(o.distance_decay > 0.0f && o.distance_decay <= 1.0f)) {
    fail("distance_decay must be in (0, 1]");
  }
  if (!(o.voter_decay > 0.0f && o.voter_decay <= 1.0f)) fail("voter_decay must be in (0, 1]");
  if (!std::isfinite(o.half_life_seconds) || o.half_life_seconds < 0) {
    fail("half_life_seconds must be finite and not negative");
  }
}

namespace {

// A full item evicts this share of its neighbours at once.
constexpr std::size_t kEvictionFraction = 10;

// The eviction order of weights restated at one time: smaller weight first, then larger id.
bool weaker(const Edge& a, const Edge& b) {
  return a.weight != b.weight ? a.weight < b.weight : a.item > b.item;
}

// Where each candidate of score() sits in its output: an open-addressing table reused between
// calls on one thread, so scoring allocates nothing once the table has grown to the largest
// vote; clear() resets only the slots used.
class CandidatePositions {
 public:
  // Makes room for `more` candidates besides those in `out` (keeping the load at most a half).
  void reserve(std::size_t more, const std::vector<CoVisitationScore>& out) {
    const std::size_t needed = 2 * (out.size() + more);
    if (needed <= keys_.size()) return;
    std::size_t size = 64;
    while (size < needed) size *= 2;
    keys_.assign(size, kEmpty);
    positions_.resize(size);
    used_.clear();
    mask_ = size - 1;
    for (std::size_t p = 0; p < out.size(); ++p) find_or_insert(out[p].item, p);
  }

  // The position of `item`, or `next` (stored) when it is new; `inserted` tells which.
  std::size_t find_or_insert(std::int64_t item, std::size_t next, bool* inserted = nullptr) {
    std::size_t slot = (static_cast<std::uint64_t>(item) * 0x9E3779B97F4A7C15ull >> 20) & mask_;
    while (keys_[slot] != kEmpty) {
      if (keys_[slot] == item) {
        if (inserted != nullptr) *inserted = false;
        return positions_[slot];
      }
      slot = (slot + 1) & mask_;
    }
    keys_[slot] = item;
    positions_[slot] = static_cast<std::uint32_t>(next);
    used_.push_back(static_cast<std::uint32_t>(slot));
    if (inserted != nullptr) *inserted = true;
    return next;
  }

  void clear() {
    for (std::uint32_t slot : used_) keys_[slot] = kEmpty;
    used_.clear();
  }

 private:
  static constexpr std::int64_t kEmpty = std::numeric_limits<std::int64_t>::min();
  std::vector<std::int64_t> keys_;
  std::vector<std::uint32_t> positions_;
  std::vector<std::uint32_t> used_;
  std::size_t mask_ = 0;
};

// What score() reuses between calls on one thread: where each candidate sits in `out`, and the
// largest single vote it got.
struct ScoreScratch {
  CandidatePositions positions;
  std::vector<float> largest_vote;
};

}  // namespace

CoVisitation::CoVisitation(const CoVisitationOptions& options) {
  recommend::check_co_visitation_options(options);
  impl_ = std::make_unique<Impl>(options);
}
CoVisitation::CoVisitation(CoVisitation&&) noexcept = default;
CoVisitation& CoVisitation::operator=(CoVisitation&&) noexcept = default;
CoVisitation::~CoVisitation() = default;

const CoVisitationOptions& CoVisitation::options() const noexcept { return impl_->options; }

std::size_t CoVisitation::bytes_per_edge() noexcept { return sizeof(Edge); }

void CoVisitation::add(std::span<const std::int64_t> previous, std::int64_t item,
                       std::int64_t timestamp) {
  const CoVisitationOptions& o = impl_->options;
  const double half_life = o.half_life_seconds;
  const auto add_edge = [&](std::int64_t from, std::int64_t to, float amount) {
    recommend::CoVisitationShard& shard = impl_->shard_of(from);
    const std::lock_guard lock(shard.mutex);
    NeighbourList& list = shard.items[from];
    const auto found =
        std::find_if(list.begin(), list.end(), [&](const Edge& e) { return e.item == to; });
    if (found != list.end()) {
      if (timestamp >= found->timestamp) {
        found->weight =
            found->weight * decay_between(half_life, found->timestamp, timestamp) + amount;
        found->timestamp = timestamp;
      } else {
        found->weight += amount * decay_between(half_life, timestamp, found->timestamp);
      }
      return;
    }
    if (list.size() < o.max_neighbours) {
      if (list.empty()) list.reserve(std::min<std::size_t>(o.max_neighbours, 8));
      list.push_back({to, timestamp, amount});
      ++shard.edges;
      return;
    }
    // Full: the weakest tenth at this event's time makes room (on a tie the larger ids). Evicting a
    // batch at once keeps the cost of the scan to a tenth of an entry per insert.
    const std::size_t evict = std::max<std::size_t>(1, o.max_neighbours / kEvictionFraction);
    // Every weight is first restated at the latest time any of them (or this event) has: the
    // same values, one reference, and only ever decayed forward.
    std::int64_t latest = timestamp;
    for (const Edge& edge : list) latest = std::max(latest, edge.timestamp);
    for (Edge& edge : list) {
      edge.weight *= decay_between(half_life, edge.timestamp, latest);
      edge.timestamp = latest;
    }
    std::nth_element(list.begin(), list.begin() + std::ptrdiff_t(evict - 1), list.end(), weaker);
    list.erase(list.begin(), list.begin() + std::ptrdiff_t(evict));
    list.push_back({to, latest, amount * decay_between(half_life, timestamp, latest)});
    shard.edges -= evict - 1;
    impl_->evictions.fetch_add(evict, std::memory_order_relaxed);
  };

  const std::size_t partners = std::min(o.pair_distance, previous.size());
  float amount = 1.0f;
  std::uint64_t pairs = 0;
  for (std::size_t d = 1; d <= partners; ++d, amount *= o.distance_decay) {
    const std::int64_t other = previous[previous.size() - d];
    if (other == item) continue;
    add_edge(other, item, amount);
    add_edge(item, other, amount);
    ++pairs;
  }
  impl_->pairs_added.fetch_add(pairs, std::memory_order_relaxed);
}

void CoVisitation::score(std::span<const std::int64_t> recent, std::int64_t now,
                         std::vector<CoVisitationScore>& out) const {
  thread_local ScoreScratch scratch;
  const CoVisitationOptions& o = impl_->options;
  out.clear();
  scratch.positions.clear();
  scratch.largest_vote.clear();
  const std::size_t voters = std::min(o.voters, recent.size());
  float vote = 1.0f;
  for (std::size_t i = 0; i < voters; ++i, vote *= o.voter_decay) {
    const std::int64_t voter = recent[recent.size() - 1 - i];
    const recommend::CoVisitationShard& shard = impl_->shard_of(voter);
    const std::lock_guard lock(shard.mutex);
    const auto found = shard.items.find(voter);
    if (found == shard.items.end()) continue;
    scratch.positions.reserve(found->second.size(), out);
    for (const Edge& edge : found->second) {
      const float part =
          vote * edge.weight * decay_between(o.half_life_seconds, edge.timestamp, now);
      bool inserted = false;
      const std::size_t position =
          scratch.positions.find_or_insert(edge.item, out.size(), &inserted);
      if (inserted) {
        out.push_back({edge.item, part, voter});
        scratch.largest_vote.push_back(part);
        continue;
      }
      CoVisitationScore& entry = out[position];
      entry.score += part;
      if (part > scratch.largest_vote[position]) {
        scratch.largest_vote[position] = part;
        entry.via = voter;
      }
    }
  }
}

std::vector<CoVisitationNeighbour> CoVisitation::neighbours(std::int64_t item,
                                                            std::int64_t now) const {
  std::vector<CoVisitationNeighbour> result;
  {
    const recommend::CoVisitationShard& shard = impl_->shard_of(item);
    const std::lock_guard lock(shard.mutex);
    const auto found = shard.items.find(item);
    if (found == shard.items.end()) return result;
    for (const Edge& edge : found->second) {
      result.push_back({edge.item, edge.weight * decay_between(impl_->options.half_life_seconds,
                                                               edge.timestamp, now)});
    }
  }
  std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) {
    return a.weight != b.weight ? a.weight > b.weight : a.item < b.item;
  });
  return result;
}

CoVisitationStats CoVisitation::stats() const {
  CoVisitationStats stats;
  for (const recommend::CoVisitationShard& shard : impl_->shards) {
    const std::lock_guard lock(shard.mutex);
    stats.items += shard.items.size();
    stats.edges += shard.edges;
    std::size_t capacity = 0;
    for (const auto& [item, list] : shard.items) capacity += list.capacity();
    // A hash node holds the key, the vector and the next pointer; the table a bucket pointer
    // per bucket.
    stats.memory_bytes +=
        capacity * sizeof(Edge) +
        shard.items.size() * (sizeof(std::int64_t) + sizeof(NeighbourList) + sizeof(void*)) +
        shard.items.bucket_count() * sizeof(void*);
  }
  stats.pairs_added = impl_->pairs_added.load(std::memory_order_relaxed);
  stats.evictions = impl_->evictions.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace nowrec
