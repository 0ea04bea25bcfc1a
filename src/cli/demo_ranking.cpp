// InterestQuery: interests weighted by kind, calibrated, in one max-over-interests request.
#include "cli/demo_ranking.hpp"

#include <algorithm>

namespace nowrec::cli {
namespace {

bool is_zero(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; });
}

}  // namespace

float dot(std::span<const float> a, std::span<const float> b) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) sum += a[i] * b[i];
  return sum;
}

InterestQuery::InterestQuery(const std::vector<Interest>& interests, const InterestBlend& blend)
    : blend_(blend) {
  float strongest_cluster = 0.0f;
  for (const Interest& interest : interests) {
    if (interest.kind == InterestKind::Cluster) {
      strongest_cluster = std::max(strongest_cluster, interest.weight);
    }
  }
  int cluster = 0;
  for (const Interest& interest : interests) {
    BlendedInterest blended{
        .kind = interest.kind, .tracker_weight = interest.weight, .vector = interest.vector};
    switch (interest.kind) {
      case InterestKind::ShortTerm:
        blended.label = "short-term";
        blended.kind_weight = blend.short_term;
        break;
      case InterestKind::LongTerm:
        blended.label = "long-term";
        blended.kind_weight = blend.long_term;
        break;
      case InterestKind::Cluster:
        blended.label = "interest " + std::to_string(++cluster);
        blended.kind_weight = blend.cluster_min;
        if (strongest_cluster > 0.0f) {
          blended.kind_weight +=
              (blend.cluster_max - blend.cluster_min) * interest.weight / strongest_cluster;
        }
        break;
      case InterestKind::Predicted:
        blended.label = "predicted";
        blended.kind_weight = blend.predicted;
        break;
      case InterestKind::Negative:
        blended.label = "negative";
        blended.kind_weight = blend.negative;
        break;
    }
    blended.rank_weight = blended.kind_weight;
    interests_.push_back(std::move(blended));
  }
  for (std::size_t i = 0; i < interests_.size(); ++i) {
    const BlendedInterest& interest = interests_[i];
    // A zero vector (nothing left after decay, or only negative events so far) ranks nothing.
    if (is_zero(interest.vector) || interest.tracker_weight <= 0.0f) continue;
    if (interest.kind == InterestKind::Negative) {
      negative_ = &interest;
      continue;
    }
    positive_.push_back(i);
    weighted_.push_back({interest.vector, interest.rank_weight});
  }
}

void InterestQuery::calibrate(const Ranker& ranker, std::span<const std::int64_t> exclude,
                              int threads) {
  if (positive_.empty()) return;
  std::vector<RankRequest> requests;
  for (std::size_t i : positive_) {
    requests.push_back({.query = interests_[i].vector, .exclude = exclude});
  }
  std::vector<ScoredItem> best(requests.size());
  std::vector<std::size_t> counts(requests.size());
  ranker.rank(requests, {.k = 1, .threads = threads}, best, counts);
  for (std::size_t j = 0; j < positive_.size(); ++j) {
    BlendedInterest& interest = interests_[positive_[j]];
    // A best match at or below 0 leaves the weight as it is: dividing would flip or blow it up.
    interest.best_match = counts[j] > 0 && best[j].score > 0.0f ? best[j].score : 1.0f;
    interest.rank_weight = interest.kind_weight / interest.best_match;
    weighted_[j].weight = interest.rank_weight;
  }
}

RankRequest InterestQuery::request(std::span<const std::int64_t> exclude) const {
  RankRequest request{.interests = weighted_, .prior_weight = blend_.prior, .exclude = exclude};
  if (negative_ != nullptr) {
    request.negative = negative_->vector;
    request.negative_weight = blend_.negative;
  }
  return request;
}

InterestQuery::Explanation InterestQuery::explain(std::span<const float> item, float prior) const {
  Explanation explanation;
  bool first = true;
  for (std::size_t i : positive_) {
    const float match = dot(interests_[i].vector, item);
    const float score = interests_[i].rank_weight * match;
    if (first || score > explanation.interest_score) {
      explanation.interest = i;
      explanation.match = match;
      explanation.interest_score = score;
      first = false;
    }
  }
  if (negative_ != nullptr) explanation.negative = blend_.negative * dot(negative_->vector, item);
  explanation.prior = blend_.prior * prior;
  return explanation;
}

}  // namespace nowrec::cli
