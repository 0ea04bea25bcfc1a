// The Tokenizer front: input repair, added tokens, special tokens, truncation, padding and
// offsets around a backend that splits plain text into vocabulary ids.
#include "nowrec/tokenizer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "nowrec/error.hpp"
#include "tokenizer/backend.hpp"
#include "tokenizer/bert_normalizer.hpp"
#include "tokenizer/utf8.hpp"

namespace nowrec {
namespace {

using detail::TokenPiece;

// A token matched on the raw text before normalisation, as Hugging Face's AddedVocabulary does
// for its special tokens.
struct AddedToken {
  std::string content;
  std::int32_t id = 0;
  bool lstrip = false;  // also swallow whitespace before the token
  bool rstrip = false;  // also swallow whitespace after it
};

// Buffers of one thread, so that warm calls allocate nothing and the Tokenizer stays immutable.
struct FrontScratch {
  std::vector<TokenPiece> pieces;
  std::string repaired;
  std::vector<std::uint32_t> origin;
};

FrontScratch& thread_scratch() {
  thread_local FrontScratch scratch;
  return scratch;
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::NotFound, "cannot open " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The text of the top-level "added_tokens" array of a tokenizer.json, found without parsing the
// whole file (a SentencePiece tokenizer.json holds a vocabulary of tens of megabytes).
std::string_view find_added_tokens_array(std::string_view json) {
  const std::size_t key = json.find("\"added_tokens\"");
  if (key == std::string_view::npos) return {};
  const std::size_t open = json.find('[', key);
  if (open == std::string_view::npos) return {};
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = open; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (--depth == 0) return json.substr(open, i + 1 - open);
    }
  }
  return {};
}

std::vector<AddedToken> read_added_tokens(const std::filesystem::path& tokenizer_json) {
  const std::string text = read_text_file(tokenizer_json);
  const std::string_view array = find_added_tokens_array(text);
  std::vector<AddedToken> tokens;
  if (array.empty()) return tokens;
  const std::string label = tokenizer_json.string() + ": field 'added_tokens'";
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(array);
  } catch (const nlohmann::json::exception& error) {
    throw Error(ErrorCode::InvalidModel, label + " is not valid JSON: " + error.what());
  }
  for (const auto& entry : document) {
    if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string() ||
        !entry.contains("id") || !entry["id"].is_number_integer()) {
      throw Error(ErrorCode::InvalidModel, label +
                                               ": every entry needs a string 'content' and an "
                                               "integer 'id'");
    }
    AddedToken token;
    token.content = entry["content"].get<std::string>();
    token.id = entry["id"].get<std::int32_t>();
    token.lstrip = entry.value("lstrip", false);
    token.rstrip = entry.value("rstrip", false);
    if (token.id < 0) throw Error(ErrorCode::InvalidModel, label + ": negative id");
    if (!token.content.empty()) tokens.push_back(std::move(token));
  }
  return tokens;
}

// Whitespace of the raw text for the added tokens' lstrip/rstrip.
std::size_t whitespace_before(std::string_view text, std::size_t pos, std::size_t floor) {
  while (pos > floor) {
    std::size_t start = pos - 1;
    while (start > floor && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data()) + start;
    const auto c =
        detail::decode_utf8(p, reinterpret_cast<const unsigned char*>(text.data()) + pos);
    if (!c.valid || !detail::is_unicode_whitespace(c.code_point)) break;
    pos = start;
  }
  return pos;
}

std::size_t whitespace_after(std::string_view text, std::size_t pos) {
  const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
  while (pos < text.size()) {
    const auto c = detail::decode_utf8(begin + pos, begin + text.size());
    if (!c.valid || !detail::is_unicode_whitespace(c.code_point)) break;
    pos += c.length;
  }
  return pos;
}

// tokenizer_config.json's "no limit" is a huge float; such a value is no length at all.
std::size_t usable_max_length(std::int64_t length) {
  constexpr std::int64_t kLargest = std::int64_t{1} << 24;
  return length > 0 && length <= kLargest ? static_cast<std::size_t>(length) : 0;
}

}  // namespace

struct Tokenizer::Impl {
  TokenizerKind kind = TokenizerKind::WordPiece;
  std::unique_ptr<detail::TokenizerBackend> backend;
  std::vector<AddedToken> added;  // longest first, so the first match is the longest
  std::array<bool, 256> added_first_byte{};
  // Set when every added token starts with the same byte ('[' for BERT): memchr then skips the
  // text between candidates.
  std::optional<char> common_first_byte;
  std::optional<std::int32_t> cls_id;
  std::optional<std::int32_t> sep_id;
  std::int32_t pad_id = 0;
  std::size_t max_length = 0;  // 0: the model states none
  std::size_t vocab_size = 0;

  Impl(const TokenizerFiles& files, std::size_t model_max_length);

  std::optional<std::int32_t> token_to_id(std::string_view token) const {
    for (const AddedToken& added_token : added) {
      if (added_token.content == token) return added_token.id;
    }
    return backend->token_to_id(token);
  }

