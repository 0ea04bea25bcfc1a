// CPU ISA choice and the per-ISA vector kernels against the scalar reference.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
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
  } else {
    CHECK_THROWS_AS(nowrec::cpu::choose_cpu_isa("avx512"), nowrec::Error);
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
      for (std::size_t i = 0; i < n; ++i) CHECK(y_fast[i] == doctest::Approx(y_ref[i]).epsilon(1e-6));

      auto x_fast = a, x_ref = a;
      const float norm_fast = kernels.l2_normalize(x_fast.data(), n);
      const float norm_ref = reference.l2_normalize(x_ref.data(), n);
      CHECK(norm_fast == doctest::Approx(norm_ref).epsilon(1e-5));
      for (std::size_t i = 0; i < n; ++i) CHECK(x_fast[i] == doctest::Approx(x_ref[i]).epsilon(1e-5));
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
