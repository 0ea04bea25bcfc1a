// KafkaWorker: a consumer-group member driving a PartitionedTracker through librdkafka.
#include "nowrec/kafka_worker.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>

#include "nowrec/error.hpp"
#include "nowrec/event_message.hpp"

namespace nowrec {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::InvalidArgument, "KafkaWorker: " + what);
}

// The partition list librdkafka hands over, as owned partitions of our topic.
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using Message = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

void set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char reason[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), reason, sizeof reason) !=
      RD_KAFKA_CONF_OK) {
    invalid("librdkafka property " + name + "=" + value + ": " + reason);
  }
}

// The topic's partition count, asking the brokers until `deadline` while the topic is not
// known yet (a topic being created reports itself unknown for a moment).
std::uint32_t partition_count(rd_kafka_t* consumer, const std::string& topic,
                              Clock::time_point deadline) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(consumer, topic.c_str(), nullptr);
  if (!handle) invalid("topic name '" + topic + "' is not valid");
  std::string last_problem;
  while (true) {
    const rd_kafka_metadata_t* metadata = nullptr;
    const rd_kafka_resp_err_t error = rd_kafka_metadata(consumer, 0, handle, &metadata, 5000);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const rd_kafka_metadata_topic_t& described = metadata->topics[0];
      const rd_kafka_resp_err_t topic_error = described.err;
      const int count = described.partition_cnt;
      rd_kafka_metadata_destroy(metadata);
      if (topic_error == RD_KAFKA_RESP_ERR_NO_ERROR && count > 0) {
        rd_kafka_topic_destroy(handle);
        return static_cast<std::uint32_t>(count);
      }
      last_problem = topic_error == RD_KAFKA_RESP_ERR_NO_ERROR ? "it has no partitions"
                                                               : rd_kafka_err2str(topic_error);
      if (Clock::now() >= deadline) {
        rd_kafka_topic_destroy(handle);
        throw Error(ErrorCode::NotFound, "KafkaWorker: topic '" + topic + "': " + last_problem);
      }
    } else if (Clock::now() >= deadline) {
      rd_kafka_topic_destroy(handle);
      throw Error(ErrorCode::Io, "KafkaWorker: cannot read the metadata of topic '" + topic +
                                     "' from the brokers: " + rd_kafka_err2str(error));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

struct KafkaWorker::Impl {
  KafkaWorkerOptions options;
  rd_kafka_t* consumer = nullptr;
  std::optional<PartitionedTracker> tracker;

  // Guards `recommenders`: a request holds it shared while it reads a partition's tracker, so
  // revocation (exclusive) waits for the requests on that partition to finish.
  mutable std::shared_mutex serving;
  std::vector<std::unique_ptr<Recommender>> recommenders;  // by partition; null: not served

  // Counted on the consumer thread, read by stats() from any thread.
  struct Counters {
    std::atomic<std::uint64_t> messages{0}, applied{0}, duplicates{0}, rejected{0}, snapshots{0},
        assigned{0}, revoked{0};
  } counters;
  mutable std::mutex rejection_mutex;
  std::string last_rejection;

  std::exception_ptr rebalance_failure;  // thrown by the poll() that saw it
  Clock::time_point next_snapshot;
  bool closed = false;

  void count(std::atomic<std::uint64_t> Counters::*counter) {
    (counters.*counter).fetch_add(1, std::memory_order_relaxed);
  }

  // Adopts each assigned partition and sets the offset to resume from; the partitions that
  // could not be adopted are left out of the returned list (and the first failure kept).
  PartitionList assign(const rd_kafka_topic_partition_list_t& assigned) {
    PartitionList resume(rd_kafka_topic_partition_list_new(assigned.cnt));
    for (int i = 0; i < assigned.cnt; ++i) {
      const rd_kafka_topic_partition_t& entry = assigned.elems[i];
      if (options.topic != entry.topic) continue;
      const auto partition = static_cast<std::uint32_t>(entry.partition);
      try {
        const std::filesystem::path path = snapshot_path(partition);
        std::optional<std::filesystem::path> snapshot;
        if (std::filesystem::exists(path)) snapshot = path;
        const std::uint64_t watermark = tracker->adopt(partition, snapshot);
        if (options.index) {
          auto recommender = std::make_unique<Recommender>(
              *options.index, tracker->tracker(partition), options.recommender);
          const std::unique_lock lock(serving);
          recommenders[partition] = std::move(recommender);
        }
        rd_kafka_topic_partition_list_add(resume.get(), entry.topic, entry.partition)->offset =
            watermark == 0 ? RD_KAFKA_OFFSET_BEGINNING : static_cast<std::int64_t>(watermark);
        count(&Counters::assigned);
      } catch (...) {
        if (tracker->owns(partition)) tracker->drop(partition);
        if (!rebalance_failure) rebalance_failure = std::current_exception();
      }
    }
    return resume;
  }

  // Stops serving and hands back each revoked partition: with a snapshot, or (when the
  // assignment was lost, so another worker may own it already, or the snapshot fails) without.
  void revoke(const rd_kafka_topic_partition_list_t& revoked, bool lost) {
    for (int i = 0; i < revoked.cnt; ++i) {
      const rd_kafka_topic_partition_t& entry = revoked.elems[i];
      if (options.topic != entry.topic) continue;
      const auto partition = static_cast<std::uint32_t>(entry.partition);
      if (!tracker->owns(partition)) continue;
      const std::exception_ptr failure = hand_back(partition, !lost);
      if (failure && !rebalance_failure) rebalance_failure = failure;
      count(&Counters::revoked);
    }
  }

  // Stops serving an owned partition, then releases it (snapshot, then drop) when `snapshot`,
  // or drops it. A failed snapshot drops it too, and is returned: the next owner then resumes
  // from the previous snapshot instead, a longer replay with nothing lost.
  std::exception_ptr hand_back(std::uint32_t partition, bool snapshot) {
    {
      const std::unique_lock lock(serving);
      recommenders[partition].reset();
    }
    try {
      if (snapshot) {
        tracker->release(partition, snapshot_path(partition));
        count(&Counters::snapshots);
      } else {
        tracker->drop(partition);
      }
      return nullptr;
    } catch (...) {
      tracker->drop(partition);
      return std::current_exception();
    }
  }

  static void on_rebalance(rd_kafka_t* consumer, rd_kafka_resp_err_t event,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    Impl& impl = *static_cast<Impl*>(opaque);
    // What was fetched before the rebalance is applied while its partitions are still owned.
    try {
      impl.flush();
    } catch (...) {
      impl.pending.clear();
      if (!impl.rebalance_failure) impl.rebalance_failure = std::current_exception();
    }
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(consumer), "COOPERATIVE") == 0;
    if (event == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      const PartitionList resume = impl.assign(*partitions);
      if (cooperative) {
        if (rd_kafka_error_t* error = rd_kafka_incremental_assign(consumer, resume.get())) {
          rd_kafka_error_destroy(error);
        }
      } else {
        rd_kafka_assign(consumer, resume.get());
      }
    } else {
      impl.revoke(*partitions, rd_kafka_assignment_lost(consumer) != 0);
      if (cooperative) {
        if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer, partitions)) {
          rd_kafka_error_destroy(error);
        }
      } else {
        rd_kafka_assign(consumer, nullptr);
      }
    }
  }

  // Messages decoded and waiting to be applied as one batch per partition: poll() gathers what
  // librdkafka has already fetched (up to kBatch) and applies it before it waits for more, before
  // a snapshot and before a rebalance, so an event waits no longer than the fetch.
  static constexpr std::size_t kBatch = 256;
  struct Pending {
    std::uint32_t partition;
    std::uint64_t offset;
    bool valid;  // false: not an event; skipped
  };
  std::vector<Pending> pending;
  std::vector<EventMessage> decoded;  // decoded[i] belongs to pending[i] when valid
  std::vector<InterestEvent> batch_events;
  std::vector<std::uint64_t> batch_offsets;
  std::vector<std::size_t> by_partition;  // indices into pending, grouped by partition

  void reject(std::uint32_t partition, std::uint64_t offset, const char* why) {
    count(&Counters::rejected);
    const std::lock_guard lock(rejection_mutex);
    last_rejection =
        "partition " + std::to_string(partition) + " offset " + std::to_string(offset) + ": " + why;
  }

  void take(const rd_kafka_message_t& message) {
    count(&Counters::messages);
    const auto partition = static_cast<std::uint32_t>(message.partition);
    if (!tracker->owns(partition)) return;  // a message fetched before a revocation
    const auto offset = static_cast<std::uint64_t>(message.offset);
    if (decoded.size() <= pending.size()) decoded.resize(pending.size() + 1);
    try {
      std::optional<std::string_view> key;
      if (message.key)
        key = std::string_view(static_cast<const char*>(message.key), message.key_len);
      const std::string_view payload(static_cast<const char*>(message.payload),
                                     message.payload ? message.len : 0);
      decoded[pending.size()] = parse_event_message(payload, key);
      pending.push_back({partition, offset, true});
    } catch (const Error& error) {
      reject(partition, offset, error.what());
      pending.push_back({partition, offset, false});
    }
  }

  // Applies the pending messages, each partition's as one batch in offset order.
  void flush() {
    // The messages grouped by partition, each partition's in fetch (offset) order.
    by_partition.resize(pending.size());
    for (std::size_t i = 0; i < pending.size(); ++i) by_partition[i] = i;
    std::stable_sort(by_partition.begin(), by_partition.end(), [&](std::size_t a, std::size_t b) {
      return pending[a].partition < pending[b].partition;
    });
    for (std::size_t first = 0; first < by_partition.size();) {
      const std::uint32_t partition = pending[by_partition[first]].partition;
      std::size_t end = first;
      batch_events.clear();
      batch_offsets.clear();
      std::uint64_t last_offset = 0;
      for (; end < by_partition.size() && pending[by_partition[end]].partition == partition;
           ++end) {
        const std::size_t i = by_partition[end];
        last_offset = pending[i].offset;
        if (!pending[i].valid) continue;
        batch_events.push_back(decoded[i].event());
        batch_offsets.push_back(pending[i].offset);
      }
      first = end;
      if (!tracker->owns(partition)) continue;
      const BatchUpdateResult result = tracker->update(partition, batch_offsets, batch_events);
      tracker->skip(partition, last_offset);  // past the messages that were not events
      counters.applied.fetch_add(result.applied, std::memory_order_relaxed);
      counters.duplicates.fetch_add(result.duplicates, std::memory_order_relaxed);
      if (result.rejected > 0) {
        counters.rejected.fetch_add(result.rejected - 1, std::memory_order_relaxed);
        reject(partition, batch_offsets[result.first_rejected], result.first_error.c_str());
      }
    }
    pending.clear();
  }

  std::filesystem::path snapshot_path(std::uint32_t partition) const {
    return options.snapshot_directory /
           (options.topic + "-" + std::to_string(partition) + ".snapshot");
  }

  void snapshot_all() {
    const std::vector<std::uint32_t> owned = tracker->owned();
    PartitionList covered(rd_kafka_topic_partition_list_new(static_cast<int>(owned.size())));
    for (const std::uint32_t partition : owned) {
      const std::uint64_t watermark = tracker->watermark(partition);
      tracker->snapshot(partition, snapshot_path(partition));
      count(&Counters::snapshots);
      if (watermark > 0) {
        rd_kafka_topic_partition_list_add(covered.get(), options.topic.c_str(),
                                          static_cast<std::int32_t>(partition))
            ->offset = static_cast<std::int64_t>(watermark);
      }
    }
    // Asynchronous: committed offsets only report how far the snapshots reach; the snapshots,
    // not the commits, decide where a new owner resumes.
    if (covered->cnt > 0) rd_kafka_commit(consumer, covered.get(), 1);
    next_snapshot =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(options.snapshot_interval_seconds));
  }

  void throw_rebalance_failure() {
    if (rebalance_failure) std::rethrow_exception(std::exchange(rebalance_failure, nullptr));
  }
};

