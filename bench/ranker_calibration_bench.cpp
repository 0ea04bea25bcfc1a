// Calibrated ranking of one user's interests: RankRequest::calibrate (one pass over the catalog,
// the second over saved scores) against the same result from two scans (a top-1 scan per
// interest for the best matches, then the ranking with the weights divided by them), as the
// Recommender did before. Google Benchmark; args: catalog rows, threads.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "nowrec/item_index.hpp"
#include "nowrec/ranker.hpp"

namespace {

constexpr std::size_t kDim = 384;
constexpr std::size_t kInterests = 5;

struct Setup {
  nowrec::ItemIndex index{kDim};
  std::vector<std::vector<float>> vectors;
  std::vector<nowrec::WeightedInterest> interests;
  std::vector<std::int64_t> exclude;

  explicit Setup(std::size_t rows) {
    std::mt19937 rng(7);
    std::normal_distribution<float> normal;
    std::vector<std::int64_t> ids(rows);
    std::vector<float> data(rows * kDim);
    for (std::size_t i = 0; i < rows; ++i) ids[i] = static_cast<std::int64_t>(i);
    for (float& x : data) x = normal(rng);
    index.add(ids, data);
    for (std::size_t i = 0; i < kInterests; ++i) {
      vectors.emplace_back(kDim);
      for (float& x : vectors.back()) x = normal(rng);
    }
    for (std::size_t i = 0; i < kInterests; ++i) {
      interests.push_back({.vector = vectors[i], .weight = 1.0f / static_cast<float>(i + 1)});
    }
    for (int i = 0; i < 50; ++i) exclude.push_back(static_cast<std::int64_t>(rng() % rows));
  }
};

Setup& setup(std::size_t rows) {
  static std::size_t built_rows = 0;
  static std::unique_ptr<Setup> built;
  if (built_rows != rows) {
    built = std::make_unique<Setup>(rows);
    built_rows = rows;
  }
  return *built;
}

void BM_CalibratedOnePass(benchmark::State& state) {
  Setup& s = setup(static_cast<std::size_t>(state.range(0)));
  const nowrec::Ranker ranker(s.index);
  std::vector<float> best(kInterests);
  const nowrec::RankRequest request{
      .interests = s.interests, .exclude = s.exclude, .calibrate = true, .best_matches = best};
  const nowrec::RankOptions options{.k = 10, .threads = static_cast<int>(state.range(1))};
  std::vector<nowrec::ScoredItem> results(10);
  std::size_t count = 0;
  for (auto _ : state) {
    ranker.rank(std::span(&request, 1), options, results, std::span(&count, 1));
    benchmark::DoNotOptimize(results.data());
  }
}

void BM_CalibratedTwoScans(benchmark::State& state) {
  Setup& s = setup(static_cast<std::size_t>(state.range(0)));
  const nowrec::Ranker ranker(s.index);
  const int threads = static_cast<int>(state.range(1));
  std::vector<nowrec::RankRequest> top1(kInterests);
  for (std::size_t i = 0; i < kInterests; ++i) {
    top1[i] = {.query = s.interests[i].vector, .exclude = s.exclude};
  }
  std::vector<nowrec::ScoredItem> best(kInterests), results(10);
  std::vector<std::size_t> counts(kInterests);
  std::vector<nowrec::WeightedInterest> weighted = s.interests;
  std::size_t count = 0;
  for (auto _ : state) {
    ranker.rank(top1, {.k = 1, .threads = threads}, best, counts);
    for (std::size_t i = 0; i < kInterests; ++i) {
      const float match = counts[i] > 0 && best[i].score > 0 ? best[i].score : 1.0f;
      weighted[i].weight = s.interests[i].weight / match;
    }
    const nowrec::RankRequest request{.interests = weighted, .exclude = s.exclude};
    ranker.rank(std::span(&request, 1), {.k = 10, .threads = threads}, results,
                std::span(&count, 1));
    benchmark::DoNotOptimize(results.data());
  }
}

void catalog_sizes(benchmark::internal::Benchmark* b) {
  for (const long rows : {10000L, 1000000L}) {
    for (const long threads : {1L, 2L}) b->Args({rows, threads});
  }
  b->ArgNames({"rows", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(BM_CalibratedOnePass)->Apply(catalog_sizes);
BENCHMARK(BM_CalibratedTwoScans)->Apply(catalog_sizes);

}  // namespace

BENCHMARK_MAIN();
