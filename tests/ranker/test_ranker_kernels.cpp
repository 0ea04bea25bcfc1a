// Ranker scoring kernels: every ISA variant this CPU runs against the scalar reference.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string_view>
#include <vector>

#include "cpu/dispatch.hpp"
#include "nowrec/cpu_isa.hpp"
#include "ranker/snapshot.hpp"

namespace {

// Random query and row vectors (queries first), the rows also stored as bf16 and as int8 with
// their scales, and the queries quantized to int16 with theirs (for the int8 kernel).
struct KernelInputs {
  std::vector<float> queries, rows;
  std::vector<std::uint16_t> bf16;
  std::vector<std::int8_t> int8;
  std::vector<float> scales;
  std::vector<std::int16_t> int16_queries;
  std::vector<float> query_scales;
};

KernelInputs random_inputs(std::mt19937& rng, std::size_t queries, std::size_t rows,
                           std::size_t dim) {
  std::normal_distribution<float> dist;
  KernelInputs in{std::vector<float>(queries * dim),
                  std::vector<float>(rows * dim),
                  std::vector<std::uint16_t>(rows * dim),
                  std::vector<std::int8_t>(rows * dim),
                  std::vector<float>(rows),
                  std::vector<std::int16_t>(queries * dim),
                  std::vector<float>(queries)};
  for (float& v : in.queries) v = dist(rng);
  for (float& v : in.rows) v = dist(rng);
  for (std::size_t r = 0; r < rows; ++r) {
    nowrec::ranker::encode_row(nowrec::StorageType::BF16, in.rows.data() + r * dim, dim,
                               reinterpret_cast<std::byte*>(in.bf16.data() + r * dim), nullptr);
    nowrec::ranker::encode_row(nowrec::StorageType::Int8, in.rows.data() + r * dim, dim,
                               reinterpret_cast<std::byte*>(in.int8.data() + r * dim),
                               &in.scales[r]);
  }
  for (std::size_t q = 0; q < queries; ++q) {
    in.query_scales[q] = nowrec::ranker::quantize_to_int16(in.queries.data() + q * dim, dim,
                                                           in.int16_queries.data() + q * dim);
  }
  return in;
}

}  // namespace

// Each variant scores the queries of a call in groups against each row; a query's scores must
// be bit for bit those it gets alone, whatever the group and the tail of its dim.
TEST_CASE("score_rows gives each query the scores it gets alone") {
  std::mt19937 rng(22);
  // Dims that take the main loop, the vector tail and the scalar tail alone and together, for
  // 8 and 16 lanes: 45 = 32 + 8 + 5, 85 = 64 + 16 + 5, 127 = 64 + 3 x 16 + 15.
  for (std::size_t dim : {1u, 7u, 16u, 33u, 37u, 45u, 85u, 127u, 384u}) {
    const std::size_t rows = 11, max_queries = 9;
    const auto [q, x, bf16, int8, scales, q16, q_scales] =
        random_inputs(rng, max_queries, rows, dim);
    for (const nowrec::cpu::KernelTable* table : nowrec::cpu::runnable_kernel_tables()) {
      const auto& kernels = *table;
      // Queries from `first` on.
      const auto score = [&](std::size_t first, std::size_t count, int storage, float* out) {
        const float* queries = q.data() + first * dim;
        if (storage == 0) kernels.score_rows_f32(queries, count, x.data(), rows, dim, out);
        if (storage == 1) kernels.score_rows_bf16(queries, count, bf16.data(), rows, dim, out);
        if (storage == 2) {
          kernels.score_rows_int8(q16.data() + first * dim, q_scales.data() + first, count,
                                  int8.data(), scales.data(), rows, dim, out);
        }
      };
      for (int storage = 0; storage < 3; ++storage) {
        std::vector<float> alone(max_queries * rows);
        for (std::size_t i = 0; i < max_queries; ++i) {
          score(i, 1, storage, alone.data() + i * rows);
        }
        for (std::size_t count = 2; count <= max_queries; ++count) {
          CAPTURE(dim);
          CAPTURE(std::string_view(table->name));
          CAPTURE(storage);
          CAPTURE(count);
          std::vector<float> together(count * rows);
          score(0, count, storage, together.data());
          for (std::size_t i = 0; i < together.size(); ++i) {
            CAPTURE(i);
            REQUIRE(std::bit_cast<std::uint32_t>(together[i]) ==
                    std::bit_cast<std::uint32_t>(alone[i]));
          }
        }
      }
    }
  }
}

