// read_tokenizer_files: tokenizer kind, behaviour flags and special tokens from a folder.
#include <doctest/doctest.h>

#include "nowrec/error.hpp"
#include "nowrec/model_folder.hpp"
#include "test_support.hpp"

using nowrec::ErrorCode;
using nowrec::TokenizerKind;
using nowrec::test::TempDir;
using nowrec::test::write_file;

TEST_CASE("read_tokenizer_files reads the real WordPiece folder") {
  const auto files = nowrec::read_tokenizer_files(nowrec::test::model_dir());
  CHECK(files.kind == TokenizerKind::WordPiece);
  CHECK(files.vocab_txt == nowrec::test::model_dir() / "vocab.txt");
  CHECK(files.tokenizer_json == nowrec::test::model_dir() / "tokenizer.json");
  CHECK(files.lowercase);
  CHECK_FALSE(files.strip_accents.has_value());
  CHECK(files.tokenize_chinese_chars);
  CHECK(files.clean_text);
  CHECK(files.cls_token == "[CLS]");
  CHECK(files.sep_token == "[SEP]");
  CHECK(files.pad_token == "[PAD]");
  CHECK(files.unk_token == "[UNK]");
  CHECK(files.mask_token == "[MASK]");
  CHECK(files.model_max_length == 512);
  CHECK(files.max_input_chars_per_word == 100);
}

namespace {

void check_fails(const std::filesystem::path& dir, ErrorCode code,
                 std::initializer_list<std::string> fragments) {
  try {
    nowrec::read_tokenizer_files(dir);
    FAIL("read a broken tokenizer folder");
  } catch (const nowrec::Error& error) {
    CHECK_MESSAGE(error.code() == code, error.what());
    const std::string message = error.what();
    for (const std::string& fragment : fragments) {
      CHECK_MESSAGE(message.find(fragment) != std::string::npos, message, " lacks ", fragment);
    }
  }
}

}  // namespace

TEST_CASE("read_tokenizer_files needs only the tokenizer's files") {
  TempDir dir;
  write_file(dir.path() / "vocab.txt", "[PAD]\n[UNK]\n");
  const auto files = nowrec::read_tokenizer_files(dir.path());
  CHECK(files.kind == TokenizerKind::WordPiece);
  CHECK(files.tokenizer_json.empty());
  CHECK(files.sentencepiece_model.empty());
  CHECK(files.lowercase);
  CHECK(files.cls_token == "[CLS]");
  CHECK(files.mask_token == "[MASK]");
  CHECK(files.bos_token.empty());
  CHECK(files.model_max_length == 0);
}

TEST_CASE("read_tokenizer_files: SentencePiece folders in the XLM-R style") {
  TempDir dir;
  write_file(dir.path() / "sentencepiece.bpe.model", "not parsed here");
  write_file(dir.path() / "tokenizer_config.json",
             R"({"model_max_length": 1000000000000000019884624838656,
                 "tokenizer_class": "XLMRobertaTokenizer"})");
  write_file(dir.path() / "special_tokens_map.json",
             R"({"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>",
                 "mask_token": {"content": "<mask>", "lstrip": true, "normalized": false},
                 "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"})");
  const auto files = nowrec::read_tokenizer_files(dir.path());
  CHECK(files.kind == TokenizerKind::SentencePiece);
  CHECK(files.sentencepiece_model == dir.path() / "sentencepiece.bpe.model");
  CHECK(files.vocab_txt.empty());
  CHECK_FALSE(files.lowercase);
  CHECK(files.cls_token == "<s>");
  CHECK(files.sep_token == "</s>");
  CHECK(files.bos_token == "<s>");
  CHECK(files.eos_token == "</s>");
  CHECK(files.mask_token == "<mask>");
  CHECK(files.pad_token == "<pad>");
  CHECK(files.unk_token == "<unk>");
  CHECK(files.model_max_length == 0);
}

TEST_CASE("read_tokenizer_files: spiece.model and SentencePiece defaults") {
  TempDir dir;
  write_file(dir.path() / "spiece.model", "x");
  const auto files = nowrec::read_tokenizer_files(dir.path());
  CHECK(files.kind == TokenizerKind::SentencePiece);
  CHECK(files.sentencepiece_model == dir.path() / "spiece.model");
  CHECK(files.cls_token == "<s>");
  CHECK(files.sep_token == "</s>");
  CHECK(files.pad_token == "<pad>");
  CHECK(files.unk_token == "<unk>");
  CHECK(files.mask_token == "<mask>");
}

TEST_CASE("read_tokenizer_files: no tokenizer or no folder") {
  TempDir dir;
  check_fails(dir.path(), ErrorCode::NotFound, {dir.path().string(), "vocab.txt"});
  check_fails(dir.path() / "absent", ErrorCode::NotFound, {"absent"});
}

