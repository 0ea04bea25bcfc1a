// The catalog scan behind Ranker: scores every row for every user and keeps each user's best.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "nowrec/ranker.hpp"
#include "ranker/snapshot.hpp"
#include "ranker/top_k.hpp"

namespace nowrec::ranker {

// One user's part of a scan. Its score for a row is the maximum over its `interest_count`
// vectors' inner products, plus the inner product of one more vector when has_negative (that
// vector already carries the minus sign and the penalty weight), plus prior_weight times the
// row's prior, plus the row's boost.
//
// The lists are sorted spans into storage the caller owns (Workspace): looked up by binary
// search, and only for rows the user's TopK would admit, so their cost is small next to the scan.
struct ScanUser {
  std::size_t first_vector = 0;
  std::size_t interest_count = 1;
  bool has_negative = false;
  float prior_weight = 0.0f;  // times each row's prior, added to its score
  // Added to the scores of the ids they name; sorted by id, one entry per id, empty: none.
  // max_boost bounds them from above (and is at least 0), so rows that cannot enter the top k
  // even with it skip the lookup.
  std::span<const ItemBoost> boosts;
  float max_boost = 0.0f;
  std::span<const std::int64_t> exclude;      // sorted, unique; empty: none
  std::span<const std::int64_t> allow;        // sorted, unique; empty: every id
  std::span<const std::uint32_t> categories;  // sorted; empty: every category

  // Calibrated: the interest vectors are given unweighted, and interest i's score for a row is
  // weights[i] / best[i] times its inner product, best[i] being its largest inner product with
  // any row the filters leave (weights[i] alone when that is not above 0). The interests
  // combine by max, or by sum when sum_interests. best_matches (empty, or one per interest)
  // receives best[i], or 1 where it is not above 0.
  bool calibrate = false;
  bool sum_interests = false;
  std::span<const float> weights;
  std::span<float> best_matches;
};

struct ScanPlan {
  std::vector<float> vectors;  // every user's vectors, dim floats each
  std::vector<ScanUser> users;
  std::size_t keep = 10;  // candidates kept per user
  int threads = 1;
  std::size_t matmul_min_queries = 16;
};

// Whether a user scored a row its filters leave as NaN, and the smallest such id. A NaN has no
// place in a ranking, so the Ranker refuses the request instead of leaving the row out.
struct NanScore {
  bool found = false;
  std::int64_t id = 0;

  void note(std::int64_t item) noexcept {
    if (!found || item < id) id = item;
    found = true;
  }
};

// Rows [first, first + rows) of one segment: the unit of parallel work.
struct ScanBlock {
  std::uint32_t segment;
  std::uint32_t first;
  std::uint32_t rows;
};

// Everything one scanning thread needs, sized before the parallel loop so it never allocates.
struct ScanThreadState {
  std::vector<TopK> best;     // per user; the first plan.users.size() are in use
  std::vector<NanScore> nan;  // per user, as best
  std::vector<float> scores;
  std::vector<float> combined;
  std::vector<float> widened;
  // Per plan vector, the largest score of a row the user's filters leave (calibrated users).
  std::vector<float> best_match;
};

// What a scan allocates, kept between scans (Workspace) so that a scan of the same shape as an
// earlier one allocates nothing. The vectors of states only grow: their first entries are used.
struct ScanScratch {
  std::vector<ScanBlock> blocks;
  std::vector<std::uint16_t> split_queries;
  // Int8 catalogs below the matmul's batch: the plan's vectors quantized, and their scales.
  std::vector<std::int16_t> int16_queries;
  std::vector<float> query_scales;
  std::vector<ScanThreadState> threads;
  // Per user, after scan(): up to plan.keep candidates, best first, and any NaN score of a row
  // the user's filters leave (never among the candidates).
  std::vector<std::vector<Candidate>> best;
  std::vector<NanScore> nan;
  // Calibrated users: each segment's first row in the catalog's order, the scale of each plan
  // vector once the best matches are known, and every row's scores from the first pass (when
  // they fit in kCalibrationScoresBytes) so that the second pass reads scores, not the catalog.
  std::vector<std::size_t> segment_starts;
  std::vector<float> factors;
  std::vector<float> calibration_scores;
};

// The most memory kept for calibrated users' scores between the two passes of a scan; above it
// the second pass scores the catalog again.
inline constexpr std::size_t kCalibrationScoresBytes = std::size_t(32) << 20;

// Leaves each user's best candidates in scratch.best[u] (u < plan.users.size()). The work is
// split into blocks of rows scanned by plan.threads OpenMP threads, each keeping its own TopK per
// user; those are merged. With calibrated users, a first pass over the catalog ranks the others
// and finds the calibrated users' best matches; a second pass over their saved scores ranks them.
void scan(const Snapshot& snapshot, const ScanPlan& plan, ScanScratch& scratch);

// What select_mmr allocates, kept between calls like ScanScratch.
struct MmrScratch {
  std::vector<float> vectors;
  std::vector<float> max_similarity;
  std::vector<std::uint8_t> picked;
  std::vector<Candidate> chosen;
};

// Maximal marginal relevance over `candidates` (best first): picks `k` of them greedily, each
// maximising lambda * score - (1 - lambda) * (max inner product with those already picked).
// Returns the picks, which live in scratch.chosen until its next use.
std::span<const Candidate> select_mmr(const Snapshot& snapshot,
                                      std::span<const Candidate> candidates, std::size_t k,
                                      float lambda, MmrScratch& scratch);

}  // namespace nowrec::ranker
