// LearnedNextInterestModel speed: one predict() on windows of 1, 10 and 50 events (1 thread, the
// setting a tracker's query path uses), and item_vectors() over a MovieLens-sized catalog.
//
// The model folder comes from NOWREC_NEXT_INTEREST_MODEL (default: the committed
// examples/models/next-interest-ml-latest-small). Item embeddings are random unit vectors: the
// cost does not depend on their values.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "nowrec/next_interest_model.hpp"

namespace {

constexpr std::size_t kDim = 384;
constexpr std::size_t kItems = 9742;

std::filesystem::path model_dir() {
  const char* v = std::getenv("NOWREC_NEXT_INTEREST_MODEL");
  return v && *v ? std::filesystem::path(v)
                 : std::filesystem::path(NOWREC_SOURCE_DIR) /
                       "examples/models/next-interest-ml-latest-small";
}

class RandomItemStore final : public nowrec::ItemStore {
 public:
  RandomItemStore() : rows_(kItems * kDim) {
    std::mt19937 rng(11);
    std::normal_distribution<float> normal;
    for (std::size_t i = 0; i < kItems; ++i) {
      float norm = 0.0f;
      for (std::size_t j = 0; j < kDim; ++j)
        norm += (rows_[i * kDim + j] = normal(rng)) * rows_[i * kDim + j];
      for (std::size_t j = 0; j < kDim; ++j) rows_[i * kDim + j] /= std::sqrt(norm);
    }
  }
  bool lookup(std::int64_t item, std::span<float> out) const override {
    if (item < 0 || static_cast<std::size_t>(item) >= kItems) return false;
    std::copy_n(rows_.begin() + static_cast<std::ptrdiff_t>(item) * kDim, kDim, out.begin());
    return true;
  }
  const std::vector<float>& rows() const { return rows_; }
  // Item i has id i, as lookup() reads them.
  std::vector<std::int64_t> ids() const {
    std::vector<std::int64_t> ids(kItems);
    for (std::size_t i = 0; i < kItems; ++i) ids[i] = static_cast<std::int64_t>(i);
    return ids;
  }

 private:
  std::vector<float> rows_;
};

struct World {
  RandomItemStore store;
  nowrec::LearnedNextInterestModel model =
      nowrec::LearnedNextInterestModel::load(model_dir(), store, kDim, {.threads = 1});
};

World& world() {
  static World w;
  return w;
}

void BM_Predict(benchmark::State& state) {
  World& w = world();
  const auto length = static_cast<std::size_t>(state.range(0));
  std::mt19937 rng(5);
  std::vector<nowrec::RecentEvent> events;
  std::int64_t t = 1'000'000;
  for (std::size_t i = 0; i < length; ++i) {
    t += static_cast<std::int64_t>(rng() % 5000);
    events.push_back({static_cast<std::int64_t>(rng() % kItems), t, i % 3 ? "like" : "view"});
  }
  std::vector<float> out(kDim);
  for (auto _ : state) {
    benchmark::DoNotOptimize(w.model.predict("user", events, t, out));
    benchmark::ClobberMemory();
  }
  state.SetLabel("1 thread, window " + std::to_string(length));
}
BENCHMARK(BM_Predict)->Arg(1)->Arg(10)->Arg(50)->Arg(200)->Unit(benchmark::kMicrosecond);

void BM_ItemVectors(benchmark::State& state) {
  World& w = world();
  const std::vector<std::int64_t> ids = w.store.ids();
  for (auto _ : state) benchmark::DoNotOptimize(w.model.item_vectors(ids, w.store.rows()));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kItems));
}
BENCHMARK(BM_ItemVectors)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
