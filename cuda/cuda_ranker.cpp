// CudaRanker: uploads an ItemIndex snapshot in id order, then answers each call with one pass
// of scores and block top-k on the caller's stream, merge passes, and one copy back.
#include "nowrec/cuda_ranker.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>

#include "cuda/cuda_check.cuh"
#include "cuda/device_memory.cuh"
#include "cuda/rank_select.cuh"
#include "cuda/score_gemm.cuh"
#include "nowrec/device.hpp"
#include "ranker/gpu_requests.hpp"
#include "ranker/snapshot.hpp"

namespace nowrec {
namespace {

namespace gpu = ranker::gpu;

// The matmul's score buffer holds at most this many floats (128 MiB); more rows go in tiles.
constexpr std::size_t kMaxScores = std::size_t(1) << 25;
// Pass-1 picks of one group of queries stay under this (256 MiB); larger batches run in groups.
constexpr std::size_t kMaxPickBytes = std::size_t(256) << 20;
constexpr std::size_t kWorkspaceBytes = std::size_t(32) << 20;
// Waves of select blocks (queries x chunks over the blocks the device runs at once) from which
// pass 1 admits by threshold: below, its extra first-chunk pass would cost about what it saves.
constexpr std::size_t kAdmissionWaves = 2;
// Rows gathered on the host per upload copy.
constexpr std::size_t kUploadRows = 8192;
// Query vectors per group from which the device scores with cuBLAS instead of its fused scan,
// unless RankOptions::matmul_min_queries says otherwise (int8 catalogs are held as fp32).
constexpr std::size_t kDeviceMatmulMinQueries = 16;

class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    cuda::check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) cuda::check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceGuard() {
    int current = previous_;
    if (cudaGetDevice(&current) == cudaSuccess && current != previous_) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

// A device buffer that grows to the largest call seen and is then reused: warm calls allocate
// nothing. Only grown between calls' stream synchronisations, so no kernel still reads it.
struct GrowingDevice {
  cuda::DeviceMemory memory;
  std::size_t bytes = 0;
  std::byte* reserve(std::size_t needed, const char* what) {
    if (needed > bytes) {
      memory = cuda::DeviceMemory(needed, what);
      bytes = needed;
    }
    return memory.data();
  }
};

struct GrowingPinned {
  cuda::PinnedMemory memory;
  std::size_t bytes = 0;
  std::byte* reserve(std::size_t needed, const char* what) {
    if (needed > bytes) {
      memory = cuda::PinnedMemory(needed, what);
      bytes = needed;
    }
    return memory.data();
  }
};

// One uploaded snapshot.
struct DeviceCatalog {
  std::size_t dim = 0;
  std::size_t size = 0;  // snapshot items, unavailable ones included
  StorageType storage = StorageType::F32;
  cuda::RowType row_type = cuda::RowType::F32;
  std::size_t row_bytes = 0;
  std::vector<std::int64_t> ids;  // device row -> id, sorted
  cuda::DeviceMemory rows;
  cuda::DeviceMemory priors;  // one float per device row; empty when every prior is 0
};

DeviceCatalog upload(const ItemIndex& index) {
  const auto snapshot = index.snapshot();
  gpu::CatalogLayout layout = gpu::layout_catalog(*snapshot);
  DeviceCatalog catalog;
  catalog.dim = snapshot->dim;
  catalog.size = snapshot->size;
  catalog.storage = snapshot->storage;
  // Int8 rows are widened once here: the scan is bandwidth-bound either way, and fp32 rows let
  // both device paths share one layout.
  catalog.row_type =
      snapshot->storage == StorageType::BF16 ? cuda::RowType::BF16 : cuda::RowType::F32;
  const std::size_t value_bytes = catalog.row_type == cuda::RowType::BF16 ? 2 : 4;
  catalog.row_bytes = catalog.dim * value_bytes;
  const std::size_t rows = layout.ids.size();
  catalog.rows = cuda::DeviceMemory(rows * catalog.row_bytes, "cudaMalloc(CudaRanker catalog)");

  cuda::PinnedMemory staging(std::min(rows, kUploadRows) * catalog.row_bytes,
                             "cudaMallocHost(CudaRanker upload)");
  const std::size_t stored_row_bytes = catalog.dim * ranker::bytes_per_value(snapshot->storage);
  for (std::size_t first = 0; first < rows; first += kUploadRows) {
    const std::size_t count = std::min(kUploadRows, rows - first);
    for (std::size_t i = 0; i < count; ++i) {
      const ranker::Segment& segment = *snapshot->segments[layout.segments[first + i]];
      const std::size_t row = layout.rows[first + i];
      std::byte* out = staging.data() + i * catalog.row_bytes;
      if (snapshot->storage == StorageType::Int8) {
        ranker::decode_row(snapshot->storage, segment, row, catalog.dim,
                           reinterpret_cast<float*>(out));
      } else {
        std::memcpy(out, segment.vectors + row * stored_row_bytes, stored_row_bytes);
      }
    }
    cuda::check(cudaMemcpy(catalog.rows.data() + first * catalog.row_bytes, staging.data(),
                           count * catalog.row_bytes, cudaMemcpyHostToDevice),
                "cudaMemcpy(CudaRanker catalog upload)");
  }
  std::vector<float> priors(rows, 0.0f);
  bool any_prior = false;
  for (std::size_t i = 0; i < rows; ++i) {
    priors[i] = snapshot->segments[layout.segments[i]]->prior_of(layout.rows[i]);
    any_prior = any_prior || priors[i] != 0.0f;
  }
  if (any_prior) {
    catalog.priors = cuda::DeviceMemory(rows * sizeof(float), "cudaMalloc(CudaRanker priors)");
    cuda::check(cudaMemcpy(catalog.priors.data(), priors.data(), rows * sizeof(float),
                           cudaMemcpyHostToDevice),
                "cudaMemcpy(CudaRanker priors upload)");
  }
  catalog.ids = std::move(layout.ids);
  return catalog;
}

}  // namespace

struct CudaRanker::Impl {
  const ItemIndex* index = nullptr;
  int device = 0;
  mutable std::mutex mutex;
  // Guarded by mutex: the catalog and every buffer a call uses.
  DeviceCatalog catalog;
  cuda::DeviceMemory workspace;
  std::unique_ptr<cuda::ScoreGemm> gemm;
  GrowingDevice queries, half_queries, scores, thresholds, picks, merged;
  std::size_t resident_select_blocks = 1;  // of the device, see cuda::resident_select_blocks()
  GrowingPinned host_queries, host_picks;