  std::optional<std::int32_t> special_id(const std::string& token) const {
    if (token.empty()) return std::nullopt;
    return token_to_id(token);
  }

  // The added token that starts at `pos`, longest first.
  const AddedToken* match_added(std::string_view text, std::size_t pos) const {
    const std::string_view rest = text.substr(pos);
    for (const AddedToken& token : added) {
      if (rest.starts_with(token.content)) return &token;
    }
    return nullptr;
  }

  void tokenize_plain(std::string_view text, std::size_t offset,
                      std::vector<TokenPiece>& pieces) const {
    if (text.empty()) return;
    const std::size_t first = pieces.size();
    backend->tokenize(text, pieces);
    const auto shift = static_cast<std::uint32_t>(offset);
    for (std::size_t i = first; i < pieces.size(); ++i) {
      pieces[i].begin += shift;
      pieces[i].end += shift;
    }
  }

  // Tokens of valid UTF-8 `text`, added tokens cut out first, offsets into `text`.
  void tokenize_content(std::string_view text, std::vector<TokenPiece>& pieces) const {
    std::size_t segment = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
      if (common_first_byte) {
        const void* found = std::memchr(text.data() + pos, *common_first_byte, text.size() - pos);
        if (found == nullptr) break;
        pos = static_cast<std::size_t>(static_cast<const char*>(found) - text.data());
      } else if (!added_first_byte[static_cast<unsigned char>(text[pos])]) {
        ++pos;
        continue;
      }
      const AddedToken* token = match_added(text, pos);
      if (token == nullptr) {
        ++pos;
        continue;
      }
      std::size_t begin = pos;
      std::size_t end = pos + token->content.size();
      if (token->lstrip) begin = whitespace_before(text, begin, segment);
      if (token->rstrip) end = whitespace_after(text, end);
      tokenize_plain(text.substr(segment, begin - segment), segment, pieces);
      pieces.push_back(
          {token->id, static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end)});
      segment = pos = end;
    }
    tokenize_plain(text.substr(segment), segment, pieces);
  }

  std::size_t limit_for(const TokenizeOptions& options) const {
    return options.max_length != 0 ? options.max_length : max_length;
  }

  // Ids and offsets of `text` with special tokens and truncation applied, no padding.
  void run(std::string_view text, const TokenizeOptions& options,
           std::vector<TokenPiece>& pieces) const {
    pieces.clear();
    if (text.size() > std::numeric_limits<std::uint32_t>::max()) {
      throw Error(ErrorCode::InvalidArgument,
                  "Tokenizer: text of " + std::to_string(text.size()) +
                      " bytes is longer than the 4 GiB that 32-bit offsets can address");
    }
    FrontScratch& scratch = thread_scratch();
    const bool specials = options.add_special_tokens;
    if (specials && cls_id) pieces.push_back({*cls_id, 0, 0});
    const std::size_t first_content = pieces.size();

    if (detail::is_valid_utf8(text)) {
      tokenize_content(text, pieces);
    } else {
      detail::repair_utf8(text, scratch.repaired, scratch.origin);
      tokenize_content(scratch.repaired, pieces);
      for (std::size_t i = first_content; i < pieces.size(); ++i) {
        pieces[i].begin = scratch.origin[pieces[i].begin];
        pieces[i].end = scratch.origin[pieces[i].end];
      }
    }

    const std::size_t limit = limit_for(options);
    if (options.truncate && limit != 0) {
      const std::size_t reserved =
          specials ? static_cast<std::size_t>(cls_id.has_value()) + sep_id.has_value() : 0;
      const std::size_t content_limit = limit > reserved ? limit - reserved : 0;
      if (pieces.size() - first_content > content_limit) {
        pieces.resize(first_content + content_limit);
      }
    }
    if (specials && sep_id) pieces.push_back({*sep_id, 0, 0});
  }

  std::size_t padded_length(const TokenizeOptions& options, std::size_t longest) const {
    switch (options.padding) {
      case Padding::None:
        return 0;
      case Padding::Longest:
        return longest;
      case Padding::MaxLength: {
        const std::size_t limit = limit_for(options);
        if (limit == 0) {
          throw Error(ErrorCode::InvalidArgument,
                      "TokenizeOptions: padding MaxLength needs max_length, and the model states "
                      "no maximum length");
        }
        return limit;
      }
    }
    return 0;
  }

  void fill(const std::vector<TokenPiece>& pieces, Encoding& encoding) const {
    const std::size_t n = pieces.size();
    encoding.ids.resize(n);
    encoding.offsets.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      encoding.ids[i] = pieces[i].id;
      encoding.offsets[i] = {pieces[i].begin, pieces[i].end};
    }
    encoding.type_ids.assign(n, 0);
    encoding.attention_mask.assign(n, 1);
  }

  void pad(Encoding& encoding, std::size_t length) const {
    if (encoding.ids.size() >= length) return;
    encoding.ids.resize(length, pad_id);
    encoding.type_ids.resize(length, 0);
    encoding.attention_mask.resize(length, 0);
    encoding.offsets.resize(length, TokenOffset{});
  }
};

