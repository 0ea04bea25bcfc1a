// A reader for the .npy files the fixture scripts write: little-endian float32, C order.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace nowrec::test {

struct NpyArray {
  std::vector<std::size_t> shape;
  std::vector<float> values;
};

// Reads version 1.x and 2.x headers: magic, version, header length, then a Python dict literal
// with 'descr', 'fortran_order' and 'shape'.
inline NpyArray read_npy_f32(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  auto fail = [&](const std::string& why) { throw std::runtime_error(path.string() + ": " + why); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail("not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail("truncated header");
    for (int i = 0; i < 4; ++i) {
      header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    }
    header_start = 12;
  } else {
    fail("unknown .npy version " + std::to_string(major));
  }
  if (header_start + header_len > bytes.size()) fail("truncated header");
  const std::string header = bytes.substr(header_start, header_len);
  if (header.find("'descr': '<f4'") == std::string::npos) fail("dtype is not '<f4'");
  if (header.find("'fortran_order': False") == std::string::npos) fail("not C order");
  const std::size_t open = header.find("'shape': (");
  if (open == std::string::npos) fail("no shape");
  const std::size_t close = header.find(')', open);
  NpyArray array;
  std::size_t count = 1;
  const std::string dims = header.substr(open + 10, close - open - 10);
  for (std::size_t pos = 0; pos < dims.size();) {
    const std::size_t comma = dims.find(',', pos);
    const std::string item =
        dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (item.find_first_of("0123456789") != std::string::npos) {
      array.shape.push_back(std::stoull(item));
      count *= array.shape.back();
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  const std::size_t data_start = header_start + header_len;
  if (bytes.size() - data_start != count * sizeof(float)) fail("data size does not match shape");
  array.values.resize(count);
  // An empty array has no data pointer to copy into.
  if (count > 0) {
    std::memcpy(array.values.data(), bytes.data() + data_start, count * sizeof(float));
  }
  return array;
}

}  // namespace nowrec::test
