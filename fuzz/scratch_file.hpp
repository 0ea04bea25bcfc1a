// The file a fuzz target hands to a reader that takes a path: one per process, rewritten for
// every input.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace nowrec::fuzz {

// Writes bytes [data, data + size) to this process's scratch file and returns its path.
inline const std::filesystem::path& write_scratch_file(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("nowrec-fuzz-" + std::to_string(::getpid()));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

}  // namespace nowrec::fuzz
