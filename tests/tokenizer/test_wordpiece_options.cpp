// The Tokenizer front on a WordPiece model: special tokens, truncation, padding, batches,
// added tokens in the text, invalid UTF-8 and the vocabulary queries.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "nowrec/error.hpp"
#include "wordpiece_test_support.hpp"

namespace nowrec::test {
namespace {

constexpr std::int32_t kPad = 0, kUnk = 100, kCls = 101, kSep = 102, kMask = 103;

TEST_CASE("vocabulary queries") {
  const Tokenizer& tokenizer = minilm_tokenizer();
  CHECK(tokenizer.kind() == TokenizerKind::WordPiece);
  CHECK(tokenizer.vocab_size() == 30522);
  CHECK(tokenizer.max_length() == 256);  // sentence_bert_config.json
  CHECK(tokenizer.pad_id() == kPad);
  CHECK(tokenizer.token_to_id("[MASK]") == kMask);
  CHECK(tokenizer.token_to_id("hello") == 7592);
  CHECK(tokenizer.token_to_id("##ing") == 2075);
  CHECK_FALSE(tokenizer.token_to_id("not-a-token").has_value());
  CHECK(tokenizer.id_to_token(7592) == "hello");
  CHECK(tokenizer.id_to_token(kCls) == "[CLS]");
  CHECK_THROWS_AS(tokenizer.id_to_token(30522), Error);
  CHECK_THROWS_AS(tokenizer.id_to_token(-1), Error);
}

TEST_CASE(
    "loading by path: a model folder truncates as the model, tokenizer files alone by "
    "model_max_length") {
  CHECK(Tokenizer::load(model_dir()).max_length() == 256);

  const TempDir dir;
  for (const char* name :
       {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    std::filesystem::copy_file(model_dir() / name, dir.path() / name);
  }
  const Tokenizer tokenizer = Tokenizer::load(dir.path());
  CHECK(tokenizer.max_length() == 512);
  CHECK(tokenizer.encode("hello world").ids == std::vector<std::int32_t>{kCls, 7592, 2088, kSep});
}

TEST_CASE("special tokens, type ids, attention mask and offsets") {
  const Tokenizer& tokenizer = minilm_tokenizer();
  const Encoding encoding = tokenizer.encode("Hello, world!");
  CHECK(encoding.ids == std::vector<std::int32_t>{kCls, 7592, 1010, 2088, 999, kSep});
  CHECK(encoding.type_ids == std::vector<std::int32_t>(6, 0));
  CHECK(encoding.attention_mask == std::vector<std::uint8_t>(6, 1));
  CHECK(encoding.offsets ==
        std::vector<TokenOffset>{{0, 0}, {0, 5}, {5, 6}, {7, 12}, {12, 13}, {0, 0}});

  TokenizeOptions plain;
  plain.add_special_tokens = false;
  CHECK(tokenizer.encode("Hello, world!", plain).ids ==
        std::vector<std::int32_t>{7592, 1010, 2088, 999});
  CHECK(tokenizer.encode("", plain).ids.empty());
  CHECK(tokenizer.encode("").ids == std::vector<std::int32_t>{kCls, kSep});
}

TEST_CASE("special tokens in the text are never split") {
  const Tokenizer& tokenizer = minilm_tokenizer();
  const Encoding encoding = tokenizer.encode("hello [MASK] world");
  CHECK(encoding.ids == std::vector<std::int32_t>{kCls, 7592, kMask, 2088, kSep});
  CHECK(encoding.offsets[2] == TokenOffset{6, 12});
  CHECK(tokenizer.encode("[CLS][MASK]x").ids ==
        std::vector<std::int32_t>{kCls, kCls, kMask, 1060, kSep});
  // Matched on the raw text: a lowercase spelling is ordinary text.
  CHECK(tokenizer.encode("[mask]").ids.size() == 5);
  TokenizeOptions plain;
  plain.add_special_tokens = false;
  CHECK(tokenizer.encode("[UNK][PAD]", plain).ids == std::vector<std::int32_t>{kUnk, kPad});
}

TEST_CASE("truncation keeps the special tokens") {
  const Tokenizer& tokenizer = minilm_tokenizer();
  std::string text;
  for (int i = 0; i < 400; ++i) text += "word ";
  const Encoding full = tokenizer.encode(text);
  CHECK(full.ids.size() == 256);
  CHECK(full.ids.front() == kCls);
  CHECK(full.ids.back() == kSep);

  TokenizeOptions options;
  options.max_length = 8;
  const Encoding eight = tokenizer.encode(text, options);
  CHECK(eight.ids == std::vector<std::int32_t>{kCls, 2773, 2773, 2773, 2773, 2773, 2773, kSep});
  CHECK(eight.offsets[6] == TokenOffset{25, 29});

  options.truncate = false;
  CHECK(tokenizer.encode(text, options).ids.size() == 402);

  TokenizeOptions tiny;
  tiny.max_length = 1;
  CHECK(tokenizer.encode("a b c", tiny).ids == std::vector<std::int32_t>{kCls, kSep});
}

TEST_CASE("padding: none, longest in a batch, max length") {
  const Tokenizer& tokenizer = minilm_tokenizer();
  const std::vector<std::string_view> texts = {"short", "a somewhat longer text here", ""};

  const auto unpadded = tokenizer.encode_batch(texts);
  CHECK(unpadded[0].ids.size() == 3);
  CHECK(unpadded[1].ids.size() == 7);
  CHECK(unpadded[2].ids.size() == 2);

  TokenizeOptions longest;
  longest.padding = Padding::Longest;
  const auto padded = tokenizer.encode_batch(texts, longest);
  for (const Encoding& encoding : padded) {
    CHECK(encoding.ids.size() == 7);
    CHECK(encoding.type_ids.size() == 7);
    CHECK(encoding.attention_mask.size() == 7);
    CHECK(encoding.offsets.size() == 7);
  }
  CHECK(padded[0].ids == std::vector<std::int32_t>{kCls, 2460, kSep, kPad, kPad, kPad, kPad});
  CHECK(padded[0].attention_mask == std::vector<std::uint8_t>{1, 1, 1, 0, 0, 0, 0});
  CHECK(padded[0].offsets[5] == TokenOffset{0, 0});
  CHECK(tokenizer.encode("short", longest).ids.size() == 3);

  TokenizeOptions fixed;
  fixed.padding = Padding::MaxLength;
  fixed.max_length = 10;
  const auto ten = tokenizer.encode_batch(texts, fixed);
  for (const Encoding& encoding : ten) CHECK(encoding.ids.size() == 10);
  std::vector<std::int32_t> ids;
  tokenizer.encode_ids("short", ids, fixed);
  CHECK(ids == std::vector<std::int32_t>{kCls, 2460, kSep, 0, 0, 0, 0, 0, 0, 0});

  fixed.max_length = 0;  // the model's 256
  CHECK(tokenizer.encode("short", fixed).ids.size() == 256);
}

TEST_CASE("words longer than 100 characters become one unknown token") {
  const Tokenizer& tokenizer = minilm_tokenizer();
  TokenizeOptions plain;
  plain.add_special_tokens = false;
  CHECK(tokenizer.encode(std::string(100, 'x'), plain).ids.size() > 1);
  const Encoding encoding = tokenizer.encode(std::string(101, 'x') + " ok", plain);
  CHECK(encoding.ids == std::vector<std::int32_t>{kUnk, 7929});
  CHECK(encoding.offsets[0] == TokenOffset{0, 101});
}

TEST_CASE("invalid UTF-8 is repaired lossily and offsets point into the original bytes") {
  const Tokenizer& tokenizer = minilm_tokenizer();
  TokenizeOptions plain;
  plain.add_special_tokens = false;
  // The replacement character is dropped by BERT's text cleaning and joins its neighbours.
  const Encoding encoding = tokenizer.encode(
      "ab\xff\xfe"
      "cd caf\xc3\xa9",
      plain);
  CHECK(encoding.ids == tokenizer.encode("abcd cafe", plain).ids);
  CHECK(encoding.offsets.back().end == 12);

  // Never a crash, whatever the bytes.
  std::mt19937 rng(7);
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const Encoding random = tokenizer.encode(bytes);
    for (const TokenOffset& offset : random.offsets) {
      CHECK(offset.begin <= offset.end);
      CHECK(offset.end <= bytes.size());
    }
    tokenizer.encode_ids(bytes, ids);
    CHECK(ids == random.ids);
  }
}

TEST_CASE("padding to the maximum length needs a maximum") {
  const Tokenizer& tokenizer = minilm_tokenizer();
  TokenizeOptions options;
  options.padding = Padding::MaxLength;
  options.max_length = 4;
  options.truncate = false;
  // Longer than max_length and not truncated: no padding, nothing cut.
  CHECK(tokenizer.encode("one two three four five", options).ids.size() == 7);
}

}  // namespace
}  // namespace nowrec::test
