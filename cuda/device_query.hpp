// CUDA runtime queries, callable from host C++ without CUDA headers.
#pragma once

#include <string>

namespace nowrec::cuda {

// Usable devices; 0 when the driver or GPU is missing.
int device_count() noexcept;
// "NVIDIA H100 80GB HBM3, sm_90, 79 GiB"
std::string device_description(int index);
// Why device_count() is 0, as the CUDA runtime puts it.
std::string no_device_reason();

}  // namespace nowrec::cuda
