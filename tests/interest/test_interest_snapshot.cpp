// Snapshots: round trips, corrupt and truncated files, and snapshots taken while updates go on.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "interest/crc32c.hpp"
#include "interest/interest_test_util.hpp"
#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "test_support.hpp"

using nowrec::InterestTracker;
using nowrec::test::random_embedding;

namespace {

constexpr std::size_t kDim = 16;

nowrec::InterestTrackerOptions options(nowrec::StateDtype dtype = nowrec::StateDtype::F32) {
  return {.dim = kDim, .shards = 8, .max_interests = 3, .recent_window = 6, .dtype = dtype};
}

// Deterministic events for `users` users; `apply` gets each in stream order, sequences from 1.
template <class Apply>
void event_stream(int users, int events, Apply&& apply) {
  std::mt19937 rng(5);
  const char* actions[] = {"click", "like", "skip", "purchase", "view"};
  for (int i = 0; i < events; ++i) {
    const std::string user = "user-" + std::to_string(i % users);
    const auto e = random_embedding(rng, kDim);
    apply(nowrec::InterestEvent{.user = user,
                                .item_embedding = e,
                                .timestamp = 1000 + i,
                                .item = i,
                                .action = actions[i % 5],
                                .sequence = static_cast<std::uint64_t>(i + 1)});
  }
}

bool same_users(const InterestTracker& a, const InterestTracker& b, int users, std::int64_t now) {
  if (a.user_count() != b.user_count()) return false;
  for (int u = 0; u < users; ++u) {
    const std::string user = "user-" + std::to_string(u);
    if (!nowrec::test::same(nowrec::test::view(a, user, now), nowrec::test::view(b, user, now))) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("a snapshot restores every user exactly, with its watermark") {
  for (const auto dtype : {nowrec::StateDtype::F32, nowrec::StateDtype::BF16}) {
    nowrec::test::TempDir dir;
    InterestTracker live(options(dtype));
    event_stream(300, 3000, [&](const auto& e) { live.update(e); });
    live.snapshot(dir.path() / "s.nrs", 42);
    InterestTracker restored(options(dtype));
    restored.update({.user = "someone-else", .item_embedding = std::vector<float>(kDim, 1.0f)});
    CHECK(restored.restore(dir.path() / "s.nrs") == 42);
    CHECK(same_users(live, restored, 300, 5000));
    CHECK_FALSE(restored.user_stats("someone-else").has_value());
    // No temporary file is left behind.
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                        std::filesystem::directory_iterator()) == 1);
  }
}

TEST_CASE("a corrupt, truncated or mismatched snapshot is refused and the live state stays") {
  nowrec::test::TempDir dir;
  InterestTracker source(options());
  event_stream(40, 400, [&](const auto& e) { source.update(e); });
  source.snapshot(dir.path() / "good.nrs", 7);
  const std::string bytes = nowrec::test::read_file(dir.path() / "good.nrs");

  InterestTracker live(options());
  event_stream(10, 50, [&](const auto& e) { live.update(e); });
  const auto before = nowrec::test::view(live, "user-3", 5000);
  auto refused = [&](const std::string& contents, const char* message) {
    nowrec::test::write_file(dir.path() / "bad.nrs", contents);
    bool ok = false;
    try {
      live.restore(dir.path() / "bad.nrs");
    } catch (const nowrec::Error& error) {
      ok = error.code() == nowrec::ErrorCode::InvalidFormat &&
           std::string(error.what()).find(message) != std::string::npos;
      if (!ok) MESSAGE(error.what());
    }
    return ok;
  };
  int flips = 0;
  for (std::size_t pos = 0; pos < bytes.size(); pos += 1 + bytes.size() / 300) {
    std::string corrupt = bytes;
    corrupt[pos] = static_cast<char>(corrupt[pos] ^ 0x5A);
    CHECK(refused(corrupt, "snapshot '"));
    ++flips;
  }
  for (std::size_t size = 0; size < bytes.size(); size += 1 + bytes.size() / 200) {
    CHECK(refused(bytes.substr(0, size), "snapshot '"));
  }
  CHECK(refused(bytes.substr(0, bytes.size() - 1), "truncated"));
  CHECK(refused(bytes + "x", "truncated"));
  CHECK(refused("", "bad magic"));
  MESSAGE(flips << " flipped bytes refused");
  CHECK(nowrec::test::same(before, nowrec::test::view(live, "user-3", 5000)));
  CHECK(live.user_count() == 10);

  InterestTracker other_dim({.dim = kDim + 1, .max_interests = 3, .recent_window = 6});
  CHECK_THROWS_WITH_AS(other_dim.restore(dir.path() / "good.nrs"),
                       doctest::Contains("made with dim 16, this tracker has 17"), nowrec::Error);
  InterestTracker other_dtype(options(nowrec::StateDtype::BF16));
  CHECK_THROWS_WITH_AS(other_dtype.restore(dir.path() / "good.nrs"), doctest::Contains("dtype"),
                       nowrec::Error);
  CHECK_THROWS_AS(live.restore(dir.path() / "missing.nrs"), nowrec::Error);
  CHECK_THROWS_AS(live.snapshot(dir.path() / "no-such-folder" / "s.nrs", 1), nowrec::Error);
}

namespace {

// The same snapshot as format version 2 wrote it: the header without the action table.
std::string as_version_2(const std::string& file) {
  constexpr std::size_t kMagic = 8, kBlockHeader = 16, kVersion2Header = 48;
  std::uint64_t size = 0;
  std::memcpy(&size, file.data() + kMagic + 8, sizeof size);
  std::string payload = file.substr(kMagic + kBlockHeader, kVersion2Header);
  const std::uint32_t version = 2;
  std::memcpy(payload.data(), &version, sizeof version);
  std::string block = file.substr(kMagic, kBlockHeader);
  const std::uint64_t new_size = kVersion2Header;
  std::memcpy(block.data() + 8, &new_size, sizeof new_size);
  std::uint32_t crc = nowrec::interest::crc32c(0, block.data(), block.size());
  crc = nowrec::interest::crc32c(crc, payload.data(), payload.size());
  std::string crc_bytes(sizeof crc, '\0');
  std::memcpy(crc_bytes.data(), &crc, sizeof crc);
  return file.substr(0, kMagic) + block + payload + crc_bytes +
         file.substr(kMagic + kBlockHeader + size + sizeof crc);
}

}  // namespace

TEST_CASE("a snapshot names its actions, and a tracker with other actions refuses it") {
  nowrec::test::TempDir dir;
  InterestTracker source(options());
  event_stream(40, 400, [&](const auto& e) { source.update(e); });
  source.snapshot(dir.path() / "s.nrs", 7);

  nowrec::InterestTrackerOptions reordered = options();
  std::reverse(reordered.actions.begin(), reordered.actions.end());
  InterestTracker other_order(reordered);
  CHECK_THROWS_WITH_AS(other_order.restore(dir.path() / "s.nrs"),
                       doctest::Contains("made with action 0"), nowrec::Error);
  nowrec::InterestTrackerOptions few_actions = options();
  few_actions.actions = {{"click", 1.0f}};
  InterestTracker fewer(few_actions);
  CHECK_THROWS_WITH_AS(fewer.restore(dir.path() / "s.nrs"),
                       doctest::Contains("actions, this tracker has 1"), nowrec::Error);

  // A version 2 file, which does not name its actions, still restores, and a tracker whose
  // table lacks actions its windows name refuses it user by user.
  nowrec::test::write_file(dir.path() / "v2.nrs",
                           as_version_2(nowrec::test::read_file(dir.path() / "s.nrs")));
  InterestTracker restored(options());
  CHECK(restored.restore(dir.path() / "v2.nrs") == 7);
  CHECK(same_users(source, restored, 40, 5000));
  CHECK_THROWS_WITH_AS(fewer.restore(dir.path() / "v2.nrs"),
                       doctest::Contains("but this tracker has 1 actions"), nowrec::Error);
  CHECK(fewer.user_count() == 0);
}

TEST_CASE("a snapshot taken while updates go on, plus a replay from its watermark, is exact") {
  nowrec::test::TempDir dir;
  const int users = 100, events = 20000;
  InterestTracker live(options());
  std::atomic<std::uint64_t> applied{0};
  std::thread writer([&] {
    event_stream(users, events, [&](const auto& e) {
      live.update(e);
      applied.store(e.sequence, std::memory_order_release);
    });
  });
  while (applied.load(std::memory_order_acquire) < events / 4) std::this_thread::yield();
  // Every event up to the watermark is in the snapshot; some after it may be too.
  const std::uint64_t watermark = applied.load(std::memory_order_acquire);
  live.snapshot(dir.path() / "s.nrs", watermark);
  writer.join();

  InterestTracker restored(options());
  CHECK(restored.restore(dir.path() / "s.nrs") == watermark);
  event_stream(users, events, [&](const auto& e) {
    if (e.sequence > watermark) restored.update(e);
  });
  CHECK(same_users(live, restored, users, 1'000'000));
}

TEST_CASE("CRC-32C matches the standard check value on both paths") {
  const std::string check = "123456789";
  CHECK(nowrec::interest::crc32c(0, check.data(), check.size()) == 0xE3069283u);
  CHECK(nowrec::interest::crc32c_tables(0, check.data(), check.size()) == 0xE3069283u);
  std::mt19937 rng(3);
  std::string bytes(10007, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  for (std::size_t size : {0u, 1u, 7u, 8u, 9u, 100u, 10007u}) {
    // Split at an odd point: continuing a CRC must equal computing it at once.
    const std::size_t half = size / 3;
    const auto first = nowrec::interest::crc32c(0, bytes.data(), half);
    CHECK(nowrec::interest::crc32c(first, bytes.data() + half, size - half) ==
          nowrec::interest::crc32c_tables(0, bytes.data(), size));
  }
}