Tokenizer::Impl::Impl(const TokenizerFiles& files, std::size_t model_max_length)
    : kind(files.kind), max_length(model_max_length) {
  backend = files.kind == TokenizerKind::WordPiece ? detail::make_wordpiece_backend(files)
                                                   : detail::make_sentencepiece_backend(files);
  if (!files.tokenizer_json.empty()) added = read_added_tokens(files.tokenizer_json);
  if (added.empty()) {
    // Without tokenizer.json the special tokens are the added vocabulary, as transformers
    // registers them.
    for (const std::string* token :
         {&files.cls_token, &files.sep_token, &files.pad_token, &files.unk_token, &files.mask_token,
          &files.bos_token, &files.eos_token}) {
      if (token->empty()) continue;
      const auto id = backend->token_to_id(*token);
      const bool known = std::any_of(added.begin(), added.end(),
                                     [&](const AddedToken& t) { return t.content == *token; });
      if (id && !known) added.push_back({*token, *id});
    }
  }
  std::stable_sort(added.begin(), added.end(), [](const AddedToken& a, const AddedToken& b) {
    return a.content.size() > b.content.size();
  });
  for (const AddedToken& token : added) {
    added_first_byte[static_cast<unsigned char>(token.content[0])] = true;
  }
  if (!added.empty() && std::all_of(added.begin(), added.end(), [&](const AddedToken& token) {
        return token.content[0] == added.front().content[0];
      })) {
    common_first_byte = added.front().content[0];
  }

  cls_id = special_id(files.cls_token.empty() ? files.bos_token : files.cls_token);
  sep_id = special_id(files.sep_token.empty() ? files.eos_token : files.sep_token);
  pad_id = special_id(files.pad_token).value_or(0);

  vocab_size = backend->vocab_size();
  for (const AddedToken& token : added) {
    vocab_size = std::max(vocab_size, static_cast<std::size_t>(token.id) + 1);
  }
}

Tokenizer Tokenizer::load(const ModelFolder& model) {
  return Tokenizer(std::make_unique<Impl>(model.tokenizer_files(), model.max_sequence_length()));
}

Tokenizer Tokenizer::load(const std::filesystem::path& model_dir) {
  // A whole model folder truncates where the model does (sentence_bert_config.json, the
  // position table); a folder of tokenizer files alone can only go by tokenizer_config.json.
  std::error_code ignored;
  if (std::filesystem::is_regular_file(model_dir / "config.json", ignored)) {
    return load(ModelFolder::load(model_dir));
  }
  const TokenizerFiles files = read_tokenizer_files(model_dir);
  return Tokenizer(std::make_unique<Impl>(files, usable_max_length(files.model_max_length)));
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Encoding Tokenizer::encode(std::string_view text, const TokenizeOptions& options) const {
  FrontScratch& scratch = thread_scratch();
  std::vector<TokenPiece> pieces = std::move(scratch.pieces);
  impl_->run(text, options, pieces);
  Encoding encoding;
  impl_->fill(pieces, encoding);
  scratch.pieces = std::move(pieces);
  impl_->pad(encoding, impl_->padded_length(options, encoding.ids.size()));
  return encoding;
}

std::vector<Encoding> Tokenizer::encode_batch(std::span<const std::string_view> texts,
                                              const TokenizeOptions& options) const {
  std::vector<Encoding> encodings(texts.size());
  FrontScratch& scratch = thread_scratch();
  std::vector<TokenPiece> pieces = std::move(scratch.pieces);
  std::size_t longest = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    impl_->run(texts[i], options, pieces);
    impl_->fill(pieces, encodings[i]);
    longest = std::max(longest, pieces.size());
  }
  scratch.pieces = std::move(pieces);
  const std::size_t length = impl_->padded_length(options, longest);
  for (Encoding& encoding : encodings) impl_->pad(encoding, length);
  return encodings;
}

void Tokenizer::encode_ids(std::string_view text, std::vector<std::int32_t>& ids,
                           const TokenizeOptions& options) const {
  FrontScratch& scratch = thread_scratch();
  std::vector<TokenPiece> pieces = std::move(scratch.pieces);
  impl_->run(text, options, pieces);
  ids.resize(pieces.size());
  for (std::size_t i = 0; i < pieces.size(); ++i) ids[i] = pieces[i].id;
  scratch.pieces = std::move(pieces);
  const std::size_t length = impl_->padded_length(options, ids.size());
  if (ids.size() < length) ids.resize(length, impl_->pad_id);
}

TokenizerKind Tokenizer::kind() const noexcept { return impl_->kind; }
std::size_t Tokenizer::vocab_size() const noexcept { return impl_->vocab_size; }
std::size_t Tokenizer::max_length() const noexcept { return impl_->max_length; }
std::int32_t Tokenizer::pad_id() const noexcept { return impl_->pad_id; }

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
  return impl_->token_to_id(token);
}

std::string Tokenizer::id_to_token(std::int32_t id) const {
  for (const AddedToken& token : impl_->added) {
    if (token.id == id) return token.content;
  }
  return impl_->backend->id_to_token(id);
}

}  // namespace nowrec
