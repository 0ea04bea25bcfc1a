// The parameter grids and the candidates made from them.
#include "replay/method_grid.hpp"

#include <algorithm>
#include <cmath>

#include "nowrec/error.hpp"

namespace nowrec::eval::replay {
namespace {

constexpr std::int64_t kDay = 86400;
// Prior weights, against cosine scores that mostly differ by a few hundredths between items
// and priors log(1 + count) of 0 to about 6: from text first to popularity first.
constexpr float kPriorWeights[] = {0.01f, 0.02f, 0.05f, 0.1f, 0.2f, 0.5f, 1.0f};

// A float parameter as the decimal it was written as (0.8f would print as 0.800000011920929).
double decimal(float value) { return std::round(double(value) * 1e6) / 1e6; }

const char* aggregation_name(Aggregation aggregation) {
  return aggregation == Aggregation::Max ? "max" : "weighted_sum";
}

nlohmann::json text_params(const TextSettings& s) {
  nlohmann::json params = {{"aggregation", aggregation_name(s.aggregation)},
                           {"short_term", decimal(s.short_term)},
                           {"long_term", decimal(s.long_term)},
                           {"clusters", decimal(s.clusters)},
                           {"negative", decimal(s.negative)},
                           {"short_term_half_life_seconds", s.short_term_half_life_seconds}};
  if (s.prior_weight != 0.0f) {
    params["prior_weight"] = decimal(s.prior_weight);
    params["prior_window_days"] = double(s.prior_window_seconds) / kDay;
  }
  return params;
}

void require(const void* part, const char* what) {
  if (part == nullptr) throw Error(ErrorCode::Internal, std::string("replay: no ") + what);
}

nlohmann::json covisitation_params(const CoVisitationOptions& o) {
  return {{"pair_distance", o.pair_distance},
          {"distance_decay", decimal(o.distance_decay)},
          {"voters", o.voters},
          {"voter_decay", decimal(o.voter_decay)},
          {"half_life_days", o.half_life_seconds / kDay},
          {"max_neighbours", o.max_neighbours}};
}

}  // namespace

std::vector<std::int64_t> popular_windows() {
  return {1 * kDay, 7 * kDay, 30 * kDay, 90 * kDay, 365 * kDay, 0};
}

std::vector<MethodCandidate> popular_candidates(const MethodContext& context) {
  std::vector<MethodCandidate> candidates;
  for (std::int64_t window : popular_windows()) {
    const ReplayData* data = context.data;
    const std::size_t k = context.ranking.k;
    candidates.push_back({.params = {{"window_days", double(window) / kDay}},
                          .make = [data, window, k](const LeaveOneOutSplit*) {
                            return make_popular(*data, window, k);
                          }});
  }
  return candidates;
}

std::vector<CooccurrenceSettings> cooccurrence_grid() {
  std::vector<CooccurrenceSettings> grid;
  for (std::size_t distance : {1, 3, 10}) {
    for (std::size_t recent : {1, 5, 20}) {
      grid.push_back({.pair_distance = distance, .recent_items = recent, .recency_decay = 0.8f});
    }
  }
  return grid;
}

std::vector<MethodCandidate> cooccurrence_candidates(const MethodContext& context) {
  std::vector<MethodCandidate> candidates;
  for (const CooccurrenceSettings& settings : cooccurrence_grid()) {
    const ReplayData* data = context.data;
    const std::size_t k = context.ranking.k;
    candidates.push_back({.params = {{"pair_distance", settings.pair_distance},
                                     {"recent_items", settings.recent_items},
                                     {"recency_decay", decimal(settings.recency_decay)}},
                          .make = [data, settings, k](const LeaveOneOutSplit* split) {
                            return make_cooccurrence(*data, split, settings, k);
                          }});
  }
  return candidates;
}

std::vector<TextSettings> text_grid() {
  struct Mix {
    float short_term, long_term, clusters;
    Aggregation aggregation;
  };
  const Mix mixes[] = {
      {0, 1, 0, Aggregation::Max},          // long-term alone
      {0, 0, 1, Aggregation::Max},          // the clusters alone
      {1, 0, 0, Aggregation::Max},          // short-term alone
      {1, 1, 0, Aggregation::WeightedSum},  // short plus long
      {1, 1, 1, Aggregation::Max},          // the best matching interest
      {1, 1, 1, Aggregation::WeightedSum},  // all interests summed
  };
  std::vector<TextSettings> grid;
  for (const Mix& mix : mixes) {
    for (double half_life : {1800.0, double(kDay)}) {
      // The short-term half-life changes nothing when the short-term interest is unused.
      if (mix.short_term == 0 && half_life != 1800.0) continue;
      grid.push_back({.aggregation = mix.aggregation,
                      .short_term = mix.short_term,
                      .long_term = mix.long_term,
                      .clusters = mix.clusters,
                      .short_term_half_life_seconds = half_life});
    }
  }
  return grid;
}

std::vector<MethodCandidate> text_candidates(const MethodContext& context,
                                             const std::vector<TextSettings>& grid) {
  require(context.text_store, "text embeddings");
  std::vector<MethodCandidate> candidates;
  for (const TextSettings& settings : grid) {
    const MethodContext c = context;
    candidates.push_back(
        {.params = text_params(settings), .make = [c, settings](const LeaveOneOutSplit*) {
           return make_text_method(*c.data, *c.text_store, *c.text_index, settings, c.ranking);
         }});
  }
  return candidates;
}

std::vector<TextSettings> text_prior_grid(const TextSettings& best, std::int64_t window_seconds) {
  std::vector<TextSettings> grid;
  for (float weight : kPriorWeights) {
    TextSettings settings = best;
    settings.prior_weight = weight;
    settings.prior_window_seconds = window_seconds;
    grid.push_back(settings);
  }
  return grid;
}

std::vector<CoVisitationOptions> covisitation_grid() {
  std::vector<CoVisitationOptions> grid;
  for (std::size_t distance : {1, 3, 10}) {
    for (float distance_decay : {1.0f, 0.7f}) {
      // With one partner the distance decay changes nothing.
      if (distance == 1 && distance_decay != 1.0f) continue;
      for (std::size_t voters : {5, 20}) {
        for (double half_life_days : {0.0, 30.0}) {
          grid.push_back({.pair_distance = distance,
                          .distance_decay = distance_decay,
                          .half_life_seconds = half_life_days * kDay,
                          .max_neighbours = 500,
                          .voters = voters,
                          .voter_decay = 0.8f});
        }
      }
    }
  }
  return grid;
}

std::vector<MethodCandidate> covisitation_candidates(const MethodContext& context,
                                                     const std::vector<CoVisitationOptions>& grid) {
  std::vector<MethodCandidate> candidates;
  for (const CoVisitationOptions& options : grid) {
    const ReplayData* data = context.data;
    const std::size_t k = context.ranking.k;
    candidates.push_back({.params = covisitation_params(options),
                          .make = [data, options, k](const LeaveOneOutSplit* split) {
                            return make_covisitation_method(*data, split, options, k);
                          }});
  }
  return candidates;
}

std::vector<FusedSettings> fused_covisitation_grid(const CoVisitationOptions& co_visitation,
                                                   float prior_weight,
                                                   std::int64_t prior_window_seconds,
                                                   std::size_t model_window) {
  std::vector<FusedSettings> grid;
  // Against the model's cosine scores (-1 to 1) and log(1 + co-visitation) of 0 to about 5:
  // from the model first to co-visitation first.
  for (float weight : {0.05f, 0.1f, 0.25f, 0.5f, 1.0f, 2.0f}) {
    FusedSettings settings;
    settings.co_visitation = co_visitation;
    settings.config.short_term = 0.0f;
    settings.config.predicted = 1.0f;
    settings.config.co_visitation = weight;
    settings.config.prior = prior_weight;
    settings.prior_window_seconds = prior_window_seconds;
    settings.recent_window = std::max<std::size_t>(50, model_window);
    grid.push_back(settings);
  }
  return grid;
}

std::vector<FusedSettings> fused_prior_grid(const FusedSettings& base) {
  std::vector<FusedSettings> grid = {base};
  if (base.config.prior == 0.0f) return grid;
  for (float factor : {0.0f, 0.5f, 2.0f}) {
    FusedSettings settings = base;
    settings.config.prior = base.config.prior * factor;
    grid.push_back(settings);
  }
  return grid;
}

std::vector<MethodCandidate> fused_candidates(const MethodContext& context,
                                              const std::vector<FusedSettings>& grid) {
  require(context.model, "next-interest model");
  std::vector<MethodCandidate> candidates;
  for (const FusedSettings& settings : grid) {
    const MethodContext c = context;
    nlohmann::json params = {{"co_visitation_weight", decimal(settings.config.co_visitation)},
                             {"predicted", decimal(settings.config.predicted)},
                             {"prior_weight", decimal(settings.config.prior)},
                             {"prior_window_days", double(settings.prior_window_seconds) / kDay},
                             {"recent_window", settings.recent_window},
                             {"co_visitation", covisitation_params(settings.co_visitation)}};
    candidates.push_back({.params = params, .make = [c, settings](const LeaveOneOutSplit* split) {
                            return make_fused_method(*c.data, split, *c.text_store, *c.model,
                                                     *c.learned_index, settings, c.ranking);
                          }});
  }
  return candidates;
}

std::vector<LearnedSettings> learned_grid(std::size_t model_window) {
  return {{.recent_window = std::max<std::size_t>(50, model_window)}};
}

std::vector<LearnedSettings> learned_prior_grid(std::size_t model_window,
                                                std::int64_t window_seconds,
                                                float model_prior_weight) {
  // The model may have been trained beside a prior of all-time counts: that window is tried too,
  // and so is the weight it was trained with.
  std::vector<std::int64_t> windows = {window_seconds};
  if (window_seconds != 0) windows.push_back(0);
  std::vector<float> weights(std::begin(kPriorWeights), std::end(kPriorWeights));
  if (model_prior_weight > 0 &&
      std::find(weights.begin(), weights.end(), model_prior_weight) == weights.end()) {
    weights.push_back(model_prior_weight);
  }
  std::vector<LearnedSettings> grid;
  for (std::int64_t window : windows) {
    for (float weight : weights) {
      grid.push_back({.recent_window = std::max<std::size_t>(50, model_window),
                      .prior_weight = weight,
                      .prior_window_seconds = window});
    }
  }
  return grid;
}

std::vector<MethodCandidate> learned_candidates(const MethodContext& context,
                                                const std::vector<LearnedSettings>& grid) {
  require(context.model, "next-interest model");
  std::vector<MethodCandidate> candidates;
  for (const LearnedSettings& settings : grid) {
    const MethodContext c = context;
    nlohmann::json params = {{"recent_window", settings.recent_window}};
    if (settings.prior_weight != 0.0f) {
      params["prior_weight"] = decimal(settings.prior_weight);
      params["prior_window_days"] = double(settings.prior_window_seconds) / kDay;
    }
    candidates.push_back({.params = params, .make = [c, settings](const LeaveOneOutSplit*) {
                            return make_learned_method(*c.data, *c.text_store, *c.model,
                                                       *c.learned_index, settings, c.ranking);
                          }});
  }
  return candidates;
}

}  // namespace nowrec::eval::replay
