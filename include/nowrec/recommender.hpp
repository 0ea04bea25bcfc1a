// Recommender: one call from a user's events to an explained top k, fusing the user's interests
// (the learned prediction among them), live co-visitation and the items' priors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "nowrec/co_visitation.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/interest_types.hpp"
#include "nowrec/item_index.hpp"
#include "nowrec/ranker.hpp"

namespace nowrec {

// How the signals add up to an item's score:
//   aggregate over interests of weight * (interest . item)  (Max or WeightedSum), where an
//   interest's weight is its kind's weight, divided by its best match when `calibrate` is on
//   - negative * negative_interest.weight * (negative . item)
//   + co_visitation * log(1 + the item's co-visitation score with the user's recent items)
//   + prior * the item's prior (ItemIndex::set_priors)
// Interests whose vector is zero or whose tracker weight is not positive rank nothing.
// Every interest is scored against the one ItemIndex, so the kinds weighted must live in its
// space: with a LearnedNextInterestModel whose item_vectors() fill the index, weigh `predicted`
// alone (the tracker's other interests are text embeddings).
struct RecommenderConfig {
  float short_term = 1.0f;
  float long_term = 0.0f;
  // The most important cluster at `clusters`, the others between clusters_min and that in
  // proportion to their importance: clusters_min + (clusters - clusters_min) * weight / top
  // (0 <= clusters_min <= clusters; with clusters_min 0, in proportion to their importance).
  float clusters = 0.0f;
  float clusters_min = 0.0f;
  float predicted = 1.0f;
  float negative = 1.0f;
  Aggregation aggregation = Aggregation::Max;
  // Above 0, the Recommender keeps a CoVisitation graph built with co_visitation_options.
  float co_visitation = 0.0f;
  CoVisitationOptions co_visitation_options;
  float prior = 0.0f;
  // Divides each weighted interest's weight by its best inner product with any item the request
  // leaves (when that is above 0), so that every interest's best match scores its kind's weight.
  // Interests of different sources then compete fairly: a search text's cosines with item texts
  // run near 0.6, an interest made of item embeddings near 0.85. The best matches are found in
  // the same pass over the catalog as the ranking (RankRequest::calibrate).
  bool calibrate = false;
  // observe() adds each event's pairs to the co-visitation graph. False for a graph built
  // elsewhere (e.g. offline from a training log) that serving must only read.
  bool learn_co_visitation = true;
  // The items in the user's window of recent events are never recommended.
  bool exclude_seen = true;
  float mmr_lambda = 1.0f;  // RankOptions::mmr_lambda; 1: by score alone
  int threads = 1;          // Ranker threads per call; 0: all cores; at most kMaxThreads

