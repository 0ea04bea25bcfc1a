// The WordPiece backend: BERT's normalisation and word splitting, then greedy longest-match-first
// WordPiece over a double-array trie.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/backend.hpp"
#include "tokenizer/bert_normalizer.hpp"
#include "tokenizer/wordpiece_trie.hpp"

namespace nowrec::detail {

struct WordPieceOptions {
  BertNormalizerOptions normalizer;
  std::string unk_token = "[UNK]";
  std::string continuation_prefix = "##";
  std::uint32_t max_input_chars_per_word = 100;
};

// Reads a WordPiece vocabulary: one token a line, the line number is its id. Throws
// Error(NotFound) or Error(InvalidModel) naming the file.
std::vector<std::string> read_wordpiece_vocab(const std::filesystem::path& path);

// Thread-safety: immutable after construction; tokenize() may run on many threads at once.
class WordPieceBackend final : public TokenizerBackend {
 public:
  // Throws Error(InvalidModel) when the unknown token is not in the vocabulary.
  WordPieceBackend(std::vector<std::string> vocab, const WordPieceOptions& options);

  void tokenize(std::string_view text, std::vector<TokenPiece>& out) const override;
  std::size_t vocab_size() const override { return vocab_.size(); }
  std::optional<std::int32_t> token_to_id(std::string_view token) const override;
  std::string id_to_token(std::int32_t id) const override;

 private:
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, std::int32_t> ids_;
  WordPieceTrie trie_;
  BertNormalizer normalizer_;
  std::int32_t unk_id_ = 0;
  std::uint32_t max_chars_ = 100;
};

}  // namespace nowrec::detail
