// Device names and the CPU side of CUDA availability; the CUDA side lives in cuda/.
#include "nowrec/device.hpp"

#include "cuda/device_query.hpp"
#include "nowrec/error.hpp"

namespace nowrec {

std::string_view device_name(Device device) noexcept {
  return device == Device::CUDA ? "cuda" : "cpu";
}

bool cuda_built() noexcept {
#if NOWREC_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() noexcept {
#if NOWREC_HAVE_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

std::string cuda_device_description(int index) {
  require_device(Device::CUDA);
  if (index < 0 || index >= cuda_device_count()) {
    throw Error(ErrorCode::InvalidArgument,
                "CUDA device index " + std::to_string(index) + " out of range [0, " +
                    std::to_string(cuda_device_count()) + ")");
  }
#if NOWREC_HAVE_CUDA
  return cuda::device_description(index);
#else
  return {};
#endif
}

void require_device(Device device) {
  if (device == Device::CPU) return;
  if (!cuda_built()) {
    throw Error(ErrorCode::DeviceUnavailable,
                "no CUDA device: this build of nowrec has no CUDA path (NOWREC_WITH_CUDA=OFF)");
  }
#if NOWREC_HAVE_CUDA
  if (cuda_device_count() == 0) {
    throw Error(ErrorCode::DeviceUnavailable, "no CUDA device: " + cuda::no_device_reason());
  }
#endif
}

}  // namespace nowrec
