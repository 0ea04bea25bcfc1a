// Reads back the .npy files nowrec writes (float32 matrices, int64 vectors) for cached catalogs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace nowrec::cli {

// Reads a little-endian, C-order .npy file of float32 values with two dimensions; `cols` is set
// to the second. Throws Error(Io) when unreadable and Error(InvalidFormat) naming the file when
// the header or the size is not what is expected.
std::vector<float> read_npy_f32_matrix(const std::filesystem::path& path, std::size_t& rows,
                                       std::size_t& cols);
// Reads a one-dimensional int64 .npy file likewise.
std::vector<std::int64_t> read_npy_i64_vector(const std::filesystem::path& path);

}  // namespace nowrec::cli
