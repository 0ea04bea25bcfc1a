// Reads tests/fixtures/sentencepiece: the XLM-R-style model folder and its reference ids.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "nowrec/model_folder.hpp"
#include "test_support.hpp"

namespace nowrec::test {

// One line of xlmr_style_ids.jsonl (written by tools/make_sentencepiece_fixtures.py).
struct SentencePieceCase {
  std::string text;
  std::vector<std::int32_t> ids;  // transformers' XLMRobertaTokenizer, special tokens, max 512
  // Raw sentencepiece ids and byte offsets; absent on lines holding special-token strings.
  std::optional<std::vector<int>> sp_ids;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> sp_offsets;
};

inline std::filesystem::path sentencepiece_model_dir() {
  return fixtures_dir() / "sentencepiece" / "xlmr_style";
}

// The files a model folder reader would produce, written out by hand so that backend tests do
// not depend on it.
inline TokenizerFiles sentencepiece_tokenizer_files() {
  TokenizerFiles files;
  files.kind = TokenizerKind::SentencePiece;
  files.sentencepiece_model = sentencepiece_model_dir() / "sentencepiece.bpe.model";
  files.tokenizer_json = sentencepiece_model_dir() / "tokenizer.json";
  files.lowercase = false;
  files.cls_token = "<s>";
  files.sep_token = "</s>";
  files.pad_token = "<pad>";
  files.unk_token = "<unk>";
  files.mask_token = "<mask>";
  files.bos_token = "<s>";
  files.eos_token = "</s>";
  files.model_max_length = 512;
  return files;
}

inline const std::vector<SentencePieceCase>& sentencepiece_cases() {
  static const std::vector<SentencePieceCase> cases = [] {
    const auto path = fixtures_dir() / "sentencepiece" / "xlmr_style_ids.jsonl";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::vector<SentencePieceCase> out;
    std::string line;
    while (std::getline(in, line)) {
      const auto json = nlohmann::json::parse(line);
      SentencePieceCase item;
      item.text = json.at("text").get<std::string>();
      item.ids = json.at("ids").get<std::vector<std::int32_t>>();
      if (json.contains("sp_ids")) {
        item.sp_ids = json.at("sp_ids").get<std::vector<int>>();
        for (const auto& offset : json.at("sp_offsets")) {
          item.sp_offsets.emplace_back(offset.at(0).get<std::uint32_t>(),
                                       offset.at(1).get<std::uint32_t>());
        }
      }
      out.push_back(std::move(item));
    }
    return out;
  }();
  return cases;
}

}  // namespace nowrec::test
