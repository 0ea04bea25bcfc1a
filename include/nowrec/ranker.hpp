// Ranker: exact top-k of an ItemIndex against query vectors or weighted interests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "nowrec/item_index.hpp"

namespace nowrec {

struct ScoredItem {
  std::int64_t id = 0;
  float score = 0.0f;
  friend bool operator==(const ScoredItem&, const ScoredItem&) = default;
};

// One interest of a user: a direction in the embedding space and its importance.
struct WeightedInterest {
  std::span<const float> vector;
  float weight = 1.0f;
};

// An amount added to one item's score for one request (e.g. its co-visitation with the user's
// recent items).
struct ItemBoost {
  std::int64_t id = 0;
  float score = 0.0f;
};

// How the scores of a user's interests combine into one score per item.
enum class Aggregation {
  Max,          // max over interests of weight * (interest . item)
  WeightedSum,  // sum over interests of weight * (interest . item)
};

// What to rank for one user. Give either `query` or `interests`. Filters: `exclude` (e.g. items
// already seen) removes ids, a non-empty `allow` keeps only its ids, a non-empty `categories`
// keeps only items with at least one of them. Ids in the lists need not be in the index.
struct RankRequest {
  std::span<const float> query;
  std::span<const WeightedInterest> interests;
  // Subtracted from every score: negative_weight * (negative . item). Empty: no penalty.
  std::span<const float> negative;
  float negative_weight = 0.0f;
  // Added to every score: prior_weight * the item's prior (ItemIndex::set_priors). 0: none.
  float prior_weight = 0.0f;
  // Added to the scores of the items they name; ids need not be in the index, and an id named
  // twice gets both. Values must be finite.
  std::span<const ItemBoost> boosts;
  std::span<const std::int64_t> exclude;
  std::span<const std::int64_t> allow;
  std::span<const std::uint32_t> categories;
  // Calibration (needs `interests`): each interest's weight is divided by its best match, its
  // largest inner product (interest . item, unweighted) with any item the filters leave, when
  // that is above 0; so every interest's best match scores its weight, and interests whose
  // vectors sit at different distances from the items compete fairly. Found in the same pass
  // over the catalog as the ranking: the second pass reads the saved scores, not the catalog
  // (for catalogs whose scores exceed 32 MiB, the catalog again). `best_matches`, when not
  // empty, has one entry per interest and receives its best match (1 where none is above 0).
  bool calibrate = false;
  std::span<float> best_matches;
};

struct RankOptions {
  std::size_t k = 10;
  Aggregation aggregation = Aggregation::Max;
  // Maximal marginal relevance: 1 ranks by score alone; below 1 each pick maximises
  // lambda * score - (1 - lambda) * (max similarity to the items already picked), over the
  // mmr_candidates best items (0: 4 * k). Scores returned are still the relevance scores.
  float mmr_lambda = 1.0f;
  std::size_t mmr_candidates = 0;
  int threads = 0;  // 0: all cores; at most kMaxThreads (nowrec/limits.hpp)
  // From this many query vectors in one call on, scores come from one matrix product per block
  // of the catalog (oneDNN) instead of the fused per-row scan. 0: chosen for the index's storage
  // on this CPU by default_matmul_min_queries().
  std::size_t matmul_min_queries = 0;

  // matmul_min_queries as it applies to rows scored as `storage` on this CPU.
  std::size_t matmul_min_queries_for(StorageType storage) const {
    return matmul_min_queries != 0 ? matmul_min_queries : default_matmul_min_queries(storage);
  }

  // Where oneDNN's product overtook the fused scan over 1M rows at d = 384 on 2 threads, by the
  // kernel table in use. With AVX2 kernels (an AMD Zen 3): 16 query vectors for fp32 and bf16,
  // 48 for int8, whose integer kernel stays ahead to larger batches. With AVX-512 kernels on an
  // Intel Xeon, whose sgemm is faster: 6 for fp32; with AVX512_BF16 and AVX512_VNNI (whose fused
  // bf16 scan multiplies each row twice to keep the query's precision) 4 for bf16 and 32 for
  // int8, without them 12 and 28 (docs/performance.md).
  static std::size_t default_matmul_min_queries(StorageType storage);
};

// The result slots that `requests` requests of k results each take (requests * k), for an index
// of `index_size` items: the one check of k before results are sized by it (Ranker::rank,
// Recommender::recommend and the Python binding). Throws Error(InvalidArgument), the message
// starting with `caller`, for k = 0, k > index_size, or a product a size_t cannot hold.
std::size_t checked_result_slots(std::size_t k, std::size_t index_size, std::size_t requests,
                                 std::string_view caller = "Ranker");

// Scores items by inner product (cosine when both sides are normalised) and returns the k best,
// highest score first, ties broken by the smaller id. The catalog is split into shards scanned
// by separate threads, with the top-k selection fused into the scan.
//
// The ItemIndex must outlive the Ranker. Each call ranks the index snapshot current when it
// starts, so writes from other threads never produce torn results.
//
// Thread-safety: all methods are const and may be called concurrently.
class Ranker {
 public:
  explicit Ranker(const ItemIndex& index);

  // Ranks every request. `results` holds options.k slots per request (request i at i * k);
  // `counts[i]` says how many of its slots were filled (fewer than k when filters leave fewer
  // items). Throws Error(InvalidArgument) for k = 0 or k > index size, a vector of the wrong
  // dimension, a non-finite value, a request with neither or both of query and interests, a
  // result whose score overflows float (finite vectors whose products are too large), or an item
  // the filters leave whose score is NaN (such products of opposite signs cancelling).
  // Its working storage (filters sorted for lookup, per-shard heaps) is kept per thread, so once
  // a thread has ranked a call of the same size this form allocates nothing, except on the
  // matrix-product path (matmul_min_queries query vectors or more), where oneDNN allocates.
  void rank(std::span<const RankRequest> requests, const RankOptions& options,
            std::span<ScoredItem> results, std::span<std::size_t> counts) const;

  std::vector<ScoredItem> rank(const RankRequest& request, const RankOptions& options) const;
  std::vector<ScoredItem> top_k(std::span<const float> query, std::size_t k) const;

  const ItemIndex& index() const noexcept { return *index_; }

 private:
  const ItemIndex* index_;
};

}  // namespace nowrec
