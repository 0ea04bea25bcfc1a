// The catalog scan behind Ranker: scores every row for every user and keeps each user's best.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ranker/snapshot.hpp"
#include "ranker/top_k.hpp"

namespace nowrec::ranker {

// One user's part of a scan. Its score for a row is the maximum over its `interest_count`
// vectors' inner products, plus the inner product of one more vector when has_negative (that
// vector already carries the minus sign and the penalty weight), plus prior_weight times the
// row's prior, plus the row's boost.
struct ScanUser {
  std::size_t first_vector = 0;
  std::size_t interest_count = 1;
  bool has_negative = false;
  float prior_weight = 0.0f;  // times each row's prior, added to its score
  // Added to the scores of the ids it holds; null: none. max_boost bounds them from above (and
  // is at least 0), so rows that cannot enter the top k even with it skip the lookup.
  const std::unordered_map<std::int64_t, float>* boosts = nullptr;
  float max_boost = 0.0f;
  const std::unordered_set<std::int64_t>* exclude = nullptr;  // null: none
  const std::unordered_set<std::int64_t>* allow = nullptr;    // null: every id
  std::vector<std::uint32_t> categories;                      // sorted; empty: every category
};

struct ScanPlan {
  std::vector<float> vectors;  // every user's vectors, dim floats each
  std::vector<ScanUser> users;
  std::size_t keep = 10;  // candidates kept per user
  int threads = 1;
  std::size_t matmul_min_queries = 16;
};

// Per user, up to plan.keep candidates, best first. The work is split into blocks of rows
// scanned by plan.threads OpenMP threads, each keeping its own TopK per user; those are merged.
std::vector<std::vector<Candidate>> scan(const Snapshot& snapshot, const ScanPlan& plan);

// Maximal marginal relevance over `candidates` (best first): picks `k` of them greedily, each
// maximising lambda * score - (1 - lambda) * (max inner product with those already picked).
std::vector<Candidate> select_mmr(const Snapshot& snapshot,
                                  const std::vector<Candidate>& candidates, std::size_t k,
                                  float lambda);

}  // namespace nowrec::ranker
