// Progress: items done, percentage and rate, on stderr.
#include "cli/progress.hpp"

#include <unistd.h>
#include <cstdio>
#include <string>

namespace nowrec::cli {

Progress::Progress(std::size_t total) : total_(total), terminal_(::isatty(2) != 0) {}

void Progress::update(std::size_t done) {
  const double seconds = elapsed();
  const double rate = seconds > 0 ? double(done) / seconds : 0.0;
  const int percent = total_ == 0 ? 100 : int(100 * done / total_);
  if (!terminal_ && percent / 10 == last_tenth_ && done != total_) return;
  last_tenth_ = percent / 10;
  constexpr int kWidth = 30;
  const int filled = kWidth * percent / 100;
  std::fprintf(stderr, "%s[%s%s] %3d%% %zu/%zu items, %.0f items/s%s", terminal_ ? "\r" : "",
               std::string(filled, '#').c_str(), std::string(kWidth - filled, ' ').c_str(), percent,
               done, total_, rate, terminal_ ? "" : "\n");
  if (terminal_ && done == total_) std::fputc('\n', stderr);
}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

}  // namespace nowrec::cli
