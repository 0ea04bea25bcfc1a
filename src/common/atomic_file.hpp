// Writes a whole file so that readers see either the old one or the new one, never a part.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace nowrec::common {

// Streams into a temporary file beside `path` (`<name>.tmp.<host>.<pid>.<16 hex digits>`, created
// exclusively); commit() flushes it to disk, renames it over `path` and flushes the folder.
// Destroyed without commit(), it removes the temporary file, so `path` keeps whatever it held. A
// successful commit() also removes the temporary files that processes of this host no longer
// alive left beside `path` (killed mid-write); names of other hosts, or not of exactly this form,
// are left alone. Every
// failure (a full or read-only disk included) throws Error(Io) naming the file and the call.
// Thread-safety: none; one writer per thread (writers of one path get distinct temporary names).
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(const std::filesystem::path& path);
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  void write(const void* data, std::size_t size);
  // Overwrites bytes already written (a header completed at the end).
  void write_at(std::uint64_t offset, const void* data, std::size_t size);
  void commit();

  const std::filesystem::path& temporary_path() const noexcept { return temporary_; }

 private:
  [[noreturn]] void fail(const char* call, const std::filesystem::path& file) const;

  std::filesystem::path path_;
  std::filesystem::path temporary_;
  int fd_ = -1;
  std::uint64_t end_ = 0;  // where write() appends
};

// The whole of `bytes` through an AtomicFileWriter.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace nowrec::common
