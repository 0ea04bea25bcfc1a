// The snapshot container: a magic, then checksummed blocks, written atomically.
//
//   file  := "NOWRECIT" block*
//   block := u32 kind, u32 zero, u64 payload size, payload, u32 CRC-32C of all before it
//
// Integers are little-endian. What a payload holds is up to the writer of each kind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"

namespace nowrec::interest {

inline constexpr char kSnapshotMagic[8] = {'N', 'O', 'W', 'R', 'E', 'C', 'I', 'T'};

// Writes blocks through a common::AtomicFileWriter: commit() makes the file durable and renames
// it over `path`; without commit(), `path` keeps whatever it held before. Throws Error(Io) naming
// the file and the failed call.
// Thread-safety: none; one writer per thread.
class SnapshotWriter {
 public:
  explicit SnapshotWriter(const std::filesystem::path& path);

  void write_block(std::uint32_t kind, std::span<const std::byte> payload);
  void commit();

 private:
  common::AtomicFileWriter file_;
};

// Reads blocks one at a time, checking each checksum before handing the payload out. Throws
// Error(Io) when the file cannot be read and Error(InvalidFormat), naming the file and block,
// when it is truncated or corrupt.
// Thread-safety: none.
class SnapshotReader {
 public:
  explicit SnapshotReader(const std::filesystem::path& path);
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;
  ~SnapshotReader();

  // False at a clean end of file; otherwise the next block's kind and payload.
  bool next(std::uint32_t& kind, std::vector<std::byte>& payload);
  std::size_t blocks_read() const noexcept { return blocks_; }
  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::size_t read_some(void* data, std::size_t size);

  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t remaining_ = 0;
  std::size_t blocks_ = 0;
};

}  // namespace nowrec::interest