TEST_CASE("score_rows kernels agree with scalar for every storage type") {
  std::mt19937 rng(21);
  const auto& reference = nowrec::cpu::kernels_for(nowrec::CpuIsa::Scalar);
  for (std::size_t dim : {1u, 7u, 16u, 33u, 384u}) {
    const std::size_t rows = 13, queries = 3;
    const auto [q, x, bf16, int8, scales, q16, q_scales] = random_inputs(rng, queries, rows, dim);
    std::vector<float> want_f32(queries * rows), want_bf16(queries * rows),
        want_int8(queries * rows);
    reference.score_rows_f32(q.data(), queries, x.data(), rows, dim, want_f32.data());
    reference.score_rows_bf16(q.data(), queries, bf16.data(), rows, dim, want_bf16.data());
    reference.score_rows_int8(q16.data(), q_scales.data(), queries, int8.data(), scales.data(),
                              rows, dim, want_int8.data());
    for (const nowrec::cpu::KernelTable* table : nowrec::cpu::runnable_kernel_tables()) {
      const auto& kernels = *table;
      std::vector<float> got(queries * rows);
      const double tolerance = 1e-4 * std::sqrt(double(dim)) * 4;
      CAPTURE(dim);
      CAPTURE(std::string_view(table->name));
      kernels.score_rows_f32(q.data(), queries, x.data(), rows, dim, got.data());
      for (std::size_t i = 0; i < got.size(); ++i)
        CHECK(got[i] == doctest::Approx(want_f32[i]).epsilon(tolerance));
      kernels.score_rows_bf16(q.data(), queries, bf16.data(), rows, dim, got.data());
      for (std::size_t i = 0; i < got.size(); ++i)
        CHECK(got[i] == doctest::Approx(want_bf16[i]).epsilon(tolerance));
      // Exact integer sums: the same bits in every variant.
      kernels.score_rows_int8(q16.data(), q_scales.data(), queries, int8.data(), scales.data(),
                              rows, dim, got.data());
      for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(std::bit_cast<std::uint32_t>(got[i]) == std::bit_cast<std::uint32_t>(want_int8[i]));
      }
      // Only the table built for AVX512_BF16 has it.
      CHECK((kernels.score_rows_bf16_dp != nullptr) ==
            (std::string_view(kernels.name) == "avx512_bf16_vnni"));
      if (kernels.score_rows_bf16_dp != nullptr) {
        std::vector<std::uint16_t> split(2 * queries * dim);
        for (std::size_t i = 0; i < queries; ++i) {
          nowrec::ranker::split_to_bf16(q.data() + i * dim, dim, split.data() + 2 * i * dim);
        }
        kernels.score_rows_bf16_dp(split.data(), queries, bf16.data(), rows, dim, got.data());
        for (std::size_t i = 0; i < got.size(); ++i) {
          CHECK(got[i] == doctest::Approx(want_bf16[i]).epsilon(tolerance).scale(1.0));
        }
      }
      std::vector<float> widened(dim), expected(dim);
      kernels.widen_bf16(bf16.data(), dim, widened.data());
      reference.widen_bf16(bf16.data(), dim, expected.data());
      CHECK(widened == expected);
      kernels.widen_int8(int8.data(), scales[0], dim, widened.data());
      reference.widen_int8(int8.data(), scales[0], dim, expected.data());
      CHECK(widened == expected);
    }
  }
}

