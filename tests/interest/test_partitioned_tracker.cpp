// PartitionedTracker: Kafka's partitioner, and partitions handed over, killed and replayed
// without losing or doubling an event.
#include <doctest/doctest.h>

#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "interest_test_util.hpp"
#include "nowrec/error.hpp"
#include "nowrec/partitioned_tracker.hpp"
#include "test_support.hpp"

namespace nowrec {
namespace {

constexpr std::size_t kDim = 16;
constexpr std::uint32_t kPartitions = 3;

InterestTrackerOptions options() { return {.dim = kDim, .shards = 4, .recent_window = 8}; }

// One partition's log: (offset = position) events of the users the partitioner sends there.
struct Log {
  std::vector<std::string> users;
  std::vector<std::vector<float>> vectors;
  std::vector<InterestEvent> events;
};

std::vector<Log> make_logs(std::size_t events_per_partition) {
  std::mt19937 rng(17);
  std::vector<Log> logs(kPartitions);
  for (int u = 0; u < 60; ++u) {
    const std::string user = "user-" + std::to_string(u);
    logs[kafka_partition(user, kPartitions)].users.push_back(user);
  }
  for (Log& log : logs) {
    REQUIRE_FALSE(log.users.empty());
    log.vectors.reserve(events_per_partition);
    for (std::size_t offset = 0; offset < events_per_partition; ++offset) {
      log.vectors.push_back(test::random_embedding(rng, kDim));
      log.events.push_back({.user = log.users[rng() % log.users.size()],
                            .item_embedding = log.vectors.back(),
                            .timestamp = 1000 + static_cast<std::int64_t>(offset),
                            .action = offset % 5 == 0 ? "skip" : "click"});
    }
  }
  return logs;
}

// Every event of every log applied once, in order, by one tracker: the state to reach.
InterestTracker reference_of(const std::vector<Log>& logs) {
  InterestTracker reference(options());
  for (const Log& log : logs) {
    for (std::size_t offset = 0; offset < log.events.size(); ++offset) {
      InterestEvent event = log.events[offset];
      event.sequence = offset + 1;
      reference.update(event);
    }
  }
  return reference;
}

void check_equal(const InterestTracker& reference, const PartitionedTracker& worker,
                 const Log& log) {
  for (const std::string& user : log.users) {
    CAPTURE(user);
    CHECK(test::same(test::view(reference, user, 1'000'000),
                     test::view(worker.tracker_of(user), user, 1'000'000)));
  }
}

}  // namespace

TEST_CASE("kafka_partition is Kafka's default partitioner") {
  // Expected values from kafka-python's murmur2 (kafka.partitioner.default), the port of the
  // Java client's Utils.murmur2; the first ones are also in Kafka's own unit tests as signed ints.
  const std::pair<std::string_view, std::uint32_t> hashes[] = {
      {"21", 3321034988u},
      {"foobar", 3504634814u},
      {"a-little-bit-long-string", 3308985760u},
      {"a-little-bit-longer-string", 2808662467u},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", 4236069325u},
      {"abc", 479470107u},
      {"user-1", 1404122828u},
      {"\xe6\x88\x91 \xe5\x96\x9c\xe6\xac\xa2 \xe5\x90\x83 \xe9\xa5\xbc\xe5\xb9\xb2", 3690791650u},
      {"", 275646681u},
  };
  for (const auto& [key, hash] : hashes) {
    CAPTURE(key);
    CHECK(kafka_murmur2(key) == hash);
    CHECK(kafka_partition(key, 12) == (hash & 0x7fffffffu) % 12);
  }
  CHECK(kafka_partition("foobar", 12) == 6);
}

TEST_CASE("partitions handed over and a worker killed mid-stream lose and double nothing") {
  const std::vector<Log> logs = make_logs(400);
  const InterestTracker reference = reference_of(logs);
  nowrec::test::TempDir dir;

  // Worker A owns every partition and consumes the first 250 offsets of each.
  PartitionedTracker a(options(), kPartitions);
  for (std::uint32_t p = 0; p < kPartitions; ++p) CHECK(a.adopt(p) == 0);
  for (std::uint32_t p = 0; p < kPartitions; ++p) {
    for (std::uint64_t offset = 0; offset < 250; ++offset) {
      CHECK(a.update(p, offset, logs[p].events[offset]));
    }
    CHECK(a.watermark(p) == 250);
  }

  // A rebalance hands partition 2 to worker B: A snapshots and drops it, B resumes there.
  PartitionedTracker b(options(), kPartitions);
  a.release(2, dir.path() / "p2.nrs");
  CHECK_FALSE(a.owns(2));
  CHECK(a.owned() == std::vector<std::uint32_t>{0, 1});
  CHECK(b.adopt(2, dir.path() / "p2.nrs") == 250);

  // A snapshots partition 0 at offset 250 on its schedule, goes on to 330, and is killed: the
  // 80 events after the snapshot exist only in the log.
  a.snapshot(0, dir.path() / "p0.nrs");
  for (std::uint64_t offset = 250; offset < 330; ++offset)
    a.update(0, offset, logs[0].events[offset]);
  CHECK(a.watermark(0) == 330);

  // Worker C takes partition 0 from A's last snapshot and replays from its watermark.
  PartitionedTracker c(options(), kPartitions);
  const std::uint64_t resume = c.adopt(0, dir.path() / "p0.nrs");
  CHECK(resume == 250);
  for (std::uint64_t offset = resume; offset < 400; ++offset) {
    CHECK(c.update(0, offset, logs[0].events[offset]));
  }
  // B finishes partition 2; A (the part that lives on) finishes partition 1.
  for (std::uint64_t offset = 250; offset < 400; ++offset)
    b.update(2, offset, logs[2].events[offset]);
  for (std::uint64_t offset = 250; offset < 400; ++offset)
    a.update(1, offset, logs[1].events[offset]);

  check_equal(reference, c, logs[0]);
  check_equal(reference, a, logs[1]);
  check_equal(reference, b, logs[2]);
  // A consumer that replays offsets a user already holds (it committed late) changes nothing.
  CHECK_FALSE(b.update(2, 399, logs[2].events[399]));
  CHECK(b.watermark(2) == 400);
  check_equal(reference, b, logs[2]);
}

TEST_CASE("a snapshot taken while a partition is consumed replays to the same state") {
  const std::vector<Log> logs = make_logs(3000);
  const InterestTracker reference = reference_of(logs);
  nowrec::test::TempDir dir;
  PartitionedTracker a(options(), kPartitions);
  a.adopt(1);
  std::thread consumer([&] {
    for (std::uint64_t offset = 0; offset < 3000; ++offset)
      a.update(1, offset, logs[1].events[offset]);
  });
  // Snapshots race with the consumer: each is some prefix plus some later events, labelled with
  // the watermark read before it started. The first one taken after the consumer got going is
  // replayed.
  while (a.watermark(1) == 0) std::this_thread::yield();
  a.snapshot(1, dir.path() / "p1.nrs");
  consumer.join();

  PartitionedTracker replacement(options(), kPartitions);
  const std::uint64_t resume = replacement.adopt(1, dir.path() / "p1.nrs");
  CHECK(resume > 0);
  std::size_t skipped = 0;
  for (std::uint64_t offset = resume; offset < 3000; ++offset) {
    if (!replacement.update(1, offset, logs[1].events[offset])) ++skipped;
  }
  MESSAGE("resumed at " << resume << ", " << skipped << " replayed events already held");
  check_equal(reference, replacement, logs[1]);
}

TEST_CASE("partition misuse is refused with the partition named") {
  PartitionedTracker worker(options(), kPartitions);
  const auto v = test::unit(kDim, 0);
  const std::string user = "user-1";
  const std::uint32_t home = kafka_partition(user, kPartitions);
  const std::uint32_t other = (home + 1) % kPartitions;
  CHECK_THROWS_AS(PartitionedTracker(options(), 0), Error);
  CHECK_THROWS_AS(worker.adopt(kPartitions), Error);
  try {
    worker.update(home, 0, {.user = user, .item_embedding = v, .timestamp = 1});
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::NotFound);
    CHECK(std::string(error.what()).find(std::to_string(home)) != std::string::npos);
  }
  worker.adopt(other);
  CHECK_THROWS_AS(worker.adopt(other), Error);
  // An event keyed into the wrong partition is refused, and its offset is passed.
  try {
    worker.update(other, 7, {.user = user, .item_embedding = v, .timestamp = 1});
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::InvalidArgument);
    CHECK(std::string(error.what()).find("belongs to partition " + std::to_string(home)) !=
          std::string::npos);
  }
  CHECK(worker.watermark(other) == 8);
  CHECK_THROWS_AS(worker.tracker_of(user), Error);
  nowrec::test::TempDir dir;
  CHECK_THROWS_AS(worker.release(home, dir.path() / "x.nrs"), Error);
  // A snapshot that cannot be written keeps the partition.
  CHECK_THROWS_AS(worker.release(other, dir.path() / "missing" / "x.nrs"), Error);
  CHECK(worker.owns(other));
}

