// Devices nowrec can compute on, and what this build and machine offer.
#pragma once

#include <string>
#include <string_view>

namespace nowrec {

enum class Device { CPU, CUDA };

std::string_view device_name(Device device) noexcept;

// Whether this build of nowrec contains the CUDA path (NOWREC_WITH_CUDA).
bool cuda_built() noexcept;

// Number of usable CUDA devices; 0 without a CUDA build, a driver or a GPU.
int cuda_device_count() noexcept;

// Describes CUDA device `index` ("NVIDIA H100 80GB HBM3, sm_90, 79 GiB"). Throws
// Error(DeviceUnavailable) with "no CUDA device" when there is none.
std::string cuda_device_description(int index = 0);

// Throws Error(DeviceUnavailable) unless `device` can be used in this build on this machine.
void require_device(Device device);

}  // namespace nowrec
