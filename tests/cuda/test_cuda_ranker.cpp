// CudaRanker against the CPU Ranker: a clean "no CUDA device" without a GPU; with one, fp32
// ids and order equal to the Ranker's on both device paths, bf16 recall, filters and refresh.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "nowrec/cuda_ranker.hpp"
#include "nowrec/device.hpp"
#include "nowrec/error.hpp"
#include "nowrec/ranker.hpp"
#include "ranker/reference.hpp"

using nowrec::test::random_catalog;
using nowrec::test::random_vector;

namespace {

const bool has_gpu = nowrec::cuda_device_count() > 0;

void check_same(const std::vector<nowrec::ScoredItem>& got,
                const std::vector<nowrec::ScoredItem>& expected, std::size_t first = 0) {
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    REQUIRE(first + i < got.size());
    CHECK(got[first + i].id == expected[i].id);
    CHECK(got[first + i].score == doctest::Approx(expected[i].score).epsilon(1e-4));
  }
}

// Ranks `requests` on the GPU in one call and requires every answer to equal the Ranker's, id,
// order and score, bit for bit.
void require_ranker_answers(const nowrec::CudaRanker& gpu, const nowrec::Ranker& cpu,
                            std::span<const nowrec::RankRequest> requests,
                            const nowrec::RankOptions& options) {
  const std::size_t k = options.k;
  std::vector<nowrec::ScoredItem> results(requests.size() * k);
  std::vector<std::size_t> counts(requests.size());
  gpu.rank(requests, options, results, counts);
  for (std::size_t q = 0; q < requests.size(); ++q) {
    CAPTURE(q);
    REQUIRE(counts[q] == k);
    const auto expected = cpu.rank(requests[q], options);
    for (std::size_t i = 0; i < k; ++i) {
      CAPTURE(i);
      REQUIRE(results[q * k + i] == expected[i]);
    }
  }
}

// Items around a few hundred centres, as real embeddings cluster; queries near items.
nowrec::test::Catalog clustered_catalog(std::mt19937& rng, std::size_t n, std::size_t dim) {
  auto catalog = random_catalog(rng, n, dim);
  const auto centres = random_catalog(rng, 300, dim);
  std::normal_distribution<float> noise(0.0f, 0.5f);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = rng() % 300;
    for (std::size_t j = 0; j < dim; ++j) {
      catalog.vectors[i * dim + j] = centres.vectors[c * dim + j] + noise(rng);
    }
  }
  return catalog;
}

}  // namespace

TEST_CASE("without a usable GPU, CudaRanker fails with a clear error" * doctest::skip(has_gpu)) {
  nowrec::ItemIndex index(4);
  const std::vector<std::int64_t> ids{1};
  const std::vector<float> vectors{1.0f, 0.0f, 0.0f, 0.0f};
  index.add(ids, vectors);
  try {
    const nowrec::CudaRanker ranker(index);
    FAIL("CudaRanker was built without a GPU");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == nowrec::ErrorCode::DeviceUnavailable);
    CHECK(std::string(error.what()).find("no CUDA device") != std::string::npos);
  }
}

// Small integers make every inner product exact in fp32 (and bf16) whatever the summation
// order, so the CPU, the fused kernel and cuBLASLt must agree bit for bit, ties included: a
// difference can only come from the selection.
TEST_CASE("CudaRanker ids, order and scores equal the Ranker's exactly" * doctest::skip(!has_gpu)) {
  std::mt19937 rng(21);
  std::uniform_int_distribution<int> small(-4, 4);
  for (const auto storage : {nowrec::StorageType::F32, nowrec::StorageType::BF16}) {
    for (const std::size_t dim : {37u, 384u}) {
      for (const std::size_t rows : {3000u, 50000u}) {
        CAPTURE(static_cast<int>(storage));
        CAPTURE(dim);
        CAPTURE(rows);
        auto catalog = random_catalog(rng, rows, dim);
        for (float& x : catalog.vectors) x = float(small(rng));
        nowrec::ItemIndex index(dim, {.storage = storage});
        index.add(catalog.ids, catalog.vectors);
        const nowrec::Ranker cpu(index);
        const nowrec::CudaRanker gpu(index);
        CHECK(gpu.device_rows() == rows);
        std::vector<std::vector<float>> queries(40, std::vector<float>(dim));
        for (auto& query : queries) {
          for (float& x : query) x = float(small(rng));
        }
        std::vector<nowrec::RankRequest> requests(queries.size());
        for (std::size_t q = 0; q < queries.size(); ++q) requests[q].query = queries[q];
        for (const std::size_t k : {1u, 10u, 100u, 1000u}) {
          // Batch 1 and 3 take the fused path, 40 the cuBLASLt one.
          for (const std::size_t batch : {1u, 3u, 40u}) {
            CAPTURE(k);
            CAPTURE(batch);
            require_ranker_answers(gpu, cpu, std::span(requests).first(batch), {.k = k});
          }
        }
      }
    }
  }
}

