// StateBlockPool: the users' state blocks of an InterestTracker.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/leak_sanitizer.hpp"
#include "interest/state_block_pool.hpp"
#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"

using nowrec::interest::StateBlock;
using nowrec::interest::StateBlockPool;

TEST_CASE("stride: whole lines, never less than the block") {
  for (const std::size_t bytes : {1u, 8u, 64u, 65u, 1000u, 7168u, 14080u}) {
    const std::size_t stride = StateBlockPool::stride_for(bytes);
    CHECK(stride >= bytes);
    CHECK(stride % 64 == 0);
    CHECK(stride < bytes + 64);
  }
  CHECK(StateBlockPool::stride_for(6208) == 6208);
}

TEST_CASE("blocks are aligned, apart and keep what is written to them") {
  constexpr std::size_t kBytes = 7168;
  StateBlockPool pool(kBytes, 0);
  std::vector<StateBlock> blocks;
  // Several slabs' worth.
  for (int i = 0; i < 700; ++i) {
    blocks.push_back(pool.allocate());
    std::memset(blocks.back().get(), i % 251, kBytes);
  }
  std::set<const std::byte*> starts;
  for (const StateBlock& block : blocks) {
    CHECK(reinterpret_cast<std::uintptr_t>(block.get()) % 64 == 0);
    starts.insert(block.get());
  }
  CHECK(starts.size() == blocks.size());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(blocks[i].get());
    const bool intact = std::all_of(bytes, bytes + kBytes, [&](unsigned char b) {
      return b == static_cast<unsigned char>(i % 251);
    });
    CHECK(intact);
  }
  CHECK(pool.mapped_bytes() >= 700 * pool.stride());
}

TEST_CASE("make_room maps ahead exactly what the next allocations need") {
  StateBlockPool pool(7168, 0);
  CHECK(pool.mapped_bytes() == 0);
  pool.make_room(0);
  CHECK(pool.mapped_bytes() == 0);
  // More blocks than one growth slab holds: several slabs, mapped now.
  pool.make_room(100);
  const std::size_t mapped = pool.mapped_bytes();
  CHECK(mapped >= 100 * pool.stride());
  std::vector<StateBlock> blocks;
  for (int i = 0; i < 100; ++i) blocks.push_back(pool.allocate());
  CHECK(pool.mapped_bytes() == mapped);  // none of them mapped anything
  // Room that is already there maps nothing; blocks handed back count as room.
  const std::size_t free_now = (mapped - 100 * pool.stride()) / pool.stride();
  pool.make_room(free_now);
  CHECK(pool.mapped_bytes() == mapped);
  blocks.resize(50);
  pool.make_room(free_now + 50);
  CHECK(pool.mapped_bytes() == mapped);
  pool.make_room(free_now + 51);
  CHECK(pool.mapped_bytes() > mapped);
}

TEST_CASE("blocks handed back are used again before anything new is mapped") {
  StateBlockPool pool(1000, 64);
  const std::size_t reserved = pool.mapped_bytes();
  CHECK(reserved >= 64 * pool.stride());  // whole huge pages
  std::vector<StateBlock> blocks;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 64; ++i) blocks.push_back(pool.allocate());
    blocks.clear();
  }
  CHECK(pool.mapped_bytes() == reserved);
  blocks.push_back(pool.allocate());
  const std::byte* reused = blocks.back().get();
  blocks.clear();
  CHECK(pool.allocate().get() == reused);
}

TEST_CASE("two threads allocate and hand back at once") {
  StateBlockPool pool(512, 0);
  auto churn = [&](unsigned char tag) {
    std::vector<StateBlock> held;
    for (int i = 0; i < 20000; ++i) {
      held.push_back(pool.allocate());
      std::memset(held.back().get(), tag, 512);
      if (held.size() > 100) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(held.front().get());
        CHECK(std::all_of(bytes, bytes + 512, [&](unsigned char b) { return b == tag; }));
        held.erase(held.begin());
      }
    }
  };
  std::thread first(churn, static_cast<unsigned char>(1));
  std::thread second(churn, static_cast<unsigned char>(2));
  first.join();
  second.join();
  // At most 101 blocks held by each thread, fewer than one 256 KB slab holds: each thread maps
  // at most one slab (both may, at the same moment), whatever the churn.
  CHECK(pool.mapped_bytes() <= 2 * (std::size_t{256} << 10));
}

TEST_CASE("a tracker refuses to reserve more users' state than the machine's memory holds") {
  nowrec::InterestTrackerOptions options{.dim = 384, .expected_users = std::size_t{1} << 40};
  try {
    const nowrec::InterestTracker tracker(options);
    FAIL("no error");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == nowrec::ErrorCode::InvalidArgument);
    CHECK(std::string(error.what()).find("expected_users") != std::string::npos);
  }
  // Within the cap, the reservation follows max_memory_bytes instead.
  options.max_memory_bytes = std::size_t{64} << 20;
  const nowrec::InterestTracker capped(options);
  CHECK(capped.stats().users == 0);
}

TEST_CASE("a tracker at its memory cap gives each new user an evicted user's block") {
  const std::vector<float> item(384, 0.05f);
  auto add_user = [&](nowrec::InterestTracker& tracker, int u) {
    tracker.update({.user = "user-" + std::to_string(u), .item_embedding = item, .timestamp = u});
  };
  // How many users one growth slab holds: those added before the second slab is mapped.
  nowrec::InterestTracker uncapped({.dim = 384, .shards = 1});
  add_user(uncapped, 0);
  const std::size_t one_slab = uncapped.stats().mapped_state_bytes;
  REQUIRE(one_slab > 0);
  int per_slab = 1;
  while (uncapped.stats().mapped_state_bytes == one_slab) add_user(uncapped, per_slab++);
  const int cap = per_slab - 1;
  REQUIRE(cap > 1);

  // Capped at exactly one slab's users, three slabs' worth of new users map nothing more.
  nowrec::InterestTracker capped(
      {.dim = 384, .shards = 1, .max_memory_bytes = std::size_t(cap) * uncapped.bytes_per_user()});
  for (int u = 0; u < 3 * cap; ++u) add_user(capped, u);
  const nowrec::TrackerStats stats = capped.stats();
  CHECK(stats.users == std::size_t(cap));
  CHECK(stats.users_evicted == std::size_t(2 * cap));
  CHECK(stats.mapped_state_bytes == one_slab);
}

#ifdef NOWREC_LEAK_SANITIZER
TEST_CASE("a leak check finds nothing while a tracker holds users with long ids") {
  // The ids' text is on the heap and the only pointers to it are in the entries' mapped slabs,
  // which the pool registers with LeakSanitizer (a fuzzer checks for leaks while its tracker
  // lives).
  const std::vector<float> item(4, 0.5f);
  nowrec::InterestTracker tracker({.dim = 4, .shards = 2});
  for (int u = 0; u < 50; ++u) {
    tracker.update({.user = "a user id longer than fifteen bytes " + std::to_string(u),
                    .item_embedding = item,
                    .timestamp = 1});
  }
  CHECK(__lsan_do_recoverable_leak_check() == 0);
}
#endif
