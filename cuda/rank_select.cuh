// The CUDA ranker's kernels: fused dot + block top-k, block top-k of matmul scores, and the
// merge passes, all on the caller's stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "ranker/gpu_select.hpp"

namespace nowrec::cuda {

enum class RowType { F32, BF16 };

using ranker::gpu::Pick;

// Item priors added to the scores: score(query, row) = dot + weights[query] * values[row].
// Null `values`: no priors.
struct PriorTerms {
  const float* values = nullptr;   // per device row
  const float* weights = nullptr;  // per query of the call
};

// Scores all `rows` catalog rows (row-major, `dim` values of `type`) against `batch` fp32
// queries on the device, adds the priors, and keeps each chunk's best `keep`: out is
// [batch][chunks][keep]. The catalog is read once per query, with no score buffer.
void score_and_select(const void* catalog, RowType type, std::size_t rows, std::size_t dim,
                      const float* queries, std::size_t batch, PriorTerms priors, std::size_t keep,
                      Pick* out, cudaStream_t stream);

// The best `keep` of each query's first chunk of matmul scores (rows [0, kChunk) of the first
// tile, scores [batch][tile_rows]), priors added: out is [batch][keep]. Their last entries are
// the queries' admission thresholds for select_from_scores (see ranker/gpu_select.hpp).
void select_first_chunk(const float* scores, std::size_t tile_rows, std::size_t batch,
                        PriorTerms priors, std::size_t keep, Pick* out, cudaStream_t stream);

// The same selection from matmul scores of rows [first_row, first_row + tile_rows), priors
// added, each chunk admitting only rows that score at least its query's threshold (from
// select_first_chunk; null: every row): scores is [batch][tile_rows]; picks land at their
// chunks' places in out, [batch][chunks][keep].
void select_from_scores(const float* scores, std::size_t tile_rows, std::size_t first_row,
                        std::size_t batch, PriorTerms priors, const Pick* thresholds,
                        std::size_t chunks, std::size_t keep, Pick* out, cudaStream_t stream);

// One merge pass: in is [batch][entries], out [batch][blocks_for(entries)][keep].
void merge_picks(const Pick* in, std::size_t entries, std::size_t batch, std::size_t keep,
                 Pick* out, cudaStream_t stream);

// Blocks of the select kernel the current device runs at once. Admission pays for its extra
// first-chunk pass only when pass 1 takes several such waves.
std::size_t resident_select_blocks();

// fp32 to bf16 (round to nearest even), for the bf16 matmul's queries.
void floats_to_bf16(const float* in, void* out, std::size_t count, cudaStream_t stream);

}  // namespace nowrec::cuda
