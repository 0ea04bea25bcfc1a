// Each method's parameter settings tried on validation, as candidates the tuner runs.
#pragma once

#include <cstdint>
#include <vector>

#include "replay/baseline_methods.hpp"
#include "replay/catalog_space.hpp"
#include "replay/method.hpp"
#include "replay/recommender_methods.hpp"
#include "replay/tracker_methods.hpp"

namespace nowrec::eval::replay {

// What the methods rank with. The text and learned parts are set only when those methods run.
struct MethodContext {
  const ReplayData* data = nullptr;
  RankingSettings ranking;
  const CatalogStore* text_store = nullptr;
  ItemIndex* text_index = nullptr;  // the text embeddings
  const NextInterestModel* model = nullptr;
  ItemIndex* learned_index = nullptr;  // the model's item_vectors
};

// Popularity windows: 1, 7, 30, 90 and 365 days, and all time (0).
std::vector<std::int64_t> popular_windows();
std::vector<MethodCandidate> popular_candidates(const MethodContext& context);

std::vector<CooccurrenceSettings> cooccurrence_grid();
std::vector<MethodCandidate> cooccurrence_candidates(const MethodContext& context);

// Which interests (short-term, long-term, clusters), how they aggregate and the short-term
// half-life.
std::vector<TextSettings> text_grid();
std::vector<MethodCandidate> text_candidates(const MethodContext& context,
                                             const std::vector<TextSettings>& grid);

// `best` with each prior weight over a popularity prior of the given window.
std::vector<TextSettings> text_prior_grid(const TextSettings& best, std::int64_t window_seconds);

std::vector<LearnedSettings> learned_grid(std::size_t model_window);
// Each prior weight (and the model's own, when it has one) over the given popularity window and
// over all time.
std::vector<LearnedSettings> learned_prior_grid(std::size_t model_window,
                                                std::int64_t window_seconds,
                                                float model_prior_weight);
std::vector<MethodCandidate> learned_candidates(const MethodContext& context,
                                                const std::vector<LearnedSettings>& grid);

// Pair distance, its decay, the voters and the time half-life of the co-visitation graph.
std::vector<CoVisitationOptions> covisitation_grid();
std::vector<MethodCandidate> covisitation_candidates(const MethodContext& context,
                                                     const std::vector<CoVisitationOptions>& grid);

// The fused method's weights, in two stages: first the co-visitation weight at the given prior,
// then the prior around it (`base` with the best co-visitation weight).
std::vector<FusedSettings> fused_covisitation_grid(const CoVisitationOptions& co_visitation,
                                                   float prior_weight,
                                                   std::int64_t prior_window_seconds,
                                                   std::size_t model_window);
std::vector<FusedSettings> fused_prior_grid(const FusedSettings& base);
std::vector<MethodCandidate> fused_candidates(const MethodContext& context,
                                              const std::vector<FusedSettings>& grid);

}  // namespace nowrec::eval::replay
