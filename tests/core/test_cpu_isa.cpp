// CPU ISA choice and the per-ISA vector kernels against the scalar reference.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/dispatch.hpp"
#include "nowrec/cpu_isa.hpp"
#include "nowrec/error.hpp"

using nowrec::CpuIsa;

namespace {

std::vector<CpuIsa> supported_isas() {
  std::vector<CpuIsa> isas;
  for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512}) {
    if (nowrec::cpu_supports(isa)) isas.push_back(isa);
  }
  return isas;
}

std::vector<float> random_vector(std::mt19937& rng, std::size_t n) {
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

}  // namespace

TEST_CASE("the active ISA is one the CPU supports and has a name") {
  const CpuIsa active = nowrec::active_cpu_isa();
  CHECK(nowrec::cpu_supports(active));
  CHECK(nowrec::cpu_isa_name(active) != "unknown");
  CHECK(nowrec::cpu::kernels().isa == active);
  // The kernels' name is the ISA's, or the ISA's with the extensions its copy was built for.
  CHECK(nowrec::active_cpu_kernels().starts_with(nowrec::cpu_isa_name(active)));
  const char* requested = std::getenv("NOWREC_CPU_ISA");
  const bool extended = active == CpuIsa::Avx512 && nowrec::cpu::cpu_has_avx512_bf16_vnni() &&
                        !(requested != nullptr && std::string_view(requested) == "avx512");
  CHECK(nowrec::active_cpu_kernels() ==
        (extended ? std::string_view("avx512_bf16_vnni") : nowrec::cpu_isa_name(active)));
  CHECK(nowrec::cpu_supports(CpuIsa::Scalar));
  if (nowrec::cpu_supports(CpuIsa::Avx512)) CHECK(nowrec::cpu_supports(CpuIsa::Avx2));
}

TEST_CASE("NOWREC_CPU_ISA picks a variant or explains why it cannot") {
  CHECK(nowrec::cpu::choose_cpu_isa("scalar") == CpuIsa::Scalar);
  CHECK(nowrec::cpu::choose_cpu_isa(nullptr) == nowrec::cpu::choose_cpu_isa(""));
  if (nowrec::cpu_supports(CpuIsa::Avx2)) {
    CHECK(nowrec::cpu::choose_cpu_isa("avx2") == CpuIsa::Avx2);
  }
  if (nowrec::cpu_supports(CpuIsa::Avx512)) {
    CHECK(nowrec::cpu::choose_cpu_isa(nullptr) == CpuIsa::Avx512);
    // "avx512" names the plain table; the default is the extended one where the CPU has it.
    CHECK(std::string_view(nowrec::cpu::choose_kernels("avx512").name) == "avx512");
    CHECK(&nowrec::cpu::choose_kernels(nullptr) == &nowrec::cpu::kernels_for(CpuIsa::Avx512));
  } else {
    CHECK_THROWS_AS(nowrec::cpu::choose_cpu_isa("avx512"), nowrec::Error);
  }
  if (nowrec::cpu_supports(CpuIsa::Avx512) && nowrec::cpu::cpu_has_avx512_bf16_vnni()) {
    CHECK(nowrec::cpu::choose_cpu_isa("avx512_bf16_vnni") == CpuIsa::Avx512);
    CHECK(std::string_view(nowrec::cpu::choose_kernels("avx512_bf16_vnni").name) ==
          "avx512_bf16_vnni");
    CHECK(std::string_view(nowrec::cpu::choose_kernels(nullptr).name) == "avx512_bf16_vnni");
  } else {
    CHECK_THROWS_AS(nowrec::cpu::choose_kernels("avx512_bf16_vnni"), nowrec::Error);
  }
  try {
    nowrec::cpu::choose_cpu_isa("sse9");
    FAIL("an unknown ISA name was accepted");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == nowrec::ErrorCode::InvalidArgument);
    CHECK(std::string(error.what()).find("sse9") != std::string::npos);
  }
}

