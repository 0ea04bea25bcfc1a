// Recommender: per user, the weighted interests, the co-visitation boosts and the filters become
// one RankRequest; one Ranker call scores them all; each result is then taken apart into the
// signals behind it.
#include "nowrec/recommender.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "nowrec/error.hpp"
#include "ranker/ranked_rows.hpp"
#include "recommend/recommender_config_check.hpp"

namespace nowrec {

// Everything a call's RankRequests point into and what explaining the results needs, kept per
// thread and reused, so that a call of a shape seen before allocates nothing.
struct Recommender::Workspace {
  struct User {
    std::vector<Interest> interests;  // the first interest_count hold the user's
    std::size_t interest_count = 0;
    std::vector<RecentEvent> recent;
    std::vector<WeightedInterest> weighted;
    // ranked[w] describes weighted[w]; the negative interest, when it takes part, comes last.
    std::vector<RankedInterest> ranked;
    std::vector<float> best_matches;  // calibration: weighted[w]'s best match
    std::vector<std::int64_t> recent_items;
    std::vector<CoVisitationScore> co_visited;  // sorted by item
    std::vector<ItemBoost> boosts;              // sorted by id, co_visited's order
    std::vector<std::int64_t> exclude;
    RankRequest request;
  };
  std::vector<User> users;
  std::vector<RankRequest> requests;
  std::vector<ScoredItem> results;
  std::vector<std::size_t> counts;
  // The snapshot the call ranked, and each result's row in it, so that explanations read the
  // rows as they were ranked. Held only during a call.
  std::shared_ptr<const ranker::Snapshot> snapshot;
  std::vector<ranker::RowPlace> places;
  std::vector<float> item;
  std::vector<float> zero;
};

namespace {

float kind_weight(const RecommenderConfig& config, const Interest& interest, float top_cluster) {
  switch (interest.kind) {
    case InterestKind::ShortTerm:
      return config.short_term;
    case InterestKind::LongTerm:
      return config.long_term;
    case InterestKind::Cluster:
      return top_cluster > 0 ? config.clusters_min + (config.clusters - config.clusters_min) *
                                                         interest.weight / top_cluster
                             : 0.0f;
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

bool is_zero(std::span<const float> values) {
  return std::all_of(values.begin(), values.end(), [](float x) { return x == 0.0f; });
}

}  // namespace

Recommender::Recommender(const ItemIndex& index, InterestTracker& tracker,
                         const RecommenderConfig& config)
    : index_(index), tracker_(tracker), config_(config) {
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
  RecommendResult result;
  recommend(std::span(&user, 1), now, request, std::span(&result, 1));
  return std::move(result.items);
}

void Recommender::recommend(std::string_view user, std::int64_t now,
                            const RecommendRequest& request, RecommendResult& out) const {
  recommend(std::span(&user, 1), now, request, std::span(&out, 1));
}

std::vector<std::vector<Recommendation>> Recommender::recommend(
    std::span<const std::string_view> users, std::int64_t now,
    const RecommendRequest& request) const {
  std::vector<RecommendResult> results(users.size());
  recommend(users, now, request, results);
  std::vector<std::vector<Recommendation>> out(users.size());
  for (std::size_t u = 0; u < users.size(); ++u) out[u] = std::move(results[u].items);
  return out;
}

void Recommender::recommend(std::span<const std::string_view> users, std::int64_t now,
                            const RecommendRequest& request, std::span<RecommendResult> out) const {
  if (out.size() != users.size()) {
    throw Error(ErrorCode::InvalidArgument,
                "Recommender::recommend: " + std::to_string(users.size()) +
                    " users need as many "
                    "results, got " +
                    std::to_string(out.size()));
  }
  // k sizes the results below, so it is checked first (the Ranker checks it again against the
  // snapshot it ranks), and so is its product with the users, which must not wrap.
  const std::size_t slots =
      checked_result_slots(request.k, index_.size(), users.size(), "Recommender::recommend");
  thread_local Workspace work;
  if (work.users.size() < users.size()) work.users.resize(users.size());
  work.zero.assign(index_.dim(), 0.0f);
  for (std::size_t u = 0; u < users.size(); ++u) prepare(users[u], now, request, work, u);

  work.requests.clear();
  for (std::size_t u = 0; u < users.size(); ++u) work.requests.push_back(work.users[u].request);
  const RankOptions options{.k = request.k,
                            .aggregation = config_.aggregation,
                            .mmr_lambda = config_.mmr_lambda,
                            .threads = config_.threads};
  work.results.resize(slots);
  work.counts.resize(users.size());
  work.places.resize(slots);
  work.snapshot = index_.snapshot();
  // Released on every way out, so that an idle thread's workspace keeps no old segments alive.
  struct ReleaseSnapshot {
    Workspace& work;
    ~ReleaseSnapshot() { work.snapshot.reset(); }
  } release{work};
  ranker::rank_snapshot(*work.snapshot, work.requests, options, work.results, work.counts,
                        work.places);
  for (std::size_t u = 0; u < users.size(); ++u) {
    Workspace::User& p = work.users[u];
    if (p.request.calibrate) {
      for (std::size_t w = 0; w < p.weighted.size(); ++w) {
        p.ranked[w].best_match = p.best_matches[w];
        p.ranked[w].weight = p.ranked[w].kind_weight / p.best_matches[w];
      }
    }
    explain(request, work, u, out[u]);
  }
}

void Recommender::prepare(std::string_view user, std::int64_t now, const RecommendRequest& request,
                          Workspace& work, std::size_t slot) const {
  const std::size_t dim = index_.dim();
  Workspace::User& p = work.users[slot];
  p.request = RankRequest{};
  p.weighted.clear();
  p.ranked.clear();
  p.interest_count = tracker_.fill_interests(user, now, p.interests);
  const std::span<const Interest> interests(p.interests.data(), p.interest_count);
  float top_cluster = 0;
  for (const Interest& interest : interests) {
    if (interest.kind == InterestKind::Cluster) {
      top_cluster = std::max(top_cluster, interest.weight);
    }
  }
  std::optional<RankedInterest> negative;
  for (std::size_t i = 0; i < interests.size(); ++i) {
    const Interest& interest = interests[i];
    // A zero vector (nothing left after decay, or no event of its kind yet) ranks nothing.
    if (interest.vector.size() != dim || is_zero(interest.vector)) continue;
    if (interest.kind == InterestKind::Negative) {
      if (config_.negative != 0.0f && interest.weight > 0.0f) {
        p.request.negative = interest.vector;
        p.request.negative_weight = config_.negative * interest.weight;
        negative = RankedInterest{.kind = interest.kind,
                                  .index = i,
                                  .tracker_weight = interest.weight,
                                  .kind_weight = config_.negative,
                                  .weight = p.request.negative_weight};
      }
      continue;
    }
    // Events that net out negative (likes and dislikes cancelling in the short-term sum) leave
    // a direction but no interest; calibration would even magnify it.
    if (interest.weight <= 0.0f) continue;
    const float weight = kind_weight(config_, interest, top_cluster);
    if (weight > 0.0f) {
      p.weighted.push_back({.vector = interest.vector, .weight = weight});
      p.ranked.push_back({.kind = interest.kind,
                          .index = i,
                          .tracker_weight = interest.weight,
                          .kind_weight = weight,
                          .weight = weight});
    }
  }
  if (negative) p.ranked.push_back(*negative);
  if (p.weighted.empty()) {
    p.request.query = work.zero;
  } else {
    p.request.interests = p.weighted;
    // Each weighted interest's weight is divided by its best match, found by the Ranker in the
    // same pass over the catalog (see RankRequest::calibrate).
    if (config_.calibrate) {
      p.best_matches.resize(p.weighted.size());
      p.request.calibrate = true;
      p.request.best_matches = p.best_matches;
    }
  }

  p.recent_items.clear();
  if (config_.exclude_seen || (co_visitation_ != nullptr)) {
    tracker_.recent_events(user, p.recent);
    for (const RecentEvent& recent : p.recent) {
      if (recent.item >= 0) p.recent_items.push_back(recent.item);
    }
  }
  p.boosts.clear();
  p.co_visited.clear();
  if (co_visitation_ != nullptr) {
    co_visitation_->score(p.recent_items, now, p.co_visited);
    std::sort(p.co_visited.begin(), p.co_visited.end(),
              [](const auto& a, const auto& b) { return a.item < b.item; });
    for (const CoVisitationScore& c : p.co_visited) {
      p.boosts.push_back({c.item, config_.co_visitation * std::log1p(c.score)});
    }
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

void Recommender::explain(const RecommendRequest& request, Workspace& work, std::size_t slot,
                          RecommendResult& out) const {
  const Workspace::User& p = work.users[slot];
  out.interests.assign(p.ranked.begin(), p.ranked.end());
  out.items.clear();
  std::vector<float>& item = work.item;
  item.resize(index_.dim());
  for (std::size_t r = 0; r < work.counts[slot]; ++r) {
    const ScoredItem& scored = work.results[slot * request.k + r];
    Recommendation& rec = out.items.emplace_back();
    rec.item = scored.id;
    rec.score = scored.score;
    if (!request.explain) continue;
    // The row as it was ranked, though writers may have updated or removed the item since.
    const ranker::RowPlace place = work.places[slot * request.k + r];
    const ranker::Segment& segment = *work.snapshot->segments[place.segment];
    ranker::decode_row(work.snapshot->storage, segment, place.row, item.size(), item.data());
    rec.prior_score = config_.prior * segment.prior_of(place.row);
    const auto boost =
        std::lower_bound(p.boosts.begin(), p.boosts.end(), scored.id,
                         [](const ItemBoost& b, std::int64_t id) { return b.id < id; });
    if (boost != p.boosts.end() && boost->id == scored.id) {
      rec.co_visitation_score = boost->score;
      rec.co_visited_with = p.co_visited[std::size_t(boost - p.boosts.begin())].via;
    }
    rec.interest_score = rec.score - rec.co_visitation_score - rec.prior_score;
    if (!p.request.negative.empty()) {
      rec.negative_score = -p.request.negative_weight * dot(p.request.negative, item);
    }
    float best = -INFINITY;
    for (std::size_t w = 0; w < p.weighted.size(); ++w) {
      const float match = dot(p.weighted[w].vector, item);
      // The weight the ranking used: with calibration, the kind weight over the best match.
      const float part = p.ranked[w].weight * match;
      if (part > best) {
        best = part;
        rec.interest_match = match;
        rec.interest_index = p.ranked[w].index;
        rec.interest_kind = p.ranked[w].kind;
      }
    }
    rec.signal = Signal::Interest;
    float largest = rec.interest_index == Recommendation::npos ? -INFINITY : rec.interest_score;
    if (rec.co_visitation_score > largest) {
      largest = rec.co_visitation_score;
      rec.signal = Signal::CoVisitation;
    }
    if (rec.prior_score > largest) rec.signal = Signal::Prior;
  }
}

}  // namespace nowrec
