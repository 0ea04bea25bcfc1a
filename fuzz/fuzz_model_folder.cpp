// libFuzzer target: the model folder's JSON parsers on arbitrary file contents, without a disk.
//
// The input is split at NUL bytes into the contents of config.json, modules.json,
// 1_Pooling/config.json, sentence_bert_config.json, tokenizer_config.json,
// special_tokens_map.json and tokenizer.json, in that order; empty or missing parts are absent
// files.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/model_files.hpp"
#include "nowrec/error.hpp"

namespace {

constexpr std::size_t kParts = 7;

std::array<std::optional<std::string_view>, kParts> split(std::string_view input) {
  std::array<std::optional<std::string_view>, kParts> parts;
  for (std::size_t i = 0; i < kParts && !input.empty(); ++i) {
    const std::size_t end = i + 1 < kParts ? input.find('\0') : std::string_view::npos;
    if (end != 0) parts[i] = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
  }
  return parts;
}

// Runs one parser; a nowrec::Error is the expected way to refuse input.
template <typename Parse>
void refuse_quietly(Parse&& parse) {
  try {
    parse();
  } catch (const nowrec::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace files = nowrec::model_files;
  const auto parts = split(std::string_view(reinterpret_cast<const char*>(data), size));
  const auto& config_json = parts[0];
  const auto& modules_json = parts[1];
  const auto& pooling_json = parts[2];
  const auto& sentence_bert_json = parts[3];
  const auto& tokenizer_config_json = parts[4];
  const auto& special_tokens_json = parts[5];
  const auto& tokenizer_json = parts[6];

  std::optional<nowrec::TransformerConfig> config;
  if (config_json) {
    refuse_quietly([&] { config = files::parse_transformer_config(*config_json, "config.json"); });
  }
  if (modules_json) refuse_quietly([&] { files::parse_modules(*modules_json, "modules.json"); });
  if (pooling_json) {
    refuse_quietly([&] { files::parse_pooling_config(*pooling_json, "1_Pooling/config.json"); });
  }
  std::optional<std::int64_t> sentence_bert_length;
  if (sentence_bert_json) {
    refuse_quietly([&] {
      sentence_bert_length = files::parse_sentence_bert_max_seq_length(*sentence_bert_json,
                                                                       "sentence_bert_config.json");
    });
  }

  for (auto kind : {nowrec::TokenizerKind::WordPiece, nowrec::TokenizerKind::SentencePiece}) {
    nowrec::TokenizerFiles tokenizer = files::default_tokenizer_files(kind);
    // Each file separately, so that a refused one does not hide the parsers of the next.
    if (tokenizer_config_json) {
      refuse_quietly([&] {
        files::apply_tokenizer_config(*tokenizer_config_json, "tokenizer_config.json", tokenizer);
      });
    }
    if (special_tokens_json) {
      refuse_quietly([&] {
        files::apply_special_tokens_map(*special_tokens_json, "special_tokens_map.json", tokenizer);
      });
    }
    if (tokenizer_json) {
      refuse_quietly(
          [&] { files::apply_tokenizer_json(*tokenizer_json, "tokenizer.json", tokenizer); });
    }
    if (tokenizer.model_max_length < 0 || tokenizer.max_input_chars_per_word <= 0) {
      __builtin_trap();
    }
    if (config) {
      refuse_quietly([&] {
        const std::size_t length = files::resolve_max_sequence_length(
            *config, "config.json", sentence_bert_length, tokenizer);
        if (length == 0 || length > static_cast<std::size_t>(config->max_position_embeddings)) {
          __builtin_trap();
        }
      });
    }
  }
  return 0;
}
