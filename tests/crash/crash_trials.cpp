// Crash trials: a child process saves (tracker snapshots, or index saves) over and over while
// it grows its state; the parent kills it with SIGKILL after a random delay, then checks that
// the file on disk is exactly one complete save (the previous one or a newer one, never a mix)
// and that the next successful save leaves no temporary file behind.
//
//   crash_trials tracker|index TRIALS [FOLDER]
//
// Prints one line per 100 trials and a summary; exits non-zero at the first broken trial.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/item_index.hpp"

namespace {

constexpr std::size_t kDim = 32;
constexpr int kEventsPerSave = 50;
constexpr int kItemsPerSave = 100;

[[noreturn]] void broken(int trial, const std::string& what) {
  std::fprintf(stderr, "trial %d: %s\n", trial, what.c_str());
  std::exit(1);
}

// The embedding of event (or item) n: a pure function of n, so a parent can tell which state a
// file holds without having seen the child write it.
std::vector<float> vector_of(std::int64_t n) {
  std::mt19937 rng(static_cast<unsigned>(n) * 2654435761u + 1);
  std::normal_distribution<float> normal;
  std::vector<float> v(kDim);
  for (float& x : v) x = normal(rng);
  return v;
}

std::size_t temporary_files(const std::filesystem::path& folder) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) ++count;
  }
  return count;
}

// Tracker: event n goes to user n % 500 at time n. The child's k-th snapshot holds events
// [0, first + k * kEventsPerSave) with watermark = that count, so the file's watermark says how
// many events it must hold.
struct TrackerTrials {
  nowrec::InterestTrackerOptions options{.dim = kDim, .shards = 16};

  static void apply(nowrec::InterestTracker& tracker, std::int64_t from, std::int64_t to) {
    for (std::int64_t n = from; n < to; ++n) {
      const auto v = vector_of(n);
      tracker.update({.user = "user-" + std::to_string(n % 500),
                      .item_embedding = v,
                      .timestamp = n,
                      .action = "click"});
    }
  }

  std::int64_t setup(const std::filesystem::path& path) {
    nowrec::InterestTracker tracker(options);
    apply(tracker, 0, 2000);
    tracker.snapshot(path, 2000);
    return 2000;
  }

  [[noreturn]] void child(const std::filesystem::path& path, std::int64_t events) {
    nowrec::InterestTracker tracker(options);
    tracker.restore(path);
    for (;;) {
      apply(tracker, events, events + kEventsPerSave);
      events += kEventsPerSave;
      tracker.snapshot(path, static_cast<std::uint64_t>(events));
    }
  }

  // Checks the file and returns how many events it holds.
  std::int64_t check(int trial, const std::filesystem::path& path) {
    nowrec::InterestTracker restored(options);
    std::uint64_t watermark = 0;
    try {
      watermark = restored.restore(path);
    } catch (const nowrec::Error& error) {
      broken(trial, std::string("the snapshot does not restore: ") + error.what());
    }
    const auto events = static_cast<std::int64_t>(watermark);
    std::uint64_t held = 0;
    for (int user = 0; user < 500; ++user) {
      if (const auto stats = restored.user_stats("user-" + std::to_string(user))) {
        held += stats->events;
      }
    }
    if (held != static_cast<std::uint64_t>(events)) {
      broken(trial, "watermark " + std::to_string(watermark) + " but " + std::to_string(held) +
                        " events");
    }
    // The last user's window must end with the event the watermark names.
    const std::int64_t last = events - 1;
    const auto recent = restored.recent_events("user-" + std::to_string(last % 500));
    if (recent.empty() || recent.back().timestamp != last) broken(trial, "a mixed snapshot");
    // A successful save of the same state sweeps the killed child's temporary file.
    restored.snapshot(path, watermark);
    return events;
  }
};