  // JSON with these field names (aggregation "max" or "weighted_sum"; co_visitation_options an
  // object with CoVisitationOptions' field names); fields left out keep their defaults. Throws
  // Error(Io) when the file cannot be read and Error(InvalidFormat), naming the file and field, for
  // malformed JSON, an unknown field, a wrong type or a value out of range.
  static RecommenderConfig load(const std::filesystem::path& path);
  // Writes every field atomically (temporary file, fsync, rename). Throws Error(Io).
  void save(const std::filesystem::path& path) const;
};

struct RecommendRequest {
  std::size_t k = 10;
  std::span<const std::int64_t> exclude;      // besides the seen items
  std::span<const std::int64_t> allow;        // non-empty: only these
  std::span<const std::uint32_t> categories;  // non-empty: only items in one of these
  // False: item and score only, the parts left at 0 (cheaper for long lists).
  bool explain = true;
};

// Which signal contributed most to an item's score.
enum class Signal { Interest, CoVisitation, Prior };

// One recommended item, its score and the parts it is made of (score = interest_score +
// co_visitation_score + prior_score, up to rounding). An item that a concurrent writer removed
// between its ranking and its explanation keeps its parts at 0.
struct Recommendation {
  std::int64_t item = 0;
  float score = 0.0f;
  float interest_score = 0.0f;  // the interests' part, negative feedback included
  float interest_match = 0.0f;  // the inner product of the item and interest_index's interest
  float negative_score = 0.0f;  // negative feedback's part of interest_score (at most 0 when alike)
  float co_visitation_score = 0.0f;
  float prior_score = 0.0f;
  Signal signal = Signal::Interest;
  // The weighted interest that scored the item highest (index into the interests() order); kind
  // ShortTerm and index npos when no interest took part.
  InterestKind interest_kind = InterestKind::ShortTerm;
  std::size_t interest_index = npos;
  // The recent item whose co-visitation vote was largest; -1 when none.
  std::int64_t co_visited_with = -1;

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
};

// How one of the user's interests took part in a recommendation: its place in the tracker's
// interests() order, the tracker's weight, its kind's weight, its best match (1 unless the
// config calibrates) and so the weight it ranked with (kind_weight / best_match). The negative
// interest is listed with its penalty weight as `weight`.
struct RankedInterest {
  InterestKind kind = InterestKind::ShortTerm;
  std::size_t index = 0;
  float tracker_weight = 0.0f;
  float kind_weight = 0.0f;
  float best_match = 1.0f;
  float weight = 0.0f;
};

// A user's recommendations and the interests behind them. Kept by a caller between calls, its
// vectors' capacity is reused.
struct RecommendResult {
  std::vector<Recommendation> items;
  std::vector<RankedInterest> interests;
};

// Thread-safety: observe(), recommend() and forget() may be called concurrently, for different
// users and for the same one (the tracker serialises a user's updates; a recommendation sees the
// state of some moment between them). The index and tracker must outlive the Recommender; writes
// to them by others are allowed at any time.
class Recommender {
 public:
  // The tracker holds the interests, and runs the learned next-interest model when its options
  // name one. Throws Error(InvalidArgument) naming the field for a config value that is not
  // finite or out of range, or for an index whose dim differs from the tracker's.
  Recommender(const ItemIndex& index, InterestTracker& tracker, const RecommenderConfig& config);
  ~Recommender();

  // Applies the event to the tracker; when it names an item and the config learns
  // co-visitation, pairs the item with the user's recent items before it. Returns what
  // InterestTracker::update returns; throws as it does, with nothing changed.
  bool observe(const InterestEvent& event);

  // The user's top k at `now` (an unknown user gets the best items by co-visitation and prior
  // alone, ties by smaller id). Throws Error(InvalidArgument) for k = 0 or above the index size,
  // when `now` is older than the user's last event, or when an item's score overflows float or
  // is NaN (as Ranker::rank does).
  std::vector<Recommendation> recommend(std::string_view user, std::int64_t now,
                                        const RecommendRequest& request) const;
  // The same into `out`, with the interests that ranked. Once a thread has served a request
  // of this size (k, and users with as many interests and recent items), the call allocates
  // nothing: its working storage is kept per thread, and `out` is reused. Exceptions: the
  // next-interest model's forward pass, and calls with 16 or more interest vectors in all,
  // which the Ranker scores with oneDNN's matrix product (RankOptions::matmul_min_queries).
  void recommend(std::string_view user, std::int64_t now, const RecommendRequest& request,
                 RecommendResult& out) const;

  // recommend() for many users at once, one catalog scan for all: result i is users[i]'s.
  std::vector<std::vector<Recommendation>> recommend(std::span<const std::string_view> users,
                                                     std::int64_t now,
                                                     const RecommendRequest& request) const;
  // The same into `out` (one result per user).
  void recommend(std::span<const std::string_view> users, std::int64_t now,
                 const RecommendRequest& request, std::span<RecommendResult> out) const;

  // Removes everything held for the user: the tracker's state and window (InterestTracker::forget).
  // The co-visitation graph keeps no per-user state; the pair weights a user added are not
  // attributable and stay. Returns whether the user was known.
  bool forget(std::string_view user);

  const RecommenderConfig& config() const noexcept { return config_; }
  // The co-visitation graph (for snapshots, restores and offline building); null when the config's
  // co_visitation weight is 0.
  CoVisitation* co_visitation() noexcept { return co_visitation_.get(); }
  const CoVisitation* co_visitation() const noexcept { return co_visitation_.get(); }

 private:
  struct Workspace;
  void prepare(std::string_view user, std::int64_t now, const RecommendRequest& request,
               Workspace& work, std::size_t slot) const;
  void explain(const RecommendRequest& request, Workspace& work, std::size_t slot,
               RecommendResult& out) const;
  const ItemIndex& index_;
  InterestTracker& tracker_;
  RecommenderConfig config_;
  std::unique_ptr<CoVisitation> co_visitation_;
};

}  // namespace nowrec
