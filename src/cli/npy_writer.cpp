// NumPy .npy output for `nowrec encode` and `nowrec catalog`.
#include "cli/npy_writer.hpp"

#include <bit>
#include <cerrno>
#include <cstring>

#include "nowrec/error.hpp"

namespace nowrec::cli {

static_assert(std::endian::native == std::endian::little, ".npy files are written little-endian");

std::string npy_header(std::string_view descr, std::span<const std::size_t> shape) {
  std::string dims;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    dims += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  }
  if (shape.size() == 1) dims += ',';  // Python's one-element tuple: (3,)
  std::string dict =
      "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // magic (6) + version (2) + header length (2) + dict + padding + '\n' ≡ 0 (mod 64)
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string header("\x93NUMPY\x01\x00", 8);
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>((dict.size() >> 8) & 0xff);
  return header + dict;
}

std::string npy_f32_header(std::size_t rows, std::size_t cols) {
  const std::size_t shape[] = {rows, cols};
  return npy_header("<f4", shape);
}

std::string npy_f32_matrix(std::span<const float> values, std::size_t rows, std::size_t cols) {
  if (values.size() != rows * cols) {
    throw Error(ErrorCode::Internal, "npy_f32_matrix: values do not fill the shape");
  }
  std::string bytes = npy_f32_header(rows, cols);
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  return bytes;
}

std::string npy_i64_vector(std::span<const std::int64_t> values) {
  const std::size_t shape[] = {values.size()};
  std::string bytes = npy_header("<i8", shape);
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  return bytes;
}

void write_all(std::FILE* stream, std::span<const char> bytes, const std::string& what) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), stream) != bytes.size()) {
    throw Error(ErrorCode::Io, "cannot write " + what + ": " + std::strerror(errno));
  }
}

}  // namespace nowrec::cli
