// Block top-k for the CUDA ranker: each block fills kChunk (score, row) entries in shared memory
// and keeps the best `keep` with the top-k bitonic network from ranker/gpu_select.hpp (sorted
// runs of run_length(keep), halved until one is left), the same passes the host reference runs.
// It is exact with ties broken by row; against a full sort of the chunk it saves most
// compare-exchanges. On the matmul path, when pass 1 has blocks for several waves, a chunk first
// admits only the rows scoring at least its query's threshold (the keep-th best of the first
// chunk), about `keep` of its 4,096 on most data, and sorts those: the network over every row
// was what bounded that path's select kernel (one block per chunk and query).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>

#include "cuda/cuda_check.cuh"
#include "cuda/rank_select.cuh"

namespace nowrec::cuda {
namespace {

using ranker::gpu::kChunk;
using ranker::gpu::kMaxAdmitted;
using ranker::gpu::padding_pick;

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;

// Pairs of a pass over all kChunk entries that one thread handles, at most.
constexpr int kPairsPerThread = kChunk / 2 / kThreads;
static_assert(kChunk % (2 * kThreads) == 0, "every thread takes the same number of pairs");

// Leaves the best `run` of the block's first `count` entries (count a power of two, run <= count
// <= kChunk), best first, at the front. Every pass starts after a barrier, so no pass reads an
// entry that the one before still writes.
__device__ void select_best(Pick* entries, std::uint32_t count, std::uint32_t run) {
  for (std::uint32_t size = 2; size <= run; size *= 2) {
    for (std::uint32_t stride = size / 2; stride > 0; stride /= 2) {
      __syncthreads();
      for (std::uint32_t pair = threadIdx.x; pair < count / 2; pair += kThreads) {
        ranker::gpu::bitonic_exchange(entries, size, stride, pair);
      }
    }
  }
  for (std::uint32_t left = count; left > run; left /= 2) {
    // Survivors go to index `pair`, which another thread may still have to read: all are read
    // into registers first, then written after a barrier.
    Pick survivors[kPairsPerThread];
    __syncthreads();
#pragma unroll
    for (int p = 0; p < kPairsPerThread; ++p) {
      const std::uint32_t pair = threadIdx.x + p * kThreads;
      if (pair < left / 2) survivors[p] = ranker::gpu::better_of_pair(entries, run, pair);
    }
    __syncthreads();
#pragma unroll
    for (int p = 0; p < kPairsPerThread; ++p) {
      const std::uint32_t pair = threadIdx.x + p * kThreads;
      if (pair < left / 2) entries[pair] = survivors[p];
    }
    for (std::uint32_t stride = run / 2; stride > 0; stride /= 2) {
      __syncthreads();
      for (std::uint32_t pair = threadIdx.x; pair < left / 4; pair += kThreads) {
        ranker::gpu::bitonic_exchange(entries, run, stride, pair);
      }
    }
  }
  __syncthreads();
}

__device__ void write_best(const Pick* entries, std::size_t keep, Pick* out) {
  for (std::size_t i = threadIdx.x; i < keep; i += kThreads) out[i] = entries[i];
}

__device__ float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

// Rows one warp scores at once: their loads are issued together, so that each warp keeps
// several rows' bytes in flight (a batch-1 scan has only ceil(rows / kChunk) blocks to hide the
// memory latency with). Each row's sum runs in the same order as with one row at a time.
constexpr int kRowsPerWarp = 4;
static_assert(kChunk % (kWarps * kRowsPerWarp) == 0, "a chunk is whole rounds of every warp");

// Partial dots of kRowsPerWarp rows on one lane; the caller sums the lanes.
__device__ __forceinline__ void lane_dots(const float* const (&rows)[kRowsPerWarp],
                                          const float* query, std::size_t dim, int lane,
                                          float (&sum)[kRowsPerWarp]) {
  if (dim % 4 == 0) {
    const float4* q = reinterpret_cast<const float4*>(query);
    for (std::size_t j = lane; j < dim / 4; j += 32) {
      const float4 b = __ldg(q + j);
      float4 a[kRowsPerWarp];
#pragma unroll
      for (int u = 0; u < kRowsPerWarp; ++u)
        a[u] = __ldg(reinterpret_cast<const float4*>(rows[u]) + j);
#pragma unroll
      for (int u = 0; u < kRowsPerWarp; ++u) {
        sum[u] += a[u].x * b.x + a[u].y * b.y + a[u].z * b.z + a[u].w * b.w;
      }
    }
  } else {
    for (std::size_t j = lane; j < dim; j += 32) {
      const float b = __ldg(query + j);
#pragma unroll
      for (int u = 0; u < kRowsPerWarp; ++u) sum[u] += __ldg(rows[u] + j) * b;
    }
  }
}

// Eight bf16 values (16 bytes) times eight query values, added to sum in order.
__device__ __forceinline__ void add_bf16x8(float& sum, const uint4& packed, const float4& lo,
                                           const float4& hi) {
  const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&packed);
  const float2 v0 = __bfloat1622float2(pairs[0]), v1 = __bfloat1622float2(pairs[1]);
  const float2 v2 = __bfloat1622float2(pairs[2]), v3 = __bfloat1622float2(pairs[3]);
  sum += v0.x * lo.x + v0.y * lo.y;
  sum += v1.x * lo.z + v1.y * lo.w;
  sum += v2.x * hi.x + v2.y * hi.y;
  sum += v3.x * hi.z + v3.y * hi.w;
}

__device__ __forceinline__ void lane_dots(const __nv_bfloat16* const (&rows)[kRowsPerWarp],
                                          const float* query, std::size_t dim, int lane,
                                          float (&sum)[kRowsPerWarp]) {
  if (dim % 8 == 0) {
    // 16-byte loads of rows and query: dim % 8 == 0 keeps both aligned.
    const float4* q = reinterpret_cast<const float4*>(query);
    for (std::size_t j = lane; j < dim / 8; j += 32) {
      uint4 packed[kRowsPerWarp];
#pragma unroll
      for (int u = 0; u < kRowsPerWarp; ++u)
        packed[u] = __ldg(reinterpret_cast<const uint4*>(rows[u]) + j);
      const float4 lo = __ldg(q + 2 * j), hi = __ldg(q + 2 * j + 1);
#pragma unroll
      for (int u = 0; u < kRowsPerWarp; ++u) add_bf16x8(sum[u], packed[u], lo, hi);
    }
  } else {
    for (std::size_t j = lane; j < dim; j += 32) {
      const float b = __ldg(query + j);
#pragma unroll
      for (int u = 0; u < kRowsPerWarp; ++u) sum[u] += __bfloat162float(rows[u][j]) * b;
    }
  }
}

// A score plus the row's prior term: one expression for every kernel and pass, so that the
// threshold and the scores it admits round alike.
__device__ __forceinline__ float with_prior(float score, const float* prior_values, float weight,
                                            std::uint32_t row) {
  return prior_values != nullptr ? __fmaf_rn(weight, prior_values[row], score) : score;
}

// grid (chunks, batch): each warp scores kRowsPerWarp rows at a time, one warp per row, the
// chunk's scores straight into shared memory.
template <typename Row>
__global__ void __launch_bounds__(kThreads)
    score_select_kernel(const Row* catalog, std::size_t rows, std::size_t dim, const float* queries,
                        PriorTerms priors, std::size_t keep, Pick* out) {
  __shared__ Pick entries[kChunk];
  const std::size_t query = blockIdx.y, chunk = blockIdx.x;
  const std::size_t first = chunk * kChunk;
  const std::uint32_t count =
      static_cast<std::uint32_t>(rows - first < kChunk ? rows - first : kChunk);
  const float* q = queries + query * dim;
  const float weight = priors.values != nullptr ? priors.weights[query] : 0.0f;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (std::uint32_t base = warp; base < kChunk; base += kWarps * kRowsPerWarp) {
    // Slots past the chunk's last row read that row again (in bounds) and are then padded.
    const Row* row[kRowsPerWarp];
#pragma unroll
    for (int u = 0; u < kRowsPerWarp; ++u) {
      const std::uint32_t r = base + u * kWarps;
      row[u] = catalog + (first + (r < count ? r : count - 1)) * dim;
    }
    float sum[kRowsPerWarp] = {};
    lane_dots(row, q, dim, lane, sum);
#pragma unroll
    for (int u = 0; u < kRowsPerWarp; ++u) {
      const std::uint32_t r = base + u * kWarps;
      const float score = warp_sum(sum[u]);
      if (lane == 0) {
        const auto row_id = static_cast<std::uint32_t>(first + r);
        entries[r] = r < count ? ranker::gpu::scored_pick(
                                     with_prior(score, priors.values, weight, row_id), row_id)
                               : padding_pick();
      }
    }
  }
  select_best(entries, kChunk, ranker::gpu::run_length(keep));
  write_best(entries, keep, out + (query * gridDim.x + chunk) * keep);
}

// Gathers the block's entries that `threshold` admits at the front of `entries`, in any order,
// and returns how many there were; only the first kMaxAdmitted are written. Each warp claims its
// admitted entries' places with one atomic per round of 32.
template <typename EntryAt>
__device__ std::uint32_t gather_admitted(EntryAt entry_at, std::uint32_t count, float threshold,
                                         Pick* entries, std::uint32_t* admitted_count) {
  if (threadIdx.x == 0) *admitted_count = 0;
  __syncthreads();
  const std::uint32_t lane = threadIdx.x % 32;
  for (std::uint32_t i = threadIdx.x; i < kChunk; i += kThreads) {  // whole warps every round
    const Pick entry = i < count ? entry_at(i) : padding_pick();
    const bool in = i < count && ranker::gpu::admitted(entry.score, threshold);
    const unsigned mask = __ballot_sync(0xffffffffu, in);
    std::uint32_t base = 0;
    if (lane == 0 && mask != 0) base = atomicAdd(admitted_count, __popc(mask));
    base = __shfl_sync(0xffffffffu, base, 0);
    if (in) {
      const std::uint32_t at = base + __popc(mask & ((1u << lane) - 1u));
      if (at < kMaxAdmitted) entries[at] = entry;
    }
  }
  __syncthreads();
  return *admitted_count;
}

// One block of a pass: the best `keep` of `count` entries (entry_at(i) for i < count <= kChunk)
// into out. With a threshold (non-null), from the admitted entries only, unless there are more
// than kMaxAdmitted; ranker/gpu_select.cpp's select_entries is the host's copy.
template <typename EntryAt>
__device__ void select_block(EntryAt entry_at, std::uint32_t count, const float* threshold,
                             std::size_t keep, Pick* out) {
  __shared__ Pick entries[kChunk];
  __shared__ std::uint32_t admitted_count;
  const std::uint32_t run = ranker::gpu::run_length(keep);
  if (threshold != nullptr) {
    const std::uint32_t admitted =
        gather_admitted(entry_at, count, *threshold, entries, &admitted_count);
    // The same count on every thread (read after a barrier), so the whole block branches alike.
    if (admitted <= kMaxAdmitted) {
      const std::uint32_t used = ranker::gpu::admitted_entries(admitted, run);
      for (std::uint32_t i = admitted + threadIdx.x; i < used; i += kThreads) {
        entries[i] = padding_pick();
      }
      select_best(entries, used, run);
      write_best(entries, keep, out);
      return;
    }
  }
  for (std::uint32_t i = threadIdx.x; i < kChunk; i += kThreads) {
    if (i < count) {
      const Pick entry = entry_at(i);
      entries[i] = ranker::gpu::scored_pick(entry.score, entry.row);
    } else {
      entries[i] = padding_pick();
    }
  }
  select_best(entries, kChunk, run);
  write_best(entries, keep, out);
}

// A query's admission threshold: the last of its first chunk's best `keep`, or none.
__device__ const float* threshold_of(const Pick* thresholds, std::size_t query, std::size_t keep) {
  return thresholds != nullptr ? &thresholds[query * keep + keep - 1].score : nullptr;
}

// grid (tile chunks, batch). thresholds: [batch][keep] from select_first_chunk, or null.
__global__ void __launch_bounds__(kThreads)
    select_scores_kernel(const float* scores, std::size_t tile_rows, std::size_t first_row,
                         PriorTerms priors, const Pick* thresholds, std::size_t chunks,
                         std::size_t keep, Pick* out) {
  const std::size_t query = blockIdx.y;
  const std::size_t local = blockIdx.x * std::size_t(kChunk);
  const std::uint32_t count =
      static_cast<std::uint32_t>(tile_rows - local < kChunk ? tile_rows - local : kChunk);
  const float* s = scores + query * tile_rows + local;
  const float weight = priors.values != nullptr ? priors.weights[query] : 0.0f;
  const std::uint32_t row0 = static_cast<std::uint32_t>(first_row + local);
  const auto entry_at = [&](std::uint32_t i) {
    return Pick{with_prior(s[i], priors.values, weight, row0 + i), row0 + i};
  };
  const std::size_t chunk = first_row / kChunk + blockIdx.x;
  select_block(entry_at, count, threshold_of(thresholds, query, keep), keep,
               out + (query * chunks + chunk) * keep);
}

// grid (blocks, batch).
__global__ void __launch_bounds__(kThreads)
    merge_kernel(const Pick* in, std::size_t entries_per_query, std::size_t keep, Pick* out) {
  const std::size_t query = blockIdx.y;
  const std::size_t first = blockIdx.x * std::size_t(kChunk);
  const std::uint32_t count = static_cast<std::uint32_t>(
      entries_per_query - first < kChunk ? entries_per_query - first : kChunk);
  const Pick* source = in + query * entries_per_query + first;
  select_block([&](std::uint32_t i) { return source[i]; }, count, nullptr, keep,
               out + (query * gridDim.x + blockIdx.x) * keep);
}

__global__ void to_bf16_kernel(const float* in, __nv_bfloat16* out, std::size_t count) {
  const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  if (i < count) out[i] = __float2bfloat16_rn(in[i]);
}

dim3 grid_of(std::size_t blocks, std::size_t batch) {
  return dim3(static_cast<unsigned>(blocks), static_cast<unsigned>(batch));
}

}  // namespace

