// libFuzzer target: the files a recommendation server reads back, on arbitrary contents.
//
// The first byte picks the reader (even: RecommenderConfig::load, odd: CoVisitation::restore);
// the rest is the file. Refusing input must be a nowrec::Error; a refused restore must leave the
// graph as it was.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "nowrec/co_visitation.hpp"
#include "nowrec/error.hpp"
#include "nowrec/recommender.hpp"

#include "scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::filesystem::path& file = nowrec::fuzz::write_scratch_file(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    try {
      const nowrec::RecommenderConfig config = nowrec::RecommenderConfig::load(file);
      // A config that loads is one a Recommender accepts: its graph options are valid.
      if (config.co_visitation > 0.0f) nowrec::CoVisitation graph(config.co_visitation_options);
    } catch (const nowrec::Error&) {
    }
    return 0;
  }
  nowrec::CoVisitation graph({.max_neighbours = 8, .shards = 4});
  graph.add(std::vector<std::int64_t>{1}, 2, 10);
  try {
    graph.restore(file);
    graph.stats();
  } catch (const nowrec::Error&) {
    // Refused: the one pair added above is still there.
    if (graph.neighbours(1, 10).size() != 1) __builtin_trap();
  }
  return 0;
}