KafkaWorker::KafkaWorker(const KafkaWorkerOptions& options) : impl_(std::make_unique<Impl>()) {
  Impl& impl = *impl_;
  impl.options = options;
  if (options.brokers.empty()) invalid("brokers is empty");
  if (options.group_id.empty()) invalid("group_id is empty");
  if (options.topic.empty()) invalid("topic is empty");
  if (!(options.snapshot_interval_seconds > 0)) invalid("snapshot_interval_seconds must be > 0");
  if (options.recommender.co_visitation != 0.0f) {
    invalid("recommender.co_visitation must be 0: the co-visitation graph is not partitioned");
  }
  if (!std::filesystem::is_directory(options.snapshot_directory)) {
    throw Error(ErrorCode::NotFound, "KafkaWorker: snapshot directory " +
                                         options.snapshot_directory.string() + " does not exist");
  }

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  try {
    set_property(conf, "bootstrap.servers", options.brokers);
    set_property(conf, "group.id", options.group_id);
    set_property(conf, "enable.auto.commit", "false");
    set_property(conf, "enable.auto.offset.store", "false");
    set_property(conf, "auto.offset.reset", "earliest");
    for (const auto& [name, value] : options.kafka_properties) set_property(conf, name, value);
  } catch (...) {
    rd_kafka_conf_destroy(conf);
    throw;
  }
  rd_kafka_conf_set_rebalance_cb(conf, &Impl::on_rebalance);
  rd_kafka_conf_set_opaque(conf, &impl);
  char reason[512];
  impl.consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof reason);
  if (!impl.consumer) {
    rd_kafka_conf_destroy(conf);
    invalid(std::string("cannot create the consumer: ") + reason);
  }
  try {
    rd_kafka_poll_set_consumer(impl.consumer);
    impl.tracker.emplace(options.tracker, partition_count(impl.consumer, options.topic,
                                                          Clock::now() + std::chrono::seconds(10)));
    impl.recommenders.resize(impl.tracker->partitions());
    if (options.index) {
      // Checks the config and the index's dim once, before any partition arrives.
      InterestTracker probe(options.tracker);
      Recommender check(*options.index, probe, options.recommender);
    }
    PartitionList topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), options.topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (const rd_kafka_resp_err_t error = rd_kafka_subscribe(impl.consumer, topics.get())) {
      throw Error(ErrorCode::Io, "KafkaWorker: cannot subscribe to topic '" + options.topic +
                                     "': " + rd_kafka_err2str(error));
    }
  } catch (...) {
    rd_kafka_destroy(impl.consumer);
    throw;
  }
  impl.next_snapshot =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.snapshot_interval_seconds));
}

