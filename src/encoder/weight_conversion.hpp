// Reading safetensors weights as fp32, whatever their stored dtype.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nowrec/safetensors.hpp"

namespace nowrec::encoder {

// The tensor's elements widened to fp32 (F32, F16 and BF16; SequenceEncoder::load has already
// refused anything else). Throws Error(Unsupported) naming the tensor for another dtype.
std::vector<float> tensor_to_f32(const TensorView& tensor);

// The tensor `name` of `weights`, checked against the shape config.json implies; nullptr when it
// is absent and not required. Throws Error(InvalidModel) naming `label` (the weights file) and the
// tensor when a required one is missing or the shape differs.
const TensorView* find_tensor_with_shape(const SafetensorsFile& weights, const std::string& label,
                                         const std::string& name,
                                         const std::vector<std::int64_t>& shape, bool required);

}  // namespace nowrec::encoder