// Integer vectors and priors with weights of a few bits keep every score exact, so the priors'
// terms must give the Ranker's answer bit for bit, on both device paths.
TEST_CASE("CudaRanker adds item priors exactly as the Ranker does" * doctest::skip(!has_gpu)) {
  std::mt19937 rng(29);
  std::uniform_int_distribution<int> small(-4, 4);
  const std::size_t dim = 64, rows = 20000;
  for (const auto storage : {nowrec::StorageType::F32, nowrec::StorageType::BF16}) {
    CAPTURE(static_cast<int>(storage));
    auto catalog = random_catalog(rng, rows, dim);
    for (float& x : catalog.vectors) x = float(small(rng));
    nowrec::ItemIndex index(dim, {.storage = storage});
    index.add(catalog.ids, catalog.vectors);
    std::vector<float> priors(rows);
    for (float& p : priors) p = float(small(rng) * 4);
    index.set_priors(catalog.ids, priors);
    const nowrec::Ranker cpu(index);
    const nowrec::CudaRanker gpu(index);
    std::vector<std::vector<float>> queries(40, std::vector<float>(dim));
    for (auto& query : queries) {
      for (float& x : query) x = float(small(rng));
    }
    const float weights[] = {0.5f, -2.0f, 0.0f, 8.0f};
    std::vector<nowrec::RankRequest> requests(queries.size());
    for (std::size_t q = 0; q < queries.size(); ++q) {
      requests[q].query = queries[q];
      requests[q].prior_weight = weights[q % 4];
    }
    for (const std::size_t batch : {1u, 3u, 40u}) {  // fused, fused, cuBLASLt
      CAPTURE(batch);
      require_ranker_answers(gpu, cpu, std::span(requests).first(batch), {.k = 50});
    }
    // Without priors in the index, a prior weight changes nothing.
    nowrec::ItemIndex plain(dim, {.storage = storage});
    plain.add(catalog.ids, catalog.vectors);
    const nowrec::CudaRanker plain_gpu(plain);
    CHECK(plain_gpu.rank(requests[1], {.k = 10}) ==
          nowrec::Ranker(plain).rank(requests[1], {.k = 10}));
  }
}

// The matmul path admits each chunk's rows by a threshold from the first chunk. Integer vectors
// keep every score exact, so its answer must be the Ranker's bit for bit when that threshold
// admits every row (all scores tied: each block falls back to all of its entries), when the
// best rows lie past the first chunk (a low threshold), and when they lie in it (a high one).
TEST_CASE("CudaRanker's admission threshold keeps the Ranker's answer" * doctest::skip(!has_gpu)) {
  std::mt19937 rng(31);
  std::uniform_int_distribution<int> small(-2, 2);
  // 64 queries x 40 chunks = 2,560 select blocks: past the two waves from which the matmul
  // path admits (2 x 132 multiprocessors x 4 blocks on an H100 or H200).
  const std::size_t dim = 16, rows = 160000;
  for (const int trend : {0, 1, -1}) {
    CAPTURE(trend);
    auto catalog = random_catalog(rng, rows, dim);
    // Device rows are in id order: sorted ids make catalog row r device row r.
    std::sort(catalog.ids.begin(), catalog.ids.end());
    for (std::size_t r = 0; r < rows; ++r) {
      float* v = catalog.vectors.data() + r * dim;
      v[0] = float(trend * int(r / 7));
      for (std::size_t j = 1; j < dim; ++j) v[j] = trend == 0 ? 1.0f : float(small(rng));
    }
    nowrec::ItemIndex index(dim);
    index.add(catalog.ids, catalog.vectors);
    const nowrec::Ranker cpu(index);
    const nowrec::CudaRanker gpu(index);
    std::vector<std::vector<float>> queries(64, std::vector<float>(dim));
    for (auto& query : queries) {
      query[0] = 1.0f;
      for (std::size_t j = 1; j < dim; ++j) query[j] = float(small(rng));
    }
    std::vector<nowrec::RankRequest> requests(queries.size());
    for (std::size_t q = 0; q < queries.size(); ++q) requests[q].query = queries[q];
    for (const std::size_t k : {1u, 10u, 100u, 1000u}) {
      CAPTURE(k);
      require_ranker_answers(gpu, cpu, requests, {.k = k, .matmul_min_queries = 16});
    }
  }
}

