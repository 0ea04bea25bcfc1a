// SentencePiece backend: libsentencepiece with the fairseq ids of Hugging Face's XLM-R tokenizer.
//
// fairseq (and so transformers' XLMRobertaTokenizer) puts <s> <pad> </s> <unk> at ids 0..3, every
// other piece at its sentencepiece id + 1, sentencepiece's <unk> at 3, and <mask> after the last
// piece. Token strings of the four fixed ids are fairseq's literals whatever the configuration
// names them, as in transformers.
#include <sentencepiece_processor.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nowrec/error.hpp"
#include "tokenizer/backend.hpp"

namespace nowrec::detail {
namespace {

constexpr std::int32_t kFairseqOffset = 1;
constexpr std::int32_t kUnkId = 3;
constexpr std::array<std::string_view, 4> kFairseqTokens = {"<s>", "<pad>", "</s>", "<unk>"};
constexpr std::string_view kMaskToken = "<mask>";

std::string read_model_bytes(const std::filesystem::path& path) {
  std::error_code ignored;
  // A directory opens as a stream on Linux and then reads as nothing.
  if (std::filesystem::is_directory(path, ignored)) {
    throw Error(ErrorCode::InvalidModel,
                path.string() + " is a directory, not a SentencePiece model file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorCode::NotFound, "cannot open SentencePiece model " + path.string());
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(ErrorCode::Io, "cannot read SentencePiece model " + path.string());
  return bytes;
}

// Protobuf parses a file cut at a field boundary as a smaller valid model, which would tokenise
// silently wrong. Every trained model ends with its normalizer_spec (field 3, after the pieces
// in field 1), so a walk over the top-level fields that finds both catches truncation.
bool has_pieces_and_normalizer(std::string_view bytes) {
  std::size_t pos = 0;
  const auto read_varint = [&](std::uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= bytes.size()) return false;
      const auto byte = static_cast<std::uint8_t>(bytes[pos++]);
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  };
  bool pieces = false;
  bool normalizer = false;
  while (pos < bytes.size()) {
    std::uint64_t key = 0;
    if (!read_varint(key)) return false;
    const std::uint64_t field = key >> 3;
    std::uint64_t skip = 0;
    switch (key & 7) {
      case 0: {
        std::uint64_t ignored = 0;
        if (!read_varint(ignored)) return false;
        break;
      }
      case 1:
        skip = 8;
        break;
      case 2:
        if (!read_varint(skip)) return false;
        if (field == 1) pieces = true;
        if (field == 3) normalizer = true;
        break;
      case 5:
        skip = 4;
        break;
      default:
        return false;
    }
    if (skip > bytes.size() - pos) return false;
    pos += static_cast<std::size_t>(skip);
  }
  return pieces && normalizer;
}

class SentencePieceBackend final : public TokenizerBackend {
 public:
  explicit SentencePieceBackend(const TokenizerFiles& files)
      : model_path_(files.sentencepiece_model) {
    if (model_path_.empty()) {
      throw Error(ErrorCode::InvalidModel, "the tokenizer names no SentencePiece model file");
    }
    const std::string bytes = read_model_bytes(model_path_);
    if (!has_pieces_and_normalizer(bytes)) {
      throw Error(ErrorCode::InvalidModel,
                  model_path_.string() +
                      ": not a SentencePiece model (truncated or not a "
                      "serialised ModelProto with pieces and normalizer_spec)");
    }
    const auto status = processor_.LoadFromSerializedProto(bytes);
    if (!status.ok()) {
      throw Error(ErrorCode::InvalidModel,
                  model_path_.string() + ": not a valid SentencePiece model: " + status.ToString());
    }
    // transformers maps a piece to its id + 1 unless PieceToId gives 0, which it reads as <unk>;
    // that agrees with sentencepiece only when <unk> is piece 0.
    if (processor_.unk_id() != 0) {
      throw Error(ErrorCode::Unsupported, model_path_.string() + ": <unk> is piece " +
                                              std::to_string(processor_.unk_id()) +
                                              ", the XLM-R id mapping needs it at 0");
    }
    mask_id_ = processor_.GetPieceSize() + kFairseqOffset;
  }

  void tokenize(std::string_view text, std::vector<TokenPiece>& out) const override {
    if (text.size() > std::numeric_limits<std::uint32_t>::max()) {
      throw Error(ErrorCode::InvalidArgument,
                  "text of " + std::to_string(text.size()) + " bytes is too long to tokenise");
    }
    sentencepiece::ImmutableSentencePieceText encoded;
    const auto status = processor_.Encode(text, encoded.mutable_proto());
    if (!status.ok()) {
      throw Error(
          ErrorCode::Internal,
          model_path_.string() + ": SentencePiece failed to encode a text: " + status.ToString());
    }
    const std::size_t count = encoded.pieces_size();
    out.reserve(out.size() + count);
    for (std::size_t i = 0; i < count; ++i) {
      const auto piece = encoded.pieces(static_cast<int>(i));
      out.push_back(TokenPiece{.id = to_fairseq_id(static_cast<int>(piece.id())),
                               .begin = piece.begin(),
                               .end = piece.end()});
    }
  }

  std::size_t vocab_size() const override { return static_cast<std::size_t>(mask_id_) + 1; }

  std::optional<std::int32_t> token_to_id(std::string_view token) const override {
    for (std::size_t id = 0; id < kFairseqTokens.size(); ++id) {
      if (token == kFairseqTokens[id]) return static_cast<std::int32_t>(id);
    }
    if (token == kMaskToken) return mask_id_;
    const int piece = processor_.PieceToId(token);
    if (piece == processor_.unk_id()) return std::nullopt;
    return to_fairseq_id(piece);
  }

  std::string id_to_token(std::int32_t id) const override {
    if (id >= 0 && id < static_cast<std::int32_t>(kFairseqTokens.size())) {
      return std::string(kFairseqTokens[static_cast<std::size_t>(id)]);
    }
    if (id == mask_id_) return std::string(kMaskToken);
    if (id < 0 || id > mask_id_) {
      throw Error(ErrorCode::NotFound,
                  "token id " + std::to_string(id) + " is outside the vocabulary of " +
                      std::to_string(vocab_size()) + " tokens of " + model_path_.string());
    }
    return processor_.IdToPiece(id - kFairseqOffset);
  }

 private:
  std::int32_t to_fairseq_id(int piece) const {
    return piece == processor_.unk_id() ? kUnkId : piece + kFairseqOffset;
  }

  std::filesystem::path model_path_;
  sentencepiece::SentencePieceProcessor processor_;
  std::int32_t mask_id_ = 0;
};

}  // namespace

std::unique_ptr<TokenizerBackend> make_sentencepiece_backend(const TokenizerFiles& files) {
  return std::make_unique<SentencePieceBackend>(files);
}

}  // namespace nowrec::detail
