// Ranker::rank on a snapshot the caller holds, handing back where each result lies in it: for
// code that reads the ranked items afterwards (the Recommender's explanations) and must read
// them as they were ranked, whatever writers have changed since.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "nowrec/ranker.hpp"
#include "ranker/snapshot.hpp"

namespace nowrec::ranker {

// A ranked item's row in the snapshot it was ranked in: row `row` of segments[segment].
struct RowPlace {
  std::uint32_t segment = 0;
  std::uint32_t row = 0;
};

// Ranker::rank over `snapshot`, with the same arguments, checks and errors. `places` is empty or
// has results.size() entries; then each filled slot's place is written beside it.
void rank_snapshot(const Snapshot& snapshot, std::span<const RankRequest> requests,
                   const RankOptions& options, std::span<ScoredItem> results,
                   std::span<std::size_t> counts, std::span<RowPlace> places);

}  // namespace nowrec::ranker
