// The C++ side of bench/python_binding_bench.py: the three calls the Python binding is measured
// on, timed here on the same inputs (one short text encode, one tracker update, one top 10 over a
// raw float32 catalog), printed as one JSON document.
//   binding_overhead_bench MODEL_DIR CATALOG_F32 DIM TEXT ITERATIONS
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nowrec/nowrec.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double micros_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::vector<float> read_floats(const char* path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamsize bytes = in.tellg();
  std::vector<float> values(std::size_t(bytes) / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), bytes);
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s MODEL_DIR CATALOG_F32 DIM TEXT ITERATIONS\n", argv[0]);
    return 2;
  }
  const std::size_t dim = std::strtoull(argv[3], nullptr, 10);
  const std::string text = argv[4];
  const int iterations = std::atoi(argv[5]);
  const std::vector<float> catalog = read_floats(argv[2]);
  const std::size_t items = catalog.size() / dim;
  nlohmann::json result{{"items", items}, {"dim", dim}, {"iterations", iterations}};

  // One text, one thread, as a server runs one query per core.
  const auto encoder = nowrec::SequenceEncoder::load(argv[1], {.threads = 1});
  const std::string_view texts[] = {text};
  std::vector<float> embedding(dim);
  std::vector<double> times;
  for (int i = 0; i < iterations + 10; ++i) {
    const auto start = Clock::now();
    encoder.encode(texts, embedding);
    if (i >= 10) times.push_back(micros_since(start));
  }
  result["encode_us_p50"] = median(times);
  result["tokens"] = encoder.tokenizer().encode(text).ids.size();

  // The catalog: ids 0..items-1, as the Python side adds it.
  nowrec::ItemIndex index(dim);
  std::vector<std::int64_t> ids(items);
  for (std::size_t i = 0; i < items; ++i) ids[i] = std::int64_t(i);
  index.add(ids, catalog);
  const nowrec::Ranker ranker(index);
  const std::span<const float> query(catalog.data(), dim);
  std::vector<nowrec::ScoredItem> top(10);
  std::vector<std::size_t> counts(1);
  const nowrec::RankRequest request{.query = query};
  times.clear();
  for (int i = 0; i < iterations + 10; ++i) {
    const auto start = Clock::now();
    ranker.rank(std::span(&request, 1), {.k = 10, .threads = 1}, top, counts);
    if (i >= 10) times.push_back(micros_since(start));
  }
  result["rank_us_p50"] = median(times);

  // Tracker updates: 1,000 users in turn, items from the catalog, one thread.
  const nowrec::ItemIndexStore store(index);
  nowrec::InterestTracker tracker({.dim = dim, .item_store = &store});
  std::vector<std::string> users(1000);
  for (std::size_t u = 0; u < users.size(); ++u) users[u] = "user" + std::to_string(u);
  std::mt19937_64 rng(7);
  const std::size_t events = 200'000;
  std::vector<std::int64_t> event_items(events);
  for (auto& item : event_items) item = std::int64_t(rng() % items);
  times.clear();
  const auto all = Clock::now();
  for (std::size_t e = 0; e < events; ++e) {
    const auto start = Clock::now();
    tracker.update({.user = users[e % users.size()],
                    .timestamp = std::int64_t(e),
                    .item = event_items[e],
                    .action = "click"});
    if (e % 100 == 0) times.push_back(micros_since(start));
  }
  const double seconds = micros_since(all) / 1e6;
  result["update_us_p50"] = median(times);
  result["updates_per_second"] = double(events) / seconds;
  std::printf("%s\n", result.dump().c_str());
  return 0;
}
