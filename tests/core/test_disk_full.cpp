// Saves that cannot be completed (a full disk, a file size limit, a read-only disk): every saver
// fails with Error(Io) naming the file, leaves the previous file byte for byte as it was (and
// loadable), leaves no temporary file behind, and leaves the live state unchanged.
#include <doctest/doctest.h>

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "nowrec/co_visitation.hpp"
#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/item_index.hpp"
#include "test_support.hpp"

namespace {

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<float> random_vector(std::mt19937& rng, std::size_t dim) {
  std::normal_distribution<float> normal;
  std::vector<float> v(dim);
  for (float& x : v) x = normal(rng);
  return v;
}

// One kind of persisted state: how to save it, load it back, summarise the live state, and make
// it bigger (so that the next save needs more room than the previous file took).
struct Saver {
  std::string name;
  std::function<void(const std::filesystem::path&)> save;
  std::function<void(const std::filesystem::path&)> load;
  std::function<std::string()> live_summary;
  std::function<void()> grow;
};

// The three savers, each over its own live state.
std::vector<Saver> make_savers() {
  constexpr std::size_t kDim = 64;
  auto rng = std::make_shared<std::mt19937>(9);
  auto tracker = std::make_shared<nowrec::InterestTracker>(
      nowrec::InterestTrackerOptions{.dim = kDim, .shards = 4});
  auto tracker_events = std::make_shared<int>(0);
  auto index = std::make_shared<nowrec::ItemIndex>(kDim);
  auto next_id = std::make_shared<std::int64_t>(0);
  auto graph = std::make_shared<nowrec::CoVisitation>();
  auto graph_clock = std::make_shared<std::int64_t>(0);

  std::vector<Saver> savers;
  savers.push_back(
      {"InterestTracker snapshot",
       [tracker](const std::filesystem::path& p) { tracker->snapshot(p, 7); },
       [](const std::filesystem::path& p) {
         nowrec::InterestTracker restored({.dim = kDim, .shards = 4});
         restored.restore(p);
       },
       [tracker] {
         std::ostringstream out;
         const auto stats = tracker->stats();
         out << stats.users << ' ' << stats.events_applied;
         for (const auto& interest : tracker->interests("user-3", 1'000'000)) {
           for (float x : interest.vector) out << ' ' << x;
         }
         return out.str();
       },
       [tracker, tracker_events, rng] {
         for (int i = 0; i < 200; ++i, ++*tracker_events) {
           const auto v = random_vector(*rng, kDim);
           tracker->update({.user = "user-" + std::to_string(*tracker_events % 97),
                            .item_embedding = v,
                            .timestamp = 1000 + *tracker_events});
         }
       }});
  savers.push_back({"ItemIndex save",
                    [index](const std::filesystem::path& p) { index->save(p); },
                    [](const std::filesystem::path& p) { nowrec::ItemIndex::load(p); },
                    [index] {
                      std::ostringstream out;
                      out << index->size();
                      std::vector<float> v(kDim);
                      if (index->read(3, v)) {
                        for (float x : v) out << ' ' << x;
                      }
                      return out.str();
                    },
                    [index, next_id, rng] {
                      std::vector<std::int64_t> ids;
                      std::vector<float> vectors;
                      for (int i = 0; i < 200; ++i) {
                        ids.push_back((*next_id)++);
                        const auto v = random_vector(*rng, kDim);
                        vectors.insert(vectors.end(), v.begin(), v.end());
                      }
                      index->add(ids, vectors);
                    }});
  savers.push_back({"CoVisitation snapshot",
                    [graph](const std::filesystem::path& p) { graph->snapshot(p, 7); },
                    [](const std::filesystem::path& p) { nowrec::CoVisitation().restore(p); },
                    [graph] {
                      std::ostringstream out;
                      out << graph->stats().edges << ' ' << graph->stats().pairs_added;
                      for (const auto& n : graph->neighbours(3, 1'000'000)) out << ' ' << n.item;
                      return out.str();
                    },
                    [graph, graph_clock, rng] {
                      std::vector<std::int64_t> recent;
                      for (int i = 0; i < 400; ++i) {
                        const std::int64_t item = (*rng)() % 500;
                        graph->add(recent, item, ++*graph_clock);
                        recent.push_back(item);
                        if (recent.size() > 5) recent.erase(recent.begin());
                      }
                    }});
  return savers;
}

bool has_temporary_file(const std::filesystem::path& folder) {
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) return true;
  }
  return false;
}

