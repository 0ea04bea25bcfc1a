// The chunked top-k selection the CUDA ranker runs, written once for host and device so that the
// host can check the device's network, planning and merge against the CPU Ranker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#if defined(__CUDACC__)
#define NOWREC_HOST_DEVICE __host__ __device__
#else
#define NOWREC_HOST_DEVICE
#endif

namespace nowrec::ranker::gpu {

// Entries one thread block sorts in shared memory (8 bytes each: 32 KiB). A power of two, and
// at least four times kMaxKeep so that every merge pass shrinks the candidates fourfold.
inline constexpr std::uint32_t kChunk = 4096;
inline constexpr std::size_t kMaxKeep = 1024;
// Row of a padding entry: after every real row, so it never displaces one.
inline constexpr std::uint32_t kNoRow = 0xffffffffu;

// A scored device row. Device rows are sorted by id, so the smaller row is the smaller id.
struct Pick {
  float score;
  std::uint32_t row;
};

NOWREC_HOST_DEVICE inline Pick padding_pick() { return {-__builtin_huge_valf(), kNoRow}; }

// The entry of a scored row. A NaN score (only overflowing products make one) never enters: it
// becomes padding. (The CPU Ranker refuses such a request instead; the CUDA path does not yet.)
NOWREC_HOST_DEVICE inline Pick scored_pick(float score, std::uint32_t row) {
  return score == score ? Pick{score, row} : padding_pick();
}

// Higher score first; equal scores: the smaller row (id) first.
NOWREC_HOST_DEVICE inline bool pick_before(const Pick& a, const Pick& b) {
  return a.score > b.score || (a.score == b.score && a.row < b.row);
}

// One compare-exchange of a bitonic sort of `count` (a power of two) entries into best-first
// order: pass (size, stride), pair index `pair` in [0, count / 2). A device block runs the pairs
// of a pass in parallel, the host one after another; both get the same network.
NOWREC_HOST_DEVICE inline void bitonic_exchange(Pick* entries, std::uint32_t size,
                                                std::uint32_t stride, std::uint32_t pair) {
  const std::uint32_t i = 2 * pair - (pair & (stride - 1));
  const std::uint32_t j = i + stride;
  const bool best_first = (i & size) == 0;
  const Pick a = entries[i], b = entries[j];
  if (best_first ? pick_before(b, a) : pick_before(a, b)) {
    entries[i] = b;
    entries[j] = a;
  }
}

// The best `keep` of a block's entries without sorting all of them (the top-k bitonic network):
// sort runs of `run` entries (the smallest power of two >= keep) in alternating directions with
// the passes of size <= run of the sort above; then, while more than one run is left, keep the
// better of entries[i] and entries[i + run] of each pair of runs (the top `run` of the two, in
// bitonic order) at index `pair`, halving the entries, and sort each run again with the passes
// of size `run`. The last run is sorted best first. For keep 10 this is about a fifth of the
// compare-exchanges of a full 4096-entry sort.
NOWREC_HOST_DEVICE inline std::uint32_t run_length(std::size_t keep) {
  std::uint32_t run = 1;
  while (run < keep) run *= 2;
  return run;
}

// The survivor of pair `pair` in [0, entries / 2) of one halving step over runs of `run`.
NOWREC_HOST_DEVICE inline Pick better_of_pair(const Pick* entries, std::uint32_t run,
                                              std::uint32_t pair) {
  const std::uint32_t i = 2 * pair - (pair & (run - 1));
  const Pick a = entries[i], b = entries[i + run];
  return pick_before(b, a) ? b : a;
}

// The smallest power of two >= count, and at least `run`: the entries a block sorts when only
// `count` of its chunk are admitted.
NOWREC_HOST_DEVICE inline std::uint32_t admitted_entries(std::uint32_t count, std::uint32_t run) {
  std::uint32_t entries = run;
  while (entries < count) entries *= 2;
  return entries;
}

// Pass 1 with an admission threshold (the matmul path, when pass 1 has blocks for several waves
// of the device). A query's threshold is the score of the keep-th best entry of its first chunk,
// which no entry of the answer scores below (the keep-th best of all rows is at least the
// keep-th best of any of them). Every chunk then admits only the rows scoring at least the
// threshold and keeps the best `keep` of those, so the answer is entry for entry the unfiltered
// one, while a block sorts about `keep` admitted entries instead of kChunk on most data. A chunk
// that admits more than kMaxAdmitted (many scores tied at the threshold, say) selects from all
// of its rows, as without a threshold. (The merge passes admit everything: their blocks hold
// pass-1 picks, nearly all above the threshold, and take about one wave.)
inline constexpr std::uint32_t kMaxAdmitted = kChunk / 2;
NOWREC_HOST_DEVICE inline bool admitted(float score, float threshold) {
  return score >= threshold;  // never a NaN
}

// How one call's selection runs for `batch` queries over `rows` device rows, keeping `keep`.
//
// Pass 1 cuts the rows into ceil(rows / kChunk) chunks and keeps the `keep` best of each (padded
// when a chunk has fewer rows). Each merge pass cuts a query's candidates into kChunk-entry
// blocks and keeps the `keep` best of each, until one block is left: its entries are the answer.
struct SelectPlan {
  std::size_t rows = 0;
  std::size_t batch = 0;
  std::size_t keep = 0;
  std::size_t chunks = 0;  // pass-1 blocks per query
  // Rows scored per matmul: a multiple of kChunk, so no chunk spans two tiles.
  std::size_t tile_rows = 0;
  std::vector<std::size_t> merge_inputs;  // candidates per query entering each merge pass
};

// Throws Error(Internal) for keep outside [1, kMaxKeep] or no rows. `max_scores` bounds the
// matmul's score buffer (batch * tile_rows floats), never below one chunk per query.
SelectPlan plan_selection(std::size_t rows, std::size_t batch, std::size_t keep,
                          std::size_t max_scores);

inline std::size_t blocks_for(std::size_t entries) { return (entries + kChunk - 1) / kChunk; }

// Grid rows: at most this many queries per launch.
inline constexpr std::size_t kMaxQueriesPerPass = 65535;

// How many queries one pass takes so that its pass-1 picks (queries x chunks x keep entries)
// fit in `max_pick_bytes`: at least 1, at most kMaxQueriesPerPass.
std::size_t queries_per_pass(std::size_t rows, std::size_t keep, std::size_t max_pick_bytes);

// Whether pass 1 admits rows by the first chunk's threshold (see kMaxAdmitted).
enum class Admission { AllRows, FirstChunkThreshold };

// The selection for one query on the host, entry for entry what the device computes from the
// same scores (one per row): the reference for tests. The fused kernel selects from all rows,
// the matmul path with the first chunk's threshold.
std::vector<Pick> select_on_host(const std::vector<float>& scores, const SelectPlan& plan,
                                 Admission admission);

// Sorts `count` entries (a power of two) best first with the bitonic network.
void bitonic_sort_on_host(Pick* entries, std::uint32_t count);

// The top-k network on the host, pass for pass what a device block runs: afterwards the first
// `run` of `count` entries (count a power of two, run = run_length(keep) <= count) are the best
// `run`, best first; the rest is scratch.
void select_best_on_host(Pick* entries, std::uint32_t count, std::uint32_t run);

}  // namespace nowrec::ranker::gpu
