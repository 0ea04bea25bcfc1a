// The CUDA encoder's linear layers through cuBLASLt: fp16/bf16 in and out, fp32 accumulation,
// bias (and GELU) in the epilogue.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <map>
#include <tuple>

#include "cuda/cuda_check.cuh"

namespace nowrec::cuda {

enum class Epilogue { None, Bias, GeluTanhBias };

// A weight matrix on the device: [out][in] row-major as PyTorch stores it, and its bias [out].
struct DeviceLinear {
  const void* weight = nullptr;
  const void* bias = nullptr;
  int out = 0, in = 0;
};

// Runs y[rows][out] = x[rows][in] · weightᵀ (+ bias, GELU) on a stream.
//
// Thread-safety: none; the algorithm cache is unguarded (the CUDA encoder serialises its calls).
class Gemm {
 public:
  Gemm(HalfType type, void* workspace, std::size_t workspace_bytes);
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  void run(const DeviceLinear& linear, Epilogue epilogue, const void* x, int rows, void* y,
           cudaStream_t stream);

 private:
  // cuBLASLt's heuristic costs tens of microseconds; its choice for a shape is kept.
  using ShapeKey = std::tuple<int, int, int, int>;  // out, in, rows, epilogue
  const cublasLtMatmulAlgo_t& algorithm(const ShapeKey& key, cublasLtMatmulDesc_t operation,
                                        cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                        cublasLtMatrixLayout_t d);

  HalfType type_;
  cublasLtHandle_t handle_ = nullptr;
  void* workspace_;
  std::size_t workspace_bytes_;
  std::map<ShapeKey, cublasLtMatmulAlgo_t> algorithms_;
};

}  // namespace nowrec::cuda
