// InterestTracker + Ranker methods: each event updates the user's interests; a prediction turns
// them into a RankRequest over the catalog.
#include "replay/tracker_methods.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "replay/popularity_prior.hpp"

namespace nowrec::eval::replay {
namespace {

// The shared part: the tracker, the optional prior and the two Ranker calls of a prediction.
class TrackerMethod : public ReplayMethod {
 public:
  TrackerMethod(const ReplayData& data, const CatalogStore& store, ItemIndex& index,
                const InterestTrackerOptions& options, float prior_weight,
                std::int64_t prior_window_seconds, const RankingSettings& ranking)
      : data_(data),
        store_(store),
        index_(index),
        ranker_(index),
        tracker_(options),
        prior_weight_(prior_weight),
        ranking_(ranking) {
    if (prior_weight != 0.0f) prior_.emplace(data, index, prior_window_seconds);
  }

  void observe(const ReplayEvent& event) override {
    const std::string user = std::to_string(event.user);
    tracker_.update(interest_event(data_, store_, event, user));
  }

  Prediction predict(const Query& query) override {
    if (prior_) prior_->refresh(query.now);
    Prediction prediction;
    exclude_.clear();
    for (std::uint32_t row : query.seen_rows) exclude_.push_back(data_.item_ids[row]);

    const Stopwatch stopwatch;
    const std::vector<Interest> interests =
        tracker_.interests(std::to_string(query.user), query.now);
    RankRequest request = make_request(interests);
    request.exclude = exclude_;
    request.prior_weight = prior_weight_;
    // A catalog smaller than k returns all of it.
    RankOptions options{.k = std::min(ranking_.k, index_.size()),
                        .aggregation = aggregation(),
                        .threads = ranking_.threads};
    const std::vector<ScoredItem> top = ranker_.rank(request, options);
    prediction.serve = stopwatch.elapsed();

    for (const ScoredItem& item : top) prediction.ranking.top.push_back(item.id);
    // The target's rank in the whole catalog, from the same scores and order. The target stays
    // a candidate even when seen before (the shared protocol ranks repeats).
    const std::int64_t target = data_.item_ids[query.target_row];
    std::erase(exclude_, target);
    request.exclude = exclude_;
    options.k = index_.size();
    const std::vector<ScoredItem> all = ranker_.rank(request, options);
    const auto found = std::find_if(all.begin(), all.end(),
                                    [&](const ScoredItem& item) { return item.id == target; });
    if (found == all.end()) {
      throw Error(ErrorCode::Internal, "replay: the target item " + std::to_string(target) +
                                           " is missing from the full ranking");
    }
    prediction.ranking.rank = std::size_t(found - all.begin()) + 1;
    return prediction;
  }

 protected:
  // Fills request.query or request.interests (and the negative) from the user's interests; the
  // spans point into members, valid until the next call.
  virtual RankRequest make_request(const std::vector<Interest>& interests) = 0;
  virtual Aggregation aggregation() const = 0;

  const ReplayData& data_;
  const CatalogStore& store_;

 private:
  ItemIndex& index_;
  Ranker ranker_;
  InterestTracker tracker_;
  float prior_weight_;
  RankingSettings ranking_;
  std::optional<PopularityPrior> prior_;
  std::vector<std::int64_t> exclude_;
};

InterestTrackerOptions tracker_options(const CatalogStore& store, double short_half_life,
                                       std::size_t recent_window) {
  InterestTrackerOptions options;
  options.dim = store.dim();
  options.short_term_half_life_seconds = short_half_life;
  options.recent_window = recent_window;
  options.item_store = &store;
  return options;
}

class TextMethod final : public TrackerMethod {
 public:
  TextMethod(const ReplayData& data, const CatalogStore& store, ItemIndex& index,
             const TextSettings& settings, const RankingSettings& ranking)
      : TrackerMethod(data, store, index,
                      tracker_options(store, settings.short_term_half_life_seconds, 50),
                      settings.prior_weight, settings.prior_window_seconds, ranking),
        settings_(settings),
        zero_(store.dim(), 0.0f) {}

 private:
  RankRequest make_request(const std::vector<Interest>& interests) override {
    weighted_.clear();
    float top_cluster = 0;
    for (const Interest& interest : interests) {
      if (interest.kind == InterestKind::Cluster) {
        top_cluster = std::max(top_cluster, interest.weight);
      }
    }
    RankRequest request;
    for (const Interest& interest : interests) {
      float weight = 0;
      switch (interest.kind) {
        case InterestKind::ShortTerm:
          weight = settings_.short_term;
          break;
        case InterestKind::LongTerm:
          weight = settings_.long_term;
          break;
        case InterestKind::Cluster:
          weight = top_cluster > 0 ? settings_.clusters * interest.weight / top_cluster : 0;
          break;
        case InterestKind::Negative:
          request.negative = interest.vector;
          request.negative_weight = settings_.negative * interest.weight;
          break;
        case InterestKind::Predicted:
          break;
      }
      if (weight > 0) weighted_.push_back({.vector = interest.vector, .weight = weight});
    }
    // Nothing to rank by (a user whose events all faded): every score ties, the ids decide.
    if (weighted_.empty()) {
      request.query = zero_;
    } else {
      request.interests = weighted_;
    }
    return request;
  }

  Aggregation aggregation() const override { return settings_.aggregation; }

  TextSettings settings_;
  std::vector<float> zero_;
  std::vector<WeightedInterest> weighted_;
};

class LearnedMethod final : public TrackerMethod {
 public:
  LearnedMethod(const ReplayData& data, const CatalogStore& store, const NextInterestModel& model,
                ItemIndex& index, const LearnedSettings& settings, const RankingSettings& ranking)
      : TrackerMethod(data, store, index, learned_options(store, model, settings),
                      settings.prior_weight, settings.prior_window_seconds, ranking),
        zero_(store.dim(), 0.0f) {}

 private:
  static InterestTrackerOptions learned_options(const CatalogStore& store,
                                                const NextInterestModel& model,
                                                const LearnedSettings& settings) {
    InterestTrackerOptions options = tracker_options(store, 1800, settings.recent_window);
    options.next_interest_model = &model;
    return options;
  }

  RankRequest make_request(const std::vector<Interest>& interests) override {
    RankRequest request;
    const auto kind_vector = [&](InterestKind kind) -> const std::vector<float>* {
      for (const Interest& interest : interests) {
        if (interest.kind == kind) return &interest.vector;
      }
      return nullptr;
    };
    const std::vector<float>* vector = kind_vector(InterestKind::Predicted);
    if (vector == nullptr) vector = kind_vector(InterestKind::ShortTerm);
    if (vector == nullptr || vector->size() != zero_.size()) {
      request.query = zero_;
    } else {
      query_ = *vector;
      request.query = query_;
    }
    return request;
  }

  Aggregation aggregation() const override { return Aggregation::Max; }

  std::vector<float> zero_;
  std::vector<float> query_;
};

}  // namespace

std::unique_ptr<ReplayMethod> make_text_method(const ReplayData& data, const CatalogStore& store,
                                               ItemIndex& index, const TextSettings& settings,
                                               const RankingSettings& ranking) {
  return std::make_unique<TextMethod>(data, store, index, settings, ranking);
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
  return std::make_unique<LearnedMethod>(data, store, model, index, settings, ranking);
}

}  // namespace nowrec::eval::replay
