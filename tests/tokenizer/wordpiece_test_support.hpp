// Shared by the WordPiece tests: the default model's tokenizer and the reference fixture.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nowrec/model_folder.hpp"
#include "nowrec/tokenizer.hpp"
#include "test_support.hpp"

namespace nowrec::test {

// Loaded once: building the tables costs milliseconds, not worth repeating per test case.
inline const Tokenizer& minilm_tokenizer() {
  static const Tokenizer tokenizer = Tokenizer::load(ModelFolder::load(model_dir()));
  return tokenizer;
}

struct ReferenceLine {
  std::string bytes;  // the original text, possibly invalid UTF-8
  bool from_base64 = false;
  std::vector<std::int32_t> ids;
  std::vector<TokenOffset> offsets;
};

inline std::string decode_base64(const std::string& text) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (const char c : text) {
    if (c == '=') break;
    const auto index = alphabet.find(c);
    if (index == std::string::npos) continue;
    value = (value << 6) | static_cast<unsigned>(index);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xFF));
    }
  }
  return out;
}

// tests/fixtures/tokenizer/minilm_wordpiece.jsonl (tools/make_tokenizer_fixtures.py).
inline const std::vector<ReferenceLine>& reference_lines() {
  static const std::vector<ReferenceLine> lines = [] {
    std::vector<ReferenceLine> out;
    std::istringstream in(read_file(fixtures_dir() / "tokenizer" / "minilm_wordpiece.jsonl"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const auto record = nlohmann::json::parse(line);
      ReferenceLine ref;
      if (record.contains("text_b64")) {
        ref.bytes = decode_base64(record["text_b64"].get<std::string>());
        ref.from_base64 = true;
      } else {
        ref.bytes = record["text"].get<std::string>();
      }
      ref.ids = record["ids"].get<std::vector<std::int32_t>>();
      for (const auto& pair : record["offsets"]) {
        ref.offsets.push_back({pair[0].get<std::uint32_t>(), pair[1].get<std::uint32_t>()});
      }
      out.push_back(std::move(ref));
    }
    return out;
  }();
  return lines;
}

}  // namespace nowrec::test
