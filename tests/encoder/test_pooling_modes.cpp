// Every pooling mode against sentence-transformers (tools/make_pooling_fixtures.py): the MiniLM
// folder with its 1_Pooling/config.json replaced and no Normalize module.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "encoder/npy_reader.hpp"
#include "encoder/pooling_fixture.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "test_support.hpp"

TEST_CASE("CLS, max, mean, mean-sqrt-len and last-token pooling match sentence-transformers") {
  const auto texts = nowrec::test::pooling_texts();
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  for (const auto& [mode_name, field] : nowrec::test::kPoolingModes) {
    const std::string mode = mode_name;
    CAPTURE(mode);
    nowrec::test::TempDir dir;
    nowrec::test::write_model_with_pooling(dir.path(), field);
    const auto encoder = nowrec::SequenceEncoder::load(dir.path(), {.threads = 1});
    CHECK_FALSE(encoder.info().pooling.normalize);
    const auto reference =
        nowrec::test::read_npy_f32(nowrec::test::fixtures_dir() / "encoder" /
                                   ("minilm_pooling_" + std::string(mode) + ".npy"));
    REQUIRE(reference.shape == std::vector<std::size_t>{texts.size(), 384});
    // Batches of 5 so that long and short texts share a packed batch.
    std::vector<float> out(texts.size() * 384);
    for (std::size_t first = 0; first < texts.size(); first += 5) {
      const std::size_t count = std::min<std::size_t>(5, texts.size() - first);
      encoder.encode(std::span(views).subspan(first, count),
                     std::span(out).subspan(first * 384, count * 384));
    }
    double worst = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      worst = std::max(worst, double(std::abs(out[i] - reference.values[i])));
      scale = std::max(scale, double(std::abs(reference.values[i])));
    }
    MESSAGE(mode, ": max abs diff ", worst, " (largest value ", scale, ")");
    CHECK(worst <= 1e-4 * std::max(1.0, scale));
  }
}