KafkaWorker::~KafkaWorker() {
  try {
    close();
  } catch (...) {
    // A destructor reports nothing; close() explicitly to see errors.
  }
}

std::size_t KafkaWorker::poll(std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  if (impl.closed) invalid("poll() after close()");
  const Clock::time_point deadline = Clock::now() + timeout;
  std::size_t consumed = 0;
  while (true) {
    // Waits only with nothing pending; with messages pending it takes what is already fetched.
    int wait_ms = 0;
    if (impl.pending.empty()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      wait_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
    }
    const Message message(rd_kafka_consumer_poll(impl.consumer, wait_ms));
    impl.throw_rebalance_failure();
    if (message) {
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        impl.take(*message);
        ++consumed;
      } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        char reason[512];
        if (rd_kafka_fatal_error(impl.consumer, reason, sizeof reason)) {
          impl.flush();
          throw Error(ErrorCode::Io, std::string("KafkaWorker: fatal consumer error: ") + reason);
        }
        // Transient (a broker going away, a partition moving): librdkafka retries by itself.
      }
    }
    const bool more_fetched = message && impl.pending.size() < Impl::kBatch;
    if (!more_fetched) impl.flush();
    if (Clock::now() >= impl.next_snapshot) {
      impl.flush();
      impl.snapshot_all();
    }
    if (more_fetched) continue;
    if (!message || Clock::now() >= deadline) break;
  }
  return consumed;
}