// The int16 query moves an int8 score by at most query_scale / 2 * row_scale * sum |row| from
// the float query's dot with the widened row (quantize_to_int16's bound), plus float rounding.
TEST_CASE("score_rows_int8 stays within the query quantization's bound of the float product") {
  std::mt19937 rng(23);
  const auto& reference = nowrec::cpu::kernels_for(nowrec::CpuIsa::Scalar);
  for (std::size_t dim : {5u, 64u, 384u, 1000u}) {
    const std::size_t rows = 17, queries = 2;
    const auto [q, x, bf16, int8, scales, q16, q_scales] = random_inputs(rng, queries, rows, dim);
    for (const nowrec::cpu::KernelTable* table : nowrec::cpu::runnable_kernel_tables()) {
      const auto& kernels = *table;
      std::vector<float> got(queries * rows), widened(dim);
      kernels.score_rows_int8(q16.data(), q_scales.data(), queries, int8.data(), scales.data(),
                              rows, dim, got.data());
      for (std::size_t j = 0; j < queries; ++j) {
        for (std::size_t r = 0; r < rows; ++r) {
          reference.widen_int8(int8.data() + r * dim, scales[r], dim, widened.data());
          double exact = 0.0, magnitude = 0.0, row_sum = 0.0;
          for (std::size_t i = 0; i < dim; ++i) {
            exact += double(q[j * dim + i]) * double(widened[i]);
            magnitude += std::fabs(double(q[j * dim + i]) * double(widened[i]));
            row_sum += std::fabs(double(widened[i]));
          }
          const double bound = double(q_scales[j]) / 2 * row_sum + 1e-6 * magnitude;
          CAPTURE(dim);
          CAPTURE(std::string_view(table->name));
          CHECK(std::fabs(double(got[j * rows + r]) - exact) <= bound);
          // Not vacuous: the bound is far below the scores' spread.
          CHECK(bound < 1e-3 * std::sqrt(magnitude * magnitude + 1.0));
        }
      }
    }
  }
}

// At the largest magnitudes (rows of -128, queries of -32767) and a dim long enough that one
// 32-bit lane would overflow without the kernel's 64-bit totals, every variant sums exactly.
TEST_CASE("score_rows_int8 sums exactly at the extremes of its types") {
  for (std::size_t dim : {20000u, 20011u}) {
    const std::vector<std::int8_t> row(dim, std::int8_t{-128});
    std::vector<std::int16_t> query(dim, std::int16_t{-32767});
    query[dim / 2] = 32767;  // one value of the other sign
    const std::int64_t exact = std::int64_t(dim - 2) * 128 * 32767;
    const float query_scale = 0.5f, row_scale = 0.25f;
    const float want = static_cast<float>(exact) * query_scale * row_scale;
    for (const nowrec::cpu::KernelTable* table : nowrec::cpu::runnable_kernel_tables()) {
      float got = 0.0f;
      table->score_rows_int8(query.data(), &query_scale, 1, row.data(), &row_scale, 1, dim, &got);
      CAPTURE(dim);
      CAPTURE(std::string_view(table->name));
      CHECK(std::bit_cast<std::uint32_t>(got) == std::bit_cast<std::uint32_t>(want));
    }
  }
}

TEST_CASE("quantize_to_int16 keeps each value within half a step") {
  std::mt19937 rng(24);
  std::normal_distribution<float> dist;
  std::vector<float> values(384);
  for (float& v : values) v = dist(rng);
  values[7] = -4.5f;  // the largest magnitude, negative
  std::vector<std::int16_t> out(values.size());
  const float scale = nowrec::ranker::quantize_to_int16(values.data(), values.size(), out.data());
  CHECK(scale == doctest::Approx(4.5 / 32767));
  CHECK(out[7] == -32767);
  for (std::size_t i = 0; i < values.size(); ++i) {
    CHECK(std::fabs(double(out[i]) * scale - double(values[i])) <= 0.5001 * scale);
  }
  std::vector<float> zeros(16, 0.0f);
  CHECK(nowrec::ranker::quantize_to_int16(zeros.data(), zeros.size(), out.data()) == 0.0f);
  CHECK(out[0] == 0);
}

TEST_CASE("scores_at_least marks exactly the scores at or above the threshold") {
  std::mt19937 rng(5);
  std::normal_distribution<float> dist;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const nowrec::cpu::KernelTable* table : nowrec::cpu::runnable_kernel_tables()) {
    const auto& kernels = *table;
    for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 33u, 63u, 64u}) {
      for (const float threshold : {0.25f, -1.5f, 0.0f}) {
        std::vector<float> scores(n);
        for (float& s : scores) s = dist(rng);
        // Ties, a NaN and a negative zero, where they are most easily got wrong: at the ends.
        if (n > 0) scores[n - 1] = threshold;
        if (n > 2) scores[0] = nan;
        if (n > 4) scores[n / 2] = threshold == 0.0f ? -0.0f : std::nextafter(threshold, -10.0f);
        std::uint64_t want = 0;
        for (std::size_t i = 0; i < n; ++i) want |= std::uint64_t{scores[i] >= threshold} << i;
        CAPTURE(std::string_view(table->name));
        CAPTURE(n);
        CAPTURE(threshold);
        CHECK(kernels.scores_at_least(scores.data(), n, threshold) == want);
      }
    }
  }
}
