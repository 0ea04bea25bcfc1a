// The methods that run the library's Recommender (text, learned and fused): every event goes
// through Recommender::observe, every prediction through Recommender::recommend, exactly as a
// server would run them.
#include <algorithm>
#include <optional>
#include <string>

#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "replay/popularity_prior.hpp"
#include "replay/recommender_methods.hpp"

namespace nowrec::eval::replay {
namespace {

RecommenderConfig replay_config(RecommenderConfig config, bool offline_graph,
                                const RankingSettings& ranking) {
  config.exclude_seen = false;
  config.learn_co_visitation = !offline_graph;
  config.threads = ranking.threads;
  return config;
}

class RecommenderMethod final : public ReplayMethod {
 public:
  RecommenderMethod(const ReplayData& data, const LeaveOneOutSplit* split,
                    const CatalogStore& store, ItemIndex& index,
                    const InterestTrackerOptions& tracker, const RecommenderConfig& config,
                    std::int64_t prior_window_seconds, const RankingSettings& ranking)
      : data_(data),
        store_(store),
        index_(index),
        k_(ranking.k),
        tracker_(tracker),
        recommender_(index, tracker_, replay_config(config, split != nullptr, ranking)) {
    if (split != nullptr && recommender_.co_visitation() != nullptr) {
      add_training_pairs(data, *split, *recommender_.co_visitation());
    }
    // Priors are written even at weight 0, so a setting never sees another's.
    prior_.emplace(data, index, prior_window_seconds);
  }

  void observe(const ReplayEvent& event) override {
    const std::string user = std::to_string(event.user);
    recommender_.observe(interest_event(data_, store_, event, user));
  }

  Prediction predict(const Query& query) override {
    if (recommender_.config().prior != 0.0f) prior_->refresh(query.now);
    exclude_.clear();
    for (std::uint32_t row : query.seen_rows) exclude_.push_back(data_.item_ids[row]);
    const std::string user = std::to_string(query.user);

    Prediction prediction;
    const Stopwatch stopwatch;
    RecommendRequest request;
    request.k = std::min(k_, index_.size());
    request.exclude = exclude_;
    const std::vector<Recommendation> top = recommender_.recommend(user, query.now, request);
    prediction.serve = stopwatch.elapsed();
    for (const Recommendation& item : top) prediction.ranking.top.push_back(item.item);

    // The target's rank in the whole catalog from the same scores; it stays a candidate even
    // when seen before (the shared protocol ranks repeats).
    const std::int64_t target = data_.item_ids[query.target_row];
    std::erase(exclude_, target);
    request.k = index_.size();
    request.exclude = exclude_;
    request.explain = false;
    const std::vector<Recommendation> all = recommender_.recommend(user, query.now, request);
    const auto found = std::find_if(all.begin(), all.end(),
                                    [&](const Recommendation& r) { return r.item == target; });
    if (found == all.end()) {
      throw Error(ErrorCode::Internal, "replay: the target item " + std::to_string(target) +
                                           " is missing from the full ranking");
    }
    prediction.ranking.rank = std::size_t(found - all.begin()) + 1;
    return prediction;
  }

 private:
  const ReplayData& data_;
  const CatalogStore& store_;
  ItemIndex& index_;
  std::size_t k_;
  InterestTracker tracker_;
  Recommender recommender_;
  std::optional<PopularityPrior> prior_;
  std::vector<std::int64_t> exclude_;
};

}  // namespace

std::unique_ptr<ReplayMethod> make_recommender_method(
    const ReplayData& data, const LeaveOneOutSplit* split, const CatalogStore& store,
    ItemIndex& index, const InterestTrackerOptions& tracker, const RecommenderConfig& config,
    std::int64_t prior_window_seconds, const RankingSettings& ranking) {
  return std::make_unique<RecommenderMethod>(data, split, store, index, tracker, config,
                                             prior_window_seconds, ranking);
}

std::unique_ptr<ReplayMethod> make_fused_method(const ReplayData& data,
                                                const LeaveOneOutSplit* split,
                                                const CatalogStore& store,
                                                const NextInterestModel& model, ItemIndex& index,
                                                const FusedSettings& settings,
                                                const RankingSettings& ranking) {
  if (index.dim() != store.dim()) {
    throw Error(ErrorCode::InvalidArgument,
                "replay: the learned model's item vectors have dim " + std::to_string(index.dim()) +
                    ", the text embeddings " + std::to_string(store.dim()));
  }
  InterestTrackerOptions tracker;
  tracker.dim = store.dim();
  tracker.recent_window = settings.recent_window;
  tracker.item_store = &store;
  tracker.next_interest_model = &model;
  RecommenderConfig config = settings.config;
  config.co_visitation_options = settings.co_visitation;
  return make_recommender_method(data, split, store, index, tracker, config,
                                 settings.prior_window_seconds, ranking);
}

}  // namespace nowrec::eval::replay
