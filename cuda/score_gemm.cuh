// The CUDA ranker's batched scores through cuBLASLt: a catalog tile times the queries, fp32 out
// (fp32 inputs, or bf16 inputs with fp32 accumulation).
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <map>
#include <optional>
#include <tuple>

#include "cuda/cuda_check.cuh"
#include "cuda/rank_select.cuh"

namespace nowrec::cuda {

// Thread-safety: none; the CUDA ranker serialises its calls.
class ScoreGemm {
 public:
  ScoreGemm(void* workspace, std::size_t workspace_bytes);
  ~ScoreGemm();
  ScoreGemm(const ScoreGemm&) = delete;
  ScoreGemm& operator=(const ScoreGemm&) = delete;

  // scores[q][r] = queries[q] . rows[r] for `tile_rows` row-major rows and `batch` queries,
  // both of `type`; scores is [batch][tile_rows] fp32. fp32 runs without TF32, so the scores
  // are as exact as the fused path's.
  void run(RowType type, const void* rows, std::size_t tile_rows, std::size_t dim,
           const void* queries, std::size_t batch, float* scores, cudaStream_t stream);

  // Whether cuBLASLt has an algorithm for the shape (bf16 with an odd dim may have none); the
  // caller then scores with the fused kernel instead.
  bool supports(RowType type, std::size_t tile_rows, std::size_t dim, std::size_t batch);

 private:
  // type, rows, dim, batch
  using ShapeKey = std::tuple<int, std::size_t, std::size_t, std::size_t>;
  // The cached algorithm for a shape, or null when cuBLASLt offers none.
  const cublasLtMatmulAlgo_t* algorithm(RowType type, std::size_t tile_rows, std::size_t dim,
                                        std::size_t batch);
  cublasLtHandle_t handle_ = nullptr;
  void* workspace_;
  std::size_t workspace_bytes_;
  // cuBLASLt's heuristic costs tens of microseconds; its choice for a shape is kept.
  std::map<ShapeKey, std::optional<cublasLtMatmulAlgo_t>> algorithms_;
};

}  // namespace nowrec::cuda
