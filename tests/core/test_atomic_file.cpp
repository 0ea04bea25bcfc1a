// AtomicFileWriter: what a reader sees, and the temporary files of writers that died.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "common/atomic_file.hpp"
#include "nowrec/error.hpp"
#include "test_support.hpp"

namespace {

std::string contents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void touch(const std::filesystem::path& path) { std::ofstream(path) << "partial"; }

// A temporary name as AtomicFileWriter makes them on this host.
std::string temporary_name(const std::string& name, pid_t pid) {
  char buffer[256] = {};
  ::gethostname(buffer, sizeof(buffer) - 1);
  std::string host = buffer[0] != '\0' ? buffer : "host";
  for (char& c : host) {
    if (c == '/' || c == '.') c = '_';
  }
  return name + ".tmp." + host + "." + std::to_string(pid) + ".00000000000000a1";
}

// A pid that belonged to a process that has exited and been reaped.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) _exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

}  // namespace

TEST_CASE("a committed file replaces the old one whole; an abandoned one changes nothing") {
  nowrec::test::TempDir dir;
  const auto path = dir.path() / "state.bin";
  nowrec::common::write_file_atomically(path, "old contents");
  {
    nowrec::common::AtomicFileWriter file(path);
    file.write("new", 3);
    CHECK(contents(path) == "old contents");  // nothing is visible before commit()
  }
  CHECK(contents(path) == "old contents");
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                      std::filesystem::directory_iterator()) == 1);
  nowrec::common::AtomicFileWriter file(path);
  file.write("xxxx contents", 13);
  file.write_at(0, "new ", 4);
  file.commit();
  CHECK(contents(path) == "new  contents");
}

TEST_CASE("a commit sweeps the temporary files of dead writers and keeps those of live ones") {
  nowrec::test::TempDir dir;
  const auto path = dir.path() / "state.bin";
  const pid_t gone = dead_pid();
  const auto dead = dir.path() / temporary_name("state.bin", gone);
  const auto live = dir.path() / temporary_name("state.bin", ::getppid());
  const auto other_file = dir.path() / temporary_name("other.bin", gone);
  // Names of another host, or not exactly of the writer's form, are never touched.
  const auto other_host = dir.path() / ("state.bin.tmp.elsewhere." + std::to_string(gone) + ".00a1");
  const auto not_ours = dir.path() / (temporary_name("state.bin", gone) + ".bak");
  for (const auto& p : {dead, live, other_file, other_host, not_ours}) touch(p);
  nowrec::common::write_file_atomically(path, "fresh");
  CHECK_FALSE(std::filesystem::exists(dead));
  CHECK(std::filesystem::exists(live));
  CHECK(std::filesystem::exists(other_file));
  CHECK(std::filesystem::exists(other_host));
  CHECK(std::filesystem::exists(not_ours));
  CHECK(contents(path) == "fresh");
}

TEST_CASE("a writer into a missing folder fails with Io naming the file") {
  nowrec::test::TempDir dir;
  const auto path = dir.path() / "missing" / "state.bin";
  try {
    nowrec::common::AtomicFileWriter file(path);
    FAIL("no error");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == nowrec::ErrorCode::Io);
    CHECK(std::string(error.what()).find(path.string()) != std::string::npos);
  }
}
