// Ranker speed on a raw float32 catalog file, per storage type, batch and k, plus this machine's
// memory read bandwidth; prints one JSON document (bench/run_ranker_bench.sh runs it beside
// Faiss IndexFlatIP, bench/ranker_peer.py, on the same vectors).
#include <fcntl.h>
#include <immintrin.h>
#include <omp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bandwidth_probe.hpp"
#include "nowrec/cpu_isa.hpp"
#include "nowrec/ranker.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::size_t> parse_list(const char* text) {
  std::vector<std::size_t> values;
  for (const char* p = text; *p != '\0';) {
    char* end = nullptr;
    values.push_back(std::strtoull(p, &end, 10));
    p = *end == ',' ? end + 1 : end;
  }
  return values;
}

struct MappedFloats {
  const float* data = nullptr;
  std::size_t count = 0;
};

MappedFloats map_floats(const char* path) {
  const int fd = ::open(path, O_RDONLY);
  if (fd < 0) {
    std::perror(path);
    std::exit(1);
  }
  struct stat st {};
  ::fstat(fd, &st);
  void* data = ::mmap(nullptr, std::size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  return {static_cast<const float*>(data), std::size_t(st.st_size) / sizeof(float)};
}

const char* storage_name(nowrec::StorageType storage) {
  return storage == nowrec::StorageType::F32    ? "f32"
         : storage == nowrec::StorageType::BF16 ? "bf16"
                                                : "int8";
}

// "f32,int8" -> those storage types; exits on an unknown name.
std::vector<nowrec::StorageType> parse_storages(const char* text) {
  std::vector<nowrec::StorageType> storages;
  const std::string list = text;
  for (std::size_t begin = 0; begin <= list.size();) {
    const std::size_t end = std::min(list.find(',', begin), list.size());
    const std::string name = list.substr(begin, end - begin);
    bool known = false;
    for (auto storage :
         {nowrec::StorageType::F32, nowrec::StorageType::BF16, nowrec::StorageType::Int8}) {
      if (name == storage_name(storage)) {
        storages.push_back(storage);
        known = true;
      }
    }
    if (!known) {
      std::fprintf(stderr, "unknown storage '%s' (f32, bf16 or int8)\n", name.c_str());
      std::exit(2);
    }
    begin = end + 1;
  }
  return storages;
}

}  // namespace