TEST_CASE("vector kernels of every supported ISA agree with the scalar reference") {
  std::mt19937 rng(42);
  const auto& reference = nowrec::cpu::kernels_for(CpuIsa::Scalar);
  for (CpuIsa isa : supported_isas()) {
    const auto& kernels = nowrec::cpu::kernels_for(isa);
    CAPTURE(nowrec::cpu_isa_name(isa));
    REQUIRE(kernels.isa == isa);
    for (std::size_t n : {0u, 1u, 7u, 8u, 15u, 16u, 17u, 31u, 32u, 33u, 100u, 384u, 1000u}) {
      CAPTURE(n);
      const auto a = random_vector(rng, n);
      const auto b = random_vector(rng, n);
      double exact = 0.0;
      for (std::size_t i = 0; i < n; ++i) exact += double(a[i]) * double(b[i]);
      const float tolerance = 1e-5f * float(n + 1) * 4.0f;
      CHECK(std::abs(kernels.dot(a.data(), b.data(), n) - exact) <= tolerance);
      CHECK(std::abs(kernels.dot(a.data(), b.data(), n) - reference.dot(a.data(), b.data(), n)) <=
            tolerance);

      auto y_fast = b, y_ref = b;
      kernels.axpy(0.75f, a.data(), y_fast.data(), n);
      reference.axpy(0.75f, a.data(), y_ref.data(), n);
      for (std::size_t i = 0; i < n; ++i)
        CHECK(y_fast[i] == doctest::Approx(y_ref[i]).epsilon(1e-6));

      auto x_fast = a, x_ref = a;
      const float norm_fast = kernels.l2_normalize(x_fast.data(), n);
      const float norm_ref = reference.l2_normalize(x_ref.data(), n);
      CHECK(norm_fast == doctest::Approx(norm_ref).epsilon(1e-5));
      for (std::size_t i = 0; i < n; ++i)
        CHECK(x_fast[i] == doctest::Approx(x_ref[i]).epsilon(1e-5));
      if (n > 0) {
        CHECK(reference.dot(x_fast.data(), x_fast.data(), n) == doctest::Approx(1.0).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("L2 normalisation leaves a zero vector unchanged") {
  for (CpuIsa isa : supported_isas()) {
    std::vector<float> zeros(37, 0.0f);
    CHECK(nowrec::cpu::kernels_for(isa).l2_normalize(zeros.data(), zeros.size()) == 0.0f);
    for (float x : zeros) CHECK(x == 0.0f);
  }
}

namespace {

std::uint16_t to_bf16_truncated(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof(u));
  return static_cast<std::uint16_t>(u >> 16);
}

double from_bf16(std::uint16_t bits) {
  const std::uint32_t u = static_cast<std::uint32_t>(bits) << 16;
  float x;
  std::memcpy(&x, &u, sizeof(x));
  return x;
}

// The squared norm of bf16 values, in double.
double exact_squared_norm(const std::vector<std::uint16_t>& values) {
  double sum = 0.0;
  for (std::uint16_t v : values) sum += double(from_bf16(v)) * from_bf16(v);
  return sum;
}

// What fp32 may lose summing the n squares that make `squared_norm`, in any order: each partial
// sum of positive terms is rounded at most n times by at most 2^-24 of itself (plus the squares'
// own rounding).
double squared_norm_tolerance(std::size_t n, double squared_norm) {
  return double(n + 2) * 0x1p-24 * squared_norm + 1e-6;
}

}  // namespace

TEST_CASE("bfloat16 state kernels of every supported ISA agree with the scalar reference") {
  std::mt19937 rng(43);
  const auto& reference = nowrec::cpu::kernels_for(CpuIsa::Scalar);
  for (const nowrec::cpu::KernelTable* table : nowrec::cpu::runnable_kernel_tables()) {
    const auto& kernels = *table;
    CAPTURE(std::string_view(kernels.name));
    for (std::size_t n : {0u, 1u, 7u, 8u, 15u, 16u, 17u, 31u, 32u, 33u, 100u, 384u, 1000u}) {
      CAPTURE(n);
      const auto x = random_vector(rng, n);
      std::vector<std::uint16_t> stored(n);
      for (std::size_t i = 0; i < n; ++i) stored[i] = to_bf16_truncated(random_vector(rng, 1)[0]);

      double exact_dot = 0.0, exact_norm = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        exact_dot += from_bf16(stored[i]) * x[i];
        exact_norm += from_bf16(stored[i]) * from_bf16(stored[i]);
      }
      const double tolerance = 1e-5 * double(n + 1) * 4.0;
      CHECK(std::abs(kernels.dot_bf16(stored.data(), x.data(), n) - exact_dot) <= tolerance);
      CHECK(std::abs(kernels.squared_norm_bf16(stored.data(), n) - exact_norm) <= tolerance);

      // Stores round to nearest even: the fused multiply-add may land one bf16 step away from
      // the scalar code's rounded product and sum, never further.
      auto fast = stored, slow = stored;
      const float fast_norm = kernels.axpy_bf16(0.75f, x.data(), fast.data(), n);
      reference.axpy_bf16(0.75f, x.data(), slow.data(), n);
      // The returned squared norm is that of the values as stored.
      const double fast_exact = exact_squared_norm(fast);
      CHECK(std::abs(fast_norm - fast_exact) <= squared_norm_tolerance(n, fast_exact));
      for (std::size_t i = 0; i < n; ++i) {
        const double expected = from_bf16(stored[i]) + 0.75 * x[i];
        CHECK(std::abs(from_bf16(fast[i]) - expected) <= std::abs(expected) * (1.0 / 256) + 1e-6);
        CHECK(std::abs(int(fast[i]) - int(slow[i])) <= 1);
      }
      kernels.assign_bf16(-1.5f, x.data(), fast.data(), n);
      reference.assign_bf16(-1.5f, x.data(), slow.data(), n);
      CHECK(fast == slow);  // one product, one rounding: exact in every variant
      // The fused copy stores the same values and returns their squared norm.
      auto fused = stored;
      const float assigned_norm =
          kernels.assign_squared_norm_bf16(-1.5f, x.data(), fused.data(), n);
      CHECK(fused == slow);
      const double fused_exact = exact_squared_norm(fused);
      CHECK(std::abs(assigned_norm - fused_exact) <= squared_norm_tolerance(n, fused_exact));
      for (std::size_t i = 0; i < n; ++i) {
        CHECK(std::abs(from_bf16(fast[i]) + 1.5 * x[i]) <= std::abs(1.5 * x[i]) * (1.0 / 256));
      }
      // A decay folded into the values: one product, one rounding, so every variant stores what
      // the scalar code stores, and returns the squared norm of what it stored. The factor is
      // not a power of two, so the products round.
      auto scaled = stored, scaled_slow = stored;
      const float scaled_norm = kernels.scale_squared_norm_bf16(0.3f, scaled.data(), n);
      reference.scale_squared_norm_bf16(0.3f, scaled_slow.data(), n);
      CHECK(scaled == scaled_slow);
      const double scaled_exact = exact_squared_norm(scaled);
      CHECK(std::abs(scaled_norm - scaled_exact) <= squared_norm_tolerance(n, scaled_exact));
      for (std::size_t i = 0; i < n; ++i) {
        const double expected = 0.3 * from_bf16(stored[i]);
        CHECK(std::abs(from_bf16(scaled[i]) - expected) <= std::abs(expected) * (1.0 / 256));
      }
    }
  }
}

TEST_CASE("the paired bfloat16 axpy and the multi-row bfloat16 dot agree with single ones") {
  std::mt19937 rng(44);
  const auto& reference = nowrec::cpu::kernels_for(CpuIsa::Scalar);
  for (const nowrec::cpu::KernelTable* table : nowrec::cpu::runnable_kernel_tables()) {
    const auto& kernels = *table;
    CAPTURE(std::string_view(kernels.name));
    for (std::size_t n : {0u, 1u, 7u, 8u, 17u, 33u, 384u, 1000u}) {
      CAPTURE(n);
      const auto x = random_vector(rng, n);
      // Rows of n values at a stride of n + 3, so a row does not start where the last ended.
      const std::size_t stride = n + 3;
      for (std::size_t count : {0u, 1u, 3u, 4u, 5u, 8u, 9u}) {
        CAPTURE(count);
        std::vector<std::uint16_t> rows(count * stride + 1);
        for (auto& r : rows) r = to_bf16_truncated(random_vector(rng, 1)[0]);
        std::vector<float> out(count + 1, -7.0f);
        kernels.dots_bf16(rows.data(), stride, count, x.data(), n, out.data());
        const double tolerance = 1e-5 * double(n + 1) * 4.0;
        for (std::size_t r = 0; r < count; ++r) {
          double exact = 0.0;
          for (std::size_t i = 0; i < n; ++i) exact += from_bf16(rows[r * stride + i]) * x[i];
          CHECK(std::abs(out[r] - exact) <= tolerance);
        }
        CHECK(out[count] == -7.0f);  // nothing written past the last row
      }

      std::vector<std::uint16_t> a(n), b(n);
      for (std::size_t i = 0; i < n; ++i) {
        a[i] = to_bf16_truncated(random_vector(rng, 1)[0]);
        b[i] = to_bf16_truncated(random_vector(rng, 1)[0]);
      }
      // Each half as the single axpy of the same variant would store it: the same fused
      // multiply-add and rounding per element.
      auto pair_a = a, pair_b = b, single_a = a, single_b = b, slow_a = a, slow_b = b;
      kernels.axpy_pair_bf16(0.75f, -2.5f, x.data(), pair_a.data(), pair_b.data(), n);
      kernels.axpy_bf16(0.75f, x.data(), single_a.data(), n);
      kernels.axpy_bf16(-2.5f, x.data(), single_b.data(), n);
      CHECK(pair_a == single_a);
      CHECK(pair_b == single_b);
      reference.axpy_pair_bf16(0.75f, -2.5f, x.data(), slow_a.data(), slow_b.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        CHECK(std::abs(int(pair_a[i]) - int(slow_a[i])) <= 1);
        CHECK(std::abs(int(pair_b[i]) - int(slow_b[i])) <= 1);
        const double expected = from_bf16(b[i]) - 2.5 * x[i];
        CHECK(std::abs(from_bf16(pair_b[i]) - expected) <= std::abs(expected) * (1.0 / 256) + 1e-6);
      }
    }
  }
}

TEST_CASE("bfloat16 stores round to nearest, ties to even") {
  // 1 + 2^-8 lies halfway between bf16 1.0 and 1 + 2^-7: the tie goes to the even 1.0; just above
  // the tie rounds up. 1 + 3 * 2^-8 ties between 1 + 2^-7 (odd) and 1 + 2^-6: up to the even one.
  const float inputs[] = {1.0f + 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-20f, 1.0f + 3 * 0x1p-8f};
  const std::uint16_t expected[] = {0x3F80, 0x3F81, 0x3F82};
  for (const nowrec::cpu::KernelTable* table : nowrec::cpu::runnable_kernel_tables()) {
    CAPTURE(std::string_view(table->name));
    // 16 copies so that the vector paths run, not only the scalar tail.
    for (std::size_t k = 0; k < 3; ++k) {
      std::vector<float> x(16, inputs[k]);
      std::vector<std::uint16_t> out(16);
      table->assign_bf16(1.0f, x.data(), out.data(), out.size());
      for (std::uint16_t bits : out) CHECK(bits == expected[k]);
    }
  }
}

TEST_CASE("bfloat16 stores keep subnormals, but for the AVX512_BF16 variant's zeros") {
  // 2^-130 and -3 * 2^-132 are subnormal floats that bf16 holds exactly (its exponent range is
  // fp32's); 2^-126 is the smallest normal one. The largest subnormal float, just below 2^-126,
  // rounds up to it, but the AVX512_BF16 variant reads it as zero first. 17 values: the vector
  // loop and the scalar tail.
  const float subnormals[] = {0x1p-130f, -3 * 0x1p-132f, 0x1.fffffcp-127f, -0x1.fffffcp-127f};
  const std::uint16_t kept[] = {0x0008, 0x8006, 0x0080, 0x8080};
  const std::uint16_t zeros[] = {0x0000, 0x8000, 0x0000, 0x8000};
  for (const nowrec::cpu::KernelTable* table : nowrec::cpu::runnable_kernel_tables()) {
    CAPTURE(std::string_view(table->name));
    const bool flushes = std::string_view(table->name) == "avx512_bf16_vnni";
    for (std::size_t k = 0; k < 4; ++k) {
      CAPTURE(k);
      std::vector<float> x(17, subnormals[k]);
      x[5] = 0x1p-126f;
      std::vector<std::uint16_t> out(17);
      table->assign_bf16(1.0f, x.data(), out.data(), out.size());
      for (std::size_t i = 0; i < out.size(); ++i) {
        CAPTURE(i);
        if (i == 5) {
          CHECK(out[i] == 0x0080);
        } else {
          CHECK(out[i] == (flushes ? zeros[k] : kept[k]));
        }
      }
    }
  }
}