// Gaussian vectors: summation orders differ in the last bits, so only near-ties may swap.
TEST_CASE("CudaRanker fp32 on Gaussian vectors matches the Ranker up to near-ties" *
          doctest::skip(!has_gpu)) {
  std::mt19937 rng(25);
  const std::size_t dim = 384, rows = 50000;
  const auto catalog = random_catalog(rng, rows, dim);
  nowrec::ItemIndex index(dim);
  index.add(catalog.ids, catalog.vectors);
  const nowrec::Ranker cpu(index);
  const nowrec::CudaRanker gpu(index);
  const auto [queries, requests] = nowrec::test::random_queries(rng, 32, dim);
  for (const std::size_t min_queries : {1000u, 16u}) {
    CAPTURE(min_queries);
    const nowrec::RankOptions options{.k = 100, .matmul_min_queries = min_queries};
    std::vector<nowrec::ScoredItem> results(requests.size() * 100);
    std::vector<std::size_t> counts(requests.size());
    gpu.rank(requests, options, results, counts);
    for (std::size_t q = 0; q < requests.size(); ++q) {
      const auto expected = cpu.top_k(queries[q], 100);
      for (std::size_t i = 0; i < 100; ++i) {
        const nowrec::ScoredItem& got = results[q * 100 + i];
        CHECK(got.score == doctest::Approx(expected[i].score).epsilon(1e-5));
        if (got.id != expected[i].id) {
          CHECK(std::abs(got.score - expected[i].score) <= 1e-4f * std::abs(expected[i].score));
        }
      }
    }
  }
}

TEST_CASE("CudaRanker skips unavailable, removed and excluded items; refresh sees writes" *
          doctest::skip(!has_gpu)) {
  std::mt19937 rng(22);
  const std::size_t dim = 64;
  const auto catalog = random_catalog(rng, 20000, dim);
  std::vector<nowrec::ItemAttributes> attributes(catalog.ids.size());
  for (std::size_t i = 0; i < attributes.size(); i += 5) attributes[i].available = false;
  nowrec::ItemIndex index(dim);
  index.add(catalog.ids, catalog.vectors, attributes);
  index.remove(std::vector<std::int64_t>{catalog.ids[1], catalog.ids[3]});
  const nowrec::Ranker cpu(index);
  nowrec::CudaRanker gpu(index);
  const auto query = random_vector(rng, dim);
  nowrec::RankRequest request;
  request.query = query;
  const auto unfiltered = cpu.top_k(query, 50);
  std::vector<std::int64_t> exclude;
  for (std::size_t i = 0; i < 50; i += 2) exclude.push_back(unfiltered[i].id);
  request.exclude = exclude;
  for (const std::size_t min_queries : {1u, 16u}) {
    const nowrec::RankOptions options{.k = 30, .matmul_min_queries = min_queries};
    check_same(gpu.rank(request, options), cpu.rank(request, options));
  }

  const auto extra = random_catalog(rng, 100, dim, 5'000'000);
  index.add(extra.ids, extra.vectors);
  const auto before = gpu.top_k(query, 10);
  gpu.refresh();
  CHECK(gpu.size() == index.size());
  check_same(gpu.top_k(query, 10), cpu.top_k(query, 10));
  CHECK(before.size() == 10);
}

TEST_CASE("CudaRanker bf16 recall@10 is at least 0.99 on both paths" * doctest::skip(!has_gpu)) {
  std::mt19937 rng(23);
  const std::size_t dim = 384, rows = 60000;
  const auto catalog = clustered_catalog(rng, rows, dim);
  nowrec::ItemIndex exact(dim);
  exact.add(catalog.ids, catalog.vectors);
  nowrec::ItemIndex half(dim, {.storage = nowrec::StorageType::BF16});
  half.add(catalog.ids, catalog.vectors);
  const nowrec::Ranker cpu(exact);
  const nowrec::CudaRanker gpu(half);
  CHECK(gpu.storage() == nowrec::StorageType::BF16);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::vector<std::vector<float>> queries;
  for (int q = 0; q < 64; ++q) {
    const std::size_t row = rng() % rows;
    std::vector<float> v(catalog.row(row).begin(), catalog.row(row).end());
    for (float& x : v) x += noise(rng);
    queries.push_back(std::move(v));
  }
  std::vector<nowrec::RankRequest> requests(queries.size());
  for (std::size_t q = 0; q < queries.size(); ++q) requests[q].query = queries[q];
  for (const std::size_t min_queries : {1000u, 16u}) {
    CAPTURE(min_queries);
    const nowrec::RankOptions options{.k = 10, .matmul_min_queries = min_queries};
    std::vector<nowrec::ScoredItem> results(requests.size() * 10);
    std::vector<std::size_t> counts(requests.size());
    gpu.rank(requests, options, results, counts);
    double recall = 0.0;
    for (std::size_t q = 0; q < requests.size(); ++q) {
      const std::vector<nowrec::ScoredItem> got(results.begin() + q * 10,
                                                results.begin() + (q + 1) * 10);
      recall += nowrec::test::recall(got, cpu.top_k(queries[q], 10));
    }
    recall /= double(requests.size());
    MESSAGE("bf16 recall@10 " << recall);
    CHECK(recall >= 0.99);
  }
}

