// Reader for the safetensors format: memory-mapped, validated, zero-copy tensor views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nowrec/error.hpp"

namespace nowrec {

// Element types a safetensors file can declare. nowrec computes with F32, F16 and BF16;
// the others are recognised and named so that an error can say what a file holds.
enum class TensorDtype {
  BOOL,
  U8,
  I8,
  F8_E4M3,
  F8_E5M2,
  I16,
  U16,
  F16,
  BF16,
  I32,
  U32,
  F32,
  F64,
  I64,
  U64,
};

std::string_view tensor_dtype_name(TensorDtype dtype) noexcept;
std::size_t tensor_dtype_size(TensorDtype dtype) noexcept;

// A read-only view of one tensor's bytes inside a SafetensorsFile; valid while the file lives.
struct TensorView {
  std::string name;
  TensorDtype dtype = TensorDtype::F32;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> bytes;

  std::int64_t element_count() const noexcept;
};

// Thread-safety: all methods are const after open(); the object may be shared across threads.
class SafetensorsFile {
 public:
  // Maps the file and validates it completely; throws Error(InvalidFormat) naming the tensor
  // and the rule it breaks, Error(Io) when the file cannot be read.
  static SafetensorsFile open(const std::filesystem::path& path);
  // Validates an in-memory image; the bytes are copied so the caller's buffer may go away.
  static SafetensorsFile from_bytes(std::span<const std::byte> bytes);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  // Tensors in file order (by data offset).
  std::span<const TensorView> tensors() const noexcept;
  // nullptr when absent.
  const TensorView* find(std::string_view name) const noexcept;
  // Throws Error(NotFound) naming the tensor when absent.
  const TensorView& at(std::string_view name) const;
  // The optional "__metadata__" string map.
  const std::map<std::string, std::string>& metadata() const noexcept;

 private:
  struct Impl;
  explicit SafetensorsFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nowrec
