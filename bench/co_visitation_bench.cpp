// CoVisitation: events applied per second when replaying the real MovieLens ratings (each event
// paired with its user's recent items), on 1 and 2 threads sharing one graph, and score() latency.
// Usage: co_visitation_bench [google benchmark flags]; NOWREC_BENCH_RATINGS names a ratings.csv
// (default: the MovieLens copy in examples/data).
#include <benchmark/benchmark.h>
#include <nowrec/eval/dataset.hpp>
#include <nowrec/nowrec.hpp>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

struct Event {
  std::int64_t user;
  std::int64_t item;
  std::int64_t timestamp;
};

const std::vector<Event>& events() {
  static const std::vector<Event> all = [] {
    const char* path = std::getenv("NOWREC_BENCH_RATINGS");
    std::vector<Event> out;
    for (const auto& r : nowrec::load_interactions(
             path != nullptr ? path
                             : NOWREC_SOURCE_DIR "/examples/data/ml-latest-small/ratings.csv")) {
      out.push_back({r.user, r.item, r.timestamp});
    }
    std::sort(out.begin(), out.end(),
              [](const Event& a, const Event& b) { return a.timestamp < b.timestamp; });
    return out;
  }();
  return all;
}

// The settings the fused method chose on MovieLens (pair distance 10); the benchmark also runs
// the cooccurrence baseline's distance of 3.
constexpr nowrec::CoVisitationOptions kOptions{.pair_distance = 10,
                                               .distance_decay = 0.7f,
                                               .max_neighbours = 500,
                                               .voters = 5,
                                               .voter_decay = 0.8f};

// Thread t applies the events of the users u with u % threads == t, in time order, each paired
// with that user's last pair_distance items.
void apply_share(nowrec::CoVisitation& graph, int thread, int threads) {
  const std::size_t keep = graph.options().pair_distance;
  std::unordered_map<std::int64_t, std::vector<std::int64_t>> recent;
  for (const Event& e : events()) {
    if (e.user % threads != thread) continue;
    std::vector<std::int64_t>& items = recent[e.user];
    graph.add(items, e.item, e.timestamp);
    items.push_back(e.item);
    if (items.size() > 2 * keep) items.erase(items.begin(), items.end() - std::ptrdiff_t(keep));
  }
}

void BM_ApplyEvents(benchmark::State& state) {
  const int threads = int(state.range(0));
  nowrec::CoVisitationOptions options = kOptions;
  options.pair_distance = std::size_t(state.range(1));
  std::size_t edges = 0, bytes = 0, items = 0, evictions = 0;
  for (auto _ : state) {
    nowrec::CoVisitation graph(options);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&graph, t, threads] { apply_share(graph, t, threads); });
    }
    for (auto& w : workers) w.join();
    const auto stats = graph.stats();
    edges = stats.edges;
    bytes = stats.memory_bytes;
    items = stats.items;
    evictions = stats.evictions;
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(events().size()));
  state.counters["edges"] = double(edges);
  state.counters["evictions"] = double(evictions);
  state.counters["bytes_per_item"] = double(bytes) / double(std::max<std::size_t>(1, items));
  state.counters["MiB"] = double(bytes) / (1 << 20);
}
BENCHMARK(BM_ApplyEvents)
    ->ArgNames({"threads", "pair_distance"})
    ->Args({1, 10})
    ->Args({2, 10})
    ->Args({1, 3})
    ->Args({2, 3})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Score(benchmark::State& state) {
  nowrec::CoVisitation graph(kOptions);
  apply_share(graph, 0, 1);
  // The last five items of the user with the most ratings.
  std::unordered_map<std::int64_t, std::vector<std::int64_t>> by_user;
  for (const Event& e : events()) by_user[e.user].push_back(e.item);
  const auto& longest = std::max_element(by_user.begin(), by_user.end(), [](auto& a, auto& b) {
                          return a.second.size() < b.second.size();
                        })->second;
  const std::vector<std::int64_t> recent(longest.end() - 5, longest.end());
  std::vector<nowrec::CoVisitationScore> scores;
  for (auto _ : state) {
    graph.score(recent, events().back().timestamp, scores);
    benchmark::DoNotOptimize(scores.data());
  }
  state.counters["candidates"] = double(scores.size());
}
BENCHMARK(BM_Score)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
