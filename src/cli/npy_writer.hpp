// Writes float32 matrices as NumPy .npy files (format version 1.0, C order).
#pragma once

#include <cstddef>
#include <cstdio>
#include <span>
#include <string>

namespace nowrec::cli {

// The .npy header for a little-endian float32 [rows, cols] array, padded so that the data that
// follows starts at a multiple of 64 bytes.
std::string npy_f32_header(std::size_t rows, std::size_t cols);

// Writes the values; throws nowrec::Error(Io) naming `what` when the stream refuses them.
void write_all(std::FILE* stream, std::span<const char> bytes, const std::string& what);

}  // namespace nowrec::cli
