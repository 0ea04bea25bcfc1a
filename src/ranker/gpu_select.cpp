// Planning of the CUDA ranker's selection passes and their host reference.
#include "ranker/gpu_select.hpp"

#include <algorithm>
#include <optional>
#include <span>
#include <string>

#include "nowrec/error.hpp"

namespace nowrec::ranker::gpu {

SelectPlan plan_selection(std::size_t rows, std::size_t batch, std::size_t keep,
                          std::size_t max_scores) {
  if (rows == 0 || batch == 0 || keep == 0 || keep > kMaxKeep) {
    throw Error(ErrorCode::Internal, "gpu selection plan: rows " + std::to_string(rows) +
                                         ", batch " + std::to_string(batch) + ", keep " +
                                         std::to_string(keep) + " (keep must be in [1, " +
                                         std::to_string(kMaxKeep) + "])");
  }
  SelectPlan plan;
  plan.rows = rows;
  plan.batch = batch;
  plan.keep = keep;
  plan.chunks = blocks_for(rows);
  const std::size_t tile_chunks = std::max<std::size_t>(1, max_scores / batch / kChunk);
  plan.tile_rows = std::min(plan.chunks, tile_chunks) * kChunk;
  for (std::size_t blocks = plan.chunks; blocks > 1;) {
    const std::size_t entries = blocks * keep;
    plan.merge_inputs.push_back(entries);
    blocks = blocks_for(entries);
  }
  return plan;
}

std::size_t queries_per_pass(std::size_t rows, std::size_t keep, std::size_t max_pick_bytes) {
  const std::size_t per_query = std::max<std::size_t>(1, blocks_for(rows) * keep * sizeof(Pick));
  return std::clamp<std::size_t>(max_pick_bytes / per_query, 1, kMaxQueriesPerPass);
}

void bitonic_sort_on_host(Pick* entries, std::uint32_t count) {
  for (std::uint32_t size = 2; size <= count; size *= 2) {
    for (std::uint32_t stride = size / 2; stride > 0; stride /= 2) {
      for (std::uint32_t pair = 0; pair < count / 2; ++pair) {
        bitonic_exchange(entries, size, stride, pair);
      }
    }
  }
}

void select_best_on_host(Pick* entries, std::uint32_t count, std::uint32_t run) {
  for (std::uint32_t size = 2; size <= run; size *= 2) {
    for (std::uint32_t stride = size / 2; stride > 0; stride /= 2) {
      for (std::uint32_t pair = 0; pair < count / 2; ++pair) {
        bitonic_exchange(entries, size, stride, pair);
      }
    }
  }
  std::vector<Pick> survivors(count / 2);
  for (std::uint32_t left = count; left > run; left /= 2) {
    // All survivors are read before any is written, as the device does between two barriers.
    for (std::uint32_t pair = 0; pair < left / 2; ++pair) {
      survivors[pair] = better_of_pair(entries, run, pair);
    }
    std::copy_n(survivors.begin(), left / 2, entries);
    for (std::uint32_t stride = run / 2; stride > 0; stride /= 2) {
      for (std::uint32_t pair = 0; pair < left / 4; ++pair) {
        bitonic_exchange(entries, run, stride, pair);
      }
    }
  }
}

namespace {

// One block's work: `source` padded to `entries` (a power of two), the best `keep` kept in order.
void select_block(std::span<const Pick> source, std::uint32_t entries, std::size_t keep,
                  Pick* out) {
  std::vector<Pick> block(entries, padding_pick());
  std::copy(source.begin(), source.end(), block.begin());
  select_best_on_host(block.data(), entries, run_length(keep));
  std::copy_n(block.begin(), keep, out);
}

// One block of a pass: the best `keep` of up to kChunk entries, or of only those that
// `threshold` admits when there are at most kMaxAdmitted of them. (The device gathers the
// admitted entries in another order; the network keeps the same best entries, in the same order,
// whatever order they come in.)
void select_entries(std::span<const Pick> source, const float* threshold, std::size_t keep,
                    Pick* out) {
  std::vector<Pick> entries;
  if (threshold != nullptr) {
    for (const Pick& entry : source) {
      if (admitted(entry.score, *threshold)) entries.push_back(entry);
    }
    if (entries.size() <= kMaxAdmitted) {
      select_block(entries, admitted_entries(std::uint32_t(entries.size()), run_length(keep)), keep,
                   out);
      return;
    }
    entries.clear();
  }
  for (const Pick& entry : source) entries.push_back(scored_pick(entry.score, entry.row));
  select_block(entries, kChunk, keep, out);
}

}  // namespace

std::vector<Pick> select_on_host(const std::vector<float>& scores, const SelectPlan& plan,
                                 Admission admission) {
  std::vector<Pick> rows(plan.rows);
  for (std::size_t r = 0; r < plan.rows; ++r) rows[r] = {scores[r], std::uint32_t(r)};
  const auto chunk_rows = [&](std::size_t chunk) {
    const std::size_t first = chunk * kChunk;
    return std::span<const Pick>(rows).subspan(first,
                                               std::min<std::size_t>(kChunk, plan.rows - first));
  };
  std::optional<float> threshold;
  if (admission == Admission::FirstChunkThreshold) {
    std::vector<Pick> first(plan.keep);
    select_entries(chunk_rows(0), nullptr, plan.keep, first.data());
    threshold = first.back().score;
  }
  const float* admit = threshold ? &*threshold : nullptr;
  std::vector<Pick> candidates(plan.chunks * plan.keep);
  for (std::size_t chunk = 0; chunk < plan.chunks; ++chunk) {
    select_entries(chunk_rows(chunk), admit, plan.keep, candidates.data() + chunk * plan.keep);
  }
  for (const std::size_t entries : plan.merge_inputs) {
    const std::size_t blocks = blocks_for(entries);
    std::vector<Pick> next(blocks * plan.keep);
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t first = b * kChunk;
      const std::size_t count = std::min<std::size_t>(kChunk, entries - first);
      select_entries(std::span(candidates).subspan(first, count), nullptr, plan.keep,
                     next.data() + b * plan.keep);
    }
    candidates = std::move(next);
  }
  return candidates;
}

}  // namespace nowrec::ranker::gpu
