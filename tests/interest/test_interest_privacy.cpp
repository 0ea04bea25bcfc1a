// Privacy: forget() removes a user from memory and from the next snapshot; a user id key keeps
// raw ids out of memory and snapshots.
#include <doctest/doctest.h>

#include <bit>
#include <cstdint>
#include <random>
#include <string>

#include "interest/interest_test_util.hpp"
#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "test_support.hpp"

namespace {

constexpr std::size_t kDim = 16;

void feed(nowrec::InterestTracker& tracker, const std::string& user, std::mt19937& rng,
          int events) {
  for (int i = 0; i < events; ++i) {
    const std::vector<float> v = nowrec::test::random_embedding(rng, kDim);
    tracker.update({.user = user, .item_embedding = v, .timestamp = 100 + i, .item = 9000 + i});
  }
}

bool file_contains(const std::filesystem::path& path, const std::string& text) {
  return nowrec::test::read_file(path).find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("InterestTracker::forget removes the user from memory and the next snapshot") {
  nowrec::test::TempDir dir;
  std::mt19937 rng(21);
  nowrec::InterestTracker tracker({.dim = kDim, .recent_window = 8});
  feed(tracker, "keep-user-40771", rng, 5);
  feed(tracker, "forget-user-93516", rng, 5);
  tracker.snapshot(dir.path() / "before.snap", 1);
  // Positive control: a snapshot does hold the ids it stores.
  REQUIRE(file_contains(dir.path() / "before.snap", "forget-user-93516"));
  const std::size_t memory = tracker.stats().memory_bytes;

  CHECK(tracker.forget("forget-user-93516"));
  CHECK_FALSE(tracker.forget("forget-user-93516"));
  CHECK_FALSE(tracker.forget("never-seen"));
  CHECK(tracker.user_count() == 1);
  CHECK_FALSE(tracker.user_stats("forget-user-93516").has_value());
  CHECK(tracker.interests("forget-user-93516", 1000).empty());
  CHECK(tracker.recent_events("forget-user-93516").empty());
  const nowrec::TrackerStats stats = tracker.stats();
  CHECK(stats.users_forgotten == 1);
  CHECK(stats.memory_bytes == memory - tracker.bytes_per_user());

  tracker.snapshot(dir.path() / "after.snap", 2);
  CHECK_FALSE(file_contains(dir.path() / "after.snap", "forget-user-93516"));
  CHECK(file_contains(dir.path() / "after.snap", "keep-user-40771"));
  // The other user is untouched, and the forgotten one starts afresh on a new event.
  CHECK(tracker.user_stats("keep-user-40771")->events == 5);
  feed(tracker, "forget-user-93516", rng, 1);
  CHECK(tracker.user_stats("forget-user-93516")->events == 1);
}

TEST_CASE("InterestTracker: with a user id key, raw ids are neither kept nor written") {
  nowrec::test::TempDir dir;
  std::mt19937 rng(22);
  const std::string key = "0123456789abcdef";
  nowrec::InterestTracker tracker({.dim = kDim, .user_id_key = key});
  feed(tracker, "raw-id-alice-55213", rng, 4);
  feed(tracker, "raw-id-bob-66324", rng, 2);
  CHECK(tracker.user_count() == 2);
  CHECK(tracker.user_stats("raw-id-alice-55213")->events == 4);
  CHECK(tracker.interests("raw-id-bob-66324", 1000).size() >= 2);
  tracker.snapshot(dir.path() / "hashed.snap", 7);
  CHECK_FALSE(file_contains(dir.path() / "hashed.snap", "raw-id-alice-55213"));
  CHECK_FALSE(file_contains(dir.path() / "hashed.snap", "raw-id-bob"));

  // The same key restores every user under the same ids.
  nowrec::InterestTracker same_key({.dim = kDim, .user_id_key = key});
  CHECK(same_key.restore(dir.path() / "hashed.snap") == 7);
  CHECK(nowrec::test::same(nowrec::test::view(same_key, "raw-id-alice-55213", 1000),
                           nowrec::test::view(tracker, "raw-id-alice-55213", 1000)));
  CHECK(same_key.forget("raw-id-bob-66324"));
  CHECK(same_key.user_count() == 1);

  const auto refuses = [&](nowrec::InterestTracker& other, const char* words) {
    try {
      other.restore(dir.path() / "hashed.snap");
      FAIL("no error");
    } catch (const nowrec::Error& e) {
      const std::string message = e.what();
      CAPTURE(message);
      CHECK(e.code() == nowrec::ErrorCode::InvalidFormat);
      CHECK(message.find(words) != std::string::npos);
    }
    CHECK(other.user_count() == 0);
  };
  nowrec::InterestTracker other_key({.dim = kDim, .user_id_key = "fedcba9876543210"});
  refuses(other_key, "another user_id_key");
  nowrec::InterestTracker no_key({.dim = kDim});
  refuses(no_key, "hashed user ids");

  CHECK_THROWS_AS(nowrec::InterestTracker({.dim = kDim, .user_id_key = "short"}), nowrec::Error);
}

namespace {

bool contains_bytes(const std::string& haystack, const void* needle, std::size_t size) {
  return haystack.find(std::string(static_cast<const char*>(needle), size)) != std::string::npos;
}

}  // namespace

TEST_CASE("InterestTracker: a user's memory, reused by a new user, leaves nothing in snapshots") {
  // The pool hands a new user the block a departed user left, so a snapshot must show nothing of
  // the departed user's clusters and window where the new user keeps nothing yet.
  for (const nowrec::StateDtype dtype : {nowrec::StateDtype::F32, nowrec::StateDtype::BF16}) {
    CAPTURE(static_cast<int>(dtype));
    nowrec::test::TempDir dir;
    nowrec::InterestTracker tracker(
        {.dim = kDim, .recent_window = 8, .dtype = dtype, .ttl_seconds = 50});
    // Four orthogonal events (rows of a Hadamard matrix times 1232, exact in fp32 and bf16) make
    // four clusters whose stored vectors hold those values as they are, and window entries that
    // hold `old_item + i`.
    const float marker = 1232.0f;
    const std::int64_t old_item = 777'777'777'777;
    for (std::size_t i = 0; i < 4; ++i) {
      std::vector<float> v(kDim);
      for (std::size_t j = 0; j < kDim; ++j) v[j] = std::popcount(i & j) % 2 ? -marker : marker;
      tracker.update({.user = "departing-user",
                      .item_embedding = v,
                      .timestamp = 100,
                      .item = old_item + static_cast<std::int64_t>(i)});
    }
    REQUIRE(tracker.user_stats("departing-user")->interests == 4);
    tracker.snapshot(dir.path() / "before.snap", 1);
    const std::string before = nowrec::test::read_file(dir.path() / "before.snap");
    const std::int64_t last_old_item = old_item + 3;
    // The start of the second cluster as stored: +, -, +, - marker.
    const float f32_pattern[4] = {marker, -marker, marker, -marker};
    const std::uint16_t bf16_pattern[4] = {0x449A, 0xC49A, 0x449A, 0xC49A};
    const auto holds_cluster = [&](const std::string& file) {
      return dtype == nowrec::StateDtype::F32
                 ? contains_bytes(file, f32_pattern, sizeof(f32_pattern))
                 : contains_bytes(file, bf16_pattern, sizeof(bf16_pattern));
    };
    // Positive controls: the snapshot holds the vectors and the items when the user is there.
    REQUIRE(holds_cluster(before));
    REQUIRE(contains_bytes(before, &last_old_item, sizeof(last_old_item)));

    REQUIRE(tracker.expire(1000) == 1);
    std::vector<float> v(kDim, 0.0f);
    v[kDim - 1] = 1.0f;
    tracker.update({.user = "arriving-user", .item_embedding = v, .timestamp = 1000, .item = 5});
    REQUIRE(tracker.user_stats("arriving-user")->interests == 1);
    tracker.snapshot(dir.path() / "after.snap", 2);
    const std::string after = nowrec::test::read_file(dir.path() / "after.snap");
    for (std::size_t i = 0; i < 4; ++i) {
      const std::int64_t item = old_item + static_cast<std::int64_t>(i);
      CHECK_FALSE(contains_bytes(after, &item, sizeof(item)));
    }
    CHECK_FALSE(holds_cluster(after));
    // And the new user restores as it was.
    const auto expected = nowrec::test::view(tracker, "arriving-user", 1000);
    nowrec::InterestTracker restored(
        {.dim = kDim, .recent_window = 8, .dtype = dtype, .ttl_seconds = 50});
    restored.restore(dir.path() / "after.snap");
    CHECK(nowrec::test::same(nowrec::test::view(restored, "arriving-user", 1000), expected));
  }
}
