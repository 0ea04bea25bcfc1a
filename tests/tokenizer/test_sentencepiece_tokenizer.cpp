// nowrec::Tokenizer on the XLM-R-style SentencePiece folder, id for id against transformers.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "nowrec/tokenizer.hpp"
#include "sentencepiece_fixture.hpp"

namespace {

using nowrec::test::sentencepiece_cases;
using nowrec::test::sentencepiece_model_dir;

constexpr std::int32_t kMaskId = 8001;  // 8000 sentencepiece pieces + fairseq's offset

}  // namespace

TEST_CASE("Tokenizer gives transformers' XLMRobertaTokenizer ids on every fixture line") {
  const auto tokenizer = nowrec::Tokenizer::load(sentencepiece_model_dir());
  CHECK(tokenizer.kind() == nowrec::TokenizerKind::SentencePiece);
  CHECK(tokenizer.max_length() == 512);
  REQUIRE(sentencepiece_cases().size() >= 2000);
  std::vector<std::int32_t> ids;
  for (const auto& item : sentencepiece_cases()) {
    INFO("text: " << item.text);
    tokenizer.encode_ids(item.text, ids);
    CHECK(ids == item.ids);
  }
}

TEST_CASE("Tokenizer encode() agrees with encode_ids() on the SentencePiece folder") {
  const auto tokenizer = nowrec::Tokenizer::load(sentencepiece_model_dir());
  for (const auto& item : sentencepiece_cases()) {
    INFO("text: " << item.text);
    const auto encoding = tokenizer.encode(item.text);
    CHECK(encoding.ids == item.ids);
    REQUIRE(encoding.offsets.size() == encoding.ids.size());
    for (const auto& offset : encoding.offsets) {
      CHECK(offset.begin <= offset.end);
      CHECK(offset.end <= item.text.size());
    }
  }
}

TEST_CASE("Tokenizer special tokens and vocabulary of the SentencePiece folder") {
  const auto tokenizer = nowrec::Tokenizer::load(sentencepiece_model_dir());
  CHECK(tokenizer.vocab_size() == static_cast<std::size_t>(kMaskId + 1));
  CHECK(tokenizer.pad_id() == 1);
  CHECK(tokenizer.token_to_id("<s>") == 0);
  CHECK(tokenizer.token_to_id("<pad>") == 1);
  CHECK(tokenizer.token_to_id("</s>") == 2);
  CHECK(tokenizer.token_to_id("<unk>") == 3);
  CHECK(tokenizer.token_to_id("<mask>") == kMaskId);
  for (std::int32_t id = 0; id <= kMaskId; ++id) {
    const std::string token = tokenizer.id_to_token(id);
    INFO("id " << id << " token " << token);
    REQUIRE(tokenizer.token_to_id(token) == id);
  }
  CHECK_THROWS_AS((void)tokenizer.id_to_token(kMaskId + 1), nowrec::Error);
  CHECK_THROWS_AS((void)tokenizer.id_to_token(-1), nowrec::Error);

  std::vector<std::int32_t> ids;
  tokenizer.encode_ids("", ids);
  CHECK(ids == std::vector<std::int32_t>{0, 2});
  tokenizer.encode_ids("", ids, {.add_special_tokens = false});
  CHECK(ids.empty());
}

TEST_CASE("Tokenizer on the SentencePiece folder from several threads at once") {
  const auto tokenizer = nowrec::Tokenizer::load(sentencepiece_model_dir());
  const auto& cases = sentencepiece_cases();
  std::atomic<std::size_t> mismatches{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::int32_t> ids;
      for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& item = cases[(i + t * cases.size() / 4) % cases.size()];
        tokenizer.encode_ids(item.text, ids);
        if (ids != item.ids) ++mismatches;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(mismatches.load() == 0);
}
