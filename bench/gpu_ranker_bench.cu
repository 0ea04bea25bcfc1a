// CudaRanker's time per call on a random catalog (fp32 and bf16 storage, batch and k as given),
// and the GPU's read bandwidth measured by a plain read kernel in the same run, as JSON lines
// for bench/gpu_check.sh.
//
// Usage: gpu_ranker_bench [--rows 1000000] [--dim 384] [--seconds 0.5]
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "nowrec/cuda_ranker.hpp"
#include "nowrec/item_index.hpp"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "gpu_ranker_bench: %s\n", why.c_str());
  std::exit(2);
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) fail(std::string(what) + ": " + cudaGetErrorString(status));
}

// Sums its input so the reads cannot be dropped; writes only when the sum hits a value that
// random data never produces.
__global__ void read_kernel(const float4* data, std::size_t count, float* sink) {
  float sum = 0.0f;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < count;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const float4 v = __ldg(data + i);
    sum += v.x + v.y + v.z + v.w;
  }
  if (sum == 1234.5678f) *sink = sum;
}

// GB/s of the read kernel over a 4 GiB buffer: the peak a scan can reach.
double read_bandwidth() {
  const std::size_t bytes = std::size_t(4) << 30, count = bytes / sizeof(float4);
  float4* data = nullptr;
  float* sink = nullptr;
  check(cudaMalloc(&data, bytes), "cudaMalloc(probe)");
  check(cudaMalloc(&sink, sizeof(float)), "cudaMalloc(sink)");
  check(cudaMemset(data, 0, bytes), "cudaMemset(probe)");
  int sms = 0;
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0), "sm count");
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  read_kernel<<<sms * 8, 512>>>(data, count, sink);
  check(cudaEventRecord(start), "cudaEventRecord");
  const int reps = 10;
  for (int i = 0; i < reps; ++i) read_kernel<<<sms * 8, 512>>>(data, count, sink);
  check(cudaEventRecord(stop), "cudaEventRecord");
  check(cudaEventSynchronize(stop), "cudaEventSynchronize");
  float ms = 0.0f;
  check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  cudaFree(data);
  cudaFree(sink);
  return double(bytes) * reps / (ms * 1e-3) / 1e9;
}

struct Catalog {
  std::vector<std::int64_t> ids;
  std::vector<float> vectors;
};

// Random unit vectors from a xorshift generator: the timing does not depend on the values, and
// mt19937 would spend seconds on 384 million of them.
std::vector<float> unit_vectors(std::size_t count, std::size_t dim, std::uint64_t seed) {
  std::vector<float> values(count * dim);
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& x : values) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    x = float(state >> 40) / float(1 << 24) - 0.5f;
  }
  for (std::size_t r = 0; r < count; ++r) {
    float* row = values.data() + r * dim;
    double norm = 0.0;
    for (std::size_t j = 0; j < dim; ++j) norm += double(row[j]) * row[j];
    const float inverse = float(1.0 / std::sqrt(norm));
    for (std::size_t j = 0; j < dim; ++j) row[j] *= inverse;
  }
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t rows = 1'000'000, dim = 384;
  double seconds = 0.5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows")
      rows = std::stoul(argv[i + 1]);
    else if (flag == "--dim")
      dim = std::stoul(argv[i + 1]);
    else if (flag == "--seconds")
      seconds = std::stod(argv[i + 1]);
    else
      fail("unknown flag " + flag);
  }
  const double bandwidth = read_bandwidth();
  std::printf("{\"section\":\"ranker\",\"impl\":\"read_kernel\",\"gb_per_s\":%.1f}\n", bandwidth);

  Catalog catalog;
  catalog.ids.resize(rows);
  std::iota(catalog.ids.begin(), catalog.ids.end(), std::int64_t(0));
  catalog.vectors = unit_vectors(rows, dim, 1);
  const std::vector<float> queries = unit_vectors(64, dim, 2);

  for (const auto storage : {nowrec::StorageType::F32, nowrec::StorageType::BF16}) {
    const char* name = storage == nowrec::StorageType::F32 ? "f32" : "bf16";
    const double row_bytes = double(dim) * (storage == nowrec::StorageType::F32 ? 4 : 2);
    nowrec::ItemIndex index(dim, {.storage = storage});
    index.add(catalog.ids, catalog.vectors);
    const auto upload_start = Clock::now();
    const nowrec::CudaRanker ranker(index);
    const double upload_s = std::chrono::duration<double>(Clock::now() - upload_start).count();
    for (const std::size_t batch : {1u, 64u}) {
      std::vector<nowrec::RankRequest> requests(batch);
      for (std::size_t q = 0; q < batch; ++q) {
        requests[q].query = std::span<const float>(queries.data() + q * dim, dim);
      }
      for (const std::size_t k : {10u, 100u}) {
        const nowrec::RankOptions options{.k = k};
        std::vector<nowrec::ScoredItem> results(batch * k);
        std::vector<std::size_t> counts(batch);
        for (int warm = 0; warm < 3; ++warm) ranker.rank(requests, options, results, counts);
        std::size_t calls = 0;
        const auto start = Clock::now();
        double elapsed = 0.0;
        while (calls < 20 || elapsed < seconds) {
          ranker.rank(requests, options, results, counts);
          ++calls;
          elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        }
        const double ms = elapsed / double(calls) * 1e3;
        // Batch 1 reads the catalog once: its scan rate against the read kernel's.
        const double scan_gb_s = double(rows) * row_bytes / (ms * 1e-3) / 1e9;
        std::printf(
            "{\"section\":\"ranker\",\"impl\":\"nowrec_%s\",\"rows\":%zu,\"dim\":%zu,\"batch\":%zu,"
            "\"k\":%zu,\"ms\":%.4f,\"queries_per_s\":%.0f,\"scan_gb_per_s\":%.1f,"
            "\"read_fraction\":%.3f,\"upload_s\":%.2f}\n",
            name, rows, dim, batch, k, ms, double(batch) / (ms * 1e-3), scan_gb_s,
            scan_gb_s / bandwidth, upload_s);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
