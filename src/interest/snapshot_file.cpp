// Atomic, checksummed snapshot files: temp file, fsync, rename, fsync of the folder.
#include "interest/snapshot_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "interest/crc32c.hpp"
#include "nowrec/error.hpp"

namespace nowrec::interest {
namespace {

[[noreturn]] void io_error(const std::filesystem::path& path, const char* call, int err) {
  throw Error(ErrorCode::Io,
              "snapshot '" + path.string() + "': " + call + " failed: " + std::strerror(err));
}

struct BlockHeader {
  std::uint32_t kind;
  std::uint32_t zero;
  std::uint64_t size;
};
static_assert(sizeof(BlockHeader) == 16);

}  // namespace

SnapshotWriter::SnapshotWriter(const std::filesystem::path& path) : file_(path) {
  file_.write(kSnapshotMagic, sizeof(kSnapshotMagic));
}

void SnapshotWriter::write_block(std::uint32_t kind, std::span<const std::byte> payload) {
  const BlockHeader header{kind, 0, payload.size()};
  std::uint32_t crc = crc32c(0, &header, sizeof(header));
  crc = crc32c(crc, payload.data(), payload.size());
  file_.write(&header, sizeof(header));
  file_.write(payload.data(), payload.size());
  file_.write(&crc, sizeof(crc));
}

void SnapshotWriter::commit() { file_.commit(); }

SnapshotReader::SnapshotReader(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) io_error(path, "open", errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    io_error(path, "fstat", err);
  }
  remaining_ = static_cast<std::uint64_t>(st.st_size);
  try {
    char magic[sizeof(kSnapshotMagic)];
    if (read_some(magic, sizeof(magic)) != sizeof(magic) ||
        std::memcmp(magic, kSnapshotMagic, sizeof(magic)) != 0) {
      fail("not a nowrec interest snapshot (bad magic)");
    }
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

SnapshotReader::~SnapshotReader() {
  if (fd_ >= 0) ::close(fd_);
}

void SnapshotReader::fail(const std::string& message) const {
  throw Error(ErrorCode::InvalidFormat, "snapshot '" + path_.string() + "': " + message);
}

std::size_t SnapshotReader::read_some(void* data, std::size_t size) {
  auto* p = static_cast<char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd_, p + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      io_error(path_, "read", errno);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  remaining_ -= std::min<std::uint64_t>(remaining_, done);
  return done;
}

bool SnapshotReader::next(std::uint32_t& kind, std::vector<std::byte>& payload) {
  if (remaining_ == 0) return false;
  const std::string block = "block " + std::to_string(blocks_);
  BlockHeader header{};
  if (remaining_ < sizeof(header) + sizeof(std::uint32_t)) fail(block + " is truncated");
  read_some(&header, sizeof(header));
  if (header.zero != 0) fail(block + " has a corrupt header");
  // Checked before allocating, so a corrupt size cannot ask for terabytes.
  if (header.size > remaining_ - sizeof(std::uint32_t)) fail(block + " is truncated");
  payload.resize(header.size);
  read_some(payload.data(), payload.size());
  std::uint32_t stored = 0;
  read_some(&stored, sizeof(stored));
  std::uint32_t crc = crc32c(0, &header, sizeof(header));
  crc = crc32c(crc, payload.data(), payload.size());
  if (crc != stored) fail(block + " fails its checksum (corrupt)");
  kind = header.kind;
  ++blocks_;
  return true;
}

}  // namespace nowrec::interest
