// AtomicFileWriter: temporary file, fsync, rename, fsync of the folder; stale temporaries swept.
#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <random>
#include <cstring>
#include <string>
#include <system_error>

#include "nowrec/error.hpp"

namespace nowrec::common {
namespace {

// This host's name, as part of temporary names: writers on several hosts (or in containers with
// their own pid namespaces) sharing one folder must neither collide nor judge each other's pids.
const std::string& host_name() {
  static const std::string name = [] {
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof(buffer) - 1) != 0 || buffer[0] == '\0') return std::string("host");
    std::string host(buffer);
    for (char& c : host) {
      if (c == '/' || c == '.') c = '_';
    }
    return host;
  }();
  return name;
}

// A per-process random start for the counter, so a reused pid cannot reuse a name.
std::uint64_t random_start() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::atomic<std::uint64_t> temporary_counter{random_start()};

bool all_digits(std::string_view text, bool hex) {
  if (text.empty()) return false;
  for (const char c : text) {
    const bool digit = c >= '0' && c <= '9';
    const bool hex_letter = c >= 'a' && c <= 'f';
    if (!digit && !(hex && hex_letter)) return false;
  }
  return true;
}

std::filesystem::path folder_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

// The pid in "<name>.tmp.<this host>.<pid>.<hex>", or 0 when `file` is not exactly such a name.
pid_t writer_pid(std::string_view file, std::string_view name) {
  const std::string prefix = std::string(name) + ".tmp." + host_name() + ".";
  if (file.size() <= prefix.size() || file.substr(0, prefix.size()) != prefix) return 0;
  const std::string_view rest = file.substr(prefix.size());
  const std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return 0;
  const std::string_view pid_text = rest.substr(0, dot), nonce = rest.substr(dot + 1);
  if (!all_digits(pid_text, false) || !all_digits(nonce, true) || pid_text.size() > 9) return 0;
  pid_t pid = 0;
  std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
  return pid;
}

// Removes the temporary files of `path` whose writers are gone. Best effort: a folder that
// cannot be listed, or a file that vanished meanwhile, is left alone.
void remove_stale_temporaries(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  std::error_code error;
  for (std::filesystem::directory_iterator it(folder_of(path), error), end; !error && it != end;
       it.increment(error)) {
    const pid_t pid = writer_pid(it->path().filename().string(), name);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(pid, 0) != 0 && errno == ESRCH) std::filesystem::remove(it->path(), error);
  }
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(const std::filesystem::path& path) : path_(path) {
  char nonce[17];
  std::snprintf(nonce, sizeof(nonce), "%016llx",
                static_cast<unsigned long long>(temporary_counter.fetch_add(1)));
  temporary_ = path;
  temporary_ += ".tmp." + host_name() + "." + std::to_string(::getpid()) + "." + nonce;
  // O_EXCL: never write into a file someone else is writing.
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("create", temporary_);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temporary_.c_str());
  }
}

void AtomicFileWriter::fail(const char* call, const std::filesystem::path& file) const {
  const int error = errno;
  throw Error(ErrorCode::Io, std::string("cannot ") + call + " '" + file.string() + "' (writing '" +
                                 path_.string() + "'): " + std::strerror(error));
}

void AtomicFileWriter::write(const void* data, std::size_t size) {
  write_at(end_, data, size);
  end_ += size;
}

void AtomicFileWriter::write_at(std::uint64_t offset, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::pwrite(fd_, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write", temporary_);
    if (n == 0) {
      errno = ENOSPC;
      fail("write", temporary_);
    }
    p += n;
    offset += static_cast<std::uint64_t>(n);
    size -= static_cast<std::size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  if (::fsync(fd_) != 0) fail("flush", temporary_);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temporary_.c_str());
    errno = error;
    fail("close", temporary_);
  }
  if (::rename(temporary_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary_.c_str());
    errno = error;
    fail("rename a temporary file onto", path_);
  }
  // The rename is durable only once the folder's entry is.
  const std::filesystem::path folder = folder_of(path_);
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) fail("open the folder", folder);
  const int rc = ::fsync(dir);
  const int error = errno;
  ::close(dir);
  errno = error;
  if (rc != 0) fail("flush the folder", folder);
  remove_stale_temporaries(path_);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFileWriter file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace nowrec::common
