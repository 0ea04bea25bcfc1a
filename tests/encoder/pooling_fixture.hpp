// The pooling fixtures' texts and model folders (tools/make_pooling_fixtures.py), shared by the
// CPU and CUDA pooling tests.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace nowrec::test {

// The texts tools/make_pooling_fixtures.py embeds: lines 0-7 and 550-573 of the fixture.
inline std::vector<std::string> pooling_texts() {
  std::ifstream lines(fixtures_dir() / "encoder" / "minilm_texts.jsonl");
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
inline void write_model_with_pooling(const std::filesystem::path& dir,
                                     const std::string& pooling_field) {
  const std::filesystem::path source = model_dir();
  for (const auto& entry : std::filesystem::directory_iterator(source)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name != "modules.json") {
      std::filesystem::create_symlink(entry.path(), dir / name);
    }
  }
  write_file(dir / "modules.json", R"([
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
  write_file(dir / "1_Pooling" / "config.json", pooling.dump());
}

// Each mode's fixture name and its 1_Pooling/config.json field.
inline constexpr std::pair<const char*, const char*> kPoolingModes[] = {
    {"cls", "pooling_mode_cls_token"},
    {"max", "pooling_mode_max_tokens"},
    {"mean", "pooling_mode_mean_tokens"},
    {"mean_sqrt_len_tokens", "pooling_mode_mean_sqrt_len_tokens"},
    {"lasttoken", "pooling_mode_lasttoken"},
};

}  // namespace nowrec::test