  void rank(std::span<const RankRequest> requests, const RankOptions& options,
            std::span<ScoredItem> results, std::span<std::size_t> counts, cudaStream_t stream);
  // Queries [first_query, first_query + n) of `batch`: their picks end up in host_picks.
  void run_group(const gpu::PreparedBatch& batch, std::size_t first_query, std::size_t n,
                 bool use_matmul, cudaStream_t stream);
};

void CudaRanker::Impl::rank(std::span<const RankRequest> requests, const RankOptions& options,
                            std::span<ScoredItem> results, std::span<std::size_t> counts,
                            cudaStream_t stream) {
  const gpu::PreparedBatch batch = gpu::prepare_batch(requests, options, catalog.dim, catalog.size,
                                                      catalog.ids, results.size(), counts.size());
  if (requests.empty()) return;
  const std::size_t n = requests.size(), k = options.k, rows = catalog.ids.size();
  if (rows == 0) {
    std::fill(counts.begin(), counts.end(), 0);
    return;
  }
  const DeviceGuard guard(device);
  const std::size_t group = gpu::queries_per_pass(rows, batch.keep, kMaxPickBytes);
  for (std::size_t first = 0; first < n; first += group) {
    const std::size_t count = std::min(group, n - first);
    const bool use_matmul = count >= (options.matmul_min_queries != 0 ? options.matmul_min_queries
                                                                      : kDeviceMatmulMinQueries);
    run_group(batch, first, count, use_matmul, stream);
    const std::span<const gpu::Pick> answers(
        reinterpret_cast<const gpu::Pick*>(host_picks.memory.data()), count * batch.keep);
    for (std::size_t i = 0; i < count; ++i) {
      counts[first + i] =
          gpu::finish_request(answers.subspan(i * batch.keep, batch.keep), catalog.ids,
                              batch.excluded[first + i], results.subspan((first + i) * k, k));
    }
  }
}

void CudaRanker::Impl::run_group(const gpu::PreparedBatch& batch, std::size_t first_query,
                                 std::size_t n, bool use_matmul, cudaStream_t stream) {
  const std::size_t rows = catalog.ids.size(), dim = catalog.dim;
  const gpu::SelectPlan plan = gpu::plan_selection(rows, n, batch.keep, kMaxScores);
  const std::size_t keep = plan.keep;

  // One transfer: the queries, then their prior weights.
  const std::size_t query_values = n * dim, query_bytes = query_values * sizeof(float);
  const std::size_t input_bytes = query_bytes + n * sizeof(float);
  std::byte* host_query = host_queries.reserve(input_bytes, "cudaMallocHost(CudaRanker queries)");
  std::memcpy(host_query, batch.queries.data() + first_query * dim, query_bytes);
  std::memcpy(host_query + query_bytes, batch.prior_weights.data() + first_query,
              n * sizeof(float));
  auto* device_queries =
      reinterpret_cast<float*>(queries.reserve(input_bytes, "cudaMalloc(CudaRanker queries)"));
  cuda::check(
      cudaMemcpyAsync(device_queries, host_query, input_bytes, cudaMemcpyHostToDevice, stream),
      "cudaMemcpyAsync(CudaRanker queries)");
  const bool weighted =
      std::any_of(batch.prior_weights.begin() + first_query,
                  batch.prior_weights.begin() + first_query + n, [](float w) { return w != 0.0f; });
  const cuda::PriorTerms priors{weighted && catalog.priors.data() != nullptr
                                    ? reinterpret_cast<const float*>(catalog.priors.data())
                                    : nullptr,
                                device_queries + query_values};

  const std::size_t first_picks = n * plan.chunks * keep;
  const std::size_t merge_picks =
      plan.merge_inputs.empty() ? 0 : n * gpu::blocks_for(plan.merge_inputs.front()) * keep;
  auto* current = reinterpret_cast<gpu::Pick*>(
      picks.reserve(first_picks * sizeof(gpu::Pick), "cudaMalloc(CudaRanker picks)"));
  auto* other = reinterpret_cast<gpu::Pick*>(
      merged.reserve(merge_picks * sizeof(gpu::Pick), "cudaMalloc(CudaRanker merged picks)"));

  if (use_matmul) {
    const std::size_t last_tile = rows - (rows - 1) / plan.tile_rows * plan.tile_rows;
    use_matmul = gemm->supports(catalog.row_type, std::min(plan.tile_rows, rows), dim, n) &&
                 gemm->supports(catalog.row_type, last_tile, dim, n);
  }
  if (use_matmul) {
    const void* matmul_queries = device_queries;
    if (catalog.row_type == cuda::RowType::BF16) {
      void* half = half_queries.reserve(query_values * 2, "cudaMalloc(CudaRanker bf16 queries)");
      cuda::floats_to_bf16(device_queries, half, query_values, stream);
      matmul_queries = half;
    }
    auto* tile_scores = reinterpret_cast<float*>(
        scores.reserve(n * plan.tile_rows * sizeof(float), "cudaMalloc(CudaRanker scores)"));
    // Admission by the first chunk's threshold (see ranker/gpu_select.hpp) costs one more
    // pass of one block per query, which pays only when pass 1 takes a few waves of blocks.
    const bool admit = n * plan.chunks >= kAdmissionWaves * resident_select_blocks;
    gpu::Pick* query_thresholds = nullptr;  // [n][keep], the first chunk's best
    if (admit) {
      query_thresholds = reinterpret_cast<gpu::Pick*>(
          thresholds.reserve(n * keep * sizeof(gpu::Pick), "cudaMalloc(CudaRanker thresholds)"));
    }
    for (std::size_t first = 0; first < rows; first += plan.tile_rows) {
      const std::size_t tile = std::min(plan.tile_rows, rows - first);
      gemm->run(catalog.row_type, catalog.rows.data() + first * catalog.row_bytes, tile, dim,
                matmul_queries, n, tile_scores, stream);
      if (first == 0 && admit) {
        cuda::select_first_chunk(tile_scores, tile, n, priors, keep, query_thresholds, stream);
      }
      cuda::select_from_scores(tile_scores, tile, first, n, priors, query_thresholds, plan.chunks,
                               keep, current, stream);
    }
  } else {
    cuda::score_and_select(catalog.rows.data(), catalog.row_type, rows, dim, device_queries, n,
                           priors, keep, current, stream);
  }
  for (const std::size_t entries : plan.merge_inputs) {
    cuda::merge_picks(current, entries, n, keep, other, stream);
    std::swap(current, other);
  }

  const std::size_t answer_bytes = n * keep * sizeof(gpu::Pick);
  std::byte* answers = host_picks.reserve(answer_bytes, "cudaMallocHost(CudaRanker answers)");
  cuda::check(cudaMemcpyAsync(answers, current, answer_bytes, cudaMemcpyDeviceToHost, stream),
              "cudaMemcpyAsync(CudaRanker answers)");
  cuda::check(cudaStreamSynchronize(stream), "cudaStreamSynchronize(CudaRanker)");
}

CudaRanker::CudaRanker(const ItemIndex& index, const CudaRankerOptions& options)
    : impl_(std::make_unique<Impl>()) {
  require_device(Device::CUDA);
  if (options.device < 0 || options.device >= cuda_device_count()) {
    throw Error(ErrorCode::InvalidArgument,
                "CudaRankerOptions::device " + std::to_string(options.device) +
                    " out of range [0, " + std::to_string(cuda_device_count()) + ")");
  }
  impl_->index = &index;
  impl_->device = options.device;
  const DeviceGuard guard(options.device);
  impl_->workspace = cuda::DeviceMemory(kWorkspaceBytes, "cudaMalloc(CudaRanker workspace)");
  impl_->gemm = std::make_unique<cuda::ScoreGemm>(impl_->workspace.data(), kWorkspaceBytes);
  impl_->catalog = upload(index);
  impl_->resident_select_blocks = cuda::resident_select_blocks();
}

CudaRanker::CudaRanker(CudaRanker&&) noexcept = default;
CudaRanker& CudaRanker::operator=(CudaRanker&&) noexcept = default;
CudaRanker::~CudaRanker() = default;

void CudaRanker::refresh() {
  const DeviceGuard guard(impl_->device);
  DeviceCatalog fresh = upload(*impl_->index);
  const std::lock_guard lock(impl_->mutex);
  impl_->catalog = std::move(fresh);
}

void CudaRanker::rank(std::span<const RankRequest> requests, const RankOptions& options,
                      std::span<ScoredItem> results, std::span<std::size_t> counts,
                      void* stream) const {
  const std::lock_guard lock(impl_->mutex);
  impl_->rank(requests, options, results, counts, static_cast<cudaStream_t>(stream));
}

std::vector<ScoredItem> CudaRanker::rank(const RankRequest& request, const RankOptions& options,
                                         void* stream) const {
  std::vector<ScoredItem> results(options.k);
  std::size_t count = 0;
  rank(std::span(&request, 1), options, results, std::span(&count, 1), stream);
  results.resize(count);
  return results;
}

std::vector<ScoredItem> CudaRanker::top_k(std::span<const float> query, std::size_t k,
                                          void* stream) const {
  RankRequest request;
  request.query = query;
  return rank(request, {.k = k}, stream);
}

// Under the lock: refresh() may be replacing the catalog.
std::size_t CudaRanker::dim() const noexcept {
  const std::lock_guard lock(impl_->mutex);
  return impl_->catalog.dim;
}
std::size_t CudaRanker::size() const noexcept {
  const std::lock_guard lock(impl_->mutex);
  return impl_->catalog.size;
}
std::size_t CudaRanker::device_rows() const noexcept {
  const std::lock_guard lock(impl_->mutex);
  return impl_->catalog.ids.size();
}
StorageType CudaRanker::storage() const noexcept {
  const std::lock_guard lock(impl_->mutex);
  return impl_->catalog.storage;
}

}  // namespace nowrec
