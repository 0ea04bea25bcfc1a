// The interface between the Tokenizer front (special tokens, truncation, padding, offsets) and
// the algorithms that split text into vocabulary ids (WordPiece, SentencePiece).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nowrec/model_folder.hpp"

namespace nowrec::detail {

// One token of a backend's output: its id and the byte range [begin, end) in the text the
// backend was given.
struct TokenPiece {
  std::int32_t id = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

// Thread-safety: implementations are immutable after construction; tokenize() is const and
// must be safe to call from many threads at once.
class TokenizerBackend {
 public:
  virtual ~TokenizerBackend() = default;

  // Splits valid UTF-8 `text` (the front has already repaired invalid bytes and cut out
  // special tokens) into pieces, appended to `out`. No special tokens are added.
  virtual void tokenize(std::string_view text, std::vector<TokenPiece>& out) const = 0;

  virtual std::size_t vocab_size() const = 0;
  virtual std::optional<std::int32_t> token_to_id(std::string_view token) const = 0;
  // Throws Error(NotFound) for an id outside the vocabulary.
  virtual std::string id_to_token(std::int32_t id) const = 0;
};

// WordPiece with BERT's basic tokenizer (src/tokenizer/wordpiece.cpp).
std::unique_ptr<TokenizerBackend> make_wordpiece_backend(const TokenizerFiles& files);
// SentencePiece with the Hugging Face XLM-R id mapping (src/tokenizer/sentencepiece_backend.cpp).
std::unique_ptr<TokenizerBackend> make_sentencepiece_backend(const TokenizerFiles& files);

}  // namespace nowrec::detail
