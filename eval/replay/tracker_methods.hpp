// The methods that follow each user with the InterestTracker and rank the catalog through the
// Recommender: zero-shot text interests, and the learned next-interest model, each optionally
// blended with a popularity prior.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "nowrec/interest_types.hpp"
#include "nowrec/ranker.hpp"
#include "replay/catalog_space.hpp"
#include "replay/method.hpp"

namespace nowrec::eval::replay {

struct RankingSettings {
  std::size_t k = 10;
  int threads = 0;  // Ranker threads; 0: all cores
};

// Which of the tracker's interests rank the catalog, and how much each counts. The cluster
// interests count in proportion to their importance, the most important one at `clusters`.
struct TextSettings {
  Aggregation aggregation = Aggregation::Max;
  float short_term = 1.0f;
  float long_term = 1.0f;
  float clusters = 1.0f;
  float negative = 1.0f;  // times the negative interest's own weight
  double short_term_half_life_seconds = 1800;
  float prior_weight = 0.0f;  // 0: no popularity prior
  std::int64_t prior_window_seconds = 0;
};

// Ranks the text embeddings in `index` (the catalog's rows of `store`) against the user's
// interests, each kind at its weight (RecommenderConfig's rules). `index` must outlive the
// method; its priors are overwritten.
std::unique_ptr<ReplayMethod> make_text_method(const ReplayData& data, const CatalogStore& store,
                                               ItemIndex& index, const TextSettings& settings,
                                               const RankingSettings& ranking);

struct LearnedSettings {
  std::size_t recent_window = 50;  // tracker window; at least the model's window
  float prior_weight = 0.0f;
  std::int64_t prior_window_seconds = 0;
};

// Ranks `index` (the model's item_vectors of the catalog) against the Predicted interest alone,
// which the tracker returns with `model` configured; a user for whom the model predicts nothing
// (no known item in the window) is ranked by the prior alone.
std::unique_ptr<ReplayMethod> make_learned_method(const ReplayData& data, const CatalogStore& store,
                                                  const NextInterestModel& model, ItemIndex& index,
                                                  const LearnedSettings& settings,
                                                  const RankingSettings& ranking);

}  // namespace nowrec::eval::replay
