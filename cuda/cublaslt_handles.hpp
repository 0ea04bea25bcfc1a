// Owning handles for cuBLASLt descriptors, shared by the encoder's and the ranker's matmuls.
#pragma once

#include <cublasLt.h>

#include <cstdint>
#include <memory>

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

}  // namespace nowrec::cuda::cublaslt
