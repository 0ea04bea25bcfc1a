// BERT normalisation and splitting against Hugging Face tokenizers for every Unicode code point.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "tokenizer/bert_normalizer.hpp"
#include "tokenizer/utf8.hpp"

namespace nowrec::test {
namespace {

using detail::BertNormalizer;
using detail::NormalizedWord;

class WordList final : public detail::WordSink {
 public:
  void on_word(const NormalizedWord& word) override { words.emplace_back(word.bytes); }
  std::vector<std::string> words;
};

// The pattern tools/make_tokenizer_fixtures.py writes: words joined by '|', each a list of hex
// code points, '=' for the code point itself and '=+d' for an offset from it.
std::string pattern_of(const std::vector<std::string>& words, char32_t cp) {
  std::string out;
  for (std::size_t w = 0; w < words.size(); ++w) {
    if (w) out += '|';
    const auto* p = reinterpret_cast<const unsigned char*>(words[w].data());
    const auto* end = p + words[w].size();
    bool first = true;
    while (p < end) {
      const auto c = detail::decode_utf8(p, end);
      p += c.length;
      if (!first) out += ' ';
      first = false;
      const long delta = static_cast<long>(c.code_point) - static_cast<long>(cp);
      char buffer[16];
      if (c.code_point == 'a') {
        out += "61";
      } else if (delta == 0) {
        out += "=";
      } else if (delta > -64 && delta < 64) {
        std::snprintf(buffer, sizeof buffer, "=%+ld", delta);
        out += buffer;
      } else {
        std::snprintf(buffer, sizeof buffer, "%X", static_cast<unsigned>(c.code_point));
        out += buffer;
      }
    }
  }
  return out;
}

TEST_CASE("BERT normalisation matches the reference for every code point") {
  const BertNormalizer normalizer({}, 100);
  std::istringstream in(read_file(fixtures_dir() / "tokenizer" / "bert_unicode_reference.txt"));
  detail::WordScratch scratch;
  std::string line;
  std::size_t checked = 0;
  std::size_t mismatches = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string first_hex, last_hex;
    fields >> first_hex >> last_hex;
    std::string expected;
    std::getline(fields, expected);
    if (!expected.empty() && expected[0] == ' ') expected.erase(0, 1);
    const auto first = static_cast<char32_t>(std::stoul(first_hex, nullptr, 16));
    const auto last = static_cast<char32_t>(std::stoul(last_hex, nullptr, 16));
    for (char32_t cp = first; cp <= last; ++cp) {
      char bytes[4];
      std::string text = "a";
      text.append(bytes, detail::encode_utf8(cp, bytes));
      text += 'a';
      WordList words;
      normalizer.split(text, scratch, words);
      const std::string got = pattern_of(words.words, cp);
      ++checked;
      if (got != expected) {
        ++mismatches;
        if (mismatches <= 20) {
          INFO("code point U+" << std::hex << static_cast<unsigned>(cp));
          CHECK(got == expected);
        }
      }
    }
  }
  CHECK(checked == 0x110000 - 0x800);
  CHECK(mismatches == 0);
}

TEST_CASE("first_invalid_utf8 finds where the first invalid sequence starts") {
  using detail::first_invalid_utf8;
  using detail::is_valid_utf8;
  const std::string valid = "plain ASCII, Am\xC3\xA9lie, \xE6\x88\x91, \xF0\x9F\x98\x80";
  CHECK(first_invalid_utf8(valid) == valid.size());
  CHECK(first_invalid_utf8("") == 0);
  CHECK(is_valid_utf8(valid));
  // Past the eight-byte ASCII skip, inside it and right after a multi-byte character.
  const std::string prefix = "0123456789abcdef\xC3\xA9";
  for (const std::string bad :
       {"\x80", "\xC3(", "\xE6\x88", "\xED\xA0\x80", "\xC0\xAF", "\xF4\x90\x80\x80", "\xFF"}) {
    CAPTURE(bad);
    CHECK(first_invalid_utf8(prefix + bad + "tail") == prefix.size());
    CHECK(first_invalid_utf8("ab" + bad) == 2);
    CHECK_FALSE(is_valid_utf8(prefix + bad));
  }
}

}  // namespace
}  // namespace nowrec::test
