// fp32 copies of F32, F16 and BF16 safetensors tensors.
#include "encoder/weight_conversion.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

#include "model/shape_text.hpp"
#include "nowrec/error.hpp"

namespace nowrec::encoder {

using model::shape_text;
namespace {

// The file's bytes are little-endian and need not be aligned for the wider type.
std::uint16_t read_u16(const std::byte* p) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) |
                                    (std::to_integer<unsigned>(p[1]) << 8));
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) {
    return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  }
  if (mantissa == 0) return std::bit_cast<float>(sign);
  // Subnormal half: every one is a normal float.
  int shift = 0;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    ++shift;
  }
  mantissa &= 0x3ffu;
  return std::bit_cast<float>(sign | ((113u - static_cast<std::uint32_t>(shift)) << 23) |
                              (mantissa << 13));
}

}  // namespace

std::vector<float> tensor_to_f32(const TensorView& tensor) {
  const std::size_t count = static_cast<std::size_t>(tensor.element_count());
  std::vector<float> values(count);
  const std::byte* bytes = tensor.bytes.data();
  switch (tensor.dtype) {
    case TensorDtype::F32:
      std::memcpy(values.data(), bytes, count * sizeof(float));
      break;
    case TensorDtype::F16:
      for (std::size_t i = 0; i < count; ++i) values[i] = half_to_float(read_u16(bytes + 2 * i));
      break;
    case TensorDtype::BF16:
      for (std::size_t i = 0; i < count; ++i) {
        values[i] = std::bit_cast<float>(static_cast<std::uint32_t>(read_u16(bytes + 2 * i)) << 16);
      }
      break;
    default:
      throw Error(ErrorCode::Unsupported, "tensor '" + tensor.name + "' has dtype " +
                                              std::string(tensor_dtype_name(tensor.dtype)) +
                                              " (the encoder reads F32, F16 and BF16)");
  }
  return values;
}

const TensorView* find_tensor_with_shape(const SafetensorsFile& weights, const std::string& label,
                                         const std::string& name,
                                         const std::vector<std::int64_t>& shape, bool required) {
  const TensorView* tensor = weights.find(name);
  if (tensor == nullptr) {
    if (!required) return nullptr;
    throw Error(ErrorCode::InvalidModel, label + ": tensor '" + name +
                                             "' is missing (config.json implies shape " +
                                             shape_text(shape) + ")");
  }
  if (tensor->shape != shape) {
    throw Error(ErrorCode::InvalidModel, label + ": tensor '" + name + "' has shape " +
                                             shape_text(tensor->shape) +
                                             " but config.json implies " + shape_text(shape));
  }
  return tensor;
}

}  // namespace nowrec::encoder
