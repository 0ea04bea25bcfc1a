// PartitionedTracker: one InterestTracker and one watermark per owned stream partition.
#include "nowrec/partitioned_tracker.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "interest/tracker_impl.hpp"
#include "nowrec/error.hpp"

namespace nowrec {

std::uint32_t kafka_murmur2(std::string_view key) noexcept {
  constexpr std::uint32_t seed = 0x9747b28c;
  constexpr std::uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const auto length = static_cast<std::uint32_t>(key.size());
  std::uint32_t h = seed ^ length;
  std::size_t i = 0;
  for (; i + 4 <= key.size(); i += 4) {
    std::uint32_t k = static_cast<std::uint32_t>(data[i]) |
                      static_cast<std::uint32_t>(data[i + 1]) << 8 |
                      static_cast<std::uint32_t>(data[i + 2]) << 16 |
                      static_cast<std::uint32_t>(data[i + 3]) << 24;
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (key.size() - i) {
    case 3:
      h ^= static_cast<std::uint32_t>(data[i + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<std::uint32_t>(data[i + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<std::uint32_t>(data[i]);
      h *= m;
      break;
    default:
      break;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

std::uint32_t kafka_partition(std::string_view key, std::uint32_t partitions) noexcept {
  return partitions == 0 ? 0 : (kafka_murmur2(key) & 0x7fffffffu) % partitions;
}

namespace {

struct Partition {
  explicit Partition(const InterestTrackerOptions& options) : tracker(options) {}
  InterestTracker tracker;
  std::atomic<std::uint64_t> watermark{0};  // the next offset to apply

  // Offsets of one partition arrive in order from one thread; max() keeps a replay of older
  // offsets from moving the watermark back.
  void passed(std::uint64_t offset) {
    std::uint64_t current = watermark.load(std::memory_order_relaxed);
    while (current < offset + 1 &&
           !watermark.compare_exchange_weak(current, offset + 1, std::memory_order_release)) {
    }
  }
};

// An event's sequence is its offset + 1, so the largest offset has none.
void check_offset(std::uint64_t offset, const char* where) {
  if (offset == std::numeric_limits<std::uint64_t>::max()) {
    throw Error(ErrorCode::InvalidArgument,
                std::string(where) + ": offset " + std::to_string(offset) + " is out of range");
  }
}

}  // namespace

struct PartitionedTracker::Impl {
  InterestTrackerOptions options;
  std::uint32_t partitions = 0;
  // Guards `owned` only: held for a pointer copy, never during an update or a snapshot, so
  // adopt() and release() are not kept waiting by busy partitions.
  mutable std::shared_mutex mutex;
  std::vector<std::shared_ptr<Partition>> owned;

  std::shared_ptr<Partition> find(std::uint32_t partition) const {
    const std::shared_lock lock(mutex);
    if (partition >= partitions || !owned[partition]) {
      throw Error(ErrorCode::NotFound, "PartitionedTracker: partition " +
                                           std::to_string(partition) + " is not owned here");
    }
    return owned[partition];
  }
};

PartitionedTracker::PartitionedTracker(const InterestTrackerOptions& options,
                                       std::uint32_t partitions)
    : impl_(std::make_unique<Impl>()) {
  if (partitions == 0) {
    throw Error(ErrorCode::InvalidArgument, "PartitionedTracker: partitions must be positive");
  }
  // Checked once, up front, as each adopted partition's tracker checks them, without the memory
  // expected_users would reserve.
  (void)interest::check_options(options);
  impl_->options = options;
  impl_->partitions = partitions;
  impl_->owned.resize(partitions);
}

PartitionedTracker::PartitionedTracker(PartitionedTracker&&) noexcept = default;
PartitionedTracker& PartitionedTracker::operator=(PartitionedTracker&&) noexcept = default;
PartitionedTracker::~PartitionedTracker() = default;

std::uint32_t PartitionedTracker::partitions() const noexcept { return impl_->partitions; }

std::uint32_t PartitionedTracker::partition_of(std::string_view user) const noexcept {
  return kafka_partition(user, impl_->partitions);
}

bool PartitionedTracker::owns(std::uint32_t partition) const {
  const std::shared_lock lock(impl_->mutex);
  return partition < impl_->partitions && impl_->owned[partition] != nullptr;
}

std::vector<std::uint32_t> PartitionedTracker::owned() const {
  const std::shared_lock lock(impl_->mutex);
  std::vector<std::uint32_t> out;
  for (std::uint32_t p = 0; p < impl_->partitions; ++p) {
    if (impl_->owned[p]) out.push_back(p);
  }
  return out;
}

std::uint64_t PartitionedTracker::adopt(std::uint32_t partition,
                                        const std::optional<std::filesystem::path>& snapshot) {
  if (partition >= impl_->partitions) {
    throw Error(ErrorCode::InvalidArgument, "PartitionedTracker::adopt: partition " +
                                                std::to_string(partition) + " is out of range (" +
                                                std::to_string(impl_->partitions) + " partitions)");
  }
  const auto already_owned = [&] {
    return Error(ErrorCode::InvalidArgument, "PartitionedTracker::adopt: partition " +
                                                 std::to_string(partition) + " is already owned");
  };
  {
    // Before a tracker (and the memory expected_users reserves) is built for nothing.
    const std::shared_lock lock(impl_->mutex);
    if (impl_->owned[partition]) throw already_owned();
  }
  // Restored outside the lock, so the other partitions keep going meanwhile.
  auto adopted = std::make_shared<Partition>(impl_->options);
  if (snapshot) adopted->watermark = adopted->tracker.restore(*snapshot);
  const std::uint64_t resume = adopted->watermark;
  const std::unique_lock lock(impl_->mutex);
  if (impl_->owned[partition]) throw already_owned();  // adopted by another thread meanwhile
  impl_->owned[partition] = std::move(adopted);
  return resume;
}

void PartitionedTracker::snapshot(std::uint32_t partition,
                                  const std::filesystem::path& path) const {
  const std::shared_ptr<Partition> owned = impl_->find(partition);
  // The watermark is read before the copy starts: events applied while it runs may be in the
  // file too, and a replay from the watermark skips them by their sequences.
  const std::uint64_t watermark = owned->watermark.load(std::memory_order_acquire);
  owned->tracker.snapshot(path, watermark);
}

void PartitionedTracker::release(std::uint32_t partition, const std::filesystem::path& path) {
  snapshot(partition, path);
  const std::unique_lock lock(impl_->mutex);
  impl_->owned[partition].reset();
}

void PartitionedTracker::drop(std::uint32_t partition) {
  impl_->find(partition);  // throws for a partition not owned
  const std::unique_lock lock(impl_->mutex);
  impl_->owned[partition].reset();
}

void PartitionedTracker::skip(std::uint32_t partition, std::uint64_t offset) {
  const std::shared_ptr<Partition> owned = impl_->find(partition);
  check_offset(offset, "PartitionedTracker::skip");
  owned->passed(offset);
}

bool PartitionedTracker::update(std::uint32_t partition, std::uint64_t offset,
                                InterestEvent event) {
  const std::shared_ptr<Partition> owned = impl_->find(partition);
  check_offset(offset, "PartitionedTracker::update");
  try {
    const std::uint32_t expected = partition_of(event.user);
    if (expected != partition) {
      throw Error(ErrorCode::InvalidArgument,
                  "PartitionedTracker::update: user '" + std::string(event.user) +
                      "' belongs to partition " + std::to_string(expected) + ", not " +
                      std::to_string(partition) + " (is the producer keyed by user id?)");
    }
    event.sequence = offset + 1;
    const bool applied = owned->tracker.update(event);
    owned->passed(offset);
    return applied;
  } catch (const Error& error) {
    // A bad event is passed, so it is not retried forever; any other failure (an item store
    // that cannot answer) leaves the offset to be consumed again.
    if (error.code() == ErrorCode::InvalidArgument) owned->passed(offset);
    throw;
  }
}

BatchUpdateResult PartitionedTracker::update(std::uint32_t partition,
                                             std::span<const std::uint64_t> offsets,
                                             std::span<InterestEvent> events,
                                             std::span<UpdateOutcome> outcomes) {
  if (offsets.size() != events.size() || (!outcomes.empty() && outcomes.size() != events.size())) {
    throw Error(ErrorCode::InvalidArgument,
                "PartitionedTracker::update: " + std::to_string(events.size()) + " events, " +
                    std::to_string(offsets.size()) + " offsets and " +
                    std::to_string(outcomes.size()) + " outcomes");
  }
  const std::shared_ptr<Partition> owned = impl_->find(partition);
  if (events.empty()) return {};
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    check_offset(offsets[i], "PartitionedTracker::update");
    if (i > 0 && offsets[i] < offsets[i - 1]) {
      throw Error(ErrorCode::InvalidArgument,
                  "PartitionedTracker::update: offsets must not decrease, but offsets[" +
                      std::to_string(i) + "] = " + std::to_string(offsets[i]) + " follows " +
                      std::to_string(offsets[i - 1]));
    }
  }
  // Events of users of other partitions are left out of the run (rare: a producer not keyed by
  // user id), so that the tracker sees only this partition's users. The caller's events stay
  // where they are, so that a run that failed (an item store that could not answer) can be
  // given again as it was.
  thread_local std::vector<std::size_t> kept;
  thread_local std::vector<InterestEvent> kept_events;
  thread_local std::vector<UpdateOutcome> kept_outcomes;
  kept.clear();
  BatchUpdateResult misplaced;
  for (std::size_t i = 0; i < events.size(); ++i) {
    events[i].sequence = offsets[i] + 1;
    const std::uint32_t expected = partition_of(events[i].user);
    if (expected == partition) {
      kept.push_back(i);
      continue;
    }
    if (misplaced.rejected++ == 0) {
      misplaced.first_rejected = i;
      misplaced.first_error = "PartitionedTracker::update: user '" + std::string(events[i].user) +
                              "' belongs to partition " + std::to_string(expected) + ", not " +
                              std::to_string(partition) + " (is the producer keyed by user id?)";
    }
  }
  std::span<const InterestEvent> run = events;
  if (kept.size() != events.size()) {
    kept_events.clear();
    for (std::size_t i : kept) kept_events.push_back(events[i]);
    run = kept_events;
  }
  kept_outcomes.assign(kept.size(), UpdateOutcome::Rejected);
  BatchUpdateResult result = owned->tracker.update(run, kept_outcomes);
  if (!outcomes.empty()) {
    std::fill(outcomes.begin(), outcomes.end(), UpdateOutcome::Rejected);
    for (std::size_t j = 0; j < kept.size(); ++j) outcomes[kept[j]] = kept_outcomes[j];
  }
  if (result.rejected > 0) result.first_rejected = kept[result.first_rejected];
  if (misplaced.rejected > 0 &&
      (result.rejected == 0 || misplaced.first_rejected < result.first_rejected)) {
    result.first_rejected = misplaced.first_rejected;
    result.first_error = std::move(misplaced.first_error);
  }
  result.rejected += misplaced.rejected;
  owned->passed(offsets.back());
  return result;
}

std::uint64_t PartitionedTracker::watermark(std::uint32_t partition) const {
  return impl_->find(partition)->watermark.load(std::memory_order_acquire);
}

const InterestTracker& PartitionedTracker::tracker_of(std::string_view user) const {
  return tracker(partition_of(user));
}

const InterestTracker& PartitionedTracker::tracker(std::uint32_t partition) const {
  return impl_->find(partition)->tracker;
}

InterestTracker& PartitionedTracker::tracker(std::uint32_t partition) {
  return impl_->find(partition)->tracker;
}

}  // namespace nowrec
