// .npy input: version 1.x/2.x headers with 'descr', 'fortran_order' and 'shape'.
#include "cli/npy_reader.hpp"

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include "nowrec/error.hpp"

namespace nowrec::cli {
namespace {

struct NpyFile {
  std::vector<std::size_t> shape;
  std::string bytes;
  std::size_t data_offset = 0;
};

NpyFile read_npy(const std::filesystem::path& path, const std::string& descr) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, path.string() + ": cannot open the file for reading");
  std::ostringstream stream;
  stream << in.rdbuf();
  NpyFile file;
  file.bytes = std::move(stream).str();
  const std::string& bytes = file.bytes;
  const auto fail = [&](const std::string& why) {
    throw Error(ErrorCode::InvalidFormat, path.string() + ": " + why);
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail("not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_length = 0, header_start = 0;
  if (major == 1) {
    header_length = static_cast<unsigned char>(bytes[8]) |
                    (std::size_t{static_cast<unsigned char>(bytes[9])} << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail("truncated header");
    for (int i = 0; i < 4; ++i) {
      header_length |= std::size_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
    }
    header_start = 12;
  } else {
    fail("unknown .npy version " + std::to_string(major));
  }
  if (header_start + header_length > bytes.size()) fail("truncated header");
  const std::string header = bytes.substr(header_start, header_length);
  if (header.find("'descr': '" + descr + "'") == std::string::npos) {
    fail("the dtype is not '" + descr + "'");
  }
  if (header.find("'fortran_order': False") == std::string::npos) fail("not in C order");
  const std::size_t open = header.find("'shape': (");
  const std::size_t close = header.find(')', open);
  if (open == std::string::npos || close == std::string::npos) fail("no shape in the header");
  std::size_t count = 1;
  std::istringstream dims(header.substr(open + 10, close - open - 10));
  for (std::string item; std::getline(dims, item, ',');) {
    const std::size_t first = item.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    const std::size_t last = item.find_last_not_of(' ');
    const std::string_view digits = std::string_view(item).substr(first, last - first + 1);
    std::size_t dim = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), dim);
    if (error != std::errc() || end != digits.data() + digits.size()) {
      fail("bad shape entry '" + item + "'");
    }
    file.shape.push_back(dim);
    // A shape whose element count overflows would make the size check below pass on a
    // wrapped product.
    if (__builtin_mul_overflow(count, dim, &count)) fail("the shape's element count overflows");
  }
  file.data_offset = header_start + header_length;
  const std::size_t element = descr == "<i8" ? 8 : 4;
  std::size_t data_bytes = 0;
  if (__builtin_mul_overflow(count, element, &data_bytes)) {
    fail("the shape's byte count overflows");
  }
  if (bytes.size() - file.data_offset != data_bytes) {
    fail("holds " + std::to_string(bytes.size() - file.data_offset) +
         " data bytes, the shape needs " + std::to_string(data_bytes));
  }
  return file;
}

}  // namespace

std::vector<float> read_npy_f32_matrix(const std::filesystem::path& path, std::size_t& rows,
                                       std::size_t& cols) {
  const NpyFile file = read_npy(path, "<f4");
  if (file.shape.size() != 2) {
    throw Error(ErrorCode::InvalidFormat, path.string() + ": expected a two-dimensional array");
  }
  rows = file.shape[0];
  cols = file.shape[1];
  std::vector<float> values(rows * cols);
  if (!values.empty()) {
    std::memcpy(values.data(), file.bytes.data() + file.data_offset,
                values.size() * sizeof(float));
  }
  return values;
}

std::vector<std::int64_t> read_npy_i64_vector(const std::filesystem::path& path) {
  const NpyFile file = read_npy(path, "<i8");
  if (file.shape.size() != 1) {
    throw Error(ErrorCode::InvalidFormat, path.string() + ": expected a one-dimensional array");
  }
  std::vector<std::int64_t> values(file.shape[0]);
  if (!values.empty()) {
    std::memcpy(values.data(), file.bytes.data() + file.data_offset,
                values.size() * sizeof(std::int64_t));
  }
  return values;
}

}  // namespace nowrec::cli
