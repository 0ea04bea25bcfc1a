// libFuzzer target: SafetensorsFile::from_bytes on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "nowrec/error.hpp"
#include "nowrec/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto file = nowrec::SafetensorsFile::from_bytes(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size));
    // Touch both ends of every view so that the address sanitizer sees any span past the buffer.
    std::size_t checksum = 0;
    for (const nowrec::TensorView& tensor : file.tensors()) {
      if (!tensor.bytes.empty()) {
        checksum += std::to_integer<std::size_t>(tensor.bytes.front());
        checksum += std::to_integer<std::size_t>(tensor.bytes.back());
      }
      const auto count = static_cast<std::size_t>(tensor.element_count());
      if (count * nowrec::tensor_dtype_size(tensor.dtype) != tensor.bytes.size()) __builtin_trap();
      if (file.find(tensor.name) != &tensor) __builtin_trap();
    }
    checksum += file.metadata().size();
    asm volatile("" : : "r"(checksum));
  } catch (const nowrec::Error&) {
    // Refusing malformed input is the expected outcome; anything else escapes and is reported.
  }
  return 0;
}
