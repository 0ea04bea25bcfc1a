// A progress line on stderr for long embedding runs (`nowrec index`, `nowrec catalog`).
#pragma once

#include <chrono>
#include <cstddef>

namespace nowrec::cli {

// One line on stderr, redrawn in place on a terminal and printed every tenth of the way
// otherwise, so logs of long runs stay short.
class Progress {
 public:
  explicit Progress(std::size_t total);
  void update(std::size_t done);
  double elapsed() const;

 private:
  std::size_t total_;
  bool terminal_;
  int last_tenth_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace nowrec::cli
