// The buffers one Ranker::rank call works in, kept between calls so the hot path stops allocating.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nowrec/ranker.hpp"
#include "ranker/scan.hpp"

namespace nowrec::ranker {

// An entry of RankRequest::boosts and its position there: sorting these by (id, position) lets
// each id's boosts be summed in the order the request gives them.
struct BoostPosition {
  std::int64_t id;
  std::size_t position;
};

// Everything a Ranker::rank call builds: the scan plan, the storage that its ScanUser lists point
// into, and the scan's and MMR's scratch. Ranker keeps one per calling thread; each call empties it
// with clear() and resize(), which keep capacity, so once a thread has made a call of some shape
// (requests, vectors, list sizes, k, threads), further calls of that shape allocate nothing.
//
// Thread-safety: none; one call on one thread uses it at a time. The scan's OpenMP workers touch
// only their own scan.threads[t], sized before the parallel region.
struct Workspace {
  ScanPlan plan;
  // Every user's exclude ids then allow ids, each run sorted and unique; ScanUser::exclude and
  // ::allow point into it, so it is reserved for the whole call before the first user is added.
  std::vector<std::int64_t> filter_ids;
  // Every user's boosts, one entry per id summed over the request, each run sorted by id.
  std::vector<ItemBoost> boosts;
  // Every user's categories, each run sorted.
  std::vector<std::uint32_t> categories;
  // Every calibrated user's interest weights (ScanUser::weights points into it).
  std::vector<float> interest_weights;
  // One request's boosts while its table is built.
  std::vector<BoostPosition> boost_order;
  ScanScratch scan;
  MmrScratch mmr;

  // Bytes its buffers hold (their capacities, not their sizes).
  std::size_t capacity_bytes() const noexcept {
    std::size_t bytes = of(plan.vectors) + of(plan.users) + of(filter_ids) + of(boosts) +
                        of(categories) + of(interest_weights) + of(boost_order) + of(scan.blocks) +
                        of(scan.split_queries) + of(scan.int16_queries) + of(scan.query_scales) +
                        of(scan.threads) + of(scan.best) + of(scan.segment_starts) +
                        of(scan.factors) + of(scan.calibration_scores) + of(mmr.vectors) +
                        of(mmr.max_similarity) + of(mmr.picked) + of(mmr.chosen);
    for (const ScanThreadState& state : scan.threads) {
      bytes += of(state.best) + of(state.scores) + of(state.combined) + of(state.widened) +
               of(state.best_match);
      for (const TopK& top : state.best) bytes += top.storage_bytes();
    }
    for (const std::vector<Candidate>& best : scan.best) bytes += of(best);
    return bytes;
  }

  // Frees every buffer.
  void release() noexcept { *this = Workspace(); }

 private:
  template <class T>
  static std::size_t of(const std::vector<T>& values) noexcept {
    return values.capacity() * sizeof(T);
  }
};

}  // namespace nowrec::ranker
