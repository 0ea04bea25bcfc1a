// The sentence-transformers reference of all-MiniLM-L6-v2 (tools/make_encoder_fixtures.py):
// 574 texts and their normalised embeddings, loaded once per test binary.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "encoder/npy_reader.hpp"
#include "test_support.hpp"

namespace nowrec::test {

struct MinilmFixture {
  std::vector<std::string> texts;
  NpyArray embeddings;  // [texts, 384]
};

inline MinilmFixture load_minilm_fixture() {
  MinilmFixture f;
  const auto dir = fixtures_dir() / "encoder";
  std::ifstream lines(dir / "minilm_texts.jsonl");
  for (std::string line; std::getline(lines, line);) {
    f.texts.push_back(nlohmann::json::parse(line).get<std::string>());
  }
  f.embeddings = read_npy_f32(dir / "minilm_embeddings.npy");
  return f;
}

}  // namespace nowrec::test
