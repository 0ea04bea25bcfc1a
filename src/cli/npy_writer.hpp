// Writes NumPy .npy files (format version 1.0, C order): float32 matrices and int64 vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

namespace nowrec::cli {

// The .npy header for a little-endian array of `descr` ("<f4", "<i8") and `shape`, padded so
// that the data that follows starts at a multiple of 64 bytes.
std::string npy_header(std::string_view descr, std::span<const std::size_t> shape);
// The header for a float32 [rows, cols] array.
std::string npy_f32_header(std::size_t rows, std::size_t cols);

// Whole files in memory: header and values.
std::string npy_f32_matrix(std::span<const float> values, std::size_t rows, std::size_t cols);
std::string npy_i64_vector(std::span<const std::int64_t> values);

// Writes the values; throws nowrec::Error(Io) naming `what` when the stream refuses them.
void write_all(std::FILE* stream, std::span<const char> bytes, const std::string& what);

}  // namespace nowrec::cli
