// The .npy reader of cached catalogs: what it reads back, and the headers it refuses, shapes
// whose element count overflows and empty arrays among them.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "cli/npy_reader.hpp"
#include "nowrec/error.hpp"
#include "test_support.hpp"

namespace nowrec::cli {
namespace {

// A version-1 .npy file: magic, header padded to a multiple of 64 bytes, then `data`.
std::string npy(const std::string& descr, const std::string& shape, const std::string& data) {
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string file = "\x93NUMPY";
  file += '\x01';
  file += '\x00';
  file += static_cast<char>(header.size() & 0xff);
  file += static_cast<char>(header.size() >> 8);
  return file + header + data;
}

template <class T>
std::string bytes_of(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

}  // namespace

TEST_CASE("npy files read back, empty ones included") {
  test::TempDir dir;
  const std::vector<float> matrix = {1.5f, -2.0f, 3.25f, 4.0f, 5.0f, -6.5f};
  test::write_file(dir.path() / "m.npy", npy("<f4", "(2, 3)", bytes_of(matrix)));
  std::size_t rows = 0, cols = 0;
  CHECK(read_npy_f32_matrix(dir.path() / "m.npy", rows, cols) == matrix);
  CHECK(rows == 2);
  CHECK(cols == 3);

  const std::vector<std::int64_t> ids = {7, -1, 1LL << 40};
  test::write_file(dir.path() / "v.npy", npy("<i8", "(3,)", bytes_of(ids)));
  CHECK(read_npy_i64_vector(dir.path() / "v.npy") == ids);

  test::write_file(dir.path() / "empty.npy", npy("<f4", "(3, 0)", ""));
  CHECK(read_npy_f32_matrix(dir.path() / "empty.npy", rows, cols).empty());
  CHECK(rows == 3);
  CHECK(cols == 0);
  test::write_file(dir.path() / "none.npy", npy("<i8", "(0,)", ""));
  CHECK(read_npy_i64_vector(dir.path() / "none.npy").empty());
}

TEST_CASE("npy headers with bad shapes are refused") {
  test::TempDir dir;
  const auto refused = [&](const std::string& shape, const std::string& data,
                           const char* says) {
    CAPTURE(shape);
    test::write_file(dir.path() / "bad.npy", npy("<f4", shape, data));
    std::size_t rows = 0, cols = 0;
    CHECK_THROWS_WITH_AS(read_npy_f32_matrix(dir.path() / "bad.npy", rows, cols),
                         doctest::Contains(says), Error);
  };
  // 2^33 x 2^31 elements of 4 bytes wrap around to 0 bytes.
  refused("(8589934592, 2147483648)", "", "overflows");
  refused("(4294967296, 4294967296)", "", "overflows");
  refused("(-1, 2)", std::string(8, '\0'), "bad shape entry");
  refused("(2x, 2)", std::string(16, '\0'), "bad shape entry");
  refused("(2, 2)", std::string(12, '\0'), "data bytes");
}

}  // namespace nowrec::cli