TEST_CASE("read_tokenizer_files: tokenizer.json overrides the older files") {
  TempDir dir;
  write_file(dir.path() / "vocab.txt", "[PAD]\n");
  write_file(dir.path() / "tokenizer_config.json",
             R"({"do_lower_case": true, "strip_accents": true, "tokenize_chinese_chars": true,
                 "unk_token": "[UNK]", "model_max_length": 128})");
  write_file(dir.path() / "special_tokens_map.json", R"({"cls_token": "[BOS]"})");

  SUBCASE("BertNormalizer at the top") {
    write_file(dir.path() / "tokenizer.json",
               R"({"normalizer": {"type": "BertNormalizer", "clean_text": false,
                                  "handle_chinese_chars": false, "strip_accents": null,
                                  "lowercase": false},
                   "model": {"type": "WordPiece", "unk_token": "<unk>",
                             "max_input_chars_per_word": 50, "vocab": {}}})");
    const auto files = nowrec::read_tokenizer_files(dir.path());
    CHECK_FALSE(files.lowercase);
    CHECK_FALSE(files.strip_accents.has_value());  // null resets tokenizer_config's true
    CHECK_FALSE(files.tokenize_chinese_chars);
    CHECK_FALSE(files.clean_text);
    CHECK(files.unk_token == "<unk>");
    CHECK(files.max_input_chars_per_word == 50);
    CHECK(files.cls_token == "[BOS]");
    CHECK(files.model_max_length == 128);
  }
  SUBCASE("BertNormalizer inside a Sequence") {
    write_file(dir.path() / "tokenizer.json",
               R"({"normalizer": {"type": "Sequence", "normalizers": [
                     {"type": "NFC"},
                     {"type": "BertNormalizer", "lowercase": false, "strip_accents": false}]},
                   "model": null})");
    const auto files = nowrec::read_tokenizer_files(dir.path());
    CHECK_FALSE(files.lowercase);
    CHECK(files.strip_accents == false);
    CHECK(files.tokenize_chinese_chars);
  }
  SUBCASE("values from tokenizer_config.json when tokenizer.json is silent") {
    write_file(dir.path() / "tokenizer.json", R"({"normalizer": null})");
    const auto files = nowrec::read_tokenizer_files(dir.path());
    CHECK(files.lowercase);
    CHECK(files.strip_accents == true);
    CHECK(files.unk_token == "[UNK]");
  }
}

TEST_CASE("read_tokenizer_files: malformed fields name the file and field") {
  TempDir dir;
  write_file(dir.path() / "vocab.txt", "[PAD]\n");
  SUBCASE("do_lower_case") {
    write_file(dir.path() / "tokenizer_config.json", R"({"do_lower_case": "yes"})");
    check_fails(dir.path(), ErrorCode::InvalidModel,
                {"tokenizer_config.json", "field 'do_lower_case' must be a boolean"});
  }
  SUBCASE("strip_accents") {
    write_file(dir.path() / "tokenizer_config.json", R"({"strip_accents": 1})");
    check_fails(dir.path(), ErrorCode::InvalidModel,
                {"tokenizer_config.json", "field 'strip_accents'"});
  }
  SUBCASE("model_max_length") {
    write_file(dir.path() / "tokenizer_config.json", R"({"model_max_length": 12.5})");
    check_fails(dir.path(), ErrorCode::InvalidModel,
                {"tokenizer_config.json", "field 'model_max_length'"});
  }
  SUBCASE("special token") {
    write_file(dir.path() / "special_tokens_map.json", R"({"sep_token": {"lstrip": true}})");
    check_fails(dir.path(), ErrorCode::InvalidModel,
                {"special_tokens_map.json", "field 'sep_token'"});
  }
  SUBCASE("normalizer option") {
    write_file(dir.path() / "tokenizer.json",
               R"({"normalizer": {"type": "BertNormalizer", "lowercase": "no"}})");
    check_fails(dir.path(), ErrorCode::InvalidModel,
                {"tokenizer.json", "field 'normalizer.lowercase' must be a boolean"});
  }
  SUBCASE("WordPiece option") {
    write_file(dir.path() / "tokenizer.json",
               R"({"model": {"type": "WordPiece", "max_input_chars_per_word": 0}})");
    check_fails(dir.path(), ErrorCode::InvalidModel,
                {"tokenizer.json", "field 'model.max_input_chars_per_word'"});
  }
  SUBCASE("Sequence normalizers nested without end") {
    std::string normalizer = R"({"type": "BertNormalizer"})";
    for (int level = 0; level < 50; ++level) {
      normalizer = R"({"type": "Sequence", "normalizers": [)" + normalizer + "]}";
    }
    write_file(dir.path() / "tokenizer.json", R"({"normalizer": )" + normalizer + "}");
    check_fails(dir.path(), ErrorCode::InvalidModel, {"tokenizer.json", "deeper than 8 levels"});
  }
  SUBCASE("not JSON") {
    write_file(dir.path() / "special_tokens_map.json", "{");
    check_fails(dir.path(), ErrorCode::InvalidModel, {"special_tokens_map.json", "not valid JSON"});
  }
}
