// CudaRanker's host work around the device: catalog order, request checks, answers.
#include "ranker/gpu_requests.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "nowrec/error.hpp"
#include "ranker/request_checks.hpp"

namespace nowrec::ranker::gpu {
namespace {

void unsupported(const std::string& what) {
  throw Error(ErrorCode::Unsupported,
              "CudaRanker: " + what + " is not supported on the GPU; use Ranker for it");
}

// Appends the request's one query vector: the query, or the weighted sum of its interests, minus
// the weighted negative (exact: inner products are linear).
void fold_request(const RankRequest& request, std::size_t index, std::size_t dim,
                  Aggregation aggregation, std::vector<float>& queries) {
  check_request(request, index, dim, "CudaRanker");
  const std::string name = "request " + std::to_string(index);
  if (aggregation == Aggregation::Max && request.interests.size() > 1) {
    unsupported(name + ": max over several interests");
  }
  if (!request.allow.empty()) unsupported(name + ": an allow list");
  if (!request.categories.empty()) unsupported(name + ": a category filter");
  if (!request.boosts.empty()) unsupported(name + ": item boosts (boosts)");

  const std::size_t start = queries.size();
  if (!request.query.empty()) {
    queries.insert(queries.end(), request.query.begin(), request.query.end());
  } else {
    queries.resize(start + dim, 0.0f);
    for (const WeightedInterest& interest : request.interests) {
      for (std::size_t j = 0; j < dim; ++j) {
        queries[start + j] += interest.weight * interest.vector[j];
      }
    }
  }
  if (!request.negative.empty() && request.negative_weight != 0.0f) {
    for (std::size_t j = 0; j < dim; ++j) {
      queries[start + j] -= request.negative_weight * request.negative[j];
    }
  }
}

}  // namespace

CatalogLayout layout_catalog(const Snapshot& snapshot) {
  struct Entry {
    std::int64_t id;
    std::uint32_t segment, row;
  };
  std::vector<Entry> entries;
  entries.reserve(snapshot.size);
  for (std::size_t s = 0; s < snapshot.segments.size(); ++s) {
    const Segment& segment = *snapshot.segments[s];
    for (std::size_t r = 0; r < segment.rows; ++r) {
      if (segment.available[r] == 0) continue;
      entries.push_back({segment.ids[r], std::uint32_t(s), std::uint32_t(r)});
    }
  }
  if (entries.size() >= kNoRow) {
    throw Error(ErrorCode::Unsupported, "CudaRanker: " + std::to_string(entries.size()) +
                                            " available items exceed the GPU path's 2^32 - 1");
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.id < b.id; });
  CatalogLayout layout;
  layout.ids.reserve(entries.size());
  layout.segments.reserve(entries.size());
  layout.rows.reserve(entries.size());
  for (const Entry& entry : entries) {
    layout.ids.push_back(entry.id);
    layout.segments.push_back(entry.segment);
    layout.rows.push_back(entry.row);
  }
  return layout;
}

PreparedBatch prepare_batch(std::span<const RankRequest> requests, const RankOptions& options,
                            std::size_t dim, std::size_t index_size,
                            std::span<const std::int64_t> device_ids, std::size_t result_slots,
                            std::size_t count_slots) {
  const std::size_t k = options.k;
  const std::size_t slots = checked_result_slots(k, index_size, requests.size(), "CudaRanker");
  if (result_slots != slots || count_slots != requests.size()) {
    throw Error(ErrorCode::InvalidArgument,
                "CudaRanker::rank: " + std::to_string(requests.size()) + " requests need " +
                    std::to_string(slots) + " result slots and " + std::to_string(requests.size()) +
                    " counts, got " + std::to_string(result_slots) + " and " +
                    std::to_string(count_slots));
  }
  check_mmr_lambda(options.mmr_lambda, "CudaRanker");
  if (options.mmr_lambda < 1.0f) unsupported("MMR (mmr_lambda < 1)");

  PreparedBatch batch;
  batch.queries.reserve(requests.size() * dim);
  batch.prior_weights.reserve(requests.size());
  batch.excluded.resize(requests.size());
  std::size_t most_excluded = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    fold_request(requests[i], i, dim, options.aggregation, batch.queries);
    batch.prior_weights.push_back(requests[i].prior_weight);
    std::vector<std::int64_t>& excluded = batch.excluded[i];
    for (const std::int64_t id : requests[i].exclude) {
      if (std::binary_search(device_ids.begin(), device_ids.end(), id)) excluded.push_back(id);
    }
    std::sort(excluded.begin(), excluded.end());
    excluded.erase(std::unique(excluded.begin(), excluded.end()), excluded.end());
    most_excluded = std::max(most_excluded, excluded.size());
  }
  batch.keep = std::min(device_ids.size(), k + most_excluded);
  if (batch.keep > kMaxKeep) {
    unsupported("k = " + std::to_string(k) + " plus " + std::to_string(most_excluded) +
                " excluded items (more than " + std::to_string(kMaxKeep) + " in all)");
  }
  return batch;
}

std::size_t finish_request(std::span<const Pick> picks, std::span<const std::int64_t> device_ids,
                           std::span<const std::int64_t> excluded, std::span<ScoredItem> out) {
  std::size_t filled = 0;
  for (const Pick& pick : picks) {
    if (filled == out.size()) break;
    if (pick.row >= device_ids.size()) continue;  // padding
    const std::int64_t id = device_ids[pick.row];
    if (std::binary_search(excluded.begin(), excluded.end(), id)) continue;
    out[filled++] = {id, pick.score};
  }
  return filled;
}

}  // namespace nowrec::ranker::gpu
