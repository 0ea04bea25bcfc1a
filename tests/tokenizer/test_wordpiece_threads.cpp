// One Tokenizer used from several threads at once gives the single-threaded results.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "wordpiece_test_support.hpp"

namespace nowrec::test {
namespace {

TEST_CASE("encoding from four threads equals encoding from one") {
  const Tokenizer& tokenizer = minilm_tokenizer();
  const auto& lines = reference_lines();
  std::vector<Encoding> expected;
  for (const ReferenceLine& ref : lines) expected.push_back(tokenizer.encode(ref.bytes));

  constexpr int kThreads = 4;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::int32_t> ids;
      // Each thread walks the corpus from a different start so that they overlap differently.
      for (int round = 0; round < 3; ++round) {
        for (std::size_t k = 0; k < lines.size(); ++k) {
          const std::size_t i = (k + static_cast<std::size_t>(t) * 613) % lines.size();
          const Encoding encoding = tokenizer.encode(lines[i].bytes);
          tokenizer.encode_ids(lines[i].bytes, ids);
          if (encoding.ids != expected[i].ids || encoding.offsets != expected[i].offsets ||
              ids != expected[i].ids) {
            ++failures[static_cast<std::size_t>(t)];
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) CHECK(failures[static_cast<std::size_t>(t)] == 0);
}

}  // namespace
}  // namespace nowrec::test
