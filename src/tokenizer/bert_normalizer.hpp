// BERT's text normalisation and word splitting, as Hugging Face tokenizers' BertNormalizer and
// BertPreTokenizer perform them, with precomputed tables so that ASCII never reaches utf8proc.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace nowrec::detail {

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;  // the caller resolves BERT's "unset" (follow `lowercase`)
  bool lowercase = true;
};

// One word after normalisation and splitting.
struct NormalizedWord {
  // Normalised UTF-8. Holds only the first max_chars characters of a longer word: such a word
  // becomes one unknown token anyway, and storing it whole would make memory grow with the text.
  std::string_view bytes;
  // For each byte of `bytes`, the range in the source text of the character it came from.
  const std::uint32_t* source_begin = nullptr;
  const std::uint32_t* source_end = nullptr;
  std::uint32_t chars = 0;  // characters after normalisation, counted over the whole word
  std::uint32_t begin = 0;  // source range of the whole word
  std::uint32_t end = 0;
};

class WordSink {
 public:
  virtual void on_word(const NormalizedWord& word) = 0;

 protected:
  ~WordSink() = default;
};

// Buffers for BertNormalizer::split, kept per thread so that warm calls allocate nothing.
struct WordScratch {
  std::vector<char> bytes;
  std::vector<std::uint32_t> source_begin;
  std::vector<std::uint32_t> source_end;
};

// What normalisation does to one source character.
enum class CharKind : std::uint8_t {
  Removed,        // dropped by text cleaning (controls, format characters, U+0000, U+FFFD)
  Space,          // splits words and disappears
  Word,           // kept unchanged, part of a word
  Isolated,       // kept unchanged, a word of its own (punctuation)
  Mapped,         // replaced by `units`, each with its own kind
  MappedChinese,  // replaced by `units` that form words apart from their neighbours
};

// One normalised character (UTF-8 bytes) with its kind: Space, Word or Isolated.
struct CharUnit {
  char bytes[4] = {};
  std::uint8_t length = 0;
  CharKind kind = CharKind::Word;
};

// Rust's char::is_whitespace (the Unicode White_Space property).
bool is_unicode_whitespace(char32_t code_point) noexcept;

// Thread-safety: immutable after construction; split() may run on many threads at once.
class BertNormalizer {
 public:
  BertNormalizer(const BertNormalizerOptions& options, std::uint32_t max_chars);

  // Normalises valid UTF-8 `text` and hands each word to `sink`, in order. Offsets in the words
  // are relative to `text`.
  void split(std::string_view text, WordScratch& scratch, WordSink& sink) const;

  // The treatment of one code point; fills `units` (room for kMaxUnits) for Mapped kinds and
  // returns how many it wrote.
  static constexpr std::size_t kMaxUnits = 8;
  CharKind describe(char32_t code_point, CharUnit* units, std::size_t& unit_count) const;

  struct Table;

 private:
  BertNormalizerOptions options_;
  std::uint32_t max_chars_;
  std::shared_ptr<const Table> table_;
};

}  // namespace nowrec::detail
