// CUDA runtime queries behind nowrec::cuda_device_count() and friends.
#include <cuda_runtime.h>

#include <string>

#include "cuda/device_query.hpp"
#include "nowrec/error.hpp"

namespace nowrec::cuda {

int device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return 0;
  }
  return count;
}

std::string no_device_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  cudaGetLastError();
  if (status == cudaSuccess) return count == 0 ? "the CUDA runtime sees no GPU" : "";
  return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
}

std::string device_description(int index) {
  cudaDeviceProp props{};
  const cudaError_t status = cudaGetDeviceProperties(&props, index);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw Error(ErrorCode::DeviceUnavailable,
                std::string("cudaGetDeviceProperties: ") + cudaGetErrorString(status));
  }
  return std::string(props.name) + ", sm_" + std::to_string(props.major) +
         std::to_string(props.minor) + ", " + std::to_string(props.totalGlobalMem >> 30) + " GiB";
}

}  // namespace nowrec::cuda
