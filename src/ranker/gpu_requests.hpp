// The host side of a CudaRanker call: the device catalog's row order, request checks and
// folding into one query vector each, and the picks turned back into ScoredItems.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "nowrec/ranker.hpp"
#include "ranker/gpu_select.hpp"
#include "ranker/snapshot.hpp"

namespace nowrec::ranker::gpu {

// The available rows of a snapshot in id order, which is the device rows' order: a tie between
// device rows then breaks by row exactly as the Ranker breaks it by id.
struct CatalogLayout {
  std::vector<std::int64_t> ids;        // sorted
  std::vector<std::uint32_t> segments;  // the snapshot segment and row each device row copies
  std::vector<std::uint32_t> rows;
};
CatalogLayout layout_catalog(const Snapshot& snapshot);

struct PreparedBatch {
  std::vector<float> queries;                       // one folded vector of dim floats per request
  std::vector<float> prior_weights;                 // per request: RankRequest::prior_weight
  std::vector<std::vector<std::int64_t>> excluded;  // per request: sorted, device ids only
  std::size_t keep = 0;  // picks per request: k plus the most excluded ids of any request
};

// Checks everything the Ranker checks, with the same codes: Error(InvalidArgument) for k = 0 or
// k > index_size (checked_result_slots), result spans of the wrong size, a vector of the wrong
// dimension or with a non-finite value, neither or both of query and interests. Error(Unsupported)
// for what the CUDA path does not run (allow lists, categories, boosts, max over several interests,
// MMR, keep > kMaxKeep).
PreparedBatch prepare_batch(std::span<const RankRequest> requests, const RankOptions& options,
                            std::size_t dim, std::size_t index_size,
                            std::span<const std::int64_t> device_ids, std::size_t result_slots,
                            std::size_t count_slots);

// One request's answer from its picks (best first): padding and excluded ids skipped, at most
// out.size() items written. Returns how many.
std::size_t finish_request(std::span<const Pick> picks, std::span<const std::int64_t> device_ids,
                           std::span<const std::int64_t> excluded, std::span<ScoredItem> out);

}  // namespace nowrec::ranker::gpu