int main(int argc, char** argv) {
  const char* catalog_path = nullptr;
  const char* queries_path = nullptr;
  std::size_t dim = 384;
  std::vector<std::size_t> sizes = {100000, 1000000}, batches = {1, 64}, ks = {10, 100};
  int threads = 2;
  double min_seconds = 1.0;
  std::size_t matmul_min_queries = nowrec::RankOptions{}.matmul_min_queries;
  std::vector<nowrec::StorageType> storages = {nowrec::StorageType::F32, nowrec::StorageType::BF16,
                                               nowrec::StorageType::Int8};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--catalog")
      catalog_path = argv[i + 1];
    else if (flag == "--queries")
      queries_path = argv[i + 1];
    else if (flag == "--dim")
      dim = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--sizes")
      sizes = parse_list(argv[i + 1]);
    else if (flag == "--batches")
      batches = parse_list(argv[i + 1]);
    else if (flag == "--ks")
      ks = parse_list(argv[i + 1]);
    else if (flag == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (flag == "--min-seconds")
      min_seconds = std::atof(argv[i + 1]);
    else if (flag == "--matmul-min-queries")
      matmul_min_queries = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--storages")
      storages = parse_storages(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  if (catalog_path == nullptr || queries_path == nullptr) {
    std::fprintf(
        stderr,
        "usage: ranker_bench --catalog F32FILE --queries F32FILE [--dim 384] "
        "[--sizes 100000,1000000] [--batches 1,64] [--ks 10,100] [--threads 2] "
        "[--min-seconds 1] [--matmul-min-queries 0 (by storage)] [--storages f32,bf16,int8]\n");
    return 2;
  }
  const MappedFloats catalog = map_floats(catalog_path);
  const MappedFloats queries = map_floats(queries_path);
  const std::size_t catalog_rows = catalog.count / dim;
  const std::size_t query_rows = queries.count / dim;
  nowrec::bench::BandwidthProbe probe;
  const double bandwidth = probe.measure(threads, 5).back();

  // The crossover each storage gets (matmul_min_queries, or where it is 0 this CPU's default).
  const nowrec::RankOptions crossover{.matmul_min_queries = matmul_min_queries};
  std::printf(
      "{\"implementation\": \"nowrec\", \"isa\": \"%s\", \"threads\": %d, \"dim\": %zu, "
      "\"matmul_min_queries\": %zu, \"matmul_from\": {\"f32\": %zu, \"bf16\": %zu, "
      "\"int8\": %zu}, \"read_bandwidth_gbs\": %.2f, \"runs\": [\n",
      std::string(nowrec::active_cpu_kernels()).c_str(), threads, dim, matmul_min_queries,
      crossover.matmul_min_queries_for(nowrec::StorageType::F32),
      crossover.matmul_min_queries_for(nowrec::StorageType::BF16),
      crossover.matmul_min_queries_for(nowrec::StorageType::Int8), bandwidth);
  bool first_run = true;
  for (std::size_t n : sizes) {
    n = std::min(n, catalog_rows);
    std::vector<std::int64_t> ids(n);
    for (std::size_t i = 0; i < n; ++i) ids[i] = std::int64_t(i);
    for (nowrec::StorageType storage : storages) {
      nowrec::ItemIndex index(dim, {.storage = storage});
      index.add(ids, std::span(catalog.data, n * dim));
      const nowrec::Ranker ranker(index);
      const double bytes_per_row = double(dim) * (storage == nowrec::StorageType::F32    ? 4
                                                  : storage == nowrec::StorageType::BF16 ? 2
                                                                                         : 1) +
                                   (storage == nowrec::StorageType::Int8 ? 4 : 0);
      for (std::size_t batch : batches) {
        batch = std::min(batch, query_rows);
        std::vector<nowrec::RankRequest> requests(batch);
        for (std::size_t q = 0; q < batch; ++q) {
          requests[q].query = std::span(queries.data + q * dim, dim);
        }
        for (std::size_t k : ks) {
          std::vector<nowrec::ScoredItem> results(batch * k);
          std::vector<std::size_t> counts(batch);
          const nowrec::RankOptions options{
              .k = k, .threads = threads, .matmul_min_queries = matmul_min_queries};
          ranker.rank(requests, options, results, counts);  // warm-up
          double probe_gbs = 0.0;
          if (batch == 1) probe_gbs = probe.measure(threads, 3)[1];
          std::vector<double> times;
          const auto begin = Clock::now();
          while (times.size() < 3 ||
                 std::chrono::duration<double>(Clock::now() - begin).count() < min_seconds) {
            const auto start = Clock::now();
            ranker.rank(requests, options, results, counts);
            times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
            if (times.size() >= 200) break;
          }
          std::sort(times.begin(), times.end());
          const double median = times[times.size() / 2];
          const double scan_gbs = double(n) * bytes_per_row / median / 1e9;
          std::printf(
              "%s  {\"n\": %zu, \"storage\": \"%s\", \"batch\": %zu, \"k\": %zu, "
              "\"seconds\": %.6f, \"queries_per_s\": %.1f, \"scan_gbs\": %.2f, "
              "\"probe_gbs\": %.2f, "
              "\"first_ids\": [%lld, %lld, %lld]}",
              first_run ? "" : ",\n", n, storage_name(storage), batch, k, median,
              double(batch) / median, scan_gbs, probe_gbs, (long long)results[0].id,
              (long long)results[1].id, (long long)results[2].id);
          first_run = false;
          std::fflush(stdout);
        }
      }
    }
  }
  std::printf("\n]}\n");
  // Using the probe's sum keeps its reads from being optimised away; it is never 42.
  return probe.sink() == 42 ? 1 : 0;
}
