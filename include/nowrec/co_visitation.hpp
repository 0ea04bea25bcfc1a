// CoVisitation: an online item-to-item graph of what users act on close together, decayed by
// time and by distance in each user's sequence, with bounded memory per item.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

namespace nowrec {

struct CoVisitationOptions {
  // An event pairs its item with the user's last `pair_distance` items; the d-th most recent
  // adds distance_decay^(d - 1) to the pair's weight, in both directions.
  std::size_t pair_distance = 3;
  float distance_decay = 1.0f;
  // Pair weights halve every half_life_seconds of event time; 0: they never decay. Weights never
  // grow back: asked about a time before a pair's last update, the weight counts as it is then.
  double half_life_seconds = 0;
  // Neighbours kept per item. A new neighbour of a full item takes the place of its weakest tenth
  // (at least one), evicted at once.
  std::size_t max_neighbours = 200;
  std::size_t shards = 64;  // independent locks
  // Scoring: the user's last `voters` items vote, the i-th most recent (i from 0) with
  // voter_decay^i times its decayed pair weight.
  std::size_t voters = 5;
  float voter_decay = 0.8f;
};

// One candidate of score(): its summed votes and the recent item whose vote was largest.
struct CoVisitationScore {
  std::int64_t item = 0;
  float score = 0.0f;
  std::int64_t via = 0;
};

struct CoVisitationNeighbour {
  std::int64_t item = 0;
  float weight = 0.0f;  // decayed to the time asked for
};

struct CoVisitationStats {
  std::size_t items = 0;  // items with at least one neighbour
  std::size_t edges = 0;  // directed (item, neighbour) entries
  std::uint64_t pairs_added = 0;
  std::uint64_t evictions = 0;  // neighbours dropped by max_neighbours
  std::size_t memory_bytes = 0;
};

// Holds no per-user state: callers pass each user's recent items (e.g. from
// InterestTracker::recent_events), so forgetting a user needs nothing here, and the pair weights
// it did add cannot be told apart from other users'.
//
// Thread-safety: every method may be called concurrently with every other. add() locks one item's
// shard at a time; snapshot() copies shard by shard while adds go on; restore() replaces all
// shards at once.
class CoVisitation {
 public:
  // Throws Error(InvalidArgument) naming the option at fault: pair_distance, max_neighbours,
  // shards or voters 0, shards above 65536, a decay outside (0, 1], a negative or non-finite
  // half-life.
  explicit CoVisitation(const CoVisitationOptions& options = {});
  CoVisitation(CoVisitation&&) noexcept;
  CoVisitation& operator=(CoVisitation&&) noexcept;
  ~CoVisitation();

  // Pairs `item` with the last pair_distance entries of `previous` (the user's earlier items,
  // oldest first; repeats of `item` itself are skipped). Timestamps need not be in order.
  void add(std::span<const std::int64_t> previous, std::int64_t item, std::int64_t timestamp);

  // Replaces `out` with every item that a vote of the last `voters` entries of `recent` (oldest
  // first) reaches, with its score at `now`, in no particular order. Reuses out's storage and a
  // per-thread table, so a warm caller allocates nothing.
  void score(std::span<const std::int64_t> recent, std::int64_t now,
             std::vector<CoVisitationScore>& out) const;

  // The item's neighbours with their weights at `now`, strongest first (ties: smaller id).
  std::vector<CoVisitationNeighbour> neighbours(std::int64_t item, std::int64_t now) const;

  CoVisitationStats stats() const;
  // Bytes one neighbour entry takes.
  static std::size_t bytes_per_edge() noexcept;

  // Writes the graph to `path` atomically (temporary file, fsync, rename) in checksummed blocks,
  // with the caller's watermark (the stream offset it covers). Throws Error(Io).
  void snapshot(const std::filesystem::path& path, std::uint64_t watermark) const;
  // Replaces the graph with the file's and returns its watermark. Throws Error(Io) when it cannot
  // be read and Error(InvalidFormat), naming the file and block, when it is truncated, corrupt,
  // of another version or made with another max_neighbours; the live graph is then untouched.
  std::uint64_t restore(const std::filesystem::path& path);

  const CoVisitationOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nowrec
