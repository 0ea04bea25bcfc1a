// Recommender: per user, the weighted interests, the co-visitation boosts and the filters become
// one RankRequest; one Ranker call scores them all; each result is then taken apart into the
// signals behind it.
#include "nowrec/recommender.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "nowrec/error.hpp"
#include "recommend/recommender_config_check.hpp"

namespace nowrec {

// Everything one user's RankRequest points into, and what explaining its results needs.
struct Recommender::UserRequest {
  std::vector<Interest> interests;
  std::vector<WeightedInterest> weighted;
  std::vector<std::size_t> weighted_origin;  // index into `interests` of each weighted entry
  std::vector<std::int64_t> recent_items;
  std::vector<CoVisitationScore> co_visited;
  std::vector<ItemBoost> boosts;  // sorted by id
  std::vector<std::int64_t> exclude;
  RankRequest request;
};

namespace {

float kind_weight(const RecommenderConfig& config, const Interest& interest, float top_cluster) {
  switch (interest.kind) {
    case InterestKind::ShortTerm:
      return config.short_term;
    case InterestKind::LongTerm:
      return config.long_term;
    case InterestKind::Cluster:
      return top_cluster > 0 ? config.clusters * interest.weight / top_cluster : 0.0f;
    case InterestKind::Predicted:
      return config.predicted;
    case InterestKind::Negative:
      return 0.0f;
  }
  return 0.0f;
}

float dot(std::span<const float> a, std::span<const float> b) {
  float sum = 0;
  for (std::size_t j = 0; j < a.size(); ++j) sum += a[j] * b[j];
  return sum;
}

}  // namespace

Recommender::Recommender(const ItemIndex& index, InterestTracker& tracker,
                         const RecommenderConfig& config)
    : index_(index), tracker_(tracker), config_(config), ranker_(index) {
  recommend::check_config(config, "RecommenderConfig");
  if (config.co_visitation > 0.0f) {
    co_visitation_ = std::make_unique<CoVisitation>(config.co_visitation_options);
  }
  if (index.dim() != tracker.options().dim) {
    throw Error(ErrorCode::InvalidArgument,
                "Recommender: the index has dim " + std::to_string(index.dim()) +
                    ", the tracker's interests " + std::to_string(tracker.options().dim));
  }
}

Recommender::~Recommender() = default;

bool Recommender::forget(std::string_view user) { return tracker_.forget(user); }

bool Recommender::observe(const InterestEvent& event) {
  const bool pairs = co_visitation_ != nullptr && config_.learn_co_visitation && event.item >= 0;
  thread_local std::vector<std::int64_t> previous;
  previous.clear();
  if (pairs) {
    for (const RecentEvent& recent : tracker_.recent_events(event.user)) {
      if (recent.item >= 0) previous.push_back(recent.item);
    }
  }
  const bool applied = tracker_.update(event);
  if (applied && pairs) co_visitation_->add(previous, event.item, event.timestamp);
  return applied;
}

std::vector<Recommendation> Recommender::recommend(std::string_view user, std::int64_t now,
                                                   const RecommendRequest& request) const {
  return std::move(recommend(std::span(&user, 1), now, request).front());
}

std::vector<std::vector<Recommendation>> Recommender::recommend(
    std::span<const std::string_view> users, std::int64_t now,
    const RecommendRequest& request) const {
  const std::size_t dim = index_.dim();
  const std::vector<float> zero(dim, 0.0f);
  std::vector<UserRequest> prepared(users.size());
  for (std::size_t u = 0; u < users.size(); ++u) {
    UserRequest& p = prepared[u];
    p.interests = tracker_.interests(users[u], now);
    float top_cluster = 0;
    for (const Interest& interest : p.interests) {
      if (interest.kind == InterestKind::Cluster) {
        top_cluster = std::max(top_cluster, interest.weight);
      }
    }
    for (std::size_t i = 0; i < p.interests.size(); ++i) {
      const Interest& interest = p.interests[i];
      if (interest.kind == InterestKind::Negative) {
        if (config_.negative != 0.0f && interest.weight > 0.0f) {
          p.request.negative = interest.vector;
          p.request.negative_weight = config_.negative * interest.weight;
        }
        continue;
      }
      const float weight = kind_weight(config_, interest, top_cluster);
      if (weight > 0.0f && interest.vector.size() == dim) {
        p.weighted.push_back({.vector = interest.vector, .weight = weight});
        p.weighted_origin.push_back(i);
      }
    }
    if (p.weighted.empty()) {
      p.request.query = zero;
    } else {
      p.request.interests = p.weighted;
    }

    if (config_.exclude_seen || (co_visitation_ != nullptr)) {
      for (const RecentEvent& recent : tracker_.recent_events(users[u])) {
        if (recent.item >= 0) p.recent_items.push_back(recent.item);
      }
    }
    if (co_visitation_ != nullptr) {
      co_visitation_->score(p.recent_items, now, p.co_visited);
      p.boosts.reserve(p.co_visited.size());
      for (const CoVisitationScore& c : p.co_visited) {
        p.boosts.push_back({c.item, config_.co_visitation * std::log1p(c.score)});
      }
      std::sort(p.boosts.begin(), p.boosts.end(),
                [](const ItemBoost& a, const ItemBoost& b) { return a.id < b.id; });
      std::sort(p.co_visited.begin(), p.co_visited.end(),
                [](const auto& a, const auto& b) { return a.item < b.item; });
      p.request.boosts = p.boosts;
    }
    p.exclude.assign(request.exclude.begin(), request.exclude.end());
    if (config_.exclude_seen) {
      p.exclude.insert(p.exclude.end(), p.recent_items.begin(), p.recent_items.end());
    }
    p.request.exclude = p.exclude;
    p.request.allow = request.allow;
    p.request.categories = request.categories;
    p.request.prior_weight = config_.prior;
  }

  std::vector<RankRequest> requests;
  requests.reserve(prepared.size());
  for (const UserRequest& p : prepared) requests.push_back(p.request);
  const RankOptions options{.k = request.k,
                            .aggregation = config_.aggregation,
                            .mmr_lambda = config_.mmr_lambda,
                            .threads = config_.threads};
  std::vector<ScoredItem> results(request.k * requests.size());
  std::vector<std::size_t> counts(requests.size());
  ranker_.rank(requests, options, results, counts);

  std::vector<std::vector<Recommendation>> out(users.size());
  std::vector<float> item(dim);
  for (std::size_t u = 0; u < users.size(); ++u) {
    const UserRequest& p = prepared[u];
    for (std::size_t r = 0; r < counts[u]; ++r) {
      const ScoredItem& scored = results[u * request.k + r];
      Recommendation rec;
      rec.item = scored.id;
      rec.score = scored.score;
      if (!request.explain) {
        out[u].push_back(rec);
        continue;
      }
      const std::optional<float> prior = index_.read(scored.id, item);
      rec.prior_score = config_.prior * prior.value_or(0.0f);
      const auto boost =
          std::lower_bound(p.boosts.begin(), p.boosts.end(), scored.id,
                           [](const ItemBoost& b, std::int64_t id) { return b.id < id; });
      if (boost != p.boosts.end() && boost->id == scored.id) {
        rec.co_visitation_score = boost->score;
        rec.co_visited_with = p.co_visited[std::size_t(boost - p.boosts.begin())].via;
      }
      rec.interest_score = rec.score - rec.co_visitation_score - rec.prior_score;
      float best = -INFINITY;
      for (std::size_t w = 0; w < p.weighted.size(); ++w) {
        const float part = p.weighted[w].weight * dot(p.weighted[w].vector, item);
        if (part > best) {
          best = part;
          rec.interest_index = p.weighted_origin[w];
          rec.interest_kind = p.interests[rec.interest_index].kind;
        }
      }
      rec.signal = Signal::Interest;
      float largest = rec.interest_index == Recommendation::npos ? -INFINITY : rec.interest_score;
      if (rec.co_visitation_score > largest) {
        largest = rec.co_visitation_score;
        rec.signal = Signal::CoVisitation;
      }
      if (rec.prior_score > largest) rec.signal = Signal::Prior;
      out[u].push_back(rec);
    }
  }
  return out;
}

}  // namespace nowrec
