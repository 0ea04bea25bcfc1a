// A process killed (SIGKILL) while writing a snapshot leaves the previous snapshot readable.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "interest/interest_test_util.hpp"
#include "nowrec/interest_tracker.hpp"
#include "test_support.hpp"

namespace {

constexpr std::size_t kDim = 32;
constexpr int kUsers = 1000;

nowrec::InterestTrackerOptions options() { return {.dim = kDim, .shards = 16}; }

void add_events(nowrec::InterestTracker& tracker, std::mt19937& rng, int count,
                std::int64_t start) {
  for (int i = 0; i < count; ++i) {
    const auto e = nowrec::test::random_embedding(rng, kDim);
    tracker.update({.user = "user-" + std::to_string(i % kUsers),
                    .item_embedding = e,
                    .timestamp = start + i,
                    .action = "click"});
  }
}

// The child: snapshot after snapshot with growing watermarks, until it is killed.
[[noreturn]] void snapshot_forever(nowrec::InterestTracker& tracker,
                                   const std::filesystem::path& path, std::uint64_t watermark) {
  std::mt19937 rng(static_cast<unsigned>(watermark));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  try {
    while (std::chrono::steady_clock::now() < deadline) {
      add_events(tracker, rng, 50, 1'000'000 + static_cast<std::int64_t>(watermark) * 100);
      tracker.snapshot(path, ++watermark);
    }
  } catch (...) {
    _exit(4);
  }
  _exit(3);  // never reached in the test: the parent kills it first
}

}  // namespace

TEST_CASE("SIGKILL at random moments during snapshots never breaks the previous snapshot") {
  nowrec::test::TempDir dir;
  const auto path = dir.path() / "tracker.nrs";
  nowrec::InterestTracker tracker(options());
  std::mt19937 rng(1);
  add_events(tracker, rng, kUsers * 2, 0);
  // Kill delays span a few snapshot durations, so that kills land both inside a snapshot and
  // between two, however fast this build runs.
  const auto start = std::chrono::steady_clock::now();
  tracker.snapshot(path, 1);
  const auto snapshot_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - start)
                                   .count();

  std::uint64_t last_watermark = 1;
  std::mt19937 timing(2024);
  const int kills = 40;
  int advanced = 0;
  int mid_write = 0;
  for (int round = 0; round < kills; ++round) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) snapshot_forever(tracker, path, last_watermark + 1000);
    std::this_thread::sleep_for(std::chrono::microseconds(timing() % (3 * snapshot_micros + 1000)));
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));

    // A temporary file left behind means the kill landed inside a snapshot.
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      if (entry.path().filename().string().find(".tmp.") != std::string::npos) {
        ++mid_write;
        std::filesystem::remove(entry.path());
      }
    }
    nowrec::InterestTracker restored(options());
    std::uint64_t watermark = 0;
    CHECK_NOTHROW(watermark = restored.restore(path));
    CHECK(watermark >= last_watermark);
    CHECK(restored.user_count() == kUsers);
    if (watermark > last_watermark) ++advanced;
    last_watermark = watermark;
  }
  MESSAGE(kills << " kills: " << mid_write << " while writing a snapshot, " << advanced
                << " after at least one newer snapshot was complete");
  CHECK(mid_write > 0);
}