TEST_CASE("expected_users beyond the machine's memory are refused when the worker is built") {
  // The check every adopted partition's tracker makes, made once up front: not left to the
  // first adopt() after the worker has joined its group.
  InterestTrackerOptions huge = options();
  huge.expected_users = std::size_t{1} << 40;
  try {
    const PartitionedTracker worker(huge, kPartitions);
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::InvalidArgument);
    CHECK(std::string(error.what()).find("expected_users") != std::string::npos);
  }
  // Within a memory cap the reservation follows the cap, for the worker and each partition.
  huge.max_memory_bytes = std::size_t{16} << 20;
  PartitionedTracker capped(huge, kPartitions);
  CHECK(capped.adopt(0) == 0);
  CHECK(capped.owns(0));
}

}  // namespace nowrec

namespace nowrec {

TEST_CASE("a partition's events applied as batches equal them applied one by one") {
  const std::vector<Log> logs = make_logs(300);
  const InterestTracker reference = reference_of(logs);
  PartitionedTracker batched(options(), kPartitions);
  for (std::uint32_t p = 0; p < kPartitions; ++p) batched.adopt(p);

  // A user of partition 1 slipped into partition 0's log (a producer not keyed by user id).
  const std::string stray = logs[1].users[0];
  for (std::uint32_t p = 0; p < kPartitions; ++p) {
    for (std::size_t first = 0; first < 300; first += 70) {
      const std::size_t count = std::min<std::size_t>(70, 300 - first);
      std::vector<InterestEvent> events(logs[p].events.begin() + std::ptrdiff_t(first),
                                        logs[p].events.begin() + std::ptrdiff_t(first + count));
      std::vector<std::uint64_t> offsets(count);
      for (std::size_t i = 0; i < count; ++i) offsets[i] = first + i;
      std::vector<UpdateOutcome> outcomes(count);
      std::size_t expected_rejected = 0;
      if (p == 0 && first == 70) {
        InterestEvent extra = events[5];
        extra.user = stray;
        events.insert(events.begin() + 5, extra);
        offsets.insert(offsets.begin() + 5, offsets[5]);  // same offset: the watermark is a max
        outcomes.emplace_back();
        expected_rejected = 1;
      }
      const BatchUpdateResult result = batched.update(p, offsets, events, outcomes);
      CHECK(result.applied == count);
      CHECK(result.rejected == expected_rejected);
      if (expected_rejected) {
        CHECK(result.first_rejected == 5);
        CHECK(outcomes[5] == UpdateOutcome::Rejected);
        CHECK(result.first_error.find("belongs to partition 1") != std::string::npos);
      }
      CHECK(batched.watermark(p) == first + count);
    }
    check_equal(reference, batched, logs[p]);
  }

  // A replay of applied offsets changes nothing.
  std::vector<InterestEvent> again(logs[2].events.begin(), logs[2].events.begin() + 10);
  std::vector<std::uint64_t> offsets = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const BatchUpdateResult replay = batched.update(2, offsets, again);
  CHECK(replay.duplicates == 10);
  CHECK(replay.applied == 0);
  CHECK(batched.watermark(2) == 300);
  check_equal(reference, batched, logs[2]);

  std::vector<UpdateOutcome> short_outcomes(3);
  CHECK_THROWS_AS(batched.update(2, offsets, again, short_outcomes), Error);
  CHECK_THROWS_AS(PartitionedTracker(options(), 2).update(0, offsets, again), Error);
}

TEST_CASE("offsets out of order or without a successor are refused, applying nothing") {
  const std::vector<Log> logs = make_logs(20);
  PartitionedTracker worker(options(), kPartitions);
  worker.adopt(0);
  std::vector<InterestEvent> events(logs[0].events.begin(), logs[0].events.begin() + 4);
  const std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
  const std::vector<std::uint64_t> decreasing = {10, 11, 9, 12};
  CHECK_THROWS_WITH_AS(worker.update(0, decreasing, events),
                       doctest::Contains("offsets[2] = 9 follows 11"), Error);
  const std::vector<std::uint64_t> last = {top - 3, top - 2, top - 1, top};
  CHECK_THROWS_WITH_AS(worker.update(0, last, events), doctest::Contains("out of range"), Error);
  CHECK_THROWS_AS(worker.update(0, top, events[0]), Error);
  CHECK_THROWS_AS(worker.skip(0, top), Error);
  CHECK(worker.watermark(0) == 0);
  CHECK(worker.tracker(0).user_count() == 0);
}

TEST_CASE("a run with another partition's user leaves the caller's events in place") {
  const std::vector<Log> logs = make_logs(20);
  PartitionedTracker worker(options(), kPartitions);
  worker.adopt(0);
  std::vector<InterestEvent> events(logs[0].events.begin(), logs[0].events.begin() + 4);
  events[1].user = logs[1].users[0];
  const std::vector<InterestEvent> given = events;
  const std::vector<std::uint64_t> offsets = {0, 1, 2, 3};
  const BatchUpdateResult result = worker.update(0, offsets, events);
  CHECK(result.applied == 3);
  CHECK(result.rejected == 1);
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].user == given[i].user);
    CHECK(events[i].item_embedding.data() == given[i].item_embedding.data());
    CHECK(events[i].sequence == offsets[i] + 1);
  }
}

}  // namespace nowrec
