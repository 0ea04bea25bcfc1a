// The SentencePiece backend against sentencepiece's ids and offsets and transformers' XLM-R ids.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "nowrec/error.hpp"
#include "sentencepiece_fixture.hpp"
#include "test_support.hpp"
#include "tokenizer/backend.hpp"

namespace {

using nowrec::ErrorCode;
using nowrec::detail::TokenPiece;
using nowrec::test::sentencepiece_cases;
using nowrec::test::sentencepiece_tokenizer_files;

constexpr std::int32_t kSentencePieceSize = 8000;  // vocab_size in make_sentencepiece_model.py
constexpr std::int32_t kMaskId = kSentencePieceSize + 1;

std::vector<std::int32_t> ids_of(const std::vector<TokenPiece>& pieces) {
  std::vector<std::int32_t> ids;
  for (const auto& piece : pieces) ids.push_back(piece.id);
  return ids;
}

// transformers' XLMRobertaTokenizer: sentencepiece's <unk> (0) is 3, every other piece id + 1.
std::vector<std::int32_t> fairseq_ids(const std::vector<int>& sp_ids) {
  std::vector<std::int32_t> ids;
  for (int id : sp_ids) ids.push_back(id == 0 ? 3 : id + 1);
  return ids;
}

void expect_invalid_model(const std::filesystem::path& model_path) {
  auto files = sentencepiece_tokenizer_files();
  files.sentencepiece_model = model_path;
  try {
    (void)nowrec::detail::make_sentencepiece_backend(files);
    FAIL("loaded a malformed model: " << model_path);
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == ErrorCode::InvalidModel);
    CHECK(std::string(error.what()).find(model_path.string()) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("SentencePiece backend gives sentencepiece's pieces and byte offsets in fairseq ids") {
  const auto backend = nowrec::detail::make_sentencepiece_backend(sentencepiece_tokenizer_files());
  std::size_t compared = 0;
  for (const auto& item : sentencepiece_cases()) {
    if (!item.sp_ids) continue;
    INFO("text: " << item.text);
    std::vector<TokenPiece> pieces;
    backend->tokenize(item.text, pieces);
    const auto expected = fairseq_ids(*item.sp_ids);
    REQUIRE(ids_of(pieces) == expected);
    REQUIRE(pieces.size() == item.sp_offsets.size());
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      CHECK(pieces[i].begin == item.sp_offsets[i].first);
      CHECK(pieces[i].end == item.sp_offsets[i].second);
    }
    // Without truncation, transformers' ids are exactly <s> + these + </s>.
    if (item.ids.size() < 512) {
      auto with_specials = expected;
      with_specials.insert(with_specials.begin(), 0);
      with_specials.push_back(2);
      CHECK(item.ids == with_specials);
    }
    ++compared;
  }
  CHECK(compared > 2000);
}

TEST_CASE("SentencePiece backend appends to the output and gives nothing for blank text") {
  const auto backend = nowrec::detail::make_sentencepiece_backend(sentencepiece_tokenizer_files());
  std::vector<TokenPiece> pieces{{.id = 42, .begin = 7, .end = 9}};
  backend->tokenize("", pieces);
  backend->tokenize("   ", pieces);
  REQUIRE(pieces.size() == 1);
  backend->tokenize("Toy Story", pieces);
  CHECK(pieces.size() > 1);
  CHECK(pieces.front().id == 42);
}

TEST_CASE("SentencePiece backend vocabulary follows transformers' XLMRobertaTokenizer") {
  const auto backend = nowrec::detail::make_sentencepiece_backend(sentencepiece_tokenizer_files());
  CHECK(backend->vocab_size() == static_cast<std::size_t>(kSentencePieceSize + 2));

  CHECK(backend->token_to_id("<s>") == 0);
  CHECK(backend->token_to_id("<pad>") == 1);
  CHECK(backend->token_to_id("</s>") == 2);
  CHECK(backend->token_to_id("<unk>") == 3);
  CHECK(backend->token_to_id("<mask>") == kMaskId);
  CHECK(backend->id_to_token(0) == "<s>");
  CHECK(backend->id_to_token(1) == "<pad>");
  CHECK(backend->id_to_token(2) == "</s>");
  CHECK(backend->id_to_token(3) == "<unk>");
  CHECK(backend->id_to_token(kMaskId) == "<mask>");

  // Pieces 0..2 are <unk> <s> </s>; the first ordinary piece is sentencepiece id 3.
  CHECK(backend->id_to_token(4) != "");
  CHECK(backend->token_to_id("\xE2\x96\x81The").has_value());
  CHECK_FALSE(backend->token_to_id("not a piece of this vocabulary").has_value());
  CHECK_FALSE(backend->token_to_id("").has_value());

  for (std::int32_t id = 0; id <= kMaskId; ++id) {
    const std::string token = backend->id_to_token(id);
    INFO("id " << id << " token " << token);
    REQUIRE(backend->token_to_id(token) == id);
  }

  for (std::int32_t id : {-1, kMaskId + 1, 1 << 30}) {
    try {
      (void)backend->id_to_token(id);
      FAIL("id_to_token accepted " << id);
    } catch (const nowrec::Error& error) {
      CHECK(error.code() == ErrorCode::NotFound);
      CHECK(std::string(error.what()).find(std::to_string(id)) != std::string::npos);
    }
  }
}

TEST_CASE("SentencePiece backend rejects a missing or unnamed model file") {
  auto files = sentencepiece_tokenizer_files();
  files.sentencepiece_model = nowrec::test::sentencepiece_model_dir() / "no-such.model";
  try {
    (void)nowrec::detail::make_sentencepiece_backend(files);
    FAIL("loaded a missing file");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == ErrorCode::NotFound);
    CHECK(std::string(error.what()).find("no-such.model") != std::string::npos);
  }
  files.sentencepiece_model.clear();
  CHECK_THROWS_AS((void)nowrec::detail::make_sentencepiece_backend(files), nowrec::Error);
}

TEST_CASE("SentencePiece backend rejects malformed model files without crashing") {
  const std::string model =
      nowrec::test::read_file(sentencepiece_tokenizer_files().sentencepiece_model);
  nowrec::test::TempDir dir;
  const auto path = dir.path() / "sentencepiece.bpe.model";

  SUBCASE("empty") { nowrec::test::write_file(path, ""); }
  SUBCASE("text") { nowrec::test::write_file(path, "this is not a sentencepiece model\n"); }
  SUBCASE("json") { nowrec::test::write_file(path, R"({"model": {"type": "Unigram"}})"); }
  SUBCASE("random bytes") {
    std::string bytes;
    std::uint32_t state = 12345;
    for (int i = 0; i < 4096; ++i) {
      state = state * 1664525u + 1013904223u;
      bytes.push_back(static_cast<char>(state >> 24));
    }
    nowrec::test::write_file(path, bytes);
  }
  SUBCASE("protobuf with an empty piece list and normalizer") {
    nowrec::test::write_file(path, std::string("\x0a\x00\x1a\x00", 4));
  }
  SUBCASE("length prefix past the end") {
    nowrec::test::write_file(path, std::string("\x0a\xff\xff\x03", 4) + model.substr(0, 64));
  }
  SUBCASE("a directory") { std::filesystem::create_directory(path); }
  expect_invalid_model(path);
}

TEST_CASE("SentencePiece backend rejects every truncation of a real model") {
  const std::string model =
      nowrec::test::read_file(sentencepiece_tokenizer_files().sentencepiece_model);
  nowrec::test::TempDir dir;
  const auto path = dir.path() / "sentencepiece.bpe.model";
  std::vector<std::size_t> cuts;
  // Every length through the first pieces (so some cuts fall between two pieces), then a
  // stride through the rest, then the last bytes of the normalizer.
  for (std::size_t n = 0; n < 1500; ++n) cuts.push_back(n);
  for (std::size_t n = 1500; n < model.size(); n += 977) cuts.push_back(n);
  for (std::size_t n = model.size() - 64; n < model.size(); ++n) cuts.push_back(n);
  for (std::size_t cut : cuts) {
    INFO("cut at " << cut << " of " << model.size() << " bytes");
    nowrec::test::write_file(path, model.substr(0, cut));
    expect_invalid_model(path);
  }
}

TEST_CASE("SentencePiece backend tokenises from several threads at once") {
  const auto backend = nowrec::detail::make_sentencepiece_backend(sentencepiece_tokenizer_files());
  std::vector<const nowrec::test::SentencePieceCase*> cases;
  for (const auto& item : sentencepiece_cases()) {
    if (item.sp_ids) cases.push_back(&item);
  }
  std::atomic<std::size_t> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<TokenPiece> pieces;
      for (int round = 0; round < 3; ++round) {
        for (std::size_t i = static_cast<std::size_t>(t); i < cases.size() + t; ++i) {
          const auto& item = *cases[i % cases.size()];
          pieces.clear();
          backend->tokenize(item.text, pieces);
          if (ids_of(pieces) != fairseq_ids(*item.sp_ids)) ++mismatches;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(mismatches.load() == 0);
}
