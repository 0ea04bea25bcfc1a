// The tracker's item store over a live catalog: ItemIndex::read from several threads while a
// writer adds, updates and removes items (the rows after a removed one move up in their
// segment). Runs under ThreadSanitizer in the test script.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/item_index.hpp"

namespace {

constexpr std::size_t kDim = 8;

// Item `id` at version `version`: every value differs, so a row read half from one version or
// from another item's place cannot pass for a whole one.
void fill_row(std::int64_t id, int version, std::span<float> row) {
  for (std::size_t j = 0; j < row.size(); ++j) {
    row[j] = float(id) * 16.0f + float(j) + 0.25f + float(version) * 1e5f;
  }
}

// The version a row holds when it is item `id`'s at some version, else nullopt.
std::optional<int> version_of(std::int64_t id, std::span<const float> row) {
  const int version = int((row[0] - float(id) * 16.0f - 0.25f) / 1e5f + 0.5f);
  std::vector<float> expected(row.size());
  fill_row(id, version, expected);
  for (std::size_t j = 0; j < row.size(); ++j) {
    if (row[j] != expected[j]) return std::nullopt;
  }
  return version;
}

std::vector<float> rows_of(std::span<const std::int64_t> ids, int version) {
  std::vector<float> rows(ids.size() * kDim);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    fill_row(ids[i], version, std::span(rows).subspan(i * kDim, kDim));
  }
  return rows;
}

}  // namespace

TEST_CASE("ItemIndex::read from several threads while the catalog is written") {
  // 5000 stable items over segments; a group that is added and removed again; and items in the
  // middle of a segment removed and re-added, so the rows after them move.
  std::vector<std::int64_t> stable(5000);
  std::iota(stable.begin(), stable.end(), 0);
  std::vector<std::int64_t> group(64);
  std::iota(group.begin(), group.end(), 100000);
  const std::vector<std::int64_t> middle = {10, 11, 500, 4000};

  nowrec::ItemIndex index(kDim);
  index.add(stable, rows_of(stable, 0));
  const nowrec::ItemIndexStore store(index);

  constexpr int kVersions = 30;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int version = 1; version <= kVersions; ++version) {
      index.update(stable, rows_of(stable, version));
      index.add(group, rows_of(group, version));
      index.remove(middle);
      index.remove(group);
      index.add(middle, rows_of(middle, version));
    }
    done = true;
  });

  std::atomic<int> wrong{0}, missing_stable{0}, errors{0}, reads{0};
  auto reader = [&](unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<float> row(kDim);
    int last_version = 0;
    while (!done.load() || reads.load() < 2000) {
      const bool from_group = rng() % 4 == 0;
      const std::int64_t id = from_group ? group[rng() % group.size()] : stable[rng() % 5000];
      try {
        const bool found = store.lookup(id, row);
        ++reads;
        const bool may_be_absent =
            from_group || std::find(middle.begin(), middle.end(), id) != middle.end();
        if (!found) {
          if (!may_be_absent) ++missing_stable;
          continue;
        }
        const auto version = version_of(id, row);
        if (!version || *version > kVersions) {
          ++wrong;
        } else if (!may_be_absent) {
          // Stable items are rewritten whole, so one reader never sees a version go back.
          if (*version < last_version) ++wrong;
          last_version = std::max(last_version, *version);
        }
      } catch (const nowrec::Error&) {
        ++errors;
      }
    }
  };
  std::thread first(reader, 1u), second(reader, 2u);
  writer.join();
  first.join();
  second.join();
  CHECK(reads.load() >= 2000);
  CHECK(wrong.load() == 0);
  CHECK(missing_stable.load() == 0);
  CHECK(errors.load() == 0);

  // Afterwards every item reads back at the last version.
  std::vector<float> row(kDim);
  for (const std::int64_t id : {std::int64_t{0}, std::int64_t{11}, std::int64_t{4999}}) {
    REQUIRE(store.lookup(id, row));
    CHECK(version_of(id, row) == kVersions);
  }
  CHECK_FALSE(store.lookup(group[0], row));
}
