// Concurrent writers, readers, snapshots and expiry on shared shards (run under ThreadSanitizer).
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "interest/interest_test_util.hpp"
#include "nowrec/interest_tracker.hpp"
#include "test_support.hpp"

TEST_CASE("writers, readers, snapshots and expiry run together on shared users") {
  const std::size_t dim = 16;
  const int writers = 2, readers = 2, users = 64, events_per_writer = 4000;
  nowrec::test::TempDir dir;
  nowrec::InterestTracker tracker({.dim = dim,
                                   .shards = 4,
                                   .allowed_lateness_seconds = 100'000,
                                   .max_memory_bytes = 0,
                                   .ttl_seconds = 1'000'000'000});
  std::atomic<bool> done{false};
  std::atomic<int> snapshots{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      for (int i = 0; i < events_per_writer; ++i) {
        const auto e = nowrec::test::random_embedding(rng, dim);
        // Both writers touch the same users; their timestamps interleave within the lateness.
        tracker.update({.user = "user-" + std::to_string(rng() % users),
                        .item_embedding = e,
                        .timestamp = 10'000 + i,
                        .item = i,
                        .action = i % 9 ? "click" : "skip"});
      }
    });
  }
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      std::size_t seen = 0;
      // Each reader reads at least once after users exist, however fast the writers finish.
      do {
        const std::string user = "user-" + std::to_string((seen + r) % users);
        for (const auto& interest : tracker.interests(user, 1'000'000))
          seen += interest.vector.size();
        seen += tracker.recent_events(user).size();
        seen += tracker.stats().users;
      } while (!done.load() || seen == 0);
      CHECK(seen > 0);
    });
  }
  threads.emplace_back([&] {
    // At least one snapshot, however fast the writers finish.
    do {
      tracker.snapshot(dir.path() / "s.nrs", static_cast<std::uint64_t>(snapshots.fetch_add(1)));
      tracker.expire(0);
    } while (!done.load());
  });
  for (int w = 0; w < writers; ++w) threads[w].join();
  done.store(true);
  for (std::size_t t = writers; t < threads.size(); ++t) threads[t].join();

  CHECK(tracker.stats().events_applied == std::uint64_t(writers * events_per_writer));
  CHECK(tracker.user_count() == std::size_t(users));
  nowrec::InterestTracker restored({.dim = dim});
  CHECK(restored.restore(dir.path() / "s.nrs") + 1 == std::uint64_t(snapshots.load()));
}
