// The CPU encoder against sentence-transformers' embeddings of all-MiniLM-L6-v2 (made by
// tools/make_encoder_fixtures.py), for every supported ISA and several batch sizes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpu/dispatch.hpp"
#include "encoder/cpu_encoder.hpp"
#include "encoder/minilm_fixture.hpp"
#include "nowrec/cpu_isa.hpp"
#include "nowrec/model_folder.hpp"
#include "test_support.hpp"

using nowrec::CpuIsa;

namespace {

using Fixture = nowrec::test::MinilmFixture;

const Fixture& fixture() {
  static const Fixture loaded = nowrec::test::load_minilm_fixture();
  return loaded;
}

struct Agreement {
  double worst_cosine = 1.0;
  double worst_abs_diff = 0.0;
};

// Embeds the fixture texts `batch` at a time, in an order that mixes long and short texts, and
// names each text whose cosine falls below `report_below`.
Agreement compare_with_reference(const nowrec::encoder::CpuEncoder& encoder, std::size_t batch,
                                 double report_below = 0.99999) {
  const Fixture& f = fixture();
  const std::size_t n = f.texts.size(), dim = encoder.dim();
  REQUIRE(f.embeddings.shape == std::vector<std::size_t>{n, dim});
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(static_cast<unsigned>(batch)));

  Agreement agreement;
  std::vector<float> out;
  for (std::size_t start = 0; start < n; start += batch) {
    const std::size_t count = std::min(batch, n - start);
    std::vector<std::string_view> texts;
    for (std::size_t i = 0; i < count; ++i) texts.push_back(f.texts[order[start + i]]);
    out.assign(count * dim, 0.0f);
    encoder.encode(texts, out);
    for (std::size_t i = 0; i < count; ++i) {
      const float* got = out.data() + i * dim;
      const float* want = f.embeddings.values.data() + order[start + i] * dim;
      double dot = 0.0, got_norm = 0.0, want_norm = 0.0, worst = 0.0;
      for (std::size_t c = 0; c < dim; ++c) {
        dot += double(got[c]) * want[c];
        got_norm += double(got[c]) * got[c];
        want_norm += double(want[c]) * want[c];
        worst = std::max(worst, std::abs(double(got[c]) - want[c]));
      }
      const double cosine = dot / std::sqrt(got_norm * want_norm);
      if (cosine < report_below) {
        MESSAGE("text ", order[start + i], " '", f.texts[order[start + i]], "': cosine ", cosine,
                ", max abs diff ", worst);
      }
      agreement.worst_cosine = std::min(agreement.worst_cosine, cosine);
      agreement.worst_abs_diff = std::max(agreement.worst_abs_diff, worst);
    }
  }
  return agreement;
}

}  // namespace

TEST_CASE("MiniLM embeddings match sentence-transformers for every ISA and batch size") {
  const auto model = nowrec::ModelFolder::load(nowrec::test::model_dir());
  for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512}) {
    if (!nowrec::cpu_supports(isa)) continue;
    // One thread: ctest runs test binaries side by side, and OpenMP teams that spin-wait for a
    // descheduled partner slow down a hundredfold (threads are covered in the API tests).
    const nowrec::encoder::CpuEncoder encoder(model, 1, nowrec::cpu::kernels_for(isa));
    for (std::size_t batch : {1u, 7u, 64u}) {
      CAPTURE(nowrec::cpu_isa_name(isa));
      CAPTURE(batch);
      const Agreement agreement = compare_with_reference(encoder, batch);
      MESSAGE(nowrec::cpu_isa_name(isa), " batch ", batch, ": worst 1 - cosine ",
              1.0 - agreement.worst_cosine, ", worst max abs diff ", agreement.worst_abs_diff);
      CHECK(agreement.worst_cosine >= 0.99999);
      CHECK(agreement.worst_abs_diff <= 1e-4);
    }
  }
}

TEST_CASE("MiniLM embeddings in bf16 stay within cosine 0.999 of sentence-transformers") {
  using nowrec::encoder::MatmulPrecision;
  const auto model = nowrec::ModelFolder::load(nowrec::test::model_dir());
  for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512}) {
    if (!nowrec::cpu_supports(isa)) continue;
    const nowrec::encoder::CpuEncoder encoder(model, 1, nowrec::cpu::kernels_for(isa),
                                              MatmulPrecision::BF16);
    CAPTURE(nowrec::cpu_isa_name(isa));
    // oneDNN's bf16 kernels where AVX512_BF16 is and DNNL_MAX_CPU_ISA allows it; elsewhere the
    // fallback.
    CHECK(encoder.precision() != MatmulPrecision::F32);
    const Agreement agreement = compare_with_reference(encoder, 7, 0.999);
    MESSAGE(nowrec::cpu_isa_name(isa), " bf16 (",
            std::string(matmul_precision_name(encoder.precision())), "): worst 1 - cosine ",
            1.0 - agreement.worst_cosine);
    CHECK(agreement.worst_cosine >= 0.999);
  }
}

TEST_CASE("The bf16 fallback for CPUs without a oneDNN bf16 matmul stays within cosine 0.999") {
  using nowrec::encoder::MatmulPrecision;
  const auto model = nowrec::ModelFolder::load(nowrec::test::model_dir());
  const nowrec::encoder::CpuEncoder encoder(model, 1, nowrec::cpu::kernels(),
                                            MatmulPrecision::BF16RoundedWeights);
  CHECK(encoder.precision() == MatmulPrecision::BF16RoundedWeights);
  const Agreement agreement = compare_with_reference(encoder, 64, 0.999);
  MESSAGE("bf16 rounded weights: worst 1 - cosine ", 1.0 - agreement.worst_cosine);
  CHECK(agreement.worst_cosine >= 0.999);
}
