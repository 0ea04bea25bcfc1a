// KafkaWorker: one member of a Kafka consumer group that keeps the interests of the users in
// the partitions it is assigned, and serves their recommendations. Built with
// NOWREC_WITH_KAFKA (library nowrec::kafka, over librdkafka). See docs/scale-out.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nowrec/interest_tracker.hpp"
#include "nowrec/item_index.hpp"
#include "nowrec/partitioned_tracker.hpp"
#include "nowrec/recommender.hpp"

namespace nowrec {

struct KafkaWorkerOptions {
  std::string brokers;   // bootstrap.servers
  std::string group_id;  // group.id: every worker of one deployment shares it
  // The events (EventMessage JSON), keyed by user id with Kafka's murmur2 partitioner (the
  // Java client's default; librdkafka's "murmur2_random").
  std::string topic;
  // Where each partition's snapshot lives, shared by the group (a network file system):
  // <topic>-<partition>.snapshot. It must exist.
  std::filesystem::path snapshot_directory;
  // How often poll() snapshots every owned partition and commits the offsets they cover.
  double snapshot_interval_seconds = 60;
  InterestTrackerOptions tracker;
  // The catalog to rank (it must outlive the worker), or nullptr for a worker that only keeps
  // interests: recommend() is then refused.
  const ItemIndex* index = nullptr;
  // co_visitation must be 0: the co-visitation graph learns from every user, so it is not
  // partitioned with them.
  RecommenderConfig recommender;
  // More librdkafka properties (security.protocol, session.timeout.ms, ...), set last. The
  // worker itself sets enable.auto.commit=false and auto.offset.reset=earliest.
  std::vector<std::pair<std::string, std::string>> kafka_properties;
};

struct KafkaWorkerStats {
  std::uint64_t messages = 0;    // consumed
  std::uint64_t applied = 0;     // events applied
  std::uint64_t duplicates = 0;  // offsets a snapshot already held (a replay)
  std::uint64_t rejected = 0;    // messages that are not valid events: skipped
  std::uint64_t snapshots = 0;   // partition snapshots written
  std::uint64_t assigned = 0;    // partitions adopted
  std::uint64_t revoked = 0;     // partitions released
  std::string last_rejection;    // why the last rejected message was refused
};

// Thread-safety: poll(), snapshot() and close() are called from one thread, the worker's
// consumer thread; rebalances happen inside poll(). recommend(), owned(), stats() and tracker()
// may be called from any thread meanwhile.
class KafkaWorker {
 public:
  // Connects, reads the topic's partition count and joins the group; partitions arrive in
  // poll(). Throws Error(InvalidArgument) for a missing field, an unknown librdkafka property,
  // or a recommender config with co-visitation; Error(NotFound) when the snapshot directory is
  // missing or the topic does not exist (within 10 s); Error(Io) when the brokers cannot be
  // reached.
  explicit KafkaWorker(const KafkaWorkerOptions& options);
  ~KafkaWorker();  // close(); errors are dropped
  KafkaWorker(const KafkaWorker&) = delete;
  KafkaWorker& operator=(const KafkaWorker&) = delete;

  // Consumes for up to `timeout`: applies each message as an event with its offset as the
  // sequence, takes partitions over and hands them back as the group rebalances, and snapshots
  // when the interval is due. Returns the messages consumed. What librdkafka has already fetched
  // (up to 256 messages) is applied as one batch per partition before poll() waits for more,
  // so an event is never held back waiting for others.
  //
  // On assignment a partition is adopted from its snapshot (or empty when there is none) and
  // consumed from the snapshot's watermark; on revocation it is released (snapshot, then
  // dropped). Throws Error(InvalidFormat) or Error(Io) when an assigned partition's snapshot
  // cannot be restored: the partition is then left unconsumed here, and the caller decides
  // (usually: stop, so that the group hands it to a healthy worker). A message that is not a
  // valid event (malformed, an unknown item, a user of another partition) is counted and
  // skipped, never thrown. An exception other than nowrec::Error from the item store or the
  // encoder passes through with its batch's offsets left uncovered: stop the worker, and the
  // next owner replays them.
  std::size_t poll(std::chrono::milliseconds timeout);

  // Snapshots every owned partition now and commits the offsets the snapshots cover (so the
  // group's committed offsets show how far the saved state reaches). Throws Error(Io).
  void snapshot();

  // Leaves the group: every partition is released (snapshot, then dropped), then the consumer
  // closes. Idempotent; poll() afterwards is refused.
  void close();

  std::uint32_t partitions() const noexcept;
  std::vector<std::uint32_t> owned() const;
  KafkaWorkerStats stats() const;
  const PartitionedTracker& tracker() const noexcept;

  // The user's recommendations (Recommender::recommend). Throws Error(NotFound) when the user's
  // partition is not owned here (route the request to its owner: PartitionedTracker's
  // partition_of), Error(InvalidArgument) when the worker has no index.
  void recommend(std::string_view user, std::int64_t now, const RecommendRequest& request,
                 RecommendResult& out) const;
  std::vector<Recommendation> recommend(std::string_view user, std::int64_t now,
                                        const RecommendRequest& request = {}) const;

  // Where a partition's snapshot is kept.
  std::filesystem::path snapshot_path(std::uint32_t partition) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nowrec
