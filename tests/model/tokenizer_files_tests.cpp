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
