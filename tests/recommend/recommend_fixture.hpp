// What the Recommender tests share: a random catalog, a tracker and index over it, and the
// config every case starts from.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "nowrec/recommender.hpp"

namespace nowrec::test::recommend {

constexpr std::size_t kDim = 8;
constexpr std::size_t kItems = 200;

// Random unit vectors for items 1..kItems, looked up by id.
struct Catalog final : nowrec::ItemStore {
  std::vector<std::int64_t> ids;
  std::vector<float> vectors;
  explicit Catalog(std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist;
    for (std::size_t i = 0; i < kItems; ++i) {
      ids.push_back(std::int64_t(i) + 1);
      float norm = 0;
      std::vector<float> v(kDim);
      for (float& x : v) {
        x = dist(rng);
        norm += x * x;
      }
      for (float& x : v) vectors.push_back(x / std::sqrt(norm));
    }
  }
  std::span<const float> row(std::int64_t id) const {
    return {vectors.data() + std::size_t(id - 1) * kDim, kDim};
  }
  bool lookup(std::int64_t item, std::span<float> out) const override {
    if (item < 1 || item > std::int64_t(kItems)) return false;
    std::copy_n(row(item).begin(), kDim, out.begin());
    return true;
  }
};

// The co-visitation weight and graph options every case starts from.
inline nowrec::RecommenderConfig base_config(float co_visitation = 1.0f) {
  nowrec::RecommenderConfig config;
  config.co_visitation = co_visitation;
  config.co_visitation_options = {.pair_distance = 2, .voters = 3, .voter_decay = 0.5f};
  return config;
}

struct Setup {
  Catalog catalog{7};
  nowrec::ItemIndex index{kDim};
  nowrec::InterestTracker tracker{{.dim = kDim, .item_store = &catalog}};
  std::vector<float> priors;
  Setup() {
    index.add(catalog.ids, catalog.vectors);
    for (std::size_t i = 0; i < kItems; ++i) priors.push_back(float(i % 7) * 0.3f);
    index.set_priors(catalog.ids, priors);
  }
  void observe(nowrec::Recommender& recommender, const std::string& user,
               const std::vector<std::int64_t>& items, std::int64_t start) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      recommender.observe({.user = user,
                           .timestamp = start + std::int64_t(i) * 60,
                           .item = items[i],
                           .action = "click"});
    }
  }
};

inline double dot(std::span<const float> a, std::span<const float> b) {
  double sum = 0;
  for (std::size_t j = 0; j < a.size(); ++j) sum += double(a[j]) * b[j];
  return sum;
}

}  // namespace nowrec::test::recommend
