// The methods built on the library's recommendation parts: CoVisitation alone, and the
// Recommender (which also runs the text and learned methods) fusing the learned next-interest
// model, co-visitation and a popularity prior.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "nowrec/co_visitation.hpp"
#include "nowrec/interest_types.hpp"
#include "nowrec/recommender.hpp"
#include "replay/catalog_space.hpp"
#include "replay/method.hpp"
#include "replay/split.hpp"
#include "replay/tracker_methods.hpp"

namespace nowrec::eval::replay {

// Pairs each user's training-portion events with the events before them, in the user's order.
void add_training_pairs(const ReplayData& data, const LeaveOneOutSplit& split, CoVisitation& graph);

// Ranks by CoVisitation::score over the user's recent items. The graph is built from the
// training portions of `split` when given (then fixed), else online from every observed event.
std::unique_ptr<ReplayMethod> make_covisitation_method(const ReplayData& data,
                                                       const LeaveOneOutSplit* split,
                                                       const CoVisitationOptions& options,
                                                       std::size_t k);

// Every event through Recommender::observe and every prediction through
// Recommender::recommend, over `index` with a tracker of `tracker` options; the protocol's seen
// items are excluded (the Recommender's own seen-item exclusion is off). With a co-visitation
// weight, the graph is built from the training portions of `split` when given (then fixed),
// else learned online. The popularity prior of prior_window_seconds is written into `index`.
std::unique_ptr<ReplayMethod> make_recommender_method(
    const ReplayData& data, const LeaveOneOutSplit* split, const CatalogStore& store,
    ItemIndex& index, const InterestTrackerOptions& tracker, const RecommenderConfig& config,
    std::int64_t prior_window_seconds, const RankingSettings& ranking);

struct FusedSettings {
  CoVisitationOptions co_visitation;  // replaces config.co_visitation_options
  RecommenderConfig config;  // its prior weighs the popularity prior of prior_window_seconds
  std::int64_t prior_window_seconds = 0;
  std::size_t recent_window = 200;  // tracker window; at least the model's
};

// make_recommender_method over `index` (the model's item_vectors of the catalog), with an
// InterestTracker that runs `model` and a CoVisitation graph as make_covisitation_method builds it.
std::unique_ptr<ReplayMethod> make_fused_method(const ReplayData& data,
                                                const LeaveOneOutSplit* split,
                                                const CatalogStore& store,
                                                const NextInterestModel& model, ItemIndex& index,
                                                const FusedSettings& settings,
                                                const RankingSettings& ranking);

}  // namespace nowrec::eval::replay
