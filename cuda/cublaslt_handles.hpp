// Owning handles for cuBLASLt descriptors, shared by the encoder's and the ranker's matmuls.
#pragma once

#include <cublasLt.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "cuda/cuda_check.cuh"

namespace nowrec::cuda::cublaslt {

struct Deleter {
  void operator()(cublasLtMatmulDescOpaque_t* desc) const noexcept {
    cublasLtMatmulDescDestroy(desc);
  }
  void operator()(cublasLtMatrixLayoutOpaque_t* layout) const noexcept {
    cublasLtMatrixLayoutDestroy(layout);
  }
  void operator()(cublasLtMatmulPreferenceOpaque_t* preference) const noexcept {
    cublasLtMatmulPreferenceDestroy(preference);
  }
};
using MatmulDesc = std::unique_ptr<cublasLtMatmulDescOpaque_t, Deleter>;
using Layout = std::unique_ptr<cublasLtMatrixLayoutOpaque_t, Deleter>;
using Preference = std::unique_ptr<cublasLtMatmulPreferenceOpaque_t, Deleter>;

// A column-major rows x cols matrix of `type` with leading dimension `leading`.
inline Layout make_layout(cudaDataType_t type, std::uint64_t rows, std::uint64_t cols,
                          std::int64_t leading) {
  cublasLtMatrixLayout_t layout = nullptr;
  check(cublasLtMatrixLayoutCreate(&layout, type, rows, cols, leading),
        "cublasLtMatrixLayoutCreate");
  return Layout(layout);
}

// The heuristic's first choice for `operation` on a, b and d (C is D), using at most
// workspace_bytes of workspace; nullopt when no algorithm fits (cuBLASLt answers NOT_SUPPORTED
// or with none). Throws Error for any other failure.
inline std::optional<cublasLtMatmulAlgo_t> best_algorithm(
    cublasLtHandle_t handle, cublasLtMatmulDesc_t operation, cublasLtMatrixLayout_t a,
    cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t d, std::size_t workspace_bytes) {
  cublasLtMatmulPreference_t raw = nullptr;
  check(cublasLtMatmulPreferenceCreate(&raw), "cublasLtMatmulPreferenceCreate");
  const Preference preference(raw);
  const std::uint64_t workspace = workspace_bytes;
  check(cublasLtMatmulPreferenceSetAttribute(preference.get(),
                                             CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                             sizeof(workspace)),
        "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)");
  cublasLtMatmulHeuristicResult_t result{};
  int count = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      handle, operation, a, b, d, d, preference.get(), 1, &result, &count);
  // NOT_SUPPORTED is how cuBLASLt says that no algorithm fits, not a setup bug.
  if (status == CUBLAS_STATUS_NOT_SUPPORTED) return std::nullopt;
  check(status, "cublasLtMatmulAlgoGetHeuristic");
  if (count == 0) return std::nullopt;
  return result.algo;
}

}  // namespace nowrec::cuda::cublaslt