void KafkaWorker::snapshot() {
  if (impl_->closed) invalid("snapshot() after close()");
  impl_->flush();
  impl_->snapshot_all();
}

void KafkaWorker::close() {
  Impl& impl = *impl_;
  if (impl.closed) return;
  impl.closed = true;
  // Leaving the group revokes every partition through the rebalance callback, which releases
  // them; anything still owned afterwards (a callback that never came) is released here.
  rd_kafka_consumer_close(impl.consumer);
  std::exception_ptr failure;
  for (const std::uint32_t partition : impl.tracker->owned()) {
    const std::exception_ptr released = impl.hand_back(partition, true);
    if (released && !failure) failure = released;
  }
  rd_kafka_destroy(impl.consumer);
  impl.consumer = nullptr;
  impl.throw_rebalance_failure();
  if (failure) std::rethrow_exception(failure);
}

std::uint32_t KafkaWorker::partitions() const noexcept { return impl_->tracker->partitions(); }

std::vector<std::uint32_t> KafkaWorker::owned() const { return impl_->tracker->owned(); }

KafkaWorkerStats KafkaWorker::stats() const {
  const Impl::Counters& counters = impl_->counters;
  KafkaWorkerStats stats;
  stats.messages = counters.messages.load(std::memory_order_relaxed);
  stats.applied = counters.applied.load(std::memory_order_relaxed);
  stats.duplicates = counters.duplicates.load(std::memory_order_relaxed);
  stats.rejected = counters.rejected.load(std::memory_order_relaxed);
  stats.snapshots = counters.snapshots.load(std::memory_order_relaxed);
  stats.assigned = counters.assigned.load(std::memory_order_relaxed);
  stats.revoked = counters.revoked.load(std::memory_order_relaxed);
  const std::lock_guard lock(impl_->rejection_mutex);
  stats.last_rejection = impl_->last_rejection;
  return stats;
}

const PartitionedTracker& KafkaWorker::tracker() const noexcept { return *impl_->tracker; }

void KafkaWorker::recommend(std::string_view user, std::int64_t now,
                            const RecommendRequest& request, RecommendResult& out) const {
  const Impl& impl = *impl_;
  if (!impl.options.index) invalid("recommend() needs an index in the options");
  const std::uint32_t partition = impl.tracker->partition_of(user);
  const std::shared_lock lock(impl.serving);
  const Recommender* recommender = impl.recommenders[partition].get();
  if (!recommender) {
    throw Error(ErrorCode::NotFound, "KafkaWorker: user '" + std::string(user) +
                                         "' is in partition " + std::to_string(partition) +
                                         ", which this worker does not own");
  }
  recommender->recommend(user, now, request, out);
}

std::vector<Recommendation> KafkaWorker::recommend(std::string_view user, std::int64_t now,
                                                   const RecommendRequest& request) const {
  RecommendResult out;
  recommend(user, now, request, out);
  return std::move(out.items);
}

std::filesystem::path KafkaWorker::snapshot_path(std::uint32_t partition) const {
  return impl_->snapshot_path(partition);
}

}  // namespace nowrec
