// NumPy .npy output for `nowrec encode`.
#include "cli/npy_writer.hpp"

#include <cerrno>
#include <cstring>

#include "nowrec/error.hpp"

namespace nowrec::cli {

std::string npy_f32_header(std::size_t rows, std::size_t cols) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                     std::to_string(rows) + ", " + std::to_string(cols) + "), }";
  // magic (6) + version (2) + header length (2) + dict + padding + '\n' ≡ 0 (mod 64)
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string header("\x93NUMPY\x01\x00", 8);
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>((dict.size() >> 8) & 0xff);
  return header + dict;
}

void write_all(std::FILE* stream, std::span<const char> bytes, const std::string& what) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), stream) != bytes.size()) {
    throw Error(ErrorCode::Io, "cannot write " + what + ": " + std::strerror(errno));
  }
}

}  // namespace nowrec::cli
