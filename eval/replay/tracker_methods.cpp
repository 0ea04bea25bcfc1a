// The text and learned methods: the InterestTracker's interests ranked by the Recommender, with
// the weights each method's settings give them.
#include "replay/tracker_methods.hpp"

#include <string>

#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/recommender.hpp"
#include "replay/recommender_methods.hpp"

namespace nowrec::eval::replay {
namespace {

InterestTrackerOptions tracker_options(const CatalogStore& store, double short_half_life,
                                       std::size_t recent_window) {
  InterestTrackerOptions options;
  options.dim = store.dim();
  options.short_term_half_life_seconds = short_half_life;
  options.recent_window = recent_window;
  options.item_store = &store;
  return options;
}

// Every weight 0: each method turns on the signals it ranks by.
RecommenderConfig nothing_weighted() {
  RecommenderConfig config;
  config.short_term = 0.0f;
  config.long_term = 0.0f;
  config.clusters = 0.0f;
  config.predicted = 0.0f;
  config.negative = 0.0f;
  config.co_visitation = 0.0f;
  config.prior = 0.0f;
  return config;
}

}  // namespace

std::unique_ptr<ReplayMethod> make_text_method(const ReplayData& data, const CatalogStore& store,
                                               ItemIndex& index, const TextSettings& settings,
                                               const RankingSettings& ranking) {
  RecommenderConfig config = nothing_weighted();
  config.aggregation = settings.aggregation;
  config.short_term = settings.short_term;
  config.long_term = settings.long_term;
  config.clusters = settings.clusters;
  config.negative = settings.negative;
  config.prior = settings.prior_weight;
  return make_recommender_method(data, nullptr, store, index,
                                 tracker_options(store, settings.short_term_half_life_seconds, 50),
                                 config, settings.prior_window_seconds, ranking);
}

std::unique_ptr<ReplayMethod> make_learned_method(const ReplayData& data, const CatalogStore& store,
                                                  const NextInterestModel& model, ItemIndex& index,
                                                  const LearnedSettings& settings,
                                                  const RankingSettings& ranking) {
  if (index.dim() != store.dim()) {
    throw Error(ErrorCode::InvalidArgument,
                "replay: the learned model's item vectors have dim " + std::to_string(index.dim()) +
                    ", the text embeddings " + std::to_string(store.dim()));
  }
  InterestTrackerOptions tracker = tracker_options(store, 1800, settings.recent_window);
  tracker.next_interest_model = &model;
  RecommenderConfig config = nothing_weighted();
  config.predicted = 1.0f;
  config.prior = settings.prior_weight;
  return make_recommender_method(data, nullptr, store, index, tracker, config,
                                 settings.prior_window_seconds, ranking);
}

}  // namespace nowrec::eval::replay
