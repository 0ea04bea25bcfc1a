// libFuzzer target: the files nowrec saves and loads back, on arbitrary contents.
//
// The first byte picks the reader (even: ItemIndex::load, odd: InterestTracker::restore); the
// rest is the file. Refusing input must be a nowrec::Error; an index that loads must answer
// reads and rankings; a refused restore must leave the tracker as it was.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/item_index.hpp"
#include "nowrec/ranker.hpp"

#include "scratch_file.hpp"

namespace {

void load_index(const std::filesystem::path& file) {
  try {
    const nowrec::ItemIndex index = nowrec::ItemIndex::load(file);
    if (index.size() == 0) return;
    std::vector<float> vector(index.dim(), 0.5f);
    // Ids 0..3 may or may not be present; either answer is fine, a crash is not.
    for (std::int64_t id = 0; id < 4; ++id) index.read(id, vector);
    const nowrec::Ranker ranker(index);
    const std::vector<float> query(index.dim(), 0.25f);
    ranker.top_k(query, 3);
  } catch (const nowrec::Error&) {
  }
}

void restore_tracker(const std::filesystem::path& file) {
  static nowrec::InterestTracker tracker = [] {
    nowrec::InterestTracker t({.dim = 4, .shards = 2, .max_interests = 2, .recent_window = 3});
    const float v[] = {1, 0, 0, 0};
    t.update({.user = "u", .item_embedding = v, .timestamp = 5, .item = 1, .action = "click"});
    return t;
  }();
  try {
    tracker.restore(file);
    for (const auto& interest : tracker.interests("u", 1'000'000'000)) (void)interest;
    // A restore that succeeded replaced the user; put the known state back for the next input.
    tracker = nowrec::InterestTracker(tracker.options());
    const float v[] = {1, 0, 0, 0};
    tracker.update({.user = "u", .item_embedding = v, .timestamp = 5, .item = 1, .action = "click"});
  } catch (const nowrec::Error&) {
    // Refused: the one user is still there, unchanged.
    const auto stats = tracker.user_stats("u");
    if (!stats || stats->events != 1 || tracker.user_count() != 1) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::filesystem::path& file = nowrec::fuzz::write_scratch_file(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    load_index(file);
  } else {
    restore_tracker(file);
  }
  return 0;
}