// Index: the child's k-th save holds items [0, first + k * kItemsPerSave), item n with
// vector_of(n).
struct IndexTrials {
  static void add(nowrec::ItemIndex& index, std::int64_t from, std::int64_t to) {
    std::vector<std::int64_t> ids;
    std::vector<float> vectors;
    for (std::int64_t n = from; n < to; ++n) {
      ids.push_back(n);
      const auto v = vector_of(n);
      vectors.insert(vectors.end(), v.begin(), v.end());
    }
    index.add(ids, vectors);
  }

  std::int64_t setup(const std::filesystem::path& path) {
    nowrec::ItemIndex index(kDim);
    add(index, 0, 5000);
    index.save(path);
    return 5000;
  }

  [[noreturn]] void child(const std::filesystem::path& path, std::int64_t items) {
    nowrec::ItemIndex index = nowrec::ItemIndex::load(path);
    for (;;) {
      add(index, items, items + kItemsPerSave);
      items += kItemsPerSave;
      index.save(path);
    }
  }

  std::int64_t check(int trial, const std::filesystem::path& path) {
    try {
      const nowrec::ItemIndex index = nowrec::ItemIndex::load(path);
      const auto items = static_cast<std::int64_t>(index.size());
      std::vector<float> v(kDim);
      // Every item of a complete save, with its own vector; spot-check the vectors.
      for (std::int64_t n = 0; n < items; ++n) {
        if (!index.read(n, v)) broken(trial, "item " + std::to_string(n) + " is missing");
        if ((n % 97 == 0 || n == items - 1) && v != vector_of(n)) {
          broken(trial, "item " + std::to_string(n) + " has another item's vector");
        }
      }
      if (index.read(items, v)) broken(trial, "an item beyond the saved count");
      index.save(path);
      return items;
    } catch (const nowrec::Error& error) {
      broken(trial, std::string("the index does not load: ") + error.what());
    }
  }
};

template <class Trials>
int run(Trials trials, int count, const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  const auto path = folder / "state.bin";
  std::int64_t held = trials.setup(path);
  // Kill delays span a few save durations, so kills land inside saves and between them.
  const auto start = std::chrono::steady_clock::now();
  trials.check(0, path);
  const auto save_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now() - start)
                               .count();
  std::mt19937 timing(2026);
  int mid_save = 0, advanced = 0;
  for (int trial = 1; trial <= count; ++trial) {
    const pid_t child = ::fork();
    if (child < 0) broken(trial, "fork failed");
    if (child == 0) trials.child(path, held);
    std::this_thread::sleep_for(std::chrono::microseconds(timing() % (4 * save_micros + 2000)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!WIFSIGNALED(status)) broken(trial, "the child ended by itself");
    if (temporary_files(folder) > 0) ++mid_save;
    const std::int64_t now_held = trials.check(trial, path);
    if (now_held < held) broken(trial, "the file went back to an older save");
    if (now_held > held) ++advanced;
    held = now_held;
    if (temporary_files(folder) != 0) broken(trial, "a temporary file survived the next save");
    if (trial % 100 == 0) {
      std::printf("%d trials: %d killed mid-save, %d after a newer save completed\n", trial,
                  mid_save, advanced);
      std::fflush(stdout);
    }
  }
  std::printf("all %d trials passed: %d killed mid-save, %d after a newer save completed\n",
              count, mid_save, advanced);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: crash_trials tracker|index TRIALS [FOLDER]\n");
    return 2;
  }
  const std::string kind = argv[1];
  const int count = std::atoi(argv[2]);
  const std::filesystem::path folder =
      argc > 3 ? argv[3] : std::filesystem::temp_directory_path() / ("nowrec-crash-" + kind);
  std::filesystem::remove_all(folder);
  if (kind == "tracker") return run(TrackerTrials{}, count, folder);
  if (kind == "index") return run(IndexTrials{}, count, folder);
  std::fprintf(stderr, "unknown kind '%s'\n", kind.c_str());
  return 2;
}
