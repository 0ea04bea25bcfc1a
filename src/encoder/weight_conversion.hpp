// Reading safetensors weights as fp32, whatever their stored dtype.
#pragma once

#include <vector>

#include "nowrec/safetensors.hpp"

namespace nowrec::encoder {

// The tensor's elements widened to fp32 (F32, F16 and BF16; SequenceEncoder::load has already
// refused anything else). Throws Error(Unsupported) naming the tensor for another dtype.
std::vector<float> tensor_to_f32(const TensorView& tensor);

}  // namespace nowrec::encoder