// Saves once, grows the state, then runs `failing_save` (which must throw); checks what the
// failure left. Returns a description of the first thing wrong, or empty.
std::string check_failed_save(Saver& saver, const std::filesystem::path& folder,
                              const std::function<void(const std::function<void()>&)>& run_failing,
                              const std::function<void()>& grow_between = {}) {
  const auto path = folder / (saver.name.substr(0, saver.name.find(' ')) + ".bin");
  saver.grow();
  saver.save(path);
  const std::string previous = file_bytes(path);
  saver.grow();
  if (grow_between) grow_between();
  const std::string live = saver.live_summary();
  std::string thrown;
  run_failing([&] {
    try {
      saver.save(path);
      thrown = "<nothing thrown>";
    } catch (const nowrec::Error& error) {
      thrown = error.code() == nowrec::ErrorCode::Io ? error.what() : "<wrong code> " +
                                                                          std::string(error.what());
    }
  });
  if (thrown.rfind("<", 0) == 0) return saver.name + ": " + thrown;
  if (thrown.find(path.string()) == std::string::npos) {
    return saver.name + ": the error does not name the file: " + thrown;
  }
  if (file_bytes(path) != previous) return saver.name + ": the previous file changed";
  try {
    saver.load(path);
  } catch (const nowrec::Error& error) {
    return saver.name + ": the previous file no longer loads: " + error.what();
  }
  if (has_temporary_file(folder)) return saver.name + ": a temporary file was left behind";
  if (saver.live_summary() != live) return saver.name + ": the live state changed";
  return {};
}

}  // namespace

TEST_CASE("a save past the file size limit fails with Io and loses nothing") {
  // RLIMIT_FSIZE makes every write past the limit fail with EFBIG, as a full disk fails with
  // ENOSPC, without needing a small file system.
  ::signal(SIGXFSZ, SIG_IGN);
  nowrec::test::TempDir dir;
  for (Saver& saver : make_savers()) {
    CAPTURE(saver.name);
    const auto limited = [&](const std::function<void()>& save) {
      rlimit old{};
      REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
      const auto path = dir.path() / (saver.name.substr(0, saver.name.find(' ')) + ".bin");
      rlimit small = old;
      small.rlim_cur = std::filesystem::file_size(path) / 2;
      REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
      save();
      REQUIRE(::setrlimit(RLIMIT_FSIZE, &old) == 0);
    };
    CHECK(check_failed_save(saver, dir.path(), limited) == "");
    // With room again, the save goes through.
    const auto path = dir.path() / "again.bin";
    CHECK_NOTHROW(saver.save(path));
    CHECK_NOTHROW(saver.load(path));
  }
  ::signal(SIGXFSZ, SIG_DFL);
}

namespace {

// In a child with its own mount namespace (as root, or as root of a new user namespace): mounts
// a small tmpfs on `folder`, fills it or makes it read-only, and checks every saver. The child's
// exit status: 0 passed, 1 failed (reason on stderr), 77 the mount was not possible here.
int run_in_small_file_system(const std::filesystem::path& folder, bool read_only) {
  const pid_t child = ::fork();
  if (child != 0) {
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  if (::unshare(CLONE_NEWNS) != 0 && ::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) _exit(77);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(77);
  if (::mount("nowrec-test", folder.c_str(), "tmpfs", 0, "size=4m") != 0) _exit(77);
  for (Saver& saver : make_savers()) {
    const auto fill_or_freeze = [&] {
      if (read_only) {
        if (::mount(nullptr, folder.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
          _exit(77);
        }
        return;
      }
      // Leave less room than the grown state needs.
      std::ofstream filler(folder / "filler", std::ios::binary);
      const std::string chunk(4096, 'x');
      while (filler.write(chunk.data(), std::streamsize(chunk.size()))) {
      }
    };
    const auto plain = [](const std::function<void()>& save) { save(); };
    const std::string problem = check_failed_save(saver, folder, plain, fill_or_freeze);
    if (!problem.empty()) {
      std::fprintf(stderr, "%s\n", problem.c_str());
      _exit(1);
    }
    if (read_only) {
      ::mount(nullptr, folder.c_str(), nullptr, MS_REMOUNT, nullptr);
    } else {
      std::filesystem::remove(folder / "filler");
    }
  }
  _exit(0);
}

}  // namespace

TEST_CASE("a save onto a full or a read-only file system fails with Io and loses nothing") {
  for (const bool read_only : {false, true}) {
    CAPTURE(read_only);
    nowrec::test::TempDir dir;
    const int status = run_in_small_file_system(dir.path(), read_only);
    if (status == 77) {
      MESSAGE("skipped: this machine lets the test mount no tmpfs (no root, no user namespace)");
      continue;
    }
    CHECK(status == 0);
  }
}
