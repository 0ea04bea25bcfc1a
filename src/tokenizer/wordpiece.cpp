// The WordPiece backend (see wordpiece.hpp).
#include "tokenizer/wordpiece.hpp"

#include <fstream>

#include "nowrec/error.hpp"

namespace nowrec::detail {
namespace {

// Per-thread buffers: warm calls allocate nothing and the backend itself stays immutable.
struct WordPieceScratch {
  WordScratch words;
  std::vector<WordPieceMatch> matches;
};

WordPieceScratch& thread_scratch() {
  thread_local WordPieceScratch scratch;
  return scratch;
}

class PieceCollector final : public WordSink {
 public:
  PieceCollector(const WordPieceTrie& trie, std::vector<WordPieceMatch>& matches,
                 std::vector<TokenPiece>& out, std::int32_t unk_id, std::uint32_t max_chars)
      : trie_(trie), matches_(matches), out_(out), unk_id_(unk_id), max_chars_(max_chars) {}

  void on_word(const NormalizedWord& word) override {
    if (word.chars > max_chars_) {
      out_.push_back({unk_id_, word.begin, word.end});
      return;
    }
    if (matches_.size() < word.bytes.size()) matches_.resize(word.bytes.size());
    const std::size_t count = trie_.split(word.bytes, matches_.data());
    if (count == 0) {
      out_.push_back({unk_id_, word.begin, word.end});
      return;
    }
    for (std::size_t i = 0; i < count; ++i) {
      const WordPieceMatch& match = matches_[i];
      out_.push_back({match.id, word.source_begin[match.begin], word.source_end[match.end - 1]});
    }
  }

 private:
  const WordPieceTrie& trie_;
  std::vector<WordPieceMatch>& matches_;
  std::vector<TokenPiece>& out_;
  std::int32_t unk_id_;
  std::uint32_t max_chars_;
};

}  // namespace

std::vector<std::string> read_wordpiece_vocab(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::NotFound, "cannot open WordPiece vocabulary " + path.string());
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    // tokenizers trims the end of each line (Rust's trim_end); vocabularies hold no tokens that
    // end in whitespace, so ASCII whitespace covers the \r of Windows line ends.
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    tokens.push_back(line);
  }
  if (tokens.empty()) {
    throw Error(ErrorCode::InvalidModel, "WordPiece vocabulary " + path.string() + " is empty");
  }
  return tokens;
}

WordPieceBackend::WordPieceBackend(std::vector<std::string> vocab, const WordPieceOptions& options)
    : vocab_(std::move(vocab)),
      trie_(vocab_, options.continuation_prefix),
      normalizer_(options.normalizer, options.max_input_chars_per_word),
      max_chars_(options.max_input_chars_per_word) {
  ids_.reserve(vocab_.size());
  for (std::size_t id = 0; id < vocab_.size(); ++id) {
    ids_[vocab_[id]] = static_cast<std::int32_t>(id);
  }
  const auto unk = ids_.find(options.unk_token);
  if (unk == ids_.end()) {
    throw Error(ErrorCode::InvalidModel,
                "WordPiece unknown token '" + options.unk_token + "' is not in the vocabulary");
  }
  unk_id_ = unk->second;
}

void WordPieceBackend::tokenize(std::string_view text, std::vector<TokenPiece>& out) const {
  WordPieceScratch& scratch = thread_scratch();
  PieceCollector collector(trie_, scratch.matches, out, unk_id_, max_chars_);
  normalizer_.split(text, scratch.words, collector);
}

std::optional<std::int32_t> WordPieceBackend::token_to_id(std::string_view token) const {
  const auto found = ids_.find(std::string(token));
  if (found == ids_.end()) return std::nullopt;
  return found->second;
}

std::string WordPieceBackend::id_to_token(std::int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= vocab_.size()) {
    throw Error(ErrorCode::NotFound, "token id " + std::to_string(id) +
                                         " is outside the WordPiece vocabulary of " +
                                         std::to_string(vocab_.size()) + " tokens");
  }
  return vocab_[static_cast<std::size_t>(id)];
}

std::unique_ptr<TokenizerBackend> make_wordpiece_backend(const TokenizerFiles& files) {
  if (files.vocab_txt.empty()) {
    throw Error(ErrorCode::InvalidModel, "WordPiece tokenizer needs vocab.txt; none was found");
  }
  WordPieceOptions options;
  options.normalizer.clean_text = files.clean_text;
  options.normalizer.handle_chinese_chars = files.tokenize_chinese_chars;
  options.normalizer.lowercase = files.lowercase;
  options.normalizer.strip_accents = files.strip_accents.value_or(files.lowercase);
  if (!files.unk_token.empty()) options.unk_token = files.unk_token;
  if (files.max_input_chars_per_word <= 0) {
    throw Error(ErrorCode::InvalidModel,
                "WordPiece max_input_chars_per_word must be positive, got " +
                    std::to_string(files.max_input_chars_per_word));
  }
  options.max_input_chars_per_word = static_cast<std::uint32_t>(files.max_input_chars_per_word);
  return std::make_unique<WordPieceBackend>(read_wordpiece_vocab(files.vocab_txt), options);
}

}  // namespace nowrec::detail
