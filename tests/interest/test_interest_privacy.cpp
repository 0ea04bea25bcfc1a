// Privacy: forget() removes a user from memory and from the next snapshot; a user id key keeps
// raw ids out of memory and snapshots.
#include <doctest/doctest.h>

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
