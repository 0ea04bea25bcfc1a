// CUDA and cuBLASLt status codes turned into nowrec::Error, for the files under cuda/.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <string>

#include "nowrec/error.hpp"

namespace nowrec::cuda {

// Throws Error(DeviceUnavailable) naming `what` (the call that failed) and CUDA's reason.
inline void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so that later calls start clean
  throw Error(ErrorCode::DeviceUnavailable, std::string(what) + ": " + cudaGetErrorName(status) +
                                                " (" + cudaGetErrorString(status) + ")");
}

// Throws Error(Internal) naming `what`: a refused cuBLASLt call is a shape or setup bug.
inline void check(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw Error(ErrorCode::Internal, std::string(what) + ": " + cublasLtGetStatusName(status) + " (" +
                                       cublasLtGetStatusString(status) + ")");
}

// After a kernel launch: a bad configuration shows up here, not at the launch.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// The element type of activations and weights on the device.
enum class HalfType { F16, BF16 };

}  // namespace nowrec::cuda
