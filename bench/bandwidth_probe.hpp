// This machine's memory read bandwidth, for the benchmarks that state how close they come to it:
// a streaming read of a buffer far larger than the caches, on the given threads. The machine may
// be shared, so a benchmark probes again right before the runs it compares.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace nowrec::bench {

class BandwidthProbe {
 public:
  BandwidthProbe() : buffer_(static_cast<__m256i*>(std::aligned_alloc(64, kBytes))) {
    std::memset(static_cast<void*>(buffer_), 1, kBytes);
  }
  ~BandwidthProbe() { std::free(buffer_); }
  BandwidthProbe(const BandwidthProbe&) = delete;
  BandwidthProbe& operator=(const BandwidthProbe&) = delete;

  // GB/s of each of `passes` passes, sorted.
  std::vector<double> measure(int threads, int passes) {
    std::vector<double> rates;
    for (int pass = 0; pass < passes; ++pass) {
      const auto start = std::chrono::steady_clock::now();
      std::vector<long long> sums(threads);
      std::vector<std::thread> workers;
      const std::size_t words = kBytes / sizeof(__m256i);
      for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
          sums[t] = read_range(words * t / threads, words * (t + 1) / threads);
        });
      }
      for (auto& worker : workers) worker.join();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      for (long long sum : sums) sink_ += sum;
      rates.push_back(double(kBytes) / seconds / 1e9);
    }
    std::sort(rates.begin(), rates.end());
    return rates;
  }
  // Using the sum keeps the reads from being optimised away.
  long long sink() const { return sink_; }

 private:
  static constexpr std::size_t kBytes = std::size_t(1) << 30;

  __attribute__((target("avx2"))) long long read_range(std::size_t begin, std::size_t end) const {
    const __m256i* buffer = buffer_;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (std::size_t i = begin; i + 4 <= end; i += 4) {
      a0 = _mm256_add_epi64(a0, _mm256_load_si256(buffer + i));
      a1 = _mm256_add_epi64(a1, _mm256_load_si256(buffer + i + 1));
      a2 = _mm256_add_epi64(a2, _mm256_load_si256(buffer + i + 2));
      a3 = _mm256_add_epi64(a3, _mm256_load_si256(buffer + i + 3));
    }
    const __m256i sum = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    return _mm256_extract_epi64(sum, 0) + _mm256_extract_epi64(sum, 3);
  }

  __m256i* buffer_;
  long long sink_ = 0;
};

}  // namespace nowrec::bench
