// PartitionedTracker: the InterestTracker split by the partitions of an event stream (Kafka's,
// or any log partitioned by user key), so that a worker holds, snapshots, hands over and takes
// over whole partitions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "nowrec/interest_tracker.hpp"

namespace nowrec {

// The partition Kafka's default partitioner (Java client and librdkafka's murmur2 partitioner)
// gives a message keyed by `key`: murmur2(key) with the sign bit cleared, modulo `partitions`.
// A producer keyed by user id sends each user's events to this partition.
std::uint32_t kafka_partition(std::string_view key, std::uint32_t partitions) noexcept;

// Kafka's 32-bit murmur2 of `key` (seed 0x9747b28c), as the Java client computes it.
std::uint32_t kafka_murmur2(std::string_view key) noexcept;

// One InterestTracker per partition this worker owns, each with its own watermark: the next
// stream offset to apply (Kafka's committed-offset convention). Events carry their offset;
// update() applies an event of an owned partition with sequence offset + 1, so a replay from an
// older watermark applies each event once (see InterestTracker::update).
//
// Exactly once holds without eviction. With max_memory_bytes or ttl_seconds set, a user evicted
// before a snapshot is copied but re-created by the replay may come back with only the replayed
// events: replay is then at least once per surviving user.
//
// Thread-safety: every method may be called concurrently. Events of one partition must come in
// offset order (as one consumer of that partition delivers them); partitions are independent.
// adopt() and release() of a partition must not race with update() of the same partition.
class PartitionedTracker {
 public:
  // `options` apply to every partition's tracker, so expected_users and max_memory_bytes are
  // per partition (an adopted partition maps its expected users' state memory). Throws
  // Error(InvalidArgument) for 0 partitions or invalid tracker options.
  PartitionedTracker(const InterestTrackerOptions& options, std::uint32_t partitions);
  PartitionedTracker(PartitionedTracker&&) noexcept;
  PartitionedTracker& operator=(PartitionedTracker&&) noexcept;
  ~PartitionedTracker();

  std::uint32_t partitions() const noexcept;
  // The partition of a user id (kafka_partition over the id).
  std::uint32_t partition_of(std::string_view user) const noexcept;
  bool owns(std::uint32_t partition) const;
  // The owned partitions, ascending.
  std::vector<std::uint32_t> owned() const;

  // Takes a partition over: restores its snapshot when one is given (else it starts empty) and
  // returns the offset to resume consuming from (the snapshot's watermark, or 0). Throws
  // Error(InvalidArgument) for a partition out of range or already owned, and the restore's
  // Error(Io)/Error(InvalidFormat); the partition is then not owned.
  std::uint64_t adopt(std::uint32_t partition,
                      const std::optional<std::filesystem::path>& snapshot = std::nullopt);

  // Writes the partition's snapshot with its watermark (atomically), then, for release(), drops
  // the partition. Throws Error(NotFound) for a partition not owned, Error(Io) when the
  // snapshot cannot be written; release() then keeps the partition.
  void snapshot(std::uint32_t partition, const std::filesystem::path& path) const;
  void release(std::uint32_t partition, const std::filesystem::path& path);

  // Drops the partition without a snapshot: for a revocation whose snapshot could not be
  // written. The next owner resumes from the last snapshot and replays the log from there,
  // which is exactly once as long as the log still holds those offsets. Throws Error(NotFound)
  // for a partition not owned.
  void drop(std::uint32_t partition);

  // Applies the event at `offset` of `partition`. Returns false, changing nothing, for an offset
  // below the partition's watermark whose user already holds it (a replay). Throws
  // Error(NotFound) for a partition not owned, Error(InvalidArgument) when the event's user
  // belongs to another partition or for what InterestTracker::update refuses; the watermark
  // then still moves past the offset, so a bad event is skipped, not retried forever. Any other
  // failure leaves the watermark where it was. The largest uint64 offset is refused
  // (InvalidArgument, watermark unchanged): an event's sequence is its offset + 1.
  bool update(std::uint32_t partition, std::uint64_t offset, InterestEvent event);

  // Applies a run of one partition's events, events[i] at offsets[i] (in order), through
  // InterestTracker's batched update: each as update() would, faster. Sets each event's sequence
  // to its offset + 1 and otherwise leaves the span as it was. A bad event, or one whose user
  // belongs to another partition, is skipped and counted (outcome Rejected), never thrown; the
  // watermark then moves past the last offset.
  // `outcomes` is empty or one per event. Throws Error(NotFound) for a partition not owned and
  // Error(InvalidArgument), applying nothing, for spans of different sizes, an offset below the one
  // before it, or the largest uint64 offset; an exception from the item store or the encoder passes
  // through, leaving the watermark where it was (the same call may then be made again).
  BatchUpdateResult update(std::uint32_t partition, std::span<const std::uint64_t> offsets,
                           std::span<InterestEvent> events, std::span<UpdateOutcome> outcomes = {});

  // Moves the watermark past `offset` without applying anything: for a message at that offset
  // that holds no event (malformed, or of another kind), so that it is not consumed again.
  // Throws Error(NotFound) for a partition not owned, Error(InvalidArgument) for the largest
  // uint64 offset.
  void skip(std::uint32_t partition, std::uint64_t offset);

  // The next offset to apply of an owned partition. Throws Error(NotFound) otherwise.
  std::uint64_t watermark(std::uint32_t partition) const;

  // The tracker holding `user`, for reads (interests, recent events) and for a Recommender.
  // Throws Error(NotFound) when this worker does not own the user's partition. The reference
  // stays valid until that partition is released.
  const InterestTracker& tracker_of(std::string_view user) const;
  const InterestTracker& tracker(std::uint32_t partition) const;
  // The same, writable: for a Recommender serving the partition's users. Events must still
  // come through update(), or the watermark does not cover them.
  InterestTracker& tracker(std::uint32_t partition);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nowrec
