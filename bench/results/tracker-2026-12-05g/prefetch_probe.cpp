// What software prefetches can move on this machine: blocks of B cache lines at random places in
// 4 GB (2 MB pages), each block's lines prefetched a few blocks ahead and then read, on 1 and 2
// threads; against reading without prefetches and prefetching only a block's first lines.
//   g++ -O2 -march=native -pthread prefetch_probe.cpp -o prefetch_probe && ./prefetch_probe
#include <sys/mman.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kBytes = std::size_t(4) << 30;
constexpr std::size_t kLine = 64;
constexpr std::size_t kSlot = 128 * kLine;  // blocks start on 8 KB boundaries

struct Variant {
  const char* name;
  int prefetched_lines;  // -1: all of the block's
  int hint;              // 3: L1 (prefetcht0), 2: L2 (prefetcht1), 1: prefetcht2
  int ahead;             // blocks
};

template <int Hint>
double gb_per_s(const char* buffer, int block_lines, int prefetched, int ahead, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, kBytes / kSlot - 1);
  std::vector<std::size_t> blocks(100000);
  for (std::size_t& b : blocks) b = pick(rng) * kSlot;
  long sum = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    if (k + ahead < blocks.size()) {
      for (int l = 0; l < prefetched; ++l) __builtin_prefetch(buffer + blocks[k + ahead] + l * kLine, 0, Hint);
    }
    for (int l = 0; l < block_lines; ++l) sum += buffer[blocks[k] + l * kLine + 8];
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (sum == 42) std::puts("");
  return double(blocks.size()) * block_lines * kLine / seconds / 1e9;
}

double run(const char* buffer, int block_lines, const Variant& v, unsigned seed) {
  const int prefetched = v.prefetched_lines < 0 ? block_lines : v.prefetched_lines;
  switch (v.hint) {
    case 3: return gb_per_s<3>(buffer, block_lines, prefetched, v.ahead, seed);
    case 2: return gb_per_s<2>(buffer, block_lines, prefetched, v.ahead, seed);
    default: return gb_per_s<1>(buffer, block_lines, prefetched, v.ahead, seed);
  }
}

}  // namespace

int main() {
  auto* buffer = static_cast<char*>(std::aligned_alloc(std::size_t(1) << 21, kBytes));
  madvise(buffer, kBytes, MADV_HUGEPAGE);
  for (std::size_t i = 0; i < kBytes; i += 4096) buffer[i] = 1;
  const Variant variants[] = {{"no prefetch", 0, 3, 1},          {"all, L1, 1 ahead", -1, 3, 1},
                              {"all, L1, 2 ahead", -1, 3, 2},    {"all, L2, 2 ahead", -1, 2, 2},
                              {"all, prefetcht2, 2 ahead", -1, 1, 2}, {"first 4, L2, 2 ahead", 4, 2, 2},
                              {"first 2, L2, 2 ahead", 2, 2, 2}, {"all, L2, 4 ahead", -1, 2, 4}};
  // A first pass that is not reported, so that the first variant does not pay for the warm-up.
  run(buffer, 24, variants[1], 99);
  for (int threads : {1, 2}) {
    for (int block_lines : {24, 100}) {
      for (const Variant& v : variants) {
        std::vector<double> rates(threads);
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
          workers.emplace_back([&, t] { rates[t] = run(buffer, block_lines, v, 7 + t); });
        }
        for (std::thread& w : workers) w.join();
        double total = 0;
        for (double r : rates) total += r;
        std::printf("threads %d, blocks of %3d lines, %-26s %.2f GB/s\n", threads, block_lines,
                    v.name, total);
      }
    }
  }
  std::free(buffer);
}
