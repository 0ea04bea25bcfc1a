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
#include "nowrec/sequence_encoder.hpp"
#include "test_support.hpp"

namespace {

// The texts tools/make_pooling_fixtures.py embeds: lines 0-7 and 550-573 of the fixture.
std::vector<std::string> pooling_texts() {
  std::ifstream lines(nowrec::test::fixtures_dir() / "encoder" / "minilm_texts.jsonl");
  std::vector<std::string> all;
  for (std::string line; std::getline(lines, line);) {
    all.push_back(nlohmann::json::parse(line).get<std::string>());
  }
  REQUIRE(all.size() == 574);
  std::vector<std::string> texts(all.begin(), all.begin() + 8);
  texts.insert(texts.end(), all.begin() + 550, all.end());
  return texts;
}

// The MiniLM folder with `pooling_field` the one pooling mode and no normalisation; large files
// are linked, not copied.
void write_model_with_pooling(const std::filesystem::path& dir, const std::string& pooling_field) {
  const std::filesystem::path source = nowrec::test::model_dir();
  for (const auto& entry : std::filesystem::directory_iterator(source)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name != "modules.json") {
      std::filesystem::create_symlink(entry.path(), dir / name);
    }
  }
  nowrec::test::write_file(dir / "modules.json", R"([
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
  ])");
  std::filesystem::create_directories(dir / "1_Pooling");
  nlohmann::json pooling{{"word_embedding_dimension", 384}};
  for (const char* field :
       {"pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
        "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_lasttoken"}) {
    pooling[field] = pooling_field == field;
  }
  nowrec::test::write_file(dir / "1_Pooling" / "config.json", pooling.dump());
}

}  // namespace

TEST_CASE("CLS, max, mean, mean-sqrt-len and last-token pooling match sentence-transformers") {
  const auto texts = pooling_texts();
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  const std::pair<const char*, const char*> modes[] = {
      {"cls", "pooling_mode_cls_token"},
      {"max", "pooling_mode_max_tokens"},
      {"mean", "pooling_mode_mean_tokens"},
      {"mean_sqrt_len_tokens", "pooling_mode_mean_sqrt_len_tokens"},
      {"lasttoken", "pooling_mode_lasttoken"},
  };
  for (const auto& [mode_name, field] : modes) {
    const std::string mode = mode_name;
    CAPTURE(mode);
    nowrec::test::TempDir dir;
    write_model_with_pooling(dir.path(), field);
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
