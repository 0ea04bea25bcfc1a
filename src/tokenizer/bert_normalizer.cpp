// BERT's normalisation and word splitting (see bert_normalizer.hpp). The rules follow Hugging
// Face tokenizers (Rust): BertNormalizer then BertPreTokenizer.
#include "tokenizer/bert_normalizer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>

#include <utf8proc.h>

#include "tokenizer/bert_unicode_overrides.hpp"
#include "tokenizer/utf8.hpp"

namespace nowrec::detail {
namespace {

// Code points below this limit are described by a table built once per option set; the rest
// (rare CJK extensions, historic scripts) go through utf8proc on every occurrence.
constexpr char32_t kTableLimit = 0x20000;

bool is_bert_whitespace(char32_t cp) {
  return cp == '\t' || cp == '\n' || cp == '\r' || is_unicode_whitespace(cp);
}

// General category as the reference's table sees it (see bert_unicode_overrides.hpp).
utf8proc_category_t reference_category(char32_t cp) {
  if (bert_unicode::in_ranges(bert_unicode::kUnknownToReference, cp)) {
    return UTF8PROC_CATEGORY_CN;
  }
  if (bert_unicode::in_ranges(bert_unicode::kReferencePunctuation, cp)) {
    return UTF8PROC_CATEGORY_PO;
  }
  if (bert_unicode::in_ranges(bert_unicode::kReferenceNonspacingMark, cp)) {
    return UTF8PROC_CATEGORY_MN;
  }
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

// tokenizers' is_control: \t \n \r are whitespace, not controls. It leaves unassigned code
// points (Cn) alone, so only Cc, Cf and Co count.
bool is_bert_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  const auto category = reference_category(cp);
  return category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF ||
         category == UTF8PROC_CATEGORY_CO;
}

bool is_bert_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  switch (reference_category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool is_chinese_char(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Rust's char::to_lowercase. U+0130 is the only character whose full lowercase mapping is
// longer than one code point; every other mapping is utf8proc's simple one.
std::size_t append_lowercase(char32_t cp, char32_t* out) {
  if (cp == 0x130) {
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  if (const auto* range = bert_unicode::find_range(bert_unicode::kReferenceLowercase, cp)) {
    out[0] = static_cast<char32_t>(static_cast<std::int32_t>(cp) + range->delta);
    return 1;
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
  return 1;
}

CharKind describe_uncached(char32_t cp, const BertNormalizerOptions& options, CharUnit* units,
                           std::size_t& unit_count) {
  unit_count = 0;
  if (options.clean_text) {
    if (cp == 0 || cp == kReplacementChar || is_bert_control(cp)) return CharKind::Removed;
  }
  if (is_bert_whitespace(cp)) return CharKind::Space;

  std::array<char32_t, 32> chars{};
  std::size_t count = 0;
  if (options.strip_accents) {
    // NFD, then drop nonspacing marks. Decomposing one character at a time equals decomposing
    // the text except for canonical reordering, which only moves marks that are dropped here.
    std::array<utf8proc_int32_t, 16> decomposed{};
    int last_boundclass = 0;
    const bool decompose = !bert_unicode::in_ranges(bert_unicode::kReferenceNoDecomposition, cp);
    const auto n = !decompose ? 0
                              : utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp),
                                                        decomposed.data(), decomposed.size(),
                                                        UTF8PROC_DECOMPOSE, &last_boundclass);
    if (!decompose) {
      decomposed[0] = static_cast<utf8proc_int32_t>(cp);
    }
    const utf8proc_ssize_t length = decompose ? n : 1;
    for (utf8proc_ssize_t i = 0; i < length && i < static_cast<utf8proc_ssize_t>(decomposed.size());
         ++i) {
      const auto part = static_cast<char32_t>(decomposed[i]);
      if (reference_category(part) == UTF8PROC_CATEGORY_MN) continue;
      chars[count++] = part;
    }
  } else {
    chars[count++] = cp;
  }
  if (options.lowercase) {
    std::array<char32_t, 32> lowered{};
    std::size_t lowered_count = 0;
    for (std::size_t i = 0; i < count; ++i)
      lowered_count += append_lowercase(chars[i], &lowered[lowered_count]);
    chars = lowered;
    count = lowered_count;
  }
  count = std::min(count, BertNormalizer::kMaxUnits);

  for (std::size_t i = 0; i < count; ++i) {
    CharUnit& unit = units[i];
    unit.length = static_cast<std::uint8_t>(encode_utf8(chars[i], unit.bytes));
    unit.kind = is_bert_whitespace(chars[i])    ? CharKind::Space
                : is_bert_punctuation(chars[i]) ? CharKind::Isolated
                                                : CharKind::Word;
  }
  unit_count = count;

  const bool chinese = options.handle_chinese_chars && is_chinese_char(cp);
  if (!chinese && count == 1 && chars[0] == cp && units[0].kind != CharKind::Space) {
    return units[0].kind;
  }
  return chinese ? CharKind::MappedChinese : CharKind::Mapped;
}

}  // namespace

bool is_unicode_whitespace(char32_t cp) noexcept {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

struct BertNormalizer::Table {
  struct Entry {
    std::uint32_t first_unit = 0;
    std::uint8_t unit_count = 0;
    CharKind kind = CharKind::Word;
  };
  std::vector<Entry> entries;  // indexed by code point, below kTableLimit
  std::vector<CharUnit> units;
  std::array<CharKind, 128> ascii_kind{};
  std::array<char, 128> ascii_byte{};  // the normalised byte of an ASCII Word character

  explicit Table(const BertNormalizerOptions& options) : entries(kTableLimit) {
    std::array<CharUnit, kMaxUnits> scratch{};
    for (char32_t cp = 0; cp < kTableLimit; ++cp) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      std::size_t count = 0;
      Entry& entry = entries[cp];
      entry.kind = describe_uncached(cp, options, scratch.data(), count);
      if (entry.kind == CharKind::Mapped || entry.kind == CharKind::MappedChinese) {
        entry.first_unit = static_cast<std::uint32_t>(units.size());
        entry.unit_count = static_cast<std::uint8_t>(count);
        units.insert(units.end(), scratch.begin(), scratch.begin() + count);
      }
    }
    for (char32_t cp = 0; cp < 128; ++cp) {
      const Entry& entry = entries[cp];
      ascii_kind[cp] = entry.kind;
      ascii_byte[cp] = static_cast<char>(cp);
      // ASCII lowercasing maps one byte to one byte of the same kind.
      if (entry.kind == CharKind::Mapped && entry.unit_count == 1 &&
          units[entry.first_unit].length == 1) {
        ascii_kind[cp] = units[entry.first_unit].kind;
        ascii_byte[cp] = units[entry.first_unit].bytes[0];
      }
    }
  }
};

namespace {

std::shared_ptr<const BertNormalizer::Table> shared_table(const BertNormalizerOptions& options) {
  // Tables depend only on four flags; building one costs milliseconds, so share them.
  static std::mutex mutex;
  static std::array<std::weak_ptr<const BertNormalizer::Table>, 16> cache;
  const std::size_t key = (options.clean_text ? 1 : 0) | (options.handle_chinese_chars ? 2 : 0) |
                          (options.strip_accents ? 4 : 0) | (options.lowercase ? 8 : 0);
  std::lock_guard lock(mutex);
  auto table = cache[key].lock();
  if (!table) {
    table = std::make_shared<const BertNormalizer::Table>(options);
    cache[key] = table;
  }
  return table;
}

// Collects the current word's bytes and source ranges and hands finished words to the sink.
class WordBuilder {
 public:
  WordBuilder(WordScratch& scratch, WordSink& sink, std::uint32_t max_chars)
      : scratch_(scratch), sink_(sink), max_chars_(max_chars) {
    reserve(std::size_t{max_chars} * 4 + 16);
  }

  void add(const char* bytes, std::size_t length, std::uint32_t begin, std::uint32_t end) {
    if (chars_ == 0) word_begin_ = begin;
    word_end_ = end;
    if (++chars_ > max_chars_) return;
    if (size_ + length > capacity_) reserve(2 * (size_ + length));
    for (std::size_t i = 0; i < length; ++i) {
      bytes_[size_ + i] = bytes[i];
      source_begin_[size_ + i] = begin;
      source_end_[size_ + i] = end;
    }
    size_ += length;
  }

  void add_byte(char byte, std::uint32_t at) {
    if (chars_ == 0) word_begin_ = at;
    word_end_ = at + 1;
    if (++chars_ > max_chars_) return;
    if (size_ + 1 > capacity_) reserve(2 * (size_ + 1));
    bytes_[size_] = byte;
    source_begin_[size_] = at;
    source_end_[size_] = at + 1;
    ++size_;
  }

  void flush() {
    if (chars_ == 0) return;
    NormalizedWord word;
    word.bytes = chars_ > max_chars_ ? std::string_view() : std::string_view(bytes_, size_);
    word.source_begin = source_begin_;
    word.source_end = source_end_;
    word.chars = chars_;
    word.begin = word_begin_;
    word.end = word_end_;
    sink_.on_word(word);
    chars_ = 0;
    size_ = 0;
  }

 private:
  void reserve(std::size_t capacity) {
    if (scratch_.bytes.size() < capacity) {
      scratch_.bytes.resize(capacity);
      scratch_.source_begin.resize(capacity);
      scratch_.source_end.resize(capacity);
    }
    bytes_ = scratch_.bytes.data();
    source_begin_ = scratch_.source_begin.data();
    source_end_ = scratch_.source_end.data();
    capacity_ = scratch_.bytes.size();
  }

  WordScratch& scratch_;
  WordSink& sink_;
  std::uint32_t max_chars_;
  char* bytes_ = nullptr;
  std::uint32_t* source_begin_ = nullptr;
  std::uint32_t* source_end_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  std::uint32_t chars_ = 0;
  std::uint32_t word_begin_ = 0;
  std::uint32_t word_end_ = 0;
};

void add_units(WordBuilder& word, const CharUnit* units, std::size_t count, std::uint32_t begin,
               std::uint32_t end) {
  for (std::size_t i = 0; i < count; ++i) {
    const CharUnit& unit = units[i];
    switch (unit.kind) {
      case CharKind::Space:
        word.flush();
        break;
      case CharKind::Isolated:
        word.flush();
        word.add(unit.bytes, unit.length, begin, end);
        word.flush();
        break;
      default:
        word.add(unit.bytes, unit.length, begin, end);
        break;
    }
  }
}

}  // namespace

BertNormalizer::BertNormalizer(const BertNormalizerOptions& options, std::uint32_t max_chars)
    : options_(options), max_chars_(max_chars), table_(shared_table(options)) {}

CharKind BertNormalizer::describe(char32_t cp, CharUnit* units, std::size_t& unit_count) const {
  if (cp < kTableLimit) {
    const Table::Entry& entry = table_->entries[cp];
    unit_count = entry.unit_count;
    std::copy_n(table_->units.data() + entry.first_unit, entry.unit_count, units);
    return entry.kind;
  }
  return describe_uncached(cp, options_, units, unit_count);
}

void BertNormalizer::split(std::string_view text, WordScratch& scratch, WordSink& sink) const {
  const Table& table = *table_;
  WordBuilder word(scratch, sink, max_chars_);
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = data + text.size();
  const auto size = static_cast<std::uint32_t>(text.size());
  std::array<CharUnit, kMaxUnits> uncached{};
  std::uint32_t i = 0;
  while (i < size) {
    const unsigned char byte = data[i];
    if (byte < 0x80) {
      switch (table.ascii_kind[byte]) {
        case CharKind::Word:
          word.add_byte(table.ascii_byte[byte], i);
          break;
        case CharKind::Isolated:
          word.flush();
          word.add_byte(table.ascii_byte[byte], i);
          word.flush();
          break;
        case CharKind::Space:
          word.flush();
          break;
        default:
          break;
      }
      ++i;
      continue;
    }

    const Utf8Char c = decode_utf8(data + i, end);
    const std::uint32_t begin = i;
    const std::uint32_t stop = i + c.length;
    i = stop;
    CharKind kind;
    const CharUnit* units = nullptr;
    std::size_t unit_count = 0;
    if (c.code_point < kTableLimit) {
      const Table::Entry& entry = table.entries[c.code_point];
      kind = entry.kind;
      units = table.units.data() + entry.first_unit;
      unit_count = entry.unit_count;
    } else {
      kind = describe_uncached(c.code_point, options_, uncached.data(), unit_count);
      units = uncached.data();
    }
    switch (kind) {
      case CharKind::Removed:
        break;
      case CharKind::Space:
        word.flush();
        break;
      case CharKind::Word:
        word.add(text.data() + begin, c.length, begin, stop);
        break;
      case CharKind::Isolated:
        word.flush();
        word.add(text.data() + begin, c.length, begin, stop);
        word.flush();
        break;
      case CharKind::Mapped:
        add_units(word, units, unit_count, begin, stop);
        break;
      case CharKind::MappedChinese:
        word.flush();
        add_units(word, units, unit_count, begin, stop);
        word.flush();
        break;
    }
  }
  word.flush();
}

}  // namespace nowrec::detail
