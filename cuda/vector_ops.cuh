// Row-wise vector operations on the GPU, callable from host C++ without CUDA headers.
#pragma once

#include <cstddef>

namespace nowrec::cuda {

// Copies `rows` x `cols` floats to the device, L2-normalises each row there and copies the
// result back into `out` (which may alias `in`). Throws Error(DeviceUnavailable) without a GPU.
void l2_normalize_rows(const float* in, float* out, std::size_t rows, std::size_t cols);

}  // namespace nowrec::cuda
