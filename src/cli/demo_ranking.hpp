// How `nowrec demo` turns a user's interests into one Ranker request, and why an item ranks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nowrec/interest_types.hpp"
#include "nowrec/ranker.hpp"

namespace nowrec::cli {

// Weights of each kind of interest in the max over interests. Short-term leads (what the user
// does now); clusters count by their importance relative to the strongest one, between
// cluster_min and cluster_max; long-term is the stable background.
//
// Each interest's weight is then divided by its best cosine with any unseen item (calibrate()),
// so that its best match scores exactly its weight. Without that, a search text, whose cosines
// with item texts run near 0.6, could never outrank an interest made of item embeddings, whose
// cosines with similar items run near 0.85.
struct InterestBlend {
  float short_term = 1.0f;
  float long_term = 0.6f;
  float cluster_min = 0.5f;
  float cluster_max = 0.8f;
  float predicted = 1.0f;
  float negative = 0.5f;  // times (negative . item), subtracted
  float prior = 0.02f;    // times the item's prior (log of 1 + earlier ratings)
};

// One interest as ranked: its label ("short-term", "interest 2", ...), the tracker's weight, the
// weight its kind gives it, its best cosine with an unseen item, and so the weight it gets in
// the request: kind_weight / best_match.
struct BlendedInterest {
  InterestKind kind = InterestKind::ShortTerm;
  std::string label;
  float tracker_weight = 0.0f;
  float kind_weight = 0.0f;
  float best_match = 1.0f;
  float rank_weight = 0.0f;
  std::vector<float> vector;
};

// The request for a user's interests, owning what its spans point to.
class InterestQuery {
 public:
  InterestQuery(const std::vector<Interest>& interests, const InterestBlend& blend);
  InterestQuery(const InterestQuery&) = delete;
  InterestQuery& operator=(const InterestQuery&) = delete;

  // Every interest the tracker returned (negative included, last), in its order.
  const std::vector<BlendedInterest>& interests() const { return interests_; }
  // True when no interest can rank (none yet, or only negative ones).
  bool empty() const { return weighted_.empty(); }
  // Sets each ranked interest's best_match and rank_weight (one batched top-1 over the items
  // not in `exclude`).
  void calibrate(const Ranker& ranker, std::span<const std::int64_t> exclude, int threads);
  RankRequest request(std::span<const std::int64_t> exclude) const;

  // Which interest gives `item` its score under the max, and the parts of the score.
  struct Explanation {
    std::size_t interest = 0;     // index into interests()
    float match = 0.0f;           // interest . item
    float interest_score = 0.0f;  // rank_weight * match
    float negative = 0.0f;        // subtracted
    float prior = 0.0f;           // added
  };
  Explanation explain(std::span<const float> item, float prior) const;

 private:
  InterestBlend blend_;
  std::vector<BlendedInterest> interests_;
  std::vector<std::size_t> positive_;  // indices of the interests in the max
  std::vector<WeightedInterest> weighted_;
  const BlendedInterest* negative_ = nullptr;
};

// Inner product of two vectors of the same length.
float dot(std::span<const float> a, std::span<const float> b);

}  // namespace nowrec::cli
