// CudaRanker: the Ranker's exact top-k over a copy of an ItemIndex snapshot kept on a CUDA device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "nowrec/item_index.hpp"
#include "nowrec/ranker.hpp"

namespace nowrec {

struct CudaRankerOptions {
  int device = 0;  // CUDA device index
};

// Uploads the index's current snapshot once (fp32 rows stay fp32, bf16 rows stay bf16, int8
// rows are widened to fp32) and answers Ranker requests from that copy: few queries per call
// read the catalog once in a fused dot + block top-k kernel, many go through one cuBLASLt matmul
// per tile (fp32, or bf16 with fp32 accumulation) followed by the same block top-k. Results
// follow the Ranker's order: highest score first, ties broken by the smaller id.
//
// Writes to the index after the upload are not seen until refresh(). Supported requests: a
// query, or interests with Aggregation::WeightedSum (or a single interest), an optional negative
// vector, item priors (prior_weight, with the priors of ItemIndex::set_priors uploaded with the
// rows) and an exclude list. Allow lists, categories, boosts, max over several interests and MMR
// throw Error(Unsupported): use the Ranker for those.
//
// Thread-safety: every method may be called from any thread; calls share the device scratch,
// so they run one after another.
class CudaRanker {
 public:
  // Throws Error(DeviceUnavailable) ("no CUDA device") in a build without CUDA or on a machine
  // without a usable GPU.
  explicit CudaRanker(const ItemIndex& index, const CudaRankerOptions& options = {});
  CudaRanker(CudaRanker&&) noexcept;
  CudaRanker& operator=(CudaRanker&&) noexcept;
  ~CudaRanker();

  // Replaces the device copy with the index's current snapshot. The old copy is freed only once
  // the new one is in place, so peak device memory is briefly twice the catalog.
  void refresh();

  // As Ranker::rank, on the stream `stream` (a cudaStream_t; null: the default stream). Returns
  // once results are filled. Throws Error(InvalidArgument) as the Ranker does (checked before
  // anything is launched), Error(Unsupported) for the requests listed above or when k plus the
  // excluded items present exceeds 1024. Unlike the Ranker, it does not refuse scores that
  // overflow: an item scored NaN is left out, and infinite scores are ranked.
  void rank(std::span<const RankRequest> requests, const RankOptions& options,
            std::span<ScoredItem> results, std::span<std::size_t> counts,
            void* stream = nullptr) const;
  std::vector<ScoredItem> rank(const RankRequest& request, const RankOptions& options,
                               void* stream = nullptr) const;
  std::vector<ScoredItem> top_k(std::span<const float> query, std::size_t k,
                                void* stream = nullptr) const;

  std::size_t dim() const noexcept;
  // Items in the uploaded snapshot, unavailable ones included (the bound on k, as for Ranker).
  std::size_t size() const noexcept;
  // Rows on the device: the available items.
  std::size_t device_rows() const noexcept;
  StorageType storage() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace nowrec