TEST_CASE("CudaRanker refuses bad requests before launching" * doctest::skip(!has_gpu)) {
  std::mt19937 rng(24);
  const auto catalog = random_catalog(rng, 100, 8);
  nowrec::ItemIndex index(8);
  index.add(catalog.ids, catalog.vectors);
  const nowrec::CudaRanker gpu(index);
  auto query = random_vector(rng, 8);
  const auto code_of = [](const std::function<void()>& call) {
    try {
      call();
    } catch (const nowrec::Error& error) {
      return error.code();
    }
    FAIL("no error thrown");
    return nowrec::ErrorCode::Internal;
  };
  using nowrec::ErrorCode;
  CHECK(code_of([&] { gpu.top_k(query, 0); }) == ErrorCode::InvalidArgument);
  CHECK(code_of([&] { gpu.top_k(query, 101); }) == ErrorCode::InvalidArgument);
  const std::vector<float> short_query(7, 1.0f);
  CHECK(code_of([&] { gpu.top_k(short_query, 5); }) == ErrorCode::InvalidArgument);
  query[3] = std::numeric_limits<float>::quiet_NaN();
  CHECK(code_of([&] { gpu.top_k(query, 5); }) == ErrorCode::InvalidArgument);
}

// 3,000 queries with k = 1,000 split into two groups, each scored in several matmul tiles.
TEST_CASE("CudaRanker large batches: groups and tiles give the Ranker's answer" *
          doctest::skip(!has_gpu)) {
  std::mt19937 rng(26);
  std::uniform_int_distribution<int> small(-4, 4);
  const std::size_t dim = 16, rows = 50000, batch = 3000, k = 1000;
  auto catalog = random_catalog(rng, rows, dim);
  for (float& x : catalog.vectors) x = float(small(rng));
  nowrec::ItemIndex index(dim);
  index.add(catalog.ids, catalog.vectors);
  const nowrec::Ranker cpu(index);
  const nowrec::CudaRanker gpu(index);
  std::vector<float> queries(batch * dim);
  for (float& x : queries) x = float(small(rng));
  std::vector<nowrec::RankRequest> requests(batch);
  for (std::size_t q = 0; q < batch; ++q) {
    requests[q].query = std::span<const float>(queries.data() + q * dim, dim);
  }
  const nowrec::RankOptions options{.k = k};
  std::vector<nowrec::ScoredItem> got(batch * k), expected(batch * k);
  std::vector<std::size_t> got_counts(batch), expected_counts(batch);
  gpu.rank(requests, options, got, got_counts);
  cpu.rank(requests, options, expected, expected_counts);
  CHECK(got_counts == expected_counts);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < got.size(); ++i) mismatches += got[i] == expected[i] ? 0 : 1;
  CHECK(mismatches == 0);
}

TEST_CASE("CudaRanker answers callers on several threads at once" * doctest::skip(!has_gpu)) {
  std::mt19937 rng(27);
  const auto catalog = random_catalog(rng, 20000, 32);
  nowrec::ItemIndex index(32);
  index.add(catalog.ids, catalog.vectors);
  const nowrec::Ranker cpu(index);
  const nowrec::CudaRanker gpu(index);
  std::vector<std::vector<float>> queries;
  for (int t = 0; t < 4; ++t) queries.push_back(random_vector(rng, 32));
  std::vector<std::vector<nowrec::ScoredItem>> answers(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 20; ++repeat) answers[t] = gpu.top_k(queries[t], 10);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (std::size_t t = 0; t < 4; ++t) check_same(answers[t], cpu.top_k(queries[t], 10));
}
