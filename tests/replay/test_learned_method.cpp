// The learned method ranks the model's item vectors against the tracker's Predicted interest:
// checked against the model called directly on the same window (tests/fixtures/next_interest,
// 20 items with 24-dim text embeddings).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include <nlohmann/json.hpp>

#include "replay/protocols.hpp"
#include "replay/tracker_methods.hpp"
#include "encoder/npy_reader.hpp"
#include "nowrec/next_interest_model.hpp"
#include "test_support.hpp"

using namespace nowrec::eval::replay;

TEST_CASE("learned method: the top 10 and the rank come from the model's prediction") {
  const auto dir = nowrec::test::fixtures_dir() / "next_interest";
  const auto windows = nlohmann::json::parse(nowrec::test::read_file(dir / "windows.json"));
  const auto ids = windows["item_ids"].get<std::vector<std::int64_t>>();
  const auto embeddings = nowrec::test::read_npy_f32(dir / "item_embeddings.npy");
  const std::size_t dim = embeddings.shape.at(1);

  // One user likes four items an hour apart, then the target comes.
  std::vector<nowrec::Interaction> rows;
  for (int i = 0; i < 4; ++i) {
    rows.push_back({.user = 7,
                    .item = ids[std::size_t(3 * i)],
                    .timestamp = 3600 * i,
                    .rating = i == 2 ? 3.0f : 5.0f});
  }
  rows.push_back({.user = 7, .item = ids[5], .timestamp = 4 * 3600, .rating = 4.0f});
  const ReplayData data = make_replay_data(rows, ids);
  const CatalogStore store(data, embeddings.values, dim);
  const auto model =
      nowrec::LearnedNextInterestModel::load(dir / "model", store, dim, {.threads = 1});
  const std::vector<float> vectors = model.item_vectors(ids, embeddings.values);
  nowrec::ItemIndex index = make_catalog_index(data, vectors, model.item_dim());
  const auto method = make_learned_method(data, store, model, index, {}, {.k = 10, .threads = 1});
  for (std::size_t i = 0; i < 4; ++i) method->observe(data.events[i]);
  const std::vector<std::uint32_t> seen = {0, 3, 6, 9};
  const Prediction prediction =
      method->predict({.user = 7, .now = 4 * 3600, .seen_rows = seen, .target_row = 5});

  // The same window given to the model directly.
  std::vector<nowrec::RecentEvent> recent;
  for (std::size_t i = 0; i < 4; ++i) {
    recent.push_back({.item = ids[3 * i],
                      .timestamp = std::int64_t(3600 * i),
                      .action = i == 2 ? "view" : "like"});
  }
  std::vector<float> predicted(dim);
  REQUIRE(model.predict("7", recent, 4 * 3600, predicted).has_value());
  std::vector<float> scores(ids.size());
  for (std::size_t row = 0; row < ids.size(); ++row) {
    scores[row] = std::inner_product(predicted.begin(), predicted.end(),
                                     vectors.begin() + std::ptrdiff_t(row * dim), 0.0f);
  }
  std::vector<std::uint32_t> order;
  for (std::uint32_t row = 0; row < ids.size(); ++row) {
    if (std::find(seen.begin(), seen.end(), row) == seen.end()) order.push_back(row);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && ids[a] < ids[b]);
  });
  REQUIRE(prediction.ranking.top.size() == 10);
  // Scores computed here and in the Ranker's kernels may differ in the last bits, so the check
  // allows a swap of items whose scores are that close.
  for (std::size_t i = 0; i < 10; ++i) {
    const std::int64_t expected = ids[order[i]];
    if (prediction.ranking.top[i] != expected) {
      const auto row = data.row_of.at(prediction.ranking.top[i]);
      CHECK(std::abs(scores[row] - scores[order[i]]) < 1e-5f);
    }
  }
  const auto target = std::find(order.begin(), order.end(), 5u) - order.begin() + 1;
  CHECK(std::abs(double(prediction.ranking.rank) - double(target)) <= 1.0);
  CHECK(prediction.serve.wall_ms > 0);
}
