// Tokenizer: WordPiece (BERT family) and SentencePiece (XLM-R family), id-for-id equal to the
// Hugging Face tokenizers of the same model folder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nowrec/model_folder.hpp"

namespace nowrec {

// Byte range [begin, end) of a token in the caller's text. Special tokens have {0, 0}.
struct TokenOffset {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  friend bool operator==(const TokenOffset&, const TokenOffset&) = default;
};

struct Encoding {
  std::vector<std::int32_t> ids;
  std::vector<std::int32_t> type_ids;
  std::vector<std::uint8_t> attention_mask;  // 1 for real tokens, 0 for padding
  std::vector<TokenOffset> offsets;
};

enum class Padding {
  None,       // each encoding keeps its own length
  Longest,    // pad a batch to its longest encoding
  MaxLength,  // pad to max_length
};

struct TokenizeOptions {
  bool add_special_tokens = true;
  // Tokens per sequence, special tokens included. 0: the model's maximum length.
  std::size_t max_length = 0;
  bool truncate = true;
  Padding padding = Padding::None;
};

// Ids equal those of Hugging Face tokenizers for the same folder (tokenizer.json's normaliser,
// pre-tokeniser, model and [CLS] $A [SEP] / <s> $A </s> template), offsets are byte ranges.
//
// Invalid UTF-8 in the input is decoded lossily: each maximal invalid subsequence becomes U+FFFD
// (as Rust's String::from_utf8_lossy and Python's bytes.decode("utf-8", "replace") do), which
// BERT's text cleaning then drops; a SentencePiece model sees the U+FFFD. Offsets still point into
// the original bytes.
//
// The added tokens of tokenizer.json (or, without it, the special tokens) are matched on the raw
// text before normalisation, leftmost and longest first, and never split: "hello [MASK] world"
// keeps [MASK] as one id whose offsets cover it in the text. Their lstrip/rstrip flags are
// honoured; single_word and normalized are not.
//
// Thread-safety: every method is const; one Tokenizer may be used from many threads at once.
class Tokenizer {
 public:
  // The tokenizer a model folder describes (WordPiece from vocab.txt, or SentencePiece).
  // max_length() is the model's max_sequence_length().
  static Tokenizer load(const ModelFolder& model);
  // A folder with config.json loads as a ModelFolder (max_length() as above). A folder of
  // tokenizer files alone: max_length() is tokenizer_config.json's model_max_length, or 0 (no
  // truncation) when it states none.
  static Tokenizer load(const std::filesystem::path& model_dir);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  Encoding encode(std::string_view text, const TokenizeOptions& options = {}) const;
  std::vector<Encoding> encode_batch(std::span<const std::string_view> texts,
                                     const TokenizeOptions& options = {}) const;
  // Ids only, written to `ids` (cleared first), padded as `options` asks: the hot path, which
  // allocates nothing once `ids` and the calling thread's buffers are warm.
  void encode_ids(std::string_view text, std::vector<std::int32_t>& ids,
                  const TokenizeOptions& options = {}) const;

  TokenizerKind kind() const noexcept;
  std::size_t vocab_size() const noexcept;
  std::size_t max_length() const noexcept;
  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  // Throws Error(NotFound) for an id outside the vocabulary.
  std::string id_to_token(std::int32_t id) const;
  std::int32_t pad_id() const noexcept;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nowrec
