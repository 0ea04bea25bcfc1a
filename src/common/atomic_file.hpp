// Writes a whole file so that readers see either the old one or the new one, never a part.
#pragma once

#include <filesystem>
#include <string_view>

namespace nowrec::common {

// Writes `bytes` to a temporary file beside `path`, flushes it to disk, then renames it over
// `path`. Throws Error(Io) naming the path; the temporary file is removed on failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace nowrec::common
