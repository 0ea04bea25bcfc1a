// WordPiece against Hugging Face tokenizers: every fixture line id for id, offset for offset.
#include <cstdio>

#include <doctest/doctest.h>

#include "wordpiece_test_support.hpp"

namespace nowrec::test {
namespace {

std::string printable(const std::string& bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02X", byte);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out;
}

TEST_CASE("WordPiece ids and offsets equal Hugging Face tokenizers on the fixture corpus") {
  const Tokenizer& tokenizer = minilm_tokenizer();
  const auto& lines = reference_lines();
  REQUIRE(lines.size() >= 2000);
  std::size_t invalid_lines = 0;
  std::size_t mismatches = 0;
  for (const ReferenceLine& ref : lines) {
    const Encoding encoding = tokenizer.encode(ref.bytes);
    invalid_lines += ref.from_base64 ? 1 : 0;
    if (encoding.ids != ref.ids || encoding.offsets != ref.offsets) {
      ++mismatches;
      if (mismatches <= 10) {
        INFO("text: " << printable(ref.bytes));
        CHECK(encoding.ids == ref.ids);
        CHECK(encoding.offsets == ref.offsets);
      }
    }
  }
  CHECK(mismatches == 0);
  CHECK(invalid_lines >= 10);
}

TEST_CASE("encode_ids and encode_batch agree with encode on the fixture corpus") {
  const Tokenizer& tokenizer = minilm_tokenizer();
  const auto& lines = reference_lines();
  std::vector<std::string_view> texts;
  for (const ReferenceLine& ref : lines) texts.push_back(ref.bytes);
  const auto batch = tokenizer.encode_batch(texts);
  REQUIRE(batch.size() == lines.size());
  std::vector<std::int32_t> ids;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    tokenizer.encode_ids(texts[i], ids);
    CHECK(ids == lines[i].ids);
    CHECK(batch[i].ids == lines[i].ids);
  }
}

}  // namespace
}  // namespace nowrec::test