void score_and_select(const void* catalog, RowType type, std::size_t rows, std::size_t dim,
                      const float* queries, std::size_t batch, PriorTerms priors, std::size_t keep,
                      Pick* out, cudaStream_t stream) {
  const dim3 grid = grid_of(ranker::gpu::blocks_for(rows), batch);
  if (type == RowType::F32) {
    score_select_kernel<<<grid, kThreads, 0, stream>>>(static_cast<const float*>(catalog), rows,
                                                       dim, queries, priors, keep, out);
  } else {
    score_select_kernel<<<grid, kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(catalog),
                                                       rows, dim, queries, priors, keep, out);
  }
  check_launch("score_select_kernel");
}

std::size_t resident_select_blocks() {
  int device = 0, multiprocessors = 0, per_multiprocessor = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device),
        "cudaDeviceGetAttribute(multiprocessors)");
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_multiprocessor, select_scores_kernel,
                                                      kThreads, 0),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor(select_scores_kernel)");
  return static_cast<std::size_t>(std::max(1, multiprocessors) * std::max(1, per_multiprocessor));
}

void select_first_chunk(const float* scores, std::size_t tile_rows, std::size_t batch,
                        PriorTerms priors, std::size_t keep, Pick* out, cudaStream_t stream) {
  select_scores_kernel<<<grid_of(1, batch), kThreads, 0, stream>>>(scores, tile_rows, 0, priors,
                                                                   nullptr, 1, keep, out);
  check_launch("select_scores_kernel (first chunk)");
}

void select_from_scores(const float* scores, std::size_t tile_rows, std::size_t first_row,
                        std::size_t batch, PriorTerms priors, const Pick* thresholds,
                        std::size_t chunks, std::size_t keep, Pick* out, cudaStream_t stream) {
  select_scores_kernel<<<grid_of(ranker::gpu::blocks_for(tile_rows), batch), kThreads, 0, stream>>>(
      scores, tile_rows, first_row, priors, thresholds, chunks, keep, out);
  check_launch("select_scores_kernel");
}

void merge_picks(const Pick* in, std::size_t entries, std::size_t batch, std::size_t keep,
                 Pick* out, cudaStream_t stream) {
  merge_kernel<<<grid_of(ranker::gpu::blocks_for(entries), batch), kThreads, 0, stream>>>(
      in, entries, keep, out);
  check_launch("merge_kernel");
}

void floats_to_bf16(const float* in, void* out, std::size_t count, cudaStream_t stream) {
  if (count == 0) return;
  const unsigned blocks = static_cast<unsigned>((count + 255) / 256);
  to_bf16_kernel<<<blocks, 256, 0, stream>>>(in, static_cast<__nv_bfloat16*>(out), count);
  check_launch("to_bf16_kernel");
}

}  // namespace nowrec::cuda
